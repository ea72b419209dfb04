"""Teaching defaults over BERTopic: the result is a plain ``bertopic.BERTopic``."""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from cube import _config
from cube._errors import InputError
from cube.topics._reduce import DEFAULT_NEIGHBORS, CachedUMAP

if TYPE_CHECKING:  # pragma: no cover
    from bertopic import BERTopic

MIN_DOCUMENTS = 50
# Words made of letters (and inner hyphens or apostrophes): no numbers as topic words.
TOKEN_PATTERN = r"(?u)\b[^\W\d_][^\W\d_'-]*(?:['-][^\W\d_]+)*\b"


def default_min_topic_size(n_documents: int) -> int:
    """About one topic per 150 documents' worth of size, between 5 and 50.

    Example:
        >>> default_min_topic_size(4000)
        27
    """
    return int(min(50, max(5, round(n_documents / 150))))


def make_embedder(model: str | os.PathLike = _config.DEFAULT_MODEL):
    """A BERTopic embedding backend that goes through ``cube.embed`` and its cache."""
    from bertopic.backend import BaseEmbedder

    from cube.embeddings import embed

    class CubeEmbedder(BaseEmbedder):
        """BERTopic backend: every text is embedded once, ever (see ``cube.embed``)."""

        def __init__(self, model_name: str) -> None:
            super().__init__()
            self.model_name = model_name

        def embed(self, documents: Sequence[str], verbose: bool = False) -> np.ndarray:
            return embed(list(documents), self.model_name, show_progress=verbose or None)

    return CubeEmbedder(os.fspath(model))


def _timed_hdbscan(**params: Any):
    from hdbscan import HDBSCAN

    class TimedHDBSCAN(HDBSCAN):
        """HDBSCAN that remembers how long ``fit`` took (for the stage timings)."""

        def fit(self, X, y=None, **kwargs):
            started = time.perf_counter()
            result = super().fit(X, y, **kwargs)
            self.fit_seconds_ = time.perf_counter() - started
            return result

    return TimedHDBSCAN(**params)


def check_corpus_size(n_documents: int, min_topic_size: int) -> None:
    """A clear error for corpora too small for UMAP and HDBSCAN to find topics."""
    needed = max(MIN_DOCUMENTS, 2 * min_topic_size)
    if n_documents < needed:
        raise InputError(
            f"topic modeling needs at least {needed} documents with min_topic_size="
            f"{min_topic_size}, and got {n_documents}; add documents (or a larger --sample)"
            + (" or lower min_topic_size" if needed > MIN_DOCUMENTS else "")
        )


def build(
    *,
    n_documents: int,
    model: str | os.PathLike = _config.DEFAULT_MODEL,
    min_topic_size: int | None = None,
    n_neighbors: int = DEFAULT_NEIGHBORS,
    seed: int = 0,
    representation: str = "keybert+mmr",
    top_n_words: int = 10,
    nr_topics: int | str | None = None,
    verbose: bool = False,
) -> BERTopic:
    """An unfitted ``BERTopic`` with cube's teaching defaults (see :func:`fit`)."""
    from bertopic import BERTopic
    from bertopic.representation import KeyBERTInspired, MaximalMarginalRelevance
    from sklearn.feature_extraction.text import CountVectorizer

    min_topic_size = min_topic_size or default_min_topic_size(n_documents)
    check_corpus_size(n_documents, min_topic_size)
    representations = {
        "keybert+mmr": lambda: [
            KeyBERTInspired(top_n_words=top_n_words, random_state=seed),
            MaximalMarginalRelevance(diversity=0.3, top_n_words=top_n_words),
        ],
        "keybert": lambda: KeyBERTInspired(top_n_words=top_n_words, random_state=seed),
        "mmr": lambda: MaximalMarginalRelevance(diversity=0.3, top_n_words=top_n_words),
        "ctfidf": lambda: None,
    }
    if representation not in representations:
        raise InputError(
            f"unknown representation {representation!r}; use one of {', '.join(representations)}"
        )
    return BERTopic(
        embedding_model=make_embedder(model),
        umap_model=CachedUMAP(n_components=5, n_neighbors=n_neighbors, seed=seed),
        hdbscan_model=_timed_hdbscan(
            min_cluster_size=min_topic_size,
            metric="euclidean",
            cluster_selection_method="eom",
            prediction_data=True,
        ),
        vectorizer_model=CountVectorizer(
            stop_words="english",
            token_pattern=TOKEN_PATTERN,
            ngram_range=(1, 2),
            min_df=2 if n_documents >= 200 else 1,
        ),
        representation_model=representations[representation](),
        min_topic_size=min_topic_size,
        top_n_words=top_n_words,
        nr_topics=nr_topics,
        verbose=verbose,
    )


