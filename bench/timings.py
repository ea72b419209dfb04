"""Times every course notebook as a learner runs it, and writes docs/timings.md.

Run: uv run python bench/timings.py [--out docs/timings.md] [--skip-full] [--only 07]

Each notebook runs top to bottom in a fresh, quiet kernel (as `cube render` runs it), in course
order, in one new cache (as on a laptop that follows the course: notebook 2 finds the vectors
notebook 1 made, notebook 3 the reductions of notebook 2), first at full size and then in quick
mode (`CUBE_QUICK=1`, in a second new cache). Every cell runs, the exercises' solutions and the
`check` cells too: a statement in the prose that no longer holds at full size stops the script.
Each cell's seconds come from the kernel's own timestamps (nbclient's execution metadata).
The table it writes is what the notebooks' time budgets and the instructor guide quote.
``--only 07`` times the notebooks whose names start so (each alone, in a new cache) and
replaces their rows in the page, keeping the others and saying which rows were measured when.

Every run also writes what is derived from the page and the notebooks, so no number is typed
twice: the page's teaching-minutes estimate (:func:`estimate`, by a stated rule), and the
minutes tables of docs/instructor-guide.md and docs/schedule.md (between their
``<!-- generated ... -->`` markers), from the notebooks' time budgets and the page's run times.
``--docs-only`` rewrites just those, from the page as it is (no notebook runs): do it after
editing a notebook's prose or time budget. tests/test_notebooks.py fails when they differ.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

import cube
from cube.notebook import execute, kit_notebooks, workshop_notebooks

ROOT = Path(__file__).resolve().parents[1]


def cell_seconds(cell) -> float:
    meta = cell.get("metadata", {}).get("execution", {})
    start, end = meta.get("iopub.execute_input"), meta.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = dt.datetime.fromisoformat
    return (parse(end.replace("Z", "+00:00")) - parse(start.replace("Z", "+00:00"))).total_seconds()


def first_line(cell) -> str:
    """The cell's first line of code that is not an import or a comment."""
    lines = [ln.strip() for ln in cell.source.splitlines() if ln.strip()]
    code = [ln for ln in lines if not ln.startswith(("#", "import ", "from ", "%"))]
    text = (code or lines or [""])[0]
    return text if len(text) <= 60 else text[:57] + "..."


def run_course(quick: bool, only: tuple[str, ...] = ()) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="cube-timings-") as cache:
        os.environ["CUBE_CACHE_DIR"] = cache
        if quick:
            os.environ["CUBE_QUICK"] = "1"
        else:
            os.environ.pop("CUBE_QUICK", None)
        for path in kit_notebooks():
            if only and not path.stem.startswith(only):
                continue
            started = time.perf_counter()
            nb, failure = execute(path, timeout=3600)
            seconds = time.perf_counter() - started
            if failure is not None:
                raise SystemExit(f"{path.name} ({'quick' if quick else 'full size'}): {failure}")
            cells = [(cell_seconds(c), c) for c in nb.cells if c.cell_type == "code"]
            slow = sorted(cells, key=lambda pair: -pair[0])[:3]
            tags = [set(c.metadata.get("tags", [])) for _, c in cells]
            solutions = sum(s for (s, _), t in zip(cells, tags, strict=True) if "solution" in t)
            rows.append(
                {
                    "notebook": path.stem,
                    "seconds": seconds,
                    "solutions": solutions,
                    "slowest": [(s, first_line(c)) for s, c in slow],
                }
            )
            print(f"{'quick' if quick else 'full '} {path.stem}: {seconds:.0f} s", flush=True)
    return rows


def minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min ({seconds:.0f} s)"


