"""Cache spaces: everything besides a text that changes its vector, hashed into a cache key."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass
from typing import NamedTuple

from cube import _cache, _config
from cube._cache import atomic_write
from cube._errors import CubeError
from cube._store import VectorStore
from cube.embeddings import _onnx
from cube.embeddings._backend import BackendChoice, decide
from cube.embeddings._encoder import TextEncoder, custom_encoding
from cube.embeddings._models import ResolvedModel, as_resolved


@dataclass(frozen=True)
class EmbeddingSpace:
    """Everything that changes a vector besides the text itself.

    Two calls with the same space and the same text get the same cached vector; change any
    field and the cache misses.

    Example:
        >>> embedding_space("all-MiniLM-L6-v2", backend="torch").encoding
        'batch-independent: 16 rows x multiples of 16 tokens'
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
    # batch-dependence (issue #16), so they do not share cache entries. Vectors from an
    # encoder given to embed() say "custom encoder <its class>" here.
    encoding: str = ""

    @property
    def backend(self) -> str:
        """``onnx`` or ``torch`` (also for a custom encoder): what computes this space's vectors."""
        return "onnx" if self.encoding.startswith("onnxruntime") else "torch"

    @property
    def key(self) -> str:
        """The space's folder name in the cache: a hash of every field but ``model``."""
        fields = asdict(self)
        fields.pop("model")
        return _cache.fingerprint(fields, length=32)

    def store(self) -> VectorStore:
        """The vectors cached in this space."""
        return VectorStore(_cache.embeddings_dir() / self.key)

    def write_meta(self) -> None:
        """Record what this space is, for ``cube cache info`` and ``cube cache clear``."""
        path = _cache.embeddings_dir() / self.key / "space.json"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(path, json.dumps(asdict(self), indent=1))
        except OSError as exc:
            raise CubeError(
                f"cannot write to the cache at {path.parent} ({exc.strerror}); "
                "set CUBE_CACHE_DIR to a writable folder"
            ) from exc


def embedding_space(
    model: str | os.PathLike | ResolvedModel = _config.DEFAULT_MODEL,
    *,
    normalize: bool = False,
    max_seq_length: int | None = None,
    prompt: str | None = None,
    precision: str = "float32",
    truncate_dim: int | None = None,
    backend: str | BackendChoice | None = None,
    device: str | None = None,
    encoder: TextEncoder | None = None,
) -> EmbeddingSpace:
    """The cache space that :func:`embed` with these arguments reads and writes.

    ``model`` and ``backend`` may be already resolved and chosen (a :class:`ResolvedModel`,
    a :class:`BackendChoice`); they are then used as they are. With the ONNX backend this
    exports the model first, once (see :func:`choose_backend`).

    Example:
        >>> space = embedding_space("all-MiniLM-L6-v2", normalize=True)
        >>> space.backend, len(space.key)
        ('onnx', 32)
    """
    return plan_space(
        model,
        normalize=normalize,
        max_seq_length=max_seq_length,
        prompt=prompt,
        precision=precision,
        truncate_dim=truncate_dim,
        backend=backend,
        device=device,
        encoder=encoder,
    ).space


class SpacePlan(NamedTuple):
    """A space and what encoding into it needs: the model on disk, its ONNX layout if ONNX."""

    space: EmbeddingSpace
    resolved: ResolvedModel
    layout: _onnx.OnnxLayout | None


def plan_space(
    model: str | os.PathLike | ResolvedModel,
    *,
    normalize: bool,
    max_seq_length: int | None,
    prompt: str | None,
    precision: str,
    truncate_dim: int | None,
    backend: str | BackendChoice | None,
    device: str | None,
    encoder: TextEncoder | None,
) -> SpacePlan:
    """:func:`embedding_space`, with the model resolved and its layout read once for the encoder."""
    resolved = as_resolved(model)
    config_len = resolved.config.get("max_seq_length")
    model_layout = None
    if encoder is not None:
        _check_custom_encoder(encoder, backend)
        encoding = custom_encoding(encoder)
    else:
        from cube.embeddings import _torch  # light, but only PyTorch spaces need it

        choice, model_layout = decide(backend, resolved, device=device, precision=precision)
        encoding = _torch.ENCODING
        if choice.name == "onnx":
            encoding = _onnx.space_encoding(resolved)
            precision = "int8"
    space = EmbeddingSpace(
        model=resolved.name,
        fingerprint=resolved.fingerprint,
        normalize=bool(normalize),
        max_seq_length=max_seq_length or (int(config_len) if config_len else None),
        prompt=prompt or None,
        precision=precision,
        truncate_dim=truncate_dim,
        encoding=encoding,
    )
    return SpacePlan(space, resolved, model_layout)


def _check_custom_encoder(encoder: object, backend: str | BackendChoice | None) -> None:
    if not isinstance(encoder, TextEncoder):
        raise CubeError(
            f"encoder must have an encode(texts) method returning one vector per text; "
            f"a {type(encoder).__qualname__} has none"
        )
    name = backend.name if isinstance(backend, BackendChoice) else backend
    if name is not None and str(name).lower() not in ("auto", "torch"):
        raise CubeError(
            f"an encoder computes the vectors itself: leave backend unset with it, not {name!r}"
        )


def cache_spaces() -> list[dict]:
    """What the embedding cache holds: one dict per space (model, settings, rows, bytes).

    Example:
        >>> [(s["model"], s["rows"]) for s in cache_spaces()]
        [('all-MiniLM-L6-v2', 300)]
    """
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
