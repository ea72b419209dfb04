"""Checking and reading a table's columns: the time column, the class column, any named one.

Every problem raises :class:`~cube._errors.InputError` with one line naming the source, the
column and the rows, before any long work starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from cube._errors import InputError
from cube.datasets._checks import format_rows, require_column


def _require_filled(values: pd.Series, source: str, what: str, fix: str = "") -> None:
    empty = [i + 1 for i, v in enumerate(values) if pd.isna(v) or str(v).strip() == ""]
    if empty:
        raise InputError(
            f"{source}: {len(empty)} values of {what} are empty (rows {format_rows(empty)}){fix}"
        )


MAX_YEAR = 9999
# Numbers too large for years are Unix times: seconds (1973 to 5138), or milliseconds.
_UNIX_SECONDS = (1e8, 1e11)
_UNIX_MILLISECONDS = (1e11, 1e14)


def _number_kind(value: float) -> str | None:
    if value % 1 == 0 and abs(value) <= MAX_YEAR:
        return "year"
    if _UNIX_SECONDS[0] <= value < _UNIX_SECONDS[1]:
        return "s"
    if _UNIX_MILLISECONDS[0] <= value < _UNIX_MILLISECONDS[1]:
        return "ms"
    return None


def parse_times(values: Sequence[Any]) -> tuple[list[Any], list[int]]:
    """Years as ints, anything else as pandas Timestamps; also the rows (1-based) that are neither.

    Whole numbers up to 9999 are years; larger numbers are Unix times (seconds, or
    milliseconds from 1e11 on), all of one kind. Any text pandas reads as a date is a date,
    in mixed formats too (``03/07/2020`` is March 7). Times with a zone or offset are turned
    into UTC; times without one are taken as UTC. Dates in the future are kept as they are.

    Example:
        >>> parse_times([1999, "2001"])
        ([1999, 2001], [])
    """
    series = pd.Series(list(values), dtype=object)
    numeric = pd.to_numeric(series, errors="coerce")
    if len(series) and numeric.notna().all():
        kinds = [_number_kind(float(v)) for v in numeric]
        common = max(("year", "s", "ms", None), key=kinds.count)
        bad = [i + 1 for i, kind in enumerate(kinds) if kind != common or kind is None]
        if bad:
            return list(series), bad
        if common == "year":
            return [int(v) for v in numeric], []
        return list(pd.to_datetime(numeric, unit=common)), []
    parsed = pd.to_datetime(series.astype(str), errors="coerce", format="mixed", utc=True)
    bad = [i + 1 for i, ok in enumerate(parsed.notna()) if not ok]
    return list(parsed.dt.tz_localize(None)), bad


def time_values(frame: pd.DataFrame, column: str, source: str) -> list[Any]:
    """The time column: years (whole numbers) stay numbers; anything else must parse as dates.

    Example:
        >>> time_values(pd.DataFrame({"year": [1790, 1791]}), "year", "speeches.csv")
        [1790, 1791]
    """
    require_column(frame, column, "time_column=", source)
    _require_filled(frame[column], source, f"time column {column!r}")
    parsed, bad = parse_times(frame[column])
    if bad:
        raise InputError(
            f"{source}: time column {column!r} has values that are neither years nor dates "
            f"(rows {format_rows(bad)}); use years (1999), dates (1999-12-31) or Unix times "
            "in seconds, one kind for the whole column"
        )
    return parsed


def class_values(frame: pd.DataFrame, column: str, source: str) -> list[str]:
    """The class column as strings; empty values are an error."""
    require_column(frame, column, "class_column=", source)
    _require_filled(
        frame[column], source, f"class column {column!r}", "; fill them, e.g. with 'unknown'"
    )
    return [str(v) for v in frame[column]]
