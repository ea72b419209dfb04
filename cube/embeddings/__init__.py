"""Sentence embeddings with a content-addressed on-disk cache.

Example:
    >>> from cube.embeddings import embed
    >>> embed(["A first text.", "A second one."]).shape
    (2, 384)
"""

from cube._public import rehome
from cube.embeddings._backend import (
    BackendChoice,
    SpacePlan,
    choose_backend,
    embedding_space,
    plan_space,
    register_encoder,
)
from cube.embeddings._cached import CachedVectors
from cube.embeddings._embed import EmbedStats, embed, embed_with_stats
from cube.embeddings._encoder import TextEncoder
from cube.embeddings._models import ResolvedModel, pick_device, resolve_model
from cube.embeddings._onnx import export_in_background, export_is_cached
from cube.embeddings._space import EmbeddingSpace, EmbedOptions, cache_spaces, imported_twin

__all__ = [
    "BackendChoice",
    "CachedVectors",
    "EmbedOptions",
    "EmbedStats",
    "EmbeddingSpace",
    "ResolvedModel",
    "SpacePlan",
    "TextEncoder",
    "cache_spaces",
    "choose_backend",
    "embed",
    "embed_with_stats",
    "embedding_space",
    "export_in_background",
    "export_is_cached",
    "imported_twin",
    "pick_device",
    "plan_space",
    "register_encoder",
    "resolve_model",
]

# help(), reprs and tracebacks say cube.embeddings (cube for cube.embed), not _embed.py.
rehome(globals(), __all__, __name__, embed="cube")
