"""One test in a real browser, one JupyterLab session: `cube lab`, notebook 3 run once, the
explorer widget and its plotly figures.

Debian's chromium, driven by Playwright (no browser download): JupyterLab is started with
`cube lab` on a free localhost port; the test runs all cells of notebook 3, checks that the
explorer renders and reacts to a selection and that a plotly figure is drawn, saves the
notebook as a learner would (Ctrl+S), checks that the save went to the learner's working copy
and left the course's notebooks (and `git status` of a checkout) untouched, and keeps a
screenshot in its temporary folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import running_cube_lab

from cube.figures import find_browser
from cube.notebook import kit_notebooks_dir

NOTEBOOK = "03-explore-interactively.ipynb"

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


@pytest.fixture(scope="module")
def lab_cache(tmp_path_factory) -> Path:
    """One cache for the JupyterLab sessions of this module, as a learner's laptop keeps one:
    the second run of notebook 3 finds the vectors and reductions of the first."""
    return tmp_path_factory.mktemp("lab-cache")


@pytest.fixture
def lab(tmp_path, cube_cache, lab_cache):
    if not (lab_cache / "onnx").exists():  # the session's shared export, as every test has
        (lab_cache / "onnx").symlink_to((cube_cache / "onnx").readlink(), target_is_directory=True)
    token = secrets.token_hex(16)
    # No autosave: the notebook is written when the learner saves, and only then.
    settings = tmp_path / "lab-settings"
    docmanager = settings / "@jupyterlab" / "docmanager-extension" / "plugin.jupyterlab-settings"
    docmanager.parent.mkdir(parents=True)
    docmanager.write_text(json.dumps({"autosave": False}))
    # As a learner runs it: no folder given, so the copies go to ./cube-notebooks.
    with running_cube_lab(
        tmp_path, token, settings, CUBE_QUICK="1", CUBE_CACHE_DIR=str(lab_cache)
    ) as base:
        # The token is required: without it the API refuses.
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{base}/api/contents", timeout=5)
        yield base, token
    # Stopping `cube lab` stops JupyterLab itself: nothing is left listening.
    time.sleep(1)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)


def git_status(path) -> str | None:
    """``git status --porcelain`` of ``path`` in its checkout; None outside a checkout."""
    git = shutil.which("git")
    if git is None:
        return None
    result = subprocess.run(
        [git, "status", "--porcelain", "--", path.name],
        cwd=path.parent,
        capture_output=True,
        text=True,
    )
    return result.stdout if result.returncode == 0 else None


def digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def saved_outputs(path) -> int:
    try:
        cells = json.loads(path.read_text())["cells"]
    except (OSError, ValueError, KeyError):
        return 0
    return sum(len(c.get("outputs", [])) for c in cells if c.get("cell_type") == "code")


@pytest.fixture
def course():
    """The course's own copy of the notebook, before the test: its bytes and its git status.

    (Only this one notebook: in a shared working tree, others may be edited meanwhile.)
    """
    original = kit_notebooks_dir() / NOTEBOOK
    return original, digest(original), git_status(original)


def test_explorer_in_jupyterlab(course, lab, tmp_path):
    """A learner's session with notebook 3, run once: the explorer opens on the largest topic
    and lists -1 last; a save goes to the learner's copy and leaves the course untouched; its
    figures keep one height when hovered; a search that matches nothing says so; picking a topic
    redraws both figures."""
    from playwright.sync_api import expect, sync_playwright

    base, token = lab
    original, original_digest, status_before = course
    copy = tmp_path / "cube-notebooks" / NOTEBOOK
    assert copy.is_file() and saved_outputs(copy) == 0
    copied_at = copy.stat().st_mtime_ns
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_browser(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        try:
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
            page.wait_for_selector(".jp-Notebook", timeout=90_000)
            page.wait_for_selector(
                ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000
            )
            page.wait_for_timeout(3000)  # let JupyterLab settle on its kernel session
            # A fresh server, a fresh kernel: run all. (A restart here can race the kernel's
            # start on a loaded machine and lose the queued cells.)
            page.get_by_role("menuitem", name="Run", exact=True).click(timeout=30_000)
            page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()

            dropdown = page.locator(".widget-dropdown select").first
            dropdown.wait_for(state="attached", timeout=600_000)  # a loaded machine is slow
            page.wait_for_selector(
                ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=600_000
            )
            dropdown.scroll_into_view_if_needed()  # plotly draws figures once they are on screen
            figures = page.locator(".widget-output .js-plotly-plot")
            expect(figures.nth(1).locator(".main-svg").first).to_be_visible(timeout=60_000)

            # Opens on the largest real topic; -1 is listed last, as "not in any topic".
            # textContent: JupyterLab leaves cells out of view unrendered (innerText is "").
            options = dropdown.locator("option").all_text_contents()
            labels = [t.replace("\xa0", " ") for t in options]
            sizes = [int(re.search(r"\((\d+) passages\)", lbl).group(1)) for lbl in labels]
            assert "not in any topic" in labels[-1] and labels[-1].startswith("-1:")
            assert sizes[0] == max(sizes[:-1])
            assert dropdown.evaluate("s => s.selectedIndex") == 0
            topic = labels[0].split(":")[0]
            title = page.locator(".js-plotly-plot .gtitle", has_text=f"Topic {topic}: top words")
            expect(title.first).to_be_visible()

            # A learner saves: JupyterLab writes the notebook, outputs and all, to their copy.
            page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
            page.keyboard.press("Escape")  # command mode: the keystroke goes to JupyterLab
            page.keyboard.press("Control+s")
            deadline = time.monotonic() + 60
            while copy.stat().st_mtime_ns == copied_at or saved_outputs(copy) == 0:
                assert time.monotonic() < deadline, "the notebook was not saved within 60 s"
                page.wait_for_timeout(500)
            dirty = page.locator(".lm-TabBar-tab.jp-mod-dirty")
            expect(dirty).to_have_count(0, timeout=30_000)

            # Hovering alone: one height from the start, no picture swapped in, and the
            # notebook stays unmodified.
            dropdown.scroll_into_view_if_needed()
            heights = [figures.nth(i).bounding_box()["height"] for i in range(2)]
            assert heights == [360, 360], heights
            for i in range(2):
                box = figures.nth(i).bounding_box()
                for dx, dy in ((0.5, 0.5), (0.6, 0.7), (0.4, 0.6)):
                    page.mouse.move(box["x"] + box["width"] * dx, box["y"] + box["height"] * dy)
                    page.wait_for_timeout(500)
            page.wait_for_timeout(2000)
            assert [figures.nth(i).bounding_box()["height"] for i in range(2)] == heights
            assert page.locator(".widget-output img").count() == 0
            expect(dirty).to_have_count(0)
            page.screenshot(path=str(tmp_path / "explorer-guides.png"), full_page=True)

            # A search that matches nothing says so, and no chart of the last topic stays.
            search = page.get_by_placeholder("a word in a topic or its passages…")
            search.fill("zzqxv")
            message = page.locator(".widget-html", has_text="No passage matches “zzqxv”")
            expect(message.first).to_be_visible(timeout=30_000)
            expect(figures).to_have_count(0, timeout=30_000)
            representative = page.locator(".widget-html", has_text="Representative documents")
            expect(representative).to_have_count(0)
            page.screenshot(path=str(tmp_path / "explorer-no-match.png"), full_page=True)
            search.fill("")
            expect(figures).to_have_count(2, timeout=30_000)

            # Picking another topic redraws both figures and the passages.
            expect(representative.first).to_be_visible(timeout=60_000)
            before = representative.first.text_content()
            second = dropdown.locator("option").nth(2)
            label, value = second.text_content(), second.get_attribute("value")
            dropdown.select_option(value=value)
            topic = label.split(":")[0]
            for view in ("top words", "share of each period"):
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
    # The save went to the learner's copy; the course's notebooks are as they were.
    assert saved_outputs(copy) > 0
    assert digest(original) == original_digest
    if status_before is not None:  # a git checkout: a learner's save leaves no trace in it
        assert git_status(original) == status_before
