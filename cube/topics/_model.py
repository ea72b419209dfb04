"""Teaching defaults over BERTopic: the result is a plain ``bertopic.BERTopic``."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from cube import _config
from cube._errors import InputError
from cube.reductions import DEFAULT_NEIGHBORS, Reduction, UMAPParams

if TYPE_CHECKING:  # pragma: no cover
    from bertopic import BERTopic

    from cube.embeddings import SpacePlan

MIN_DOCUMENTS = 50
# Outliers whose embedding is at least this cosine-similar to a topic's join it; the rest stay
# -1. With all-MiniLM-L6-v2 on the default run: 35 % outliers before, 14 % after, topic words
# as coherent (bench/defaults.py).
DEFAULT_OUTLIER_THRESHOLD = 0.5
# ... and while more than this share of the corpus would stay in no topic, the threshold is
# lowered until only this share stays: short texts (e-mails, quotations) leave 40-50 % of a
# corpus as outliers at 0.5 (bench/defaults.py, every corpus). Never below OUTLIER_FLOOR.
DEFAULT_MAX_OUTLIER_SHARE = 0.10
OUTLIER_FLOOR = 0.2


def default_min_topic_size(n_documents: int) -> int:
    """About one topic per 150 documents' worth of size, between 5 and 50.

    Example:
        >>> default_min_topic_size(4000)
        27
    """
    return int(min(50, max(5, round(n_documents / 150))))


def make_embedder(model: str | os.PathLike | SpacePlan = _config.DEFAULT_MODEL):
    """A BERTopic embedding backend that goes through ``cube.embed`` and its cache, always in
    one space (a :class:`~cube.embeddings.SpacePlan`, or the one decided on first use)."""
    from cube.topics._components import CubeEmbedder

    return CubeEmbedder(model)


def make_vectorizer(n_documents: int, *, min_df: int | None = None):
    """cube's ``CountVectorizer``: accepted words and two-word phrases (:class:`TermAnalyzer`).

    Words of two letters or more, no digits, no English stop words (nor their contractions);
    a phrase only where its two words stand together in a text. ``min_df``: BERTopic fits the
    vectorizer on each topic's documents joined into one, so it counts *topics*, not
    documents; the default 1 keeps a term found in one topic only (a topic's own words: 2,
    cube 0.2's default, was as coherent and less diverse in ``bench/defaults.py``).
    ``n_documents`` is kept for callers that scale it.

    Example:
        >>> make_vectorizer(4000).fit(docs).get_feature_names_out()[:3]
    """
    from sklearn.feature_extraction.text import CountVectorizer

    from cube.topics._terms import TermAnalyzer

    return CountVectorizer(
        analyzer=TermAnalyzer(),
        min_df=min_df if min_df is not None else 1,
    )


def check_corpus_size(n_documents: int, min_topic_size: int) -> None:
    """A clear error for corpora too small for UMAP and HDBSCAN to find topics."""
    needed = max(MIN_DOCUMENTS, 2 * min_topic_size)
    if n_documents < needed:
        raise InputError(
            f"topic modeling needs at least {needed} documents with min_topic_size="
            f"{min_topic_size}, and got {n_documents}; add documents (or a larger sample=)"
            + (" or lower min_topic_size=" if needed > MIN_DOCUMENTS else "")
        )


REPRESENTATIONS = ("coherent", "ctfidf", "keybert+mmr", "keybert", "mmr")


@dataclass(frozen=True)
class TopicSettings:
    """Everything that shapes a cube topic model, shared by :func:`build` and :func:`fit`.

    Attributes:
        model: the sentence-transformers model for embeddings and topic words.
        min_topic_size: the smallest group of documents that counts as a topic
            (default: scaled to the corpus, see :func:`default_min_topic_size`).
        n_neighbors: UMAP's neighbourhood: smaller finds more local, smaller topics.
        n_epochs: UMAP's optimization epochs (default: UMAP's, 500 below 10,000 documents).
        seed: makes UMAP (and so the topics) reproducible.
        representation: how topic words are chosen: ``coherent`` (the default: among each
            topic's 20 best c-TF-IDF terms, the ones that stand together in 10-word windows,
            :class:`CoherentTerms`; the most coherent on every corpus of
            ``bench/defaults.py``), ``ctfidf`` (the c-TF-IDF ranking as it is), ``keybert``,
            ``mmr`` or ``keybert+mmr``. Every one keeps a phrase and its own word apart
            (:class:`DistinctTerms`).
        reduce_frequent_words: damp words frequent in every topic (c-TF-IDF's square root of
            term frequency), so "government" does not name half the topics.
        outlier_threshold: after clustering, give each outlier (``-1``) the topic whose
            embedding is most similar to its own, when that cosine similarity is at least this;
            ``None`` keeps HDBSCAN's outliers as they are.
        max_outlier_share: while more than this share of the documents would stay in no
            topic, the threshold is lowered (not below 0.2) until only this share stays;
            ``None``: the threshold alone decides.
        top_n_words: words kept per topic.
        nr_topics: merge down to this many topics (or ``"auto"``).
        verbose: BERTopic's own logging.
    """

    model: str | os.PathLike = _config.DEFAULT_MODEL
    min_topic_size: int | None = None
    n_neighbors: int = DEFAULT_NEIGHBORS
    n_epochs: int | None = None
    seed: int = 0
    representation: str = "coherent"
    reduce_frequent_words: bool = True
    outlier_threshold: float | None = DEFAULT_OUTLIER_THRESHOLD
    max_outlier_share: float | None = DEFAULT_MAX_OUTLIER_SHARE
    top_n_words: int = 10
    nr_topics: int | str | None = None
    verbose: bool = False

    def __post_init__(self) -> None:
        if self.representation not in REPRESENTATIONS:
            raise InputError(
                f"unknown representation {self.representation!r}; "
                f"use one of {', '.join(REPRESENTATIONS)}"
            )
        if self.max_outlier_share is not None and not 0 <= self.max_outlier_share <= 1:
            raise InputError(
                f"max_outlier_share must be between 0 and 1 (or None), got {self.max_outlier_share}"
            )

    def umap_params(self) -> UMAPParams:
        """The 5-D reduction the topics are clustered in (its 2-D map: ``.for_map()``)."""
        return UMAPParams(
            n_components=5, n_neighbors=self.n_neighbors, seed=self.seed, n_epochs=self.n_epochs
        )

    def representation_model(self):
        """BERTopic's representation: :class:`DistinctTerms` first, then the chosen steps."""
        from bertopic.representation import KeyBERTInspired, MaximalMarginalRelevance

        from cube.topics._components import CoherentTerms, DistinctTerms

        def keybert():
            return KeyBERTInspired(top_n_words=self.top_n_words, random_state=self.seed)

        def mmr():
            return MaximalMarginalRelevance(diversity=0.3, top_n_words=self.top_n_words)

        if self.representation == "coherent":
            # BERTopic proposes 30 c-TF-IDF candidates a topic; all 30 stay distinct.
            return [
                DistinctTerms(top_n_words=30),
                CoherentTerms(top_n_words=self.top_n_words, candidates=20, weight=1.0),
            ]
        steps = {
            "keybert+mmr": lambda: [keybert(), mmr()],
            "keybert": lambda: [keybert()],
            "mmr": lambda: [mmr()],
            "ctfidf": lambda: [],
        }[self.representation]()
        return [DistinctTerms(top_n_words=self.top_n_words), *steps]


