"""Topic quality: NPMI, diversity and the frame against small examples worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

import cube
from cube.topics import Stability, TopicWords, evaluate, lda, stability

# Eight documents; tokens are the words split on spaces.
DOCS = [
    "apple banana",  # 1
    "apple banana cherry",  # 2
    "apple cherry",  # 3
    "banana",  # 4
    "dog",  # 5
    "dog cat",  # 6
    "cat",  # 7
    "egg",  # 8
]
# Document frequencies: apple 3 (1,2,3), banana 3 (1,2,4), cherry 2 (2,3), dog 2 (5,6),
# cat 2 (6,7), egg 1, zebra 0.


def npmi(joint: int, df_a: int, df_b: int, n: int = len(DOCS)) -> float:
    """log(P(a,b) / (P(a) P(b))) / -log P(a,b), written out for the comments below."""
    return math.log((joint / n) / ((df_a / n) * (df_b / n))) / -math.log(joint / n)


@pytest.fixture
def toy() -> TopicWords:
    return TopicWords(
        labels=[0, 0, -1, 0, 1, 1, 3, 2],
        words={
            -1: ("banana", "cherry"),
            0: ("apple", "banana"),
            1: ("dog", "cat", "apple"),
            2: ("egg",),
            3: ("zebra", "apple"),
        },
        n_shown=10,  # the "model" shows up to 10 words a topic
    )


def test_npmi_by_hand(toy):
    quality = evaluate(toy, DOCS)
    # Topic 0: apple & banana together in docs 1, 2: P = 2/8, P(apple) = P(banana) = 3/8.
    # log((2/8) / (9/64)) / -log(2/8) = log(16/9) / log(4) = 0.41504
    topic0 = math.log(16 / 9) / math.log(4)
    assert topic0 == pytest.approx(npmi(2, 3, 3))
    assert quality.loc[0, "npmi"] == pytest.approx(topic0)
    assert quality.loc[0, "npmi"] == pytest.approx(0.41504, abs=1e-5)
    # Topic 1, three pairs: dog & cat in doc 6 only: log((1/8) / (4/64)) / log(8) = log 2 / log 8
    # = 1/3; dog & apple and cat & apple never co-occur: -1 each. Mean (1/3 - 1 - 1) / 3 = -5/9.
    assert quality.loc[1, "npmi"] == pytest.approx(-5 / 9)
    # Topic 2 has one word, so no pair: NaN, and it is left out of the mean.
    assert math.isnan(quality.loc[2, "npmi"])
    # Topic 3: zebra is in no document, so the pair never co-occurs: -1.
    assert quality.loc[3, "npmi"] == pytest.approx(-1.0)
    # Topic -1 is scored (banana & cherry in doc 2: log((1/8) / (6/64)) / log 8) ...
    assert quality.loc[-1, "npmi"] == pytest.approx(math.log(4 / 3) / math.log(8))
    # ... but the headline is the mean over topics 0, 1 and 3 only.
    headline = (topic0 - 5 / 9 - 1) / 3
    assert quality.loc["overall", "npmi"] == pytest.approx(headline)


def test_windowed_npmi_of_texts_shorter_than_a_window_is_counted_per_text(toy):
    """Every toy text is shorter than 10 tokens: one window each, so c_npmi counts as npmi
    does, except that a pair never seen together gets gensim's epsilon instead of -1."""
    quality = evaluate(toy, DOCS)
    assert quality.loc[0, "c_npmi"] == pytest.approx(quality.loc[0, "npmi"], abs=1e-9)
    never = math.log(1e-12 / ((2 / 8) * (3 / 8))) / -math.log(1e-12)  # dog (2), apple (3)
    never_cat = never  # cat is in 2 texts too
    dog_cat = math.log((1 / 8) / ((2 / 8) * (2 / 8))) / -math.log(1 / 8)
    expected = (dog_cat + never + never_cat) / 3
    assert quality.loc[1, "c_npmi"] == pytest.approx(expected, abs=1e-9)
    assert quality.loc[3, "c_npmi"] == -1.0  # zebra is in no text
    assert math.isnan(quality.loc[2, "c_npmi"])


def test_frame_layout_and_overall_row(toy):
    quality = evaluate(toy, DOCS)
    assert list(quality.index) == [-1, 0, 1, 2, 3, "overall"]
    assert quality.index.name == "topic"
    assert list(quality.columns) == [
        "size",
        "share",
        "n_words",
        "words",
        "npmi",
        "c_npmi",
        "diversity@10",
        "diversity@25",
        "outlier_share",
        "n_topics",
        "largest_topic_size",
    ]
    assert quality["size"].tolist() == [1, 3, 2, 1, 1, 8]
    assert quality.loc[0, "share"] == pytest.approx(3 / 8)
    assert quality.loc[1, "words"] == "dog, cat, apple"
    assert quality.loc[2, "n_words"] == 1
    overall = quality.loc["overall"]
    assert overall["outlier_share"] == pytest.approx(1 / 8)
    assert overall["n_topics"] == 4  # 0, 1, 2, 3: -1 is no topic
    assert overall["largest_topic_size"] == 3
    # Diversity over topics 0-3 (not -1): apple banana | dog cat apple | egg | zebra apple:
    # 8 words, 6 unique (apple three times) -> 6/8.
    assert overall["diversity@10"] == pytest.approx(6 / 8)
    # The model shows 10 words and has no longer ranking: there are no 25 words to score.
    assert math.isnan(overall["diversity@25"])
    # Per-topic rows leave the overall-only columns empty.
    assert quality.drop(index="overall")["diversity@10"].isna().all()
    assert quality.drop(index="overall")["n_topics"].isna().all()


