"""Command-line flags generated from the settings dataclasses: one flag per field, named after it.

``add_config_arguments(parser, ModelConfig, TrainConfig)`` gives ``--kernel-size``,
``--strides``, ``--padding``, ``--batch-size``, ``--learning-rate``, ``--global-pool`` / ``--no-
global-pool`` ... with the field's ``metadata["help"]`` and choices; ``given_fields(cls, args)``
reads back the ones given. A field added to :class:`~jaxconv.config.TrainConfig` or
:class:`~jaxconv.config.ModelConfig` so becomes a flag of ``jaxconv train``, ``jaxconv compare``,
``jaxconv experiment`` and ``jaxconv-viewer`` with no further edit (a test adds one). Every flag's
own default is None, so a caller can tell a flag given from one left out (a resumed run compares
the given ones with its checkpoint); the help shows the default the command applies. Old spellings
(``--lr``, ``--batch``, ``--kernel``...) stay as hidden aliases (:func:`add_alias`). Pure Python:
building a parser loads no JAX.
"""

from __future__ import annotations

import argparse
import dataclasses

from jaxconv.config import field_choices

__all__ = ["OFF", "add_alias", "add_config_arguments", "flag", "given_fields", "parse_ints"]


def flag(name: str) -> str:
    """A field's flag: ``learning_rate`` -> ``--learning-rate``."""
    return "--" + name.replace("_", "-")


def parse_ints(text: str, name: str = "value") -> tuple[int, ...]:
    """``"16,32"`` -> ``(16, 32)``, for tuple fields.

    Raises:
        ValueError: ``--channels must be comma-separated integers, got '4,x'.`` (one line, from
            the command's error handler, like the library's own checks).
    """
    try:  # every item an int: "4,,4" or "4," is a typo, not (4, 4) or (4,)
        values = tuple(int(s) for s in str(text).split(","))
    except ValueError:
        values = ()
    if not values:
        raise ValueError(f"{flag(name)} must be comma-separated integers, got {text!r}.")
    return values


class _Off:
    """What ``off`` / ``none`` parse to for a field that may be None (None itself: not given)."""

    def __repr__(self):
        return "off"


OFF = _Off()


def _optional(kind):
    def parse(text: str):
        return OFF if str(text).strip().lower() in ("off", "none") else kind(text)

    parse.__name__ = kind.__name__  # argparse names the type in its error
    return parse


def _type_name(field: dataclasses.Field) -> str:
    """``"int"``, ``"tuple[int,...]"``, ``"float|None"``: the annotation as written (a string
    under postponed annotations, else the type)."""
    kind = field.type if isinstance(field.type, str) else getattr(field.type, "__name__", None)
    return str(kind or field.type).replace(" ", "").replace("typing.", "")


def _argument(field: dataclasses.Field) -> dict:
    """argparse keywords for a field, from its annotation."""
    kind = _type_name(field)
    choices = field_choices(field)
    if kind == "bool":
        return {"action": argparse.BooleanOptionalAction}
    if kind == "int":
        return {"type": int, "metavar": "N"}
    if kind == "float":
        return {"type": float, "metavar": "X"}
    if kind in ("float|None", "int|None"):
        return {"type": _optional(float if kind.startswith("float") else int),
                "metavar": "X|off"}
    if kind.startswith("tuple[int"):  # parsed by given_fields, so a bad one reads as one line
        return {"type": str, "metavar": "N,N"}
    if choices:  # shown, not enforced by argparse: the config's own check gives the one message
        return {"type": str, "metavar": "{" + ",".join(choices) + "}" if len(choices) <= 4
                else "NAME"}
    return {"type": str}


def _default_text(value) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    return "off" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def add_config_arguments(parser: argparse.ArgumentParser, *classes, defaults=(), skip=()) -> None:
    """Adds one flag per field of each dataclass in ``classes`` to ``parser``.

    Args:
        parser: the parser (or sub-command parser).
        *classes: the settings dataclasses, e.g. ``ModelConfig, TrainConfig``.
        defaults: instances whose values the help shows as the defaults (e.g. the experiments'
            ``TRAINING``); otherwise a field's own default.
        skip: field names the command sets itself (``kind`` in ``compare``); fields whose
            ``metadata["cli"]`` is False (``return_grads``) are never flags.

    Each flag's ``dest`` is the field name and its default None; bools get ``--x`` / ``--no-x``.
    """
    shown = {type(d): d for d in defaults}
    for cls in classes:
        group = parser.add_argument_group(f"{cls.__name__} (jaxconv.config.{cls.__name__})")
        for field in dataclasses.fields(cls):
            if field.name in skip or field.metadata.get("cli", True) is False:
                continue
            if cls in shown:
                default = getattr(shown[cls], field.name)
            else:
                default = None if field.default is dataclasses.MISSING else field.default
            text = field.metadata.get("help", field.name)
            if len(field_choices(field)) > 4:
                text += f": {', '.join(field_choices(field))}"
            if "cli_default" in field.metadata:  # the command fills it in (num_classes)
                text += f" (default {field.metadata['cli_default']})"
            elif default is not None or field.default is not dataclasses.MISSING:
                text += f" (default {_default_text(default)})"
            group.add_argument(flag(field.name), dest=field.name, default=None, help=text,
                               **_argument(field))


def add_alias(parser: argparse.ArgumentParser, old: str, dest: str, **kwargs) -> None:
    """A hidden old spelling of a flag (``--lr`` for ``--learning-rate``): same ``dest``, no help
    line, kept for one release."""
    parser.add_argument(old, dest=dest, default=None, help=argparse.SUPPRESS, **kwargs)


def given_fields(cls, args: argparse.Namespace) -> dict:
    """The fields of ``cls`` given on the command line (flags left out are None and omitted)."""
    given = {}
    for field in dataclasses.fields(cls):
        value = getattr(args, field.name, None)
        if value is None:
            continue
        if _type_name(field).startswith("tuple[int") and isinstance(value, str):
            value = parse_ints(value, field.name)
        given[field.name] = None if value is OFF else value
    return given
