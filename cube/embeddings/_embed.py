"""``cube.embed``: sentence embeddings behind a content-addressed on-disk cache."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass

import numpy as np

from cube import _cache, _config
from cube._cache import atomic_write
from cube._errors import CubeError, InputError
from cube._progress import progress
from cube._store import VectorStore, text_keys
from cube.embeddings._models import (
    ResolvedModel,
    default_max_seq_length,
    load_model,
    pick_device,
    resolve_model,
)

_FLUSH_SECONDS = 5.0  # write finished batches to the cache at least this often
_FLUSH_ROWS = 4096
_PROGRESS_FROM = 256  # show a progress bar when at least this many texts need encoding


@dataclass(frozen=True)
class EmbeddingSpace:
    """Everything that changes a vector besides the text itself.

    Two calls with the same space and the same text get the same cached vector; change any
    field and the cache misses.
    """

    model: str  # the name the user gave, for display only (not part of the key)
    fingerprint: str
    normalize: bool
    max_seq_length: int | None
    prompt: str | None
    precision: str
    truncate_dim: int | None

    @property
    def key(self) -> str:
        fields = asdict(self)
        fields.pop("model")
        return _cache.fingerprint(fields, length=32)

    def store(self) -> VectorStore:
        return VectorStore(_cache.embeddings_dir() / self.key)

    def write_meta(self) -> None:
        """Record what this space is, for ``cube cache info`` and ``cube cache clear --model``."""
        path = _cache.embeddings_dir() / self.key / "space.json"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, json.dumps(asdict(self), indent=1))
        except OSError as exc:
            raise CubeError(
                f"cannot write to the cache at {path.parent} ({exc.strerror}); "
                "set CUBE_CACHE_DIR to a writable folder"
            ) from exc


def _as_text_list(texts: Iterable[str]) -> list[str]:
    if isinstance(texts, str):
        raise InputError("embed() takes a list of texts, not a single string; wrap it: [text]")
    items = list(texts)
    bad = [i for i, t in enumerate(items) if not isinstance(t, str)]
    if bad:
        shown = ", ".join(str(i) for i in bad[:10]) + (" ..." if len(bad) > 10 else "")
        raise InputError(
            f"{len(bad)} of {len(items)} texts are not strings (positions {shown}); "
            "convert or drop them first"
        )
    return items


def embedding_space(
    model: str | os.PathLike = _config.DEFAULT_MODEL,
    *,
    normalize: bool = False,
    max_seq_length: int | None = None,
    prompt: str | None = None,
    precision: str = "float32",
    truncate_dim: int | None = None,
    resolved: ResolvedModel | None = None,
) -> EmbeddingSpace:
    """The cache space that :func:`embed` with these arguments reads and writes."""
    resolved = resolved or resolve_model(model)
    config_len = resolved.config.get("max_seq_length")
    return EmbeddingSpace(
        model=os.fspath(model),
        fingerprint=resolved.fingerprint,
        normalize=bool(normalize),
        max_seq_length=max_seq_length or (int(config_len) if config_len else None),
        prompt=prompt or None,
        precision=precision,
        truncate_dim=truncate_dim,
    )


@dataclass(frozen=True)
class EmbedStats:
    """What one :func:`embed` call did."""

    texts: int
    duplicates: int  # texts that repeat an earlier text of the same call
    cached: int  # distinct texts found in the cache
    encoded: int  # distinct texts run through the model


def embed(
    texts: Iterable[str],
    model: str | os.PathLike = _config.DEFAULT_MODEL,
    *,
    batch_size: int = 32,
    normalize: bool = False,
    device: str | None = None,
    prompt: str | None = None,
    max_seq_length: int | None = None,
    precision: str = "float32",
    truncate_dim: int | None = None,
    cache: bool | None = None,
    show_progress: bool | None = None,
) -> np.ndarray:
    """Embed texts with a sentence-transformers model; each distinct text is encoded once, ever.

    Vectors are cached on disk per text (see ``CUBE_CACHE_DIR``), so a second call, a
    shuffled corpus or a corpus with a few new texts only encodes what it has not seen.

    Args:
        texts: the texts, in order.
        model: a hub name (``all-MiniLM-L6-v2``) or the path of a local model folder.
        batch_size: texts per forward pass.
        normalize: scale each vector to unit length.
        device: ``cpu``, ``cuda`` or ``mps``; by default the best one available.
        prompt: text put before every input (for models trained with prompts).
        max_seq_length: truncate inputs to this many tokens (default: the model's setting).
        precision: ``float32``, ``float16`` or ``bfloat16`` for the model's weights.
        truncate_dim: keep only the first dimensions (Matryoshka models).
        cache: read and write the on-disk cache (default: the ``cache`` setting, on).
        show_progress: a progress bar; by default only when there is much to encode.

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
        cache=cache,
        show_progress=show_progress,
    )
    return vectors


