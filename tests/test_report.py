"""cube.figures.write_report: one self-contained, offline HTML page that never runs document text."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest

from cube.figures import write_report

EVIL = "</script><script>window.__pwned = 1; document.title = 'pwned'</script><img src=x onerror=alert(1)>"


def topics_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [-1, 0, 1],
            "size": [40, 120, 60],
            "name": ["-1_the_and_of", "0_war_army_navy", "1_tax_budget_deficit"],
            "top_words": ["the, and, of", "war, army, navy", "tax, budget, <b>deficit</b>"],
            "representative_documents": [
                json.dumps(["an outlier"]),
                json.dumps([EVIL, "The army and the navy. " * 30, "war"]),
                json.dumps(["taxes", "budget", "deficit", "a fourth one, never shown"]),
            ],
        }
    )


def summary() -> dict:
    return {
        "cube_version": "0.2",
        "source": "speeches <i>.csv",
        "documents": 220,
        "topics": 2,
        "outliers": 40,
        "parameters": {"seed": 0, "min_topic_size": 10, "time_column": None},
        "seconds": {"embed": 1.25, "figures": 2.5, "total": 9.0},
        "quality": {"headline": "coherence 0.41, diversity 0.83", "detail": {"x": 1}},
    }


def figures() -> dict[str, go.Figure]:
    scatter = go.Figure(
        go.Scatter(
            x=[1, 2, 3], y=[3, 1, 2], mode="markers", text=[EVIL, "b", "c"], hovertext=[EVIL] * 3
        )
    )
    scatter.update_layout(title=EVIL)
    bar = go.Figure(go.Bar(x=["war", "tax"], y=[120, 60], name=EVIL))
    return {"documents_map": scatter, "barchart": bar}


def sample_report(tmp_path: Path, **extra) -> Path:
    """The report of the sample summary, topics and figures above, in ``tmp_path``."""
    return write_report(
        tmp_path / "report.html",
        title="Topics <b>in</b> speeches",
        summary=summary(),
        topics=topics_frame(),
        figures=figures(),
        **extra,
    )


def test_report_is_one_escaped_file(tmp_path: Path):
    from plotly.offline import get_plotlyjs

    path = sample_report(tmp_path)
    assert path == tmp_path / "report.html"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]  # nothing beside it
    page = path.read_text(encoding="utf-8")
    assert page.count(get_plotlyjs()) == 1  # plotly.js once, inline
    # plotly.js before 7.1 holds one URL itself (map icons on unpkg, for map traces only)
    rest = page.replace(get_plotlyjs(), "")
    assert "<script src=" not in rest and 'src="http' not in rest
    assert "<script>window.__pwned" not in page and "<img src=x" not in page
    assert "&lt;/script&gt;&lt;script&gt;window.__pwned" in page  # the passage, as text
    assert "&lt;b&gt;deficit&lt;/b&gt;" in page and "speeches &lt;i&gt;.csv" in page
    assert "a fourth one" not in page  # three passages per topic
    assert "war · army · navy" in page and "0_war_army_navy" not in page
    assert "not in any topic" in page
    assert "coherence 0.41, diversity 0.83" in page
    # the largest topic first, the outliers last
    names = [
        page.index(f'class="name">{n}<')
        for n in ("war · army · navy", "tax · budget · deficit", "not in any topic")
    ]
    assert names == sorted(names)


def test_report_needs_ids_and_sizes(tmp_path: Path):
    with pytest.raises(ValueError, match="id"):
        write_report(
            tmp_path / "r.html", title="t", summary={}, topics=pd.DataFrame({"x": [1]}), figures={}
        )


def open_offline(path: Path):
    """Open ``path`` in headless chromium with every non-file request blocked.

    Returns (page facts, console errors, blocked requests).
    """
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    blocked: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu"],
            headless=True,
        )
        try:
            context = browser.new_context(viewport={"width": 1700, "height": 1000})

            def route(r):
                if r.request.url.startswith("file://"):
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort()

            context.route("**/*", route)
            page = context.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(path.resolve().as_uri(), wait_until="load")
            page.wait_for_function(
                "() => [...document.querySelectorAll('.plotly-graph-div')]"
                ".every(d => d.querySelector('.main-svg'))",
                timeout=60_000,
            )
            facts = page.evaluate(
                """() => ({
                    title: document.title,
                    pwned: window.__pwned === undefined ? null : window.__pwned,
                    divs: document.querySelectorAll('.plotly-graph-div').length,
                    drawn: [...document.querySelectorAll('.plotly-graph-div')]
                        .filter(d => d.querySelector('.main-svg')).length,
                    text: document.body.innerText,
                    images: document.querySelectorAll('img').length,
                })"""
            )
            facts["screenshot"] = page.screenshot(full_page=True)
        finally:
            browser.close()
    return facts, errors, blocked


@pytest.mark.browser
def test_report_opens_offline_and_never_runs_a_passage(tmp_path: Path):
    path = write_report(
        tmp_path / "report.html",
        title="Topics in speeches",
        summary=summary(),
        topics=topics_frame(),
        figures=figures(),
    )
    facts, errors, blocked = open_offline(path)
    assert not errors, errors
    assert not blocked, f"the page asked the network for {blocked}"
    assert facts["pwned"] is None and facts["title"] == "Topics in speeches"
    assert facts["images"] == 0  # the <img onerror> of the passage is text, not an element
    assert facts["divs"] == 2 and facts["drawn"] == 2
    assert "<script>window.__pwned" in facts["text"]  # shown as the text it is


def test_the_quality_line_names_both_coherences(tmp_path: Path):
    numbers = {"npmi": 0.2841, "c_npmi": 0.1702, "diversity@10": 0.9214, "outlier_share": 0.1}
    path = write_report(
        tmp_path / "report.html",
        title="t",
        summary={**summary(), "quality": numbers},
        topics=topics_frame(),
        figures={},
    )
    assert (
        "<b>Quality:</b> NPMI +0.284 over passages, +0.170 over 10-token windows (c_npmi), "
        "diversity@10 0.92, 10% in no topic" in path.read_text(encoding="utf-8")
    )


def test_each_figure_carries_its_alt_text_escaped(tmp_path: Path):
    described = {"barchart": f"The top words of {EVIL}", "documents_map": "120 passages as dots"}
    page = sample_report(tmp_path, descriptions=described).read_text(encoding="utf-8")
    assert 'role="img" aria-describedby="fig-barchart-text"' in page
    assert '<p class="alt" id="fig-barchart-text">The top words of &lt;/script&gt;' in page
    assert '<p class="alt" id="fig-documents_map-text">120 passages as dots</p>' in page
