"""Saving and loading fitted models with safetensors (no pickle), reloadable offline."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from cube._errors import CubeError, InputError

if TYPE_CHECKING:  # pragma: no cover
    from bertopic import BERTopic

CUBE_META = "cube.json"


def save(topic_model: BERTopic, path: str | os.PathLike) -> Path:
    """Save a fitted model as safetensors + JSON (topics, c-TF-IDF, settings); no pickle.

    The embedding model is recorded in ``cube.json`` by name and fingerprint rather than as a
    hub pointer, so :func:`load` never needs the network.

    Example:
        >>> cube.topics.save(topic_model, "my-model")
    """
    from cube.embeddings import resolve_model

    path = Path(path)
    model_name = getattr(topic_model.embedding_model, "model_name", None)
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
    config_path.write_text(json.dumps(config, indent=2), encoding="utf-8")
    meta = {"format": 1, "embedding_model": model_name, "terms": _terms_of(topic_model)}
    if model_name:
        meta["embedding_fingerprint"] = resolve_model(model_name).fingerprint
    (path / CUBE_META).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return path


def load(path: str | os.PathLike, *, embedding_model: str | None = None) -> BERTopic:
    """Load a model saved by :func:`save`, with its embedding model (offline).

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
    topic_model = BERTopic.load(str(path), embedding_model=CubeEmbedder(name))
    if meta.get("terms") == "cube":  # BERTopic saves no callable analyzer: put cube's back
        from cube.topics._terms import TermAnalyzer

        topic_model.vectorizer_model.set_params(analyzer=TermAnalyzer())
    return topic_model


def _terms_of(topic_model: BERTopic) -> str:
    """Whether the model counts words with cube's :class:`TermAnalyzer` ("cube") or not."""
    from cube.topics._terms import TermAnalyzer

    analyzer = getattr(topic_model.vectorizer_model, "analyzer", None)
    return "cube" if isinstance(analyzer, TermAnalyzer) else "other"
