"""Seeded UMAP reductions, cached on disk like embeddings.

A reduction is keyed by a SHA-256 of the embeddings themselves plus every UMAP parameter and
the seed, so a second run with the same inputs skips UMAP entirely, and no figure has to run a
hidden, unseeded UMAP of its own.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time

import numpy as np

from cube import _config
from cube._store import load_matrix, save_matrix

DEFAULT_NEIGHBORS = 15


def _params(n_components: int, n_neighbors: int, min_dist: float, metric: str, seed: int) -> dict:
    return {
        "n_components": int(n_components),
        "n_neighbors": int(n_neighbors),
        "min_dist": float(min_dist),
        "metric": metric,
        "seed": int(seed),
    }


def embeddings_digest(embeddings: np.ndarray) -> str:
    """SHA-256 of the embeddings' shape and float32 bytes: the key of everything made from them."""
    data = np.ascontiguousarray(embeddings, dtype=np.float32)
    digest = hashlib.sha256(json.dumps(list(data.shape)).encode())
    digest.update(data.data)
    return digest.hexdigest()


def reduction_key(digest: str, params: dict, y: np.ndarray | None = None) -> str:
    key = hashlib.sha256(json.dumps({"embeddings": digest, **params}, sort_keys=True).encode())
    if y is not None:
        key.update(np.ascontiguousarray(y, dtype=np.int64).data)
    return key.hexdigest()[:40]


# The nearest-neighbour graph is shared by every reduction of the same embeddings (the 5-D one
# for clustering, the 2-D one for the documents map): computed once per process.
_knn_memo: dict[tuple, tuple] = {}


def _knn(embeddings: np.ndarray, digest: str, params: dict) -> tuple:
    from umap.umap_ import nearest_neighbors

    memo_key = (digest, params["n_neighbors"], params["metric"], params["seed"])
    if memo_key not in _knn_memo:
        _knn_memo.clear()  # keep one graph: it is as large as the corpus
        _knn_memo[memo_key] = nearest_neighbors(
            np.asarray(embeddings),
            params["n_neighbors"],
            params["metric"],
            {},
            False,
            np.random.RandomState(params["seed"]),
            low_memory=True,
            use_pynndescent=True,
            n_jobs=1,
        )
    return _knn_memo[memo_key]


def _umap(params: dict, knn: tuple):
    from umap import UMAP

    return UMAP(
        n_components=params["n_components"],
        n_neighbors=params["n_neighbors"],
        min_dist=params["min_dist"],
        metric=params["metric"],
        random_state=params["seed"],
        n_jobs=1,  # a seed makes UMAP single-threaded anyway; say so to skip its warning
        low_memory=True,
        precomputed_knn=knn,
    )


class ReductionStats:
    """Counts of cache hits and UMAP runs in this process (the benchmark and tests read it)."""

    hits = 0
    computed = 0
    seconds = 0.0


def reduce(
    embeddings: np.ndarray,
    n_components: int = 2,
    *,
    n_neighbors: int = DEFAULT_NEIGHBORS,
    min_dist: float = 0.0,
    metric: str = "cosine",
    seed: int = 0,
    y: np.ndarray | None = None,
) -> np.ndarray:
    """A seeded UMAP reduction of ``embeddings``, from the cache when it was computed before.

    Example:
        >>> coords = cube.topics.reduce(vectors, 2, seed=0)   # for a documents map
        >>> coords.shape
        (2000, 2)
    """
    params = _params(n_components, n_neighbors, min_dist, metric, seed)
    digest = embeddings_digest(embeddings)
    path = _config.reductions_dir() / f"{reduction_key(digest, params, y)}.vec"
    cached = load_matrix(path)
    if cached is not None and cached.shape == (len(embeddings), n_components):
        ReductionStats.hits += 1
        return cached
    started = time.perf_counter()
    knn = _knn(embeddings, digest, params)
    reduced = _umap(params, knn).fit_transform(np.asarray(embeddings), y=y)
    reduced = np.nan_to_num(np.asarray(reduced, dtype=np.float32))
    ReductionStats.computed += 1
    ReductionStats.seconds += time.perf_counter() - started
    with contextlib.suppress(OSError):  # an unwritable cache costs speed, not correctness
        save_matrix(path, reduced)
    return reduced


class CachedUMAP:
    """A UMAP stand-in for BERTopic whose ``fit_transform`` comes from the reduction cache.

    ``transform`` on documents other than the fitted ones (``topic_model.transform(new_docs)``)
    fits a real, identically seeded UMAP the first time it is needed.

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
    ) -> None:
        self.n_components = n_components
        self.n_neighbors = n_neighbors
        self.min_dist = min_dist
        self.metric = metric
        self.seed = seed

    def get_params(self, deep: bool = False) -> dict:
        return {
            "n_components": self.n_components,
            "n_neighbors": self.n_neighbors,
            "min_dist": self.min_dist,
            "metric": self.metric,
            "seed": self.seed,
        }

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> CachedUMAP:
        self.fit_transform(X, y=y)
        return self

    def fit_transform(self, X: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
        y = None if y is None or all(v is None for v in np.ravel(y)) else np.asarray(y)
        self._fit_X, self._fit_y = np.asarray(X), y
        self._umap_model = None
        self.embedding_ = reduce(X, y=y, **self.get_params())
        return self.embedding_

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        if X.shape == self._fit_X.shape and np.array_equal(X, self._fit_X):
            return self.embedding_
        if self._umap_model is None:
            params = _params(**self.get_params())
            knn = _knn(self._fit_X, embeddings_digest(self._fit_X), params)
            self._umap_model = _umap(params, knn).fit(self._fit_X, y=self._fit_y)
        return np.asarray(self._umap_model.transform(X), dtype=np.float32)
