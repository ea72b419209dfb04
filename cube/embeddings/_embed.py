"""``cube.embed``: sentence embeddings behind a content-addressed on-disk cache.

The orchestrator: it looks each distinct text up in the space's cache, opens the backend's
:class:`~cube.embeddings._encoder.Encoder` on the texts that are missing, and writes their
vectors to the cache step by step as they are encoded.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cube import _cache, _config
from cube._errors import InputError
from cube._progress import progress
from cube._store import VectorStore, text_keys
from cube._texts import TextsOnDisk
from cube.embeddings import _onnx
from cube.embeddings._backend import BackendChoice, SpacePlan, plan_space
from cube.embeddings._cached import CachedVectors
from cube.embeddings._encoder import CustomEncoder, Encoder, TextEncoder, dimension
from cube.embeddings._models import ResolvedModel
from cube.embeddings._space import EmbeddingSpace, imported_twin

# Finished vectors are written to the cache at least this often (seconds), and whenever this
# many rows wait; tests set FLUSH_SECONDS to 0 to store every step as soon as it is done.
FLUSH_SECONDS = 5.0
FLUSH_ROWS = 4096
_PROGRESS_FROM = 256  # show a progress bar when at least this many texts need encoding


@dataclass(frozen=True)
class EmbedStats:
    """What one :func:`embed` call did.

    Example:
        >>> embed_with_stats(["A text.", "A text."])[1]
        EmbedStats(texts=2, duplicates=1, cached=0, encoded=1, backend='onnx')
    """

    texts: int
    duplicates: int  # texts that repeat an earlier text of the same call
    cached: int  # distinct texts found in the cache
    encoded: int  # distinct texts run through the model
    backend: str = "torch"  # "onnx" or "torch" (also for an encoder given to embed)


_READ_BLOCK = 100_000  # cached vectors read back at a time


def _as_text_list(texts: Iterable[str]) -> Sequence[str]:
    """The texts as a list; a :class:`~cube.datasets.TextsOnDisk` as it is (read when needed)."""
    if isinstance(texts, str):
        raise InputError("embed() takes a list of texts, not a single string; wrap it: [text]")
    if isinstance(texts, TextsOnDisk):
        return texts
    items = list(texts)
    bad = [i for i, t in enumerate(items) if not isinstance(t, str)]
    if bad:
        shown = ", ".join(str(i) for i in bad[:10]) + (" ..." if len(bad) > 10 else "")
        raise InputError(
            f"{len(bad)} of {len(items)} texts are not strings (positions {shown}); "
            "convert or drop them first"
        )
    return items


def embed(
    texts: Iterable[str],
    model: str | os.PathLike | ResolvedModel = _config.DEFAULT_MODEL,
    *,
    batch_size: int = 32,
    normalize: bool = False,
    device: str | None = None,
    prompt: str | None = None,
    max_seq_length: int | None = None,
    precision: str = "float32",
    truncate_dim: int | None = None,
    backend: str | BackendChoice | None = None,
    cache: bool | None = None,
    show_progress: bool | None = None,
    encoder: TextEncoder | None = None,
    client: Any = None,
) -> np.ndarray:
    """Embed texts with a sentence-transformers model; each distinct text is encoded once, ever.

    Vectors are cached on disk per text (see ``CUBE_CACHE_DIR``), so a second call, a
    shuffled corpus or a corpus with a few new texts only encodes what it has not seen.

    Args:
        texts: the texts, in order.
        model: a hub name (``all-MiniLM-L6-v2``), the path of a local model folder, or a
            :class:`ResolvedModel` (then it is not resolved again).
        batch_size: texts per forward pass.
        normalize: scale each vector to unit length.
        device: ``cpu``, ``cuda`` or ``mps``; by default the best one available.
        prompt: text put before every input (for models trained with prompts).
        max_seq_length: truncate inputs to this many tokens (default: the model's setting).
        precision: ``float32``, ``float16`` or ``bfloat16`` for the model's weights.
        truncate_dim: keep only the first dimensions (Matryoshka models).
        backend: ``auto`` (default; the ``embedding_backend`` setting), ``onnx`` (ONNX
            Runtime on the CPU, in int8, about 2x faster on 2 cores) or ``torch``
            (PyTorch, float32 exact), or a :class:`BackendChoice` from
            :func:`choose_backend` (used as decided). Their vectors differ slightly and are
            cached apart.
        cache: read and write the on-disk cache (default: the ``cache`` setting, on).
        show_progress: a progress bar; by default only when there is much to encode.
        encoder: anything with ``encode(texts) -> array`` (see :class:`TextEncoder`),
            used instead of loading ``model``. The prompt is put before each text and
            ``truncate_dim`` and ``normalize`` are applied to its vectors; ``max_seq_length``
            and ``precision`` are only part of the cache key. Its vectors are cached under
            ``model``'s fingerprint and the encoder's class name (a space whose
            ``encoding`` is ``"custom encoder <module.Class>"``), never mixed with the
            model's own: pass the folder the encoder was made from, or ``cache=False``.
            ``backend`` must then be left unset.
        client: a ``dask.distributed.Client``: the texts missing from the cache are encoded
            on its workers, in partitions, and written by them straight into the cache (which
            they must see: the same disk, or a shared file system); see
            :mod:`cube.distributed`. The vectors are the same as without it.

    Returns:
        A float32 array with one row per text, in input order.

    Example:
        >>> vectors = cube.embed(["The union is strong.", "Taxes were cut."])
        >>> vectors.shape
        (2, 384)
    """
    vectors, _ = embed_with_stats(
        texts,
        model,
        batch_size=batch_size,
        normalize=normalize,
        device=device,
        prompt=prompt,
        max_seq_length=max_seq_length,
        precision=precision,
        truncate_dim=truncate_dim,
        backend=backend,
        cache=cache,
        show_progress=show_progress,
        encoder=encoder,
        client=client,
    )
    return vectors


def embed_with_stats(
    texts: Iterable[str],
    model: str | os.PathLike | ResolvedModel = _config.DEFAULT_MODEL,
    *,
    batch_size: int = 32,
    normalize: bool = False,
    device: str | None = None,
    prompt: str | None = None,
    max_seq_length: int | None = None,
    precision: str = "float32",
    truncate_dim: int | None = None,
    backend: str | BackendChoice | None = None,
    cache: bool | None = None,
    show_progress: bool | None = None,
    encoder: TextEncoder | None = None,
    client: Any = None,
    in_memory: bool = True,
) -> tuple[np.ndarray | CachedVectors, EmbedStats]:
    """:func:`embed`, also returning what was encoded and what came from the cache.

    ``in_memory=False`` (the cache must be on): every vector is put in the cache, and what is
    returned is a :class:`CachedVectors`, which reads rows from the cache only when indexed:
    for a corpus whose vectors should not all be in memory at once (``cube topics`` with a
    fit sample reads the sample's, then the others a block at a time).

    Example:
        >>> vectors, stats = embed_with_stats(["A text.", "Another."])
        >>> stats.encoded, stats.cached
        (2, 0)
    """
    items = _as_text_list(texts)
    if client is not None and encoder is not None:
        raise InputError(
            "embed() takes a client or an encoder, not both: a custom encoder runs here"
        )
    if not in_memory and not (_cache.enabled() if cache is None else cache):
        raise InputError(
            "in_memory=False keeps the vectors in the cache, which is off; turn it on "
            "(cache=True, CUBE_CACHE unset) or leave in_memory=True"
        )
    plan = plan_space(
        model,
        normalize=normalize,
        max_seq_length=max_seq_length,
        prompt=prompt,
        precision=precision,
        truncate_dim=truncate_dim,
        backend=backend,
        device=device,
        encoder=encoder,
    )
    space = plan.space
    keys = text_keys(items)
    # Distinct texts, in the order they first appear: duplicates are encoded once, and a
    # corpus without repeats is encoded in its own order (its vectors need no reordering copy).
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    order = np.argsort(first)
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    first, inverse = first[order], rank[inverse.reshape(-1)]
    unique_keys = keys[first]
    use_cache = _cache.enabled() if cache is None else cache
    store = space.store() if use_cache else None

    found = np.zeros(len(first), dtype=bool)
    vectors: np.ndarray | None = None
    # An imported archive's vectors first (the room's), then this space's own.
    twin = imported_twin(space) if store is not None and encoder is None else None
    sources = [s for s in (twin.store() if twin else None, store) if s is not None]
    for source in sources:
        if found.all():
            break
        # In blocks: the rows read back never take a second copy of the corpus's vectors.
        looking = np.flatnonzero(~found)
        for start in range(0, len(looking), _READ_BLOCK):
            looked = looking[start : start + _READ_BLOCK]
            if not in_memory:  # only whether they are there
                found[looked[source.contains(unique_keys[looked])]] = True
                continue
            hit, hit_vectors = source.get(unique_keys[looked])
            if hit_vectors is not None and len(hit_vectors):
                if vectors is None:
                    vectors = np.empty((len(items), hit_vectors.shape[1]), np.float32)
                vectors[first[looked[hit]]] = hit_vectors
                found[looked[hit]] = True

    missing = np.flatnonzero(~found)
    if len(missing):
        if client is not None:  # on a Dask cluster's workers, into the same store
            from cube.embeddings._dask import encode_on_cluster

            encode = functools.partial(encode_on_cluster, client)
        else:
            encode = functools.partial(_encode_missing, encoder=encoder)
        encoded = encode(
            items.take(first[missing])
            if isinstance(items, TextsOnDisk)
            else [items[first[i]] for i in missing],
            unique_keys[missing],
            plan=plan,
            store=store,
            batch_size=batch_size,
            device=device,
            show_progress=show_progress,
            read_back=in_memory,
        )
        if not in_memory:
            del encoded  # in the cache now
        elif vectors is None and len(missing) == len(items):  # all new, no repeats: as is
            vectors = encoded
        else:
            if vectors is None:
                vectors = np.empty((len(items), encoded.shape[1]), np.float32)
            vectors[first[missing]] = encoded
    stats = EmbedStats(
        texts=len(items),
        duplicates=len(items) - len(first),
        cached=int(found.sum()),
        encoded=len(missing),
        backend=space.backend,
    )
    if not in_memory:
        dim = next((d for d in (s.dim() for s in sources) if d), None)
        if len(items) and not dim:
            raise RuntimeError("the vectors just cached are not in the cache")
        if not dim:  # no texts at all
            dim = _empty_dim(store, encoder, plan, device, precision, truncate_dim)
        return CachedVectors(sources, keys, dim), stats
    if vectors is None:  # no texts at all
        dim = _empty_dim(store, encoder, plan, device, precision, truncate_dim)
        return np.empty((0, dim), np.float32), stats
    # vectors holds each distinct text's vector at its first row: copy it to the repeats.
    repeats = np.flatnonzero(first[inverse] != np.arange(len(items)))
    vectors[repeats] = vectors[first[inverse[repeats]]]
    return vectors, stats


def _empty_dim(store, encoder, plan: SpacePlan, device, precision, truncate_dim) -> int:
    """The vectors' dimension when there are no texts: the store's, the encoder's (0 if it
    cannot say) or the model's (loading it)."""
    dim = store.dim() if store else None
    if not dim:
        if encoder is not None:
            dim = dimension(encoder) or 0
        else:
            from cube.embeddings import _torch

            dim = _torch.model_dim(plan.resolved, device, precision)
    return int(truncate_dim or dim)


def _open_encoder(
    texts: list[str],
    plan: SpacePlan,
    *,
    batch_size: int,
    device: str | None,
    encoder: TextEncoder | None,
    threads: int | None = None,
) -> Encoder:
    """The encoder of ``texts`` for the plan's space: one factory per backend.

    ``threads``: the ONNX encoder's threads (default: the cores this process may use).
    """
    if isinstance(texts, TextsOnDisk) and (encoder is not None or plan.space.backend != "onnx"):
        texts = list(texts)  # these tokenize or encode every text at once anyway
    if encoder is not None:
        return CustomEncoder(encoder, texts, plan.space, batch_size)
    if plan.space.backend == "onnx":
        assert plan.layout is not None
        return _onnx.open_encoder(texts, plan.resolved, plan.space, plan.layout, threads=threads)
    from cube.embeddings import _torch  # the PyTorch backend's module, when it is used

    return _torch.open_encoder(
        texts, plan.resolved, plan.space, device=device, batch_size=batch_size
    )


def _encode_missing(
    texts: list[str],
    keys: np.ndarray,
    *,
    plan: SpacePlan,
    store: VectorStore | None,
    batch_size: int,
    device: str | None,
    show_progress: bool | None,
    encoder: TextEncoder | None = None,
    read_back: bool = True,
) -> np.ndarray | None:
    """Encode texts, writing finished steps to the cache as work proceeds.

    Each text's vector depends on that text alone, never on the texts that share its batch
    (see :class:`~cube.embeddings._torch._BatchIndependentEncoder`; ONNX runs one text per
    pass). Steps are flushed to the store every few seconds, so an interrupted run keeps
    what it finished. ``read_back=False``: the vectors only go to the store (None returned).
    """
    opened = _open_encoder(texts, plan, batch_size=batch_size, device=device, encoder=encoder)
    try:
        return _run_steps(opened, keys, plan.space, store, show_progress, keep=read_back)
    finally:
        opened.close()


def _run_steps(
    encoder: Encoder,
    keys: np.ndarray,
    space: EmbeddingSpace,
    store: VectorStore | None,
    show_progress: bool | None,
    *,
    compact: bool = True,
    keep: bool = True,
) -> np.ndarray | None:
    """Encode each of the encoder's steps, with a progress bar, flushing to the store as it goes.

    ``compact=False`` leaves merging the store's chunks to the caller (a cluster's client
    merges once, after every worker has written). ``keep=False`` (with a store): a step's
    vectors are let go once stored, and None is returned.
    """
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

    show = total >= _PROGRESS_FROM if show_progress is None else show_progress
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
            if time.monotonic() - last_flush >= FLUSH_SECONDS or buffered >= FLUSH_ROWS:
                flush()
    finally:
        # Also on Ctrl-C: keep the steps that finished.
        flush()
        bar.close()
    if store is not None and compact:
        store.compact()
    assert out is not None or not keep
    return out
