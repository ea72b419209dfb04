"""Embedding on a Dask cluster: workers encode partitions and write straight into the cache.

The client sends each worker a partition of the texts that are missing from the cache; the
worker encodes them with the same space (model, backend, options) and adds the vectors to the
same content-addressed store, chunk by chunk, as :func:`cube.embed` does in one process. Only
texts and counts travel through the scheduler, never vectors: the client reads them back from
the store (memory-mapped). So the workers must see the client's cache folder: a shared file
system on a real cluster, the same disk on a ``LocalCluster``.

Each text's vector depends on that text alone (one text per ONNX pass; PyTorch in fixed-shape
batches), so the bytes stored are the same whichever worker computed them. A worker that dies
loses only its unfinished partition: Dask runs it again elsewhere, and what it had flushed is
already whole in the store.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from cube import _config
from cube._errors import InputError
from cube._progress import progress
from cube._texts import TextsOnDisk

if TYPE_CHECKING:
    from cube._store import VectorStore
    from cube.embeddings._backend import SpacePlan

PARTITION_TEXTS = 2_000  # texts per task at most: ~20 s on one core, little to redo if lost
MIN_PARTITION = 100  # and at least (fewer texts per task: more scheduling than work)


def partitions(
    total: int, largest: int, workers: int, smallest: int = MIN_PARTITION
) -> Iterator[tuple[int, int]]:
    """(start, stop) of each task's rows: ``largest`` rows while much is left, then a share of
    what is left (a ``2 * workers``-th), down to ``smallest`` (default :data:`MIN_PARTITION`;
    never more than ``largest``), so the workers finish together rather than one idling
    through the other's last large task.

    Example:
        >>> [stop - start for start, stop in partitions(1_000, 200, 2)]
        [200, 200, 150, 113, 100, 100, 100, 37]
        >>> [stop - start for start, stop in partitions(100, 16, 2, smallest=1)]
        [16, 16, 16, 13, 10, 8, 6, 4, 3, 2, 2, 1, 1, 1, 1]
    """
    smallest = min(smallest, largest)
    start = 0
    while start < total:
        size = max(smallest, min(largest, -(-(total - start) // (2 * workers))))
        yield start, min(total, start + size)
        start += size


def _worker_threads() -> int:
    """The threads the Dask worker running this task was given (1 outside a worker)."""
    try:
        from distributed import get_worker

        return max(1, int(get_worker().state.nthreads))
    except (ImportError, ValueError, AttributeError):
        return 1


def _embed_partition(
    texts: list[str], keys: np.ndarray, plan: SpacePlan, settings: dict[str, Any]
) -> int:
    """On a worker: encode ``texts`` into the plan's space and add them to its store."""
    from cube.embeddings._encode import open_encoder, run_steps

    threads = _worker_threads()
    with _config.config_context(**settings):
        if plan.space.backend == "torch":  # the threads this worker was given, whatever OMP says
            import torch

            torch.set_num_threads(threads)
        store = plan.space.store()
        encoder = open_encoder(texts, plan, threads=threads)
        try:
            run_steps(
                encoder, keys, plan.space, store, show_progress=False, compact=False, keep=False
            )
        finally:
            encoder.close()
    return len(texts)


def _lengths(texts: Sequence[str]) -> np.ndarray:
    """Each text's length: in UTF-8 bytes for texts on disk (read from their index), else in
    characters."""
    if isinstance(texts, TextsOnDisk):
        return texts.sizes()
    return np.fromiter(map(len, texts), np.int64, count=len(texts))


def encode_on_cluster(
    client: Any,
    texts: Sequence[str],
    keys: np.ndarray,
    *,
    plan: SpacePlan,
    store: VectorStore | None,
    show_progress: bool | None,
    partition: int | None = None,
    smallest: int = MIN_PARTITION,
    read_back: bool = True,
) -> np.ndarray | None:
    """Encode ``texts`` on ``client``'s workers into ``store``; their vectors, read back from it
    (``read_back=False``: only checked to be there, None returned).

    ``partition``: texts per task at most (default: four tasks per worker, within
    ``smallest`` … :data:`PARTITION_TEXTS`); the last tasks shrink to ``smallest`` (default
    :data:`MIN_PARTITION`), see :func:`partitions`.
    """
    workers = max(1, len(client.scheduler_info().get("workers", {})))
    if partition is None:  # at least four tasks per worker, so every worker has work
        partition = max(smallest, min(PARTITION_TEXTS, -(-len(texts) // (4 * workers))))
    if store is None:
        raise InputError(
            "embedding on a Dask cluster needs the cache (the workers write the vectors to it); "
            "turn the cache on (cache=True, CUBE_CACHE unset)"
        )
    from cube._parallel import results_as_finished

    plan.space.write_meta()  # fails early on an unwritable cache, before any work is sent
    run = uuid.uuid4().hex[:8]
    settings = dataclasses.asdict(_config.get_config())  # the workers use the client's

    # Longest texts first, and neighbours in length together: PyTorch pads each partition's
    # texts in passes of 16 of one length, so a partition that spans every length pads a pass
    # per length (at 10 texts a partition, 12 times the work); the longest start first.
    order = np.argsort(-_lengths(texts), kind="stable")

    def submit(rows_from_to: tuple[int, int]):
        start, stop = rows_from_to
        rows = order[start:stop]
        return client.submit(
            _embed_partition,
            texts[rows] if isinstance(texts, TextsOnDisk) else [texts[i] for i in rows],
            keys[rows],
            plan,
            settings,
            pure=False,
            key=f"cube-embed-{run}-{start}",
        )

    # A bounded number of partitions in flight, the next sent as one finishes: the scheduler
    # never holds a million texts at once.
    in_flight = max(8, 2 * sum(client.nthreads().values()))
    show = len(texts) >= 256 if show_progress is None else show_progress
    bar = progress(total=len(texts), desc="Embedding on the cluster", unit="text", disable=not show)
    try:
        tasks = partitions(len(texts), partition, workers, smallest)
        for done in results_as_finished(client, submit, tasks, in_flight):
            bar.update(done)
    finally:
        bar.close()
    store.compact()
    if read_back:
        found, vectors = store.get(keys)
    else:
        found, vectors = store.contains(keys), None
    if not found.all():
        lost = int((~found).sum())
        raise RuntimeError(
            f"{lost} of {len(keys)} vectors the workers reported are not in the cache"
        )
    return vectors
