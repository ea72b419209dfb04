"""What every table check shares: rows named in messages, and columns that must be there.

Example:
    >>> format_rows([3, 9])
    '3, 9'
"""

from __future__ import annotations

import pandas as pd

from cube._errors import InputError

_SHOWN_ROWS = 8
DUPLICATES_ATTR = "cube_duplicate_columns"  # frame.attrs: header names given more than once


def format_rows(rows: list[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:_SHOWN_ROWS])
    return shown + (f" and {len(rows) - _SHOWN_ROWS} more" if len(rows) > _SHOWN_ROWS else "")


def require_column(frame: pd.DataFrame, column: str, parameter: str, source: str) -> None:
    """An error naming the table's columns when ``column`` (named by ``parameter``, e.g. ``"time_column="``) is absent.

    Names match exactly (spaces, case and non-ASCII letters included); a near miss is named in
    the error. A name the header repeats is an error too: which column was meant is unclear.
    """
    if column in frame.attrs.get(DUPLICATES_ATTR, ()):
        raise InputError(
            f"{source}: the header names more than one column {column!r}; rename them so that "
            f"{parameter} names one"
        )
    if column not in frame.columns:
        wanted = " ".join(str(column).split()).casefold()
        near = [c for c in frame.columns if " ".join(str(c).split()).casefold() == wanted]
        if near:
            raise InputError(
                f"{source} has no column {column!r} for {parameter}; did you mean {str(near[0])!r}? "
                "(names must match exactly, spaces and case included)"
            )
        columns = ", ".join(repr(str(c)) for c in frame.columns[:20])
        raise InputError(
            f"{source} has no column {column!r} for {parameter}; its columns are {columns}"
        )
