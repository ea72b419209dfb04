"""`cube topics` on real-world input: every case has a defined behaviour, decided before the long work.

Each case of ``CASES`` either is accepted (with the interpretation its check asserts) or fails
with one line, exit code 2. The table runs the CLI in-process with the long work (`_work`, which
starts with the first embedding) replaced by a stop: an accepted case reaches it, a refused one
must fail before it. A few slow tests run the whole job, or real processes (SIGTERM, two runs at
once). ``python tests/test_bad_inputs.py`` prints the cases as a Markdown table.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest

from cube.cli import main
from cube.pipeline import _job, _output, _plan

N_DOCS = 60


# -- the table -----------------------------------------------------------------------------
@dataclass
class Case:
    behaviour: str  # what cube does, in words (the README table)
    make: Callable[[Path, list[str]], list[str]]  # writes input under a folder; returns argv
    error: str | None = None  # a regex on the one error line; None: accepted
    check: Callable[[_job.Plan, Path], None] | None = None  # what an accepted case means
    env: Callable[[Path], dict[str, str]] | None = None  # environment variables to set
    needs: str | None = None  # "tmpfs" or "browser probe"


def frame(texts: list[str], **columns) -> pd.DataFrame:
    return pd.DataFrame({"text": texts, **columns})


def csv(path: Path, data: pd.DataFrame | str | bytes, **options) -> list[str]:
    if isinstance(data, pd.DataFrame):
        data = data.to_csv(index=False, **options)
    path.write_bytes(data if isinstance(data, bytes) else data.encode())
    return [str(path)]


_TEXTS: list[str] = []  # the input texts of the running case (set by the test)


def original(plan, d):
    assert plan.docs == _TEXTS, plan.docs[:2]


def with_commas(texts: list[str]) -> list[str]:
    return [f"{t}, and; more" for t in texts]


def same(expected: Callable[[list[str]], list[str]]):
    def check(plan, d):
        assert plan.docs == expected(_TEXTS), plan.docs[:2]

    return check


def count_only(plan, d):
    assert len(plan.docs) == N_DOCS


def time_case(values: list, expected: list | None = None) -> dict:
    def make(d, texts):
        return [*csv(d / "t.csv", frame(texts, when=values)), "--time-column", "when"]

    def check(plan, d):
        original(plan, d)
        got = [str(v) for v in plan.timestamps]
        assert got == [str(v) for v in expected], got[:4]

    return {"make": make, "check": check if expected is not None else None}


def class_case(values: list, check=None) -> dict:
    def make(d, texts):
        return [*csv(d / "t.csv", frame(texts, group=values)), "--class-column", "group"]

    return {"make": make, "check": check}


def quoted(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def cycle(values: list, n: int = N_DOCS) -> list:
    return [values[i % len(values)] for i in range(n)]


def utf16_no_bom(d: Path, texts: list[str]) -> bytes:
    return frame(texts).to_csv(index=False).encode("utf-16-le")


def out_symlink(d: Path, texts: list[str]) -> list[str]:
    (d / "real").mkdir()
    (d / "link").symlink_to(d / "real")
    return [*csv(d / "t.csv", frame(texts)), "--out", str(d / "link")]


def out_dangling(d: Path, texts: list[str]) -> list[str]:
    (d / "link").symlink_to(d / "elsewhere")
    return [*csv(d / "t.csv", frame(texts)), "--out", str(d / "link")]


def out_holds_input(d: Path, texts: list[str]) -> list[str]:
    data = d / "data"
    data.mkdir()
    return [*csv(data / "t.csv", frame(texts)), "--out", str(data), "--force"]


def fill(folder: Path) -> list[str]:
    """Fill the file system of ``folder`` to the last byte (no arguments to add)."""
    with open(folder / "filler", "wb", buffering=0) as f:
        for size in (65536, 1):
            with contextlib.suppress(OSError):
                while True:
                    f.write(b"\0" * size)
    return []


def sleeping_browser(d: Path) -> str:
    script = d / "chrome-that-sleeps"
    script.write_text("#!/bin/sh\nsleep 600\n")
    script.chmod(0o755)
    return str(script)


CASES: dict[str, Case] = {
    # separators, encodings, line endings
    "semicolon-separated .csv": Case(
        "accepted: the separator is whichever of , ; TAB | the header line has most",
        lambda d, t: csv(d / "t.csv", frame(with_commas(t), id=range(N_DOCS)), sep=";"),
        check=lambda plan, d: plan.docs == with_commas(_TEXTS) or pytest.fail(plan.docs[0]),
    ),
    "tab-separated .csv": Case(
        "accepted: tab-separated",
        lambda d, t: csv(d / "t.csv", frame(t, id=range(N_DOCS)), sep="\t"),
        check=original,
    ),
    "bar-separated .csv": Case(
        "accepted: |-separated",
        lambda d, t: csv(d / "t.csv", frame(t, id=range(N_DOCS)), sep="|"),
        check=original,
    ),
    "comma .csv whose texts hold semicolons": Case(
        "accepted: commas, as the header says",
        lambda d, t: csv(d / "t.csv", frame(with_commas(t), id=range(N_DOCS))),
        check=lambda plan, d: plan.docs == with_commas(_TEXTS) or pytest.fail(plan.docs[0]),
    ),
    "UTF-8 with BOM": Case(
        "accepted: the byte-order mark is dropped (the first column keeps its name)",
        lambda d, t: csv(d / "t.csv", codecs.BOM_UTF8 + frame(t).to_csv(index=False).encode()),
        check=original,
    ),
    "UTF-8 with BOM and --encoding utf-8": Case(
        "accepted: the byte-order mark is dropped",
        lambda d, t: [
            *csv(d / "t.csv", codecs.BOM_UTF8 + frame(t).to_csv(index=False).encode()),
            "--encoding",
            "utf-8",
        ],
        check=original,
    ),
    "UTF-16 LE with BOM": Case(
        "accepted: UTF-16 recognised by its byte-order mark",
        lambda d, t: csv(d / "t.csv", frame(t).to_csv(index=False).encode("utf-16")),
        check=original,
    ),
    "UTF-16 BE with BOM (TSV)": Case(
        "accepted: UTF-16 recognised by its byte-order mark",
        lambda d, t: csv(
            d / "t.tsv",
            codecs.BOM_UTF16_BE + frame(t).to_csv(index=False, sep="\t").encode("utf-16-be"),
        ),
        check=original,
    ),
    "UTF-16 without BOM": Case(
        "error: names the encoding to pass (--encoding utf-16-le)",
        lambda d, t: csv(d / "t.csv", utf16_no_bom(d, t)),
        error=r"UTF-16 text without a byte-order mark; pass --encoding utf-16-le",
    ),
    "UTF-16 without BOM, --encoding utf-16-le": Case(
        "accepted: as told",
        lambda d, t: [*csv(d / "t.csv", utf16_no_bom(d, t)), "--encoding", "utf-16-le"],
        check=original,
    ),
    "Latin-1 bytes without --encoding": Case(
        "error: names the line and suggests --encoding latin-1",
        lambda d, t: csv(
            d / "t.csv", frame([*t[:-1], "café"]).to_csv(index=False).encode("latin-1")
        ),
        error=r"line \d+ is not valid UTF-8 .*--encoding latin-1",
    ),
    "Windows line endings (CSV)": Case(
        "accepted: CRLF is a line break; no stray \\r in the texts",
        lambda d, t: csv(d / "t.csv", frame(t, id=range(N_DOCS)), lineterminator="\r\n"),
        check=original,
    ),
    "Windows line endings (TXT)": Case(
        "accepted: one text per line, CRLF or LF",
        lambda d, t: csv(d / "t.txt", "\r\n".join(t) + "\r\n"),
        check=original,
    ),
    "quoted newlines": Case(
        "accepted: a quoted field spans lines; the text keeps its line breaks",
        lambda d, t: csv(d / "t.csv", frame([x.replace(". ", ".\n", 1) for x in t])),
        check=lambda plan, d: (
            plan.docs == [x.replace(". ", ".\n", 1) for x in _TEXTS] or pytest.fail("changed")
        ),
    ),
    # column names
    "column named with spaces": Case(
        "accepted: named exactly (--text-column 'review text')",
        lambda d, t: [
            *csv(d / "t.csv", pd.DataFrame({"review text": t})),
            "--text-column",
            "review text",
        ],
        check=original,
    ),
    "non-ASCII column name": Case(
        "accepted: named exactly (--text-column 'Überschrift 評論')",
        lambda d, t: [
            *csv(d / "t.csv", pd.DataFrame({"Überschrift 評論": t})),
            "--text-column",
            "Überschrift 評論",
        ],
        check=original,
    ),
    "column name differs in case or spaces": Case(
        "error: no such column; did you mean the near one",
        lambda d, t: [
            *csv(d / "t.csv", pd.DataFrame({" Review Text": t})),
            "--text-column",
            "review text",
        ],
        error=r"no column 'review text' for --text-column; did you mean ' Review Text'\?",
    ),
    "duplicate column names, one of them chosen": Case(
        "error: the header names more than one such column; rename them",
        lambda d, t: csv(
            d / "t.csv", pd.DataFrame([[x, "b"] for x in t], columns=["text", "text"])
        ),
        error=r"the header names more than one column 'text'",
    ),
    "duplicate column names, another one chosen": Case(
        "accepted: the repeated names are not used",
        lambda d, t: [
            *csv(d / "t.csv", pd.DataFrame([[1, 2, x] for x in t], columns=["x", "x", "body"])),
            "--text-column",
            "body",
        ],
        check=original,
    ),
    "numeric text column (CSV)": Case(
        "error: no words left once stop words and numbers are removed",
        lambda d, t: csv(d / "t.csv", frame([str(i * 7.5) for i in range(N_DOCS)])),
        error=r"no words left once stop words and numbers are removed",
    ),
    "numeric text column (JSONL numbers)": Case(
        "error: the values are not text",
        lambda d, t: csv(
            d / "t.jsonl", "".join(json.dumps({"text": i}) + "\n" for i in range(N_DOCS))
        ),
        error=r"60 of 60 values in 'text' are not text",
    ),
    # texts
    "all texts identical": Case(
        "error: needs at least 50 different texts",
        lambda d, t: csv(d / "t.csv", frame([t[0]] * N_DOCS)),
        error=r"hold only 1 different ones; topic modeling needs at least 50 different texts",
    ),
    "60 rows, 30 different texts": Case(
        "error: needs at least 50 different texts",
        lambda d, t: csv(d / "t.csv", frame(t[:30] * 2)),
        error=r"hold only 30 different ones",
    ),
    "texts of stop words only": Case(
        "error: no words left",
        lambda d, t: csv(d / "t.csv", frame([f"the and of it {i} is was" for i in range(N_DOCS)])),
        error=r"no words left",
    ),
    "texts of numbers only": Case(
        "error: no words left",
        lambda d, t: csv(d / "t.csv", frame([f"{i} {i * 3}.5 -{i}" for i in range(N_DOCS)])),
        error=r"no words left",
    ),
    "texts of emoji only": Case(
        "error: no words left",
        lambda d, t: csv(d / "t.csv", frame(["😀🎉" * (i + 1) + " 👍" for i in range(N_DOCS)])),
        error=r"no words left",
    ),
    "non-English texts (French, German, Spanish)": Case(
        "accepted: words are kept whatever the language (stop words removed are English only)",
        lambda d, t: csv(
            d / "t.csv",
            frame(
                cycle(
                    [
                        "Le gouvernement présente son budget {} à l'Assemblée nationale.",
                        "Die Regierung stellt den Haushalt {} im Bundestag vor.",
                        "El gobierno presenta el presupuesto {} en el Congreso.",
                    ]
                )
            ).assign(text=lambda f: [x.format(i) for i, x in enumerate(f["text"])]),
        ),
        check=lambda plan, d: len(plan.docs) == N_DOCS or pytest.fail(),
    ),
    "Chinese texts (no spaces)": Case(
        "accepted: runs of letters are words (a whole phrase, without a segmenter)",
        lambda d, t: csv(
            d / "t.csv", frame([f"政府预算第{i}号 议会讨论经济政策" for i in range(N_DOCS)])
        ),
        check=lambda plan, d: len(plan.docs) == N_DOCS or pytest.fail(),
    ),
    "a single 50 MB text": Case(
        "error: texts longer than 1,000,000 characters are refused; split them into passages",
        lambda d, t: csv(d / "t.csv", frame([*t[:-1], "word " * (10 * 2**20)])),
        error=r"1 texts in 'text' are longer than 1,000,000 characters \(rows 60; the longest has 52,428,800\)",
    ),
    "an empty text": Case(
        "error: names the rows",
        lambda d, t: csv(d / "t.csv", frame([*t[:-1], " "], id=range(N_DOCS))),
        error=r"1 of 60 texts in 'text' are empty or missing \(rows 60",
    ),
    "blank lines in a one-column CSV": Case(
        "accepted: blank lines are skipped, as in a TXT file",
        lambda d, t: csv(d / "t.csv", "text\n" + "\n \n".join(quoted(x) for x in t) + "\n"),
        check=original,
    ),
    # time column
    "time column: mixed date formats": Case(
        "accepted: each value read as a date on its own (03/07/2020 is March 7)",
        **time_case(
            cycle(["2020-01-05", "Jan 7 2020", "03/07/2020", "7 March 2021"]),
            cycle(
                [
                    "2020-01-05 00:00:00",
                    "2020-01-07 00:00:00",
                    "2020-03-07 00:00:00",
                    "2021-03-07 00:00:00",
                ]
            ),
        ),
    ),
    "time column: time zones": Case(
        "accepted: converted to UTC; times without a zone are taken as UTC",
        **time_case(
            cycle(
                [
                    "2020-01-01T10:00:00+02:00",
                    "2020-01-01T10:00:00Z",
                    "2020-01-01 10:00",
                    "2020-01-01T10:00:00-05:00",
                ]
            ),
            cycle(
                [
                    "2020-01-01 08:00:00",
                    "2020-01-01 10:00:00",
                    "2020-01-01 10:00:00",
                    "2020-01-01 15:00:00",
                ]
            ),
        ),
    ),
    "time column: Unix epoch seconds": Case(
        "accepted: whole numbers from 1e8 on are Unix seconds (up to 9999 they are years)",
        **time_case(
            [1577836800 + 86400 * i for i in range(N_DOCS)],
            [pd.Timestamp("2020-01-01") + pd.Timedelta(days=i) for i in range(N_DOCS)],
        ),
    ),
    "time column: Unix epoch milliseconds": Case(
        "accepted: numbers from 1e11 on are Unix milliseconds",
        **time_case([1577836800000] * N_DOCS, [pd.Timestamp("2020-01-01")] * N_DOCS),
    ),
    "time column: years": Case(
        "accepted: whole numbers up to 9999 are years",
        **time_case(cycle([1999, 2001]), cycle([1999, 2001])),
    ),
    "time column: future dates": Case(
        "accepted: kept as they are",
        **time_case(
            cycle(["2150-06-01", "2999-12-31"]),
            cycle(["2150-06-01 00:00:00", "2999-12-31 00:00:00"]),
        ),
    ),
    "time column: years mixed with Unix times": Case(
        "error: one kind of number per column; names the odd rows",
        **time_case([*[1999] * 40, *[1577836800] * 20]),
        error=r"neither years nor dates \(rows 41, 42, .* and 12 more\)",
    ),
    "time column: not times": Case(
        "error: names the rows that are neither years nor dates",
        **time_case([*["2020-01-01"] * 59, "soon"]),
        error=r"time column 'when' has values that are neither years nor dates \(rows 60\)",
    ),
    # class column
    "class column with one value": Case(
        "accepted: one class (the per-class figure has one bar group)",
        **class_case(
            ["all"] * N_DOCS, lambda plan, d: set(plan.classes) == {"all"} or pytest.fail()
        ),
    ),
    "class column with 300 values": Case(
        "accepted: documents.csv keeps every value; the per-class figure shows the 30 most "
        "frequent and '(other classes)'",
        **class_case(
            [f"c{i}" for i in range(N_DOCS)],  # replaced by 300 rows in the test below
            lambda plan, d: len(set(plan.classes)) == N_DOCS or pytest.fail(),
        ),
    ),
    "class column with empty values": Case(
        "error: names the rows",
        **class_case([*["a"] * 59, ""]),
        error=r"1 values of class column 'group' are empty \(rows 60\)",
    ),
    # a Dask cluster: checked before the file is read
    "--workers 0": Case(
        "error: a count of 1 or more",
        lambda d, t: [*csv(d / "t.csv", frame(t)), "--workers", "0"],
        error=r"--workers 0 is no number of processes; give 1 or more",
    ),
    "--scheduler that is no address": Case(
        "error: says the form of an address",
        lambda d, t: [*csv(d / "t.csv", frame(t)), "--scheduler", "localhost"],
        error=r"--scheduler localhost is not an address; .* tcp://",
    ),
    "--fit-sample too small": Case(
        "error: says the smallest sample",
        lambda d, t: [*csv(d / "t.csv", frame(t)), "--fit-sample", "20"],
        error=r"--fit-sample 20 is too small a sample to fit topics on; give at least 100",
    ),
    # the output folder
    "--out inside the input's folder": Case(
        "accepted",
        lambda d, t: [*csv(d / "t.csv", frame(t)), "--out", str(d / "topics")],
        check=lambda plan, d: plan.target == (d / "topics").resolve() or pytest.fail(),
    ),
    "--out is a symlink to a folder": Case(
        "accepted: the results replace the link's target; the link stays",
        out_symlink,
        check=lambda plan, d: plan.target == (d / "real").resolve() or pytest.fail(),
    ),
    "--out is a dangling symlink": Case(
        "accepted: the link's target is created (its parent must exist)",
        out_dangling,
        check=lambda plan, d: plan.target == (d / "elsewhere").resolve() or pytest.fail(),
    ),
    "--out is the input's folder, with --force": Case(
        "error: --force would delete the input",
        out_holds_input,
        error=r"--force would delete .*, which holds the input file",
    ),
    "--out is a file": Case(
        "error",
        lambda d, t: [*csv(d / "t.csv", frame(t)), "--out", str(d / "t.csv")],
        error=r"is a file; choose a folder name for --out",
    ),
    "--out is not empty, no --force": Case(
        "error: pass --force to replace it",
        lambda d, t: [*csv(d / "t.csv", frame(t)), "--out", str(d)],
        error=r"already exists and is not empty; pass --force",
    ),
    "--out's parent does not exist": Case(
        "error",
        lambda d, t: [*csv(d / "t.csv", frame(t)), "--out", str(d / "no" / "such")],
        error=r"cannot create .*: .* does not exist",
    ),
    "--out on a full disk": Case(
        "error before any work: the free space and what the run needs",
        lambda d, t: [*csv(d / "t.csv", frame(t)), "--out", str(d / "small" / "topics")],
        error=r"has 2\.0 MB free and this run needs about 16\.\d MB; free some space or choose another --out",
        needs="tmpfs",
    ),
    "cache on a full disk": Case(
        "error before any work: cannot write to the cache (No space left on device)",
        lambda d, t: [*csv(d / "t.csv", frame(t)), *fill(d / "small")],
        error=r"cannot write to the cache at .*small.* \(No space left on device\); set CUBE_CACHE_DIR",
        env=lambda d: {"CUBE_CACHE_DIR": str(d / "small")},
        needs="tmpfs",
    ),
    "cache folder not writable": Case(
        "error before any work: set CUBE_CACHE_DIR to a writable folder",
        lambda d, t: csv(d / "t.csv", frame(t)),
        error=r"cannot write to the cache at .* set CUBE_CACHE_DIR",
        env=lambda d: {"CUBE_CACHE_DIR": str(Path(csv(d / "a-file", "x")[0]) / "cache")},
    ),
    "another run writing the same --out": Case(
        "error at once: another cube topics run is writing it (a lock beside --out)",
        lambda d, t: [*csv(d / "t.csv", frame(t)), *hold_lock(d / ".result.lock")],
        error=r"another cube topics run is writing .*result right now",
    ),
    # figure formats and the browser
    "--formats gif": Case(
        "error: names the formats there are",
        lambda d, t: [*csv(d / "t.csv", frame(t)), "--formats", "gif"],
        error=r"unknown figure format 'gif'; use a comma-separated list of png, svg",
    ),
    "--formats png, no browser": Case(
        "error before any work: PNG needs a browser",
        lambda d, t: [*csv(d / "t.csv", frame(t)), "--formats", "png,html"],
        error=r"--formats png needs a browser: BROWSER_PATH='/nonexistent/chrome'",
        env=lambda d: {"BROWSER_PATH": "/nonexistent/chrome"},
    ),
    "default formats, no browser": Case(
        "accepted: HTML figures only; one line says PNGs were skipped and how to get them; "
        "summary.json has figures_skipped",
        lambda d, t: [*csv(d / "t.csv", frame(t)), "--formats", "default"],
        check=lambda plan, d: (
            (plan.formats == ("html",) and plan.figures_skipped["formats"] == ["png"])
            or pytest.fail(str(plan.figures_skipped))
        ),
        env=lambda d: {"BROWSER_PATH": "/nonexistent/chrome"},
    ),
    "--formats svg, browser fails to start (/bin/false)": Case(
        "error before any work, within the probe's time limit",
        lambda d, t: [*csv(d / "t.csv", frame(t)), "--formats", "svg"],
        error=r"--formats svg needs a browser",
        env=lambda d: {"BROWSER_PATH": "/bin/false"},
        needs="browser probe",
    ),
    "default formats, browser hangs": Case(
        "accepted: HTML only, after the probe's time limit (the browser is ended)",
        lambda d, t: [*csv(d / "t.csv", frame(t)), "--formats", "default"],
        check=lambda plan, d: plan.formats == ("html",) or pytest.fail(),
        env=lambda d: {"BROWSER_PATH": sleeping_browser(d)},
        needs="browser probe",
    ),
}

_HELD: list = []


def hold_lock(path: Path) -> list[str]:
    from filelock import FileLock

    lock = FileLock(path, timeout=0)
    lock.acquire()
    _HELD.append(lock)
    return []


def markdown_table() -> str:
    """The cases as a Markdown table: case, then what cube does."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    rows = [f"| {cell(name)} | {cell(case.behaviour)} |" for name, case in CASES.items()]
    return "\n".join(["| input | what cube topics does |", "| --- | --- |", *rows])


