"""Seeded, cached UMAP reductions of embeddings: the step between vectors and topics.

Example:
    >>> import cube
    >>> vectors = cube.embed(cube.datasets.load("sotu", sample=500)["text"].tolist())
    >>> cube.reduce(vectors, 2, seed=0).shape
    (500, 2)
"""

from cube.reductions._umap import (
    DEFAULT_NEIGHBORS,
    ReductionStats,
    UMAPParams,
    default_epochs,
    embeddings_digest,
    exact_knn,
    knn_graph,
    make_umap,
    reduce,
    reduce_with_stats,
    search_index,
)

__all__ = [
    "DEFAULT_NEIGHBORS",
    "ReductionStats",
    "UMAPParams",
    "default_epochs",
    "embeddings_digest",
    "exact_knn",
    "knn_graph",
    "make_umap",
    "reduce",
    "reduce_with_stats",
    "search_index",
]
