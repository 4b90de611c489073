"""The docs site builds with `mkdocs build --strict`, offline, and documents every public name.

One build per session, in a subprocess whose Python cannot open a network connection (a
sitecustomize module replaces socket.connect for non-loopback addresses), so a remote inventory,
font or plugin download fails the build here exactly as it would on a machine without network.
"""

import os
import pathlib
import re
import subprocess
import sys
import textwrap

import griffe  # the docs extra (pip install -e '.[docs]'), as mkdocs and mkdocstrings
import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

_NO_NETWORK = textwrap.dedent('''
    import socket

    _connect = socket.socket.connect

    def _local_only(self, address):
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and (host in ("localhost", "::1") or host.startswith("127.")
                                      or self.family == socket.AF_UNIX):
            return _connect(self, address)
        raise OSError(f"network blocked while building the docs: connect to {address!r}")

    socket.socket.connect = _local_only
''')


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> pathlib.Path:
    tmp = tmp_path_factory.mktemp("docs")
    (tmp / "sitecustomize.py").write_text(_NO_NETWORK)
    out = tmp / "site"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp), str(ROOT)]),
           "NO_MKDOCS_2_WARNING": "1", "http_proxy": "http://127.0.0.1:9",
           "https_proxy": "http://127.0.0.1:9"}
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"mkdocs build --strict failed:\n{proc.stdout}\n{proc.stderr}"
    return out


def test_network_is_blocked_in_the_build_subprocess(tmp_path):
    # Guards the guard: without it, test_site_builds_offline would prove nothing about the network.
    (tmp_path / "sitecustomize.py").write_text(_NO_NETWORK)
    code = "import socket; socket.create_connection(('192.0.2.1', 80), timeout=1)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(tmp_path)}, timeout=60)
    assert proc.returncode != 0 and "network blocked" in proc.stderr


def test_site_builds_offline_and_loads_nothing_remote(site):
    pages = sorted(site.rglob("*.html"))
    assert site / "index.html" in pages and site / "api" / "ops" / "index.html" in pages
    # Links to other sites are fine; a stylesheet, script, font or image fetched from one is not.
    remote = re.compile(r"<(?:link|script|img|iframe|source)\b[^>]*\b(?:href|src)=\"(?:https?:)?//",
                        re.I)
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert not remote.search(html), f"{page.relative_to(site)} loads a remote asset"
        assert "fonts.googleapis" not in html and "fonts.gstatic" not in html, page
    assert (site / "colab_tpu.ipynb").exists(), "the notebook should be served next to the pages"


def _nav_pages(nav) -> list[str]:
    pages = []
    for entry in nav:
        value = next(iter(entry.values())) if isinstance(entry, dict) else entry
        pages += _nav_pages(value) if isinstance(value, list) else [value]
    return pages


def test_every_page_is_in_the_nav():
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    pages = _nav_pages(config["nav"])
    assert len(pages) == len(set(pages)), f"a page is listed twice in mkdocs.yml's nav: {pages}"
    listed = set(pages)
    for page in sorted(DOCS.rglob("*.md")):
        name = page.relative_to(DOCS).as_posix()
        assert name in listed, f"docs/{name} is not in mkdocs.yml's nav: add it"


def test_api_overview_lists_every_top_level_name():
    import jaxconv

    overview = (DOCS / "api" / "index.md").read_text(encoding="utf-8")
    missing = [name for name in jaxconv.__all__ if f"`{name}`" not in overview]
    assert not missing, f"docs/api/index.md does not list {missing}"


def test_api_overview_lists_every_moved_module_and_its_home():
    import jaxconv

    overview = (DOCS / "api" / "index.md").read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `(jaxconv[\w.]*)` \| `(jaxconv[\w.]*)` \|$", overview, re.M))
    assert rows == set(jaxconv.MOVED.items()), \
        f"docs/api/index.md's moved modules differ from jaxconv.MOVED: " \
        f"{rows ^ set(jaxconv.MOVED.items())}"


def _module_rows() -> list[list[str]]:
    """The modules of each row of docs/api/index.md's table "The modules, by folder", in order
    (``jaxconv.ops.conv`, `.local`` abbreviations expanded)."""
    overview = (DOCS / "api" / "index.md").read_text(encoding="utf-8")
    table = overview.split("## The modules, by folder", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in table.splitlines():
        if not line.startswith("| `jaxconv."):
            continue
        names = re.findall(r"`(\.?\w[\w.]*)`", line.split(" | ")[0])
        full = [names[0]] + [names[0].rsplit(".", 1)[0] + n if n.startswith(".") else n
                             for n in names[1:]]
        rows.append(full)
    return rows


def test_api_overview_module_rows_import_only_rows_above():
    # The overview says so: "each module imports only from the rows above its own".
    import ast

    rows = _module_rows()
    assert len(rows) > 20, rows

    def row_of(module):
        found = [(len(name), i) for i, row in enumerate(rows) for name in row
                 if module == name or module.startswith(name + ".")]
        return max(found)[1] if found else None

    for path in sorted((ROOT / "jaxconv").rglob("*.py")):
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        own = row_of(module)
        if own is None:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                row = row_of(target)
                assert row is None or row <= own, \
                    f"{module} imports {target}, a row below it in docs/api/index.md"


def _public_objects():
    """(name, griffe object) for each name in jaxconv.__all__, and in the __all__ of re-exported
    modules (a module without __all__: the names it defines without a leading underscore)."""
    # With the docs' extension (tools/griffe_house_style.py): a docstring is what the site shows.
    extensions = griffe.load_extensions(str(ROOT / "tools" / "griffe_house_style.py"))
    package = griffe.load("jaxconv", search_paths=[str(ROOT)], resolve_aliases=True,
                          extensions=extensions)
    found = []
    for name in package.exports:
        obj = package[name]
        target = obj.final_target if obj.is_alias else obj
        if target.is_module:
            names = target.exports if target.exports is not None else [
                n for n, m in target.members.items() if not n.startswith("_") and not m.is_alias]
            found += [(f"jaxconv.{name}.{n}", target[n]) for n in names]
        else:
            found.append((f"jaxconv.{name}", obj))
    return found


def test_every_public_name_has_a_docstring_and_an_api_entry(site):
    ids = set()
    for page in (site / "api").rglob("*.html"):
        ids.update(re.findall(r'\bid="(jaxconv[\w.]*)"', page.read_text(encoding="utf-8")))
    undocumented, missing = [], []
    for name, obj in _public_objects():
        target = obj.final_target if obj.is_alias else obj
        if not (target.docstring and target.docstring.value.strip()):
            undocumented.append(name)
        # Documented under its name, where its module re-exports it, or where it is defined.
        if not {name, obj.path, target.canonical_path} & ids:
            missing.append(f"{name} ({target.canonical_path})")
    assert not undocumented, f"public names without a docstring: {undocumented}"
    assert not missing, f"public names missing from docs/api/*.md: {missing}"
