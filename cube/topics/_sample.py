"""Fit on a sample, assign the rest: topics for corpora too large for one UMAP and HDBSCAN."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from cube._config import DEFAULT_FIT_SAMPLE
from cube._errors import InputError
from cube._texts import TextsOnDisk
from cube.topics._model import OUTLIER_FLOOR, TopicSettings, default_min_topic_size

if TYPE_CHECKING:  # pragma: no cover
    from bertopic import BERTopic

    from cube.embeddings import CachedVectors, SpacePlan
    from cube.reductions import Reduction

_BLOCK = 50_000  # documents compared with the topics at a time: memory stays flat


@dataclass(frozen=True)
class SampleFit:
    """What :func:`fit_on_sample` made.

    ``topic_model`` was fitted on the documents at ``sample`` (its ``topics_`` are theirs);
    ``topics`` has every document's topic; a document outside the sample joined the topic
    whose embedding is most similar to its own when that similarity is at least ``threshold``
    (None when the sample was every document). ``assigned_by`` says how each document got its
    topic (``cluster``, ``similarity``, ``none``, and outside the sample ``similarity (outside
    the sample)`` or ``none (outside the sample)``); ``probability`` is HDBSCAN's (NaN outside
    the sample); ``seconds`` times the fit, the assignment of the others and their words.
    """

    topic_model: BERTopic
    topics: list[int]
    sample: np.ndarray
    threshold: float | None
    assigned_by: np.ndarray = field(default_factory=lambda: np.empty(0, object))
    probability: np.ndarray = field(default_factory=lambda: np.empty(0))
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def sampled(self) -> bool:
        """Whether the topics were fitted on a sample (the others assigned by similarity)."""
        return len(self.sample) < len(self.topics)


def _unit(rows: np.ndarray) -> np.ndarray:
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


def assign_to_topics(
    topic_model: BERTopic,
    embeddings: np.ndarray | CachedVectors,
    rows: np.ndarray | None = None,
    *,
    client: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each row's most similar topic (by cosine to the topic embeddings) and that similarity.

    ``rows``: only these rows of ``embeddings`` (read a block at a time: no copy of them all).
    With a Dask ``client`` and :class:`~cube.embeddings.CachedVectors`, the blocks are
    compared on its workers, which read their rows from the cache; only the topics and
    similarities travel.
    """
    offset = topic_model._outliers  # row 0 of topic_embeddings_ is -1 when there are outliers
    topics = _unit(topic_model.topic_embeddings_[offset:])
    rows = np.arange(len(embeddings)) if rows is None else np.asarray(rows)
    best = np.empty(len(rows), np.int64)
    similarity = np.empty(len(rows), np.float32)
    starts = range(0, len(rows), _BLOCK)
    if client is not None and _in_cache(embeddings):
        from cube._parallel import results_as_finished

        shared = client.scatter(topics, broadcast=True)

        def submit(start: int):
            part = embeddings.take(rows[start : start + _BLOCK])
            return client.submit(_nearest, shared, part, start, pure=False)

        in_flight = max(4, 2 * len(client.nthreads()))
        done = results_as_finished(client, submit, starts, in_flight)
    else:
        done = (_nearest(topics, embeddings[rows[s : s + _BLOCK]], s) for s in starts)
    for start, block_best, block_similarity in done:
        best[start : start + len(block_best)] = block_best
        similarity[start : start + len(block_best)] = block_similarity
    return best, similarity


def _in_cache(embeddings) -> bool:
    """Whether these are :class:`~cube.embeddings.CachedVectors` (rows read when indexed)."""
    from cube.embeddings import CachedVectors

    return isinstance(embeddings, CachedVectors)


def _nearest(topics: np.ndarray, vectors, start: int) -> tuple[int, np.ndarray, np.ndarray]:
    """One block: each row's most similar of the unit ``topics`` and the similarity."""
    block = _unit(vectors[:]) @ topics.T
    return start, block.argmax(axis=1), block.max(axis=1)


def sample_rows(n_documents: int, sample_size: int, seed: int) -> np.ndarray:
    """The positions of a seeded sample of ``sample_size`` of ``n_documents``, sorted."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n_documents, size=sample_size, replace=False))


def scaled_min_topic_size(n_documents: int, sample_size: int) -> int:
    """The smallest topic for a sample: the same share of the corpus as a full fit's."""
    return max(5, round(default_min_topic_size(n_documents) * sample_size / n_documents))


