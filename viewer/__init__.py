"""The jaxconv viewer: dense, locally-connected and conv models trained side by side, live.

Two layers, and the entry points above them:

- `jaxconv_viewer.session` (no Qt): what a session trains and yields. `settings` and `fields` (what the
  controls set, its ``columns`` included, and the rules of each typed field), `session`
  (`Session` trains the columns with `jaxconv.train.fit`), `columns` (building one column's
  model; the sharing dial),
  `snapshot` (what the worker hands the GUI) and `capture` (taking one), `measures`
  (accuracy against shift, equivariance) and `store` (a session on disk);
- `jaxconv_viewer.gui` (Qt): `window` (`MainWindow`), `layout` (`PANELS`: the one table of the window's
  panels, where each sits and what it draws), `worker` (`TrainWorker` drives a session on a
  `QThread`), `commands`, `probe`, `files`, `status`, `draw_schedule`, `plots`, and the pure
  numpy pictures `tiling` and `unit_geometry`; each panel is a module of `jaxconv_viewer.gui.panels`;
- `jaxconv_viewer.i18n`: English and Simplified Chinese labels, and the bundled CJK font subset;
- `jaxconv_viewer.__main__` (``jaxconv-viewer``), `jaxconv_viewer.bench` (start-up, latency and throughput),
  `jaxconv_viewer.preflight` (the checks made before Qt starts).

Run it with ``jaxconv-viewer`` or ``python -m jaxconv_viewer`` (``jaxconv_viewer.__main__.main``). Importing this
package loads neither Qt nor JAX, and re-exports nothing: ``python -m jaxconv_viewer`` must find
``jaxconv_viewer.__main__`` not yet imported.
"""
