"""Benchmark: start-up time, event-loop latency while three models train, viewer vs headless speed.

Run ``QT_QPA_PLATFORM=offscreen python -m jaxconv_viewer.bench`` (add ``--rounds``/``--warmup`` to taste).
It prints, and writes as JSON with ``--json``:

- ``first_step``: ``cold_s`` and ``cached_s``, wall seconds from launching ``jaxconv-viewer
  --steps 1 --screenshot`` until it says every column's first trained step is drawn, in a fresh
  process with empty caches (compile cache, stored programs, parsed data), then with the caches
  that launch filled; ``cold_exit_s`` and ``cached_exit_s`` until it exited (the screenshot waits
  for the step's shift measures); ``cold_columns_s`` and ``cached_columns_s``: each column's
  first step drawn (the columns start apart); medians of ``--launches`` launches each, and the
  load average at each launch in ``loads``;
- ``window_s``: seconds from process start until the window has been shown and painted;
- ``latency_ms``: lateness of a 5 ms `QTimer` while the viewer trains (p50, p99, max): what a
  click or key press waits for at worst;
- ``headless_rounds_s`` and ``viewer_rounds_s``: rounds per second (one step of each of the three
  models) of a `Session` driven by a plain loop without Qt, and of the window's own session on its
  worker thread with the redraws on; ``ratio`` is viewer / headless. Both are compiled and warmed
  up first, then run in alternating chunks (``--repeats`` pairs of ``--rounds`` rounds) so that
  drift in the machine's load hits both alike; the medians are reported.
- ``draw_ms``: how long a stroke on the "Draw your own input" canvas takes to reach the
  predictions (from the canvas change until the input panel shows that drawing with the models'
  answers for it), paused and while training (p50, p99, max over ``--strokes`` strokes); the
  redraw timer's frame is 50 ms. The clicked unit's receptive fields are on throughout.
"""

from __future__ import annotations

import argparse
import json
import os
import time

_T0 = time.perf_counter()


def _process_age() -> float:
    """Seconds since this process started (Linux: from /proc; elsewhere since this import)."""
    try:
        with open("/proc/self/stat") as f:
            start_ticks = int(f.read().rsplit(")", 1)[1].split()[19])
        with open("/proc/uptime") as f:
            uptime = float(f.read().split()[0])
        return uptime - start_ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return time.perf_counter() - _T0


def _percentiles(values):
    import numpy as np

    a = np.asarray(values, np.float64) * 1000
    return {"p50": float(np.percentile(a, 50)), "p99": float(np.percentile(a, 99)),
            "max": float(a.max()), "n": int(a.size)}


def headless_chunk(session, run, rounds: int) -> float:
    """Rounds per second of ``rounds`` more rounds of ``session.rounds()`` (``run``), no Qt.

    A round is one step of each model; one ``next`` may run several (a multi-step dispatch).
    """
    began, start = time.perf_counter(), session.step
    while session.step < start + rounds:
        next(run)
    return (session.step - start) / (time.perf_counter() - began)


def viewer_chunk(window, rounds: int, late: list, gui_cpu: list, tick_ms: int = 5) -> float:
    """Resumes the window's training for ``rounds`` rounds, then pauses it; returns rounds/s.

    Meanwhile a ``tick_ms`` `QTimer` appends how late each of its ticks came to ``late``, and the
    GUI thread's CPU time per second of the chunk is appended to ``gui_cpu``.
    """
    from PyQt6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    state: dict[str, float | None] = {"last": None}
    step0 = window.worker.step

    def tick():
        now = time.perf_counter()
        if state["last"] is not None:
            late.append(max(0.0, now - state["last"] - tick_ms / 1000))
        state["last"] = now
        if window.worker.step >= step0 + rounds:
            window.worker.pause()
            loop.quit()

    timer = QTimer()
    timer.setInterval(tick_ms)
    timer.timeout.connect(tick)
    began, cpu = time.perf_counter(), time.thread_time()
    window.worker.resume()
    timer.start()
    loop.exec()
    elapsed = time.perf_counter() - began
    gui_cpu.append((time.thread_time() - cpu) / elapsed)
    timer.stop()
    done = window.worker.step - step0
    while window.training:  # let the last step finish before the headless chunk
        QEventLoop().processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 10)
    return done / elapsed


