"""``cube.embed``: sentence embeddings behind a content-addressed on-disk cache."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

import numpy as np

from cube import _cache, _config
from cube._cache import atomic_write
from cube._errors import CubeError, InputError
from cube._progress import progress
from cube._store import VectorStore, text_keys
from cube.embeddings import _onnx
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
    # How texts are batched. Vectors from sentence-transformers' own batching differ from
    # these in their last bits, and mixing the two in one space would bring back the
    # batch-dependence (issue #16), so they do not share cache entries.
    encoding: str = ""

    @property
    def backend(self) -> str:
        """``onnx`` or ``torch``: what computes this space's vectors."""
        return "onnx" if self.encoding.startswith("onnxruntime") else "torch"

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
    backend: str | None = None,
    device: str | None = None,
    resolved: ResolvedModel | None = None,
) -> EmbeddingSpace:
    """The cache space that :func:`embed` with these arguments reads and writes.

    With the ONNX backend this exports the model first, once (see :func:`choose_backend`).
    """
    resolved = resolved or resolve_model(model)
    config_len = resolved.config.get("max_seq_length")
    chosen, _ = choose_backend(backend, resolved, device=device, precision=precision)
    encoding = _ENCODING
    if chosen == "onnx":
        _, digest = _onnx.exported_model(
            resolved.path, resolved.fingerprint, cache=_cache.enabled()
        )
        precision = "int8"
        encoding = f"onnxruntime {_onnx.installed()}, export {digest[:16]}: one text per pass"
    return EmbeddingSpace(
        model=os.fspath(model),
        fingerprint=resolved.fingerprint,
        normalize=bool(normalize),
        max_seq_length=max_seq_length or (int(config_len) if config_len else None),
        prompt=prompt or None,
        precision=precision,
        truncate_dim=truncate_dim,
        encoding=encoding,
    )


def _may_have_gpu() -> bool:
    """Whether a CUDA or Apple GPU could be there, without importing PyTorch (~3 s) to ask."""
    import platform

    if platform.system() == "Darwin":
        return platform.machine() == "arm64"
    return os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/nvidia0")


def choose_backend(
    backend: str | None,
    resolved: ResolvedModel,
    *,
    device: str | None = None,
    precision: str = "float32",
) -> tuple[str, str]:
    """(``"onnx"`` or ``"torch"``, why) for a requested backend (default: the setting).

    ``auto`` takes ONNX Runtime with int8 weights on a CPU whose int8 products are exact
    (see :func:`~cube.embeddings._onnx.int8_products_safe`), for float32 models it can export
    (a transformer, mean or CLS pooling, optional normalization), and PyTorch otherwise.
    ``onnx`` raises :class:`CubeError` where it cannot run.

    Example:
        >>> choose_backend("auto", resolve_model("all-MiniLM-L6-v2"))
        ('onnx', 'int8 on CPU, onnxruntime 1.32.0')
    """
    requested = (backend or _config.get_config().embedding_backend or "auto").lower()
    if requested not in _onnx.BACKENDS:
        raise CubeError(
            f"unknown embedding backend {backend!r}; use one of {', '.join(_onnx.BACKENDS)}"
        )
    if requested == "torch":
        return "torch", "asked for"
    reasons = []
    runtime = _onnx.installed()
    if runtime is None:
        reasons.append("onnxruntime and onnx are not installed (pip install onnxruntime onnx)")
    if precision != "float32":
        reasons.append(f"precision {precision!r} is a PyTorch setting")
    model_layout = _onnx.layout(resolved.path)
    if isinstance(model_layout, str):
        reasons.append(f"the model cannot be exported: {model_layout}")
    if not reasons:
        chosen_device = device or _config.device_override()
        if chosen_device is None and requested == "auto" and _may_have_gpu():
            chosen_device = pick_device()  # a GPU, when there is one, is faster than int8
        if chosen_device not in (None, "cpu"):
            reasons.append(f"the ONNX backend runs on the CPU, not {chosen_device!r}")
    if not reasons:
        unsafe = _onnx.int8_products_safe()
        if unsafe:
            reasons.append(unsafe)
    if reasons:
        if requested == "onnx":
            raise CubeError(f"backend 'onnx' cannot be used: {reasons[0]}; use backend='torch'")
        return "torch", reasons[0]
    return "onnx", f"int8 on CPU, onnxruntime {runtime}"


