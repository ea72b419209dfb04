"""Broken browsers, through real processes: each fails in bounded time with one line, no traceback.

Every case runs ``cube.figures.export`` (or ``cube doctor``) in a fresh Python with
``BROWSER_PATH`` pointing at a missing file, ``/bin/false``, or scripts that sleep, and checks
the time taken, the error type, that stderr is that one line, and that no process is left.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from pathlib import Path

import pytest

from cube.figures import _browser, check_browser, find_browser

pytestmark = [
    pytest.mark.browser,  # fake browsers and the real one, in real processes
    pytest.mark.skipif(os.name == "nt", reason="fake browsers are shell scripts"),
]

BOUND = 40  # seconds any failure may take, start to exit (the probe gives up after 15)

EXPORT = textwrap.dedent(
    """
    import sys
    import plotly.graph_objects as go
    from cube import CubeError
    from cube.figures import _session, export

    _session.START_TIMEOUT = 3  # only the case whose browser passes the probe, then hangs
    out = sys.argv[1]
    try:
        export(go.Figure(go.Bar(x=["a", "b"], y=[1, 2])), out, formats=("png", "html"))
    except CubeError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(2)
    print("exported")
    """
)

PAGE = "<html><head></head><body></body></html>"


def script(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def fakes(tmp_path) -> dict[str, Path]:
    """Stand-in browsers; each sleeping one leaves a `sleep` child, to check the tree is ended."""
    folder = tmp_path / "fake-browsers"
    folder.mkdir()
    passes_probe = f'case "$*" in *--dump-dom*) echo "{PAGE}"; exit 0;; esac'
    return {
        "sleeps": script(folder, "sleeps", "sleep 600"),
        "dies_after_probe": script(folder, "dies", f'{passes_probe}\necho "no GPU" >&2\nexit 1'),
        "hangs_after_probe": script(folder, "hangs", f"{passes_probe}\nsleep 600"),
    }


def survivors(marker: str) -> list[str]:
    """Live (not zombie) processes started under ``run(..., marker)``: they inherit its variable."""
    if not Path("/proc/self/environ").exists():
        return []
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if f"CUBE_TEST_MARKER={marker}".encode() not in (proc / "environ").read_bytes():
                continue
            if (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z":
                found.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except (OSError, IndexError):
            continue
    return found


def run(
    args: list[str], browser: str | Path, cwd: Path, marker: str = ""
) -> tuple[subprocess.CompletedProcess, float]:
    env = dict(os.environ, BROWSER_PATH=str(browser), CUBE_TEST_MARKER=marker)
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=BOUND + 30,  # a hang fails the test instead of stalling the suite
    )
    return result, time.monotonic() - started


def assert_one_line_failure(result, elapsed: float, error: str, *, says: str) -> str:
    assert elapsed < BOUND, f"took {elapsed:.1f} s"
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr  # no choreographer/kaleido log or thread noise
    assert lines[0].startswith(f"{error}: "), lines[0]
    assert says in lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def doctor(tmp_path_factory):
    """``cube doctor`` with ``BROWSER_PATH=/bin/false``, run in the background from the first test
    on, so its slow torch import overlaps the idle waits of the others: (stdout, stderr, code, s).
    """
    started = time.monotonic()
    process = subprocess.Popen(
        [sys.executable, "-m", "cube", "doctor"],
        cwd=tmp_path_factory.mktemp("doctor"),
        env=dict(os.environ, BROWSER_PATH="/bin/false"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    result: dict = {}

    def wait() -> None:
        result["out"], result["err"] = process.communicate()
        result["elapsed"] = time.monotonic() - started

    waiter = threading.Thread(target=wait, daemon=True)
    waiter.start()
    yield lambda: (waiter.join(BOUND + 30), result)[1]
    if process.poll() is None:
        process.kill()


@pytest.mark.parametrize(
    ("browser", "error", "says"),
    [
        ("missing", "BrowserNotFoundError", "is not an executable browser"),
        ("/bin/false", "BrowserFailedError", "does not start (exit code 1)"),
        ("sleeps", "BrowserFailedError", "did not start within 15 s and was ended"),
        ("dies_after_probe", "BrowserFailedError", "did not start"),
        ("hangs_after_probe", "BrowserFailedError", "did not start within 3 s and was ended"),
    ],
)
def test_export_with_a_broken_browser_fails_in_bounded_time(tmp_path, fakes, browser, error, says):
    path = {"missing": tmp_path / "nonexistent" / "chrome", "/bin/false": "/bin/false"}.get(
        browser, fakes.get(browser)
    )
    marker = uuid.uuid4().hex
    result, elapsed = run(["-c", EXPORT, str(tmp_path / "out" / "bar")], path, tmp_path, marker)
    line = assert_one_line_failure(result, elapsed, error, says=says)
    assert "BROWSER_PATH" in line and "(formats html)" in line and "--formats" not in line
    assert not list((tmp_path / "out").glob("*.png")), "no image, not even a partial one"
    assert not survivors(marker), "the browser and its children were ended"


def test_doctor_launches_the_browser(doctor):
    result = doctor()
    assert result.get("elapsed", BOUND) < BOUND, "cube doctor finished in bounded time"
    assert "Traceback" not in result["out"] + result["err"]
    assert result["out"].rstrip().endswith("1 check(s) failed")  # exit code 1
    (line,) = [line for line in result["out"].splitlines() if "Chrome" in line]
    assert line.startswith("FAIL  Chrome for figure export: the browser at /bin/false does not")


@pytest.mark.browser
def test_check_browser_starts_the_real_chrome_once(monkeypatch):
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    monkeypatch.setattr(_browser, "_started", set())
    started = time.monotonic()
    path = check_browser()
    assert Path(path).is_file()
    assert time.monotonic() - started < 15
    started = time.monotonic()
    assert check_browser() == path
    assert time.monotonic() - started < 0.1, "the second call reuses the first probe"


@pytest.mark.browser
def test_a_browser_that_stops_answering_mid_export_is_ended(tmp_path, monkeypatch):
    code = textwrap.dedent(
        """
        import os, signal, sys
        import plotly.graph_objects as go
        from cube import BrowserFailedError
        from cube.figures import _session, start_session, to_png

        start_session()
        os.killpg(_session.server._kaleido.subprocess.pid, signal.SIGSTOP)  # freeze it
        _session.RENDER_TIMEOUT, _session.CLOSE_TIMEOUT = 2, 1
        try:
            to_png(go.Figure(go.Bar(x=[1], y=[1])))
        except BrowserFailedError as exc:
            print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
            sys.exit(2)
        """
    )
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    marker = uuid.uuid4().hex
    result, elapsed = run(["-c", code], find_browser(), tmp_path, marker)
    assert_one_line_failure(
        result, elapsed, "BrowserFailedError", says="stopped answering while rendering"
    )
    assert not survivors(marker), "the frozen browser was ended"