# -- running the table ---------------------------------------------------------------------
class Reached(Exception):
    """Raised instead of the long work: every check passed."""


@pytest.fixture(scope="module")
def texts(passages) -> list[str]:
    return passages[:N_DOCS]


def mount_tmpfs(folder: Path) -> None:
    folder.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(folder)],
        capture_output=True, text=True,
    )  # fmt: skip
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {result.stderr.strip()}")


@pytest.fixture
def scratch(tmp_path: Path):
    d = tmp_path / "in"
    d.mkdir()
    yield d
    while _HELD:
        _HELD.pop().release()
    small = d / "small"
    if small.is_dir() and os.path.ismount(small):
        subprocess.run(["umount", "-l", str(small)], check=False)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(name, marks=pytest.mark.browser if case.needs == "browser probe" else ())
        for name, case in CASES.items()
    ],
    ids=list(CASES),
)
def test_case(name, texts, scratch, monkeypatch, capsys, cube_settings):
    case = CASES[name]
    d = scratch
    # The checks are the same on either backend; with torch, a case that passes them starts
    # no ONNX export in the background (this test stops before the long work anyway).
    cube_settings(embedding_backend="torch")
    if case.needs == "tmpfs":
        mount_tmpfs(d / "small")
    if case.needs == "browser probe":
        from cube import figures

        if not hasattr(figures, "check_browser"):
            pytest.skip("needs cube.figures.check_browser")
        monkeypatch.setattr(_plan, "BROWSER_PROBE_SECONDS", 3.0)
    if case.env:
        for key, value in case.env(d).items():
            monkeypatch.setenv(key, value)
    if name == "class column with 300 values":
        texts = [f"{t} (part {i})" for i in range(5) for t in texts]
        values = [f"c{i % 300}" for i in range(len(texts))]
        argv = [*csv(d / "t.csv", frame(texts, group=values)), "--class-column", "group"]
    else:
        argv = case.make(d, texts)
    _TEXTS[:] = texts
    if "--formats" not in argv:
        argv += ["--formats", "html"]
    elif argv[argv.index("--formats") + 1] == "default":
        del argv[argv.index("--formats") : argv.index("--formats") + 2]
    if "--out" not in argv:
        argv += ["--out", str(d / "result")]
    out = Path(argv[argv.index("--out") + 1])
    out_existed = out.exists()

    reached: list[_job.Plan] = []

    def stop(plan, staging, timings, say, stack):
        reached.append(plan)
        assert staging.is_dir()
        raise Reached

    monkeypatch.setattr(_job, "_work", stop)
    # "Before the long work" is what `reached` proves; no wall-clock bound (machines vary).
    if case.error is None:
        with pytest.raises(Reached):
            main(["topics", *argv])
        (plan,) = reached
        if name == "class column with 300 values":
            assert len(set(plan.classes)) == 300
            shown = _job.classes_for_figures(plan.classes)
            assert len(set(shown)) == 31 and "(other classes)" in shown
        elif case.check is not None:
            case.check(plan, d)
    else:
        code = main(["topics", *argv])
        _, err = capsys.readouterr()
        assert not reached, "the checks let it through to the long work"
        assert code == 2
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("cube: error: "), err
        assert re.search(case.error, lines[0]), lines[0]
    if not out_existed:
        assert not out.exists() or out.is_symlink()
    leftovers = [p.name for p in out.resolve().parent.glob(f".{out.resolve().name}.*")]
    assert not [p for p in leftovers if "partial" in p or "old" in p], leftovers


