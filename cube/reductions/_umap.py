"""Seeded UMAP reductions, cached on disk like embeddings.

A reduction is keyed by a fingerprint of the embeddings themselves plus every UMAP parameter
and the seed, so a second run with the same inputs skips UMAP entirely, and no figure has to
run a hidden, unseeded UMAP of its own.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from cube import _cache
from cube._errors import InputError
from cube._store import load_matrix, save_matrix

DEFAULT_NEIGHBORS = 15
MAP_EPOCHS = 200


def default_epochs(n_rows: int, n_components: int) -> int:
    """UMAP's own rule (500 epochs below 10,000 rows, 200 above), except for 2-D maps: 200.

    A map is a picture, not an input to clustering; 200 epochs draw the same islands in 40 %
    of the time (the clustering reductions keep UMAP's rule: with 200 epochs there, the
    quality table of bench/quality.py moved by more than its noise).
    """
    if n_components <= 2:
        return MAP_EPOCHS
    return 500 if n_rows <= 10_000 else 200


@dataclass(frozen=True)
class UMAPParams:
    """Everything besides the embeddings that changes a reduction."""

    n_components: int = 2
    n_neighbors: int = DEFAULT_NEIGHBORS
    min_dist: float = 0.0
    metric: str = "cosine"
    seed: int = 0
    n_epochs: int | None = None  # None: default_epochs()

    def resolved(self, n_rows: int) -> UMAPParams:
        """These parameters with the epochs filled in for ``n_rows`` rows."""
        epochs = self.n_epochs or default_epochs(n_rows, self.n_components)
        return dataclasses.replace(self, n_epochs=int(epochs))

    def for_map(self) -> UMAPParams:
        """The same neighbourhood and seed in 2-D, with a map's epochs (the documents map)."""
        return dataclasses.replace(self, n_components=2, n_epochs=None)

    def as_dict(self) -> dict:
        return {
            "n_epochs": self.n_epochs,
            "n_components": int(self.n_components),
            "n_neighbors": int(self.n_neighbors),
            "min_dist": float(self.min_dist),
            "metric": self.metric,
            "seed": int(self.seed),
        }


@dataclass(frozen=True)
class Reduction:
    """A UMAP reduction and how it was made: what :func:`reduction` returns.

    ``params`` has the epochs filled in; ``from_cache`` says whether UMAP ran (``seconds`` is
    0 when it did not).
    """

    coordinates: np.ndarray
    params: UMAPParams
    from_cache: bool
    seconds: float
    # The nearest-neighbour graph UMAP used, or was handed (None: read from the cache alone).
    neighbours: Neighbours | None = field(default=None, repr=False, compare=False)


def embeddings_digest(embeddings: np.ndarray) -> str:
    """Fingerprint of the embeddings' shape and float32 bytes: the key of what is made from them."""
    data = np.ascontiguousarray(embeddings, dtype=np.float32)
    return _cache.fingerprint(list(data.shape), data)


def reduction_key(digest: str, params: UMAPParams, n_rows: int, y: np.ndarray | None = None) -> str:
    labels = () if y is None else (np.asarray(y, dtype=np.int64),)
    settings = {"embeddings": digest, **params.as_dict(), "knn": knn_method(n_rows, params.metric)}
    return _cache.fingerprint(settings, *labels, length=40)


@dataclass(frozen=True)
class Neighbours:
    """UMAP's nearest-neighbour graph of some embeddings: made once by :func:`knn_graph` and
    handed, as a value, to every stage of the same embeddings that needs it (the near-duplicate
    search, the 5-D reduction for clustering, the 2-D one for the map, ``transform``).

    ``index`` is pynndescent's search index when the graph came from it (None when exact).
    """

    digest: str  # embeddings_digest of the embeddings it was made from
    n_neighbors: int
    metric: str
    seed: int
    indices: np.ndarray
    distances: np.ndarray
    index: Any = None

    def fits(self, digest: str, params: UMAPParams) -> bool:
        """Whether this is the graph ``params`` asks for, of the embeddings with ``digest``."""
        return (self.digest, self.n_neighbors, self.metric, self.seed) == (
            digest,
            params.n_neighbors,
            params.metric,
            params.seed,
        )

    @property
    def graph(self) -> tuple:
        """``(indices, distances, index)``: UMAP's ``precomputed_knn``."""
        return self.indices, self.distances, self.index


# Up to this many rows the graph is exact: every pair compared, in row blocks of _EXACT_BLOCK
# (n^2 d multiply-adds through BLAS: 0.3 s for 4,000 passages, ~3 s for 16,000 on 2 cores).
# pynndescent's approximate graph, above it, costs ~15 s of compilation in each new process.
EXACT_KNN_MAX_ROWS = 40_000
_EXACT_BLOCK = 1024
_EXACT_METRICS = ("cosine", "euclidean")


