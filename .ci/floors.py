"""The declared floors as pip constraints: every ``name>=version`` pyproject.toml asks for, as ``==``.

    python3 .ci/floors.py pyproject.toml > floors.txt       # the constraints
    python3 .ci/floors.py --check floors.txt PYTHON         # PYTHON's installed versions equal them

The floors are the dependencies of ``jaxconv`` and of its ``viewer`` extra (what a user installs);
the test and docs tools are not floors and come in at their newest. PyQt6's Qt libraries
(PyQt6-Qt6) are pinned to the Qt release of PyQt6's floor (``6.5.0`` -> ``6.5.*``, the newest of
them), the Qt its bindings were built with, so that the job runs the old Qt too, not the newest
one under old bindings.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

EXTRAS = ("viewer",)
# Installed alongside a floor at the same version (a package's own binary companion).
COMPANIONS = {"pyqt6": "PyQt6-Qt6"}


def floors(pyproject: str) -> dict[str, str]:
    """``{name: version}`` for every ``>=`` requirement of the project and of ``EXTRAS``."""
    with open(pyproject, "rb") as f:
        project = tomllib.load(f)["project"]
    found = {}
    for requirement in project["dependencies"] + [
            r for extra in EXTRAS for r in project["optional-dependencies"][extra]]:
        match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*>=\s*([0-9][0-9A-Za-z.]*)\s*", requirement)
        if match is None:
            raise SystemExit(f"floors: every dependency must be 'name>=version' (a floor, no "
                             f"ceiling), got {requirement!r} in {pyproject}.")
        name, version = match.groups()
        found[name] = version
        if name.lower() in COMPANIONS:
            found[COMPANIONS[name.lower()]] = ".".join(version.split(".")[:2]) + ".*"
    return found


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def check(constraints: str, python: str) -> list[str]:
    """The lines ``name: wanted X, installed Y`` where ``python``'s packages differ from the file."""
    wanted = {}
    for line in open(constraints):
        name, _, version = line.strip().partition("==")
        wanted[_normal(name)] = version
    listed = subprocess.run([python, "-m", "pip", "list", "--format=freeze"], check=True,
                            capture_output=True, text=True).stdout
    have = {_normal(n): v for n, _, v in (line.partition("==") for line in listed.splitlines())}

    def same(have: str, want: str) -> bool:  # "0.23" is "0.23.0"; "6.5.*" any 6.5, as pip reads
        if want.endswith(".*"):
            return have.startswith(want[:-1])
        pad = lambda v: tuple(v.split(".")) + ("0",) * (4 - len(v.split(".")))  # noqa: E731
        return pad(have) == pad(want)

    return [f"{name}: wanted {version}, installed {have.get(name, 'none')}"
            for name, version in wanted.items() if not same(have.get(name, ""), version)]


def main(argv: list[str]) -> int:
    if argv[:1] == ["--check"]:
        wrong = check(argv[1], argv[2])
        for line in wrong:
            print(f"floors: {line}", file=sys.stderr)
        return 1 if wrong else 0
    for name, version in floors(argv[0] if argv else "pyproject.toml").items():
        print(f"{name}=={version}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
