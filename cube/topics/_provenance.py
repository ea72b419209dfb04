"""What produced a topic model: the data's fingerprint, the settings, the backend, the versions.

A topic number means nothing without the run that made it; :func:`provenance` is the record to
keep beside a model's tables (notebook 6 writes it to ``parameters.json``).
"""

from __future__ import annotations

import hashlib
import os
import platform
from collections.abc import Sequence
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cube._cache import file_sha256
from cube._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from cube.embeddings import SpacePlan

# The libraries whose versions can change a topic model's vectors, reductions, clusters or words.
LIBRARIES = (
    "bertopic",
    "umap-learn",
    "hdbscan",
    "pynndescent",
    "scikit-learn",
    "numpy",
    "sentence-transformers",
    "onnxruntime",
    "torch",
)


def texts_digest(texts: Sequence[str]) -> str:
    """SHA-256 of the texts, in order (each UTF-8 encoded and ended by a NUL byte).

    Example:
        >>> texts_digest(["a", "b"])[:12]
        '8fb20ef63ced'
    """
    digest = hashlib.sha256()
    for text in texts:
        digest.update(str(text).encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def library_versions() -> dict[str, str | None]:
    """The installed version of each of :data:`LIBRARIES` (None where one is not installed)."""
    versions: dict[str, str | None] = {"cube": __version__, "python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def provenance(
    texts: Sequence[str],
    *,
    settings: Any = None,
    data_file: str | os.PathLike | None = None,
    topic_model: Any = None,
    embedding: SpacePlan | None = None,
) -> dict[str, Any]:
    """A JSON-ready record of what produced a model fitted on ``texts``.

    It holds the texts' SHA-256 and count, the data file's path and SHA-256 (when given), the
    settings (a :class:`TopicSettings`), the embedding space that made the vectors (model,
    backend and why, options, cache space: int8 ONNX and float32 PyTorch vectors differ, and so
    can the topics), the versions of cube and of the libraries that shape the model, and the
    platform.

    The space is the fitted ``topic_model``'s (the one it was fitted in and embeds new
    documents in) or ``embedding``'s; with neither, the one this machine would decide now,
    which ``embedding["decided"]`` then says. Vectors read from an imported archive (a
    workshop's cache, computed by the instructor's backend) are counted under
    ``embedding["from_imported_cache"]``.

    Example:
        >>> record = provenance(texts, settings=settings, topic_model=topic_model)
        >>> record["embedding"]["backend"], record["versions"]["bertopic"]
        ('onnx', '0.17.4')
    """
    from cube import _config
    from cube.embeddings import plan_space

    record: dict[str, Any] = {"texts": {"count": len(texts), "sha256": texts_digest(texts)}}
    if data_file is not None:
        record["data_file"] = {"path": str(data_file), "sha256": file_sha256(Path(data_file))}
    if settings is not None:
        record["settings"] = {
            k: (str(v) if isinstance(v, os.PathLike) else v) for k, v in asdict(settings).items()
        }
    embedder = getattr(topic_model, "embedding_model", None)
    decided = "with the fit"
    if embedding is None and embedder is not None and hasattr(embedder, "plan"):
        embedding = embedder.plan
    if embedding is None:
        model = getattr(settings, "model", None) or _config.DEFAULT_MODEL
        embedding, decided = plan_space(model), "now, on this machine (no fitted model given)"
    stats = getattr(embedder, "stats", None)
    record["embedding"] = {
        **embedding.record(),
        "decided": decided,
        "from_imported_cache": getattr(stats, "imported", 0),
    }
    record["backend"] = {"name": embedding.backend.name, "reason": embedding.backend.reason}
    record["versions"] = library_versions()
    record["platform"] = {"machine": platform.machine(), "system": platform.system()}
    return record
