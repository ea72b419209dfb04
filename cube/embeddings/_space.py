"""Cache spaces: everything besides a text that changes its vector, hashed into a cache key."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields

from cube import _cache
from cube._cache import atomic_write, imported_space_keys
from cube._errors import CubeError
from cube._store import VectorStore


@dataclass(frozen=True)
class EmbedOptions:
    """How texts are embedded, besides the model and the backend: one value for every call.

    ``batch_size`` and ``device`` change how fast vectors come, the other fields what they
    are (they are part of the cache space).

    Example:
        >>> EmbedOptions(normalize=True).replace(batch_size=64)
        EmbedOptions(normalize=True, max_seq_length=None, prompt=None, precision='float32', truncate_dim=None, batch_size=64, device=None)
    """

    normalize: bool = False
    max_seq_length: int | None = None  # default: the model's own setting
    prompt: str | None = None  # put before every text (for models trained with prompts)
    precision: str = "float32"  # PyTorch weights: float32, float16 or bfloat16
    truncate_dim: int | None = None  # keep only the first dimensions (Matryoshka models)
    batch_size: int = 32
    device: str | None = None  # cpu, cuda or mps; default: the best one available

    def replace(self, **changes: object) -> EmbedOptions:
        """These options with some fields changed (unknown names are an error)."""
        unknown = set(changes) - {f.name for f in fields(self)}
        if unknown:
            raise TypeError(f"EmbedOptions has no field {sorted(unknown)[0]!r}")
        return EmbedOptions(**{**asdict(self), **changes})


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


def imported_twin(space: EmbeddingSpace) -> EmbeddingSpace | None:
    """The space an imported archive filled for the same model and settings, computed by
    another backend; None if there is none (or it is ``space`` itself).

    A laptop that imported a workshop's cache looks texts up there first, so every laptop in
    the room gets the same vectors for them, whichever backend it would use itself.

    Example:
        >>> imported_twin(embedding_space("all-MiniLM-L6-v2", backend="torch")).backend
        'onnx'
    """
    same = asdict(space)
    for name in ("model", "encoding", "precision"):
        same.pop(name)
    for key in imported_space_keys():
        if key == space.key:
            continue
        try:
            meta = json.loads((_cache.embeddings_dir() / key / "space.json").read_text("utf-8"))
            twin = EmbeddingSpace(**meta)
        except (OSError, ValueError, TypeError):
            continue
        fields = asdict(twin)
        if twin.key == key and all(fields[name] == value for name, value in same.items()):
            return twin
    return None


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
