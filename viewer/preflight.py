"""Checks made before Qt starts, because Qt aborts the whole process on a platform it cannot load.

Qt 6.5+ needs the system library libxcb-cursor0 for X11 windows and aborts with a long plugin
message when it is missing (a common first-run failure of PyQt6 apps on Linux desktops); with no
display at all it aborts too. Both become one clear line and exit status 2 instead.
"""

from __future__ import annotations

import ctypes.util
import os
import sys


def display_problem(environ=None, platform: str | None = None, find_library=None):
    """Returns why Qt could not open a window here, or None if it should be able to.

    Args:
        environ: the environment to look at (default ``os.environ``).
        platform: ``sys.platform`` (for tests).
        find_library: ``ctypes.util.find_library`` (for tests).
    """
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    find_library = find_library or ctypes.util.find_library
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if not platform.startswith("linux") or (chosen and not chosen.startswith("xcb")):
        return None
    if not chosen and environ.get("WAYLAND_DISPLAY"):
        return None
    if not environ.get("DISPLAY"):
        return ("no display to open a window on (DISPLAY is not set); for a picture without a "
                "screen use --screenshot OUT.png, which runs offscreen")
    if find_library("xcb-cursor") is None:
        return ("Qt needs the system library libxcb-cursor0 to open a window on X11; install it "
                "(Debian/Ubuntu: sudo apt-get install libxcb-cursor0) or use --screenshot OUT.png")
    return None


def prepare(screenshot: bool, environ=None) -> str | None:
    """Picks the offscreen platform for screenshots without a display; returns a problem or None."""
    environ = os.environ if environ is None else environ
    if screenshot and "QT_QPA_PLATFORM" not in environ and not environ.get("DISPLAY") \
            and not environ.get("WAYLAND_DISPLAY"):
        environ["QT_QPA_PLATFORM"] = "offscreen"
    return None if screenshot and environ.get("QT_QPA_PLATFORM") == "offscreen" else \
        display_problem(environ)
