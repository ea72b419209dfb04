"""Topic quality in numbers: NPMI coherence, topic diversity, outliers, seed stability, LDA.

Everything is computed here with numpy, scipy, scikit-learn and pandas (no gensim, no OCTIS), so
any topic model lands in the same table: a fitted ``BERTopic``, or a :class:`TopicWords` such as
the one :func:`lda` returns.

Example:
    >>> quality = cube.topics.evaluate(topic_model, docs)
    >>> quality.loc["overall", ["npmi", "diversity@10", "outlier_share"]]
    >>> cube.topics.evaluate(cube.topics.lda(docs, n_topics=20), docs).loc["overall", "npmi"]
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from cube._errors import InputError
from cube.topics._coherence import windowed_npmi
from cube.topics._terms import contains, words_and_gaps

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from bertopic import BERTopic

DIVERSITY_AT = (10, 25)
# How deep the c-TF-IDF (or LDA) ranking goes: enough for diversity@25 and a longer look.
RANKING_DEPTH = 50
OVERALL = "overall"
# The overall row's numbers that summarise a model (summary.json, the report's headline).
QUALITY_HEADLINE = (
    "npmi",
    "c_npmi",
    *(f"diversity@{n}" for n in DIVERSITY_AT),
    "outlier_share",
    "n_topics",
    "largest_topic_size",
)
COLUMNS = ("size", "share", "n_words", "words", *QUALITY_HEADLINE)


def quality_headline(overall: Mapping[str, Any]) -> str:
    """One line naming both coherences, diversity and the outlier share (``evaluate``'s
    ``overall`` row, or summary.json's ``quality``).

    Example:
        >>> quality_headline(cube.topics.evaluate(topic_model, docs).loc["overall"])
        'NPMI +0.284 over passages, +0.170 over 10-token windows (c_npmi), diversity@10 0.92, 10% in no topic'
    """
    return (
        f"NPMI {overall['npmi']:+.3f} over passages, {overall['c_npmi']:+.3f} over 10-token "
        f"windows (c_npmi), diversity@10 {overall['diversity@10']:.2f}, "
        f"{overall['outlier_share']:.0%} in no topic"
    )


@dataclass(frozen=True, eq=False)
class TopicWords:
    """Any topic model reduced to what :func:`evaluate` needs: labels and ranked words.

    Attributes:
        labels: one topic id per document (``-1``: in no topic).
        words: each topic's words as the model shows them, best first (phrases allowed).
        ranking: optionally, a longer ranking of each topic's words, best first, used when more
            words are asked for than the model shows (``n_shown``).
        n_shown: how many words per topic the model shows (default: the longest of ``words``).

    Example:
        >>> topics = TopicWords.from_bertopic(topic_model)
        >>> topics.top(25)[0][:5]
    """

    labels: np.ndarray
    words: Mapping[int, tuple[str, ...]]
    ranking: Mapping[int, tuple[str, ...]] | None = None
    n_shown: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "labels", np.asarray(self.labels, dtype=np.int64).ravel())
        object.__setattr__(
            self, "words", {int(t): tuple(ws) for t, ws in sorted(self.words.items())}
        )
        if self.ranking is not None:
            object.__setattr__(
                self, "ranking", {int(t): tuple(ws) for t, ws in sorted(self.ranking.items())}
            )
        if self.n_shown is None:
            longest = max((len(ws) for ws in self.words.values()), default=0)
            object.__setattr__(self, "n_shown", longest)

    def can_rank(self, n: int) -> bool:
        """Whether :meth:`top` can give ``n`` words a topic (as many as the topic has)."""
        return self.ranking is not None or n <= self.n_shown

    def top(self, n: int) -> dict[int, tuple[str, ...]]:
        """Each topic's ``n`` best words, duplicates dropped.

        Up to ``n_shown`` words these are the model's own words (``words``); beyond that, for
        every topic, the first ``n`` of ``ranking`` (when there is one; else ``words`` as is).
        """
        source = self.words if n <= self.n_shown or self.ranking is None else self.ranking
        return {t: tuple(dict.fromkeys(w for w in ws if w))[:n] for t, ws in source.items()}

    @classmethod
    def from_bertopic(cls, topic_model: BERTopic, *, depth: int = RANKING_DEPTH) -> TopicWords:
        """The labels and words of a fitted ``BERTopic``.

        ``words`` are ``topic_model.get_topic(t)`` (whatever representation the model uses,
        BERTopic's empty padding words dropped); ``ranking`` is each topic's c-TF-IDF ranking
        (``topic_model.c_tf_idf_`` over ``vectorizer_model.get_feature_names_out()``, words with a
        positive score, ties broken by vocabulary order), ``depth`` words deep.

        Example:
            >>> TopicWords.from_bertopic(topic_model).words[0]
        """
        if getattr(topic_model, "topics_", None) is None:
            raise InputError("the topic model is not fitted yet; fit it before evaluating it")
        topics = sorted(int(t) for t in topic_model.get_topics())
        shown = {t: topic_model.get_topic(t) or [] for t in topics}
        words = {t: tuple(w for w, _ in pairs if w) for t, pairs in shown.items()}
        vectorizer = topic_model.vectorizer_model
        ranking = None
        c_tf_idf = getattr(topic_model, "c_tf_idf_", None)
        if c_tf_idf is not None and c_tf_idf.shape[0] == len(topics):
            # c-TF-IDF rows follow the sorted topic ids (-1 first when there are outliers).
            ranking = _rank_rows(c_tf_idf, vectorizer.get_feature_names_out(), topics, depth)
        return cls(
            labels=np.asarray(topic_model.topics_),
            words=words,
            ranking=ranking,
            n_shown=max((len(pairs) for pairs in shown.values()), default=0),
        )


def _rank_rows(matrix, names: Sequence[str], topics: Sequence[int], depth: int) -> dict:
    """Each row's positive entries, highest first (ties: lower column first), ``depth`` deep."""
    from scipy import sparse

    matrix = sparse.csr_matrix(matrix)
    ranking = {}
    for row, topic in enumerate(topics):
        start, end = matrix.indptr[row], matrix.indptr[row + 1]
        columns, values = matrix.indices[start:end], matrix.data[start:end]
        keep = values > 0
        columns, values = columns[keep], values[keep]
        order = np.lexsort((columns, -values))[:depth]
        ranking[topic] = tuple(str(names[c]) for c in columns[order])
    return ranking


def _presence(texts: Sequence[str], vocabulary: Mapping[str, int]):
    """A sparse boolean documents × terms matrix: does the lower-cased text literally hold the
    term (its words, standing together; the terms :func:`cube.topics.literal_terms` finds)."""
    from scipy import sparse

    by_first: dict[str, list[tuple[tuple[str, ...], int]]] = {}
    for term, column in vocabulary.items():
        parts = tuple(term.split(" "))
        by_first.setdefault(parts[0], []).append((parts, column))
    indptr = [0]
    indices: list[int] = []
    for text in texts:
        words, joined = words_and_gaps(text)
        found = set()
        for i, word in enumerate(words):
            for parts, column in by_first.get(word, ()):
                n = len(parts)
                if n == 1 or (tuple(words[i : i + n]) == parts and all(joined[i : i + n - 1])):
                    found.add(column)
        indices.extend(sorted(found))
        indptr.append(len(indices))
    data = np.ones(len(indices), dtype=np.int32)
    return sparse.csr_matrix(
        (data, np.asarray(indices, dtype=np.int64), np.asarray(indptr, dtype=np.int64)),
        shape=(len(texts), len(vocabulary)),
    )


def scored_pairs(words: Sequence[str]) -> list[tuple[str, str]]:
    """The pairs of a topic's words that coherence scores: every pair, except a term and a
    term made of its own words ("hottest place", "hottest"), whose co-occurrence is certain.

    Example:
        >>> scored_pairs(["hottest place", "hottest", "desert"])
        [('hottest place', 'desert'), ('hottest', 'desert')]
    """
    return [(a, b) for a, b in itertools.combinations(words, 2) if not contains(a, b)]


def _npmi(doc_freq: np.ndarray, co_freq: np.ndarray, n_documents: int, pairs) -> float:
    """Mean NPMI over the pairs of term ids (NaN without a pair)."""
    scores = []
    for a, b in pairs:
        joint = co_freq[a, b]
        if joint == 0:  # never together (also: a word in no document)
            scores.append(-1.0)
        elif joint == n_documents:  # both in every document: perfectly associated
            scores.append(1.0)
        else:
            p_joint = joint / n_documents
            # In floats: counts are int32, and their products pass 2**31 past 46,341 documents.
            pmi = math.log(float(joint) * n_documents / (float(doc_freq[a]) * float(doc_freq[b])))
            scores.append(pmi / -math.log(p_joint))
    return float(np.mean(scores)) if scores else math.nan


def _mean_over(rows: Mapping, topics: Sequence[int], column: str) -> float:
    """The mean of a score over the topics that have one (NaN when none has)."""
    values = [rows[t][column] for t in topics if not math.isnan(rows[t][column])]
    return float(np.mean(values)) if values else math.nan


def _diversity(words: Mapping[int, Sequence[str]]) -> float:
    """Unique words / all words over the topics given (NaN with no words)."""
    every = [w for ws in words.values() for w in ws]
    return len(set(every)) / len(every) if every else math.nan


def evaluate(
    topic_model: BERTopic | TopicWords, texts: Sequence[str], *, top_n: int = 10
) -> pd.DataFrame:
    """How good are the topics? NPMI coherence, diversity, outliers, sizes: one table.

    ``topic_model`` is a fitted ``BERTopic`` or a :class:`TopicWords` (e.g. from :func:`lda`);
    ``texts`` are the documents it was fitted on, in the same order.

    The frame has one row per topic, indexed by topic id (``-1``, the outliers, first when
    present), then one row ``"overall"``. Columns:

    - ``size``: documents in the topic (overall: all documents); ``share``: as a fraction.
    - ``n_words``, ``words``: how many and which top words were scored (``", "``-joined).
    - ``npmi``: the topic's coherence, the mean NPMI of its pairs of top words, counted over
      whole texts (below). Overall: the mean over topics other than ``-1`` that have a score.
    - ``c_npmi``: the same pairs counted the literature's way, in sliding windows of 10 tokens
      of the lower-cased texts with English stop words removed (gensim's ``c_npmi``, which
      OCTIS and the BERTopic and FASTopic papers report; see
      :func:`cube.topics.windowed_npmi`). Overall: the mean, as for ``npmi``. The two
      headline coherences can disagree: words that share passages but seldom stand within
      ten tokens of each other score well on ``npmi`` only.
    - overall row only: ``diversity@10`` and ``diversity@25`` (unique / all words among the
      top 10 or 25 words of the topics other than ``-1``; Dieng et al. 2020), ``outlier_share``
      (fraction of documents labelled ``-1``), ``n_topics`` (not counting ``-1``) and
      ``largest_topic_size`` (documents in the largest topic other than ``-1``).

    How NPMI is counted (Bouma 2009; Lau et al. 2014): over the ``texts``, a document is one text
    and a term is present in it or not: present only where it literally stands in the
    lower-cased text (a phrase such as ``"united nations"``: its words next to each other,
    white space only between them), whatever tokenizer the model used, so every model is
    counted the same way and a pair the model's analyzer made up ("work home" from "work from
    home") is not found. With ``D`` documents, ``P(w) = df(w) / D`` and for two words
    ``NPMI = log(P(a, b) / (P(a) P(b))) / -log P(a, b)``. A pair that never co-occurs scores
    -1, and so does every pair with a word found in no document. A pair of a term and a term
    made of its own words ("hottest place", "hottest") is left out: they co-occur by
    construction (:func:`scored_pairs`; the same for ``c_npmi``). A topic with fewer than two
    words has no pair: its NPMI is NaN and it is left out of the mean. This count equals
    gensim's ``c_npmi`` with a window as long as the longest text, for the pairs that meet
    (``tests/test_coherence.py``).

    Which words: the top ``top_n`` words (NPMI) and top 10 (diversity@10) are the model's own
    words (``topic_model.get_topic(t)``, any representation) as long as the model shows that
    many; asked for more (diversity@25 from a model showing 10), every topic's words come from
    its c-TF-IDF ranking instead (for LDA: its word weights). A score needing more words than
    the model offers is NaN.

    Example:
        >>> quality = cube.topics.evaluate(topic_model, docs)
        >>> quality.loc["overall", "npmi"]  # the headline: mean NPMI over topics
        >>> quality.drop(index="overall").sort_values("npmi").head()  # least coherent topics
    """
    import pandas as pd

    if top_n < 1:
        raise InputError(f"top_n must be at least 1, got {top_n}")
    topics = (
        topic_model
        if isinstance(topic_model, TopicWords)
        else TopicWords.from_bertopic(topic_model, depth=max(RANKING_DEPTH, top_n))
    )
    texts = list(texts)
    labels = topics.labels
    if len(texts) != len(labels):
        raise InputError(
            f"the model has topics for {len(labels)} documents but got {len(texts)} texts; "
            "pass the documents it was fitted on"
        )
    if not texts:
        raise InputError("no documents to evaluate on")

    scored = topics.top(top_n)
    vocabulary = {w: i for i, w in enumerate(sorted({w for ws in scored.values() for w in ws}))}
    presence = _presence(texts, vocabulary)
    doc_freq = np.asarray(presence.sum(axis=0)).ravel()
    co_freq = (presence.T @ presence).toarray()

    windowed = windowed_npmi(scored, texts)
    ids, counts = np.unique(labels, return_counts=True)
    sizes = dict(zip(ids.tolist(), counts.tolist(), strict=True))
    rows = {}
    for topic in sorted(set(scored) | set(sizes)):
        words = scored.get(topic, ())
        rows[topic] = {
            "size": sizes.get(topic, 0),
            "share": sizes.get(topic, 0) / len(labels),
            "n_words": len(words),
            "words": ", ".join(words),
            "npmi": _npmi(
                doc_freq,
                co_freq,
                len(texts),
                [(vocabulary[a], vocabulary[b]) for a, b in scored_pairs(words)],
            ),
            "c_npmi": windowed.get(topic, math.nan),
        }
    real = [t for t in rows if t != -1]
    overall: dict[str, Any] = {
        "size": len(labels),
        "share": 1.0,
        "npmi": _mean_over(rows, real, "npmi"),
        "c_npmi": _mean_over(rows, real, "c_npmi"),
        "outlier_share": sizes.get(-1, 0) / len(labels),
        "n_topics": len(real),
        "largest_topic_size": max((rows[t]["size"] for t in real), default=0),
    }
    for n in DIVERSITY_AT:
        words = {t: ws for t, ws in topics.top(n).items() if t != -1}
        overall[f"diversity@{n}"] = _diversity(words) if topics.can_rank(n) else math.nan
    rows[OVERALL] = overall

    frame = pd.DataFrame.from_dict(rows, orient="index").reindex(columns=list(COLUMNS))
    frame.index.name = "topic"
    for column in ("size", "n_words", "n_topics", "largest_topic_size"):
        frame[column] = frame[column].astype("Int64")
    frame["words"] = frame["words"].astype("string")
    return frame


@dataclass(frozen=True, eq=False)
class Stability:
    """How much the topics move when only the seed changes (see :func:`stability`).

    Attributes:
        seeds: the seeds, in order.
        labels: each seed's document labels.
        ari: adjusted Rand index between the runs, seeds × seeds (1 on the diagonal).
        mean: the mean ARI over the pairs of different seeds: 1 is identical, about 0 is chance.
    """

    seeds: tuple[int, ...]
    labels: Mapping[int, np.ndarray]
    ari: pd.DataFrame
    mean: float

    @property
    def n_topics(self) -> dict[int, int]:
        """Topics found with each seed (not counting ``-1``)."""
        return {s: len(set(self.labels[s].tolist()) - {-1}) for s in self.seeds}


def stability(
    texts: Sequence[str],
    vectors: np.ndarray,
    *,
    seeds: Sequence[int] = (0, 1, 2),
    **fit_kwargs: Any,
) -> Stability:
    """Fit once per seed and compare the document labels with the adjusted Rand index.

    Each run is ``cube.topics.fit(texts, vectors, seed=s, representation="ctfidf",
    **fit_kwargs)``: the representation does not change labels, and plain c-TF-IDF needs no
    embedding model. Outliers (``-1``) count as one more label. Reductions are cached, so a
    seed already seen costs no UMAP.

    Example:
        >>> result = cube.topics.stability(docs, vectors, seeds=(0, 1, 2))
        >>> result.mean, result.ari
    """
    import pandas as pd
    from sklearn.metrics import adjusted_rand_score

    from cube.topics import fit

    if "representation" in fit_kwargs or "seed" in fit_kwargs:
        raise TypeError("stability() chooses seed and representation itself; pass seeds=")
    seeds = tuple(int(s) for s in seeds)
    if len(set(seeds)) != len(seeds) or len(seeds) < 2:
        raise InputError(f"stability needs at least two different seeds, got {seeds}")
    texts = list(texts)
    labels = {
        s: np.asarray(fit(texts, vectors, seed=s, representation="ctfidf", **fit_kwargs).topics_)
        for s in seeds
    }
    ari = pd.DataFrame(1.0, index=pd.Index(seeds, name="seed"), columns=list(seeds))
    pairs = []
    for a, b in itertools.combinations(seeds, 2):
        score = float(adjusted_rand_score(labels[a], labels[b]))
        ari.loc[a, b] = ari.loc[b, a] = score
        pairs.append(score)
    return Stability(seeds=seeds, labels=labels, ari=ari, mean=float(np.mean(pairs)))


def lda(
    texts: Sequence[str],
    n_topics: int,
    seed: int = 0,
    *,
    top_n: int = 10,
    max_iter: int = 200,
    relevance: float = 0.6,
) -> TopicWords:
    """A baseline given a fair chance: scikit-learn's LDA on cube's terms, as :class:`TopicWords`.

    The counts come from cube's vectorizer (``make_vectorizer``: the same terms as cube's topic
    models; a term in at least 5 texts from 1,000 texts on). Batch variational Bayes runs until
    the perplexity stops moving (checked every 10 iterations, at most ``max_iter``). Each
    topic's words are ranked by *relevance* (Sievert & Shirley 2014, the pyLDAvis ranking;
    ``relevance`` is their λ, 0.6 as they recommend; 1 gives the raw topic-word weights):
    ``λ log φ(w|k) + (1 - λ) log(φ(w|k) / p(w))``, so words frequent everywhere do not name
    every topic. ``ranking`` goes 50 deep. A document's label is its most probable topic, so
    LDA has no outliers, except that a document with no counted term gets ``-1``.

    Example:
        >>> baseline = cube.topics.lda(docs, n_topics=20, seed=0)
        >>> cube.topics.evaluate(baseline, docs).loc["overall"]
    """
    from sklearn.decomposition import LatentDirichletAllocation

    from cube.topics._model import make_vectorizer

    texts = list(texts)
    if n_topics < 2:
        raise InputError(f"LDA needs at least 2 topics, got {n_topics}")
    if not 0 <= relevance <= 1:
        raise InputError(f"relevance must be between 0 and 1, got {relevance}")
    vectorizer = make_vectorizer(len(texts), min_df=5 if len(texts) >= 1000 else None)
    try:
        counts = vectorizer.fit_transform(texts)
    except ValueError as exc:  # empty vocabulary
        raise InputError(
            "the documents have no words left once stop words and numbers are removed"
        ) from exc
    model = LatentDirichletAllocation(
        n_components=n_topics,
        random_state=seed,
        max_iter=max_iter,
        learning_method="batch",
        evaluate_every=10,
    )
    labels = model.fit_transform(counts).argmax(axis=1)
    labels[counts.getnnz(axis=1) == 0] = -1
    names = vectorizer.get_feature_names_out()
    phi = model.components_ / model.components_.sum(axis=1, keepdims=True)
    frequency = np.asarray(counts.sum(axis=0)).ravel()
    marginal = frequency / frequency.sum()
    scores = relevance * np.log(phi) + (1 - relevance) * np.log(phi / marginal)
    depth = max(RANKING_DEPTH, top_n)
    ranking = {
        t: tuple(str(names[i]) for i in np.argsort(-row, kind="stable")[:depth])
        for t, row in enumerate(scores)
    }
    return TopicWords(
        labels=labels,
        words={t: ws[:top_n] for t, ws in ranking.items()},
        ranking=ranking,
        n_shown=top_n,
    )
