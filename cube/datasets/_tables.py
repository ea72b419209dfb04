"""Reading users' tables of texts (CSV, TSV, Parquet, JSONL, TXT) with clear messages.

Every problem a user can fix raises :class:`~cube._errors.InputError` with one line that
names the file, what is wrong, and what to do.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import json
import os
from pathlib import Path

import pandas as pd

from cube._errors import InputError
from cube.datasets._checks import DUPLICATES_ATTR, format_rows, require_column

FORMATS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".txt": "txt",
}
DELIMITERS = (",", ";", "\t", "|")  # what a .csv may be separated by (its header decides)
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def _format_of(path: Path) -> tuple[str, bool]:
    suffixes = [s.lower() for s in path.suffixes]
    compressed = bool(suffixes) and suffixes[-1] == ".gz"
    ext = suffixes[-2] if compressed and len(suffixes) > 1 else (suffixes[-1] if suffixes else "")
    if ext not in FORMATS:
        known = ", ".join(sorted(FORMATS))
        shown = ext or "(no extension)"
        raise InputError(f"{path}: unsupported format {shown}; use one of {known} (optionally .gz)")
    return FORMATS[ext], compressed


def _decode(path: Path, raw: bytes, encoding: str | None, first_line: int) -> str:
    """Bytes to text; names the line of the first undecodable byte."""
    if encoding:
        try:
            return raw.decode(encoding)
        except LookupError as exc:
            raise InputError(f"unknown encoding {encoding!r}; try utf-8 or latin-1") from exc
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + first_line
            raise InputError(
                f"{path}: line {line} cannot be read as {encoding}; try another encoding="
            ) from exc
    if raw.startswith(_UTF16_BOMS):  # UTF-16 with its byte-order mark (Excel's "Unicode text")
        try:
            return raw.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise InputError(
                f"{path} starts like UTF-16 but is not valid UTF-16; save it as UTF-8"
            ) from exc
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + first_line
        raise InputError(
            f"{path}: line {line} is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); "
            "pass its encoding, e.g. encoding='latin-1'"
        ) from exc


def _read_bytes(path: Path, compressed: bool) -> bytes:
    try:
        raw = path.read_bytes()
    except IsADirectoryError as exc:
        raise InputError(f"{path} is a folder; pass a file") from exc
    except PermissionError as exc:
        raise InputError(f"{path} cannot be read (permission denied)") from exc
    if compressed:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise InputError(f"{path} is not a valid .gz file") from exc
    return raw


def _looks_binary(raw: bytes) -> bool:
    sample = raw[:8192]
    return b"\0" in sample and not raw.startswith(_UTF16_BOMS)


def _looks_utf16(raw: bytes) -> str | None:
    """``utf-16-le``/``-be`` for BOM-less UTF-16 of mostly ASCII text (every other byte NUL)."""
    sample = raw[:8192]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def sniff_delimiter(text: str) -> str:
    """The separator of a .csv: whichever of , ; TAB | occurs most in its header line.

    Ties and a header without any of them mean a comma.

    Example:
        >>> sniff_delimiter("id;text\n1;Bonjour, le monde\n")
        ';'
    """
    header = text.split("\n", 1)[0]
    return max(DELIMITERS, key=header.count)  # the first wins a tie: the comma


def _header(text: str, sep: str) -> list[str]:
    try:
        return next(csv.reader(io.StringIO(text), delimiter=sep))
    except (StopIteration, csv.Error):
        return []


def _read_jsonl(path: Path, text: str) -> pd.DataFrame:
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except ValueError as exc:
            raise InputError(
                f"{path}: line {number} is not valid JSON ({exc.msg}); each line must be "
                "one JSON object"
            ) from exc
        if not isinstance(record, dict):
            raise InputError(f"{path}: line {number} is not a JSON object ({{...}})")
        records.append(record)
    return pd.DataFrame.from_records(records)


def _read_delimited(path: Path, text: str, sep: str) -> pd.DataFrame:
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False
        )
    except pd.errors.EmptyDataError as exc:
        raise InputError(f"{path} is empty; it needs a header row and one row per text") from exc
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().splitlines()[-1]
        raise InputError(f"{path} is not well-formed CSV: {detail}") from exc
    frame.attrs[DUPLICATES_ATTR] = _repeated_names(text, sep)
    return frame


def _repeated_names(text: str, sep: str) -> list[str]:
    """Header names given twice. pandas renames a repeat to NAME.1, NAME.2: remembered, so that
    choosing one of them as a column is an error instead of a silent pick of the first."""
    names = [name.strip() for name in _header(text, sep)]
    return sorted({n for n in names if n and names.count(n) > 1})


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except ImportError as exc:
        raise InputError("reading Parquet needs pyarrow: pip install pyarrow") from exc
    except Exception as exc:
        raise _unreadable_parquet(path, exc) from exc


def _unreadable_parquet(path: object, exc: Exception) -> InputError:
    return InputError(f"{path} is not a readable Parquet file ({type(exc).__name__})")


def read_table(path: str | os.PathLike, *, encoding: str | None = None) -> pd.DataFrame:
    """Read a CSV, TSV, Parquet, JSONL or TXT file (optionally gzipped) into a DataFrame.

    TXT files hold one text per line (blank lines are skipped) in a column named ``text``.
    A .csv may be separated by commas, semicolons, tabs or bars (its header line decides);
    UTF-8 (with or without a byte-order mark) and UTF-16 with a byte-order mark are read
    without ``encoding``.
    """
    path = Path(path).expanduser()
    kind, compressed = _check_file(path)
    if kind == "parquet" and not compressed:
        return _read_parquet(path)
    raw = _read_bytes(path, compressed)
    if not raw.strip():
        raise InputError(f"{path} is empty")
    if kind == "parquet":
        return _read_parquet(io.BytesIO(raw))  # type: ignore[arg-type]
    if _looks_binary(raw) and encoding is None:
        utf16 = _looks_utf16(raw)
        if utf16:
            raise InputError(
                f"{path} looks like UTF-16 text without a byte-order mark; pass "
                f"encoding='{utf16}', or save it as UTF-8"
            )
        raise InputError(
            f"{path} looks like a binary file, not {kind.upper()} text; check that it is the "
            "right file"
        )
    text = _decode(path, raw, encoding, first_line=1).removeprefix("\ufeff")
    if kind == "jsonl":
        return _read_jsonl(path, text)
    if kind == "txt":
        return pd.DataFrame({"text": [line for line in text.splitlines() if line.strip()]})
    return _read_delimited(path, text, sniff_delimiter(text) if kind == "csv" else "\t")


def validate_texts(
    frame: pd.DataFrame, text_column: str, *, source: str = "the table", first_row: int = 1
) -> None:
    """Raise :class:`InputError` unless ``frame[text_column]`` holds non-empty strings.

    ``first_row``: the number of the frame's first row in its file (a partition's is not 1).
    """
    if frame.empty:
        raise InputError(f"{source} has a header but no rows; add one row per text")
    require_column(frame, text_column, "text_column=", source)
    values = frame[text_column].tolist()
    empty = [i + first_row for i, v in enumerate(values) if _missing(v) or _blank(v)]
    not_strings = [
        i + first_row for i, v in enumerate(values) if not (isinstance(v, str) or _missing(v))
    ]
    if empty:
        some = f"{len(empty)} of {len(values)}" + (" (in this partition)" if first_row > 1 else "")
        raise InputError(
            f"{source}: {some} texts in {text_column!r} are empty or "
            f"missing (rows {format_rows(empty)}, counting from 1 after the header); drop or fill them"
        )
    if not_strings:
        some = f"{len(not_strings)} of {len(values)}" + (
            " (in this partition)" if first_row > 1 else ""
        )
        raise InputError(
            f"{source}: {some} values in {text_column!r} are not "
            f"text (rows {format_rows(not_strings)}); pick the column that holds the documents"
        )


def _blank(value: object) -> bool:
    return isinstance(value, str) and not value.strip()


def _missing(value: object) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def load_table(
    path: str | os.PathLike,
    text_column: str = "text",
    *,
    encoding: str | None = None,
    whole_below: int | None = None,
    rows: int | None = None,
) -> pd.DataFrame:
    """Load a table of documents and check its text column.

    Supports CSV, TSV, Parquet, JSONL (one JSON object per line) and TXT (one text per
    line), each optionally gzipped. Raises :class:`cube.InputError` with a one-line message
    for anything a user must fix: missing file, unknown column, empty or non-text values,
    non-UTF-8 bytes, malformed lines.

    A CSV, TSV, JSONL or Parquet file above ``whole_below`` bytes (default 64 MB) is read ``rows`` rows at a time (default
    :data:`PARTITION_ROWS`, as :func:`read_partitions` reads it) and the partitions joined:
    the file is never held as one string beside its table (a 650 MB CSV took 2.3 GB to load
    whole).

    Example:
        >>> docs = load_table("reviews.csv", text_column="review")
        >>> docs["review"].tolist()[:1]
        ['Great value for the price.']
    """
    if read_in_partitions(path, whole_below):
        parts = [
            as_python_strings(part)
            for part in read_partitions(path, text_column, rows=rows, encoding=encoding)
        ]
        frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        frame.attrs = dict(parts[0].attrs)
        return frame
    return _load_whole(path, text_column, encoding=encoding)


READ_WHOLE_BELOW = 64 * 2**20  # bytes: a larger table file is read a partition at a time


def read_in_partitions(path: str | os.PathLike, whole_below: int | None = None) -> bool:
    """Whether :func:`load_table` reads ``path`` a partition at a time: when it is larger than
    ``whole_below`` bytes (default 64 MB).

    Example:
        >>> read_in_partitions("speeches.csv")
        False
    """
    whole_below = READ_WHOLE_BELOW if whole_below is None else whole_below
    path = Path(path).expanduser()
    return path.is_file() and path.stat().st_size > whole_below


def as_python_strings(part: pd.DataFrame) -> pd.DataFrame:
    """A partition's text columns as Python strings (object dtype), made a partition at a time:
    pandas' Arrow-backed strings would be copied into Python strings again by every
    ``tolist()``, two copies of a large corpus (0.7 GB each at a million passages)."""
    text = part.select_dtypes(include=["string", "str"]).columns
    return part.astype({column: object for column in text}) if len(text) else part


def _load_whole(path: str | os.PathLike, text_column: str, *, encoding: str | None) -> pd.DataFrame:
    """:func:`load_table` of the whole file at once."""
    frame = read_table(path, encoding=encoding)
    if _format_of(Path(path))[0] == "txt":
        text_column = "text"
    validate_texts(frame, text_column, source=str(path))
    return frame.reset_index(drop=True)


PARTITION_ROWS = 50_000  # rows read at a time by read_partitions


def _check_file(path: Path) -> tuple[str, bool]:
    if not path.exists():
        raise InputError(f"{path} does not exist; check the path")
    if path.is_dir():
        raise InputError(f"{path} is a folder; pass a file")
    kind, compressed = _format_of(path)
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty")
    return kind, compressed


def _streamed_batches(path: Path, kind: str, rows: int, encoding: str | None):
    """The file's rows ``rows`` at a time as DataFrames of strings, or None when this format
    is read whole (TXT, gzipped Parquet, UTF-16 and binary-looking files)."""
    if kind == "parquet" and path.suffix.lower() != ".gz":
        import pyarrow.parquet as pq

        try:
            # Without pre_buffer, pyarrow keeps every row group it has read buffered until
            # the end (380 MB of a million passages, the whole file).
            parquet = pq.ParquetFile(path, pre_buffer=False)
        except Exception as exc:
            raise _unreadable_parquet(path, exc) from exc
        return (batch.to_pandas() for batch in parquet.iter_batches(batch_size=rows))
    if kind not in ("csv", "tsv", "jsonl"):
        return None
    with (gzip.open if path.suffix.lower() == ".gz" else open)(path, "rb") as stream:
        start = stream.read(1 << 16)
    if start.startswith(_UTF16_BOMS) or (_looks_binary(start) and encoding is None):
        return None  # read whole: read_table reads UTF-16 and says what else is wrong
    text = start.decode(encoding or "utf-8", errors="ignore").removeprefix("\ufeff")
    options = {"encoding": encoding or "utf-8-sig", "compression": "infer", "chunksize": rows}
    if kind == "jsonl":
        return pd.read_json(path, lines=True, dtype=False, **options)
    sep = sniff_delimiter(text) if kind == "csv" else "\t"
    repeated = _repeated_names(text, sep)

    def batches():
        reader = pd.read_csv(
            path, sep=sep, dtype=str, keep_default_na=False, na_filter=False, **options
        )
        for frame in reader:
            frame.attrs[DUPLICATES_ATTR] = repeated
            yield frame

    return batches()


def read_partitions(
    path: str | os.PathLike,
    text_column: str = "text",
    *,
    rows: int | None = None,
    encoding: str | None = None,
):
    """A table file's rows, ``rows`` at a time (default :data:`PARTITION_ROWS`), each
    partition's texts checked as :func:`load_table` checks them (errors name the row in the
    whole file).

    CSV, TSV and JSONL (also gzipped) and Parquet are read a partition at a time, so memory
    stays flat however long the file is (Parquet: as long as its row groups are small, since
    pyarrow decodes a row group whole); TXT, gzipped Parquet and UTF-16 files are read whole,
    then handed out in partitions.

    Example:
        >>> for part in read_partitions("archive.parquet", "body", rows=50_000):
        ...     cube.embed(part["body"].tolist())
    """
    rows = PARTITION_ROWS if rows is None else rows
    if rows < 1:
        raise InputError(f"rows must be 1 or more, not {rows}")
    path = Path(path).expanduser()
    kind, _ = _check_file(path)
    batches = _streamed_batches(path, kind, rows, encoding)
    if batches is None:
        whole = _load_whole(path, text_column, encoding=encoding)
        batches = (whole.iloc[i : i + rows] for i in range(0, len(whole), rows))
        kind = "whole"
    if kind == "txt":
        text_column = "text"
    first_row, seen = 1, False
    try:
        for frame in batches:
            frame = frame.reset_index(drop=True)
            if kind != "whole":
                validate_texts(frame, text_column, source=str(path), first_row=first_row)
            seen = True
            yield frame
            first_row += len(frame)
    except UnicodeDecodeError as exc:
        _name_the_line(path, encoding, exc)
        raise InputError(
            f"{path}: a line among rows {first_row} to {first_row + rows - 1} cannot be read "
            f"as {encoding or 'UTF-8'}; pass another encoding="
        ) from exc
    except pd.errors.ParserError as exc:
        _name_the_line(path, encoding, exc)
        detail = str(exc).strip().splitlines()[-1]
        raise InputError(f"{path} is not well-formed CSV: {detail}") from exc
    except ValueError as exc:
        if kind != "jsonl":
            raise
        _name_the_line(path, encoding, exc)
        raise InputError(
            f"{path}: a line among rows {first_row} to {first_row + rows - 1} is not valid "
            f"JSON ({exc}); each line must be one JSON object"
        ) from exc

    if not seen:
        raise InputError(f"{path} has a header but no rows; add one row per text")


_WHOLE_FILE_FOR_ERRORS = 256 * 2**20  # bytes: a file this small is read again to name the line


def _name_the_line(path: Path, encoding: str | None, exc: Exception) -> None:
    """For a file small enough, read it whole as :func:`read_table` does, whose error names the
    exact line; a larger file keeps the partition's coarser message."""
    if path.stat().st_size <= _WHOLE_FILE_FOR_ERRORS:
        try:
            read_table(path, encoding=encoding)
        except InputError as precise:
            raise precise from exc
