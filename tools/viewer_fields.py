"""The numbers of docs/viewer.md's receptive-field paragraph: train the viewer's default models,
then count, for a few units, the pixels each kind's unit is wired to and the pixels that move it.

Usage::

    python tools/viewer_fields.py [STEPS] [DATASET]    # default: 300 steps on mnist-5k

It prints the time to each 50th step, the `--report` rows, and per unit and test image
``{kind: (wired, moving)}`` (`jaxconv_viewer.gui.panels.connections.field_numbers` of
`jaxconv_viewer.session.capture.unit_fields`).
"""

import os
import sys
import time

from jaxconv_viewer.gui.panels.connections import field_numbers
from jaxconv_viewer.session import capture as views
from jaxconv_viewer.session.session import Session, Settings
from jaxconv_viewer.session.snapshot import Probe, Unit


def main(steps: int = 300, dataset: str | None = None) -> None:
    began = time.perf_counter()
    settings = Settings() if dataset is None else Settings(dataset=dataset)
    session = Session(settings.with_fields(steps=steps))
    print("load average", os.getloadavg(), flush=True)
    session.prepare()
    marks = {}
    for step in session.rounds():
        if step % 50 == 0:
            marks[step] = round(time.perf_counter() - began, 1)
    print("seconds to steps", marks, flush=True)
    for row in session.report()["models"]:
        print(row["kind"], row["test_accuracy"], row["shift_accuracy"], row["equivariance"])
    maps = session.snapshot().models["conv"].features
    shapes = {name: a.shape for name, a in maps if a.ndim == 3}
    probed = []
    for name, (h, w, _) in shapes.items():
        probed += [Unit(name, 0, (h // 2, w // 2)), Unit(name, 0, (0, 0))]
    for unit in probed:
        for index in range(3):
            image = views.shift_one(session.dataset.x_test[index], 0, 0)
            probe = Probe(index, 0, 0, unit=unit)
            counts = {kind: field_numbers(views.unit_fields(session, kind, image, probe))
                      for kind in session.settings.columns}
            print(unit.layer, unit.position, "test image", index, counts, flush=True)
    print("done after", round(time.perf_counter() - began, 1), "s; load average",
          os.getloadavg())


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300, sys.argv[2] if len(sys.argv) > 2 else None)
