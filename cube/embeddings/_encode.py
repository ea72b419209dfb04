"""Encoding the texts a space's cache is missing, step by step, flushing to the cache as it
goes: the loop :func:`cube.embed` runs in this process and a Dask worker runs on its partition.
"""

from __future__ import annotations

import time

import numpy as np

from cube import _config
from cube._progress import progress
from cube._store import VectorStore
from cube._texts import TextsOnDisk
from cube.embeddings import _onnx
from cube.embeddings._backend import SpacePlan
from cube.embeddings._encoder import CustomEncoder, Encoder
from cube.embeddings._space import EmbeddingSpace

# Finished vectors are written to the cache whenever this many rows wait (and at least every
# `flush_seconds` of the settings).
FLUSH_ROWS = 4096
PROGRESS_FROM = 256  # show a progress bar when at least this many texts need encoding


def open_encoder(texts: list[str], plan: SpacePlan, *, threads: int | None = None) -> Encoder:
    """The encoder of ``texts`` for the plan's space: one factory per backend.

    ``threads``: the ONNX encoder's threads (default: the cores this process may use).
    """
    encoder, options = plan.encoder, plan.options
    if isinstance(texts, TextsOnDisk) and (encoder is not None or plan.space.backend != "onnx"):
        texts = list(texts)  # these tokenize or encode every text at once anyway
    if encoder is not None:
        return CustomEncoder(encoder, texts, plan.space, options.batch_size)
    if plan.space.backend == "onnx":
        assert plan.layout is not None
        return _onnx.open_encoder(texts, plan.resolved, plan.space, plan.layout, threads=threads)
    from cube.embeddings import _torch  # the PyTorch backend's module, when it is used

    return _torch.open_encoder(
        texts, plan.resolved, plan.space, device=options.device, batch_size=options.batch_size
    )


def encode_missing(
    texts: list[str],
    keys: np.ndarray,
    *,
    plan: SpacePlan,
    store: VectorStore | None,
    show_progress: bool | None,
    read_back: bool = True,
) -> np.ndarray | None:
    """Encode texts, writing finished steps to the cache as work proceeds.

    Each text's vector depends on that text alone, never on the texts that share its batch
    (see :class:`~cube.embeddings._torch._BatchIndependentEncoder`; ONNX runs one text per
    pass). Steps are flushed to the store every few seconds, so an interrupted run keeps
    what it finished. ``read_back=False``: the vectors only go to the store (None returned).
    """
    opened = open_encoder(texts, plan)
    try:
        return run_steps(opened, keys, plan.space, store, show_progress, keep=read_back)
    finally:
        opened.close()


def run_steps(
    encoder: Encoder,
    keys: np.ndarray,
    space: EmbeddingSpace,
    store: VectorStore | None,
    show_progress: bool | None,
    *,
    compact: bool = True,
    keep: bool = True,
    flush_seconds: float | None = None,
    flush_rows: int = FLUSH_ROWS,
) -> np.ndarray | None:
    """Encode each of the encoder's steps, with a progress bar, flushing to the store as it goes.

    ``compact=False`` leaves merging the store's chunks to the caller (a cluster's client
    merges once, after every worker has written). ``keep=False`` (with a store): a step's
    vectors are let go once stored, and None is returned. Finished steps go to the store at
    least every ``flush_seconds`` (default: the ``flush_seconds`` setting; 0: every step at
    once) and whenever ``flush_rows`` wait.
    """
    if flush_seconds is None:
        flush_seconds = _config.get_config().flush_seconds
    total = len(keys)
    keep = keep or store is None
    out: np.ndarray | None = None
    pending: list[tuple[np.ndarray, np.ndarray]] = []  # (positions, vectors) not yet stored
    last_flush = time.monotonic()
    if store is not None:
        space.write_meta()  # also fails early, before any encoding, on an unwritable cache

    def flush() -> None:
        nonlocal pending, last_flush
        if store is not None and pending:
            rows = np.concatenate([r for r, _ in pending])
            store.add(keys[rows], np.concatenate([v for _, v in pending]))
        pending, last_flush = [], time.monotonic()

    show = total >= PROGRESS_FROM if show_progress is None else show_progress
    bar = progress(total=total, desc="Embedding", unit="text", disable=not show)
    try:
        for rows in encoder.steps():
            vectors = np.asarray(encoder.encode(rows), dtype=np.float32)
            if keep:
                if out is None:
                    out = np.empty((total, vectors.shape[1]), np.float32)
                out[rows] = vectors
            pending.append((np.asarray(rows), vectors))
            bar.update(len(rows))
            buffered = sum(len(r) for r, _ in pending)
            if time.monotonic() - last_flush >= flush_seconds or buffered >= flush_rows:
                flush()
    finally:
        # Also on Ctrl-C: keep the steps that finished.
        flush()
        bar.close()
    if store is not None and compact:
        store.compact()
    assert out is not None or not keep
    return out
