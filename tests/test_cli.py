"""The `cube` command line: embed, cache, doctor, and one-line errors for bad input."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cube.cli import main
from cube.embeddings import _onnx

HEAVY = ("torch", "sentence_transformers", "transformers", "bertopic", "umap", "hdbscan", "plotly")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.slow
def test_import_cube_and_help_stay_light():
    code = (
        "import sys, cube, cube.embeddings, cube.datasets, cube.figures\n"
        "from cube.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"


@pytest.mark.model
def test_embed_csv_then_cache_info_and_clear(capsys, tmp_path, passages):
    table = tmp_path / "speeches.csv"
    pd.DataFrame({"id": range(30), "body": passages[:30]}).to_csv(table, index=False)
    code, out, _ = run(capsys, "embed", str(table), "--text-column", "body")
    assert code == 0
    assert "30 texts" in out and "30 encoded, 0 from the cache" in out
    code, out, _ = run(capsys, "embed", str(table), "--text-column", "body")
    assert "0 encoded, 30 from the cache" in out

    code, out, _ = run(capsys, "cache", "info")
    assert code == 0
    assert "30 vectors" in out and "all-MiniLM-L6-v2" in out
    exports = "1, " if _onnx.int8_unsafe_reason() is None else "none"  # auto: onnx or torch
    assert f"ONNX model exports: {exports}" in out and "figure images: none" in out

    code, _, err = run(capsys, "cache", "clear", "--model", "other-model")
    assert code == 2 and "no cached embeddings for model 'other-model'" in err
    code, out, _ = run(capsys, "cache", "clear", "--model", "all-MiniLM-L6-v2")
    assert code == 0 and "removed 30 cached vectors" in out
    code, out, _ = run(capsys, "cache", "info")
    assert "none yet" in out
    code, out, _ = run(capsys, "cache", "clear")
    assert code == 0 and "cleared" in out


@pytest.mark.model
@pytest.mark.parametrize("fmt", ["jsonl", "txt", "parquet", "tsv", "csv.gz"])
def test_embed_reads_every_format(capsys, tmp_path, passages, fmt):
    texts = passages[:4]
    path = tmp_path / f"docs.{fmt}"
    frame = pd.DataFrame({"text": texts})
    if fmt == "jsonl":
        path.write_text("\n".join(json.dumps({"text": t}) for t in texts) + "\n")
    elif fmt == "txt":
        path.write_text("\n\n".join(texts) + "\n")
    elif fmt == "parquet":
        frame.to_parquet(path)
    elif fmt == "tsv":
        frame.to_csv(path, sep="\t", index=False)
    else:
        path.write_bytes(gzip.compress(frame.to_csv(index=False).encode()))
    code, out, err = run(capsys, "embed", str(path))
    assert code == 0, err
    assert "4 texts" in out


@pytest.mark.model
def test_embed_with_an_explicit_encoding(capsys, tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes("text\nCafé au lait\nNaïve art\n".encode("latin-1"))
    code, out, _ = run(capsys, "embed", str(path), "--encoding", "latin-1")
    assert code == 0 and "2 texts" in out


def write(path: Path, content: bytes | str) -> Path:
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


BAD_INPUTS = {
    "missing file": (lambda d: d / "nope.csv", "does not exist"),
    "a directory": (lambda d: d, "is a folder"),
    "empty file": (lambda d: write(d / "empty.csv", ""), "is empty"),
    "header only": (lambda d: write(d / "header.csv", "text\n"), "header but no rows"),
    "unknown column": (
        lambda d: write(d / "cols.csv", "body\nhello\n"),
        "no column 'text' for --text-column; its columns are 'body'",
    ),
    "non-UTF-8 bytes": (
        lambda d: write(
            d / "latin.csv", b"text\nfine\nalso fine\n" + "caf\xe9\n".encode("latin-1")
        ),
        r"line 4 is not valid UTF-8 .*--encoding",
    ),
    "empty and NaN texts": (
        lambda d: write(
            d / "gaps.jsonl", '{"text": "a"}\n{"text": ""}\n{"text": null}\n{"text": "b"}\n'
        ),
        r"2 of 4 texts in 'text' are empty or missing \(rows 2, 3",
    ),
    "non-string texts": (
        lambda d: write(d / "numbers.jsonl", '{"text": "a"}\n{"text": 5}\n{"text": [1]}\n'),
        r"2 of 3 values in 'text' are not text \(rows 2, 3\)",
    ),
    "random binary": (
        lambda d: write(d / "noise.csv", bytes(range(256)) * 40),
        "looks like a binary file",
    ),
    "unsupported format": (lambda d: write(d / "book.xlsx", "x"), "unsupported format .xlsx"),
    "malformed JSONL line": (
        lambda d: write(d / "broken.jsonl", '{"text": "a"}\n{"text": "b"\n'),
        "line 2 is not valid JSON",
    ),
    "not a Parquet file": (
        lambda d: write(d / "fake.parquet", "text\nhello\n"),
        "not a readable Parquet file",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, case):
    make, message = BAD_INPUTS[case]
    folder = tmp_path / "in"
    folder.mkdir()
    code, out, err = run(capsys, "embed", str(make(folder)))
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("cube: error: ")
    import re

    assert re.search(message, lines[0]), lines[0]
    assert not list(Path(os.environ["CUBE_CACHE_DIR"]).glob("embeddings/*/*.vec"))


def test_unknown_model_offline(capsys, tmp_path):
    path = write(tmp_path / "t.csv", "text\nhello\n")
    code, _, err = run(capsys, "embed", str(path), "--model", "someone/unknown-model")
    assert code == 2
    assert "not on this machine" in err and "HF_HUB_OFFLINE" in err


def test_unwritable_cache_dir(capsys, tmp_path, cube_settings):
    blocker = write(tmp_path / "a-file", "not a folder")
    cube_settings(cache_dir=blocker / "cache")
    path = write(tmp_path / "t.csv", "text\nhello\n")
    code, _, err = run(capsys, "embed", str(path))
    assert code == 2
    assert "cannot write to the cache" in err and "CUBE_CACHE_DIR" in err


@pytest.mark.slow
def test_errors_reach_the_shell_without_a_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "cube", "embed", str(tmp_path / "missing.csv")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().endswith("does not exist; check the path")
    usage = subprocess.run(
        [sys.executable, "-m", "cube", "frobnicate"], capture_output=True, text=True
    )
    assert usage.returncode == 2 and "invalid choice" in usage.stderr


@pytest.mark.browser
def test_doctor_reports_each_check(capsys, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chrome")
    code, out, _ = run(capsys, "doctor")
    lines = [line for line in out.splitlines() if line.startswith(("OK", "FAIL"))]
    assert [line.split(":")[0].split(maxsplit=1)[1] for line in lines] == [
        "Python",
        "torch",
        "default model offline",
        "embedding backend",
        "cache directory writable",
        "Chrome for figure export",
        "jupyterlab",
        "ipywidgets",
    ]
    assert code == 1
    assert "FAIL  Chrome for figure export: BROWSER_PATH='/nonexistent/chrome'" in out
    if _onnx.int8_unsafe_reason() is None:
        assert "OK    embedding backend: onnx (int8 on CPU, onnxruntime " in out
    else:
        assert "OK    embedding backend: torch (this CPU has no VNNI instructions" in out
    assert out.count("OK    ") == 7
    monkeypatch.setenv("CUBE_EMBEDDING_BACKEND", "torch")
    _, out, _ = run(capsys, "doctor")
    assert "OK    embedding backend: torch (asked for)" in out


@pytest.mark.parametrize("command", ["topics", "render", "lab"])
def test_help_ends_with_worked_examples(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    help_text = capsys.readouterr().out
    examples = help_text.split("examples:\n", 1)[1].splitlines()
    commands = [line.strip() for line in examples if line.strip().startswith("cube ")]
    assert len(commands) >= 2 and all(c.startswith(f"cube {command}") for c in commands)
