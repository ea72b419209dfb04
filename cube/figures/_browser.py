"""Finding the Chrome or Chromium that kaleido drives for static figure export, and checking it starts.

Order: ``BROWSER_PATH``; a browser on ``PATH``; the usual install folders (macOS apps,
Windows Program Files); the copy kaleido downloads with ``kaleido_get_chrome``.

:func:`check_browser` launches the browser once (headless, ``--dump-dom about:blank``, in its own
process group, bounded in time) and remembers, per process, the browsers that started.
"""

from __future__ import annotations

import os
import platform
import shutil
import signal
import subprocess
import tempfile
import threading
from contextlib import suppress
from pathlib import Path

from cube import _config
from cube._errors import BrowserFailedError, BrowserNotFoundError

SKIP_HINT = "export HTML only (formats html) to skip images"
INSTALL_HINT = (
    "install Chromium (Debian/Ubuntu: apt-get install chromium) or Google Chrome, "
    f"or set BROWSER_PATH to its executable; or {SKIP_HINT}"
)
FAILED_HINT = (
    "install Chromium (Debian/Ubuntu: apt-get install chromium) or Google Chrome, "
    f"or set BROWSER_PATH to one that works; or {SKIP_HINT}"
)
PROBE_TIMEOUT = 15.0
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
        # Chrome first, then Microsoft Edge (a Chromium every Windows 10/11 has, which
        # kaleido's choreographer drives as well).
        return tuple(
            str(Path(root) / vendor / "Application" / exe)
            for vendor, exe in (("Google/Chrome", "chrome.exe"), ("Microsoft/Edge", "msedge.exe"))
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
            f"Chromium, or unset it to search PATH; or {SKIP_HINT}"
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


# Browsers that started headless in this process; export trusts them without a second probe.
_started: set[str] = set()
_probe_lock = threading.Lock()


def check_browser(timeout: float = PROBE_TIMEOUT) -> str:
    """The browser for figure export, after checking that it really starts; returns its path.

    Finds it like :func:`find_browser`, then launches it headless on a blank page, bounded to
    ``timeout`` seconds (about one second on a working machine). Passes are remembered for the
    rest of the process, so later calls and the export itself cost nothing.

    Raises:
        BrowserNotFoundError: no browser found.
        BrowserFailedError: one was found, but it fails to start, or did not answer within
            ``timeout`` seconds (it is then ended, with every process it started).

    Example:
        >>> check_browser()
        '/usr/bin/chromium'
    """
    browser = find_browser()
    with _probe_lock:
        if browser not in _started:
            _launch(browser, timeout)
            _started.add(browser)
    return browser


def new_process_group() -> dict:
    """``Popen`` arguments that start a process in a group of its own, to end it as a whole."""
    if os.name == "nt":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}
    return {"start_new_session": True}


def kill_tree(process: subprocess.Popen) -> None:
    """End a process started with :func:`new_process_group` and everything it started."""
    if os.name == "nt":
        with suppress(OSError, subprocess.SubprocessError):
            subprocess.run(
                ["taskkill", "/F", "/T", "/PID", str(process.pid)],
                capture_output=True,
                timeout=10,
                check=False,
            )
    else:
        with suppress(OSError):
            os.killpg(process.pid, signal.SIGKILL)
    with suppress(OSError, subprocess.SubprocessError):
        process.kill()
    with suppress(subprocess.SubprocessError):
        process.wait(timeout=5)


def _last_line(path: Path) -> str:
    with suppress(OSError):
        lines = [
            line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()
        ]
        if lines:
            return lines[-1][:160]
    return ""


def _launch(browser: str, timeout: float) -> None:
    """Start ``browser`` headless on a blank page; :class:`BrowserFailedError` unless it renders."""
    # a snap browser cannot see /tmp; choreographer makes the same exception
    folder = str(Path.home()) if "snap" in browser else None
    with tempfile.TemporaryDirectory(
        prefix=".cube-browser-check-", dir=folder, ignore_cleanup_errors=True
    ) as tmp:
        out, err = Path(tmp, "dom.html"), Path(tmp, "stderr.txt")
        command = [
            browser,
            "--headless",
            "--no-sandbox",  # as kaleido starts it; the probe must predict what export sees
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-breakpad",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            f"--user-data-dir={Path(tmp, 'profile')}",
            "--dump-dom",
            "about:blank",
        ]
        # files, not pipes: a child that outlives the browser cannot keep us waiting on them
        with out.open("wb") as stdout, err.open("wb") as stderr:
            try:
                process = subprocess.Popen(
                    command,
                    stdin=subprocess.DEVNULL,
                    stdout=stdout,
                    stderr=stderr,
                    **new_process_group(),
                )
            except OSError as exc:
                raise BrowserFailedError(
                    f"the browser at {browser} cannot be run ({exc.strerror}); {FAILED_HINT}"
                ) from None
            try:
                code = process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                code = None
            finally:
                kill_tree(process)  # also ends helpers a finished browser leaves behind
        if code is None:
            raise BrowserFailedError(
                f"the browser at {browser} did not start within {timeout:g} s and was ended; "
                f"{FAILED_HINT}"
            )
        if code != 0:
            detail = _last_line(err)
            raise BrowserFailedError(
                f"the browser at {browser} does not start (exit code {code}"
                f"{': ' + detail if detail else ''}); {FAILED_HINT}"
            )
        if "<html" not in out.read_text(errors="replace").lower():
            raise BrowserFailedError(
                f"the program at {browser} ran but rendered no page (is it Chrome or Chromium?); "
                f"{FAILED_HINT}"
            )
