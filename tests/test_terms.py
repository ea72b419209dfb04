"""The rules topic terms follow (cube/topics/_terms.py), on small real texts."""

from __future__ import annotations

import numpy as np
import pytest

import cube
from cube.topics import TermAnalyzer, distinct_terms, literal_terms
from cube.topics._terms import contains, is_stop_word, words_and_gaps

analyze = TermAnalyzer()


def test_no_term_of_one_letter_or_of_digits():
    terms = analyze("The U.S. sent 3 ships in 1812, and an x-ray of the U.S.S. Maine: p. 12.")
    assert "s" not in terms and "u" not in terms and "p" not in terms
    assert not [t for t in terms if any(len(p) < 2 or p.isdigit() for p in t.split())]
    assert {"sent", "ships", "x-ray", "maine"} <= set(terms)
    assert "sent ships" not in terms  # "sent 3 ships": the number stands between them


def test_stop_words_and_their_contractions_are_not_terms():
    terms = analyze("I don't think it's what we've said; I'm sure they can't, won't.")
    assert terms == ["think", "said", "sure"]
    assert is_stop_word("don\u2019t") and not is_stop_word("nation's")


def test_a_phrase_only_where_its_words_stand_together():
    terms = analyze("We work from home. Meet the women of New York; peace, treaty.")
    assert "work home" not in terms and "meet women" not in terms  # stop words between
    assert "peace treaty" not in terms  # punctuation between
    assert "new york" in terms
    # The same texts through scikit-learn's way (stop words out, then pairs) make them up:
    from sklearn.feature_extraction.text import CountVectorizer

    made_up = CountVectorizer(stop_words="english", ngram_range=(1, 2)).build_analyzer()
    assert {"work home", "meet women", "peace treaty"} <= set(
        made_up("We work from home. Meet the women of New York; peace, treaty.")
    )


def test_words_and_gaps_say_which_words_stand_together():
    assert words_and_gaps("New York, then\nBoston") == (
        ["new", "york", "then", "boston"],
        [True, False, True],
    )
    assert literal_terms("Work from home.") == {"work", "from", "home", "work from", "from home"}


def test_a_phrase_and_its_words_never_both():
    assert contains("hottest place", "place") and not contains("united states", "states united")
    ranked = ["hottest place", "hottest", "desert", "place", "sand", "desert sand"]
    assert distinct_terms(ranked, 4) == ["hottest place", "desert", "sand"]
    assert distinct_terms(["hottest", "hottest place", "dunes"], 2) == ["hottest", "dunes"]


SENTENCES = {
    "desert": "The hottest place on earth is the desert of Death Valley, {n} miles of sand dunes.",
    "ocean": "Deep ocean currents carry cold water and salt along the sea floor for {n} miles.",
    "orchard": "Apple orchards bloom in spring; ripe apples and pears fill the orchard baskets.",
}


def fitted(representation_model="cube"):
    """A real BERTopic fit on three groups of real sentences (vectors: far-apart clusters)."""
    rng = np.random.default_rng(0)
    texts, vectors = [], []
    for k, sentence in enumerate(SENTENCES.values()):
        for n in range(40):
            texts.append(
                sentence.format(n=n) + (" The hottest desert." if k == 0 and n % 2 else "")
            )
            centre = np.zeros(8)
            centre[k] = 10.0
            vectors.append(centre + rng.normal(scale=0.1, size=8))
    topic_model = cube.topics.build(len(texts), min_topic_size=10, representation="ctfidf")
    if representation_model is None:
        topic_model.representation_model = None
    topic_model.fit_transform(texts, embeddings=np.asarray(vectors, dtype=np.float32))
    return topic_model


@pytest.mark.usefixtures("no_embedding_model")
def test_fitted_topics_show_no_phrase_beside_its_own_word():
    def overlaps(model):
        return [
            (a, b)
            for t in model.get_topics()
            for a in (w for w, _ in model.get_topic(t))
            for b in (w for w, _ in model.get_topic(t))
            if a != b and contains(a, b)
        ]

    plain = fitted(representation_model=None)
    assert overlaps(plain)  # without the rule they are there ("hottest place" and "hottest")
    model = fitted()
    assert overlaps(model) == []
    for topic in model.get_topics():
        before = [w for w, _ in plain.get_topic(topic)]
        after = [w for w, _ in model.get_topic(topic)]
        dropped = [w for w in before if w not in after]
        # Each term left out has its kept counterpart, ranked higher, in the topic ...
        assert all(
            any(contains(w, k) and before.index(k) < before.index(w) for k in after)
            for w in dropped
        )
        # ... and the freed places went to candidates from further down the ranking.
        assert len(after) > len(before) - len(dropped)


def test_coherent_terms_choose_words_that_stand_together():
    from cube.topics._components import _coherent_order

    # Candidates a, b, c, d by c-TF-IDF (a best); a and c share windows, a and b never do.
    npmi = np.array(
        [
            [1.0, -1.0, 0.8, 0.0],
            [-1.0, 1.0, -0.5, 0.1],
            [0.8, -0.5, 1.0, 0.2],
            [0.0, 0.1, 0.2, 1.0],
        ]
    )
    relevance = np.array([1.0, 0.9, 0.8, 0.7])
    assert _coherent_order(npmi, relevance, weight=1.0, n=3) == [0, 2, 3]
    # Weighted heavily, c-TF-IDF's own order comes back.
    assert _coherent_order(npmi, relevance, weight=100.0, n=3) == [0, 1, 2]


@pytest.mark.model
def test_the_default_words_are_the_topics_own_and_more_coherent_in_windows(sotu_600, cube_settings):
    cube_settings(cache_dir=sotu_600["cache"])  # its reduction, not a new one
    texts, vectors, plain = sotu_600["docs"], sotu_600["vectors"], sotu_600["model"]
    model = cube.topics.fit(texts, vectors)  # the default: "coherent", same clustering
    assert model.umap_model.reduction_.from_cache
    assert model.topics_ == plain.topics_
    names = list(model.vectorizer_model.get_feature_names_out())
    rows = model.c_tf_idf_.toarray()
    words = {t: [w for w, _ in model.get_topic(t)] for t in model.get_topics() if t != -1}
    for topic, chosen in words.items():
        row = rows[topic + model._outliers]
        thirtieth = np.sort(row)[-30]  # BERTopic proposes a topic's 30 best (ties at the cut)
        assert all(row[names.index(w)] >= thirtieth for w in chosen), "the topic's own terms"
        assert not [(a, b) for a in chosen for b in chosen if a != b and contains(a, b)]
    ours = cube.topics.windowed_npmi(words, texts)
    theirs = cube.topics.windowed_npmi(
        {t: [w for w, _ in plain.get_topic(t)] for t in words}, texts
    )
    assert np.mean(list(ours.values())) > np.mean(list(theirs.values())) + 0.02