# -- real processes ------------------------------------------------------------------------
def start_topics(*argv: str, cwd: Path, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "cube", "topics", *argv],
        cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def wait_for_partial(folder: Path, name: str, proc: subprocess.Popen, timeout: float = 60) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [p for p in folder.glob(f".{name}.partial-*") if p.is_dir()]
        if found:
            return found[0]
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"no staging folder appeared in {timeout} s")


def leftovers(folder: Path, name: str) -> list[str]:
    return sorted(p.name for p in folder.glob(f".{name}*"))


@pytest.mark.slow
def test_sigterm_cleans_up_and_exits_143(texts, tmp_path):
    csv(tmp_path / "t.csv", frame(texts))
    proc = start_topics("t.csv", "--formats", "html", "--out", "result", cwd=tmp_path)
    wait_for_partial(tmp_path, "result", proc)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert lines == ["cube: terminated; finished embeddings were kept in the cache"], err
    assert not (tmp_path / "result").exists()
    assert leftovers(tmp_path, "result") == []  # no staging folder, no lock files


@pytest.mark.slow
def test_a_second_run_on_the_same_output_stops_at_once(texts, tmp_path):
    csv(tmp_path / "t.csv", frame(texts))
    first = start_topics("t.csv", "--formats", "html", "--out", "result", cwd=tmp_path)
    try:
        wait_for_partial(tmp_path, "result", first)
        started = time.monotonic()
        second = subprocess.run(
            [sys.executable, "-m", "cube", "topics", "t.csv", "--formats", "html",
             "--out", "result"],
            cwd=tmp_path, capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert second.returncode == 2
        assert time.monotonic() - started < 30
        assert second.stderr.strip().splitlines() == [
            f"cube: error: another cube topics run is writing {tmp_path / 'result'} right now; "
            "wait for it to finish or choose another --out"
        ]
        assert [p for p in tmp_path.glob(".result.partial-*") if p.is_dir()], "first run's kept"
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=60)
    assert first.returncode == 143
    assert leftovers(tmp_path, "result") == []