def build(
    n_documents: int,
    settings: TopicSettings | None = None,
    *,
    embedding: SpacePlan | None = None,
    **changes: Any,
) -> BERTopic:
    """An unfitted ``BERTopic`` with cube's teaching defaults (see :func:`fit`).

    ``changes`` are :class:`TopicSettings` fields, e.g. ``build(4000, seed=1)``.
    ``embedding``: the embedding decision its documents' vectors come from (a
    :class:`~cube.embeddings.SpacePlan`; default: decided for ``settings.model`` on first use);
    new documents are embedded in that same space.

    Example:
        >>> topic_model = cube.topics.build(4000, min_topic_size=20)
    """
    from bertopic import BERTopic
    from bertopic.vectorizers import ClassTfidfTransformer

    from cube.embeddings import plan_space
    from cube.topics._components import CachedUMAP, CubeEmbedder, TimedHDBSCAN

    settings = replace(settings or TopicSettings(), **changes)
    min_topic_size = settings.min_topic_size or default_min_topic_size(n_documents)
    check_corpus_size(n_documents, min_topic_size)
    return BERTopic(
        # Decided now, with the fit, not when new documents come: the space it is fitted in.
        embedding_model=CubeEmbedder(embedding or plan_space(settings.model)),
        umap_model=CachedUMAP(settings.umap_params()),
        hdbscan_model=TimedHDBSCAN(
            min_cluster_size=min_topic_size,
            metric="euclidean",
            cluster_selection_method="eom",
            prediction_data=True,
            # hdbscan's default (4) starts joblib worker processes above 16,384 points, which
            # stayed to the end of a million-passage run holding 812 MB. On 2 cores one process
            # is faster at 50,000 points (5.1 s against 7.2 s), 12 % slower at 200,000 (74 s
            # against 67 s), with the same labels (bench/hdbscan_jobs.py).
            core_dist_n_jobs=1,
        ),
        vectorizer_model=make_vectorizer(n_documents),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=settings.reduce_frequent_words),
        representation_model=settings.representation_model(),
        min_topic_size=min_topic_size,
        top_n_words=settings.top_n_words,
        nr_topics=settings.nr_topics,
        verbose=settings.verbose,
    )


