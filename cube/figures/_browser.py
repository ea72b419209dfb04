"""Finding the Chrome or Chromium that kaleido drives for static figure export."""

from __future__ import annotations

import os
from pathlib import Path

from cube import _config
from cube._errors import BrowserNotFoundError

INSTALL_HINT = (
    "install Chromium (Debian/Ubuntu: apt-get install chromium) or Google Chrome, "
    "or set BROWSER_PATH to its executable"
)


def _is_executable(path: str | Path) -> bool:
    return Path(path).is_file() and os.access(path, os.X_OK)


def find_browser() -> str:
    """The browser for figure export: ``BROWSER_PATH``, then PATH, then kaleido's own copy.

    Raises :class:`cube.BrowserNotFoundError` (immediately, never a hang) when there is none.

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
    from choreographer.browsers.chromium import Chromium

    # On PATH and in the usual install folders first; kaleido's downloaded copy last.
    for skip_local in (True, False):
        try:
            found = Chromium.find_browser(skip_local=skip_local)
        except Exception:
            found = None
        if found and _is_executable(found):
            return str(found)
    raise BrowserNotFoundError(f"no Chrome or Chromium found for figure export; {INSTALL_HINT}")