def knn_method(n_rows: int, metric: str) -> str:
    """``exact`` or ``nndescent``: how :func:`knn_graph` finds neighbours (part of the cache key)."""
    return "exact" if n_rows <= EXACT_KNN_MAX_ROWS and metric in _EXACT_METRICS else "nndescent"


def exact_knn(embeddings: np.ndarray, n_neighbors: int, metric: str = "cosine") -> tuple:
    """Every row's ``n_neighbors`` nearest rows (itself first, at distance 0), compared exactly.

    Distances are UMAP's: ``1 - cosine similarity`` or euclidean. Ties go to the lower row.

    Example:
        >>> indices, distances = exact_knn(vectors, 15)
        >>> indices[:, 0]  # each row's nearest neighbour is itself
    """
    data = np.asarray(embeddings, dtype=np.float32)
    n = len(data)
    k = min(n_neighbors, n)
    if metric == "cosine":
        norms = np.linalg.norm(data, axis=1, keepdims=True)
        data = data / np.where(norms == 0, 1.0, norms)
    else:
        squared = np.einsum("ij,ij->i", data, data)
    indices = np.empty((n, k), np.int32)
    distances = np.empty((n, k), np.float32)
    for start in range(0, n, _EXACT_BLOCK):
        block = slice(start, min(start + _EXACT_BLOCK, n))
        similarity = data[block] @ data.T
        if metric == "cosine":
            dist = 1.0 - similarity
        else:
            dist = squared[block, None] + squared[None, :] - 2.0 * similarity
        np.maximum(dist, 0.0, out=dist)
        rows = np.arange(block.start, block.stop)
        dist[rows - start, rows] = -1.0  # a row is its own nearest neighbour, even among copies
        part = np.argpartition(dist, k - 1, axis=1)[:, :k]
        part_dist = np.take_along_axis(dist, part, axis=1)
        order = np.lexsort((part, part_dist), axis=1)  # by distance, then by row
        indices[block] = np.take_along_axis(part, order, axis=1)
        distances[block] = np.take_along_axis(part_dist, order, axis=1)
    distances[:, 0] = 0.0
    if metric == "euclidean":
        np.sqrt(distances, out=distances)
    return indices, distances


