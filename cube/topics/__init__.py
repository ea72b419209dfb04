"""Topic modeling with BERTopic and teaching defaults; results are plain ``BERTopic`` objects.

Example:
    >>> import cube
    >>> docs = cube.datasets.load("sotu", sample=2000)["text"].tolist()
    >>> vectors = cube.embed(docs)
    >>> topic_model = cube.topics.fit(docs, vectors)
    >>> figures = cube.topics.standard_figures(topic_model, docs, vectors)
"""

from cube.topics._figures import document_coordinates, standard_figures
from cube.topics._io import load, save
from cube.topics._model import (
    MIN_DOCUMENTS,
    build,
    default_min_topic_size,
    fit,
    make_embedder,
)
from cube.topics._reduce import CachedUMAP, reduce

__all__ = [
    "MIN_DOCUMENTS",
    "CachedUMAP",
    "build",
    "default_min_topic_size",
    "document_coordinates",
    "fit",
    "load",
    "make_embedder",
    "reduce",
    "save",
    "standard_figures",
]
