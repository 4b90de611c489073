"""Before Qt starts: a missing display or X11 library is one clear line, not a Qt abort."""

import pytest

from viewer import preflight
from viewer.__main__ import main

HAVE = lambda name: f"lib{name}.so.0"  # noqa: E731
MISSING = lambda name: None  # noqa: E731


@pytest.mark.parametrize("environ,find,expected", [
    ({"DISPLAY": ":0"}, HAVE, None),
    ({"DISPLAY": ":0"}, MISSING, "libxcb-cursor0"),
    ({"DISPLAY": ":0", "QT_QPA_PLATFORM": "xcb"}, MISSING, "libxcb-cursor0"),
    ({}, HAVE, "no display to open a window on"),
    ({"WAYLAND_DISPLAY": "wayland-0"}, MISSING, None),
    ({"QT_QPA_PLATFORM": "offscreen"}, MISSING, None),
])
def test_display_problem(environ, find, expected):
    problem = preflight.display_problem(environ, "linux", find)
    assert problem is None if expected is None else expected in problem


def test_other_systems_are_left_to_qt():
    assert preflight.display_problem({}, "darwin", MISSING) is None


def test_screenshot_without_display_runs_offscreen():
    environ = {}
    assert preflight.prepare(True, environ) is None
    assert environ["QT_QPA_PLATFORM"] == "offscreen"


def test_main_says_what_is_missing_and_exits_2(monkeypatch, capsys):
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    monkeypatch.setattr(preflight.sys, "platform", "linux")
    monkeypatch.setattr(preflight.ctypes.util, "find_library", MISSING)
    assert main(["--paused"]) == 2
    assert capsys.readouterr().err.startswith(
        "jaxconv-viewer: Qt needs the system library libxcb-cursor0 to open a window on X11")
