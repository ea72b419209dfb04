"""The kit's notebooks: committed clean, built to the conventions, and they run."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from test_notebook import assert_quiet_handout

from cube.notebook import execute, kit_notebooks
from cube.notebook._render import to_html

NOTEBOOKS = kit_notebooks()
MIN_FIGURES = {  # plotly figures each notebook must show in its rendered HTML
    "00-what-topic-modeling-gives-you": 1,
    "01-texts-to-vectors": 1,
    "02a-vectors-to-groups": 2,
    "02b-groups-to-words": 2,
    "03-explore-interactively": 1,  # and the widget's own (see test_browser.py)
    "04a-is-a-topic-good": 0,  # tables and printed passages
    "04b-choosing": 2,
    "05-topics-through-time-and-groups": 3,
    "06-your-own-data": 1,
    "07-when-the-corpus-outgrows-the-laptop": 2,
}


def test_the_notebooks_are_there_in_course_order():
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_scaffolded_like_a_lesson(path: Path):
    """Questions, objectives, a time budget and the glossary up front; graded exercises, each
    with an empty answer cell before its solution; key points and a self-check with answers."""
    nb = nbformat.read(path, as_version=4)
    intro = nb.cells[0].source
    for part in ("**Questions**", "**Objectives**", "**Time budget**", "docs/glossary.md"):
        assert part in intro, f"{path.name}: the first cell has no {part}"
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert any(m.startswith("## Key points") for m in markdown), f"{path.name}: no key points"
    check = next((m for m in markdown if m.startswith("## Self-check")), "")
    assert re.search(r"^3\. ", check, re.M) and "Answers" in check, f"{path.name}: no self-check"
    start = next(i for i, c in enumerate(nb.cells) if c.source.strip() == "## Exercises")
    graded = [
        i
        for i, c in enumerate(nb.cells[start:], start)
        if c.cell_type == "markdown"
        and re.match(r"\*\*\d+\. (Warm-up|Core|Stretch)\.\*\*", c.source)
    ]
    assert graded, f"{path.name}: exercises are not graded Warm-up / Core / Stretch"
    for i in graded:
        answer, solution = nb.cells[i + 1], nb.cells[i + 2]
        assert answer.cell_type == "code" and answer.source.strip() == "# your answer here"
        assert "solution" in solution.metadata.get("tags", [])


@pytest.fixture(scope="module")
def course_cache(tmp_path_factory) -> Path:
    """One cache for the whole course, as on a learner's laptop: notebook 2 finds the vectors
    notebook 1 made, notebook 3 the reductions notebook 2 made."""
    return tmp_path_factory.mktemp("course-cache")


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_top_to_bottom_in_quick_mode(
    path: Path, monkeypatch, tmp_path, cube_cache, course_cache
):
    """Each notebook runs as `cube render --quick` runs it, and its handout is quiet."""
    if not (course_cache / "onnx").exists():  # the session's shared export, as every test has
        (course_cache / "onnx").symlink_to(
            (cube_cache / "onnx").readlink(), target_is_directory=True
        )
    monkeypatch.setenv("CUBE_CACHE_DIR", str(course_cache))
    monkeypatch.setenv("CUBE_QUICK", "1")
    monkeypatch.chdir(tmp_path)
    nb, failure = execute(path, timeout=600)  # in a quiet kernel, as `cube render` starts it
    assert failure is None, str(failure)
    page = to_html(nb)
    (tmp_path / f"{path.stem}.html").write_text(page)  # to look at, when a check fails
    assert_quiet_handout(page)  # no progress bars, warnings or widget reprs
    assert "# check: the prose above" not in page  # the checks ran, and readers see none
    if path.stem == "03-explore-interactively":  # the explorer's static view, for readers
        assert page.count('class="cube-explorer-snapshot"') == 1
        snapshot = page[page.index('class="cube-explorer-snapshot"') :]
        assert "Top words" in snapshot[:20_000] and "Representative documents" in snapshot
    assert page.count("Plotly.newPlot(") >= MIN_FIGURES[path.stem]
    assert not re.search(r"<script[^>]*\ssrc=", page)
    pngs = [o for c in nb.cells for o in c.get("outputs", []) if "image/png" in o.get("data", {})]
    assert len(pngs) >= MIN_FIGURES[path.stem]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_at_full_size_with_its_checks(
    path: Path, request, monkeypatch, tmp_path, cube_cache, course_cache
):
    """At the sizes the prose speaks of, every check holds (`pytest --full-size`; bench/timings.py
    runs the same and writes docs/timings.md)."""
    if not request.config.getoption("--full-size"):
        pytest.skip("the full-size run: pytest --full-size tests/test_notebooks.py")
    full = course_cache / "full-size"  # one cache for the course, as a learner keeps one
    if not full.exists():
        full.mkdir()
        (full / "onnx").symlink_to((cube_cache / "onnx").readlink(), target_is_directory=True)
    monkeypatch.setenv("CUBE_CACHE_DIR", str(full))
    monkeypatch.delenv("CUBE_QUICK", raising=False)
    monkeypatch.chdir(tmp_path)
    nb, failure = execute(path, timeout=3600)
    assert failure is None, str(failure)
    assert_quiet_handout(to_html(nb))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_the_learners_version_runs_no_solution(path: Path):
    """What `cube lab` hands a learner: every exercise, no solution ("Run All" runs none)."""
    import json

    from cube.notebook._solutions import learner_bytes

    source = nbformat.read(path, as_version=4)
    learner = json.loads(learner_bytes(path))
    solutions = [c for c in source.cells if "solution" in c.metadata.get("tags", [])]
    checks = [c for c in source.cells if "check" in c.metadata.get("tags", [])]
    assert solutions, f"{path.name} has no solutions to hide"
    hidden = ("solution", "check")
    assert not [c for c in learner["cells"] if set(hidden) & set(c["metadata"].get("tags", []))]
    assert len(learner["cells"]) == len(source.cells) - len(solutions) - len(checks)
    answers = [
        c
        for c in learner["cells"]
        if c["cell_type"] == "code" and "your answer" in "".join(c["source"])
    ]
    assert answers, "each exercise keeps its empty answer cell"


def names_in(source: str) -> set[str]:
    """The Python names a cell's code uses (not the words in its strings or comments)."""
    import io
    import tokenize

    code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("%"))
    tokens = tokenize.generate_tokens(io.StringIO(code).readline)
    return {t.string for t in tokens if t.type == tokenize.NAME}


