"""Topic modeling with BERTopic and teaching defaults; results are plain ``BERTopic`` objects.

This stage only models: vectors (``cube.embeddings``) and their reductions
(``cube.reductions``) come before it, figures (``cube.figures``) after it. BERTopic, hdbscan
and scikit-learn load the first time a name below is used.

Example:
    >>> import cube
    >>> docs = cube.datasets.load("sotu", sample=2000)["text"].tolist()
    >>> vectors = cube.embed(docs)
    >>> topic_model = cube.topics.fit(docs, vectors)
    >>> figures = cube.figures.standard_figures(topic_model, docs, vectors)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from cube._public import rehome

_LAZY = {
    "CachedUMAP": "cube.topics._components",
    "CubeEmbedder": "cube.topics._components",
    "CoherentTerms": "cube.topics._components",
    "DistinctTerms": "cube.topics._components",
    "TimedHDBSCAN": "cube.topics._components",
    "MIN_DOCUMENTS": "cube.topics._model",
    "REPRESENTATIONS": "cube.topics._model",
    "TopicSettings": "cube.topics._model",
    "build": "cube.topics._model",
    "check_corpus_size": "cube.topics._model",
    "default_min_topic_size": "cube.topics._model",
    "find_topic": "cube.topics._find",
    "library_versions": "cube.topics._provenance",
    "provenance": "cube.topics._provenance",
    "texts_digest": "cube.topics._provenance",
    "fit": "cube.topics._model",
    "fit_transform": "cube.topics._model",
    "make_embedder": "cube.topics._model",
    "make_vectorizer": "cube.topics._model",
    "reassign_outliers": "cube.topics._model",
    "DEFAULT_FIT_SAMPLE": "cube.topics._sample",
    "SampleFit": "cube.topics._sample",
    "assign_to_topics": "cube.topics._sample",
    "count_terms_by_topic": "cube.topics._sample",
    "words_from_counts": "cube.topics._sample",
    "words_from_every_document": "cube.topics._sample",
    "fit_on_sample": "cube.topics._sample",
    "assign_rest": "cube.topics._sample",
    "sample_rows": "cube.topics._sample",
    "scaled_min_topic_size": "cube.topics._sample",
    "MAX_TREE_TOPICS": "cube.topics._tree",
    "topic_tree": "cube.topics._tree",
    "QUALITY_HEADLINE": "cube.topics._quality",
    "Stability": "cube.topics._quality",
    "TopicWords": "cube.topics._quality",
    "evaluate": "cube.topics._quality",
    "quality_headline": "cube.topics._quality",
    "lda": "cube.topics._quality",
    "stability": "cube.topics._quality",
    "windowed_npmi": "cube.topics._coherence",
    "TermAnalyzer": "cube.topics._terms",
    "distinct_terms": "cube.topics._terms",
    "literal_terms": "cube.topics._terms",
    "import_bertopic_lean": "cube.topics._lean",
    "load": "cube.topics._io",
    "save": "cube.topics._io",
    # Reductions come before topics (cube.reduce); kept here for code written against 0.1.
    "reduce": "cube.reductions",
}

if TYPE_CHECKING:  # pragma: no cover
    from cube.reductions import reduce
    from cube.topics._coherence import windowed_npmi
    from cube.topics._components import (
        CachedUMAP,
        CoherentTerms,
        CubeEmbedder,
        DistinctTerms,
        TimedHDBSCAN,
    )
    from cube.topics._find import find_topic
    from cube.topics._io import load, save
    from cube.topics._lean import import_bertopic_lean
    from cube.topics._model import (
        MIN_DOCUMENTS,
        REPRESENTATIONS,
        TopicSettings,
        build,
        check_corpus_size,
        default_min_topic_size,
        fit,
        fit_transform,
        make_embedder,
        make_vectorizer,
        reassign_outliers,
    )
    from cube.topics._provenance import library_versions, provenance, texts_digest
    from cube.topics._quality import (
        QUALITY_HEADLINE,
        Stability,
        TopicWords,
        evaluate,
        lda,
        quality_headline,
        stability,
    )
    from cube.topics._sample import (
        DEFAULT_FIT_SAMPLE,
        SampleFit,
        assign_rest,
        assign_to_topics,
        count_terms_by_topic,
        fit_on_sample,
        sample_rows,
        scaled_min_topic_size,
        words_from_counts,
        words_from_every_document,
    )
    from cube.topics._terms import TermAnalyzer, distinct_terms, literal_terms
    from cube.topics._tree import MAX_TREE_TOPICS, topic_tree


def __getattr__(name: str):
    if name not in _LAZY:
        raise AttributeError(f"module 'cube.topics' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    if name != "reduce":
        rehome({name: value}, [name], __name__)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


__all__ = [
    "DEFAULT_FIT_SAMPLE",
    "MAX_TREE_TOPICS",
    "MIN_DOCUMENTS",
    "QUALITY_HEADLINE",
    "REPRESENTATIONS",
    "CachedUMAP",
    "CoherentTerms",
    "CubeEmbedder",
    "DistinctTerms",
    "SampleFit",
    "Stability",
    "TermAnalyzer",
    "TimedHDBSCAN",
    "TopicSettings",
    "TopicWords",
    "assign_rest",
    "assign_to_topics",
    "build",
    "check_corpus_size",
    "count_terms_by_topic",
    "default_min_topic_size",
    "distinct_terms",
    "evaluate",
    "find_topic",
    "fit",
    "fit_on_sample",
    "fit_transform",
    "import_bertopic_lean",
    "lda",
    "library_versions",
    "literal_terms",
    "load",
    "make_embedder",
    "make_vectorizer",
    "provenance",
    "quality_headline",
    "reassign_outliers",
    "reduce",
    "sample_rows",
    "save",
    "scaled_min_topic_size",
    "stability",
    "texts_digest",
    "topic_tree",
    "windowed_npmi",
    "words_from_counts",
    "words_from_every_document",
]
