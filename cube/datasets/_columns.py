"""Checking and reading a table's columns: the time column, the class column, any named one.

Every problem raises :class:`~cube._errors.InputError` with one line naming the source, the
column and the rows, before any long work starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from cube._errors import InputError
from cube.datasets._tables import format_rows


def require_column(frame: pd.DataFrame, column: str, option: str, source: str) -> None:
    """An error naming the table's columns when ``column`` (given with ``option``) is absent."""
    if column not in frame.columns:
        columns = ", ".join(repr(str(c)) for c in frame.columns[:20])
        raise InputError(
            f"{source} has no column {column!r} for {option}; its columns are {columns}"
        )


def _require_filled(values: pd.Series, source: str, what: str, fix: str = "") -> None:
    empty = [i + 1 for i, v in enumerate(values) if pd.isna(v) or str(v).strip() == ""]
    if empty:
        raise InputError(
            f"{source}: {len(empty)} values of {what} are empty (rows {format_rows(empty)}){fix}"
        )


def parse_times(values: Sequence[Any]) -> tuple[list[Any], list[int]]:
    """Years as ints, anything else as pandas Timestamps; also the rows (1-based) that are neither.

    Example:
        >>> parse_times([1999, "2001"])
        ([1999, 2001], [])
    """
    series = pd.Series(list(values), dtype=object)
    numeric = pd.to_numeric(series, errors="coerce")
    if numeric.notna().all() and (numeric % 1 == 0).all():
        return [int(v) for v in numeric], []
    parsed = pd.to_datetime(series.astype(str), errors="coerce", format="mixed")
    bad = [i + 1 for i, ok in enumerate(parsed.notna()) if not ok]
    return list(parsed), bad


def time_values(frame: pd.DataFrame, column: str, source: str) -> list[Any]:
    """The time column: years (whole numbers) stay numbers; anything else must parse as dates.

    Example:
        >>> time_values(pd.DataFrame({"year": [1790, 1791]}), "year", "speeches.csv")
        [1790, 1791]
    """
    require_column(frame, column, "--time-column", source)
    _require_filled(frame[column], source, f"time column {column!r}")
    parsed, bad = parse_times(frame[column])
    if bad:
        raise InputError(
            f"{source}: time column {column!r} has values that are neither years nor dates "
            f"(rows {format_rows(bad)}); use e.g. 1999 or 1999-12-31"
        )
    return parsed


def class_values(frame: pd.DataFrame, column: str, source: str) -> list[str]:
    """The class column as strings; empty values are an error."""
    require_column(frame, column, "--class-column", source)
    _require_filled(
        frame[column], source, f"class column {column!r}", "; fill them, e.g. with 'unknown'"
    )
    return [str(v) for v in frame[column]]
