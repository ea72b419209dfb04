"""The systems bench/quality.py compares, each as a ``fit(seed) -> TopicWords`` on shared vectors.

Every system gets the same texts and the same embeddings (cube's, all-MiniLM-L6-v2); where a
system needs to embed words too (KeyNMF, FASTopic's doc model), it gets cube's encoder, so no
system loads another copy of the model. Peers install from PyPI (``uv sync --group bench``):

- plain BERTopic (``bertopic``): ``BERTopic()`` as its README starts, UMAP seeded so runs repeat;
  and with ``CountVectorizer(stop_words="english")``, as its documentation advises
  (``bertopic-stop``): stop words in topic words score -1 in windows without stop words;
- Turftopic (``turftopic``): ``KeyNMF(k)`` and ``ClusteringTopicModel()`` (its defaults: t-SNE,
  HDBSCAN, soft c-TF-IDF);
- FASTopic (``fastopic``): ``FASTopic(k, Preprocess(vocab_size=10000))`` from ``topmost``, as
  its README does it;
- LDA: ``cube.topics.lda`` (scikit-learn, batch variational Bayes run to convergence, words by
  relevance).

Systems with a fixed number of topics get ``k``: as many as cube's defaults find.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import numpy as np

from cube.topics import TopicWords

DEPTH = 25  # diversity@25 needs 25 words a topic


class CubeEncoder:
    """Any library's ``encoder.encode(texts)`` through ``cube.embed`` (cached, same model)."""

    def encode(self, sentences, *args, **kwargs) -> np.ndarray:
        import cube

        if isinstance(sentences, str):
            return cube.embed([sentences], show_progress=False)[0]
        return cube.embed(list(sentences), show_progress=False)


def _ranked(components: np.ndarray, vocab: Sequence[str], depth: int = DEPTH) -> list[tuple]:
    return [
        tuple(str(vocab[i]) for i in np.argsort(-row, kind="stable")[:depth]) for row in components
    ]


def _seed_everything(seed: int) -> None:
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def cube_defaults(docs, vectors, **settings) -> Callable[[int], TopicWords]:
    import cube

    def fit(seed: int) -> TopicWords:
        model = cube.topics.fit(docs, vectors, seed=seed, **settings)
        return TopicWords.from_bertopic(model)

    return fit


def cube_before_model(docs, vectors, seed: int):
    """cube's defaults before issues #22 and #27 (a fitted BERTopic): scikit-learn's stop words
    out *before* word pairs are formed, one-letter words allowed, a phrase beside its own
    words, plain c-TF-IDF words, outliers joined at cosine 0.5 with no cap, HDBSCAN as is."""
    from sklearn.feature_extraction.text import CountVectorizer

    import cube

    model = cube.topics.build(len(docs), seed=seed)
    model.vectorizer_model = CountVectorizer(
        stop_words="english",
        token_pattern=r"(?u)\b[^\W\d_][^\W\d_'-]*(?:['-][^\W\d_]+)*\b",
        ngram_range=(1, 2),
        min_df=2 if len(docs) >= 200 else 1,
    )
    model.representation_model = None
    from hdbscan import HDBSCAN  # without the refit on a one-topic answer

    model.hdbscan_model = HDBSCAN(**model.hdbscan_model.get_params())
    cube.topics.fit_transform(model, list(docs), vectors, outlier_threshold=0.5)
    return model


def cube_before(docs, vectors) -> Callable[[int], TopicWords]:
    return lambda seed: TopicWords.from_bertopic(cube_before_model(docs, vectors, seed))


def plain_bertopic(docs, vectors, n_epochs=None, stop_words=None) -> Callable[[int], TopicWords]:
    """``BERTopic()``; with ``stop_words="english"``, the vectorizer BERTopic's own
    documentation recommends (``CountVectorizer(stop_words="english")``)."""

    def fit(seed: int) -> TopicWords:
        from bertopic import BERTopic
        from sklearn.feature_extraction.text import CountVectorizer

        from cube.reductions import UMAPParams
        from cube.topics import CachedUMAP

        model = BERTopic(
            umap_model=CachedUMAP(UMAPParams(n_components=5, seed=seed, n_epochs=n_epochs)),
            vectorizer_model=CountVectorizer(stop_words=stop_words) if stop_words else None,
        )
        model.fit_transform(list(docs), embeddings=vectors)
        return TopicWords.from_bertopic(model)

    return fit


def keynmf(docs, vectors, k: int) -> Callable[[int], TopicWords]:
    def fit(seed: int) -> TopicWords:
        from turftopic import KeyNMF

        model = KeyNMF(k, encoder=CubeEncoder(), random_state=seed)
        doc_topic = model.fit_transform(list(docs), embeddings=vectors)
        ranking = _ranked(model.components_, model.get_vocab())
        labels = np.asarray(doc_topic).argmax(axis=1)
        labels[np.asarray(doc_topic).max(axis=1) <= 0] = -1  # no keyword found: no topic
        return _topic_words(labels, dict(enumerate(ranking)))

    return fit


def turftopic_clustering(docs, vectors) -> Callable[[int], TopicWords]:
    def fit(seed: int) -> TopicWords:
        from turftopic import ClusteringTopicModel

        model = ClusteringTopicModel(encoder=CubeEncoder(), random_state=seed)
        model.fit_transform(list(docs), embeddings=vectors)
        ranking = _ranked(model.components_, model.get_vocab())
        words = {int(c): ws for c, ws in zip(model.classes_, ranking, strict=True) if c != -1}
        return _topic_words(np.asarray(model.labels_), words)

    return fit


def fastopic(docs, vectors, k: int) -> Callable[[int], TopicWords]:
    def fit(seed: int) -> TopicWords:
        from fastopic import FASTopic
        from topmost import Preprocess

        _seed_everything(seed)
        model = FASTopic(
            k, Preprocess(vocab_size=10000, verbose=False), doc_embed_model=CubeEncoder()
        )
        _, doc_topic = model.fit_transform(list(docs), preset_doc_embeddings=vectors)
        ranking = _ranked(model.get_beta(), model.vocab)
        return _topic_words(np.asarray(doc_topic).argmax(axis=1), dict(enumerate(ranking)))

    return fit


def lda(docs, k: int) -> Callable[[int], TopicWords]:
    import cube

    return lambda seed: cube.topics.lda(docs, n_topics=k, seed=seed)


def _topic_words(labels: np.ndarray, ranking: dict[int, tuple[str, ...]]) -> TopicWords:
    return TopicWords(
        labels=labels,
        words={t: ws[:10] for t, ws in ranking.items()},
        ranking=ranking,
        n_shown=10,
    )
