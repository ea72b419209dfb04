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

from cube._public import lazy_face

# Every public name, once: {module: names}. Each loads on first use (BERTopic is slow to
# import); __init__.pyi says the same to type checkers (tests/test_faces.py keeps them equal).
_PUBLIC = {
    "._model": (
        "MIN_DOCUMENTS",
        "REPRESENTATIONS",
        "TopicSettings",
        "build",
        "check_corpus_size",
        "default_min_topic_size",
        "fit",
        "fit_transform",
        "make_vectorizer",
        "reassign_outliers",
    ),
    "._components": (
        "CachedUMAP",
        "CoherentTerms",
        "CubeEmbedder",
        "DistinctTerms",
        "TimedHDBSCAN",
    ),
    "._sample": (
        "DEFAULT_FIT_SAMPLE",
        "SampleFit",
        "assign_rest",
        "assign_to_topics",
        "count_terms_by_topic",
        "fit_on_sample",
        "sample_rows",
        "scaled_min_topic_size",
    ),
    "._io": ("load", "save"),
    "._find": ("find_topic",),
    "._tree": ("MAX_TREE_TOPICS", "topic_tree"),
    "._quality": (
        "QUALITY_HEADLINE",
        "Stability",
        "TopicWords",
        "evaluate",
        "lda",
        "quality_headline",
        "stability",
    ),
    "._coherence": ("windowed_npmi",),
    "._terms": ("TermAnalyzer", "contains", "distinct_terms", "is_stop_word", "literal_terms"),
    "._provenance": ("provenance",),
    "._lean": ("import_bertopic_lean",),
    # Reductions come before topics (cube.reduce); kept here for code written against 0.1.
    "cube.reductions": ("reduce",),
}
__getattr__, __dir__, __all__ = lazy_face(globals(), _PUBLIC)