def fit(
    docs: Sequence[str],
    embeddings: np.ndarray | None = None,
    settings: TopicSettings | None = None,
    *,
    embedding: SpacePlan | None = None,
    **changes: Any,
) -> BERTopic:
    """Fit a BERTopic model with teaching defaults and return it (a real ``BERTopic``).

    The defaults: embeddings from :func:`cube.embed` (cached); a seeded, cached 5-D UMAP, so
    the same seed gives the same topics and a second run skips UMAP; HDBSCAN with
    ``min_topic_size`` scaled to the corpus; English stop words and numbers kept out of topic
    words; words chosen by c-TF-IDF with frequent words damped; outliers close enough to a
    topic (cosine similarity ≥ 0.5) moved into it (see :class:`TopicSettings`).

    Args:
        docs: the documents.
        embeddings: their vectors, if you already have them (else computed with ``model``).
        embedding: the embedding decision those vectors came from (a
            :class:`~cube.embeddings.SpacePlan` from :func:`cube.embeddings.plan_space`);
            default: the one this machine makes for ``settings.model``. The fitted model
            embeds new documents in that space, and :func:`save` keeps it.
        settings: a :class:`TopicSettings`; ``changes`` are its fields by name, e.g.
            ``min_topic_size=20``, ``seed=1``, ``representation="ctfidf"``.

    Example:
        >>> docs = cube.datasets.load("sotu", sample=2000)["text"].tolist()
        >>> topic_model = cube.topics.fit(docs, seed=1)
        >>> topic_model.get_topic_info().head()
    """
    docs = list(docs)
    settings = replace(settings or TopicSettings(), **changes)
    topic_model = build(len(docs), settings, embedding=embedding)
    if embeddings is None:
        embeddings = topic_model.embedding_model.embed(docs, verbose=settings.verbose)
    elif len(embeddings) != len(docs):
        raise InputError(f"got {len(docs)} documents but {len(embeddings)} embeddings")
    fit_transform(
        topic_model,
        docs,
        np.asarray(embeddings),
        outlier_threshold=settings.outlier_threshold,
        max_outlier_share=settings.max_outlier_share,
    )
    return topic_model


def fit_transform(
    topic_model: BERTopic,
    docs: list[str],
    embeddings: np.ndarray,
    *,
    outlier_threshold: float | None = None,
    max_outlier_share: float | None = None,
    reduction: Reduction | None = None,
) -> tuple[list[int], np.ndarray]:
    """``topic_model.fit_transform`` with clear errors for corpora that yield no topics.

    With ``outlier_threshold``, outliers close enough to a topic then join it
    (:func:`reassign_outliers`, with ``max_outlier_share``). ``reduction``: the embeddings' reduction, when the caller
    has it already (made with ``topic_model.umap_model.umap_params``); it is used as is.
    Returns each document's topic and HDBSCAN's probability.
    """
    if reduction is not None:
        topic_model.umap_model.hand_over(embeddings, reduction)
    final = topic_model.representation_model
    if outlier_threshold is not None:
        # The words are redone once the outliers have joined: the costly steps wait till then.
        topic_model.representation_model = _cheap_steps(final)
    try:
        topics, probabilities = topic_model.fit_transform(docs, embeddings=embeddings)
    except ValueError as exc:
        if "empty vocabulary" not in str(exc):
            raise
        raise InputError(
            "the documents have no words left once stop words and numbers are removed; "
            "check that the text column holds the documents"
        ) from exc
    finally:
        topic_model.representation_model = final
    if len(set(topics) - {-1}) < 2:
        raise InputError(
            f"found fewer than 2 topics in {len(docs)} documents with min_topic_size="
            f"{topic_model.min_topic_size}; lower min_topic_size= or add documents"
        )
    if outlier_threshold is not None and -1 in topics:
        topics = reassign_outliers(
            topic_model, docs, embeddings, threshold=outlier_threshold, max_share=max_outlier_share
        )
    elif outlier_threshold is not None and _cheap_steps(final) is not final:
        _redo_words(topic_model, docs, topics)
    return topics, probabilities