def first_step_seconds(cache_dir: str | None, dataset: str = "digits",
                       data_dir: str | None = None) -> tuple[float, float, dict]:
    """Wall seconds of ``jaxconv-viewer --steps 1 --screenshot`` in a fresh process: from the
    launch until it says the first trained step of every column is drawn, until it has exited
    (after the screenshot, and the measures it waits for), and column -> until that column's
    first step was drawn. ``cache_dir`` is the compile cache it uses (None: none), ``data_dir``
    its data cache (None: the user's)."""
    import subprocess
    import sys
    import tempfile

    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
           "JAXCONV_COMPILE_CACHE": cache_dir if cache_dir else "0"}
    if data_dir is not None:
        env["JAXCONV_DATA_DIR"] = data_dir
    drawn, columns = None, {}
    with tempfile.TemporaryDirectory() as tmp:
        began = time.perf_counter()
        with subprocess.Popen([sys.executable, "-m", "jaxconv_viewer", "--dataset", dataset, "--steps",
                               "1", "--screenshot", os.path.join(tmp, "first.png")], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as run:
            assert run.stdout is not None  # stdout=PIPE
            for line in run.stdout:
                if drawn is None and " drawn after " in line:
                    drawn = time.perf_counter() - began
                if "first step of " in line:  # "first step of dense drawn at 1.93 s"
                    columns[line.split("first step of ", 1)[1].split()[0]] = (
                        time.perf_counter() - began)
        exited = time.perf_counter() - began
        if run.returncode or drawn is None:
            raise RuntimeError(f"jaxconv-viewer --steps 1 --screenshot failed (status "
                               f"{run.returncode}) or never said its first step was drawn")
        return drawn, exited, columns


def launch_medians(launches: int, dataset: str) -> dict:
    """``first_step`` of the module docstring: ``launches`` cold launches (each with empty
    caches of its own) and as many cached ones (with the caches the first cold launch filled)."""
    import statistics
    import tempfile

    runs: dict = {"cold": [], "cached": []}
    loads = []
    with tempfile.TemporaryDirectory() as keep:
        for i in range(launches):
            with tempfile.TemporaryDirectory() as tmp:  # empty: the launch compiles all
                cache, data = (keep, os.path.join(keep, "data")) if i == 0 else (tmp, tmp)
                loads.append(os.getloadavg()[0])
                runs["cold"].append(first_step_seconds(cache, dataset, data))
        for _ in range(launches):
            loads.append(os.getloadavg()[0])
            runs["cached"].append(first_step_seconds(keep, dataset, os.path.join(keep, "data")))
    out: dict = {"launches": launches, "loads": loads}
    for run, values in runs.items():
        out[f"{run}_s"] = statistics.median(v[0] for v in values)
        out[f"{run}_exit_s"] = statistics.median(v[1] for v in values)
        kinds = {k for v in values for k in v[2]}
        out[f"{run}_columns_s"] = {k: statistics.median(v[2].get(k, float("nan"))
                                                        for v in values) for k in sorted(kinds)}
    return out


def draw_latency(window, strokes: int, *, running: bool) -> list:
    """Seconds from each of ``strokes`` canvas changes until the input panel shows that drawing."""
    import numpy as np
    from PyQt6.QtCore import QEventLoop

    rng, waits = np.random.default_rng(0), []
    (window.worker.resume if running else window.worker.pause)()
    canvas = window.drawing.canvas
    for _ in range(strokes):
        start = time.perf_counter()
        canvas.set_image(rng.random(canvas.image.shape) > 0.7)  # a stroke's worth of change
        version = window.probe().drawn
        while window.snapshot is None or window.snapshot.probe.drawn != version:
            QEventLoop().processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
        waits.append(time.perf_counter() - start)
        end = time.perf_counter() + 0.03  # between strokes, as a hand moves
        while time.perf_counter() < end:
            QEventLoop().processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 5)
    window.worker.pause()
    return waits


