"""Sentence embeddings with a content-addressed on-disk cache.

Example:
    >>> from cube.embeddings import embed
    >>> embed(["A first text.", "A second one."]).shape
    (2, 384)
"""

from cube._public import rehome
from cube.embeddings._backend import BackendChoice, choose_backend, embedding_space
from cube.embeddings._cached import CachedVectors
from cube.embeddings._embed import EmbedStats, embed, embed_with_stats
from cube.embeddings._encoder import TextEncoder
from cube.embeddings._models import ResolvedModel, pick_device, resolve_model
from cube.embeddings._onnx import export_in_background, export_is_cached
from cube.embeddings._space import EmbeddingSpace, cache_spaces

__all__ = [
    "BackendChoice",
    "CachedVectors",
    "EmbedStats",
    "EmbeddingSpace",
    "ResolvedModel",
    "TextEncoder",
    "cache_spaces",
    "choose_backend",
    "embed",
    "embed_with_stats",
    "embedding_space",
    "export_in_background",
    "export_is_cached",
    "pick_device",
    "resolve_model",
]

# help(), reprs and tracebacks say cube.embeddings (cube for cube.embed), not _embed.py.
rehome(globals(), __all__, __name__, embed="cube")
