"""Near-identical passages: a template sent many times, a speech quoted twice.

Found from the embeddings' nearest-neighbour graph (the one UMAP uses, so the main job does not
compute it twice): two passages are near-duplicates when their cosine similarity is at least
``threshold`` (0.98 by default), and near-duplicates of near-duplicates form one group.

Example:
    >>> copies = cube.reductions.near_duplicates(vectors)
    >>> copies.n_copies, copies.keep.sum()
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from cube._errors import InputError
from cube.reductions._umap import DEFAULT_NEIGHBORS, Neighbours, UMAPParams, knn_graph

DUPLICATE_COSINE = 0.98
# A topic is "mostly copies" when more than this share of its passages have a near-duplicate
# among the topic's other passages.
MOSTLY_COPIES = 0.5


@dataclass(frozen=True, eq=False)
class NearDuplicates:
    """Which passages are near-copies of which (see :func:`near_duplicates`).

    Attributes:
        threshold: the cosine similarity from which two passages count as copies.
        group: for every passage, the first passage of its group (itself when it has no copy).
    """

    threshold: float
    group: np.ndarray

    @property
    def keep(self) -> np.ndarray:
        """A mask: the first passage of every group (what ``--dedupe`` keeps)."""
        return self.group == np.arange(len(self.group))

    @property
    def n_copies(self) -> int:
        """Passages that are a near-copy of an earlier one (what ``--dedupe`` leaves out)."""
        return int((~self.keep).sum())

    @property
    def n_groups(self) -> int:
        """Groups of two or more near-identical passages."""
        sizes = np.bincount(self.group, minlength=len(self.group))
        return int((sizes > 1).sum())

    def copy_shares(self, labels: Sequence[int]) -> dict[int, float]:
        """For every topic, the share of its passages with a near-copy in the same topic."""
        labels = np.asarray(labels)
        shares = {}
        for topic in sorted(set(labels.tolist())):
            groups = self.group[labels == topic]
            _, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
            shares[int(topic)] = float((counts[inverse] > 1).mean())
        return shares

    def mostly_copies(self, labels: Sequence[int]) -> dict[int, float]:
        """Topics (not ``-1``) where most passages are copies of one another, with the share."""
        return {
            t: share
            for t, share in self.copy_shares(labels).items()
            if t != -1 and share > MOSTLY_COPIES
        }

    def summary(self, labels: Sequence[int] | None, *, collapsed: bool) -> dict[str, Any]:
        """Plain values for summary.json. ``labels``: every passage's topic, or None when the
        copies were collapsed (then no topic is made of copies)."""
        mostly = self.mostly_copies(labels) if labels is not None else {}
        return {
            "threshold": self.threshold,
            "copies": self.n_copies,
            "groups": self.n_groups,
            "collapsed": bool(collapsed and self.n_copies),
            "topics_mostly_copies": {str(t): round(v, 3) for t, v in mostly.items()},
        }


def near_duplicates_note(summary: Mapping[str, Any]) -> str:
    """One sentence on a run's near-duplicates (from :meth:`NearDuplicates.summary`).

    Example:
        >>> near_duplicates_note({"threshold": 0.98, "copies": 0, "groups": 0})
        'no near-identical passages (cosine >= 0.98)'
    """
    where = " in the fit sample" if summary.get("looked_for_in") == "the fit sample" else ""
    if not summary.get("copies"):
        return f"no near-identical passages{where} (cosine >= {summary['threshold']})"
    mostly = summary.get("topics_mostly_copies") or {}
    action = (
        "left out (--dedupe)" if summary.get("collapsed") else "kept (--dedupe models one of each)"
    )
    flagged = "; topics mostly copies of one another: " + ", ".join(
        f"{t} ({share:.0%})" for t, share in mostly.items()
    )
    copies, groups = summary["copies"], summary["groups"]
    return (
        f"{copies} {'passage copies' if copies == 1 else 'passages copy'} another{where} "
        f"(cosine >= {summary['threshold']}, {groups} group{'' if groups == 1 else 's'}), "
        f"{action}" + (flagged if mostly else "")
    )


def near_duplicates(
    embeddings: np.ndarray,
    *,
    threshold: float = DUPLICATE_COSINE,
    n_neighbors: int = DEFAULT_NEIGHBORS,
    seed: int = 0,
    neighbours: Neighbours | None = None,
) -> NearDuplicates:
    """Group passages whose embeddings are at least ``threshold`` cosine-similar.

    Each passage is compared with its ``n_neighbors`` nearest (UMAP's graph, exact below
    40,000 rows; with these defaults, the one the main job's UMAP uses), and the pairs above
    the threshold are joined into groups, so a template repeated 200 times is one group.
    ``neighbours``: that graph, when the caller has it already (:func:`knn_graph`).

    Example:
        >>> copies = near_duplicates(vectors)
        >>> docs = [d for d, k in zip(docs, copies.keep) if k]  # one passage of each group
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    if not 0 < threshold <= 1:
        raise InputError(f"threshold must be in (0, 1], got {threshold}")
    n = len(embeddings)
    if n == 0:
        return NearDuplicates(threshold, np.zeros(0, np.int64))
    params = UMAPParams(n_components=5, n_neighbors=n_neighbors, seed=seed)
    graph = knn_graph(embeddings, params, neighbours=neighbours)
    indices, distances = graph.indices, graph.distances
    rows = np.repeat(np.arange(n), indices.shape[1])
    close = (1.0 - distances.ravel() >= threshold) & (indices.ravel() >= 0)
    graph = coo_matrix(
        (np.ones(int(close.sum()), np.int8), (rows[close], indices.ravel()[close])), shape=(n, n)
    )
    _, component = connected_components(graph, directed=False)
    first = np.full(component.max() + 1, n, np.int64)
    np.minimum.at(first, component, np.arange(n))
    return NearDuplicates(threshold, first[component])
