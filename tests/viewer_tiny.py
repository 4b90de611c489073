"""Settings and waits shared by the viewer's window tests (test_viewer_window, test_viewer_fresh)."""

from jaxconv_viewer.session.session import Settings

TINY = Settings(dataset="digits", n_train=128, n_test=32).with_fields(
    channels=2, depth=1, kernel_size=3, hidden=8, batch_size=16, eval_every=4, head="flatten")
WAIT = 180_000  # ms; compiles on a busy two-core machine are slow, but this is no timing test


def wait_drawn(qtbot, window, at_least):
    with qtbot.waitSignal(window.snapshot_drawn, timeout=WAIT,
                          check_params_cb=lambda step: step >= at_least):
        pass
    return window.snapshot
