"""Reading a corpus a partition at a time: the same rows as reading it whole, and memory that
does not grow with the file (`cube embed` holds one partition at a time)."""

from __future__ import annotations

import dataclasses
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cube
from cube.datasets import read_partitions

# Runs `cube embed` under tracemalloc and prints the peak of Python's and NumPy's memory.
_PEAK = """
import sys, tracemalloc
tracemalloc.start()
from cube.cli import main
code = main(sys.argv[1:])
print("PEAK", tracemalloc.get_traced_memory()[1])
sys.exit(code)
"""


FORMATS = ["t.csv", "t.tsv", "t.parquet", "t.jsonl", "t.csv.gz", "t.txt"]


def _write(table: pd.DataFrame, path: Path) -> Path:
    """``table`` as the file its name says (TXT: its text column, one line each)."""
    name = path.name
    if name.endswith(".parquet"):
        table.to_parquet(path)
    elif ".jsonl" in name:
        table.to_json(path, orient="records", lines=True)
    elif name.endswith(".txt"):
        path.write_text("\n".join(table["text"]) + "\n")
    else:
        table.to_csv(path, index=False, sep="\t" if ".tsv" in name else ",")
    return path


@pytest.mark.parametrize("name", FORMATS)
def test_partitions_are_the_file_read_whole_in_order(tmp_path: Path, name: str):
    table = pd.DataFrame({"text": [f"Text number {i}, with a comma." for i in range(23)]})
    table["n"] = [str(i) for i in range(23)]
    path = _write(table, tmp_path / name)
    parts = list(read_partitions(path, rows=10))
    assert [len(p) for p in parts] == [10, 10, 3]
    assert pd.concat(parts)["text"].tolist() == table["text"].tolist()


@pytest.mark.parametrize("name", FORMATS)
def test_a_large_file_loads_by_partitions_as_it_loads_whole(tmp_path: Path, name: str):
    """Above ``whole_below`` bytes, load_table joins partitions: the same rows, the same
    checks."""
    table = pd.DataFrame({"text": [f"Text number {i}, with a comma." for i in range(23)]})
    table["n"] = list(range(23))
    path = _write(table, tmp_path / name)
    whole = cube.datasets.load_table(path)
    parted = cube.datasets.load_table(path, whole_below=0, rows=10)
    # The same values; the texts held as Python strings, made a partition at a time (tolist()
    # of pandas' Arrow strings would copy a large corpus a second time).
    pd.testing.assert_frame_equal(parted, whole, check_dtype=False)
    assert parted["text"].dtype == object and parted["text"].tolist() == whole["text"].tolist()
    table.loc[16, "text"] = "  "
    if name.endswith(".parquet"):
        table.to_parquet(path)
        with pytest.raises(cube.InputError, match=r"rows 17, counting from 1"):
            cube.datasets.load_table(path, whole_below=0, rows=10)


def test_a_bad_row_in_a_later_partition_is_named_by_its_row_in_the_file(tmp_path: Path):
    table = pd.DataFrame({"text": [f"Text {i}." for i in range(23)]})
    table.loc[16, "text"] = "  "
    table.to_parquet(tmp_path / "t.parquet")
    parts = read_partitions(tmp_path / "t.parquet", rows=10)
    assert len(next(parts)) == 10  # the first partition is handed out whole
    with pytest.raises(cube.InputError, match=r"rows 17, counting from 1"):
        next(parts)
    with pytest.raises(cube.InputError, match="no column 'body' for text_column="):
        next(read_partitions(tmp_path / "t.parquet", "body"))


def _fill_cache_for(texts: list[str], seed: int) -> None:
    """Vectors for these texts in the cache's default space (random ones: what is measured is
    the reading and looking up, not the encoding)."""
    from cube._store import text_keys
    from cube.embeddings import embedding_space

    space = embedding_space()
    space.write_meta()
    rng = np.random.default_rng(seed)
    for start in range(0, len(texts), 50_000):
        block = texts[start : start + 50_000]
        vectors = rng.standard_normal((len(block), 384)).astype(np.float32)
        space.store().add(text_keys(block), vectors)


