"""The documents map: every passage as a dot at its 2-D UMAP position, coloured by topic."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from cube.figures._describe import described
from cube.figures._layout import SIZE, label_annotations, layout, padded, which
from cube.figures._names import OUTLIER_NAME, hover, topic_name
from cube.figures._palette import (
    MAX_COLOURED,
    OTHER_COLOUR,
    OUTLIER_COLOUR,
    topic_colors,
    topics_by_size,
)
from cube.reductions import UMAPParams, reduction

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go
    from bertopic import BERTopic


def map_params(umap_model: Any) -> UMAPParams:
    """The settings of the documents map's 2-D UMAP, taken from the model's own UMAP.

    A :class:`cube.topics.CachedUMAP` holds its settings as one
    :class:`cube.reductions.UMAPParams` (``umap_model.params``): the map uses its neighbours,
    ``min_dist``, metric and seed, in two dimensions and with the epochs chosen for two. Any
    other UMAP (or a CachedUMAP without params): its ``seed`` and ``n_neighbors`` attributes
    if it has them, else the defaults.
    """
    params = getattr(umap_model, "umap_params", None) or getattr(umap_model, "params", None)
    if isinstance(params, UMAPParams):
        return params.for_map()
    return UMAPParams(
        n_components=2,
        n_neighbors=getattr(umap_model, "n_neighbors", 15),
        seed=getattr(umap_model, "seed", 0),
    )


def document_coordinates(topic_model: BERTopic, embeddings: np.ndarray) -> np.ndarray:
    """The cached, seeded 2-D UMAP of the documents (the documents map's coordinates)."""
    return reduction(embeddings, map_params(topic_model.umap_model)).coordinates


MAX_MAP_POINTS = 50_000  # dots drawn at most; more make a slow page and a large HTML file


@described("documents_map")  # the figure carries its alt text
def documents_map(
    topic_model: BERTopic,
    docs: Sequence[str],
    coordinates: np.ndarray,
    *,
    size=SIZE,
    max_points: int = MAX_MAP_POINTS,
    seed: int = 0,
) -> go.Figure:
    """Every passage as a dot at its 2-D UMAP position, coloured by topic, topics labelled.

    Past ``max_points`` passages, a seeded sample of that many is drawn (the subtitle says so):
    a browser stays responsive, and the HTML small. Topic labels sit where all passages are.
    """
    import plotly.graph_objects as go

    topics = np.asarray(topic_model.topics_)
    shown = np.ones(len(topics), bool)
    if len(topics) > max_points:
        shown[:] = False
        shown[np.random.default_rng(seed).choice(len(topics), max_points, replace=False)] = True
    ranked = topics_by_size(topic_model)
    colours = topic_colors(topic_model)
    names = {t: topic_name(topic_model, t) for t in [-1, *ranked]}
    coordinates = np.asarray(coordinates, dtype=float)
    fig = go.Figure()

    def dots(mask: np.ndarray, name: str, colour: str, marker_size: int, opacity: float) -> None:
        index = np.flatnonzero(mask & shown)
        if not len(index):
            return
        fig.add_trace(
            go.Scatter(
                x=coordinates[index, 0],
                y=coordinates[index, 1],
                mode="markers",
                name=name,
                marker={"size": marker_size, "color": colour, "opacity": opacity},
                hovertext=[hover(names[int(topics[i])], docs[i]) for i in index],
                hoverinfo="text",
            )
        )

    coloured = ranked[:MAX_COLOURED]
    others = ranked[MAX_COLOURED:]
    dots(topics == -1, OUTLIER_NAME, OUTLIER_COLOUR, 4, 0.6)
    if others:
        dots(np.isin(topics, others), f"other topics ({len(others)})", OTHER_COLOUR, 5, 0.55)
    for topic in coloured:
        dots(topics == topic, names[topic], colours[topic], 6, 0.7)

    margin = {"l": 40, "r": 40, "t": 120, "b": 40}
    xrange, yrange = padded(coordinates[:, 0], 0.03), padded(coordinates[:, 1], 0.03)
    anchors = np.array([np.median(coordinates[topics == t], axis=0) for t in ranked])
    left_out = label_annotations(
        fig,
        topic_model,
        ranked,
        anchors,
        colours,
        xrange,
        yrange,
        margin,
        size or SIZE,
        on_point=True,
    )
    fig.update_xaxes(visible=False, range=list(xrange))
    fig.update_yaxes(visible=False, range=list(yrange))
    fig.update_layout(showlegend=False)
    outliers = int(np.sum(topics == -1))
    note = "each dot a passage, placed by meaning (2-D UMAP of its embedding)"
    if others:
        note += f"; the {len(coloured)} largest topics in colour, the other {len(others)} grey"
    if outliers:
        note += f"; light grey: {outliers} passages not in any topic"
    if left_out:
        note += f"; {left_out} names left out for lack of room"
    count = f"{len(topics)}"
    if not shown.all():
        count = f"{int(shown.sum()):,} of {len(topics):,}"
        note += f"; a seeded sample of {int(shown.sum()):,} of the {len(topics):,} passages drawn"
    return layout(
        fig,
        f"{count} passages by meaning, in {which(len(ranked), len(ranked))}",
        note,
        size,
        **margin,
    )
