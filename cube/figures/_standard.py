"""The standard figures of a fitted model, with no hidden UMAP and no figure twice."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from cube.reductions import reduce

if TYPE_CHECKING:  # pragma: no cover
    from bertopic import BERTopic

MAX_BINS = 40  # topics over time: at most this many time steps


def document_coordinates(topic_model: BERTopic, embeddings: np.ndarray) -> np.ndarray:
    """The cached, seeded 2-D UMAP of the documents (the documents map's coordinates)."""
    umap_model = topic_model.umap_model
    seed = getattr(umap_model, "seed", 0)
    n_neighbors = getattr(umap_model, "n_neighbors", 15)
    return reduce(embeddings, 2, n_neighbors=n_neighbors, seed=seed)


@contextlib.contextmanager
def words_from_ctfidf(topic_model: BERTopic) -> Iterator[None]:
    """Per-bin, per-class and per-merge topic words from c-TF-IDF alone.

    BERTopic otherwise re-runs the representation models (KeyBERT, MMR) for every time bin,
    class and hierarchy level: slow, and no clearer for these views.
    """
    saved = topic_model.representation_model
    topic_model.representation_model = None
    try:
        yield
    finally:
        topic_model.representation_model = saved


def time_bins(timestamps: Sequence[Any]) -> list[Any]:
    """Timestamps grouped into at most MAX_BINS steps (years into decades when needed)."""
    from cube.datasets import parse_times

    values, bad = parse_times(timestamps)
    if bad:
        raise ValueError(f"timestamps in rows {bad[:8]} are neither years nor dates")
    if len(set(values)) <= MAX_BINS:
        return values
    if all(isinstance(v, (int, np.integer)) for v in values):
        return [int(v) // 10 * 10 for v in values]
    return values


def standard_figures(
    topic_model: BERTopic,
    docs: Sequence[str],
    embeddings: np.ndarray,
    *,
    timestamps: Sequence[Any] | None = None,
    classes: Sequence[Any] | None = None,
    top_n_topics: int = 12,
) -> dict[str, Any]:
    """barchart, topics map, documents map, hierarchy, heatmap (+ over time / per class).

    Returns a name → plotly figure mapping ready for :func:`cube.figures.export`.

    Example:
        >>> figs = cube.figures.standard_figures(topic_model, docs, vectors)
        >>> cube.figures.export(figs, "figures/", formats=("png", "html"))
    """
    docs = list(docs)
    n_topics = len(set(topic_model.topics_) - {-1})
    figures: dict[str, Any] = {
        "barchart": topic_model.visualize_barchart(top_n_topics=min(top_n_topics, n_topics)),
    }
    if n_topics >= 3:  # the topics map runs a seeded UMAP on topic vectors: needs a few
        figures["topics_map"] = topic_model.visualize_topics()
    figures["documents_map"] = topic_model.visualize_documents(
        docs,
        reduced_embeddings=document_coordinates(topic_model, embeddings),
        hide_document_hover=False,
    )
    with words_from_ctfidf(topic_model):
        hierarchy = topic_model.hierarchical_topics(docs)
        over_time = (
            topic_model.topics_over_time(docs, time_bins(timestamps))
            if timestamps is not None
            else None
        )
        per_class = (
            topic_model.topics_per_class(docs, classes=[str(c) for c in classes])
            if classes is not None
            else None
        )
    figures["hierarchy"] = topic_model.visualize_hierarchy(hierarchical_topics=hierarchy)
    figures["heatmap"] = topic_model.visualize_heatmap()
    if over_time is not None:
        figures["topics_over_time"] = topic_model.visualize_topics_over_time(
            over_time, top_n_topics=min(10, n_topics)
        )
    if per_class is not None:
        figures["topics_per_class"] = topic_model.visualize_topics_per_class(
            per_class, top_n_topics=min(10, n_topics)
        )
    return figures