def test_top_n_limits_the_scored_words(toy):
    quality = evaluate(toy, DOCS, top_n=2)
    # Topic 1 is now dog & cat only: 1/3.
    assert quality.loc[1, "npmi"] == pytest.approx(1 / 3)
    assert quality.loc[1, "words"] == "dog, cat"


def test_more_words_than_shown_come_from_the_ranking():
    topics = TopicWords(
        labels=[0, 1],
        words={0: ("a", "b"), 1: ("c", "d")},
        ranking={0: ("b", "a", "x", "y"), 1: ("d", "c", "x", "z")},
    )
    assert topics.n_shown == 2
    assert topics.top(2) == {0: ("a", "b"), 1: ("c", "d")}  # the model's own words
    assert topics.top(3) == {0: ("b", "a", "x"), 1: ("d", "c", "x")}  # the ranking's
    assert topics.can_rank(25)
    # diversity@10 and @25 both from the ranking here: a b x y d c x z -> 7 unique of 8.
    overall = evaluate(topics, ["a b x", "c d z"]).loc["overall"]
    assert overall["diversity@10"] == pytest.approx(7 / 8)
    assert overall["diversity@25"] == pytest.approx(7 / 8)


def test_a_phrase_counts_where_it_literally_stands():
    docs = [
        "The United Nations met in New York.",
        "Nations of the world, united.",  # both words, not the phrase
        "United Nations peacekeepers.",
        "New York is a city of the world.",
        "The State of the Union is strong.",
    ]
    topics = TopicWords(
        labels=[0, 0, 1, 1, 2],
        words={
            0: ("united nations", "world"),
            1: ("united nations", "new york"),
            2: ("state union", "strong"),
        },
    )
    quality = evaluate(topics, docs)
    # "united nations" is in docs 1 and 3, "world" in docs 2 and 4: never together -> -1
    # (split into words, united/nations/world would all meet in doc 2).
    assert quality.loc[0, "npmi"] == pytest.approx(-1.0)
    # "united nations" (docs 1, 3) and "new york" (docs 1, 4) meet in doc 1:
    # log((1/5) / ((2/5)(2/5))) / -log(1/5) = log(5/4) / log(5)
    assert quality.loc[1, "npmi"] == pytest.approx(math.log(5 / 4) / math.log(5))
    # "state union" stands nowhere ("State of the Union" is not it), whatever a vectorizer that
    # drops stop words before it pairs words would say: the pair scores -1, not +1.
    assert quality.loc[2, "npmi"] == pytest.approx(-1.0)


def test_a_phrase_and_its_own_word_are_not_scored_as_a_pair():
    docs = ["the hottest place on earth", "a hottest place", "desert sand", "hottest desert"]
    topics = TopicWords(labels=[0, 0, 0, 0], words={0: ("hottest place", "hottest", "desert")})
    # Pairs scored: (hottest place, desert) never meet -> -1; (hottest, desert) meet in doc 4:
    # log((1/4) / ((3/4)(2/4))) / -log(1/4). The pair (hottest place, hottest) would be +1.
    expected = (-1 + math.log((1 / 4) / ((3 / 4) * (2 / 4))) / math.log(4)) / 2
    assert evaluate(topics, docs).loc[0, "npmi"] == pytest.approx(expected)


def test_a_pair_in_every_document_scores_one():
    topics = TopicWords(labels=[0, 0], words={0: ("a", "b")})
    # P(a, b) = 1: NPMI's 0/0, taken as 1 (perfect association).
    assert evaluate(topics, ["a b", "b a"]).loc[0, "npmi"] == 1.0


def test_texts_must_match_the_labels(toy):
    with pytest.raises(cube.InputError, match="topics for 8 documents but got 3"):
        evaluate(toy, DOCS[:3])
    with pytest.raises(cube.InputError, match="top_n"):
        evaluate(toy, DOCS, top_n=0)


FRUIT = "apple banana cherry grape lemon mango orange peach pear plum".split()
VEHICLES = "bicycle boat bus car lorry motorbike plane scooter train tram".split()


def two_vocabularies(n: int = 40, seed: int = 0) -> list[str]:
    """n documents of 12 fruit words, then n of 12 vehicle words."""
    rng = np.random.default_rng(seed)
    return [
        " ".join(rng.choice(vocabulary, 12)) for vocabulary in (FRUIT, VEHICLES) for _ in range(n)
    ]


def vocabulary_of(term: str) -> set[str]:
    return {"fruit" if word in FRUIT else "vehicles" for word in term.split()}


