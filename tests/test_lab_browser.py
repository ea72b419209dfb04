"""`cube lab` in a real browser: a notebook opens with no toast asking about Jupyter's news.

JupyterLab 4 shows "Would you like to get notified about official Jupyter news?" on every page
until its `fetchNews` setting is answered; cube lab answers "Never" as the setting's default
(see ``cube.notebook._lab.LAB_CONFIG_DIR``). The control: once the learner's own settings say
"Ask", the same page shows the toast, so the check below can fail.
"""

from __future__ import annotations

import json
import secrets
import socket

import pytest
from conftest import running_cube_lab

from cube.figures import find_browser

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOK = "02a-vectors-to-groups.ipynb"
QUESTION = "Would you like to get notified about official Jupyter news?"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    token = secrets.token_hex(16)
    settings = tmp_path / "lab-settings"  # the learner's own JupyterLab settings: none yet
    with running_cube_lab(tmp_path, token, settings) as base:
        yield base, token, settings


def _open(page, url: str, picture) -> int:
    """Open the notebook, give JupyterLab time to raise its toasts; how many ask the question."""
    page.goto(url)
    page.wait_for_selector(".jp-Notebook", timeout=90_000)
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
    page.wait_for_timeout(4000)  # the question comes once the settings and app are restored
    page.screenshot(path=str(picture))
    return page.get_by_text(QUESTION).count()


def test_a_notebook_opens_without_the_news_question(lab, tmp_path):
    from playwright.sync_api import sync_playwright

    base, token, settings = lab
    url = f"{base}/lab/tree/{NOTEBOOK}?token={token}"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_browser(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1600, "height": 1000})
        try:
            assert _open(page, url, tmp_path / "lab.png") == 0
            # The learner's own answer still wins: "Ask" brings the question back.
            own = (
                settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
            )
            own.parent.mkdir(parents=True)
            own.write_text(json.dumps({"fetchNews": "none"}))
            assert _open(page, url, tmp_path / "lab-asking.png") == 1
        finally:
            browser.close()
