"""Saving and loading fitted models with safetensors (no pickle), reloadable offline."""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from cube._cache import atomic_write
from cube._errors import CubeError, InputError

if TYPE_CHECKING:  # pragma: no cover
    from bertopic import BERTopic

CUBE_META = "cube.json"


def save(topic_model: BERTopic, path: str | os.PathLike) -> Path:
    """Save a fitted model as safetensors + JSON (topics, c-TF-IDF, settings); no pickle.

    The embedding model is recorded in ``cube.json`` by name and fingerprint rather than as a
    hub pointer, so :func:`load` never needs the network, with the embedding space its
    topics were fitted in (backend, options, cache space), which :func:`load` restores.

    Example:
        >>> cube.topics.save(topic_model, "my-model")
    """
    path = Path(path)
    embedder = topic_model.embedding_model
    plan = getattr(embedder, "plan", None)
    model_name = plan.resolved.name if plan is not None else getattr(embedder, "model_name", None)
    topic_model.save(
        path,
        serialization="safetensors",
        save_ctfidf=True,
        save_embedding_model=str(model_name or ""),
    )
    # BERTopic.load would hand this pointer to SentenceTransformer (and so to the hub).
    config_path = path / "config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config.pop("embedding_model", None)
    atomic_write(config_path, json.dumps(config, indent=2))
    meta: dict = {"format": 2, "embedding_model": model_name, "terms": _terms_of(topic_model)}
    if plan is not None:
        meta["embedding_fingerprint"] = plan.resolved.fingerprint
        meta["embedding"] = {**plan.record(), "options": asdict(plan.options)}
    elif model_name:
        from cube.embeddings import resolve_model

        meta["embedding_fingerprint"] = resolve_model(model_name).fingerprint
    atomic_write(path / CUBE_META, json.dumps(meta, indent=2))
    return path


def load(
    path: str | os.PathLike,
    *,
    embedding_model: str | None = None,
    embedding_backend: str | None = None,
) -> BERTopic:
    """Load a model saved by :func:`save`, with its embedding model (offline).

    New documents are embedded in the space the topics were fitted in: the same model, options
    and backend. A machine that cannot compute that space (int8 ONNX on a CPU without exact
    int8 products, another ONNX Runtime) is refused in one line, unless ``embedding_backend``
    (``"torch"`` or ``"onnx"``) says to embed new documents with another backend (its vectors
    differ slightly). ``embedding_model``: another model for new documents altogether.

    Example:
        >>> topic_model = cube.topics.load("my-model")
        >>> topic_model.get_topic(0)[:3]
    """
    from bertopic import BERTopic

    from cube.topics._components import CubeEmbedder

    path = Path(path)
    if not (path / "topics.json").is_file():
        raise InputError(f"{path} is not a saved topic model (no topics.json in it)")
    try:
        meta = json.loads((path / CUBE_META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {}
    name = embedding_model or meta.get("embedding_model")
    if not name:
        raise CubeError(f"{path} does not say which embedding model it used; pass embedding_model=")
    recorded = None if embedding_model else meta.get("embedding")
    plan = _restore_space(path, name, recorded, embedding_backend)
    topic_model = BERTopic.load(str(path), embedding_model=CubeEmbedder(plan))
    if meta.get("terms") == "cube":  # BERTopic saves no callable analyzer: put cube's back
        from cube.topics._terms import TermAnalyzer

        topic_model.vectorizer_model.set_params(analyzer=TermAnalyzer())
    return topic_model


def _restore_space(path: Path, name: str, recorded: dict | None, backend: str | None):
    """The embedding decision a saved model was fitted with, made again on this machine: the
    recorded backend and options, checked to give the recorded space."""
    from cube.embeddings import EmbedOptions, plan_space

    if recorded is None:  # saved before cube kept the space, or another model asked for
        return plan_space(name, backend=backend)
    options = EmbedOptions(**recorded.get("options", {}))
    fitted = f"{recorded['backend']} ({recorded.get('encoding')})"
    hint = "load it with embedding_backend='torch' (or 'onnx') to embed new documents anyway"
    try:
        plan = plan_space(name, options, backend=backend or recorded["backend"])
    except CubeError as exc:
        raise CubeError(
            f"{path}'s topics were fitted on vectors from {fitted}, which this machine cannot "
            f"compute ({exc}); {hint}"
        ) from exc
    if plan.resolved.fingerprint != recorded.get("model_fingerprint"):
        raise CubeError(
            f"{path} was fitted with another copy of {name} (other weights) than the one found "
            f"at {plan.resolved.path}; pass embedding_model= to use this one for new documents"
        )
    if backend is None and plan.space.key != recorded.get("space"):
        raise CubeError(
            f"{path}'s topics were fitted on vectors from {fitted}; this machine computes "
            f"{plan.backend.name} ({plan.space.encoding}), whose vectors differ; {hint}"
        )
    return plan


def _terms_of(topic_model: BERTopic) -> str:
    """Whether the model counts words with cube's :class:`TermAnalyzer` ("cube") or not."""
    from cube.topics._terms import TermAnalyzer

    analyzer = getattr(topic_model.vectorizer_model, "analyzer", None)
    return "cube" if isinstance(analyzer, TermAnalyzer) else "other"
