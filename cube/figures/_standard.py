"""The standard figures of a fitted model, with no hidden UMAP and no figure twice.

Each figure is cube's own plotly figure, drawn from the fitted model (BERTopic computes the
data: ``topics_over_time``, ``topics_per_class``, c-TF-IDF, topic embeddings; the tree is
:func:`cube.topics.topic_tree`) so that, as a 1600×900 PNG, it answers its question without a
mouse: every trace visible, at most :data:`~cube.figures._palette.MAX_COLOURED` topics in colour (the title says
which), one colour per topic in every figure, topic names for people, labels that do not
overlap, short wrapped hover text, shares where groups differ in size, no sliders.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from cube._errors import InputError
from cube.figures._barchart import barchart
from cube.figures._documents_map import document_coordinates, documents_map, map_params
from cube.figures._heatmap import heatmap
from cube.figures._hierarchy import hierarchy
from cube.figures._layout import SIZE
from cube.figures._palette import MAX_COLOURED, topics_by_size
from cube.figures._topics_map import topics_map
from cube.figures._topics_over_time import time_periods, topics_over_time
from cube.figures._topics_per_class import topics_per_class

if TYPE_CHECKING:  # pragma: no cover
    from bertopic import BERTopic


@contextlib.contextmanager
def words_from_ctfidf(topic_model: BERTopic) -> Iterator[None]:
    """Per-bin, per-class and per-merge topic words from c-TF-IDF alone.

    BERTopic otherwise re-runs the representation models (KeyBERT, MMR) for every time bin,
    class and hierarchy level: slow, and no clearer for these views. cube's
    ``DistinctTerms`` step stays.
    """
    from cube.topics import DistinctTerms  # BERTopic is loaded: there is a fitted model

    saved = topic_model.representation_model
    steps = saved if isinstance(saved, list) else [saved]
    # cube's own term rules stay (no phrase beside its words); the slow steps go.
    kept = [s for s in steps if isinstance(s, DistinctTerms)]
    topic_model.representation_model = kept or None
    try:
        yield
    finally:
        topic_model.representation_model = saved


def _checked_coordinates(coordinates: Any, n_docs: int) -> np.ndarray:
    """``coordinates`` as a float array of shape (n_docs, 2), or a clear InputError."""
    try:
        array = np.asarray(coordinates, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"coordinates= is not an array of numbers ({exc}); pass the documents' 2-D "
            f"reduction, shape ({n_docs}, 2), or None to compute it"
        ) from None
    if array.shape != (n_docs, 2):
        raise InputError(
            f"coordinates= has shape {array.shape}; it must be ({n_docs}, 2), one 2-D point "
            "per document, or None to compute it"
        )
    return array


def standard_figures(
    topic_model: BERTopic,
    docs: Sequence[str],
    embeddings: np.ndarray,
    *,
    timestamps: Sequence[Any] | None = None,
    classes: Sequence[Any] | None = None,
    top_n_topics: int = MAX_COLOURED,
    class_name: str = "class",
    size: tuple[int, int] | None = SIZE,
    coordinates: np.ndarray | None = None,
) -> dict[str, Any]:
    """barchart, topics map, documents map, hierarchy, heatmap (+ over time / per class).

    Returns a name → plotly figure mapping ready for :func:`cube.figures.export`. Every
    figure is ``size`` pixels (a 1600×900 slide; ``None``: as wide as its cell), shows at
    most ``top_n_topics`` (≤ 10) topics in colour, each in the same colour everywhere, and
    names topics with :func:`cube.figures.topic_name`. ``class_name`` names the classes in
    titles (e.g. "party"). ``coordinates`` is the documents' 2-D reduction, one row per
    document, when the caller has it already; else it is computed
    (:func:`cube.figures.document_coordinates`, from the cache when it was computed before).

    Example:
        >>> figs = cube.figures.standard_figures(topic_model, docs, vectors)
        >>> cube.figures.export(figs, "figures/", formats=("png", "html"))
    """
    from cube.topics import topic_tree  # BERTopic is loaded: there is a fitted model

    docs = list(docs)
    if coordinates is not None:
        coordinates = _checked_coordinates(coordinates, len(docs))
    n_topics = len(topics_by_size(topic_model))
    seed = int(map_params(topic_model.umap_model).seed or 0)
    figures: dict[str, Any] = {
        "barchart": barchart(topic_model, top_n_topics=top_n_topics, size=size)
    }
    if n_topics >= 3:
        figures["topics_map"] = topics_map(topic_model, seed=seed, size=size)
    if coordinates is None:
        coordinates = document_coordinates(topic_model, embeddings)
    figures["documents_map"] = documents_map(topic_model, docs, coordinates, size=size)
    bins, period = time_periods(timestamps) if timestamps is not None else (None, None)
    labels = [str(c) for c in classes] if classes is not None else None
    # The largest topics' tree from term counts (cube.topics.topic_tree): BERTopic's
    # hierarchical_topics passes over every document once per merge.
    tree = topic_tree(topic_model, docs) if n_topics >= 2 else None
    with words_from_ctfidf(topic_model):
        # evolution_tuning=False: the same frame (BERTopic's tuning writes into a copy that
        # it drops; tested), without its cost (a few seconds on the whole corpus).
        over_time = (
            topic_model.topics_over_time(docs, bins, evolution_tuning=False)
            if bins is not None
            else None
        )
        per_class = (
            topic_model.topics_per_class(docs, classes=labels) if labels is not None else None
        )
    if tree is not None:
        figures["hierarchy"] = hierarchy(topic_model, tree, size=size)
    figures["heatmap"] = heatmap(topic_model, size=size)
    if over_time is not None:
        figures["topics_over_time"] = topics_over_time(
            topic_model,
            over_time,
            bins,
            period=period,
            top_n_topics=top_n_topics,
            size=size,
        )
    if per_class is not None:
        figures["topics_per_class"] = topics_per_class(
            topic_model,
            per_class,
            labels,
            class_name=class_name,
            top_n_topics=top_n_topics,
            size=size,
        )
    return figures
