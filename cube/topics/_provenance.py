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
from typing import Any

from cube._version import __version__

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


def file_digest(path: str | os.PathLike) -> str:
    """SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
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
) -> dict[str, Any]:
    """A JSON-ready record of what produced a model fitted on ``texts``.

    It holds the texts' SHA-256 and count, the data file's path and SHA-256 (when given), the
    settings (a :class:`TopicSettings`), the backend that computes the vectors on this machine
    and why (int8 ONNX or float32 PyTorch: the vectors, and so the topics, can differ between
    them), the versions of cube and of the libraries that shape the model, and the platform.

    Example:
        >>> record = provenance(texts, settings=cube.topics.TopicSettings(seed=0))
        >>> record["backend"]["name"], record["versions"]["bertopic"]
        ('onnx', '0.17.4')
    """
    from cube import _config
    from cube.embeddings import choose_backend

    model = getattr(settings, "model", None) or _config.DEFAULT_MODEL
    record: dict[str, Any] = {"texts": {"count": len(texts), "sha256": texts_digest(texts)}}
    if data_file is not None:
        record["data_file"] = {"path": str(data_file), "sha256": file_digest(Path(data_file))}
    if settings is not None:
        record["settings"] = {
            k: (str(v) if isinstance(v, os.PathLike) else v) for k, v in asdict(settings).items()
        }
    choice = choose_backend(None, model)
    record["backend"] = {"name": choice.name, "reason": choice.reason}
    record["versions"] = library_versions()
    record["platform"] = {"machine": platform.machine(), "system": platform.system()}
    return record
