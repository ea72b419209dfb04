"""For type checkers and editors: the names of cube.topics, which load lazily (__init__.py)."""

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
    make_vectorizer,
    reassign_outliers,
)
from cube.topics._provenance import provenance
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
)
from cube.topics._terms import TermAnalyzer, contains, distinct_terms, is_stop_word, literal_terms
from cube.topics._tree import MAX_TREE_TOPICS, topic_tree

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
    "contains",
    "count_terms_by_topic",
    "default_min_topic_size",
    "distinct_terms",
    "evaluate",
    "find_topic",
    "fit",
    "fit_on_sample",
    "fit_transform",
    "import_bertopic_lean",
    "is_stop_word",
    "lda",
    "literal_terms",
    "load",
    "make_vectorizer",
    "provenance",
    "quality_headline",
    "reassign_outliers",
    "reduce",
    "sample_rows",
    "save",
    "scaled_min_topic_size",
    "stability",
    "topic_tree",
    "windowed_npmi",
]
