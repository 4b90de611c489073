"""The jaxconv viewer: dense, locally-connected and conv models trained side by side, live.

Layers, from data to pixels (each module states its conventions):

- `viewer.session`: `Session` trains the three kinds with `jaxconv.train.fit` (no Qt);
- `viewer.worker`: `TrainWorker` drives it on a `QThread` and hands over `viewer.snapshot`s;
- `viewer.tiling`: kernels and activations as images (pure numpy);
- `viewer.column`, `viewer.shared`, `viewer.controls`: the panels; `viewer.window`: the window;
- `viewer.i18n`, `viewer.typeface`: English and Simplified Chinese labels and the bundled font;
- `viewer.bench`: start-up, latency and throughput benchmark.

Run it with ``jaxconv-viewer`` or ``python -m viewer`` (``viewer.__main__.main``). Importing this
package loads neither Qt nor JAX, and re-exports nothing: ``python -m viewer`` must find
``viewer.__main__`` not yet imported.
"""

__all__: list[str] = []
