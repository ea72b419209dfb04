"""Windowed NPMI: topic coherence the way the literature counts it (gensim's ``c_npmi``).

OCTIS, and through it the BERTopic and FASTopic papers, score a topic's top words by NPMI over
sliding windows of 10 tokens of a reference corpus that is lower-cased and has its stop words
removed: every window is a "virtual document", and a word is present in it or not. This module
counts those windows with numpy and scipy (16,000 passages in about a second), on the same
tokens gensim would be given, and is checked against gensim itself in the tests.

Example:
    >>> scores = windowed_npmi({0: ["war", "army", "navy"]}, docs)
    >>> scores[0]
    0.21
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

from cube._errors import InputError
from cube.topics._terms import contains, is_stop_word, words_and_gaps

WINDOW = 10  # gensim's default for c_npmi, and OCTIS's
EPSILON = 1e-12  # gensim's: a pair never seen together scores log(eps / P(a)P(b)) / -log(eps)


def reference_tokens(
    text: str,
    phrases: Iterable[str] = (),
    *,
    stop_words: frozenset[str] | None = None,
) -> list[str]:
    """A text as the windowed count reads it: lower-cased words, stop words out, phrases whole.

    A phrase (``"united states"``) is one token where its words stand next to each other in
    the text (white space only between them), before stop words are removed, so "work from
    home" never makes "work home". Stop words and their contractions ("don't") are left out.
    For many texts, :func:`reference_tokenizer` prepares the phrases once.

    Example:
        >>> reference_tokens("The United States and the Navy.", ["united states"])
        ['united states', 'navy']
    """
    return reference_tokenizer(phrases, stop_words=stop_words)(text)


def reference_tokenizer(
    phrases: Iterable[str] = (), *, stop_words: frozenset[str] | None = None
) -> Callable[[str], list[str]]:
    """:func:`reference_tokens` for these phrases and stop words, as a function of the text.

    Example:
        >>> tokenize = reference_tokenizer(["united states"])
        >>> [tokenize(text) for text in texts]
    """
    by_length = _phrases_by_length(phrases)

    def is_stop(word: str) -> bool:
        return is_stop_word(word, stop_words)  # cached for the default list

    def tokenize(text: str) -> list[str]:
        words, joined = words_and_gaps(text)
        if not by_length:
            return [w for w in words if not is_stop(w)]
        tokens: list[str] = []
        i = 0
        while i < len(words):
            for n, known in by_length:
                if (
                    i + n <= len(words)
                    and all(joined[i : i + n - 1])
                    and tuple(words[i : i + n]) in known
                ):
                    tokens.append(" ".join(words[i : i + n]))
                    i += n
                    break
            else:
                if not is_stop(words[i]):
                    tokens.append(words[i])
                i += 1
        return tokens

    return tokenize


def _phrases_by_length(phrases: Iterable[str]) -> list[tuple[int, set[tuple[str, ...]]]]:
    """Multi-word terms grouped by length, longest first (a longer phrase wins)."""
    groups: dict[int, set[tuple[str, ...]]] = {}
    for phrase in phrases:
        parts = tuple(phrase.lower().split())
        if len(parts) > 1:
            groups.setdefault(len(parts), set()).add(parts)
    return sorted(groups.items(), reverse=True)


COUNTINGS = ("gensim", "exact")


def window_counts(
    documents: Sequence[Sequence[str]],
    terms: Sequence[str],
    *,
    window: int = WINDOW,
    counting: str = "gensim",
) -> tuple[int, np.ndarray, np.ndarray]:
    """How many windows there are, and in how many each term and each pair of terms appear.

    Every document of ``n`` tokens gives ``max(1, n - window + 1)`` windows (a shorter one is
    one window, an empty one too: gensim counts it). Returns ``(windows, counts, pair_counts)``,
    ``counts[i]`` for ``terms[i]`` and ``pair_counts[i, j]`` for the pair (its diagonal is
    ``counts``).

    ``counting="exact"`` counts a term in every window that holds it. ``"gensim"`` (the
    default) counts as gensim 4.4's ``WordOccurrenceAccumulator`` does, which is what published
    ``c_npmi`` figures are: as its window slides one token on, it marks the token that left as
    absent even when the same word stands again inside the window, until the word next enters
    at the window's end. A word repeated within ten tokens is so counted in fewer windows; on
    800 passages of the bundled corpus this moved topics' scores by up to 0.09.

    Example:
        >>> window_counts([["a", "b", "c"]], ["a", "c"], window=2)[0]
        2
    """
    from scipy import sparse

    if counting not in COUNTINGS:
        raise InputError(f"counting= must be one of {', '.join(COUNTINGS)}, not {counting!r}")
    index = {term: i for i, term in enumerate(terms)}
    lengths = np.fromiter((len(d) for d in documents), dtype=np.int64, count=len(documents))
    n_windows = np.maximum(1, lengths - window + 1)
    offsets = np.concatenate([[0], np.cumsum(n_windows)[:-1]])
    total = int(n_windows.sum())
    # Each (document, term) becomes runs of windows [first, last] in which the term counts.
    first, last, term_of = [], [], []
    spans_of = _gensim_spans if counting == "gensim" else _exact_spans
    for d, document in enumerate(documents):
        positions: dict[int, list[int]] = {}
        for p, token in enumerate(document):
            t = index.get(token)
            if t is not None:
                positions.setdefault(t, []).append(p)
        base, count = int(offsets[d]), int(n_windows[d])
        for t, ps in positions.items():
            for start, end in spans_of(ps, window, count):
                first.append(base + start)
                last.append(base + end)
                term_of.append(t)
    if not term_of:
        return total, np.zeros(len(terms), np.int64), np.zeros((len(terms),) * 2, np.int64)
    first_a = np.asarray(first, np.int64)
    spans = np.asarray(last, np.int64) - first_a + 1
    windows = np.repeat(first_a - np.cumsum(spans) + spans, spans) + np.arange(int(spans.sum()))
    keys = np.unique(windows * len(terms) + np.repeat(np.asarray(term_of, np.int64), spans))
    present = sparse.csr_matrix(
        (np.ones(len(keys), np.int64), (keys // len(terms), keys % len(terms))),
        shape=(total, len(terms)),
    )
    pairs = (present.T @ present).toarray()
    return total, np.diagonal(pairs).copy(), pairs


def _exact_spans(positions: list[int], window: int, n_windows: int) -> list[tuple[int, int]]:
    """The windows holding each position: those starting ``window - 1`` before it up to it."""
    return [(max(0, p - window + 1), min(p, n_windows - 1)) for p in positions]


def _gensim_spans(positions: list[int], window: int, n_windows: int) -> list[tuple[int, int]]:
    """The windows in which gensim's sliding flags count a word standing at ``positions``.

    The first window marks what it holds; each step on marks the token entering at the end
    after unmarking the one that left at the start (positions ``p`` enter at step
    ``p - window + 1`` and leave at step ``p + 1``).
    """
    events = [(max(0, p - window + 1), 1) for p in positions]
    events += [(p + 1, 0) for p in positions if p + 1 <= n_windows - 1]
    events.sort()  # at one step, the leaving token is unmarked before the entering one is marked
    spans, start = [], None
    for step, marks in events:
        if marks and start is None:
            start = step
        elif not marks and start is not None:
            spans.append((start, step - 1))
            start = None
    if start is not None:
        spans.append((start, n_windows - 1))
    return spans


def npmi_of_pairs(n_windows: int, counts: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """gensim's NPMI for every pair: ``log((P(a,b) + eps) / P(a)P(b)) / -log(P(a,b) + eps)``.

    A pair with a term found in no window scores -1, as a pair that never meets would at
    best: a word the texts do not hold cannot make a topic look coherent (gensim refuses
    such words).
    """
    p = counts / n_windows
    joint = pairs / n_windows + EPSILON
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.log(joint / np.outer(p, p)) / -np.log(joint)
    scores[(counts == 0)[:, None] | (counts == 0)[None, :]] = -1.0
    return scores


def windowed_npmi(
    topics: Mapping[int, Sequence[str]],
    texts: Sequence[str],
    *,
    window: int = WINDOW,
    stop_words: frozenset[str] | None = None,
    tokens: Sequence[Sequence[str]] | None = None,
    counting: str = "gensim",
) -> dict[int, float]:
    """Each topic's mean NPMI over its pairs of words, counted in sliding windows of ``window``
    tokens of ``texts`` (lower-cased, English stop words out, the topics' phrases whole).

    This is gensim's ``c_npmi`` (``CoherenceModel(coherence="c_npmi", window_size=10)``) on the
    tokens of :func:`reference_tokens`, counted as gensim counts (``counting="exact"``: every
    window that holds a word; see :func:`window_counts`). A topic with fewer than two words is
    NaN; a pair with a word the texts never hold scores -1. ``tokens``: the texts already tokenized (then ``texts``
    is not read).

    Example:
        >>> windowed_npmi({0: ["war", "army"], 1: ["tax", "revenue"]}, docs)
        {0: 0.18, 1: 0.25}
    """
    topics = {t: tuple(dict.fromkeys(w.lower() for w in ws if w)) for t, ws in topics.items()}
    terms = sorted({w for ws in topics.values() for w in ws})
    if tokens is None:
        tokenize = reference_tokenizer([t for t in terms if " " in t], stop_words=stop_words)
        tokens = [tokenize(text) for text in texts]
    n_windows, counts, pairs = window_counts(tokens, terms, window=window, counting=counting)
    scores = npmi_of_pairs(n_windows, counts, pairs)
    column = {term: i for i, term in enumerate(terms)}
    out = {}
    for topic, words in topics.items():
        upper = [
            scores[column[a], column[b]]
            for i, a in enumerate(words)
            for b in words[i + 1 :]
            if not contains(a, b)  # a phrase and its own word meet by construction
        ]
        out[topic] = float(np.mean(upper)) if upper else math.nan
    return out
