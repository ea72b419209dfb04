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
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import cube
from cube.notebook import execute, kit_notebooks

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
    "07-when-the-corpus-outgrows-the-laptop": ("200,000 synthetic and 15,825 / 2,000 and 2,000"),
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "timings.md")
    parser.add_argument("--skip-full", action="store_true", help="quick mode only")
    parser.add_argument(
        "--only", default="", help="notebooks whose names start so, comma-separated (07)"
    )
    args = parser.parse_args()
    only = tuple(p for p in args.only.split(",") if p)
    full = None if args.skip_full else run_course(quick=False, only=only)
    quick = run_course(quick=True, only=only)
    if only and args.out.exists():
        page = merged(args.out.read_text(encoding="utf-8"), full, quick)
    else:
        page = table(full, quick)
    args.out.write_text(page, encoding="utf-8")
    print(page)


if __name__ == "__main__":
    sys.exit(main())
