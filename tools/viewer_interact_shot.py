"""Screenshot of the viewer in use: a unit clicked, a drawing fed to the models (docs/img).

Trains ``--steps`` steps at ``--window-size``, clicks a unit of the conv column's feature maps on
the weight-sharing page (a real mouse click on the widget), goes to the local-connection page,
opens the input's drawing canvas, starts a drawing from the shown sample and adds a stroke across
it (real mouse events on the canvas), waits until every panel shows that input, and saves the
window::

    QT_QPA_PLATFORM=offscreen python tools/viewer_interact_shot.py docs/img/viewer_interact.png
"""

from __future__ import annotations

import argparse
import sys
import time


def _wait(app, until, timeout=600.0):
    end = time.monotonic() + timeout
    while not until():
        if time.monotonic() > end:
            raise TimeoutError("viewer_interact_shot: the window did not get there in time")
        app.processEvents()
        time.sleep(0.01)


def main(argv=None) -> int:
    """Writes the screenshot; returns 0."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("png")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--dataset", default=None, help="default: the viewer's (mnist-5k)")
    parser.add_argument("--unit", default="layer2,0,6,8", help="layer,channel,row,col to click")
    parser.add_argument("--window-size", default="1280x720", help="WIDTHxHEIGHT")
    args = parser.parse_args(argv)

    from PyQt6.QtCore import QPoint, QPointF, Qt
    from PyQt6.QtTest import QTest
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from jaxconv_viewer.gui import unit_geometry as units
    from jaxconv_viewer.gui.window import MainWindow
    from jaxconv_viewer.session.session import Settings
    from jaxconv_viewer.session.snapshot import Unit

    settings = Settings() if args.dataset is None else Settings(dataset=args.dataset)
    window = MainWindow(settings.with_fields(steps=args.steps), running=True)
    window.resize(*map(int, args.window_size.lower().split("x")))
    window.show()
    window.show_page("sharing")  # the feature maps
    _wait(app, lambda: window.shown_step >= args.steps and not window.training)
    layer, channel, row, col = args.unit.split(",")
    unit = Unit(layer, int(channel), (int(row), int(col)))
    features = window.columns["conv"].features
    y, x, _, _ = units.feature_rect(window.snapshot.models["conv"].features, unit)
    point = features.mapFromScene(features.image.mapToScene(QPointF(x + 0.5, y + 0.5)))
    QTest.mouseClick(features.viewport(), Qt.MouseButton.LeftButton, pos=point)
    window.show_page("wiring")  # its connections, and the input's canvas
    QTest.mouseClick(window.input.draw_button, Qt.MouseButton.LeftButton)
    QTest.mouseClick(window.drawing.buttons["from_sample"], Qt.MouseButton.LeftButton)
    canvas = window.drawing.canvas
    square = canvas._square()
    h, w = canvas.image.shape
    path = [QPoint(int(square.left() + square.width() * (0.15 + 0.7 * t)),
                   int(square.top() + square.height() * (0.8 - 0.6 * t))) for t in (0, 0.5, 1)]
    QTest.mousePress(canvas, Qt.MouseButton.LeftButton, pos=path[0])
    for p in path[1:]:
        QTest.mouseMove(canvas, p)
    QTest.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=path[-1])
    _wait(app, lambda: window.snapshot.probe.drawn == window.probe().drawn > 0
          and window.snapshot.probe.unit == unit)
    for _ in range(20):  # let every column draw this snapshot
        app.processEvents()
        time.sleep(0.05)
    ok = window.grab().save(args.png)
    print(f"viewer_interact_shot: {'wrote' if ok else 'could not write'} {args.png} "
          f"({h}x{w} drawing, unit {unit})")
    window.close()
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
