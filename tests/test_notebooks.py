"""The kit's notebooks: committed clean, built to the conventions, and they run."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from cube.notebook import kit_notebooks
from cube.notebook._render import execute, to_html

NOTEBOOKS = kit_notebooks()
MIN_FIGURES = {  # plotly figures each notebook must show in its rendered HTML
    "01-texts-to-vectors": 1,
    "02-topic-modeling-step-by-step": 3,
    "03-explore-interactively": 0,  # its figures live in the widget (see test_browser.py)
    "04-is-this-a-good-model": 0,  # tables, not figures
    "05-topics-through-time-and-groups": 3,
    "06-your-own-data": 1,
}


def test_the_six_notebooks_are_there_in_course_order():
    assert [p.stem for p in NOTEBOOKS] == list(MIN_FIGURES)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_without_outputs_and_to_the_conventions(path: Path):
    nb = nbformat.read(path, as_version=4)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    for cell in code_cells:
        assert not cell.get("outputs"), f"{path.name} has outputs: clear them before committing"
        assert cell.get("execution_count") is None, f"{path.name} has execution counts"
    first = code_cells[0]
    assert "parameters" in first.metadata.get("tags", [])
    assert re.search(r"^SAMPLE = \d+", first.source, re.M)
    assert re.search(r"^QUICK_SAMPLE = \d+", first.source, re.M)
    assert "cube.notebook.setup()" in code_cells[1].source
    intro = nb.cells[0].source
    assert intro.startswith("# ") and "Run time" in intro
    exercises = [i for i, c in enumerate(nb.cells) if c.source.strip() == "## Exercises"]
    assert exercises, f"{path.name} has no exercises"
    solutions = [c for c in nb.cells[exercises[0] :] if "solution" in c.metadata.get("tags", [])]
    assert solutions and all(c.metadata["jupyter"]["source_hidden"] for c in solutions)


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_top_to_bottom_in_quick_mode(path: Path, monkeypatch, tmp_path):
    monkeypatch.setenv("CUBE_QUICK", "1")
    monkeypatch.setenv("CUBE_RENDERING", "1")
    monkeypatch.chdir(tmp_path)
    nb, failure = execute(path, timeout=600)
    assert failure is None, str(failure)
    page = to_html(nb)
    assert page.count("Plotly.newPlot(") >= MIN_FIGURES[path.stem]
    assert not re.search(r"<script[^>]*\ssrc=", page)
    pngs = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(pngs) >= MIN_FIGURES[path.stem]
