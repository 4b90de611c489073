"""Checks made before Qt starts, because Qt aborts the whole process on a platform it cannot load.

Qt 6's X11 plugin needs a set of system xcb libraries that desktop installs often lack
(libxcb-cursor0 since Qt 6.5, libxcb-icccm4, libxcb-keysyms1, ...); when one is missing Qt aborts
with a long plugin message. With no display at all it aborts too. Both become one clear line,
naming the Debian/Ubuntu packages to install, and exit status 2 instead.
"""

from __future__ import annotations

import os
import subprocess
import sys

# The libraries Qt 6's xcb platform plugin links against, with the Debian package of each
# (read off `ldd` of PyQt6's libqxcb.so and libQt6XcbQpa.so).
XCB_LIBRARIES = {
    "libX11-xcb.so.1": "libx11-xcb1", "libX11.so.6": "libx11-6", "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0", "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0", "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0", "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-render.so.0": "libxcb-render0", "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0", "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1", "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1", "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libxkbcommon.so.0": "libxkbcommon0",
}


def installed_libraries() -> str | None:
    """The dynamic linker's cache listing (``ldconfig -p``), or None where it cannot be read."""
    for ldconfig in ("ldconfig", "/sbin/ldconfig"):
        try:
            return subprocess.run([ldconfig, "-p"], capture_output=True, text=True, timeout=5,
                                  check=True).stdout
        except (OSError, subprocess.SubprocessError):
            continue
    return None


def display_problem(environ=None, platform: str | None = None, libraries=None):
    """Returns why Qt could not open a window here, or None if it should be able to.

    Args:
        environ: the environment to look at (default ``os.environ``).
        platform: ``sys.platform`` (for tests).
        libraries: returns the ``ldconfig -p`` listing, or None when unknown (then Qt decides);
            default :func:`installed_libraries`.
    """
    environ = os.environ if environ is None else environ
    platform = sys.platform if platform is None else platform
    chosen = environ.get("QT_QPA_PLATFORM", "")
    if not platform.startswith("linux") or (chosen and not chosen.startswith("xcb")):
        return None
    if not chosen and environ.get("WAYLAND_DISPLAY"):
        return None
    if not environ.get("DISPLAY"):
        return ("no display to open a window on (DISPLAY is not set); for a picture without a "
                "screen use --screenshot OUT.png, which runs offscreen")
    listing = (libraries or installed_libraries)()
    missing = [pkg for lib, pkg in XCB_LIBRARIES.items() if listing is not None and lib not in listing]
    if missing:
        return (f"Qt needs system libraries to open a window on X11 and these are missing: "
                f"{' '.join(missing)} (Debian/Ubuntu: sudo apt-get install {' '.join(missing)}); "
                f"or use --screenshot OUT.png")
    return None


def prepare(screenshot: bool, environ=None) -> str | None:
    """Picks the offscreen platform for screenshots without a display; returns a problem or None."""
    environ = os.environ if environ is None else environ
    if screenshot and "QT_QPA_PLATFORM" not in environ and not environ.get("DISPLAY") \
            and not environ.get("WAYLAND_DISPLAY"):
        environ["QT_QPA_PLATFORM"] = "offscreen"
    if screenshot and environ.get("QT_QPA_PLATFORM") == "offscreen":
        return None
    return display_problem(environ)
