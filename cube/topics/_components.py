"""The pieces cube plugs into BERTopic, defined at module level so a fitted model pickles.

- :class:`CubeEmbedder`: BERTopic's embedding backend, through ``cube.embed`` and its cache;
- :class:`CachedUMAP`: a UMAP stand-in whose reductions come from ``cube.reduce``'s cache;
- :class:`TimedHDBSCAN`: HDBSCAN that remembers how long ``fit`` took;
- :class:`DistinctTerms`: topic words with no phrase beside its own words.

Importing this module imports BERTopic and hdbscan: ``cube.topics`` loads it on first use.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence

import numpy as np
from bertopic.backend import BaseEmbedder
from bertopic.representation import BaseRepresentation
from hdbscan import HDBSCAN
from sklearn.base import BaseEstimator

from cube import _config
from cube._errors import InputError
from cube.embeddings import EmbedStats, SpacePlan, embed_with_stats, plan_space
from cube.reductions import (
    Reduction,
    UMAPParams,
    knn_graph,
    make_umap,
    reduction,
    search_index,
)
from cube.topics._terms import distinct_terms, phrases_found


class CubeEmbedder(BaseEmbedder):
    """BERTopic backend: every text is embedded once, ever (see ``cube.embed``), and always in
    one space: the :class:`~cube.embeddings.SpacePlan` it was given, or the one decided the
    first time it embeds. A fitted model therefore embeds new documents (``transform``,
    ``find_topic``) with the model, backend and options its topics were fitted with.

    Example:
        >>> BERTopic(embedding_model=CubeEmbedder(plan_space("all-MiniLM-L6-v2")))
    """

    def __init__(self, model: str | os.PathLike | SpacePlan = _config.DEFAULT_MODEL) -> None:
        super().__init__()
        self._plan = model if isinstance(model, SpacePlan) else None
        self.model_name = self._plan.resolved.name if self._plan else os.fspath(model)
        self.stats: EmbedStats | None = None  # what the last embed() did

    @property
    def plan(self) -> SpacePlan:
        """The embedding decision: decided once, on first use, then kept."""
        if self._plan is None:
            self._plan = plan_space(self.model_name)
        return self._plan

    def embed(self, documents: Sequence[str], verbose: bool = False) -> np.ndarray:
        vectors, self.stats = embed_with_stats(
            list(documents), self.plan, show_progress=verbose or None
        )
        return vectors


# A clustering that puts more than this share of the documents in one topic has found no
# topics: on 5,000 short quotations HDBSCAN's defaults gave 2 topics, one of 82 %.
MAX_TOPIC_SHARE = 0.5


class TimedHDBSCAN(HDBSCAN):
    """HDBSCAN that remembers how long ``fit`` took (``fit_seconds_``, for stage timings) and
    does not answer "one topic" for a corpus.

    When one cluster holds more than half the documents and ``min_samples`` was left to its
    default (``min_cluster_size``), it fits again with ``min_samples = min_cluster_size // 4``
    (a lower density bar, so the large cluster splits into the groups inside it) and keeps that
    setting; ``refit_`` says whether it did. On 5,000 quotations: 2 topics (largest 82 %)
    became 32 (largest 12 %); corpora that did not need it are unchanged.
    """

    def fit(self, X, y=None, **kwargs):
        started = time.perf_counter()
        result = super().fit(X, y, **kwargs)
        self.refit_ = False
        if self.min_samples is None and _largest_share(self.labels_) > MAX_TOPIC_SHARE:
            self.min_samples = max(1, self.min_cluster_size // 4)
            result = super().fit(X, y, **kwargs)
            self.refit_ = True
        self.fit_seconds_ = time.perf_counter() - started
        return result


def _largest_share(labels: np.ndarray) -> float:
    labels = np.asarray(labels)
    clustered = labels[labels >= 0]
    return float(np.bincount(clustered).max() / len(labels)) if len(clustered) else 0.0


class CachedUMAP(BaseEstimator):
    """A UMAP stand-in for BERTopic whose ``fit_transform`` comes from the reduction cache.

    Its one parameter is a :class:`cube.reductions.UMAPParams`. A reduction already computed
    for the same embeddings can be handed in with :meth:`hand_over` (the main job does), so it
    is neither recomputed nor read back from the cache. ``transform`` on documents other than
    the fitted ones (``topic_model.transform(new_docs)``) fits a real, identically seeded UMAP
    the first time it is needed. After ``fit``, ``reduction_`` says how the reduction was made
    (``reduction_.from_cache``).

    Example:
        >>> BERTopic(umap_model=CachedUMAP(UMAPParams(n_components=5, seed=0)))
    """

    def __init__(self, params: UMAPParams | None = None) -> None:
        self.params = params

    @property
    def umap_params(self) -> UMAPParams:
        """The parameters in use (``UMAPParams(n_components=5)`` when none were given)."""
        return self.params or UMAPParams(n_components=5)

    def hand_over(self, embeddings: np.ndarray, reduction: Reduction) -> CachedUMAP:
        """Use ``reduction`` when ``fit`` is given these ``embeddings`` (and no labels)."""
        if reduction.params != self.umap_params.resolved(len(embeddings)):
            raise InputError(
                f"the reduction handed over was made with {reduction.params}, not with this "
                f"model's {self.umap_params}; compute it with the model's params"
            )
        self._handed = (embeddings, reduction)
        return self

    def fit(self, X: np.ndarray, y: np.ndarray | None = None) -> CachedUMAP:
        self.fit_transform(X, y=y)
        return self

    def fit_transform(self, X: np.ndarray, y: np.ndarray | None = None) -> np.ndarray:
        y = None if y is None or all(v is None for v in np.ravel(y)) else np.asarray(y)
        X = np.asarray(X)
        self._fit_X, self._fit_y = X, y
        self._umap_model = None
        handed = getattr(self, "_handed", None)
        if handed is not None and y is None and _same_array(X, handed[0]):
            self.reduction_ = handed[1]
        else:
            self.reduction_ = reduction(X, self.umap_params, y=y)
        self.embedding_ = self.reduction_.coordinates
        return self.embedding_

    def transform(self, X: np.ndarray) -> np.ndarray:
        X = np.asarray(X)
        if _same_array(X, self._fit_X):
            return self.embedding_
        if self._umap_model is None:
            params = self.reduction_.params
            # The fit's own graph (so the map is the cached one), and an index for new points.
            graph = knn_graph(self._fit_X, params, neighbours=self.reduction_.neighbours)
            index = graph.index or search_index(self._fit_X, params)
            knn = (graph.indices, graph.distances, index)
            self._umap_model = make_umap(params, knn).fit(self._fit_X, y=self._fit_y)
        return np.asarray(self._umap_model.transform(X), dtype=np.float32)


def _same_array(a: np.ndarray, b: np.ndarray) -> bool:
    return a is b or (a.shape == b.shape and np.array_equal(a, b))


class DistinctTerms(BaseRepresentation):
    """BERTopic representation step: each topic's c-TF-IDF candidates, with no phrase beside
    its own words (:func:`distinct_terms`) and no phrase that stands in none of the topic's
    documents (BERTopic counts a topic's documents joined end to end).

    It comes first in cube's representation, so KeyBERT-style steps after it choose among
    accepted terms.

    Example:
        >>> BERTopic(representation_model=DistinctTerms(top_n_words=10))
    """

    def __init__(self, top_n_words: int = 10) -> None:
        self.top_n_words = top_n_words

    def extract_topics(self, topic_model, documents, c_tf_idf, topics: Mapping) -> dict:
        by_topic = documents.groupby("Topic")["Document"].agg(list).to_dict()
        out = {}
        for topic, candidates in topics.items():
            phrases = [w for w, _ in candidates if " " in w]
            standing = phrases_found(by_topic.get(topic, []), phrases)
            scores = {w: s for w, s in candidates if w and (" " not in w or w in standing)}
            keep = distinct_terms(list(scores), len(candidates))
            out[topic] = [(w, scores[w]) for w in keep] or candidates[:1]
        return out


class CoherentTerms(BaseRepresentation):
    """BERTopic representation step: each topic's words chosen among its best c-TF-IDF
    candidates by how they stand together in 10-word windows of the corpus.

    c-TF-IDF alone favours words distinctive of a topic, which may seldom stand near each
    other. Starting from the topic's best candidate, each next word is the candidate that
    maximises its mean windowed NPMI with the words already chosen plus ``weight`` times its
    c-TF-IDF score (scaled so the topic's best is 1); ``candidates`` bounds the choice, so the
    words stay the topic's own. The windows are counted once for all topics (see
    :func:`cube.topics.windowed_npmi`).

    Example:
        >>> BERTopic(representation_model=[DistinctTerms(), CoherentTerms()])
    """

    def __init__(self, top_n_words: int = 10, candidates: int = 20, weight: float = 1.0) -> None:
        self.top_n_words = top_n_words
        self.candidates = candidates
        self.weight = weight

    def extract_topics(self, topic_model, documents, c_tf_idf, topics: Mapping) -> dict:
        from cube.topics._coherence import npmi_among, reference_tokenizer, window_pair_counts

        pools = {t: [(w, s) for w, s in ws[: self.candidates] if w] for t, ws in topics.items()}
        terms = sorted({w for ws in pools.values() for w, _ in ws})
        tokenize = reference_tokenizer([w for w in terms if " " in w])
        counted = window_pair_counts(  # each topic's own candidates, a block of texts at a time
            (tokenize(text) for text in documents["Document"]),
            terms,
            wanted=[[w for w, _ in pool] for pool in pools.values()],
        )
        column = {w: i for i, w in enumerate(terms)}
        out = {}
        for topic, pool in pools.items():
            if len(pool) <= 1:
                out[topic] = pool or topics[topic][:1]
                continue
            ids = [column[w] for w, _ in pool]
            scores = np.asarray([s for _, s in pool], dtype=float)
            order = _coherent_order(
                npmi_among(counted, ids),
                scores / (scores.max() or 1.0),
                self.weight,
                self.top_n_words,
            )
            out[topic] = [pool[i] for i in order]
        return out


def _coherent_order(npmi: np.ndarray, relevance: np.ndarray, weight: float, n: int) -> list[int]:
    """Greedy choice: first the best candidate, then the one with the highest mean NPMI with
    those chosen plus ``weight`` times its relevance, until ``n`` are chosen."""
    chosen = [int(np.argmax(relevance))]
    while len(chosen) < min(n, len(relevance)):
        gain = npmi[:, chosen].mean(axis=1) + weight * relevance
        gain[chosen] = -np.inf
        chosen.append(int(np.argmax(gain)))
    return chosen
