"""Sentence embeddings with a content-addressed on-disk cache.

Example:
    >>> from cube.embeddings import embed
    >>> embed(["A first text.", "A second one."]).shape
    (2, 384)
"""

from cube.embeddings._embed import (
    EmbeddingSpace,
    EmbedStats,
    cache_spaces,
    choose_backend,
    embed,
    embed_with_stats,
    embedding_space,
)
from cube.embeddings._models import ResolvedModel, pick_device, resolve_model

__all__ = [
    "EmbedStats",
    "EmbeddingSpace",
    "ResolvedModel",
    "cache_spaces",
    "choose_backend",
    "embed",
    "embed_with_stats",
    "embedding_space",
    "pick_device",
    "resolve_model",
]