def table(full: list[dict] | None, quick: list[dict]) -> str:
    cores = os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    lines = [
        "# Run times of the course notebooks",
        "",
        "Written by `bench/timings.py` (do not edit by hand): each notebook run top to bottom in a",
        "fresh kernel, in course order, in one new cache (so notebook 1 embeds its passages and the",
        "later notebooks find most of theirs), solutions and checks included, as `cube render`",
        "runs it. A learner who runs the notebooks in order sees about these times; a laptop with a",
        "workshop pack's cache imported skips the embedding and most UMAP runs.",
        "",
        f"Machine: {cores} cores, {platform.machine()}, Python {platform.python_version()}, "
        f"cube {cube.__version__}, load average {load:.1f} at the start; "
        f"{dt.date.today().isoformat()}.",
        "",
        "| notebook | passages | full size | quick (`CUBE_QUICK=1`) | of which solutions (full) |"
        " slowest cells at full size |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += rows(full, quick)
    if full:
        total = sum(r["seconds"] for r in full)
        lines += ["", f"Whole course at full size: {minutes(total)}."]
    return "\n".join(lines) + "\n"


def rows(full: list[dict] | None, quick: list[dict]) -> list[str]:
    """One table row per notebook timed."""
    samples = {name: size for name, size, _ in cube.notebook.course_samples(quick=False)}
    quick_samples = {name: size for name, size, _ in cube.notebook.course_samples(quick=True)}
    by_name = {r["notebook"]: r for r in full or []}
    lines = []
    for q in quick:
        name = q["notebook"]
        f = by_name.get(name)
        size, small = samples.get(name), quick_samples.get(name)
        passages = f"{size:,} / {small:,}" if size else PASSAGES.get(name, "")
        if f is None:
            lines.append(f"| {name} | {passages} | not measured | {minutes(q['seconds'])} | | |")
            continue
        slowest = "; ".join(f"`{text}` {s:.0f} s" for s, text in f["slowest"])
        lines.append(
            f"| {name} | {passages} | {minutes(f['seconds'])} | {minutes(q['seconds'])} | "
            f"{f['solutions']:.0f} s | {slowest} |"
        )
    return lines


# Notebooks that do not draw `n_passages` of the bundled corpus: what they run on.
PASSAGES = {
    "00-what-topic-modeling-gives-you": "3,000 / 400 (`cube topics`)",
    "06-your-own-data": "2,000 / 300 of the example",
    "07-when-the-corpus-outgrows-the-laptop": ("10,000 synthetic and 15,825 / 2,000 and 2,000"),
}


def merged(page: str, full: list[dict] | None, quick: list[dict]) -> str:
    """``page`` with the rows of the notebooks just timed replaced (or added after the last
    row), and a line saying when they were measured."""
    lines = page.rstrip("\n").split("\n")
    for row in rows(full, quick):
        name = row.split(" | ")[0]
        at = [i for i, line in enumerate(lines) if line.startswith(name + " |")]
        if at:
            lines[at[0]] = row
        else:
            last = max(i for i, line in enumerate(lines) if line.startswith("| "))
            lines.insert(last + 1, row)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    names = ", ".join(q["notebook"] for q in quick)
    lines = [line for line in lines if not line.startswith(f"{names}: timed alone")]
    lines += [
        "",
        f"{names}: timed alone (`bench/timings.py --only`), in a new cache, on "
        f"{dt.date.today().isoformat()}, load average {load:.1f} at the start; not in the "
        "whole course's total above.",
    ]
    return "\n".join(lines) + "\n"


# -- what is derived from the page and the notebooks -----------------------------------------
READING_WPM = 150  # words of prose a minute, read aloud or along, carefully
CODE_LINE_MINUTES = 0.25  # a line of a teaching cell: read, explained, run (15 s)
QUESTION_MINUTES = 1.0  # a quiz question or a checkpoint: think, answer, hear the why
EXERCISE_MINUTES = {"Warm-up": 5, "Core": 10, "Stretch": 0}  # Stretch: for who finishes early

ESTIMATE_RULE = (
    f"teaching = words of the markdown before `## Exercises` / {READING_WPM} words a minute"
    f" + {CODE_LINE_MINUTES * 60:.0f} s per line of code in the cells learners run there (not"
    f" the parameters, `check` or solution cells; blank and comment lines not counted)"
    f" + {QUESTION_MINUTES:.0f} min per quiz question and per checkpoint; exercises = "
    + ", ".join(f"{m} min per {grade}" for grade, m in EXERCISE_MINUTES.items() if m)
    + " exercise (Stretch exercises are for who finishes early, and not counted)"
)


def estimate(path: Path) -> dict:
    """A notebook's teaching and exercise minutes by :data:`ESTIMATE_RULE`, and the counts
    they come from (an estimate from the text, not a pilot's observation).

    Example:
        >>> estimate(kit_notebooks()[0])["teaching"] > 0
        True
    """
    import nbformat

    nb = nbformat.read(path, as_version=4)
    sources = [c.source.strip() for c in nb.cells]
    end = sources.index("## Exercises") if "## Exercises" in sources else len(nb.cells)
    words = lines = questions = 0
    for cell in nb.cells[:end]:
        tags = set(cell.metadata.get("tags", []))
        if cell.cell_type == "markdown":
            text = re.sub(r"<[^>]+>|[`*_#>|]", " ", cell.source)
            words += len(re.findall(r"[^\W_][\w'’.,:;%-]*", text))
            questions += len(
                re.findall(r"^\*\*(?:Q\d+|Checkpoint|Predict)[.:]?\*\*", cell.source, re.M)
            )
        elif not tags & {"parameters", "check", "solution"}:
            lines += sum(
                1
                for ln in cell.source.splitlines()
                if ln.strip() and not ln.strip().startswith("#")
            )
    grades = [
        m[1]
        for c in nb.cells[end:]
        if c.cell_type == "markdown"
        for m in [re.match(r"\*\*\d+\. (Warm-up|Core|Stretch)\.\*\*", c.source)]
        if m
    ]
    teaching = words / READING_WPM + lines * CODE_LINE_MINUTES + questions * QUESTION_MINUTES
    return {
        "notebook": path.stem,
        "words": words,
        "code_lines": lines,
        "questions": questions,
        "exercises": "/".join(str(grades.count(g)) for g in EXERCISE_MINUTES),
        "teaching": round(teaching),
        "exercise_minutes": sum(EXERCISE_MINUTES[g] for g in grades),
    }


def budget(path: Path) -> dict:
    """The title and the minutes a notebook's own time budget gives (its first cell)."""
    import nbformat

    intro = nbformat.read(path, as_version=4).cells[0].source
    title = intro.splitlines()[0].lstrip("# ").strip()
    found = re.search(r"teaching (\d+) min · exercises (\d+) min", intro)
    if found is None:
        raise SystemExit(f"{path.name}: no 'teaching N min · exercises N min' in its time budget")
    return {"title": title, "teaching": int(found[1]), "exercises": int(found[2])}


def measured(page: str) -> dict[str, dict]:
    """The run times and slowest cell of each notebook in a timings page, by notebook name."""
    rows = {}
    for m in re.finditer(
        r"^\| (\d\d\w?-[\w-]+) \| ([^|]+) \| [\d.]+ min \((\d+) s\) \| [\d.]+ min \((\d+) s\) "
        r"\| [^|]* \| ([^|]*) \|",
        page,
        re.M,
    ):
        slowest = m[5].split(";")[0].strip()
        rows[m[1]] = {
            "passages": m[2].strip(),
            "full": int(m[3]),
            "quick": int(m[4]),
            "slowest": slowest,
        }
    return rows


def estimate_section(paths: list[Path]) -> str:
    """The page's section of teaching minutes: the budgets beside the rule's estimate."""
    lines = [
        ESTIMATE_START,
        "## Teaching minutes: the budgets and an estimate from the text",
        "",
        "The budgets are each notebook's own (its first cell; the instructor guide and the",
        "schedule copy them). The estimate is a rule applied to the text, not a pilot's",
        f"observation: {ESTIMATE_RULE}. It says where a budget is tight; a pilot with two or",
        "three volunteers is what settles the minutes.",
        "",
        "| notebook | budget: teaching | estimate: teaching | words | code lines | questions |"
        " budget: exercises | estimate: exercises | exercises (warm-up/core/stretch) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for path in paths:
        b, e = budget(path), estimate(path)
        lines.append(
            f"| {path.stem} | {b['teaching']} min | {e['teaching']} min | {e['words']:,} | "
            f"{e['code_lines']} | {e['questions']} | {b['exercises']} min | "
            f"{e['exercise_minutes']} min | {e['exercises']} |"
        )
    return "\n".join([*lines, ESTIMATE_END])


ESTIMATE_START = "<!-- estimate: generated by bench/timings.py; do not edit -->"
ESTIMATE_END = "<!-- end of the estimate -->"
GUIDE_START = (
    "<!-- minutes: generated by bench/timings.py from the notebooks' time budgets and"
    " docs/timings.md (uv run python bench/timings.py --docs-only); do not edit -->"
)
GUIDE_END = "<!-- end of the generated minutes -->"


def hours(minutes: int) -> str:
    return f"{minutes // 60} h {minutes % 60} min" if minutes >= 60 else f"{minutes} min"


def guide_block(paths: list[Path], page: str) -> str:
    """docs/instructor-guide.md's minutes table: budgets, run times and the slowest cell."""
    times = measured(page)
    lines = [
        GUIDE_START,
        "| notebook | teaching | exercises | run time, full size | slowest cell at full size |",
        "| --- | --- | --- | --- | --- |",
    ]
    teaching = exercises = 0
    for path in paths:
        b, t = budget(path), times.get(path.stem)
        teaching, exercises = teaching + b["teaching"], exercises + b["exercises"]
        if t is None:  # a notebook bench/timings.py has not timed yet
            lines.append(
                f"| {b['title']} | {b['teaching']} min | {b['exercises']} min | not measured | |"
            )
            continue
        lines.append(
            f"| {b['title']} ({t['passages']}) | {b['teaching']} min | {b['exercises']} min | "
            f"about {max(1, round(t['full'] / 60))} min ({t['full']} s) | {t['slowest']} |"
        )
    lines += [
        "",
        f"Total: about {hours(teaching)} of teaching and {hours(exercises)} of exercises, "
        "plus breaks.",
        GUIDE_END,
    ]
    return "\n".join(lines)


def schedule_block(paths: list[Path], page: str) -> str:
    """docs/schedule.md's minutes table and its run-time range."""
    times = measured(page)
    lines = [
        GUIDE_START,
        "| notebook | teaching | exercises | together |",
        "| --- | --- | --- | --- |",
    ]
    teaching = exercises = 0
    for path in paths:
        b = budget(path)
        teaching, exercises = teaching + b["teaching"], exercises + b["exercises"]
        lines.append(
            f"| {b['title']} | {b['teaching']} | {b['exercises']} | "
            f"{b['teaching'] + b['exercises']} |"
        )
    both = teaching + exercises
    lines.append(
        f"| **total** | **{teaching}** ({hours(teaching)}) | **{exercises}** ({hours(exercises)}) "
        f"| **{both}** ({hours(both)}) |"
    )
    full = [times[p.stem]["full"] for p in paths if p.stem in times]
    lines += [
        "",
        f"Run times at full size: {min(full)} s to {max(full)} s a notebook on the project's",
        "2-core test machine, from an empty cache ([timings](timings.md)).",
        GUIDE_END,
    ]
    return "\n".join(lines)


def replaced(text: str, block: str, start: str, end: str) -> str:
    """``text`` with the part from ``start`` to ``end`` (markers included) replaced by ``block``."""
    if start not in text or end not in text:
        raise SystemExit(f"the markers {start!r} … {end!r} are missing")
    head, rest = text.split(start, 1)
    return head + block + rest.split(end, 1)[1]


def write_docs(page_path: Path, root: Path = ROOT) -> None:
    """Rewrite the page's estimate section and the guide's and schedule's minutes tables."""
    page = page_path.read_text(encoding="utf-8")
    section = estimate_section(kit_notebooks())
    if ESTIMATE_START in page:
        page = replaced(page, section, ESTIMATE_START, ESTIMATE_END)
    else:
        page = page.rstrip("\n") + "\n\n" + section + "\n"
    page_path.write_text(page, encoding="utf-8")
    workshop = workshop_notebooks()
    for name, make in (("instructor-guide.md", guide_block), ("schedule.md", schedule_block)):
        doc = root / "docs" / name
        text = doc.read_text(encoding="utf-8")
        doc.write_text(
            replaced(text, make(workshop, page), GUIDE_START, GUIDE_END), encoding="utf-8"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "timings.md")
    parser.add_argument("--skip-full", action="store_true", help="quick mode only")
    parser.add_argument(
        "--only", default="", help="notebooks whose names start so, comma-separated (07)"
    )
    parser.add_argument(
        "--docs-only",
        action="store_true",
        help="no runs: rewrite the estimate and the guide's and schedule's tables from the page",
    )
    args = parser.parse_args()
    if args.docs_only:
        write_docs(args.out)
        return
    only = tuple(p for p in args.only.split(",") if p)
    full = None if args.skip_full else run_course(quick=False, only=only)
    quick = run_course(quick=True, only=only)
    if only and args.out.exists():
        page = merged(args.out.read_text(encoding="utf-8"), full, quick)
    else:
        page = table(full, quick)
    args.out.write_text(page, encoding="utf-8")
    write_docs(args.out)
    print(args.out.read_text(encoding="utf-8"))


if __name__ == "__main__":
    sys.exit(main())
