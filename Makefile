# The README's two commands. Both create .venv on first use and reinstall when pyproject changes.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: run test

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
	$(VENV)/bin/jaxconv-viewer --dataset digits

test: $(VENV)/.installed-test
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q
