"""The live number under each page's claim, read from the window as it is now.

One function per lesson page (`jaxconv_viewer.gui.pages.PAGES`), ``number(window) -> str``: the
counts of the models on screen, the shown unit's fields, accuracy under a 3-pixel shift, test
accuracy and time per step, the gradients' size. Each says "—" where its source has not arrived
yet (before the first count, snapshot or measure). No JAX: everything is read from what the
panels were given.
"""

from __future__ import annotations

from jaxconv_viewer.gui.panels.connections import field_numbers
from jaxconv_viewer.i18n import kind_label, tr

__all__ = ["backprop", "costs", "learning", "sharing", "wiring"]

#: The shift the sharing page quotes, in pixels (the probes measure up to 3).
SHIFT = 3


def _join(parts) -> str:
    return " · ".join(parts)


def costs(window) -> str:
    """Each column's parameter count, and the fewest as a share of the most."""
    counts = {kind: column.counts for kind, column in window.columns.items()}
    if any(c is None for c in counts.values()):
        return tr("number_waiting")
    numbers = _join(f"{kind_label(kind, short=True)} {c.params:,}" for kind, c in counts.items())
    most = max(counts, key=lambda k: counts[k].params)
    fewest = min(counts, key=lambda k: counts[k].params)
    ratio = counts[most].params / max(1, counts[fewest].params)
    return tr("number_costs", numbers=numbers, fewest=kind_label(fewest, short=True),
              most=kind_label(most, short=True), ratio=f"{ratio:,.0f}")


def wiring(window) -> str:
    """The shown unit, and per column the pixels wired to it and the pixels that move it."""
    snapshot = window.snapshot
    unit = None if snapshot is None else snapshot.probe.unit
    if unit is None or snapshot is None:
        return tr("number_waiting")
    parts = []
    for kind in window.columns:
        fields = snapshot.models[kind].fields
        wired, moving = field_numbers(fields) if fields is not None else ("—", "—")
        parts.append(tr("number_field", kind=kind_label(kind, short=True), wired=wired,
                        moving=moving))
    where = "" if unit.position is None else tr("at", row=unit.position[0], col=unit.position[1])
    return tr("number_wiring", layer=unit.layer, channel=unit.channel, where=where,
              fields=_join(parts))


def sharing(window) -> str:
    """Test accuracy unshifted and at the worst 3-pixel shift, per column, at the last measure."""
    result = window.probes.shift.result
    if result is None:
        return tr("number_waiting")
    keys = [i for i, (dx, dy) in enumerate(result.shifts) if max(abs(dx), abs(dy)) == SHIFT]
    centre = result.shifts.index((0, 0))
    if not keys:
        return tr("number_waiting")
    parts = [f"{kind_label(kind, short=True)} {float(a[centre]):.2f} → "
             f"{float(min(a[i] for i in keys)):.2f}"
             for kind, a in ((k, result.shift_accuracy[k]) for k in window.columns
                             if k in result.shift_accuracy)]
    return tr("number_sharing", shift=SHIFT, accuracies=_join(parts), step=result.step)


def learning(window) -> str:
    """The last test accuracy and the mean time of a training step, per column."""
    snapshot = window.snapshot
    if snapshot is None or snapshot.step < 1:
        return tr("number_waiting")
    accuracies, times = [], []
    for kind, history in snapshot.history.items():
        test, train = history["test"], history["train"]
        name = kind_label(kind, short=True)
        accuracies.append(f"{name} {float(test['accuracy'][-1]):.2f}" if len(test["accuracy"])
                          else f"{name} —")
        times.append(f"{name} {1000 * float(train['time'][-1]) / max(1, int(train['step'][-1])):.1f}")
    return tr("number_learning", step=snapshot.step, accuracies=_join(accuracies),
              times=_join(times))


def backprop(window) -> str:
    """Per column, the root mean square of the shown layer's gradient and of its weights."""
    parts = []
    for kind, column in window.columns.items():
        numbers = column.gradient.numbers
        if numbers is None:
            return tr("number_waiting")
        layer, grad, weight = numbers
        parts.append(tr("number_gradient", kind=kind_label(kind, short=True), layer=layer,
                        grad=f"{grad:.2g}", share=f"{grad / weight:.2%}" if weight else "—"))
    return tr("number_backprop", models=_join(parts))