@pytest.mark.slow
def test_stale_staging_folders_are_swept_unless_locked(texts, tmp_path, monkeypatch, capsys):
    csv(tmp_path / "t.csv", frame(texts))
    old = time.time() - 2 * _output.STALE_SECONDS

    def leftover(name: str, age: float | None = old) -> Path:
        folder = tmp_path / name
        (folder / "figures").mkdir(parents=True)
        (folder / "topics.csv").write_text("id\n")
        if age is not None:
            os.utime(folder, (age, age))
        return folder

    dead = leftover(".result.partial-0badf00d")  # a killed run: old, nobody holds its lock
    replaced = leftover(".result.old-1234abcd")  # killed while replacing an older output
    young = leftover(".result.partial-0000aaaa", age=None)  # too recent to judge
    live = leftover(".result.partial-00c0ffee")  # old, but a live process holds its lock
    other = leftover(".other.partial-0badf00d")  # another output's: not ours to sweep
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom filelock import FileLock\n"
         "lock = FileLock(sys.argv[1])\nlock.acquire()\nprint('held', flush=True)\ntime.sleep(600)",
         f"{live}.lock"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"

        def stop(plan, staging, timings, say, stack):
            raise Reached

        monkeypatch.setattr(_job, "_work", stop)
        with pytest.raises(Reached):
            main(["topics", str(tmp_path / "t.csv"), "--formats", "html",
                  "--out", str(tmp_path / "result")])  # fmt: skip
        assert "removed 2 leftover folder(s) of earlier interrupted runs" in capsys.readouterr().out
        assert not dead.exists() and not replaced.exists()
        assert young.exists() and live.exists() and other.exists()
    finally:
        holder.kill()
        holder.wait()
    assert sorted(leftovers(tmp_path, "result")) == sorted(
        [young.name, live.name, f"{live.name}.lock"]
    )


