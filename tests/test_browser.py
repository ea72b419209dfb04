"""One test in a real browser: `cube lab`, notebook 4, the explorer widget and a plotly figure.

Debian's chromium, driven by Playwright (no browser download): JupyterLab is started with
`cube lab` on a free localhost port; the test runs all cells of notebook 4, checks that the
explorer renders and reacts to a selection and that a plotly figure is drawn, and keeps a
screenshot in its temporary folder.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from cube.figures import find_browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    port, token = free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTER_TOKEN": token,
        "CUBE_QUICK": "1",
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
    }
    log = open(tmp_path / "lab.log", "w")  # noqa: SIM115 - closed below
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cube",
            "lab",
            str(tmp_path / "work"),
            "--port",
            str(port),
            "--no-browser",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                log.close()
                pytest.fail(
                    "JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()[-3000:]
                )
            time.sleep(0.5)
    # The token is required: without it the API refuses.
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(f"{base}/api/contents", timeout=5)
    yield base, token
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    # Stopping `cube lab` stops JupyterLab itself: nothing is left listening.
    time.sleep(1)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)


def test_explorer_in_jupyterlab(lab, tmp_path):
    from playwright.sync_api import expect, sync_playwright

    base, token = lab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_browser(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{base}/lab/tree/04-explore-interactively.ipynb?token={token}")
            page.wait_for_selector(".jp-Notebook", timeout=90_000)
            page.wait_for_selector(
                ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000
            )
            page.wait_for_timeout(3000)  # let JupyterLab settle on its kernel session
            # Restart-and-run-all works whatever state the kernel session is in.
            page.get_by_role("menuitem", name="Run", exact=True).click(timeout=30_000)
            page.get_by_role("menuitem", name="Restart Kernel and Run All Cells…").click()
            page.locator(".jp-Dialog .jp-mod-accept").click(timeout=30_000)

            dropdown = page.locator(".widget-dropdown select").first
            dropdown.wait_for(timeout=240_000)
            page.wait_for_selector(
                ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=240_000
            )
            dropdown.scroll_into_view_if_needed()  # plotly draws figures once they are on screen
            representative = page.locator(".widget-html", has_text="Representative documents")
            expect(representative.first).to_be_visible(timeout=60_000)
            before = representative.first.inner_text()
            plot = page.locator(".js-plotly-plot").first
            plot.wait_for(timeout=60_000)
            expect(plot.locator(".main-svg").first).to_be_visible()

            options = dropdown.locator("option")
            assert options.count() >= 3
            second = options.nth(2)
            label, value = second.inner_text(), second.get_attribute("value")
            dropdown.select_option(value=value)
            topic = label.split(":")[0]
            for view in ("top words", "documents over time"):  # both figures redrawn for it
                title = page.locator(".js-plotly-plot .gtitle", has_text=f"Topic {topic}: {view}")
                expect(title.first).to_be_visible(timeout=30_000)
            expect(representative.first).not_to_have_text(before, timeout=30_000)
            page.screenshot(path=str(tmp_path / "explorer.png"), full_page=True)
        except Exception:
            with contextlib.suppress(Exception):
                page.locator(".widget-dropdown select").first.scroll_into_view_if_needed(
                    timeout=5000
                )
            page.screenshot(path=str(tmp_path / "failure.png"), full_page=True)
            (tmp_path / "failure.html").write_text(page.content())
            raise
        finally:
            browser.close()
    assert (tmp_path / "explorer.png").stat().st_size > 10_000
