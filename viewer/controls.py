"""`ControlsPanel`: dataset, architecture, optimiser and run buttons; `parse_settings` checks the fields.

Every number is typed into a line edit and checked as it is typed: a bad value marks its field
red with the reason as its tooltip and greys out Start and Reset until it is fixed (a validator
would silently eat the keys instead). Pressing Start or Reset checks all fields again, so junk
gets a message naming the field and nothing trains with it.
"""

from __future__ import annotations

import math

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from jaxconv.names import DATASET_NAMES, OPTIMIZERS
from viewer.i18n import TEXT, tr
from viewer.session import HEADS, Settings

__all__ = ["DATASETS", "FieldError", "INT_FIELDS", "ControlsPanel", "check_field", "parse_settings"]

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
        head: the chosen head (`viewer.session.HEADS`); None keeps ``base``'s.
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


class ControlsPanel(QWidget):
    """The left-hand controls.

    Signals:
        start_clicked(), pause_clicked(), step_clicked(), reset_clicked(): the buttons.
        gradients_toggled(bool): the "show gradients" box.
        field_rejected(str): a field's text became junk as it was typed; the reason.
    """

    start_clicked = pyqtSignal()
    pause_clicked = pyqtSignal()
    step_clicked = pyqtSignal()
    reset_clicked = pyqtSignal()
    gradients_toggled = pyqtSignal(bool)
    field_rejected = pyqtSignal(str)

    def __init__(self, settings: Settings, redraw_every: int = 1, parent=None):
        super().__init__(parent)
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold; font-size: 15px;")
        self.dataset = QComboBox()
        for name in DATASETS:
            self.dataset.addItem(name, name)
        self.optimizer = QComboBox()
        self.optimizer.addItems(OPTIMIZERS)
        self.head = QComboBox()  # weight sharing gives equivariant maps; pooling, the invariance
        for name in HEADS:
            self.head.addItem(name, name)
        self.fields = {name: QLineEdit() for name in (*INT_FIELDS, "learning_rate")}
        self.labels = {name: QLabel() for name in ("dataset", "head", "optimizer", *self.fields)}
        self.buttons = {key: QPushButton() for key in ("start", "pause", "single_step", "reset")}
        self.gradients = QCheckBox()
        self.gradients.setChecked(False)
        self.set_settings(settings, redraw_every)
        self._lay_out()
        for key, signal in (("start", self.start_clicked), ("pause", self.pause_clicked),
                            ("single_step", self.step_clicked), ("reset", self.reset_clicked)):
            self.buttons[key].clicked.connect(signal.emit)
        self.gradients.toggled.connect(self.gradients_toggled.emit)
        for name, field in self.fields.items():
            field.textChanged.connect(lambda _text, name=name: self._check(name))
        self.retranslate()

    def _check(self, name: str) -> None:
        """Marks field ``name`` red with the reason while its text is junk; Start/Reset follow."""
        field = self.fields[name]
        try:
            check_field(name, field.text())
        except FieldError as err:
            newly = not field.property("invalid") or field.toolTip() != str(err)
            field.setProperty("invalid", True)
            field.setStyleSheet("border: 1px solid #d62728;")
            field.setToolTip(str(err))
            if newly and field.hasFocus() or field.isModified():
                self.field_rejected.emit(str(err))
        else:
            field.setProperty("invalid", False)
            field.setStyleSheet("")
            field.setToolTip("")
        ok = not any(f.property("invalid") for f in self.fields.values())
        for key in ("start", "reset"):
            self.buttons[key].setEnabled(ok)

    def _lay_out(self):
        form = QFormLayout()
        form.addRow(self.labels["dataset"])  # the names are long: the menu gets the full width
        form.addRow(self.dataset)
        form.addRow(self.labels["head"])
        form.addRow(self.head)
        for name, field in self.fields.items():
            if name == "learning_rate":
                form.addRow(self.labels["optimizer"], self.optimizer)
            form.addRow(self.labels[name], field)
        grid = QGridLayout()
        for i, key in enumerate(self.buttons):
            grid.addWidget(self.buttons[key], i // 2, i % 2)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.title)
        box.addLayout(form)
        box.addLayout(grid)
        box.addWidget(self.gradients)
        box.addStretch(1)

    def retranslate(self):
        """Re-reads every label in the current language."""
        self.title.setText(tr("training"))
        for name, label in self.labels.items():
            key = INT_FIELDS[name][0] if name in INT_FIELDS else name
            label.setText(tr(key))
        for key, button in self.buttons.items():
            button.setText(tr(key))
        self.gradients.setText(tr("show_gradients"))
        for i, name in enumerate(DATASETS):
            self.dataset.setItemText(i, tr(f"ds_{name}"))
        for i, name in enumerate(HEADS):
            self.head.setItemText(i, tr(f"head_{name}"))
        for name in self.fields:  # the reasons in the new language
            self._check(name)

    def set_settings(self, settings: Settings, redraw_every: int):
        """Shows ``settings`` in the fields."""
        index = self.dataset.findData(settings.dataset)
        if index < 0:  # a path or another name given on the command line
            self.dataset.addItem(settings.dataset, settings.dataset)
            index = self.dataset.count() - 1
        self.dataset.setCurrentIndex(index)
        self.optimizer.setCurrentText(settings.train.optimizer)
        self.head.setCurrentIndex(max(0, self.head.findData(settings.head)))
        for name, field in self.fields.items():
            value = redraw_every if name == "redraw_every" else settings.value(name)
            field.setText(f"{value:g}" if isinstance(value, float) else str(value))

    def set_available(self, datasets: dict):
        """Greys out the datasets that cannot load offline (``name -> bool``)."""
        model = self.dataset.model()
        for i in range(self.dataset.count()):
            item = model.item(i)
            available = datasets.get(self.dataset.itemData(i), True)
            item.setEnabled(available or i == self.dataset.currentIndex())

    def settings(self, base: Settings) -> tuple:
        """The fields as ``(Settings, redraw_every)``; raises `FieldError` on junk."""
        return parse_settings({name: field.text() for name, field in self.fields.items()},
                              dataset=self.dataset.currentData(),
                              optimizer=self.optimizer.currentText(), base=base,
                              head=self.head.currentData())
