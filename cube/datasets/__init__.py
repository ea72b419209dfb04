"""Corpora: the bundled State of the Union passages and mailing-list mail, and users' own tables.

Example:
    >>> from cube import datasets
    >>> docs = datasets.load("sotu", sample=2000)
    >>> docs.columns.tolist()
    ['year', 'decade', 'president', 'party', 'speech', 'passage', 'text']
"""

from __future__ import annotations

import pandas as pd

from cube._errors import InputError
from cube._public import rehome
from cube._texts import TextsOnDisk
from cube.datasets._checks import format_rows, require_column
from cube.datasets._columns import class_values, parse_times, time_values
from cube.datasets._synthetic import synthetic_passages
from cube.datasets._tables import (
    PARTITION_ROWS,
    as_python_strings,
    load_table,
    read_in_partitions,
    read_partitions,
    read_table,
    validate_texts,
)

NAMES = ("sotu", "mailing-lists", "sotu-synthetic")
_FILES = {"mailing-lists": "mailing-lists.parquet"}


def load(name: str = "sotu", sample: int | None = None, seed: int = 0) -> pd.DataFrame:
    """A bundled corpus as a DataFrame with a ``text`` column.

    ``"sotu"``: State of the Union addresses (1790–2021) in passages of four sentences, with
    ``year``, ``decade``, ``president`` and ``party``. ``"mailing-lists"``: 2,335 mails to eight
    open-source and technology mailing lists in 2002 (the SpamAssassin public corpus's ham), with
    ``date``, ``list`` and ``subject`` (see ``cube/datasets/data/PROVENANCE.md``). ``sample``
    draws that many rows at random, reproducibly for a given ``seed``, in their original order.
    ``"sotu-synthetic"``: ``sample`` (required) unique passages recombined from the speeches'
    sentences decade by decade, for scale tests (see :func:`synthetic_passages`).

    Example:
        >>> load("sotu", sample=500)["decade"].min() >= 1790
        True
    """
    if name not in NAMES:
        raise InputError(f"unknown dataset {name!r}; the bundled ones are: {', '.join(NAMES)}")
    if name == "sotu-synthetic":
        if sample is None:
            raise InputError("sotu-synthetic needs sample=, the number of passages to make")
        return synthetic_passages(sample, seed=seed)
    from cube.datasets._sotu import DATA_FILE, load_bundled

    path = DATA_FILE.with_name(_FILES[name]) if name in _FILES else DATA_FILE
    return load_bundled(path, sample=sample, seed=seed)


__all__ = [
    "NAMES",
    "PARTITION_ROWS",
    "TextsOnDisk",
    "as_python_strings",
    "class_values",
    "format_rows",
    "load",
    "load_table",
    "parse_times",
    "read_in_partitions",
    "read_partitions",
    "read_table",
    "require_column",
    "synthetic_passages",
    "time_values",
    "validate_texts",
]

rehome(globals(), __all__, __name__)
