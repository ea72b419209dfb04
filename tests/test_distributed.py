"""Embedding on a real Dask LocalCluster (worker processes): the same cache, the same answers."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import cube
from cube._store import VectorStore
from cube.embeddings import _dask, _onnx

CLUSTER = [pytest.mark.slow, pytest.mark.model]  # worker processes, the real model


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return cube.datasets.load("sotu", sample=600, seed=5)["text"].tolist()


def _store_rows(cache: Path) -> dict[bytes, bytes]:
    """Every (key, vector bytes) the cache's embedding stores hold."""
    rows: dict[bytes, bytes] = {}
    for folder in (cache / "embeddings").iterdir():
        if folder.is_dir():
            for chunk in VectorStore(folder)._load_chunks():
                for key, vector in zip(chunk.keys, chunk.vectors, strict=True):
                    rows[bytes(key)] = vector.tobytes()
    return rows


@CLUSTER[0]
@CLUSTER[1]
def test_a_local_cluster_fills_the_same_cache_as_one_process(
    texts, tmp_path, cube_cache, monkeypatch
):
    alone, alone_stats = cube.embeddings.embed_with_stats(texts[:300])
    here = _store_rows(cube_cache)
    on_cluster = tmp_path / "cluster-cache"
    on_cluster.mkdir()
    (on_cluster / "onnx").symlink_to((cube_cache / "onnx").readlink(), target_is_directory=True)
    monkeypatch.setenv("CUBE_CACHE_DIR", str(on_cluster))
    monkeypatch.setattr(_dask, "MIN_PARTITION", 1)
    monkeypatch.setattr(_dask, "PARTITION_TEXTS", 16)  # 16 texts a task (fewer at the end)
    said: list[str] = []
    environment = dict(os.environ)
    with cube.distributed.cluster(workers=2, say=said.append) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        pids = set(client.run(os.getpid).values())
        threads = str(max(1, _onnx.workers() // 2))  # each worker's share of the cores
        for seen in client.run(lambda: dict(os.environ)).values():  # see _worker_environment
            assert "MALLOC_TRIM_THRESHOLD_" not in seen and seen["OMP_NUM_THREADS"] == threads
        vectors, stats = cube.embeddings.embed_with_stats(texts[:300], client=client)
    # Dask's nannies set OMP_NUM_THREADS=1 and more here for their workers: undone on exit,
    # or processes started later inherit one BLAS thread (and another UMAP reduction).
    assert dict(os.environ) == environment
    assert os.getpid() not in pids and len(pids) == 2  # other processes encoded them
    assert "2 worker(s)" in said[0] and "dashboard http://127.0.0.1:" in said[0]
    # The backend this CPU gets (int8 ONNX, or PyTorch where int8 products can overflow).
    assert stats.encoded == 300 and stats.backend == alone_stats.backend
    np.testing.assert_array_equal(vectors, alone)  # bit for bit
    assert _store_rows(on_cluster) == here  # identical caches
    assert list((on_cluster / "embeddings").rglob("*.vec"))  # written by the workers
    first = cube.topics.fit(texts[:300], alone, seed=0)
    second = cube.topics.fit(texts[:300], vectors, seed=0)
    assert first.topics_ == second.topics_
    again, stats = cube.embeddings.embed_with_stats(texts[:300])  # no cluster: all cached
    assert stats.cached == 300 and stats.encoded == 0
    np.testing.assert_array_equal(again, alone)


@CLUSTER[0]
@CLUSTER[1]
def test_a_worker_killed_mid_embedding_loses_nothing(texts, tmp_path, cube_cache, monkeypatch):
    texts = texts[:320]
    reference = cube.embed(texts)
    fresh = tmp_path / "cache"
    fresh.mkdir()
    (fresh / "onnx").symlink_to((cube_cache / "onnx").readlink(), target_is_directory=True)
    monkeypatch.setenv("CUBE_CACHE_DIR", str(fresh))
    monkeypatch.setattr(_dask, "MIN_PARTITION", 1)
    monkeypatch.setattr(_dask, "PARTITION_TEXTS", 16)  # a full PyTorch pass (fewer at the end)
    result: dict = {}
    with cube.distributed.cluster(workers=2, say=lambda _: None) as client:
        pids = list(client.run(os.getpid).values())

        def work() -> None:
            try:
                result["vectors"] = cube.embed(texts, client=client, show_progress=False)
            except BaseException as exc:  # reported below
                result["error"] = exc

        worker = threading.Thread(target=work)
        worker.start()
        deadline = time.monotonic() + 120
        while not list(fresh.glob("embeddings/*/*.vec")) and time.monotonic() < deadline:
            time.sleep(0.05)  # until a first partition is whole in the cache
        at_kill = len(_store_rows(fresh))
        os.kill(pids[0], signal.SIGKILL)
        worker.join(300)
        now = set(client.run(os.getpid).values())
    assert pids[0] not in now  # the worker was killed (and its nanny started another)
    assert 0 < at_kill < len(set(texts))  # mid-run: some partitions stored, others to do
    assert "error" not in result, result.get("error")
    np.testing.assert_array_equal(result["vectors"], reference)
    rows = _store_rows(fresh)
    assert len(rows) == len(set(texts))  # every text's vector is in the cache, and only those


def test_partitions_cover_every_row_once_and_shrink_so_workers_finish_together():
    for total, largest, workers in [
        (20_000, 2_000, 2),
        (1_000, 200, 2),
        (150, 2_000, 4),
        (1, 16, 2),
    ]:
        bounds = list(_dask.partitions(total, largest, workers))
        rows = np.concatenate([np.arange(start, stop) for start, stop in bounds])
        np.testing.assert_array_equal(rows, np.arange(total))  # each row once, in order
        sizes = [stop - start for start, stop in bounds]
        assert max(sizes) <= largest
        assert sizes == sorted(sizes, reverse=True)  # large while much is left, then smaller
        assert all(size >= min(largest, _dask.MIN_PARTITION) for size in sizes[:-1])
    sizes = [stop - start for start, stop in _dask.partitions(20_000, 2_000, 2)]
    # The last tasks are small: no worker idles while the other finishes a large one.
    assert sizes[0] == 2_000 and sizes[-2] == _dask.MIN_PARTITION
    sizes = [stop - start for start, stop in _dask.partitions(100, 16, 2, smallest=1)]
    assert sizes[:3] == [16, 16, 16] and sizes[-2:] == [1, 1] and sum(sizes) == 100


def test_cluster_options_fail_fast():
    with pytest.raises(cube.InputError, match="give one of them"):
        cube.distributed.check_cluster_options(2, "tcp://127.0.0.1:8786")
    with pytest.raises(cube.InputError, match="workers=0 is no number of processes"):
        cube.distributed.check_cluster_options(0, None)
    with pytest.raises(cube.InputError, match="not an address"):
        cube.distributed.check_cluster_options(None, "localhost")
    with pytest.raises(cube.InputError, match="client or an encoder"):
        cube.embed(["a"], client=object(), encoder=object())


@CLUSTER[0]
@CLUSTER[1]
def test_ctrl_c_on_a_local_cluster_leaves_nothing_behind(texts, tmp_path):
    """Ctrl-C mid-embedding: exit code 130, no output folder, no worker left running, and what
    the workers finished stays in the cache for the next run. (SIGTERM takes the same path in
    the command line: tests/test_bad_inputs.py.)"""
    import subprocess
    import sys
    import uuid

    import pandas as pd
    from test_browser_failures import survivors

    source = tmp_path / "texts.csv"
    more = cube.datasets.load("sotu-synthetic", sample=3000, seed=9)["text"].tolist()
    pd.DataFrame({"text": texts + more}).to_csv(source, index=False)
    marker = uuid.uuid4().hex
    env = {**os.environ, "CUBE_TEST_MARKER": marker, "TQDM_DISABLE": "1"}
    command = [sys.executable, "-m", "cube", "topics", str(source), "--workers", "2"]
    proc = subprocess.Popen(
        [*command, "--out", str(tmp_path / "out"), "--formats", "html"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines = []
    for line in proc.stdout:  # until the workers are up and embedding
        lines.append(line)
        if "Dask:" in line:
            break
    cache = Path(os.environ["CUBE_CACHE_DIR"])
    deadline = time.monotonic() + 120
    while not list(cache.glob("embeddings/*/*.vec")) and time.monotonic() < deadline:
        time.sleep(0.05)  # until a first partition is whole in the cache
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()
    deadline = time.monotonic() + 15
    while survivors(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not survivors(marker), "Dask's scheduler and workers were stopped"
    kept = _store_rows(cache)
    assert 0 < len(kept) < len(set(texts + more))  # the finished partitions were kept


@CLUSTER[0]
@CLUSTER[1]
def test_words_counted_and_documents_assigned_on_the_workers_are_the_ones_made_here(
    sotu_600, monkeypatch
):
    """c-TF-IDF's map on the workers (a few partitions in flight), its reduce here; the
    documents outside the sample compared with the topics there, from the cache."""
    from distributed import get_task_stream

    from cube.topics import _sample

    monkeypatch.setenv("CUBE_CACHE_DIR", str(sotu_600["cache"]))  # its vectors, reductions
    docs, vectors = sotu_600["docs"], sotu_600["vectors"]
    made = cube.topics.fit_on_sample(docs, vectors, sample_size=300, seed=0)
    parts = [(docs[i : i + 50], made.topics[i : i + 50]) for i in range(0, len(docs), 50)]
    here = cube.topics.count_terms_by_topic(made.topic_model, parts)
    kept, stats = cube.embeddings.embed_with_stats(docs, in_memory=False)
    assert stats.encoded == 0 and isinstance(kept, cube.embeddings.CachedVectors)
    monkeypatch.setattr(_sample, "_BLOCK", 100)  # the 300 outside the sample in 3 tasks

    with cube.distributed.cluster(workers=2, say=lambda _: None) as client:
        with get_task_stream(client) as counting:
            there = cube.topics.count_terms_by_topic(made.topic_model, parts, client=client)
        with get_task_stream(client) as fitting:
            again = cube.topics.fit_on_sample(docs, kept, sample_size=300, seed=0, client=client)
        # Vectors in memory: the words counted there, the rest compared here.
        in_memory = cube.topics.fit_on_sample(docs, vectors, sample_size=300, seed=0, client=client)
    keys = [str(task["key"]) for task in counting.data]
    counted = [k for k in keys if "_count_partition" in k]
    assert len(counted) == len(parts), keys  # each partition counted as a Dask task
    keys = [str(task["key"]) for task in fitting.data]
    assert len([k for k in keys if "_nearest" in k]) == 3, keys  # the 300 others, 100 a task
    assert len([k for k in keys if "_count_partition" in k]) == 1, keys  # 600 documents
    assert here.shape == there.shape and (here != there).nnz == 0 and here.sum() > 0
    assert again.topics == made.topics  # the same topics for every document, the same words
    assert again.threshold == made.threshold
    assert in_memory.topics == made.topics and in_memory.threshold == made.threshold
    assert again.topic_model.get_topics() == made.topic_model.get_topics()
    assert again.topic_model.topic_sizes_ == made.topic_model.topic_sizes_


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@CLUSTER[0]
@CLUSTER[1]
def test_cube_topics_on_a_running_cluster_writes_what_one_process_writes(sotu_600, tmp_path):
    """`--scheduler` with a cluster cube did not start: a `dask scheduler` and two `dask worker`
    processes, as on a real cluster, sharing the cache folder. The command's results are those
    of the same command in one process, and the cluster is left running for its owner."""
    import subprocess
    import sys

    import pandas as pd

    source = tmp_path / "passages.csv"
    pd.DataFrame({"text": sotu_600["docs"]}).to_csv(source, index=False)
    empty = tmp_path / "cluster-cache"  # the workers embed every passage into it
    empty.mkdir()
    (empty / "onnx").symlink_to((sotu_600["cache"] / "onnx").readlink(), target_is_directory=True)
    caches = {"one": sotu_600["cache"], "cluster": empty}
    dask = [sys.executable, "-m", "dask"]
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    # Started as docs/scale.md tells a cluster's owner: without Dask's MALLOC_TRIM_THRESHOLD_.
    settings = tmp_path / "dask-config"
    settings.mkdir()
    (settings / "cube-workers.yaml").write_text(
        "distributed:\n  nanny:\n    pre-spawn-environ:\n      MALLOC_TRIM_THRESHOLD_: null\n"
    )
    on_cluster = {**os.environ, "CUBE_CACHE_DIR": str(empty), "DASK_CONFIG": str(settings)}
    started = [
        subprocess.Popen(
            [*dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
            **quiet,
        )
    ]
    try:
        for _ in range(2):
            started.append(
                subprocess.Popen(
                    [*dask, "worker", address, "--nthreads", "1", "--no-dashboard"],
                    env=on_cluster,
                    **quiet,
                )
            )
        from distributed import Client

        with Client(address, timeout="60s") as client:
            client.wait_for_workers(2, timeout=120)
            environments = client.run(lambda: dict(os.environ)).values()
            assert all("MALLOC_TRIM_THRESHOLD_" not in e for e in environments)
        common = ["--fit-sample", "300", "--formats", "html", "--sample", "all"]
        runs = {
            "one": [],
            "cluster": ["--scheduler", address],
        }
        for name, extra in runs.items():
            done = subprocess.run(
                [sys.executable, "-m", "cube", "topics", str(source), "--out",
                 str(tmp_path / name), *common, *extra],
                capture_output=True, text=True,
                env={**os.environ, "TQDM_DISABLE": "1", "CUBE_CACHE_DIR": str(caches[name])},
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
        assert list(empty.glob("embeddings/*/*.vec"))  # the workers' vectors
        for name in ("documents.csv", "topics.csv", "quality.csv"):
            assert (tmp_path / "one" / name).read_bytes() == (
                tmp_path / "cluster" / name
            ).read_bytes(), name
        summary = (tmp_path / "cluster" / "summary.json").read_text()
        assert address in summary  # "embedded_on": {"dask_scheduler": ...}
        assert all(process.poll() is None for process in started)  # not cube's to stop
    finally:
        for process in started:
            process.terminate()
        for process in started:
            process.wait(timeout=30)
