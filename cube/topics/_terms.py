"""Topic terms a person would accept: words, and two-word phrases that stand in the text.

Three rules, each checked on every benchmark corpus (``bench/quality.py``):

- a term is a word of at least two letters (no digits, no "s" from "U.S."), and not an
  English stop word or a contraction of one ("don't", "it's", "we've");
- a two-word term is two such words that stand next to each other in a text, with only
  white space between them: phrases are formed *before* stop words are removed, so "work
  from home" never yields "work home", and "peace. Treaty" never yields "peace treaty";
- among one topic's top words, a phrase and its own words never both appear: the one
  c-TF-IDF ranks higher stays, the other gives its place to the next candidate
  (:func:`distinct_terms`).

scikit-learn's ``CountVectorizer(stop_words=..., ngram_range=(1, 2))`` removes stop words
before it forms pairs; :class:`TermAnalyzer` is the analyzer cube gives it instead, and
:class:`cube.topics.DistinctTerms` the BERTopic representation step that applies the last rule (and
drops a phrase BERTopic made by joining the end of one document to the start of the next).

Example:
    >>> TermAnalyzer()("They work from home in New York.")
    ['work', 'home', 'new', 'york', 'new york']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

# Words made of letters, with inner hyphens or apostrophes ("well-being", "nation's").
# Split on words, keeping them: [before, word, gap, word, ..., after] in one pass of C code.
_SPLIT_ON_WORDS = re.compile(r"(\b[^\W\d_][^\W\d_'-]*(?:['-][^\W\d_]+)*\b)")
MIN_LETTERS = 2
# English contractions, as their endings; a contraction of a stop word is a stop word.
_CONTRACTIONS = ("n't", "'s", "'m", "'re", "'ve", "'ll", "'d")
_NEGATED_STEMS = {"ca": "can", "wo": "will", "sha": "shall", "ai": "am"}


@lru_cache(maxsize=1)
def english_stop_words() -> frozenset[str]:
    """The English stop words cube leaves out of topic words: scikit-learn's 318.

    Example:
        >>> "the" in english_stop_words()
        True
    """
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


def is_stop_word(word: str, stop_words: frozenset[str] | None = None) -> bool:
    """A stop word, or a contraction of one ("don't", "it's", "i'm"; also with ’).

    Example:
        >>> is_stop_word("don't"), is_stop_word("nation's")
        (True, False)
    """
    if stop_words is None or stop_words is english_stop_words():
        return _is_english_stop_word(word)
    return _is_stop_word(word, stop_words)


@lru_cache(maxsize=1 << 18)
def _is_english_stop_word(word: str) -> bool:
    return _is_stop_word(word, english_stop_words())


@lru_cache(maxsize=1 << 18)
def is_term_word(word: str) -> bool:
    """A word that may be a term, or part of one: two letters or more, not a stop word."""
    return len(word) >= MIN_LETTERS and not _is_english_stop_word(word)


def _is_stop_word(word: str, stop: frozenset[str]) -> bool:
    word = word.replace("\u2019", "'")
    if word in stop:
        return True
    for ending in _CONTRACTIONS:
        if word.endswith(ending) and len(word) > len(ending):
            stem = word[: -len(ending)]
            return _NEGATED_STEMS.get(stem, stem) in stop
    return False


def words_and_gaps(text: str) -> tuple[list[str], list[bool]]:
    """The lower-cased words of a text, and for each word after the first whether only white
    space separates it from the one before (so the two stand together as a phrase).

    Example:
        >>> words_and_gaps("New York, then Boston")
        (['new', 'york', 'then', 'boston'], [True, False, True])
    """
    parts = _SPLIT_ON_WORDS.split(text.lower())
    return parts[1::2], [gap.isspace() for gap in parts[2:-1:2]]


class TermAnalyzer:
    """cube's analyzer for ``CountVectorizer``: accepted words, and phrases of two of them
    that stand together in the text (see the module's rules).

    Example:
        >>> CountVectorizer(analyzer=TermAnalyzer(), min_df=2)
    """

    def __init__(self, phrases: bool = True) -> None:
        self.phrases = phrases

    def __call__(self, text: str) -> list[str]:
        words, joined = words_and_gaps(text)
        ok = [is_term_word(w) for w in words]
        terms = [w for w, good in zip(words, ok, strict=True) if good]
        if self.phrases:
            terms += [
                f"{words[i]} {words[i + 1]}"
                for i in range(len(words) - 1)
                if ok[i] and ok[i + 1] and joined[i]
            ]
        return terms

    def __repr__(self) -> str:
        return f"TermAnalyzer(phrases={self.phrases})"


def literal_terms(text: str, longest: int = 2) -> set[str]:
    """Every word of the lower-cased text and every run of up to ``longest`` words standing
    together (white space only between them): the terms the text literally holds.

    Example:
        >>> sorted(literal_terms("Work from home."))
        ['from', 'from home', 'home', 'work', 'work from']
    """
    words, joined = words_and_gaps(text)
    found = set(words)
    for i in range(len(words)):
        for n in range(2, longest + 1):
            if i + n > len(words) or not all(joined[i : i + n - 1]):
                break
            found.add(" ".join(words[i : i + n]))
    return found


def contains(a: str, b: str) -> bool:
    """Whether one of two terms is a run of the other's words ("hottest place", "place").

    Example:
        >>> contains("hottest place", "place"), contains("united states", "states united")
        (True, False)
    """
    x, y = a.split(), b.split()
    if len(x) < len(y):
        x, y = y, x
    return any(x[i : i + len(y)] == y for i in range(len(x) - len(y) + 1))


def distinct_terms(ranked: Iterable[str], n: int) -> list[str]:
    """The first ``n`` terms of a ranking such that none contains another.

    The rule: walking down the ranking, a term that contains a term already kept, or is
    contained in one, is skipped. So whichever of "hottest place" and "hottest" ranks
    higher is shown, and the place the other would take goes to the next candidate.

    Example:
        >>> distinct_terms(["hottest place", "hottest", "desert", "place"], 2)
        ['hottest place', 'desert']
    """
    kept: list[str] = []
    for term in ranked:
        if term and term not in kept and not any(contains(term, k) for k in kept):
            kept.append(term)
            if len(kept) == n:
                break
    return kept


def phrases_found(texts: Sequence[str], phrases: Iterable[str]) -> set[str]:
    """Which of the two-word ``phrases`` stand together in at least one of the texts."""
    phrases = set(phrases)
    if not phrases:
        return set()
    found: set[str] = set()
    for text in texts:
        words, joined = words_and_gaps(text)
        for i, together in enumerate(joined):
            if together:
                pair = f"{words[i]} {words[i + 1]}"
                if pair in phrases:
                    found.add(pair)
        if found == phrases:
            break
    return found
