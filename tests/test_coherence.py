"""Windowed NPMI (gensim's c_npmi), counted by cube, against a brute-force count and gensim."""

from __future__ import annotations

import math

import numpy as np
import pytest

import cube
from cube.topics import windowed_npmi
from cube.topics._coherence import (
    EPSILON,
    npmi_of_pairs,
    reference_tokens,
    window_counts,
    window_pair_counts,
)


def brute_force_counts(documents, terms, window):
    """Every window as a set of tokens, counted one by one."""
    windows = []
    for doc in documents:
        if len(doc) <= window:
            windows.append(set(doc))
        else:
            windows.extend(set(doc[i : i + window]) for i in range(len(doc) - window + 1))
    counts = np.array([sum(t in w for w in windows) for t in terms])
    pairs = np.array([[sum(a in w and b in w for w in windows) for b in terms] for a in terms])
    return len(windows), counts, pairs


def test_window_counts_match_counting_window_by_window():
    rng = np.random.default_rng(0)
    vocabulary = [f"w{i}" for i in range(12)]
    documents = [list(rng.choice(vocabulary, size=rng.integers(0, 30))) for _ in range(60)]
    terms = vocabulary[:7]  # the others are tokens no topic uses: they still take positions
    for window in (1, 3, 10, 40):
        got = window_counts(documents, terms, window=window, counting="exact")
        expected = brute_force_counts(documents, terms, window)
        assert got[0] == expected[0]
        np.testing.assert_array_equal(got[1], expected[1])
        np.testing.assert_array_equal(got[2], expected[2])


def test_counting_in_blocks_keeps_only_the_pairs_asked_for(monkeypatch):
    """Blocks of documents add up to one count; ``wanted`` keeps each group's own pairs."""
    import cube.topics._coherence as coherence

    rng = np.random.default_rng(1)
    vocabulary = [f"w{i}" for i in range(12)]
    documents = [list(rng.choice(vocabulary, size=rng.integers(0, 30))) for _ in range(60)]
    terms = vocabulary[:8]
    whole = window_counts(documents, terms)
    monkeypatch.setattr(coherence, "BLOCK", 7)  # 60 documents in 9 blocks
    groups = [["w0", "w1", "w2"], ["w2", "w5"], ["w7"]]
    total, counts, pairs = window_pair_counts(iter(documents), terms, wanted=groups)
    assert total == whole[0]
    np.testing.assert_array_equal(counts, whole[1])
    kept = {(a, b) for g in groups for a in g for b in g}
    for i, a in enumerate(terms):
        for j, b in enumerate(terms):
            assert pairs[i, j] == (whole[2][i, j] if (a, b) in kept else 0), (a, b)


def gensim_style_counts(documents, terms, window):
    """gensim 4.4's sliding flags, step by step: the token leaving is unmarked, the one
    entering is marked (WordOccurrenceAccumulator._slide_window)."""
    n, counts, pairs = 0, np.zeros(len(terms), int), np.zeros((len(terms),) * 2, int)
    for doc in documents:
        windows = (
            [doc]
            if len(doc) <= window
            else [doc[i : i + window] for i in range(len(doc) - window + 1)]
        )
        marked: set = set()
        for step, current in enumerate(windows):
            if step == 0:
                marked = set(current)
            else:
                marked.discard(windows[step - 1][0])
                marked.add(current[-1])
            n += 1
            flags = np.array([t in marked for t in terms])
            counts += flags
            pairs += np.outer(flags, flags)
    return n, counts, pairs


def test_gensim_counting_matches_gensims_sliding_flags():
    rng = np.random.default_rng(1)
    vocabulary = [f"w{i}" for i in range(6)]  # few words: many repeats inside a window
    documents = [list(rng.choice(vocabulary, size=rng.integers(0, 40))) for _ in range(80)]
    terms = vocabulary[:4]
    for window in (2, 5, 10):
        got = window_counts(documents, terms, window=window)
        expected = gensim_style_counts(documents, terms, window)
        assert got[0] == expected[0]
        np.testing.assert_array_equal(got[1], expected[1])
        np.testing.assert_array_equal(got[2], expected[2])
    exact = window_counts(documents, terms, window=10, counting="exact")
    assert (exact[1] > window_counts(documents, terms, window=10)[1]).all()  # repeats undercount


def test_npmi_is_gensims_formula():
    counts, pairs = np.array([4, 2, 3]), np.array([[4, 2, 0], [2, 2, 1], [0, 1, 3]])
    scores = npmi_of_pairs(10, counts, pairs)
    joint = 2 / 10 + EPSILON
    assert scores[0, 1] == pytest.approx(math.log(joint / (0.4 * 0.2)) / -math.log(joint))
    never = math.log(EPSILON / (0.4 * 0.3)) / -math.log(EPSILON)  # about -0.67, not -1
    assert scores[0, 2] == pytest.approx(never)
    assert npmi_of_pairs(10, np.array([4, 0]), np.array([[4, 0], [0, 0]]))[0, 1] == -1.0


