"""Seeded, cached UMAP reductions of embeddings: the step between vectors and topics.

Example:
    >>> import cube
    >>> vectors = cube.embed(cube.datasets.load("sotu", sample=500)["text"].tolist())
    >>> cube.reduce(vectors, 2, seed=0).shape
    (500, 2)
    >>> made = cube.reductions.reduction(vectors, cube.reductions.UMAPParams(n_components=5))
    >>> made.from_cache
    False
"""

from cube._public import rehome
from cube.reductions._duplicates import (
    DUPLICATE_COSINE,
    NearDuplicates,
    near_duplicates,
    near_duplicates_note,
)
from cube.reductions._umap import (
    DEFAULT_NEIGHBORS,
    Neighbours,
    Reduction,
    UMAPParams,
    default_epochs,
    embeddings_digest,
    exact_knn,
    knn_graph,
    make_umap,
    reduce,
    reduction,
    search_index,
)

__all__ = [
    "DEFAULT_NEIGHBORS",
    "DUPLICATE_COSINE",
    "NearDuplicates",
    "Neighbours",
    "Reduction",
    "UMAPParams",
    "default_epochs",
    "embeddings_digest",
    "exact_knn",
    "knn_graph",
    "make_umap",
    "near_duplicates",
    "near_duplicates_note",
    "reduce",
    "reduction",
    "search_index",
]

rehome(globals(), __all__, __name__, reduce="cube")
