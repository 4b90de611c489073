"""The docs' Python examples run, and the README's links into docs/ resolve.

Each ```python block of the hand-written pages runs in a fresh namespace, so a page that shows a
shape, an identity or an error message cannot drift from the library. Blocks hold their own
asserts; shapes are tiny.
"""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
# Pages whose examples are meant to run as they stand (other pages may show shell sessions or
# accelerator-only code).
RUNNABLE_PAGES = ("index.md", "quickstart.md", "concepts.md", "kinds.md", "porting.md", "tpu.md",
                  "sharing.md", "counting.md", "backprop.md")

_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(page: str) -> list[tuple[str, str]]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return [(f"{page}#{i}", block) for i, block in enumerate(_BLOCK.findall(text))]


# A block whose first line is "# not run: <why>" is shown, not run (e.g. it needs several hosts).
BLOCKS = [(name, code) for page in RUNNABLE_PAGES if (DOCS / page).exists()
          for name, code in python_blocks(page) if not code.startswith("# not run:")]


def test_every_runnable_page_has_examples():
    for page in RUNNABLE_PAGES:
        assert (DOCS / page).exists(), f"docs/{page} is missing"
        assert python_blocks(page), f"docs/{page} has no ```python example"


@pytest.fixture
def kind_registry():
    """Leaves the kind registry as it was: a page may register a kind of its own (kinds.md)."""
    from jaxconv import kinds

    before = kinds.registered()
    yield
    for kind in kinds.registered():
        if kind.name not in {k.name for k in before}:
            kinds.unregister(kind.name)
    for kind in before:
        kinds.register(kind, replace=True)


# An example importing a module by its old path (jaxconv.MOVED) fails: the pages show the new ones.
@pytest.mark.filterwarnings(r"error:jaxconv\.\S+ moved to:DeprecationWarning")
@pytest.mark.parametrize("name,code", BLOCKS, ids=[name for name, _ in BLOCKS])
def test_example_runs(name, code, capsys, kind_registry):
    exec(compile(code, name, "exec"), {"__name__": "__docs__"})


def test_kinds_page_prints_what_it_shows(capsys, kind_registry):
    # The depthwise example's output is pasted under it: run it and compare.
    text = (DOCS / "kinds.md").read_text(encoding="utf-8")
    example = next(code for _, code in python_blocks("kinds.md") if "class DepthwiseKind" in code)
    shown = re.search(r"It prints:\n\n```\n(.*?)```", text, re.S).group(1)
    exec(compile(example, "kinds.md", "exec"), {"__name__": "__docs__"})
    assert capsys.readouterr().out == shown


def test_quickstart_shows_the_readme_example():
    # The README's "library in 15 lines" runs here through the quick start's copy of it.
    readme = _BLOCK.findall((ROOT / "README.md").read_text(encoding="utf-8"))
    quickstart = [code for _, code in python_blocks("quickstart.md")]
    assert readme and readme[0] in quickstart, \
        "README's first Python example differs from the one in docs/quickstart.md"


_LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_readme_links_into_docs_resolve():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    local = [link for link in _LINK.findall(text) if not re.match(r"[a-z]+:", link)]
    assert any(link.startswith("docs/") for link in local), "README should link into docs/"
    for link in local:
        path = link.split("#")[0]
        assert (ROOT / path).exists(), f"README links to {link}, which does not exist"