def main(argv=None) -> int:
    """Runs the benchmark and prints its numbers."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--rounds", type=int, default=200, help="rounds per measured chunk")
    parser.add_argument("--repeats", type=int, default=5, help="headless/viewer chunk pairs")
    parser.add_argument("--warmup", type=int, default=60, help="rounds before measuring (compiles)")
    parser.add_argument("--strokes", type=int, default=40, help="canvas strokes timed (each way)")
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--depth", type=int, default=2,
                        help="spatial layers (2: a third pooled layer would read 2x2 maps on "
                             "8x8 digits through a wrapped 3x3 circular window)")
    parser.add_argument("--json", help="also write the numbers to this file")
    parser.add_argument("--no-first-step", dest="first_step", action="store_false",
                        help="skip timing the launches to the first step (fresh processes)")
    parser.add_argument("--launches", type=int, default=3,
                        help="launches timed with empty caches, and as many with them filled "
                             "(medians reported)")
    args = parser.parse_args(argv)

    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from jaxconv_viewer.gui.window import MainWindow
    from jaxconv_viewer.session.session import Settings

    settings = Settings(dataset=args.dataset).with_fields(depth=args.depth)
    window = MainWindow(settings, running=False)
    window.show()
    app.processEvents()
    window.repaint()
    window_s = _process_age()  # (the report's startup entry has it for any run: --report)
    print(f"window shown {window_s:.2f} s after the process started", flush=True)
    window.close()
    app.processEvents()
    first_step = {}  # after window_s, which counts from this process's start
    if args.first_step:
        first_step = launch_medians(args.launches, args.dataset)
        columns = {run: ", ".join(f"{k} {v:.2f} s" for k, v in first_step[f"{run}_columns_s"].items())
                   for run in ("cold", "cached")}
        print(f"time to every column's first step drawn (jaxconv-viewer --steps 1 --screenshot), "
              f"median of {args.launches} launches: {first_step['cold_s']:.2f} s with empty "
              f"caches ({columns['cold']}), {first_step['cached_s']:.2f} s with them filled "
              f"({columns['cached']}); the runs exited after {first_step['cold_exit_s']:.2f} s "
              f"and {first_step['cached_exit_s']:.2f} s; load averages "
              f"{', '.join(f'{v:.1f}' for v in first_step['loads'])}", flush=True)

    from jaxconv_viewer.session.session import Session

    session = Session(settings)
    session.prepare()
    run = session.rounds()
    headless_chunk(session, run, args.warmup)  # compiles and the first test-set evaluation
    window = MainWindow(settings, running=True)
    window.show()
    while window.worker.step < args.warmup:
        app.processEvents()
        time.sleep(0.005)
    late, pairs, gui_cpu = [], [], []
    for _ in range(args.repeats):  # alternate, so drift in the machine's load hits both alike
        pairs.append((headless_chunk(session, run, args.rounds), viewer_chunk(window, args.rounds, late, gui_cpu)))
        print(f"headless {pairs[-1][0]:6.1f} rounds/s   viewer {pairs[-1][1]:6.1f} rounds/s",
              flush=True)
    draw_ms = {}
    for running in (False, True):
        draw_ms["training" if running else "paused"] = _percentiles(
            draw_latency(window, args.strokes, running=running))
    window.close()
    latency = _percentiles(late)
    ratios = sorted(v / h for h, v in pairs)
    ratio = ratios[len(ratios) // 2]
    headless_median = sorted(h for h, _ in pairs)[len(pairs) // 2]
    viewer_median = sorted(v for _, v in pairs)[len(pairs) // 2]
    print(f"event-loop lateness while training: p50 {latency['p50']:.1f} ms, p99 "
          f"{latency['p99']:.1f} ms, max {latency['max']:.1f} ms ({latency['n']} ticks)")
    print(f"GUI thread CPU while training: {100 * sum(gui_cpu) / len(gui_cpu):.0f}% of one core")
    for how, ms in draw_ms.items():
        print(f"stroke to predictions, {how}: p50 {ms['p50']:.0f} ms, p99 {ms['p99']:.0f} ms, "
              f"max {ms['max']:.0f} ms ({ms['n']} strokes)")
    print(f"median rounds/s: headless {headless_median:.1f}, viewer {viewer_median:.1f}; median "
          f"viewer/headless ratio {ratio:.2f}; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} CPUs")
    result = {"window_s": window_s, "first_step": first_step, "latency_ms": latency,
              "draw_ms": draw_ms, "pairs_rounds_s": pairs,
              "headless_rounds_s": headless_median, "viewer_rounds_s": viewer_median,
              "ratio": ratio, "gui_cpu": sum(gui_cpu) / len(gui_cpu), "rounds": args.rounds, "repeats": args.repeats,
              "warmup": args.warmup, "dataset": args.dataset, "cpus": os.cpu_count(),
              "load_average": os.getloadavg()}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
