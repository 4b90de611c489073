"""The controls' field rules, with no Qt: what each typed field takes, and the settings they make.

`check_field` reads one field's text, `parse_settings` all of them into a `Settings`; a bad text
raises `FieldError` with a message in the current language naming the field. The window's
`ControlsPanel` and the command line (`jaxconv_viewer.__main__`) both obey these rules, so a value the
window refuses is refused on the command line too, and the headless ``--report`` path checks its
flags without loading Qt.
"""

from __future__ import annotations

import math

from jaxconv.names import DATASET_NAMES
from jaxconv_viewer.i18n import TEXT, tr
from jaxconv_viewer.session.settings import Settings

__all__ = ["DATASETS", "FieldError", "INT_FIELDS", "MAX_LEARNING_RATE", "check_field",
           "parse_settings"]

#: Dataset names in menu order: those of the JAX-free vocabulary (so the window appears before
#: JAX) that the viewer has a label for in every language.
DATASETS = tuple(name for name in DATASET_NAMES if f"ds_{name}" in TEXT)
MAX_LEARNING_RATE = 10
#: Integer field -> (label key, lowest, highest).
INT_FIELDS = {
    "hidden": ("hidden", 0, 4096),
    "channels": ("channels", 1, 256),
    "kernel_size": ("kernel_size", 1, 15),
    "strides": ("stride", 1, 8),
    "depth": ("depth", 1, 6),
    "batch_size": ("batch_size", 1, 4096),
    "redraw_every": ("redraw_every", 1, 100_000),
}


class FieldError(ValueError):
    """A field's text is not acceptable; the message is in the current language."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def check_field(name: str, text: str):
    """The value of one field's text (an int of `INT_FIELDS`, or the learning rate).

    Raises:
        FieldError: the text is not a value the field takes; the message names the field.
    """
    text = text.strip()
    if name != "learning_rate":
        label, low, high = INT_FIELDS[name]
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise FieldError(name, tr("not_int", field=tr(label), text=text, low=low, high=high))
        return value
    try:
        lr = float(text)
    except ValueError:
        raise FieldError(name, tr("not_number", field=tr("learning_rate"), text=text)) from None
    if not (math.isfinite(lr) and 0 < lr <= MAX_LEARNING_RATE):
        raise FieldError(name, tr("not_rate", field=tr("learning_rate"), text=text,
                                  high=MAX_LEARNING_RATE))
    return lr


def parse_settings(texts: dict, *, dataset: str, optimizer: str, base: Settings,
                   head: str | None = None) -> tuple:
    """Checks the fields' texts and returns ``(Settings, redraw_every)``.

    Args:
        texts: field name (`INT_FIELDS` and ``"learning_rate"``) -> text typed.
        dataset: the chosen dataset name.
        optimizer: the chosen optimiser name.
        head: the chosen head (`jaxconv_viewer.session.session.HEADS`); None keeps ``base``'s.
        base: settings the fields do not cover (seed, step budget, subset sizes).

    Raises:
        FieldError: the first bad field, with a message naming it and its text.
    """
    values = {name: check_field(name, texts[name]) for name in INT_FIELDS}
    lr = check_field("learning_rate", texts["learning_rate"])
    redraw = values.pop("redraw_every")
    settings = base.with_fields(dataset=dataset, optimizer=optimizer, learning_rate=lr,
                                head=base.head if head is None else head, **values)
    return settings, redraw
