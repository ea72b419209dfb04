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
from typing import TYPE_CHECKING

import numpy as np

from cube._errors import InputError
from cube.topics._terms import contains, is_stop_word, words_and_gaps

if TYPE_CHECKING:
    from scipy import sparse

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
BLOCK = 5_000  # documents counted at a time: memory follows the block, not the corpus


def window_counts(
    documents: Iterable[Sequence[str]],
    terms: Sequence[str],
    *,
    window: int = WINDOW,
    counting: str = "gensim",
) -> tuple[int, np.ndarray, np.ndarray]:
    """How many windows there are, and in how many each term and each pair of terms appear.

    Every document of ``n`` tokens gives ``max(1, n - window + 1)`` windows (a shorter one is
    one window, an empty one too: gensim counts it). Returns ``(windows, counts, pair_counts)``,
    ``counts[i]`` for ``terms[i]`` and ``pair_counts[i, j]`` for the pair (its diagonal is
    ``counts``): a dense terms × terms table, so for a few thousand terms at most; for more,
    :func:`window_pair_counts` counts only the pairs asked for.

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
    total, counts, pairs = window_pair_counts(documents, terms, window=window, counting=counting)
    return total, counts, pairs.toarray()


def window_pair_counts(
    documents: Iterable[Sequence[str]],
    terms: Sequence[str],
    *,
    window: int = WINDOW,
    counting: str = "gensim",
    wanted: Iterable[Sequence[str]] | None = None,
) -> tuple[int, np.ndarray, sparse.csr_matrix]:
    """:func:`window_counts` a block of documents at a time, the pairs as a sparse matrix.

    ``documents`` may be a generator (tokens made as they are counted). ``wanted``: groups of
    terms (each topic's words) whose pairs within a group are the only ones kept, so memory
    follows the topics' own pairs and one block of documents, not terms × terms or the corpus
    (200,000 passages and 12,000 candidate words otherwise took 22 GB). Without it every pair
    that meets is kept.

    Example:
        >>> total, counts, pairs = window_pair_counts(tokens, terms, wanted=[["war", "army"]])
        >>> pairs[0, 1]
    """
    from scipy import sparse

    if counting not in COUNTINGS:
        raise InputError(f"counting= must be one of {', '.join(COUNTINGS)}, not {counting!r}")
    index = {term: i for i, term in enumerate(terms)}
    mask = None if wanted is None else _pair_mask(wanted, index)
    total, counts = 0, np.zeros(len(terms), np.int64)
    pairs = sparse.csr_matrix((len(terms), len(terms)), dtype=np.int64)
    for block in _blocks(documents, BLOCK):
        n, present = _presence_in_windows(block, index, window, counting)
        total += n
        if present.nnz:
            counts += np.asarray(present.sum(axis=0)).ravel()
            met = (present.T @ present).tocsr()
            pairs = pairs + (met if mask is None else met.multiply(mask).tocsr())
    return total, counts, pairs


def _blocks(items: Iterable, size: int) -> Iterable[list]:
    """``items`` in lists of ``size`` (the last one shorter)."""
    block: list = []
    for item in items:
        block.append(item)
        if len(block) == size:
            yield block
            block = []
    if block:
        yield block


def _pair_mask(groups: Iterable[Sequence[str]], index: Mapping[str, int]) -> sparse.csr_matrix:
    """A terms × terms matrix of ones where two terms share a group (and on the diagonal)."""
    from scipy import sparse

    rows, cols = [], []
    for group in groups:
        ids = np.asarray(sorted({index[w] for w in group if w in index}), np.int64)
        rows.append(np.repeat(ids, len(ids)))
        cols.append(np.tile(ids, len(ids)))
    r = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, np.int64)
    mask = sparse.csr_matrix((np.ones(len(r), np.int64), (r, c)), shape=(len(index),) * 2)
    mask.data[:] = 1  # a pair in two groups is still one pair
    return mask


def _presence_in_windows(
    documents: Sequence[Sequence[str]], index: Mapping[str, int], window: int, counting: str
) -> tuple[int, sparse.csr_matrix]:
    """The windows of ``documents`` × terms, 1 where the term counts in the window."""
    from scipy import sparse

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
    n_terms = len(index)
    if not term_of:
        return total, sparse.csr_matrix((total, n_terms), dtype=np.int64)
    first_a = np.asarray(first, np.int64)
    spans = np.asarray(last, np.int64) - first_a + 1
    windows = np.repeat(first_a - np.cumsum(spans) + spans, spans) + np.arange(int(spans.sum()))
    keys = np.unique(windows * n_terms + np.repeat(np.asarray(term_of, np.int64), spans))
    present = sparse.csr_matrix(
        (np.ones(len(keys), np.int64), (keys // n_terms, keys % n_terms)),
        shape=(total, n_terms),
    )
    return total, present


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
        tokens = (tokenize(text) for text in texts)  # made as they are counted
    counted = window_pair_counts(
        tokens, terms, window=window, counting=counting, wanted=topics.values()
    )
    column = {term: i for i, term in enumerate(terms)}
    out = {}
    for topic, words in topics.items():
        scores = npmi_among(counted, [column[w] for w in words])
        upper = [
            scores[i, j]
            for i, a in enumerate(words)
            for j in range(i + 1, len(words))
            if not contains(a, words[j])  # a phrase and its own word meet by construction
        ]
        out[topic] = float(np.mean(upper)) if upper else math.nan
    return out


def npmi_among(
    counted: tuple[int, np.ndarray, sparse.csr_matrix], ids: Sequence[int]
) -> np.ndarray:
    """:func:`npmi_of_pairs` for the terms ``ids`` alone, from :func:`window_pair_counts`."""
    n_windows, counts, pairs = counted
    return npmi_of_pairs(n_windows, counts[ids], pairs[ids][:, ids].toarray())