def _cheap_steps(representation):
    """The representation without :class:`CoherentTerms` (which counts windows over the whole
    corpus); the same object when there is nothing to leave out."""
    from cube.topics._components import CoherentTerms

    steps = representation if isinstance(representation, list) else [representation]
    cheap = [s for s in steps if not isinstance(s, CoherentTerms)]
    if len(cheap) == len(steps):
        return representation
    return cheap or None


def _redo_words(topic_model: BERTopic, docs: list[str], topics: Sequence[int]) -> None:
    """Recompute the topics' words for these labels with the model's own vectorizer, c-TF-IDF
    and representation (BERTopic's ``update_topics`` would otherwise swap in plain ones)."""
    import logging

    logger = logging.getLogger("BERTopic")
    level = logger.level
    logger.setLevel(logging.ERROR)  # its warning about custom labels is about later merges
    try:
        topic_model.update_topics(
            docs,
            topics=list(topics),
            top_n_words=topic_model.top_n_words,
            vectorizer_model=topic_model.vectorizer_model,
            ctfidf_model=topic_model.ctfidf_model,
            representation_model=topic_model.representation_model,
        )
    finally:
        logger.setLevel(level)


def reassign_outliers(
    topic_model: BERTopic,
    docs: Sequence[str],
    embeddings: np.ndarray,
    *,
    threshold: float,
    max_share: float | None = None,
) -> list[int]:
    """Give outliers the most similar topic (cosine ≥ ``threshold``), then redo the words.

    With ``max_share``, when more than that share of ``docs`` would stay in no topic, the
    threshold is lowered to the similarity that leaves exactly that share (never below
    ``OUTLIER_FLOOR``): the outliers closest to a topic join first
    (:func:`outlier_threshold_for`).

    BERTopic's ``reduce_outliers`` only returns new labels; its ``update_topics`` then swaps in
    a plain ``CountVectorizer`` and drops the representation unless told otherwise, so topic
    names fill with stop words. This passes the model's own vectorizer, c-TF-IDF and
    representation, and updates the model in place.

    Example:
        >>> topics = cube.topics.reassign_outliers(topic_model, docs, vectors, threshold=0.5)
    """

    docs = list(docs)
    if max_share is not None:
        threshold = outlier_threshold_for(topic_model, embeddings, threshold, max_share)
    topics = topic_model.reduce_outliers(
        docs,
        topic_model.topics_,
        strategy="embeddings",
        embeddings=np.asarray(embeddings),
        threshold=threshold,
    )
    _redo_words(topic_model, docs, topics)
    return [int(t) for t in topics]


def outlier_threshold_for(
    topic_model: BERTopic, embeddings: np.ndarray, threshold: float, max_share: float
) -> float:
    """The similarity from which outliers join a topic so that at most ``max_share`` of the
    documents stay in none: ``threshold`` when it already does, else lower, not below
    ``OUTLIER_FLOOR``. Similarities as BERTopic's ``reduce_outliers`` computes them (cosine
    to the topic embeddings).

    Example:
        >>> outlier_threshold_for(topic_model, vectors, threshold=0.5, max_share=0.1)
        0.41...
    """
    if not 0 <= max_share <= 1:
        raise InputError(f"max_outlier_share must be between 0 and 1, got {max_share}")
    labels = np.asarray(topic_model.topics_)
    outliers = np.flatnonzero(labels == -1)
    allowed = int(max_share * len(labels))
    if len(outliers) <= allowed:
        return threshold
    from sklearn.metrics.pairwise import cosine_similarity

    topics = topic_model.topic_embeddings_[topic_model._outliers :]
    best = np.sort(cosine_similarity(np.asarray(embeddings)[outliers], topics).max(axis=1))[::-1]
    needed = len(outliers) - allowed  # outliers that must join a topic
    if best[needed - 1] >= threshold:
        return threshold
    return float(max(OUTLIER_FLOOR, best[needed - 1]))