# -- the whole job ---------------------------------------------------------------------------
# What these check (the input's reading, the notes, the clean-up) does not depend on real
# vectors: in-process runs take the fake model, the processes the real one.
@pytest.fixture(scope="module")
def corpus(sotu) -> pd.DataFrame:
    return sotu.head(80)


@pytest.mark.slow
def test_real_world_csv_without_a_browser(corpus, fake_model, tmp_path, monkeypatch, capsys):
    """Semicolons, a BOM, CRLF, Unix times and 80 classes; no Chrome: HTML figures and a note."""
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chrome")
    table = pd.DataFrame(
        {
            "Texte du discours": corpus["text"],
            "quand": [1_600_000_000 + 86_400 * i for i in range(len(corpus))],
            "orateur": [f"speaker {i}" for i in range(len(corpus))],
        }
    )
    path = tmp_path / "speeches.csv"
    path.write_bytes(
        codecs.BOM_UTF8 + table.to_csv(index=False, sep=";", lineterminator="\r\n").encode()
    )
    out = tmp_path / "result"
    code = main(["topics", str(path), "--text-column", "Texte du discours",
                 "--time-column", "quand", "--class-column", "orateur", "--model", fake_model,
                 "--out", str(out)])  # fmt: skip
    _, err = capsys.readouterr()
    assert code == 0, err
    notes = [line for line in err.splitlines() if line.startswith("cube:")]
    assert len(notes) == 1 and notes[0].startswith("cube: PNG figures skipped ("), err
    assert "set BROWSER_PATH" in notes[0] and "--formats html" in notes[0]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["figures_skipped"]["formats"] == ["png"]
    assert "BROWSER_PATH" in summary["figures_skipped"]["reason"]
    figures = {p.name for p in (out / "figures").iterdir()}
    assert "topics_over_time.html" in figures and "topics_per_class.html" in figures
    assert not [f for f in figures if f.endswith(".png")]
    documents = pd.read_csv(out / "documents.csv")
    assert documents["orateur"].nunique() == 80  # every class kept; the figure shows 30 + other
    assert documents["text"].tolist() == corpus["text"].tolist()
    assert leftovers(tmp_path, "result") == []