@dataclass(frozen=True)
class EmbedStats:
    """What one :func:`embed` call did."""

    texts: int
    duplicates: int  # texts that repeat an earlier text of the same call
    cached: int  # distinct texts found in the cache
    encoded: int  # distinct texts run through the model
    backend: str = "torch"  # "onnx" or "torch"


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
    backend: str | None = None,
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
        backend: ``auto`` (default; the ``embedding_backend`` setting), ``onnx`` (ONNX
            Runtime on the CPU, in int8, about 2x faster on 2 cores) or ``torch``
            (PyTorch, float32 exact).
            Their vectors differ slightly and are cached apart.
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
        backend=backend,
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
    backend: str | None = None,
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
        backend=backend,
        device=device,
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
        backend=space.backend,
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

    Each text's vector depends on that text alone, never on the texts that share its batch
    (see :func:`_fixed_shape_batches`). Groups of a few batches are encoded per step and
    flushed to the store every few seconds, so an interrupted run keeps what it finished.
    """
    if space.backend == "onnx":
        return _encode_onnx(
            texts, keys, resolved=resolved, space=space, store=store, show_progress=show_progress
        )
    model = load_model(resolved.path, pick_device(device), space.precision)
    # The loaded model is shared between calls (load_model keeps it): give it this space's
    # length each time, its own default when the space has none, so one call's truncation
    # never leaks into a later call's vectors (or their cache key).
    model.max_seq_length = space.max_seq_length or default_max_seq_length(model)
    encoder = _BatchIndependentEncoder.for_model(model, texts, space)
    steps = encoder.steps(max(batch_size * 4, 1)) if encoder else None
    if steps is None:  # a model without token inputs: sentence-transformers' own batching
        order = np.argsort([-len(t) for t in texts], kind="stable")
        group = max(batch_size * 4, 1)
        steps = [order[start : start + group] for start in range(0, len(texts), group)]

    def encode(rows: np.ndarray) -> np.ndarray:
        if encoder is not None:
            return encoder.encode(rows)
        return model.encode(
            [texts[i] for i in rows],
            batch_size=batch_size,
            normalize_embeddings=space.normalize,
            prompt=space.prompt,
            truncate_dim=space.truncate_dim,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    return _run_steps(steps, encode, keys, space, store, len(texts), show_progress)


def _run_steps(
    steps: list[np.ndarray],
    encode: Callable[[np.ndarray], np.ndarray],
    keys: np.ndarray,
    space: EmbeddingSpace,
    store: VectorStore | None,
    total: int,
    show_progress: bool | None,
) -> np.ndarray:
    """Run ``encode`` on each step's rows, with a progress bar, flushing to the store as it goes."""
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

    show = total >= _PROGRESS_FROM if show_progress is None else show_progress
    bar = progress(total=total, desc="Embedding", unit="text", disable=not show)
    try:
        for rows in steps:
            vectors = np.asarray(encode(rows), dtype=np.float32)
            if out is None:
                out = np.empty((total, vectors.shape[1]), np.float32)
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


def _encode_onnx(
    texts: list[str],
    keys: np.ndarray,
    *,
    resolved: ResolvedModel,
    space: EmbeddingSpace,
    store: VectorStore | None,
    show_progress: bool | None,
) -> np.ndarray:
    """:func:`_encode_missing` with the int8 ONNX export: one text per pass, a few threads."""
    onnx_file, digest = _onnx.exported_model(
        resolved.path, resolved.fingerprint, cache=_cache.enabled()
    )
    model_layout = _onnx.layout(resolved.path)
    assert isinstance(model_layout, _onnx.OnnxLayout)
    encoder = _onnx.OnnxEncoder(
        onnx_file,
        digest,
        resolved.path,
        model_layout,
        max_seq_length=space.max_seq_length,
        prompt=space.prompt,
        truncate_dim=space.truncate_dim,
        normalize=space.normalize,
    )
    step = 64
    steps = [
        np.arange(start, min(start + step, len(texts))) for start in range(0, len(texts), step)
    ]
    try:
        return _run_steps(
            steps,
            lambda rows: encoder.encode([texts[i] for i in rows]),
            keys,
            space,
            store,
            len(texts),
            show_progress,
        )
    finally:
        encoder.close()


# The shape of every forward pass of the batch-independent encoder: this many rows, and a
# width in token columns that is the text's own length rounded up to a multiple of _BUCKET.
# Measured on 2 CPU cores against sentence-transformers' own encode (batch_size 32), with the
# same bytes for a text in 24 different compositions: 16 x 16 costs 1.24x; one text per pass
# (exact length, no padding at all) 2.5x; exact lengths with 4 or 8 rows were slower still (many
# small passes). Exact lengths with a varying row count are not batch-independent: the row
# count alone changes the matrix kernels' blocking, hence the last bits.
_FIXED_ROWS = 16
_BUCKET = 16
_ENCODING = f"batch-independent: {_FIXED_ROWS} rows x multiples of {_BUCKET} tokens"