def test_lda_separates_two_vocabularies():
    docs = two_vocabularies()
    topics = lda(docs, 2, seed=0)
    assert isinstance(topics, TopicWords)
    labels = topics.labels
    # All fruit documents in one topic, all vehicle documents in the other.
    assert len(set(labels[:40])) == 1
    assert len(set(labels[40:])) == 1
    assert labels[0] != labels[40]
    for topic in (0, 1):
        assert len(topics.words[topic]) == 10
        assert len(topics.ranking[topic]) == 50
        assert topics.top(10) == {t: ws[:10] for t, ws in topics.words.items()}
        # Every word of a topic comes from one vocabulary.
        assert len(set().union(*map(vocabulary_of, topics.ranking[topic][:25]))) == 1
    assert vocabulary_of(topics.words[0][0]) != vocabulary_of(topics.words[1][0])
    again = lda(docs, 2, seed=0)
    np.testing.assert_array_equal(again.labels, labels)
    assert again.words == topics.words
    quality = evaluate(topics, docs)
    assert quality.loc["overall", "outlier_share"] == 0
    assert quality.loc["overall", "diversity@10"] == 1.0
    assert quality.loc["overall", "diversity@25"] == 1.0
    assert quality.loc["overall", "n_topics"] == 2


def test_lda_documents_without_words_are_outliers():
    docs = [*two_vocabularies(20), "the and of 1999"]  # nothing left once stop words go
    assert lda(docs, 2).labels[-1] == -1


def clustered(n_per_cluster: int = 30, dims: int = 16, seed: int = 0):
    """Texts from three vocabularies and vectors in three far-apart tight clusters."""
    rng = np.random.default_rng(seed)
    vocabularies = (
        FRUIT,
        VEHICLES,
        "cello drum flute guitar harp oboe piano sitar tuba violin".split(),
    )
    texts, vectors = [], []
    for k, vocabulary in enumerate(vocabularies):
        centre = np.zeros(dims)
        centre[k] = 10.0
        for _ in range(n_per_cluster):
            texts.append(" ".join(rng.choice(vocabulary, 12)))
            vectors.append(centre + rng.normal(scale=0.1, size=dims))
    return texts, np.asarray(vectors, dtype=np.float32)


@pytest.mark.slow  # BERTopic, UMAP and hdbscan: ~40 s on a 2-core laptop, mostly imports and JIT
def test_evaluate_a_real_bertopic(no_embedding_model):
    texts, vectors = clustered()
    topic_model = cube.topics.build(
        n_documents=len(texts), min_topic_size=10, representation="ctfidf"
    )
    topic_model.fit_transform(texts, embeddings=vectors)
    topics = TopicWords.from_bertopic(topic_model)
    assert topics.labels.tolist() == list(topic_model.topics_)
    assert topics.n_shown == 10
    for topic, words in topics.words.items():
        assert list(words) == [w for w, _ in topic_model.get_topic(topic) if w]
        # Plain c-TF-IDF words are the top of the c-TF-IDF ranking.
        assert set(topics.ranking[topic][: len(words)]) == set(words)
    # With an embedding model (cube's case) BERTopic keeps punctuation, so cube's analyzer
    # sees where a phrase is broken.
    assert topic_model.language is None

    quality = evaluate(topic_model, texts)
    overall = quality.loc["overall"]
    assert overall["n_topics"] == 3
    assert overall["largest_topic_size"] == 30
    assert overall["outlier_share"] == 0
    assert quality.drop(index="overall")["size"].sum() == len(texts)
    # Each topic's words come from one vocabulary: nothing shared, and coherent.
    assert overall["diversity@10"] == 1.0
    assert overall["diversity@25"] == 1.0
    assert overall["npmi"] > 0
    assert (quality.drop(index="overall")["n_words"] == 10).all()


@pytest.mark.slow  # as above: two seeds, two UMAPs
def test_stability_of_well_separated_clusters(no_embedding_model):
    texts, vectors = clustered()
    result = stability(texts, vectors, seeds=(0, 1), min_topic_size=10)
    assert isinstance(result, Stability)
    assert result.seeds == (0, 1)
    assert result.mean == pytest.approx(1.0)
    assert result.ari.loc[0, 1] == result.ari.loc[1, 0] == pytest.approx(1.0)
    assert result.n_topics == {0: 3, 1: 3}
    with pytest.raises(cube.InputError, match="two different seeds"):
        stability(texts, vectors, seeds=(0, 0))


def test_passage_npmi_counts_do_not_overflow_past_46341_documents():
    """Document counts are int32: their product overflowed at 100,000 passages (found by
    bench/scale.py), and NPMI must be computed in floats."""
    from cube.topics._quality import _npmi

    doc_freq = np.array([60_000, 60_000], np.int32)
    co_freq = np.array([[60_000, 40_000], [40_000, 60_000]], np.int32)
    expected = math.log(40_000 * 100_000 / 60_000**2) / -math.log(0.4)
    assert _npmi(doc_freq, co_freq, 100_000, [(0, 1)]) == pytest.approx(expected)
