"""``cube.embed``: sentence embeddings behind a content-addressed on-disk cache.

The orchestrator: it looks each distinct text up in the space's cache, opens the backend's
:class:`~cube.embeddings._encoder.Encoder` on the texts that are missing, and writes their
vectors to the cache step by step as they are encoded.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from cube import _cache, _config
from cube._errors import InputError
from cube._store import text_keys
from cube._texts import TextsOnDisk
from cube.embeddings._backend import BackendChoice, SpacePlan, plan_space
from cube.embeddings._cached import CachedVectors
from cube.embeddings._encode import encode_missing
from cube.embeddings._encoder import TextEncoder, dimension
from cube.embeddings._models import ResolvedModel
from cube.embeddings._space import EmbedOptions, imported_twin


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
    # distinct texts found in an imported archive's space (a workshop's cache), computed by
    # the backend that filled it rather than this one
    imported: int = 0


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
    model: str | os.PathLike | ResolvedModel | SpacePlan = _config.DEFAULT_MODEL,
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
        model: a hub name (``all-MiniLM-L6-v2``), the path of a local model folder, a
            :class:`ResolvedModel` (then it is not resolved again), or a :class:`SpacePlan`
            from :func:`plan_space` (an embedding decision already made: model, backend and
            options are its own, and the arguments below that change vectors must be left
            at their defaults).
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
    asked = EmbedOptions(
        normalize=normalize,
        max_seq_length=max_seq_length,
        prompt=prompt,
        precision=precision,
        truncate_dim=truncate_dim,
        batch_size=batch_size,
        device=device,
    )
    # Only the options that differ from the defaults: a SpacePlan takes none.
    defaults = asdict(EmbedOptions())
    changed = {k: v for k, v in asdict(asked).items() if v != defaults[k]}
    vectors, _ = embed_with_stats(
        texts,
        model,
        backend=backend,
        encoder=encoder,
        cache=cache,
        show_progress=show_progress,
        client=client,
        **changed,
    )
    return vectors


def embed_with_stats(
    texts: Iterable[str],
    model: str | os.PathLike | ResolvedModel | SpacePlan = _config.DEFAULT_MODEL,
    options: EmbedOptions | None = None,
    *,
    backend: str | BackendChoice | None = None,
    encoder: TextEncoder | None = None,
    cache: bool | None = None,
    show_progress: bool | None = None,
    client: Any = None,
    in_memory: bool = True,
    **option_fields: Any,
) -> tuple[np.ndarray | CachedVectors, EmbedStats]:
    """:func:`embed`, also returning what was encoded and what came from the cache.

    ``model`` is a name, a folder, a :class:`ResolvedModel` or a :class:`SpacePlan` (then
    ``options``, ``backend`` and ``encoder`` are its own); ``options`` an
    :class:`EmbedOptions`, and ``option_fields`` its fields by name (``batch_size=64``).

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
    plan = plan_space(model, options, backend=backend, encoder=encoder, **option_fields)
    if client is not None and plan.encoder is not None:
        raise InputError(
            "embed() takes a client or an encoder model, not both: a custom encoder runs here"
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
    twin = imported_twin(space) if store is not None and plan.encoder is None else None
    sources = [s for s in (twin.store() if twin else None, store) if s is not None]
    imported = 0
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
        if twin is not None and source is sources[0]:
            imported = int(found.sum())

    missing = np.flatnonzero(~found)
    if len(missing):
        if client is not None:  # on a Dask cluster's workers, into the same store
            from cube.embeddings._dask import encode_on_cluster

            encode = functools.partial(encode_on_cluster, client)
        else:
            encode = encode_missing
        encoded = encode(
            items.take(first[missing])
            if isinstance(items, TextsOnDisk)
            else [items[first[i]] for i in missing],
            unique_keys[missing],
            plan=plan,
            store=store,
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
        imported=imported,
    )
    if not in_memory:
        dim = next((d for d in (s.dim() for s in sources) if d), None)
        if len(items) and not dim:
            raise RuntimeError("the vectors just cached are not in the cache")
        if not dim:  # no texts at all
            dim = _empty_dim(store, plan)
        return CachedVectors(sources, keys, dim), stats
    if vectors is None:  # no texts at all
        dim = _empty_dim(store, plan)
        return np.empty((0, dim), np.float32), stats
    # vectors holds each distinct text's vector at its first row: copy it to the repeats.
    repeats = np.flatnonzero(first[inverse] != np.arange(len(items)))
    vectors[repeats] = vectors[first[inverse[repeats]]]
    return vectors, stats


def _empty_dim(store, plan: SpacePlan) -> int:
    """The vectors' dimension when there are no texts: the store's, the encoder's (0 if it
    cannot say) or the model's (loading it)."""
    dim = store.dim() if store else None
    options = plan.options
    if not dim:
        if plan.encoder is not None:
            dim = dimension(plan.encoder) or 0
        else:
            from cube.embeddings import _torch

            dim = _torch.model_dim(plan.resolved, options.device, options.precision)
    return int(options.truncate_dim or dim)
