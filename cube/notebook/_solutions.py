"""Exercise solutions: one source, two versions of each notebook.

The course's notebooks hold each exercise's solution in cells tagged ``solution``. Learners get
a version without them (so "Run All" runs no solution and a handout shows none), and the
solutions stay one folder away (``cube lab`` writes them to ``solutions/``; ``cube render
--solutions`` renders the instructor's version). The tests run the full source, so no solution
rots.

Cells tagged ``check`` hold the asserts that tie a notebook's prose to its data (a count, a
share, a year the text states): every run executes them, so the suite fails when the data or
the code changes under the prose; readers see neither them in handouts nor in their copies.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SOLUTION_TAG = "solution"
CHECK_TAG = "check"
SOLUTIONS_DIR = "solutions"


def is_solution(cell: Any) -> bool:
    """True for a cell tagged ``solution``."""
    return SOLUTION_TAG in (cell.get("metadata", {}).get("tags") or [])


def is_check(cell: Any) -> bool:
    """True for a cell tagged ``check`` (asserts about the prose, for the tests)."""
    return CHECK_TAG in (cell.get("metadata", {}).get("tags") or [])


def strip_checks(nb: Any) -> int:
    """Remove the ``check`` cells from a notebook, in place; returns how many."""
    cells = nb.get("cells", [])
    kept = [c for c in cells if not is_check(c)]
    nb["cells"] = kept
    return len(cells) - len(kept)


def strip_solutions(nb: Any) -> int:
    """Remove the solution cells from a notebook (an nbformat node or a dict), in place, with the
    ``check`` cell that follows a solution (it holds the solution's numbers, which are gone).

    Returns how many solution cells were removed.

    Example:
        >>> strip_solutions(nb)
        3
    """
    cells = nb.get("cells", [])
    kept = [
        c
        for i, c in enumerate(cells)
        if not is_solution(c) and not (is_check(c) and i and is_solution(cells[i - 1]))
    ]
    removed = sum(1 for c in cells if is_solution(c))
    nb["cells"] = kept
    return removed


def learner_bytes(path: Path) -> bytes:
    """The learner's version of the notebook at ``path``: its bytes without solution and
    check cells.

    A notebook with neither is returned byte for byte.
    """
    raw = path.read_bytes()
    try:
        nb = json.loads(raw)
    except ValueError:
        return raw
    if not isinstance(nb, dict) or not any(
        is_solution(c) or is_check(c) for c in nb.get("cells", [])
    ):
        return raw
    strip_solutions(nb)
    strip_checks(nb)
    return (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def has_solutions(path: Path) -> bool:
    try:
        nb = json.loads(path.read_bytes())
    except ValueError:
        return False
    return isinstance(nb, dict) and any(is_solution(c) for c in nb.get("cells", []))
