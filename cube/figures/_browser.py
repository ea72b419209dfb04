"""Finding the Chrome or Chromium that kaleido drives for static figure export.

Order: ``BROWSER_PATH``; a browser on ``PATH``; the usual install folders (macOS apps,
Windows Program Files); the copy kaleido downloads with ``kaleido_get_chrome``.
"""

from __future__ import annotations

import os
import platform
import shutil
from pathlib import Path

from cube import _config
from cube._errors import BrowserNotFoundError

INSTALL_HINT = (
    "install Chromium (Debian/Ubuntu: apt-get install chromium) or Google Chrome, "
    "or set BROWSER_PATH to its executable"
)
EXECUTABLE_NAMES = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
    "chrome",
)


def _typical_paths() -> tuple[str, ...]:
    system = platform.system()
    if system == "Darwin":
        return (
            "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
            "/Applications/Chromium.app/Contents/MacOS/Chromium",
            str(Path.home() / "Applications/Google Chrome.app/Contents/MacOS/Google Chrome"),
        )
    if system == "Windows":
        roots = [
            os.environ.get(v, "") for v in ("PROGRAMFILES", "PROGRAMFILES(X86)", "LOCALAPPDATA")
        ]
        return tuple(
            str(Path(root) / "Google" / "Chrome" / "Application" / "chrome.exe")
            for root in roots
            if root
        )
    return (
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
        "/snap/bin/chromium",
    )


TYPICAL_PATHS = _typical_paths()


def _is_executable(path: str | Path) -> bool:
    return Path(path).is_file() and os.access(path, os.X_OK)


def _kaleido_copy() -> str | None:
    """The Chrome that ``kaleido_get_chrome`` / ``plotly_get_chrome`` downloaded, if any."""
    try:
        from choreographer.cli.defaults import default_download_path
    except ImportError:
        return None
    for pattern in ("chrome-*/chrome", "chrome-*/chrome.exe", "chrome-*/*.app/Contents/MacOS/*"):
        for candidate in sorted(Path(default_download_path).glob(pattern)):
            if _is_executable(candidate):
                return str(candidate)
    return None


def find_browser() -> str:
    """The browser for figure export, or :class:`cube.BrowserNotFoundError` at once.

    Example:
        >>> find_browser()
        '/usr/bin/chromium'
    """
    configured = _config.browser_path()
    if configured:
        if _is_executable(configured):
            return configured
        raise BrowserNotFoundError(
            f"BROWSER_PATH={configured!r} is not an executable browser; point it at Chrome or "
            "Chromium, or unset it to search PATH"
        )
    for name in EXECUTABLE_NAMES:
        found = shutil.which(name)
        if found and _is_executable(found):
            return found
    for candidate in TYPICAL_PATHS:
        if _is_executable(candidate):
            return candidate
    found = _kaleido_copy()
    if found:
        return found
    raise BrowserNotFoundError(f"no Chrome or Chromium found for figure export; {INSTALL_HINT}")
