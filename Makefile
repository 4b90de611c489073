# The README's two commands. Both create .venv on first use and reinstall when pyproject changes.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test lint suite wheel

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed-viewer: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[viewer]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[viewer,test,docs]'
	touch $@

run: $(VENV)/.installed-viewer
	$(VENV)/bin/jaxconv-viewer

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check jaxconv viewer tests tools
	$(VENV)/bin/pyright --pythonpath $(PY)

# Two workers, one test file each at a time: XLA compiles on one core, so two files compile in
# parallel, and tests of one file share their compiled shapes.
SUITE = QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q -n 2 --dist loadfile

test: lint
	$(SUITE)

# The suite alone (what `make test` runs after lint); CI runs lint, then this.
suite: $(VENV)/.installed-test
	$(SUITE)

# dist/jaxconv-<version>-py3-none-any.whl: what `pip install` of a release installs (the viewer as
# jaxconv_viewer, its font as package data). Colab installs it from an upload or from Drive
# (docs/colab_tpu.ipynb); CI installs it outside the tree (.ci/wheel).
# Built by pip in a throwaway venv, so that it needs no .venv and can come first in CI.
wheel:
	rm -rf dist build
	$(PYTHON) -m venv build/venv
	build/venv/bin/python -m pip wheel --quiet --no-deps --wheel-dir dist .
	rm -rf build
	@ls dist/*.whl
