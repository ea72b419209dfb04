"""The cache under real processes: killed writers, Ctrl-C, two writers, four writers and a reader."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pytest

from cube import CacheWarning
from cube.embeddings import embed_with_stats

pytestmark = pytest.mark.slow  # real model, in real processes

WORKER = """
import json, sys
import numpy as np
import cube
from cube.embeddings import embed
cube.set_config(flush_seconds=0.0)   # store every group of batches as soon as it is done
texts = json.load(open(sys.argv[1]))
vectors = embed(texts, batch_size=8, show_progress=False)
np.save(sys.argv[2], vectors)
"""


@pytest.fixture(autouse=True)
def _exact_path(torch_backend):
    """These tests hold the PyTorch path to sentence-transformers' vectors (test_onnx.py: ONNX)."""


def start_worker(tmp_path: Path, texts: list[str], name: str) -> tuple[subprocess.Popen, Path]:
    source = tmp_path / f"{name}.json"
    source.write_text(json.dumps(texts))
    out = tmp_path / f"{name}.npy"
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(source), str(out)],
        env=os.environ.copy(),
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, out


def wait_for_chunks(cache: Path, proc: subprocess.Popen, count: int, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while len(list(cache.glob("embeddings/*/*.vec"))) < count:
        assert proc.poll() is None, proc.stderr.read()
        assert time.monotonic() < deadline, "the worker wrote no cache chunk in time"
        time.sleep(0.05)


WRITTEN = 120  # texts a writer embeds: 15 batches of 8, each stored as it is done


@pytest.fixture(scope="module")
def reference(passages, reference_model) -> np.ndarray:
    """sentence-transformers' own vectors of the texts these tests write, computed once."""
    return reference_model.encode(passages[:WRITTEN])


def check_cache_is_sound(texts: list[str], expected: np.ndarray) -> int:
    """Every vector the cache returns is right and no file is damaged; returns the hits."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        vectors, stats = embed_with_stats(texts)
    np.testing.assert_allclose(vectors, expected, atol=2e-5)
    return stats.cached


def test_killed_writer_leaves_only_whole_entries(passages, cube_cache, tmp_path, reference):
    texts = passages[:WRITTEN]
    proc, _ = start_worker(tmp_path, texts, "killed")
    wait_for_chunks(cube_cache, proc, 2)
    proc.send_signal(signal.SIGKILL)  # mid-run: later batches or writes are under way
    proc.wait()
    # Whatever was under way, what the cache returns is whole and right.
    assert check_cache_is_sound(texts, reference) > 0


def test_ctrl_c_keeps_finished_batches(passages, cube_cache, tmp_path, reference):
    texts = passages[:WRITTEN]
    proc, _ = start_worker(tmp_path, texts, "interrupted")
    wait_for_chunks(cube_cache, proc, 1)
    stored_before = len(list(cube_cache.glob("embeddings/*/*.vec")))
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and "KeyboardInterrupt" in err
    assert len(list(cube_cache.glob("embeddings/*/*.vec"))) >= stored_before
    assert 0 < check_cache_is_sound(texts, reference) < len(texts)


def test_two_writers_with_overlapping_corpora(passages, cube_cache, tmp_path, reference):
    half, quarter = WRITTEN // 2, WRITTEN // 4
    first, second = slice(0, half + quarter), slice(quarter, WRITTEN)  # 30 texts in both
    proc_a, out_a = start_worker(tmp_path, passages[first], "a")
    proc_b, out_b = start_worker(tmp_path, passages[second], "b")
    for proc in (proc_a, proc_b):
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    np.testing.assert_allclose(np.load(out_a), reference[first], atol=2e-5)
    np.testing.assert_allclose(np.load(out_b), reference[second], atol=2e-5)
    assert check_cache_is_sound(passages[:WRITTEN], reference) == WRITTEN


STORE_WRITER = """
import sys
import numpy as np
from cube._store import VectorStore
store, seed = VectorStore(sys.argv[1]), int(sys.argv[2])
pool = np.random.default_rng(0).integers(0, 256, size=(2000, 32), dtype=np.uint8)
rng = np.random.default_rng(seed)
for step in range(150):
    keys = pool[rng.choice(len(pool), size=60, replace=False)]
    store.add(keys, keys[:, :8].astype(np.float32))  # a key's vector: its first 8 bytes
    if step % 10 == 9:
        store.compact(force=True)  # merges race the other writers and the reader
"""


def test_four_writer_processes_and_a_reader_on_one_store(tmp_path):
    """Four processes add overlapping rows and merge chunks while this one reads: every row
    read is right, none is lost, no chunk is damaged (no model: the store itself)."""
    from cube._store import VectorStore

    folder = tmp_path / "space"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", STORE_WRITER, str(folder), str(seed)],
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in range(4)
    ]
    pool = np.random.default_rng(0).integers(0, 256, size=(2000, 32), dtype=np.uint8)
    reads = 0
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)  # a damaged chunk would fail the test
        while any(w.poll() is None for w in writers):
            found, vectors = VectorStore(folder).get(pool)
            if vectors is not None:
                np.testing.assert_array_equal(vectors, pool[found][:, :8].astype(np.float32))
                reads += 1
        for w in writers:
            assert w.returncode == 0, w.stderr.read()
        written = np.zeros(len(pool), bool)
        for seed in range(4):
            rng = np.random.default_rng(seed)
            for _ in range(150):
                written[rng.choice(len(pool), size=60, replace=False)] = True
        found, vectors = VectorStore(folder).get(pool)
    assert reads >= 5, reads  # the reads overlapped the writes
    np.testing.assert_array_equal(found, written)  # every row written is there, no other
    np.testing.assert_array_equal(vectors, pool[written][:, :8].astype(np.float32))
