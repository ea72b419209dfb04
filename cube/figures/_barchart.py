"""The barchart: the top words of the largest topics, one small bar chart each."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from cube.figures._describe import described
from cube.figures._layout import MUTED, SIZE, TEXT_COLOUR, layout, nothing, which
from cube.figures._names import hover, shorten, topic_name, wrap_name
from cube.figures._palette import MAX_COLOURED, topic_colors, topic_sizes, topics_by_size

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go
    from bertopic import BERTopic


@described("barchart")  # the figure carries its alt text
def barchart(topic_model: BERTopic, *, top_n_topics: int = MAX_COLOURED, size=SIZE) -> go.Figure:
    """The top words of the largest topics, one small bar chart each, in the topic's colour."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    ranked = topics_by_size(topic_model)
    if not ranked:
        return nothing("No topics found", size)
    shown = ranked[: max(1, min(top_n_topics, MAX_COLOURED))]
    colours, sizes = topic_colors(topic_model), topic_sizes(topic_model)
    cols = min(5, len(shown))
    rows = math.ceil(len(shown) / cols)
    titles = [
        "<br>".join(wrap_name(topic_name(topic_model, t), 30, 2))
        + f"<br><span style='font-size:12px;color:{MUTED}'>{sizes[t]} passages</span>"
        for t in shown
    ]
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=titles,
        horizontal_spacing=0.09,
        vertical_spacing=0.22 if rows > 1 else 0.1,
    )
    for i, topic in enumerate(shown):
        pairs = [(w, s) for w, s in (topic_model.get_topic(topic) or []) if str(w).strip()][:5]
        words = [shorten(w, 22) for w, _ in reversed(pairs)]
        scores = [float(s) for _, s in reversed(pairs)]
        name = topic_name(topic_model, topic)
        fig.add_trace(
            go.Bar(
                x=scores,
                y=words,
                orientation="h",
                marker_color=colours[topic],
                name=name,
                showlegend=False,
                hovertext=[
                    hover(name, f"{w}: {s:.3f}") for w, s in zip(words, scores, strict=True)
                ],
                hoverinfo="text",
            ),
            row=i // cols + 1,
            col=i % cols + 1,
        )
    fig.update_xaxes(showticklabels=False, showgrid=False)
    fig.update_yaxes(tickfont={"size": 14})
    for annotation in fig.layout.annotations:  # the subplot titles
        annotation.font = {"size": 15, "color": TEXT_COLOUR}
    return layout(
        fig,
        f"Top words of the {which(len(shown), len(ranked))}",
        "bar length: how typical a word is of its topic (c-TF-IDF); "
        "under each name, the topic's number of passages",
        size,
        t=190,
        l=130,
    )
