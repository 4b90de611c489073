"""`ControlsPanel`: dataset, architecture, optimiser and run buttons (rules: `jaxconv_viewer.session.fields`).

Every number is typed into a line edit and checked as it is typed: a bad value marks its field
red with the reason as its tooltip and greys out Start and Reset until it is fixed (a validator
would silently eat the keys instead). Pressing Start or Reset checks all fields again, so junk
gets a message naming the field and nothing trains with it.
"""

from __future__ import annotations

from PyQt6.QtCore import pyqtSignal
from PyQt6.QtGui import QStandardItemModel
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from jaxconv.names import OPTIMIZERS
from jaxconv_viewer.gui import typeface
from jaxconv_viewer.i18n import tr
from jaxconv_viewer.session.fields import (
    DATASETS,
    INT_FIELDS,
    FieldError,
    check_field,
    parse_settings,
)
from jaxconv_viewer.session.session import HEADS, Settings

__all__ = ["ControlsPanel"]

class ControlsPanel(QWidget):
    """The training controls: the fields, and the run buttons in a bar of their own (`run_bar`).

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
        self.title = typeface.role(QLabel(), "title")
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
        # Tool buttons: as wide as their text, so they share the menu bar's line (a push button
        # keeps 80 pixels whatever its text).
        self.buttons = {key: QToolButton() for key in ("start", "pause", "single_step", "reset")}
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
        # The run buttons are a bar of their own: the window shows it in its tool bar, on every
        # page, while the fields sit in a side bar that may be closed.
        self.run_bar = QWidget()
        row = QHBoxLayout(self.run_bar)
        row.setContentsMargins(0, 0, 0, 0)
        for button in self.buttons.values():
            row.addWidget(button)
        box = QVBoxLayout(self)
        box.setContentsMargins(4, 4, 4, 4)
        box.addWidget(self.title)
        box.addLayout(form)
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
        assert isinstance(model, QStandardItemModel)  # a QComboBox's own model
        for i in range(self.dataset.count()):
            item = model.item(i)
            assert item is not None  # one item per entry
            available = datasets.get(self.dataset.itemData(i), True)
            item.setEnabled(available or i == self.dataset.currentIndex())

    def settings(self, base: Settings) -> tuple:
        """The fields as ``(Settings, redraw_every)``; raises `FieldError` on junk."""
        return parse_settings({name: field.text() for name, field in self.fields.items()},
                              dataset=self.dataset.currentData(),
                              optimizer=self.optimizer.currentText(), base=base,
                              head=self.head.currentData())