def test_reference_tokens_keep_phrases_that_stand_in_the_text():
    phrases = ["united states", "work home", "district columbia"]
    assert reference_tokens("The United States of America.", phrases) == [
        "united states",
        "america",
    ]
    assert reference_tokens("I work from home", phrases) == ["work", "home"]  # no "work home"
    assert reference_tokens("the District of Columbia", phrases) == ["district", "columbia"]
    assert reference_tokens("Hyphen-ated words in 1999", []) == ["hyphen-ated", "words"]


def test_windowed_npmi_of_a_toy_corpus():
    texts = ["war army navy", "war army", "tax revenue", "tax revenue budget", "navy budget"]
    scores = windowed_npmi({0: ["war", "army"], 1: ["tax", "revenue"], 2: ["war", "tax"]}, texts)
    assert scores[0] == pytest.approx(scores[1]) and scores[0] > 0.5
    assert scores[2] < 0
    assert math.isnan(windowed_npmi({0: ["war"]}, texts)[0])  # one word: no pair


@pytest.fixture(scope="module")
def real_model(sotu_600):
    """The session's real model and its documents: real topics' words in real texts."""
    return sotu_600["docs"], sotu_600["model"]


@pytest.mark.slow
def test_agrees_with_gensim_on_a_real_model(real_model, record_property):
    """cube's count and gensim's CoherenceModel(c_npmi, window 10) on a real BERTopic model."""
    from gensim.corpora import Dictionary
    from gensim.models.coherencemodel import CoherenceModel

    docs, topic_model = real_model
    topics = {
        t: [w for w, _ in topic_model.get_topic(t)][:10]
        for t in sorted(topic_model.get_topics())
        if t != -1
    }
    phrases = sorted({w for ws in topics.values() for w in ws if " " in w})
    tokens = [reference_tokens(doc, phrases) for doc in docs]
    found = {w for doc in tokens for w in doc}
    topics = {t: [w for w in ws if w in found] for t, ws in topics.items()}  # gensim's rule
    ours = windowed_npmi(topics, docs)
    theirs = CoherenceModel(
        topics=list(topics.values()),
        texts=tokens,
        dictionary=Dictionary(tokens),
        coherence="c_npmi",
        window_size=10,
        topn=10,
    ).get_coherence_per_topic()
    assert len(theirs) == len(topics) >= 3
    differences = [abs(ours[t] - g) for t, g in zip(topics, theirs, strict=True)]
    record_property(
        "summary",
        f"{len(topics)} topics: largest difference from gensim {max(differences):.2e}; "
        f"mean c_npmi cube {np.mean(list(ours.values())):+.4f}, gensim {np.mean(theirs):+.4f}",
    )
    assert max(differences) < 1e-3, list(zip(ours.values(), theirs, strict=True))


@pytest.mark.slow
def test_passage_npmi_is_gensims_with_a_window_as_long_as_a_text(real_model, record_property):
    """evaluate()'s headline against an independent count: gensim's c_npmi with one window a
    text, every term present where it literally stands (phrases as one token)."""
    from gensim.corpora import Dictionary
    from gensim.models.coherencemodel import CoherenceModel

    from cube.topics import TopicWords, literal_terms
    from cube.topics._quality import scored_pairs

    docs, topic_model = real_model
    topics = TopicWords.from_bertopic(topic_model).top(10)
    terms = {w for t, ws in topics.items() if t != -1 for w in ws}
    tokens = [sorted(literal_terms(doc) & terms) for doc in docs]  # what each text holds
    pairs = [p for t, ws in topics.items() if t != -1 for p in scored_pairs(ws)]
    meet = [(a, b) for a, b in pairs if any(a in d and b in d for d in tokens)]
    assert len(meet) >= 100 and len(meet) < len(pairs)  # some pairs never meet: scored -1
    ours = cube.topics.evaluate(
        TopicWords(labels=np.zeros(len(docs)), words=dict(enumerate(meet))), docs
    )
    theirs = CoherenceModel(
        topics=[list(p) for p in meet],
        texts=tokens,
        dictionary=Dictionary(tokens),
        coherence="c_npmi",
        window_size=max(len(d) for d in tokens),  # one window a text: document co-occurrence
        topn=2,
    ).get_coherence_per_topic()
    differences = np.abs(ours.loc[range(len(meet)), "npmi"].to_numpy(float) - theirs)
    record_property(
        "summary",
        f"{len(meet)} pairs that meet (of {len(pairs)}): largest difference between evaluate()'s "
        f"npmi and gensim's c_npmi with a text-long window {differences.max():.1e}",
    )
    assert differences.max() < 0.01