def embed_with_stats(
    texts: Iterable[str],
    model: str | os.PathLike = _config.DEFAULT_MODEL,
    *,
    batch_size: int = 32,
    normalize: bool = False,
    device: str | None = None,
    prompt: str | None = None,
    max_seq_length: int | None = None,
    precision: str = "float32",
    truncate_dim: int | None = None,
    cache: bool | None = None,
    show_progress: bool | None = None,
) -> tuple[np.ndarray, EmbedStats]:
    """:func:`embed`, also returning what was encoded and what came from the cache."""
    items = _as_text_list(texts)
    resolved = resolve_model(model)
    space = embedding_space(
        model,
        normalize=normalize,
        max_seq_length=max_seq_length,
        prompt=prompt,
        precision=precision,
        truncate_dim=truncate_dim,
        resolved=resolved,
    )
    keys = text_keys(items)
    # Distinct texts, first occurrence first: duplicates are encoded once.
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    unique_keys = keys[first]
    use_cache = _cache.enabled() if cache is None else cache
    store = space.store() if use_cache else None

    found = np.zeros(len(first), dtype=bool)
    unique_vectors: np.ndarray | None = None
    if store is not None:
        found, hit_vectors = store.get(unique_keys)
        if hit_vectors is not None and len(hit_vectors):
            unique_vectors = np.empty((len(first), hit_vectors.shape[1]), np.float32)
            unique_vectors[found] = hit_vectors

    missing = np.flatnonzero(~found)
    if len(missing):
        encoded = _encode_missing(
            [items[first[i]] for i in missing],
            unique_keys[missing],
            resolved=resolved,
            space=space,
            store=store,
            batch_size=batch_size,
            device=device,
            show_progress=show_progress,
        )
        if unique_vectors is None:
            unique_vectors = np.empty((len(first), encoded.shape[1]), np.float32)
        unique_vectors[missing] = encoded
    stats = EmbedStats(
        texts=len(items),
        duplicates=len(items) - len(first),
        cached=int(found.sum()),
        encoded=len(missing),
    )
    if unique_vectors is None:  # no texts at all
        dim = (store.dim() if store else None) or _model_dim(resolved, device, precision)
        return np.empty((0, truncate_dim or dim), np.float32), stats
    return unique_vectors[inverse], stats


def _model_dim(resolved: ResolvedModel, device: str | None, precision: str) -> int:
    model = load_model(resolved.path, pick_device(device), precision)
    get_dim = (
        getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    )
    return int(get_dim())


def _encode_missing(
    texts: list[str],
    keys: np.ndarray,
    *,
    resolved: ResolvedModel,
    space: EmbeddingSpace,
    store: VectorStore | None,
    batch_size: int,
    device: str | None,
    show_progress: bool | None,
) -> np.ndarray:
    """Encode texts, writing finished batches to the cache as work proceeds.

    Texts go longest first (as sentence-transformers does inside one call) so batches pad
    little; groups of a few batches are encoded per call and flushed to the store every few
    seconds, so an interrupted run keeps what it finished.
    """
    model = load_model(resolved.path, pick_device(device), space.precision)
    # The loaded model is shared between calls (load_model keeps it): give it this space's
    # length each time, its own default when the space has none, so one call's truncation
    # never leaks into a later call's vectors (or their cache key).
    model.max_seq_length = space.max_seq_length or default_max_seq_length(model)
    order = np.argsort([-len(t) for t in texts], kind="stable")
    group = max(batch_size * 4, 1)
    out: np.ndarray | None = None
    pending: list[np.ndarray] = []  # positions (into texts) encoded but not yet stored
    last_flush = time.monotonic()
    if store is not None:
        space.write_meta()  # also fails early, before any encoding, on an unwritable cache

    def flush() -> None:
        nonlocal pending, last_flush
        if store is not None and pending and out is not None:
            rows = np.concatenate(pending)
            store.add(keys[rows], out[rows])
        pending, last_flush = [], time.monotonic()

    show = len(texts) >= _PROGRESS_FROM if show_progress is None else show_progress
    bar = progress(total=len(texts), desc="Embedding", unit="text", disable=not show)
    try:
        for start in range(0, len(texts), group):
            rows = order[start : start + group]
            vectors = model.encode(
                [texts[i] for i in rows],
                batch_size=batch_size,
                normalize_embeddings=space.normalize,
                prompt=space.prompt,
                truncate_dim=space.truncate_dim,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            vectors = np.asarray(vectors, dtype=np.float32)
            if out is None:
                out = np.empty((len(texts), vectors.shape[1]), np.float32)
            out[rows] = vectors
            pending.append(rows)
            bar.update(len(rows))
            buffered = sum(len(p) for p in pending)
            if time.monotonic() - last_flush >= _FLUSH_SECONDS or buffered >= _FLUSH_ROWS:
                flush()
    finally:
        # Also on Ctrl-C: keep the batches that finished.
        flush()
        bar.close()
    if store is not None:
        store.compact()
    assert out is not None
    return out


def cache_spaces() -> list[dict]:
    """What the embedding cache holds: one dict per space (model, settings, rows, bytes)."""
    root = _cache.embeddings_dir()
    spaces = []
    for directory in sorted(root.iterdir()) if root.is_dir() else []:
        if not directory.is_dir():
            continue
        try:
            meta = json.loads((directory / "space.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            meta = {"model": "(unknown)"}
        rows, size = VectorStore(directory).stats()
        spaces.append(
            {"key": directory.name, "path": directory, **meta, "rows": rows, "bytes": size}
        )
    return spaces