def knn_graph(
    embeddings: np.ndarray,
    params: UMAPParams,
    digest: str | None = None,
    *,
    neighbours: Neighbours | None = None,
) -> Neighbours:
    """UMAP's nearest-neighbour graph of ``embeddings``: ``neighbours`` when it is that graph
    already (handed along by the caller), else computed.

    Exact up to :data:`EXACT_KNN_MAX_ROWS` rows (see :func:`knn_method`), pynndescent above.

    Example:
        >>> graph = knn_graph(vectors, UMAPParams(n_components=5))
        >>> reduction(vectors, UMAPParams(n_components=2), neighbours=graph).from_cache
        False
    """
    digest = digest or embeddings_digest(embeddings)
    if neighbours is not None and neighbours.fits(digest, params):
        return neighbours
    index = None
    if knn_method(len(embeddings), params.metric) == "exact":
        indices, distances = exact_knn(embeddings, params.n_neighbors, params.metric)
    else:
        from umap.umap_ import nearest_neighbors

        indices, distances, index = nearest_neighbors(
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
    return Neighbours(
        digest, params.n_neighbors, params.metric, params.seed, indices, distances, index
    )


def search_index(embeddings: np.ndarray, params: UMAPParams):
    """A pynndescent index of ``embeddings``: what UMAP's ``transform`` needs for new points."""
    from pynndescent import NNDescent

    cache_umap_compilation()
    return NNDescent(
        np.asarray(embeddings),
        n_neighbors=params.n_neighbors,
        metric=params.metric,
        random_state=np.random.RandomState(params.seed),
        low_memory=True,
        n_jobs=1,
    )


_numba_caching = False
# numba refuses to cache these (they hold dynamic globals) and would warn on every call.
_UNCACHEABLE = {"nn_descent", "nn_descent_internal"}


def cache_umap_compilation() -> int:
    """Keep UMAP's and pynndescent's numba-compiled functions on disk, so a new process skips
    their compiling (~4 s for a fit, ~20 s more for the index ``transform`` builds).

    UMAP compiles its layout optimizer, fuzzy-set and spectral functions in every process
    that uses them (they are not declared ``cache=True``); this turns numba's own on-disk
    cache on for them (next to UMAP's files, or numba's user cache folder where those are
    read-only). Returns how many functions it turned on; idempotent.
    """
    global _numba_caching
    if _numba_caching:
        return 0
    import pynndescent
    from numba.core.caching import NullCache
    from numba.core.registry import CPUDispatcher
    from pynndescent import kernels, pynndescent_, rp_trees, search
    from pynndescent import utils as nnd_utils
    from umap import distances, layouts, spectral, umap_, utils

    count = 0
    # pynndescent's index (what UMAP's transform searches) has the same gap: ~20 s of compiling
    # per process for the functions not declared cache=True.
    for module in (
        umap_,
        layouts,
        spectral,
        utils,
        distances,
        pynndescent,
        pynndescent_,
        kernels,
        search,
        rp_trees,
        nnd_utils,
    ):
        for value in vars(module).values():
            if (
                isinstance(value, CPUDispatcher)
                and isinstance(value._cache, NullCache)
                and value.__name__ not in _UNCACHEABLE
            ):
                value.enable_caching()
                count += 1
    _numba_caching = True
    return count


def make_umap(params: UMAPParams, knn: tuple):
    """A seeded ``umap.UMAP`` that reuses a precomputed neighbour graph."""
    from umap import UMAP

    cache_umap_compilation()

    return UMAP(
        n_components=params.n_components,
        n_neighbors=params.n_neighbors,
        min_dist=params.min_dist,
        metric=params.metric,
        random_state=params.seed,
        n_epochs=params.n_epochs,
        n_jobs=1,  # a seed makes UMAP single-threaded anyway; say so to skip its warning
        low_memory=True,
        precomputed_knn=knn,
    )


def reduction(
    embeddings: np.ndarray,
    params: UMAPParams | None = None,
    *,
    y: np.ndarray | None = None,
    neighbours: Neighbours | None = None,
) -> Reduction:
    """A seeded UMAP reduction of ``embeddings`` and how it was made, from the cache when it can.

    ``neighbours``: the embeddings' nearest-neighbour graph when the caller has it already
    (:func:`knn_graph`); it is used when it is the graph ``params`` asks for. The reduction
    keeps the graph it used (``neighbours``), for ``transform`` on new points.

    Example:
        >>> made = reduction(vectors, UMAPParams(n_components=5, seed=0))
        >>> made.coordinates.shape, made.from_cache
        ((2000, 5), False)
    """
    params = (params or UMAPParams()).resolved(len(embeddings))
    digest = embeddings_digest(embeddings)
    key = reduction_key(digest, params, len(embeddings), y)
    path = _cache.reductions_dir() / f"{key}.vec"
    use_cache = _cache.enabled()
    cached = load_matrix(path) if use_cache else None
    if cached is not None and cached.shape == (len(embeddings), params.n_components):
        given = neighbours if neighbours is not None and neighbours.fits(digest, params) else None
        return Reduction(cached, params, from_cache=True, seconds=0.0, neighbours=given)
    started = time.perf_counter()
    neighbours = knn_graph(embeddings, params, digest, neighbours=neighbours)
    with warnings.catch_warnings():
        # With the exact graph there is no search index: CachedUMAP.transform builds one.
        warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]", category=UserWarning)
        reduced = make_umap(params, neighbours.graph).fit_transform(np.asarray(embeddings), y=y)
    reduced = np.nan_to_num(np.asarray(reduced, dtype=np.float32))
    seconds = time.perf_counter() - started
    if use_cache:
        with contextlib.suppress(OSError):  # an unwritable cache costs speed, not correctness
            save_matrix(path, reduced)
    return Reduction(reduced, params, from_cache=False, seconds=seconds, neighbours=neighbours)


_PARAM_NAMES = tuple(field.name for field in dataclasses.fields(UMAPParams))


def reduce(
    embeddings: np.ndarray, n_components: int = 2, *, y: np.ndarray | None = None, **params: Any
) -> np.ndarray:
    """A seeded UMAP reduction of ``embeddings``, from the cache when it was computed before.

    ``params`` are :class:`UMAPParams` fields: ``n_neighbors`` (15), ``min_dist`` (0.0),
    ``metric`` ("cosine"), ``seed`` (0), ``n_epochs`` (None: :func:`default_epochs`).

    Example:
        >>> coords = cube.reduce(vectors, 2, seed=0)   # for a documents map
        >>> coords.shape
        (2000, 2)
    """
    unknown = sorted(set(params) - set(_PARAM_NAMES))
    if unknown:
        raise InputError(
            f"reduce() got unknown parameter(s) {', '.join(unknown)}; "
            f"use {', '.join(name for name in _PARAM_NAMES if name != 'n_components')}"
        )
    return reduction(embeddings, UMAPParams(n_components=n_components, **params), y=y).coordinates
