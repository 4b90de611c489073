"""The File menu: save and load a session, export every panel as PNG and the metrics as CSV.

Every action reports to the window's status bar; a failing file operation shows a message and
never ends the app. Saving a session and exporting the metrics read the training state, so they
are requests the worker serves between two steps (`MainWindow.request`), never calls made here on
the GUI thread while the worker trains the same objects.
"""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtGui import QKeySequence
from PyQt6.QtWidgets import QFileDialog, QMessageBox

from jaxconv_viewer.i18n import tr

__all__ = ["FILE_ACTIONS", "add_file_actions", "export_csv", "export_panels"]

#: Action key (a label of `jaxconv_viewer.i18n.TEXT`) -> shortcut, in menu order.
FILE_ACTIONS = {"save_session": "Ctrl+S", "load_session": "Ctrl+O", "export_png": "Ctrl+E",
                "export_csv": None, "quit": "Ctrl+Q"}


def export_panels(window, directory) -> list[Path]:
    """Saves the window as shown, every page, and every panel of every page, as PNG files in
    ``directory`` (``window.png``, ``page_<page>.png``, ``<panel>_<column>.png``...); returns the
    paths, and shows the page shown before.

    Raises:
        OSError: a file could not be written.
    """
    from PyQt6.QtWidgets import QApplication

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    shown = window.tabs.currentIndex()
    paths = []

    def save(name, widget):
        path = directory / f"{name}.png"
        if not widget.grab().save(str(path)):
            raise OSError(f"export_panels: could not write {str(path)!r}.")
        paths.append(path)

    save("window", window)
    try:
        for index, page in enumerate(window.panels.pages):
            window.show_page(index)
            QApplication.processEvents()
            save(f"page_{page.page.key}", window)
            for slot in page.slots:
                if slot.widgets():
                    save(slot.name.replace(":", "_").replace("+", "_"), slot)
    finally:
        window.show_page(shown)
    return paths


def export_csv(window, path) -> bool:
    """Asks the worker to write every model's metrics (kind, split, step, time, loss, accuracy).

    The window's status bar says when it is written (`MainWindow.served`); False if no worker
    is there to ask.
    """
    return window.request("export_metrics", path)


def _guarded(window, action, target):
    try:
        action(target)
    except Exception as error:  # noqa: BLE001 - a file error must not end the app
        window.show_error(tr("failed", error=f"{type(error).__name__}: {error}"))
        QMessageBox.warning(window, tr("error"), str(error))
        return
    window.show_status(tr("saved", path=target))


def _export_png(window):
    directory = QFileDialog.getExistingDirectory(window, tr("choose_folder"))
    if directory:
        _guarded(window, lambda d: export_panels(window, d), directory)


def _export_csv(window):
    path, _ = QFileDialog.getSaveFileName(window, tr("export_csv"), "metrics.csv", "CSV (*.csv)")
    if path:
        export_csv(window, path)


def _save_session(window):
    directory = QFileDialog.getExistingDirectory(window, tr("save_session"))
    if directory:
        window.request("save", directory)


def _load_session(window):
    directory = QFileDialog.getExistingDirectory(window, tr("load_session"))
    if directory:
        window.load_session(directory)


def add_file_actions(window, menu) -> dict:
    """Adds the File actions to ``menu``; returns key -> `QAction` (labels set by retranslate)."""
    slots = {"save_session": _save_session, "load_session": _load_session,
             "export_png": _export_png, "export_csv": _export_csv, "quit": lambda w: w.close()}
    actions = {}
    for key, shortcut in FILE_ACTIONS.items():
        action = menu.addAction("")
        action.triggered.connect(lambda _=False, slot=slots[key]: slot(window))
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        actions[key] = action
    return actions
