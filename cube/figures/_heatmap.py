"""The heatmap: cosine similarity between the largest topics, similar ones side by side."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cube.figures._describe import described
from cube.figures._layout import SIZE, layout, nothing, which
from cube.figures._names import hover, topic_name
from cube.figures._palette import topics_by_size

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go
    from bertopic import BERTopic

MAX_HEATMAP = 20  # the similarity heatmap shows at most this many topics


@described("heatmap")  # the figure carries its alt text
def heatmap(topic_model: BERTopic, *, size=SIZE) -> go.Figure:
    """Cosine similarity between the largest topics, similar ones next to each other."""
    import plotly.graph_objects as go
    from sklearn.metrics.pairwise import cosine_similarity

    ranked = topics_by_size(topic_model)
    if not ranked:
        return nothing("No topics found", size)
    shown = ranked[:MAX_HEATMAP]
    offset = int(getattr(topic_model, "_outliers", 0))
    vectors = np.asarray(topic_model.topic_embeddings_)[[t + offset for t in shown]]
    if len(shown) > 2:
        from scipy.cluster.hierarchy import leaves_list, linkage

        order = list(leaves_list(linkage(vectors, "average", metric="cosine")))
        shown = [shown[i] for i in order]
        vectors = vectors[order]
    similarity = cosine_similarity(vectors)
    np.fill_diagonal(similarity, np.nan)
    names = [topic_name(topic_model, t, max_chars=40) for t in shown]
    text = [
        [
            hover(f"{a} ↔ {b}", f"similarity {similarity[i, j]:.2f}") if i != j else hover(a)
            for j, b in enumerate(names)
        ]
        for i, a in enumerate(names)
    ]
    fig = go.Figure(
        go.Heatmap(
            z=np.where(np.isnan(similarity), None, np.round(similarity, 3)).tolist(),
            x=names,
            y=names,
            colorscale="Blues",
            hovertext=text,
            hoverinfo="text",
            colorbar={"title": {"text": "similarity"}},
            xgap=1,
            ygap=1,
        )
    )
    fig.update_xaxes(tickangle=-40, tickfont={"size": 12}, showgrid=False)
    fig.update_yaxes(autorange="reversed", tickfont={"size": 12}, showgrid=False)
    return layout(
        fig,
        f"How similar {which(len(shown), len(ranked), article=True)} are",
        "cosine similarity of the topics' embeddings, darker: more alike; "
        "similar topics sit next to each other",
        size,
        l=320,
        b=250,
        r=40,
    )
