"""Griffe extension for the docs site: read docstrings the way jaxconv writes them.

Four habits of the code that griffe does not read by itself:

* ``Example:`` (shared/STYLE.md) with ``>>>`` lines. Griffe's Google parser only knows the plural
  as a section; the singular becomes an admonition whose ``>>>`` lines render as a Markdown
  blockquote, and text such as ``x["params"]["kernel"]`` in it is misread as a reference link (a
  warning, so ``mkdocs build --strict`` fails). The heading is renamed before the lazy parse.
* ``#:`` comments above a module constant (``#: Model kinds, ...`` then ``KINDS = (...)``), the
  Sphinx convention for documenting a constant. They become the constant's docstring.
* Sphinx roles such as :func:`fit` or :class:`~jaxconv.costs.counting.Cost`, which Markdown would show
  as ":func:fit". Each becomes an optional autorefs link (plain code where the target is not on
  the site, with no warning), its name resolved in the docstring's scope as Sphinx would, and
  the drop-in names ``jaxconv.linen`` and ``jaxconv.nnx`` (import aliases griffe cannot see) read
  as their homes in ``jaxconv.layers``.
* Several arguments sharing one description (``strides, padding, dilation: as conv_cost.``),
  the list sometimes wrapped over two lines. Griffe's Google parser reads ``name: text`` only, so
  a wrapped list is joined onto one line, and griffe's check that each documented argument is in
  the signature (``warn_unknown_params``, turned off in mkdocs.yml) is done here instead, name by
  name, for the public objects the site shows.

mkdocs.yml loads it (``extensions: [tools/griffe_house_style.py]``), and so does
tests/test_docs_site.py, which checks every public name has a docstring.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_EXAMPLE_HEADING = re.compile(r"^(\s*)Example:\s*$", re.M)
_ROLE = re.compile(r":(?:func|class|mod|meth|attr|data|obj|exc):`(~?)([\w.]+)`")
_ARGS_HEADING = re.compile(r"^\s*(?:Args|Arguments|Parameters|Params):\s*$")
_WRAPPED_NAMES = re.compile(r"^\*{0,2}\w+(?:,\s*\*{0,2}\w+)*,$")  # "a, b," with the rest below


def _resolve(obj: griffe.Object, name: str) -> str | None:
    """The full path ``name`` means inside ``obj``'s docstring, or None."""
    if name.startswith("."):
        return None
    scopes = [obj] + ([obj.parent] if obj.parent else [])
    head, _, rest = name.partition(".")
    for scope in scopes:
        try:
            path = scope.resolve(head)
        except (griffe.NameResolutionError, AttributeError):
            continue
        return _home(f"{path}.{rest}" if rest else path)
    return _home(name) if name.startswith("jaxconv.") else None


def _home(path: str) -> str:
    """``path`` at its module's home: ``jaxconv.linen.Conv`` is ``jaxconv.layers.linen.Conv``
    (the drop-in names are import aliases, which griffe does not see)."""
    from jaxconv import ALIASES  # no JAX: the package loads its modules on first use

    for alias, home in ALIASES.items():
        if path == alias or path.startswith(alias + "."):
            return home + path[len(alias):]
    return path


def _roles_to_links(obj: griffe.Object, text: str) -> str:
    def link(match: re.Match) -> str:
        short, name = match.groups()
        shown = name.rsplit(".", 1)[-1] if short else name
        path = _resolve(obj, name)
        code = f"<code>{shown}</code>"
        return f'<autoref identifier="{path}" optional>{code}</autoref>' if path else code

    return _ROLE.sub(link, text)


def _comment_docstring(attr: griffe.Attribute) -> griffe.Docstring | None:
    """The ``#:`` lines right above ``attr``'s assignment, as a docstring, or None."""
    if attr.lineno is None or attr.filepath is None:
        return None
    lines = attr.lines_collection[attr.filepath]
    text, index = [], attr.lineno - 2  # lineno is 1-based; the line above the assignment
    while index >= 0 and lines[index].lstrip().startswith("#:"):
        text.insert(0, lines[index].lstrip()[2:].strip())
        index -= 1
    if not text:
        return None
    module_doc = attr.module.docstring
    return griffe.Docstring(
        "\n".join(text), lineno=index + 2, endlineno=attr.lineno - 1, parent=attr,
        parser=module_doc.parser if module_doc else None,
        parser_options=module_doc.parser_options if module_doc else None)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _argument_lists(obj: griffe.Object, text: str) -> str:
    """``text`` with wrapped argument lists joined; warns of documented names not in the
    signature of ``obj`` (a function, or a class whose docstring describes ``__init__``)."""
    lines, out, index = text.split("\n"), [], 0
    while index < len(lines):
        out.append(lines[index])
        index += 1
        if not _ARGS_HEADING.match(out[-1]):
            continue
        heading = _indent(out[-1])
        items = next((_indent(line) for line in lines[index:] if line.strip()), heading)
        while index < len(lines) and (not lines[index].strip() or _indent(lines[index]) > heading):
            line = lines[index]
            index += 1
            if line.strip() and _indent(line) == items:
                while (_WRAPPED_NAMES.match(line.strip()) and index < len(lines)
                       and _indent(lines[index]) == items):
                    line, index = f"{line} {lines[index].strip()}", index + 1
                _check_names(obj, line.split(":", 1)[0])
            out.append(line)
    return "\n".join(out)


def _check_names(obj: griffe.Object, names: str) -> None:
    try:
        signature = {p.name for p in obj.parameters}  # pyright: ignore[reportAttributeAccessIssue]
    except AttributeError:  # a module or attribute: nothing to check against
        return
    if any(part.startswith("_") for part in obj.path.split(".")):
        return  # not on the site (filters: public)
    for name in names.split(","):
        name = name.split("(", 1)[0].strip().lstrip("*")
        if name and name not in signature:
            griffe.logger.warning(f"{obj.relative_filepath}:{obj.lineno}: {obj.path}: argument "
                                  f"{name!r} does not appear in the signature")


class HouseStyle(griffe.Extension):
    """``Example:`` headings, ``#:`` comments and Sphinx roles, read as the docs site needs."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.is_attribute and obj.docstring is None:
            obj.docstring = _comment_docstring(obj)
        if obj.docstring is not None:
            value = _EXAMPLE_HEADING.sub(r"\1Examples:", obj.docstring.value)
            value = _argument_lists(obj, value)
            obj.docstring.value = _roles_to_links(obj, value)