@pytest.mark.slow
def test_output_disk_filling_up_during_the_run(corpus, fake_model, tmp_path, monkeypatch, capsys):
    """The free-space check passed (here: switched off), then the disk fills: one line, no debris."""
    monkeypatch.setattr(_plan, "OUTPUT_SPACE_BASE", 0)
    small = tmp_path / "small"
    mount_tmpfs(small)
    try:
        path = tmp_path / "t.csv"
        csv(path, corpus[["text"]])
        code = main(["topics", str(path), "--formats", "html", "--model", fake_model,
                     "--out", str(small / "result")])  # fmt: skip
        _, err = capsys.readouterr()
        assert code == 2
        lines = [line for line in err.splitlines() if line.startswith("cube:")]
        assert len(lines) == 1 and "(No space left on device)" in lines[0], err
        assert err.strip().endswith(lines[0])
        assert list(small.iterdir()) == []
    finally:
        subprocess.run(["umount", "-l", str(small)], check=False)


@pytest.mark.slow
def test_two_runs_at_once_share_the_corpus_and_cache(corpus, sotu_cache, tmp_path):
    """Two processes, one corpus, one cache (holding the vectors already, to keep this short)."""
    csv(tmp_path / "t.csv", corpus[["text"]])
    runs = [
        start_topics("t.csv", "--formats", "html", "--out", name, cwd=tmp_path)
        for name in ("one", "two")
    ]
    results = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], [err for _, err in results]
    one = pd.read_csv(tmp_path / "one" / "documents.csv")
    two = pd.read_csv(tmp_path / "two" / "documents.csv")
    assert one["topic"].tolist() == two["topic"].tolist()  # same seed, same cache: same topics
    assert leftovers(tmp_path, "one") == leftovers(tmp_path, "two") == []


if __name__ == "__main__":
    print(markdown_table())
