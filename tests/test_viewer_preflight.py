"""Before Qt starts: a missing display or X11 library is one clear line, not a Qt abort."""

import pytest

from jaxconv_viewer import preflight
from jaxconv_viewer.__main__ import main

ALL = lambda: "\n".join(f"\t{lib} (libc6,x86-64) => /usr/lib/{lib}" for lib in preflight.XCB_LIBRARIES)  # noqa: E731
NO_ICCCM = lambda: ALL().replace("libxcb-icccm.so.4", "gone")  # noqa: E731
UNKNOWN = lambda: None  # noqa: E731


@pytest.mark.parametrize("environ,libraries,expected", [
    ({"DISPLAY": ":0"}, ALL, None),
    ({"DISPLAY": ":0"}, NO_ICCCM, "these are missing: libxcb-icccm4 (Debian/Ubuntu: sudo apt-get "
                                  "install libxcb-icccm4)"),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, NO_ICCCM, "libxcb-icccm4"),
    ({"DISPLAY": ":0"}, UNKNOWN, None),
    ({}, ALL, "no display to open a window on (DISPLAY is not set)"),
    ({"WAYLAND_DISPLAY": "wayland-0"}, NO_ICCCM, None),
    ({"QT_QPA_PLATFORM": "offscreen"}, NO_ICCCM, None),
])
def test_display_problem(environ, libraries, expected):
    problem = preflight.display_problem(environ, "linux", libraries)
    assert problem is None if expected is None else expected in problem


def test_other_systems_are_left_to_qt():
    assert preflight.display_problem({}, "darwin", NO_ICCCM) is None


def test_screenshot_without_display_runs_offscreen():
    environ = {}
    assert preflight.prepare(True, environ) is None
    assert environ["QT_QPA_PLATFORM"] == "offscreen"


def test_main_says_what_is_missing_and_exits_2(monkeypatch, capsys):
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(preflight.sys, "platform", "linux")
    monkeypatch.setattr(preflight, "installed_libraries", NO_ICCCM)
    assert main(["--paused"]) == 2
    assert capsys.readouterr().err.startswith(
        "jaxconv-viewer: Qt needs system libraries to open a window on X11 and these are missing: "
        "libxcb-icccm4")
