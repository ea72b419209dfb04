"""Seeded UMAP reductions, cached on disk like embeddings.

A reduction is keyed by a fingerprint of the embeddings themselves plus every UMAP parameter
and the seed, so a second run with the same inputs skips UMAP entirely, and no figure has to
run a hidden, unseeded UMAP of its own.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import numpy as np

from cube import _cache
from cube._store import load_matrix, save_matrix

DEFAULT_NEIGHBORS = 15


@dataclass(frozen=True)
class UMAPParams:
    """Everything besides the embeddings that changes a reduction."""

    n_components: int = 2
    n_neighbors: int = DEFAULT_NEIGHBORS
    min_dist: float = 0.0
    metric: str = "cosine"
    seed: int = 0

    def as_dict(self) -> dict:
        return {
            "n_components": int(self.n_components),
            "n_neighbors": int(self.n_neighbors),
            "min_dist": float(self.min_dist),
            "metric": self.metric,
            "seed": int(self.seed),
        }


@dataclass(frozen=True)
class ReductionStats:
    """What one :func:`reduce_with_stats` call did."""

    from_cache: bool
    seconds: float  # spent running UMAP (0 when it came from the cache)


def embeddings_digest(embeddings: np.ndarray) -> str:
    """Fingerprint of the embeddings' shape and float32 bytes: the key of what is made from them."""
    data = np.ascontiguousarray(embeddings, dtype=np.float32)
    return _cache.fingerprint(list(data.shape), data)


def reduction_key(digest: str, params: UMAPParams, y: np.ndarray | None = None) -> str:
    labels = () if y is None else (np.asarray(y, dtype=np.int64),)
    return _cache.fingerprint({"embeddings": digest, **params.as_dict()}, *labels, length=40)


# The nearest-neighbour graph is shared by every reduction of the same embeddings (the 5-D one
# for clustering, the 2-D one for the documents map): computed once per process.
_knn_memo: dict[tuple, tuple] = {}


def knn_graph(embeddings: np.ndarray, params: UMAPParams, digest: str | None = None) -> tuple:
    """UMAP's nearest-neighbour graph of ``embeddings`` (kept for the last embeddings seen)."""
    from umap.umap_ import nearest_neighbors

    digest = digest or embeddings_digest(embeddings)
    memo_key = (digest, params.n_neighbors, params.metric, params.seed)
    if memo_key not in _knn_memo:
        _knn_memo.clear()  # keep one graph: it is as large as the corpus
        _knn_memo[memo_key] = nearest_neighbors(
            np.asarray(embeddings),
            params.n_neighbors,
            params.metric,
            {},
            False,
            np.random.RandomState(params.seed),
            low_memory=True,
            use_pynndescent=True,
            n_jobs=1,
        )
    return _knn_memo[memo_key]


def make_umap(params: UMAPParams, knn: tuple):
    """A seeded ``umap.UMAP`` that reuses a precomputed neighbour graph."""
    from umap import UMAP

    return UMAP(
        n_components=params.n_components,
        n_neighbors=params.n_neighbors,
        min_dist=params.min_dist,
        metric=params.metric,
        random_state=params.seed,
        n_jobs=1,  # a seed makes UMAP single-threaded anyway; say so to skip its warning
        low_memory=True,
        precomputed_knn=knn,
    )


def reduce_with_stats(
    embeddings: np.ndarray,
    n_components: int = 2,
    *,
    n_neighbors: int = DEFAULT_NEIGHBORS,
    min_dist: float = 0.0,
    metric: str = "cosine",
    seed: int = 0,
    y: np.ndarray | None = None,
) -> tuple[np.ndarray, ReductionStats]:
    """:func:`reduce`, also saying whether it came from the cache and how long UMAP took."""
    params = UMAPParams(n_components, n_neighbors, min_dist, metric, seed)
    digest = embeddings_digest(embeddings)
    path = _cache.reductions_dir() / f"{reduction_key(digest, params, y)}.vec"
    use_cache = _cache.enabled()
    cached = load_matrix(path) if use_cache else None
    if cached is not None and cached.shape == (len(embeddings), n_components):
        return cached, ReductionStats(from_cache=True, seconds=0.0)
    started = time.perf_counter()
    knn = knn_graph(embeddings, params, digest)
    reduced = make_umap(params, knn).fit_transform(np.asarray(embeddings), y=y)
    reduced = np.nan_to_num(np.asarray(reduced, dtype=np.float32))
    seconds = time.perf_counter() - started
    if use_cache:
        with contextlib.suppress(OSError):  # an unwritable cache costs speed, not correctness
            save_matrix(path, reduced)
    return reduced, ReductionStats(from_cache=False, seconds=seconds)


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
        >>> coords = cube.reduce(vectors, 2, seed=0)   # for a documents map
        >>> coords.shape
        (2000, 2)
    """
    reduced, _ = reduce_with_stats(
        embeddings,
        n_components,
        n_neighbors=n_neighbors,
        min_dist=min_dist,
        metric=metric,
        seed=seed,
        y=y,
    )
    return reduced
