"""The pieces cube plugs into BERTopic, defined at module level so a fitted model pickles.

- :class:`CubeEmbedder`: BERTopic's embedding backend, through ``cube.embed`` and its cache;
- :class:`CachedUMAP`: a UMAP stand-in whose reductions come from ``cube.reduce``'s cache;
- :class:`TimedHDBSCAN`: HDBSCAN that remembers how long ``fit`` took.

Importing this module imports BERTopic and hdbscan: ``cube.topics`` loads it on first use.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence

import numpy as np
from bertopic.backend import BaseEmbedder
from hdbscan import HDBSCAN

from cube import _config
from cube.reductions import (
    DEFAULT_NEIGHBORS,
    UMAPParams,
    knn_graph,
    make_umap,
    reduce_with_stats,
    search_index,
)


class CubeEmbedder(BaseEmbedder):
    """BERTopic backend: every text is embedded once, ever (see ``cube.embed``).

    Example:
        >>> BERTopic(embedding_model=CubeEmbedder("all-MiniLM-L6-v2"))
    """

    def __init__(self, model_name: str | os.PathLike = _config.DEFAULT_MODEL) -> None:
        super().__init__()
        self.model_name = os.fspath(model_name)

    def embed(self, documents: Sequence[str], verbose: bool = False) -> np.ndarray:
        from cube.embeddings import embed

        return embed(list(documents), self.model_name, show_progress=verbose or None)


class TimedHDBSCAN(HDBSCAN):
    """HDBSCAN that remembers how long ``fit`` took, in ``fit_seconds_`` (stage timings)."""

    def fit(self, X, y=None, **kwargs):
        started = time.perf_counter()
        result = super().fit(X, y, **kwargs)
        self.fit_seconds_ = time.perf_counter() - started
        return result


class CachedUMAP:
    """A UMAP stand-in for BERTopic whose ``fit_transform`` comes from the reduction cache.

    ``transform`` on documents other than the fitted ones (``topic_model.transform(new_docs)``)
    fits a real, identically seeded UMAP the first time it is needed. After ``fit``,
    ``stats_`` says whether the reduction came from the cache.

    Example:
        >>> BERTopic(umap_model=CachedUMAP(n_components=5, seed=0))
    """

    def __init__(
        self,
        n_components: int = 5,
        n_neighbors: int = DEFAULT_NEIGHBORS,
        min_dist: float = 0.0,
        metric: str = "cosine",
        seed: int = 0,
        n_epochs: int | None = None,
    ) -> None:
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.metric = metric
        self.seed = seed
        self.n_epochs = n_epochs

    def get_params(self, deep: bool = False) -> dict:
        return {
            "n_components": self.n_components,
            "n_neighbors": self.n_neighbors,
            "min_dist": self.min_dist,
            "metric": self.metric,
            "seed": self.seed,
            "n_epochs": self.n_epochs,
        }

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> CachedUMAP:
        self.fit_transform(X, y=y)
        return self

    def fit_transform(self, X: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
        y = None if y is None or all(v is None for v in np.ravel(y)) else np.asarray(y)
        self._fit_X, self._fit_y = np.asarray(X), y
        self._umap_model = None
        self.embedding_, self.stats_ = reduce_with_stats(X, y=y, **self.get_params())
        return self.embedding_

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        if X.shape == self._fit_X.shape and np.array_equal(X, self._fit_X):
            return self.embedding_
        if self._umap_model is None:
            params = UMAPParams(**self.get_params()).resolved(len(self._fit_X))
            indices, distances, index = knn_graph(self._fit_X, params)
            # The fit's own graph (so the map is the cached one), and an index for new points.
            index = index or search_index(self._fit_X, params)
            knn = (indices, distances, index)
            self._umap_model = make_umap(params, knn).fit(self._fit_X, y=self._fit_y)
        return np.asarray(self._umap_model.transform(X), dtype=np.float32)
