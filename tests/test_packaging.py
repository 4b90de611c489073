"""What the distribution installs: every package of the tree, and the viewer under a name of its own.

The viewer's folder is ``viewer/`` and its import name ``jaxconv_viewer`` (setuptools' package-dir),
so pyproject.toml lists the packages by hand; these tests keep the list and the tree equal, and
keep the old top-level name ``viewer`` out of every import.
"""

import ast
import pathlib
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def test_every_package_of_the_tree_is_installed_under_its_import_name():
    setup = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setup["package-dir"] == {"jaxconv_viewer": "viewer"}
    folders = {"jaxconv": "jaxconv", "viewer": "jaxconv_viewer"}
    tree = {folders[init.parent.relative_to(ROOT).parts[0]]
            + "".join(f".{p}" for p in init.parent.relative_to(ROOT).parts[1:])
            for top in folders for init in (ROOT / top).rglob("__init__.py")}
    data = set(setup["package-data"])  # folders of data files only (the viewer's fonts)
    assert all((ROOT / "viewer" / "/".join(name.split(".")[1:])).is_dir() for name in data)
    assert sorted(setup["packages"]) == sorted(tree | data)
    assert setup["packages"] == sorted(setup["packages"])


def test_nothing_imports_the_viewer_by_its_folder_name():
    # Two names for one module would load it twice (two Settings classes, two QApplications).
    found = []
    for top in ("jaxconv", "viewer", "tests", "tools"):
        for path in (ROOT / top).rglob("*.py"):
            if "typings" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                         else [])
                found += [f"{path.relative_to(ROOT)}: {n}" for n in names
                          if n == "viewer" or n.startswith("viewer.")]
    assert not found, found