class _BatchIndependentEncoder:
    """Encode so that a text's vector is bit-for-bit a function of the text alone.

    sentence-transformers pads each batch to its longest text, and torch's CPU kernels sum
    in an order that depends on the tensor's shape: a vector then changes in its last bits
    (about 1e-7) with the texts that happened to share its batch, and a topic model fitted
    on those vectors changes with what the cache already held. Here the shape of a text's
    forward pass depends on the text alone: it is padded (with the attention mask, as the
    tokenizer pads) to its length rounded up to a multiple of ``_BUCKET`` tokens, passes
    go by length bucket, and every pass has exactly ``_FIXED_ROWS`` rows, the last one of a
    bucket filled with repeats of a text. In a pass of fixed shape, a row's result does not
    depend on the other rows' contents or on its position.
    """

    def __init__(self, model, features: dict, lengths: np.ndarray, space: EmbeddingSpace):
        self.model = model
        self.features = features
        self.widths = -(-lengths // _BUCKET) * _BUCKET
        self.space = space
        tokenizer = getattr(model, "tokenizer", None)
        self.left = getattr(tokenizer, "padding_side", "right") == "left"

    @classmethod
    def for_model(
        cls, model, texts: list[str], space: EmbeddingSpace
    ) -> _BatchIndependentEncoder | None:
        """Tokenize all texts once, as sentence-transformers would; None for other models."""
        import torch

        preprocess = getattr(model, "preprocess", None)
        if preprocess is None:
            return None
        features = preprocess(texts, prompt=space.prompt)
        ids, mask = features.get("input_ids"), features.get("attention_mask")
        if not isinstance(ids, torch.Tensor) or not isinstance(mask, torch.Tensor):
            return None
        if ids.ndim != 2 or mask.shape != ids.shape or ids.shape[0] != len(texts):
            return None
        # Pad every token tensor to a multiple of _BUCKET columns once, so that any bucket's
        # width is a slice of it.
        extra = -ids.shape[1] % _BUCKET
        if extra:
            tokenizer = getattr(model, "tokenizer", None)
            pad_id = getattr(tokenizer, "pad_token_id", None) or 0
            left = getattr(tokenizer, "padding_side", "right") == "left"
            for name, value in list(features.items()):
                if isinstance(value, torch.Tensor) and value.shape[:2] == ids.shape:
                    pad = torch.full(
                        (value.shape[0], extra, *value.shape[2:]),
                        pad_id if name == "input_ids" else 0,
                        dtype=value.dtype,
                    )
                    features[name] = torch.cat([pad, value] if left else [value, pad], dim=1)
        lengths = features["attention_mask"].sum(dim=1).numpy()
        return cls(model, features, lengths, space)

    def steps(self, group: int) -> list[np.ndarray]:
        """Positions of the texts to encode per step: one bucket each, longest first."""
        order = np.argsort(-self.widths, kind="stable")
        rows = max(_FIXED_ROWS * (group // _FIXED_ROWS), _FIXED_ROWS)
        out = []
        for width in np.unique(self.widths)[::-1]:
            same = order[self.widths[order] == width]
            out.extend(same[start : start + rows] for start in range(0, len(same), rows))
        return out

    def encode(self, rows: np.ndarray) -> np.ndarray:
        """Vectors of ``rows``, which all fall in one length bucket."""
        import torch

        width = int(self.widths[rows[0]])
        out = []
        with torch.inference_mode():
            self.model.eval()
            for start in range(0, len(rows), _FIXED_ROWS):
                part = rows[start : start + _FIXED_ROWS]
                filled = np.concatenate([part, np.repeat(part[-1:], _FIXED_ROWS - len(part))])
                batch = self._features(torch.from_numpy(filled), width)
                vectors = self.model(batch)["sentence_embedding"]
                if self.space.truncate_dim:
                    vectors = vectors[:, : self.space.truncate_dim]
                if self.space.normalize:
                    vectors = torch.nn.functional.normalize(vectors, p=2, dim=1)
                out.append(vectors[: len(part)].float().cpu().numpy())
        return np.concatenate(out)

    def _features(self, rows, width: int) -> dict:
        """The tokenized rows, padded as the tokenizer pads to ``width`` columns."""
        import torch

        full = self.features["attention_mask"]
        columns = slice(full.shape[1] - width, None) if self.left else slice(0, width)
        batch = {}
        for name, value in self.features.items():
            if isinstance(value, torch.Tensor) and value.shape[:2] == full.shape:
                value = value[rows][:, columns]
            elif isinstance(value, torch.Tensor) and value.ndim and len(value) == len(full):
                value = value[rows]
            if isinstance(value, torch.Tensor):
                value = value.to(self.model.device)
            batch[name] = value
        return batch


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