@pytest.mark.slow
def test_cube_embed_memory_stays_flat_with_ten_times_the_rows(tmp_path: Path):
    corpus = cube.datasets.load("sotu-synthetic", sample=200_000)[["text"]]
    _fill_cache_for(corpus["text"].tolist(), seed=0)
    peaks = {}
    for n in (20_000, 200_000):
        path = tmp_path / f"{n}.parquet"
        corpus.iloc[:n].to_parquet(path)
        done = subprocess.run(
            [sys.executable, "-c", _PEAK, "embed", str(path), "--partition-rows", "5000"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert f"{n} texts -> 384-dimensional vectors" in done.stdout
        assert f"0 encoded, {n} from the cache" in done.stdout
        peaks[n] = int(done.stdout.split("PEAK ")[1].split()[0])
    held = corpus["text"].str.len().sum() * 0.9 + 180_000 * 384 * 4  # 180,000 rows held
    grew = peaks[200_000] - peaks[20_000]
    print(json.dumps({"peak_bytes": peaks, "grew": int(grew), "holding_all_would_add": held}))
    assert grew < 0.1 * held, f"memory grew {grew / 2**20:.0f} MB with ten times the rows"


# Reads N vectors back from a store in a fresh process and prints how much its peak resident
# memory grew (Linux: VmHWM counts the mapped file pages a process has touched).
_READ_BACK = """
import sys
import numpy as np
from cube._store import VectorStore

def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024

store = VectorStore(sys.argv[1])
keys = np.load(sys.argv[2])
before = peak()
found, vectors = store.get(keys)
assert found.all()
print("GREW", peak() - before, vectors.nbytes)
"""


@pytest.mark.slow  # a fresh process and 300 MB of vectors written and read: 10 s
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's VmHWM")
def test_reading_vectors_back_costs_their_copy_not_also_the_mapped_files(tmp_path: Path):
    """200,000 vectors (293 MB) in 4 chunks, all read back: the process grows by the copy,
    not the copy plus the chunk files it mapped. Measured: 367 MB; before, 695 MB (checking
    the checksum and copying the rows touched every page, and the pages stayed mapped)."""
    from cube._store import VectorStore, text_keys

    rows, dim = 200_000, 384
    store = VectorStore(tmp_path / "store")
    all_keys = text_keys([f"passage {i}" for i in range(rows)])
    rng = np.random.default_rng(0)
    for part in np.array_split(np.arange(rows), 4):
        store.add(all_keys[part], rng.standard_normal((len(part), dim), dtype=np.float32))
    np.save(tmp_path / "keys.npy", all_keys[::-1])  # another order than stored
    out = subprocess.run(
        [sys.executable, "-c", _READ_BACK, str(tmp_path / "store"), str(tmp_path / "keys.npy")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    grew, copy = (int(x) for x in out.split("GREW")[1].split())
    print(f"grew {grew / 2**20:.0f} MB for a {copy / 2**20:.0f} MB copy")
    assert copy == rows * dim * 4
    assert grew < 1.3 * copy, f"grew {grew / 2**20:.0f} MB for a {copy / 2**20:.0f} MB copy"


def test_texts_on_disk_read_back_as_written_and_leave_no_file(tmp_path: Path):
    from cube.datasets import TextsOnDisk

    parts = [["A text.", "Ünïcode — and a lone surrogate \ud800."], [], ["", "Third 🙂"]]
    texts = TextsOnDisk.write(parts, tmp_path)
    whole = [t for part in parts for t in part]
    assert len(texts) == 4 and list(texts) == whole
    assert texts[1] == whole[1] and texts[-1] == whole[-1] and texts[2] == ""
    assert texts[1:3] == whole[1:3] and texts[::2] == whole[::2]
    assert texts[np.array([3, 0])] == [whole[3], whole[0]]
    view = texts.take([3, 1])  # nothing read until indexed, in that order
    assert list(view) == [whole[3], whole[1]] and view[0:2] == [whole[3], whole[1]]
    assert texts.nbytes == sum(len(t.encode("utf-8", "surrogatepass")) for t in whole)
    sizes = [len(t.encode("utf-8", "surrogatepass")) for t in whole]
    assert texts.sizes().tolist() == sizes  # from the index, nothing read
    with pytest.raises(IndexError):
        texts[4]
    with pytest.raises(TypeError, match="send slices"):
        pickle.dumps(texts)
    if sys.platform != "win32":  # a file without a name: nothing to leave behind
        assert list(tmp_path.iterdir()) == []
    with pytest.raises(cube.InputError):  # a bad partition: the file is let go, not half kept
        TextsOnDisk.write(_raising([["fine"]]), tmp_path)


def _raising(parts):
    yield from parts
    raise cube.InputError("a bad row")


def _corpus_file(path: Path, n: int) -> Path:
    passages = cube.datasets.load("sotu", sample=n, seed=0)[["year", "party", "text"]]
    passages.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("sample", [None, 150])
def test_a_large_files_texts_stay_on_disk_and_read_as_loaded_whole(
    tmp_path: Path, monkeypatch, sample
):
    """Above READ_WHOLE_BELOW, `cube topics` keeps the texts in a TextsOnDisk and only the
    time and class columns in its table: the same texts, rows and values as loaded whole."""
    from cube.datasets import TextsOnDisk, _tables
    from cube.pipeline import JobSpec, read_corpus

    path = _corpus_file(tmp_path / "corpus.csv", 400)
    spec = JobSpec(out=tmp_path / "o", file=path, time_column="year", class_column="party")
    spec = dataclasses.replace(spec, sample=sample)
    frame, docs, _, columns = read_corpus(spec, tmp_path)
    assert isinstance(docs, list)
    monkeypatch.setattr(_tables, "READ_WHOLE_BELOW", 0)
    monkeypatch.setattr(_tables, "PARTITION_ROWS", 64)
    parted, texts, _, parted_columns = read_corpus(spec, tmp_path)
    assert isinstance(texts, TextsOnDisk) == (sample is None)
    assert list(texts) == docs and parted_columns == columns
    assert parted.columns.tolist() == ["year", "party"]
    pd.testing.assert_frame_equal(parted, frame[["year", "party"]], check_dtype=False)
    assert [p.name for p in tmp_path.iterdir()] == ["corpus.csv"]


@pytest.mark.slow  # two runs of cube topics on 600 passages
def test_cube_topics_on_a_large_file_writes_what_it_writes_from_memory(tmp_path, monkeypatch):
    from cube.datasets import TextsOnDisk, _tables
    from cube.pipeline import JobSpec, _plan, run

    path = _corpus_file(tmp_path / "corpus.csv", 600)
    spec = JobSpec(
        out=tmp_path / "memory", file=path, sample=None, time_column="year",
        class_column="party", fit_sample=300, formats=("html",),
    )  # fmt: skip
    run(spec, say=lambda _: None)
    monkeypatch.setattr(_tables, "READ_WHOLE_BELOW", 0)
    monkeypatch.setattr(_tables, "PARTITION_ROWS", 100)
    kinds = []
    read = _plan.read_corpus
    monkeypatch.setattr(
        _plan, "read_corpus", lambda *a, **k: kinds.append(type((got := read(*a, **k))[1])) or got
    )
    run(dataclasses.replace(spec, out=tmp_path / "disk"), say=lambda _: None)
    assert kinds == [TextsOnDisk]
    for name in ("documents.csv", "topics.csv", "quality.csv"):
        assert (tmp_path / "disk" / name).read_bytes() == (tmp_path / "memory" / name).read_bytes()
    memory = json.loads((tmp_path / "memory" / "summary.json").read_text())
    disk = json.loads((tmp_path / "disk" / "summary.json").read_text())
    assert disk["texts_sha256"] == memory["texts_sha256"] and disk["quality"] == memory["quality"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus.csv", "disk", "memory"]


# prepare() of `cube topics` on a large file under tracemalloc: its peak and what it keeps.
_PREPARE = """
import sys, tracemalloc
from pathlib import Path
from cube.datasets import _tables
from cube.pipeline import JobSpec, prepare
_tables.READ_WHOLE_BELOW = 0
_tables.PARTITION_ROWS = 5000
tracemalloc.start()
plan = prepare(JobSpec(out=Path(sys.argv[2]), file=Path(sys.argv[1]), sample=None,
                       formats=("html",)), say=lambda _: None)
current, peak = tracemalloc.get_traced_memory()
print("MEMORY", type(plan.docs).__name__, len(plan.docs), current, peak)
"""


@pytest.mark.slow  # 220,000 synthetic passages written as Parquet and read twice: 30 s
def test_cube_topics_memory_stays_flat_with_ten_times_the_rows(tmp_path: Path):
    """What `cube topics` holds once its input is read and checked, at 20,000 and 200,000
    rows: the texts stay on disk, so ten times the rows add 16 bytes a row (their places in
    the file), not the texts."""
    corpus = cube.datasets.load("sotu-synthetic", sample=200_000)[["text"]]
    held, peaks = {}, {}
    for n in (20_000, 200_000):
        path = tmp_path / f"{n}.parquet"
        corpus.iloc[:n].to_parquet(path, row_group_size=5000)
        out = subprocess.run(
            [sys.executable, "-c", _PREPARE, str(path), str(tmp_path / f"out{n}")],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        kind, count, current, peak = out.split("MEMORY ")[1].split()
        assert (kind, int(count)) == ("TextsOnDisk", n)
        held[n], peaks[n] = int(current), int(peak)
    texts = corpus["text"].str.len().sum() * 0.9  # what 180,000 more texts would add, at least
    print(json.dumps({"held": held, "peak": peaks, "texts_of_180000_more": int(texts)}))
    assert held[200_000] - held[20_000] < 0.05 * texts
    assert peaks[200_000] - peaks[20_000] < 0.1 * texts


@pytest.mark.model  # the real model: the backend this CPU gets (ONNX reads the texts one by one)
def test_texts_on_disk_embed_to_the_vectors_of_the_same_texts_in_a_list(tmp_path, passages):
    from cube.datasets import TextsOnDisk
    from cube.embeddings import embed_with_stats

    texts = passages[:40] + passages[5:8]  # repeats: encoded once
    embed_with_stats(passages[30:40])  # some in the cache already
    on_disk = TextsOnDisk.write([texts[:25], texts[25:]], tmp_path)
    kept, stats = embed_with_stats(on_disk, in_memory=False)
    assert (stats.texts, stats.duplicates, stats.cached, stats.encoded) == (43, 3, 10, 30)
    expected, again = embed_with_stats(texts)
    assert again.encoded == 0 and np.asarray(kept).tobytes() == expected.tobytes()
