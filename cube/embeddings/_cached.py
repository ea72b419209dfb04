"""Vectors that stay in the cache until they are indexed: a corpus larger than memory."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from cube._store import VectorStore


class CachedVectors:
    """The vectors of a list of texts, all in the cache, read only when indexed.

    It behaves as a read-only float32 array of shape ``(texts, dim)`` for indexing: a slice,
    an array of positions or a boolean mask returns an ``ndarray`` of those rows, read from
    the cache then (``vectors[rows]``); ``np.asarray(vectors)`` reads them all. Made by
    :func:`cube.embeddings.embed_with_stats` with ``in_memory=False``.

    Example:
        >>> vectors, _ = embed_with_stats(texts, in_memory=False)
        >>> vectors[:1000].shape
        (1000, 384)
    """

    dtype = np.dtype(np.float32)
    ndim = 2

    def __init__(self, sources: Sequence[VectorStore], keys: np.ndarray, dim: int) -> None:
        self._sources = tuple(sources)  # looked in, in order (an imported archive's first)
        self._keys = keys
        self.shape = (len(keys), int(dim))

    def __len__(self) -> int:
        return self.shape[0]

    def __repr__(self) -> str:
        return f"CachedVectors(shape={self.shape})"

    def _positions(self, index: Any) -> np.ndarray:
        """The row positions an index selects (0-D for a single row)."""
        if isinstance(index, slice):
            return np.arange(*index.indices(len(self)))
        positions = np.arange(len(self))[index]
        if positions.ndim > 1:
            raise IndexError("CachedVectors takes rows as a slice, an int, or a 1-D array or mask")
        return positions

    def __getitem__(self, index: Any) -> np.ndarray:
        if isinstance(index, tuple):  # vectors[rows, columns]: the rows, then numpy's indexing
            if len(index) == 2 and np.ndim(index[0]) and np.ndim(index[1]):
                raise IndexError("index CachedVectors by rows first, then index the array")
            rows = self[index[0]]
            return rows[index[1:]] if rows.ndim == 1 else rows[(slice(None), *index[1:])]
        positions = self._positions(index)
        if positions.ndim == 0:
            return self[positions.reshape(1)][0]
        out = np.empty((len(positions), self.shape[1]), np.float32)
        missing = np.ones(len(positions), dtype=bool)
        for source in self._sources:
            if not missing.any():
                break
            looked = np.flatnonzero(missing)
            found, vectors = source.get(self._keys[positions[looked]])
            if vectors is not None:
                out[looked[found]] = vectors
                missing[looked[found]] = False
        if missing.any():
            raise RuntimeError(
                f"{int(missing.sum())} of {len(positions)} vectors are no longer in the cache "
                "(was it cleared meanwhile?); run again to embed them"
            )
        return out

    def take(self, positions: Any) -> CachedVectors:
        """These rows, still in the cache (nothing is read): a partition for a Dask worker."""
        rows = np.atleast_1d(self._positions(positions))
        return CachedVectors(self._sources, self._keys[rows], self.shape[1])

    def __reduce__(self):
        # Sent to a Dask worker: the stores' folders and the keys, never vectors or open maps.
        # The worker reads the rows from the same cache (the same disk or a shared one).
        folders = tuple((str(s.directory), s.shards_only) for s in self._sources)
        return (_reopen, (folders, self._keys, self.shape[1]))

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        rows = self[:]
        return rows if dtype is None else rows.astype(dtype, copy=False)


# Per process (a Dask worker's): a store's index is built once. A worker of a long-lived cluster
# keeps each store it opened (about 56 bytes a row) until it exits.
_opened: dict[tuple[str, bool], VectorStore] = {}


def _reopen(folders: tuple[tuple[str, bool], ...], keys: np.ndarray, dim: int) -> CachedVectors:
    stores = []
    for folder, shards_only in folders:
        if (folder, shards_only) not in _opened:
            _opened[(folder, shards_only)] = VectorStore(Path(folder), shards_only=shards_only)
        stores.append(_opened[(folder, shards_only)])
    return CachedVectors(stores, keys, dim)