def fit(
    docs: Sequence[str],
    embeddings: np.ndarray | None = None,
    *,
    model: str | os.PathLike = _config.DEFAULT_MODEL,
    min_topic_size: int | None = None,
    n_neighbors: int = DEFAULT_NEIGHBORS,
    seed: int = 0,
    representation: str = "keybert+mmr",
    nr_topics: int | str | None = None,
    verbose: bool = False,
) -> BERTopic:
    """Fit a BERTopic model with teaching defaults and return it (a real ``BERTopic``).

    The defaults: embeddings from :func:`cube.embed` (cached); a seeded, cached 5-D UMAP, so
    the same seed gives the same topics and a second run skips UMAP; HDBSCAN with
    ``min_topic_size`` scaled to the corpus; English stop words and numbers kept out of topic
    words; KeyBERT-inspired words made diverse with MMR.

    Args:
        docs: the documents.
        embeddings: their vectors, if you already have them (else computed with ``model``).
        model: the sentence-transformers model for embeddings and topic words.
        min_topic_size: the smallest group of documents that counts as a topic.
        n_neighbors: UMAP's neighborhood: smaller finds more local, smaller topics.
        seed: makes UMAP (and so the topics) reproducible.
        representation: ``keybert+mmr``, ``keybert``, ``mmr`` or ``ctfidf`` (plain c-TF-IDF).
        nr_topics: merge down to this many topics (or ``"auto"``).

    Example:
        >>> docs = cube.datasets.load("sotu", sample=2000)["text"].tolist()
        >>> topic_model = cube.topics.fit(docs)
        >>> topic_model.get_topic_info().head()
    """
    from cube.embeddings import embed

    docs = list(docs)
    topic_model = build(
        n_documents=len(docs),
        model=model,
        min_topic_size=min_topic_size,
        n_neighbors=n_neighbors,
        seed=seed,
        representation=representation,
        nr_topics=nr_topics,
        verbose=verbose,
    )
    if embeddings is None:
        embeddings = embed(docs, model)
    elif len(embeddings) != len(docs):
        raise InputError(f"got {len(docs)} documents but {len(embeddings)} embeddings")
    fit_transform(topic_model, docs, np.asarray(embeddings))
    return topic_model


def fit_transform(
    topic_model: BERTopic, docs: list[str], embeddings: np.ndarray
) -> tuple[list[int], np.ndarray]:
    """``topic_model.fit_transform`` with clear errors for corpora that yield no topics."""
    try:
        topics, probabilities = topic_model.fit_transform(docs, embeddings=embeddings)
    except ValueError as exc:
        if "empty vocabulary" not in str(exc):
            raise
        raise InputError(
            "the documents have no words left once stop words and numbers are removed; "
            "check that the text column holds the documents"
        ) from exc
    if len(set(topics) - {-1}) < 2:
        raise InputError(
            f"found fewer than 2 topics in {len(docs)} documents with min_topic_size="
            f"{topic_model.min_topic_size}; lower min_topic_size or add documents"
        )
    return topics, probabilities