def assign_rest(
    topic_model: BERTopic,
    embeddings: np.ndarray,
    settings: TopicSettings,
    *,
    rows: np.ndarray | None = None,
    client: Any = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Topics for documents the model was not fitted on, by the fit's outlier rule: the most
    similar topic when the similarity is at least ``outlier_threshold``, lowered while more
    than ``max_outlier_share`` would stay in none (never below 0.2). Returns the topics (-1:
    none), the similarities and the threshold used. ``rows``: only these rows of
    ``embeddings``; ``client``: compared on a Dask cluster (:func:`assign_to_topics`)."""
    best, similarity = assign_to_topics(topic_model, embeddings, rows, client=client)
    threshold = settings.outlier_threshold if settings.outlier_threshold is not None else -1.0
    if settings.max_outlier_share is not None and settings.outlier_threshold is not None:
        allowed = int(settings.max_outlier_share * len(similarity))
        if (similarity < threshold).sum() > allowed and allowed < len(similarity):
            ranked = np.sort(similarity)[::-1]
            lowered = ranked[len(similarity) - allowed - 1]
            threshold = float(max(OUTLIER_FLOOR, min(threshold, lowered)))
    return np.where(similarity >= threshold, best, -1), similarity, float(threshold)


def count_terms_by_topic(
    topic_model: BERTopic,
    partitions: Iterable[tuple[Sequence[str], Sequence[int]]],
    *,
    client: Any = None,
):
    """How often each term of the model's vocabulary occurs in each topic's documents, counted
    a partition at a time and summed (the map and the reduce of c-TF-IDF): a sparse matrix,
    one row per topic of the fit (``-1`` first when it has outliers), one column per term.

    Each document is counted on its own, with the fitted vectorizer (a phrase never joins the
    end of one document to the start of the next), and no topic's documents are ever joined
    into one string. Documents of a topic the fit does not have are not counted. With a Dask
    ``client``, the partitions are counted on its workers and summed here.

    Example:
        >>> counts = count_terms_by_topic(topic_model, [(docs[:5000], topics[:5000])])
    """
    from scipy.sparse import csr_matrix

    labels = sorted(int(t) for t in topic_model.topic_sizes_)
    row_of = np.full(max(labels) + 2, -1, np.int64)  # topic t at row_of[t + 1]
    row_of[np.asarray(labels) + 1] = np.arange(len(labels))
    vectorizer = topic_model.vectorizer_model
    if client is None:
        counted = (_count_partition(vectorizer, row_of, texts, t) for texts, t in partitions)
    else:
        counted = _count_on_cluster(client, vectorizer, row_of, partitions)
    total = None
    for part in counted:
        total = part if total is None else total + part
    if total is None:
        return csr_matrix((len(labels), len(vectorizer.vocabulary_)), dtype=np.int64)
    return total


def _count_partition(vectorizer, row_of: np.ndarray, texts: Sequence[str], topics):
    """The map: one partition's term counts, summed per topic (rows as ``row_of`` says)."""
    from scipy.sparse import csr_matrix

    topics = np.asarray(topics, np.int64)
    known = (topics + 1 < len(row_of)) & (row_of[np.minimum(topics + 1, len(row_of) - 1)] >= 0)
    counted = vectorizer.transform([t for t, k in zip(texts, known, strict=True) if k])
    rows = row_of[topics[known] + 1]
    n_rows = int((row_of >= 0).sum())
    by_topic = csr_matrix(
        (np.ones(len(rows), np.int64), (rows, np.arange(len(rows)))), shape=(n_rows, len(rows))
    )
    return (by_topic @ counted).tocsr()


def _count_on_cluster(client, vectorizer, row_of: np.ndarray, partitions):
    """The map on a Dask cluster's workers, a few partitions in flight at a time (the texts go
    to the workers, the small count matrices come back), yielded as they finish."""
    from cube._parallel import results_as_finished

    shared = client.scatter(vectorizer, broadcast=True)  # once per worker, not per partition

    def submit(part):
        return client.submit(_count_partition, shared, row_of, list(part[0]), part[1], pure=False)

    in_flight = max(4, 2 * len(client.nthreads()))
    yield from results_as_finished(client, submit, partitions, in_flight)


def words_from_counts(
    topic_model: BERTopic, counts, documents: Sequence[str], topics: Sequence[int]
) -> None:
    """Set the model's c-TF-IDF and topic words from :func:`count_terms_by_topic`'s counts, in
    place; ``documents`` and their ``topics`` feed the representation steps (the fit sample's:
    :class:`CoherentTerms` counts its word windows there)."""
    import pandas as pd

    c_tf_idf = topic_model.ctfidf_model.fit(counts).transform(counts)
    words = topic_model.vectorizer_model.get_feature_names_out()
    frame = pd.DataFrame(
        {"Document": list(documents), "ID": range(len(documents)), "Topic": list(topics)}
    )
    frame["Image"] = None
    topic_model.c_tf_idf_ = c_tf_idf
    # BERTopic's topic_labels_ follow from these representations.
    topic_model.topic_representations_ = topic_model._extract_words_per_topic(
        words, frame, c_tf_idf, calculate_aspects=False
    )


def words_from_every_document(
    topic_model: BERTopic,
    docs: Sequence[str],
    topics: Sequence[int],
    fitted: np.ndarray,
    *,
    partition: int = _BLOCK,
    client: Any = None,
) -> None:
    """The topics' words from every document (not only the fit sample's): terms counted a
    ``partition`` of documents at a time (:func:`count_terms_by_topic`), then c-TF-IDF and the
    representation (on the documents at positions ``fitted``). The topic sizes become every
    document's too. With a Dask ``client``, the counting runs on its workers."""
    from collections import Counter

    topics = np.asarray(topics, np.int64)
    parts = (
        (docs[start : start + partition], topics[start : start + partition])
        for start in range(0, len(docs), partition)
    )
    counts = count_terms_by_topic(topic_model, parts, client=client)
    words_from_counts(topic_model, counts, [docs[i] for i in fitted], topics[fitted])
    known = set(topic_model.topic_sizes_)  # a fit without outliers has no -1 to count
    sizes = Counter(int(t) for t in topics)
    topic_model.topic_sizes_ = Counter({t: n for t, n in sizes.items() if t in known})


def fit_on_sample(
    docs: Sequence[str],
    embeddings: np.ndarray | CachedVectors,
    settings: TopicSettings | None = None,
    *,
    sample_size: int = DEFAULT_FIT_SAMPLE,
    sample: np.ndarray | None = None,
    reduction: Reduction | None = None,
    embedding: SpacePlan | None = None,
    client: Any = None,
    **changes: Any,
) -> SampleFit:
    """Fit topics on a seeded sample of ``sample_size`` documents (the smallest topic scaled
    to the sample: the same share of the corpus as a full fit's), then give every other
    document the most similar topic (cosine to the topic embeddings), by the same outlier rule
    as the fit: at least ``outlier_threshold``, lowered while more than ``max_outlier_share``
    of them would stay in no topic (never below 0.2).

    With ``sample_size`` at least the number of documents, this is :func:`fit` on all of them.
    ``sample``: the positions to fit on, instead of a seeded sample (``cube topics`` leaves
    near-identical copies out of it with ``--dedupe``); ``reduction``: the UMAP reduction of
    those documents' embeddings, already computed (:func:`cube.reductions.reduction` with the
    settings' ``umap_params()``); ``embedding``: the embedding decision the vectors came from
    (:func:`cube.topics.fit`).

    The topics' words and sizes are then counted over every document, a partition at a time
    (:func:`words_from_every_document`): on the workers of a Dask ``client`` if given, which
    also compare the other documents with the topics when ``embeddings`` are
    :class:`~cube.embeddings.CachedVectors` (``embed_with_stats(..., in_memory=False)``: only
    the sample's vectors are read here).

    Example:
        >>> made = cube.topics.fit_on_sample(docs, vectors, sample_size=4000, seed=0)
        >>> len(made.topics) == len(docs)
        True
    """
    import time

    from cube.topics._model import build, fit_transform

    if not isinstance(docs, TextsOnDisk):
        docs = list(docs)
    if not _in_cache(embeddings):
        embeddings = np.asarray(embeddings)
    if len(embeddings) != len(docs):
        raise InputError(f"{len(docs)} documents but {len(embeddings)} embeddings")
    if sample_size < 2:
        raise InputError(f"sample_size must be 2 or more, not {sample_size}")
    settings = replace(settings or TopicSettings(), **changes)
    n = len(docs)
    if sample is None:
        sample = np.arange(n) if sample_size >= n else sample_rows(n, sample_size, settings.seed)
    sample = np.asarray(sample, np.int64)
    sampled = len(sample) < n
    if sampled and settings.min_topic_size is None:
        settings = replace(settings, min_topic_size=scaled_min_topic_size(n, len(sample)))
    fitted_docs = [docs[i] for i in sample] if sampled else list(docs)
    started = time.perf_counter()
    topic_model = build(len(fitted_docs), settings, embedding=embedding)
    fitted, probabilities = fit_transform(
        topic_model,
        fitted_docs,
        np.asarray(embeddings[sample] if sampled else embeddings[:]),
        outlier_threshold=settings.outlier_threshold,
        max_outlier_share=settings.max_outlier_share,
        reduction=reduction,
    )
    seconds = {"fit": time.perf_counter() - started}
    clustered = np.asarray(topic_model.hdbscan_model.labels_) != -1
    fitted = np.asarray(fitted, np.int64)
    fitted_by = np.where(clustered, "cluster", np.where(fitted == -1, "none", "similarity"))
    fitted_probability = np.round(np.asarray(probabilities, dtype=float), 4)
    if not sampled:
        return SampleFit(
            topic_model,
            [int(t) for t in fitted],
            sample,
            None,
            fitted_by,
            fitted_probability,
            seconds,
        )
    started = time.perf_counter()
    rest = np.setdiff1d(np.arange(n), sample, assume_unique=True)
    assigned, _, threshold = assign_rest(
        topic_model, embeddings, settings, rows=rest, client=client
    )
    topics = np.empty(n, np.int64)
    topics[sample], topics[rest] = fitted, assigned
    assigned_by = np.empty(n, object)
    assigned_by[sample] = fitted_by
    outside = ("similarity (outside the sample)", "none (outside the sample)")
    assigned_by[rest] = np.where(assigned == -1, outside[1], outside[0])
    probability = np.full(n, np.nan)
    probability[sample] = fitted_probability
    seconds["assign"] = time.perf_counter() - started
    started = time.perf_counter()
    words_from_every_document(topic_model, docs, topics, sample, client=client)
    seconds["words"] = time.perf_counter() - started
    return SampleFit(
        topic_model,
        [int(t) for t in topics],
        sample,
        threshold,
        assigned_by,
        probability,
        seconds,
    )