# Notebooks whose prose states numbers about the corpus: each has `check` cells, run with it.
PROSE_WITH_NUMBERS = ("00", "01", "02", "03", "04", "05", "07")  # 02a/02b, 04a/04b by [:2]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_numbers_in_the_prose_are_checked_by_check_cells(path: Path):
    """A `check` cell holds asserts (it runs in every run, so a changed number fails the suite)
    and defines nothing the notebook's own cells use (learners' copies leave it out)."""
    nb = nbformat.read(path, as_version=4)
    checks = [c for c in nb.cells if "check" in c.metadata.get("tags", [])]
    if path.stem[:2] in PROSE_WITH_NUMBERS:
        assert checks, f"{path.name}: numbers in the prose, and no check cell"
    for cell in checks:
        assert cell.cell_type == "code" and "assert " in cell.source
        assert cell.source.startswith("# check: the prose above")
    defined = {name for cell in checks for name in re.findall(r"^(\w+) *=", cell.source, re.M)}
    for cell in nb.cells:
        if cell.cell_type == "code" and cell not in checks:
            used = defined & names_in(cell.source)
            written = set(re.findall(r"^(\w+) *=", cell.source, re.M))
            assert not (used - written), f"{path.name}: a cell uses {used - written} from a check"


def test_run_times_in_the_time_budgets_are_the_measured_ones():
    """Each notebook's time budget quotes docs/timings.md, which bench/timings.py writes from a
    real run of the course (rounded to whole minutes, at least 1)."""
    page = (NOTEBOOKS[0].parents[1] / "docs" / "timings.md").read_text(encoding="utf-8")
    measured = {
        m[1]: (int(m[2]), int(m[3]))
        for m in re.finditer(
            r"^\| (\d\d[a-z]?-[\w-]+) \| [^|]+ \| [\d.]+ min \((\d+) s\) \| [\d.]+ min \((\d+) s\) \|",
            page,
            re.M,
        )
    }
    assert set(measured) == {p.stem for p in NOTEBOOKS}
    for path in NOTEBOOKS:
        intro = nbformat.read(path, as_version=4).cells[0].source
        full, quick = (max(1, round(s / 60)) for s in measured[path.stem])
        assert f"**Run time** about {full} min at full size" in intro, path.name
        assert f"about {quick} min with `CUBE_QUICK=1`" in intro, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_a_quiz_whose_every_answer_is_explained(path: Path):
    """Before the exercises, three multiple-choice questions; each answer names the right choice
    and says why each other choice is wrong."""
    nb = nbformat.read(path, as_version=4)
    sources = [c.source for c in nb.cells]
    quiz = next((s for s in sources if s.startswith("## Quiz")), None)
    assert quiz, f"{path.name} has no quiz"
    assert sources.index(quiz) < sources.index("## Exercises")
    questions = re.split(r"^\*\*Q\d\.\*\* ", quiz, flags=re.M)[1:]
    assert len(questions) >= 3
    for question in questions:
        choices = re.findall(r"^- ([a-d])\) ", question, re.M)
        assert choices == ["a", "b", "c", "d"]
        answer = question[question.index("<details><summary>Answer</summary>") :]
        right = re.search(r"\*\*([a-d])\)\*\*", answer)[1]
        for wrong in set(choices) - {right}:
            assert re.search(rf"\b{wrong}\)", answer), f"{path.name}: choice {wrong}) unexplained"


def test_a_workshop_pack_runs_every_notebook_but_the_last():
    """Notebook 7 embeds 200,000 passages on a cluster at full size: a pack leaves it out of its
    runs and its cache (learners still get the notebook, to run with a smaller SAMPLE)."""
    from cube.notebook import workshop_notebooks

    assert [p.stem for p in workshop_notebooks()] == list(MIN_FIGURES)[:-1]
    assert NOTEBOOKS[-1].stem.startswith("07") and NOTEBOOKS[-1] not in workshop_notebooks()
