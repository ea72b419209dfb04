"""The topics map: every topic as a circle, similar topics close together."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from cube.figures._describe import described
from cube.figures._layout import SIZE, label_annotations, layout, padded, which, words
from cube.figures._names import hover, topic_name
from cube.figures._palette import MAX_COLOURED, topic_colors, topic_sizes, topics_by_size

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go
    from bertopic import BERTopic


@described("topics_map")  # the figure carries its alt text
def topics_map(topic_model: BERTopic, *, seed: int = 0, size=SIZE) -> go.Figure:
    """Every topic as a circle (area = passages), placed so that similar topics are close.

    Positions: metric MDS of the cosine distances between topic embeddings (seeded).
    """
    import plotly.graph_objects as go
    from sklearn.manifold import MDS
    from sklearn.metrics.pairwise import cosine_distances

    ranked = topics_by_size(topic_model)
    colours, sizes = topic_colors(topic_model), topic_sizes(topic_model)
    offset = int(getattr(topic_model, "_outliers", 0))
    vectors = np.asarray(topic_model.topic_embeddings_)[[t + offset for t in ranked]]
    distances = cosine_distances(vectors)
    try:
        mds = MDS(2, metric="precomputed", init="classical_mds", random_state=seed, n_init=1)
    except TypeError:  # scikit-learn before 1.8
        mds = MDS(2, dissimilarity="precomputed", random_state=seed, n_init=1)
    xy = mds.fit_transform(distances)
    margin = {"l": 40, "r": 40, "t": 120, "b": 40}
    xrange, yrange = padded(xy[:, 0], 0.08), padded(xy[:, 1], 0.08)
    biggest = max(sizes[t] for t in ranked)
    diameters = [14 + 56 * math.sqrt(sizes[t] / biggest) for t in ranked]
    fig = go.Figure(
        go.Scatter(
            x=xy[:, 0],
            y=xy[:, 1],
            mode="markers",
            marker={
                "size": diameters,
                "color": [colours[t] for t in ranked],
                "opacity": 0.8,
                "line": {"color": "white", "width": 1},
            },
            hovertext=[
                hover(
                    topic_name(topic_model, t),
                    f"{sizes[t]} passages",
                    "words: " + words(topic_model, t),
                )
                for t in ranked
            ],
            hoverinfo="text",
            customdata=ranked,
            name="topics",
            showlegend=False,
        )
    )
    left_out = label_annotations(
        fig,
        topic_model,
        ranked,
        xy,
        colours,
        xrange,
        yrange,
        margin,
        size or SIZE,
        marker_radius=[d / 2 for d in diameters],
        on_point=False,
    )
    fig.update_xaxes(visible=False, range=list(xrange))
    fig.update_yaxes(visible=False, range=list(yrange))
    grey = len(ranked) - min(len(ranked), MAX_COLOURED)
    note = "each circle a topic, its area the topic's passages; close circles: similar topics"
    if grey:
        note += f"; the {MAX_COLOURED} largest in colour, {grey} in grey"
    if left_out:
        note += f"; {left_out} names left out for lack of room (hover to see them)"
    return layout(
        fig, f"How close {which(len(ranked), len(ranked))} are in meaning", note, size, **margin
    )
