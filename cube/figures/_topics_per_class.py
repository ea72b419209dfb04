"""Topics per class: each large topic's share of each class's passages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from cube.figures._describe import described
from cube.figures._layout import MUTED, SIZE, TEXT_COLOUR, human_words, layout, which
from cube.figures._names import hover, shorten, topic_name, wrap
from cube.figures._palette import MAX_COLOURED, topic_colors, topics_by_size

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go
    from bertopic import BERTopic

MAX_CLASSES = 6  # topics per class: at most this many classes, the largest
MIN_CLASS_SIZE = 10  # ... and none smaller than this (unless all are)


@described("topics_per_class")  # the figure carries its alt text
def topics_per_class(
    topic_model: BERTopic,
    per_class: Any,
    classes: Sequence[str],
    *,
    class_name: str = "class",
    top_n_topics: int = MAX_COLOURED,
    size=SIZE,
) -> go.Figure:
    """Each large topic's share of each class's passages: one column of bars per class.

    ``per_class`` is BERTopic's ``topics_per_class`` frame; ``classes`` the class of every
    passage. At most :data:`MAX_CLASSES` classes, the largest.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    ranked = topics_by_size(topic_model)
    shown = ranked[: max(1, min(top_n_topics, MAX_COLOURED))]
    colours = topic_colors(topic_model)
    totals = Counter(classes)
    groups = sorted(totals, key=lambda c: (-totals[c], c))[:MAX_CLASSES]
    if totals[groups[0]] >= MIN_CLASS_SIZE:  # shares of a handful of passages are noise
        groups = [c for c in groups if totals[c] >= MIN_CLASS_SIZE]
    counts = {(int(r.Topic), str(r.Class)): int(r.Frequency) for r in per_class.itertuples()}
    words = {(int(r.Topic), str(r.Class)): human_words(r.Words, 6) for r in per_class.itertuples()}
    names = [topic_name(topic_model, t) for t in shown]
    labels = [shorten(n, 40) for n in names]
    share = {(t, c): counts.get((t, c), 0) / totals[c] for t in shown for c in groups}
    top = max(share.values(), default=0.0) or 0.01
    fig = make_subplots(
        rows=1,
        cols=len(groups),
        shared_yaxes=True,
        horizontal_spacing=0.015,
        subplot_titles=[
            "<br>".join(wrap(c, 22, 2))
            + f"<br><span style='font-size:12px;color:{MUTED}'>{totals[c]} passages</span>"
            for c in groups
        ],
    )
    for col, group in enumerate(groups, start=1):
        values = [share[(t, group)] for t in shown]
        fig.add_trace(
            go.Bar(
                x=values,
                y=labels,
                orientation="h",
                marker_color=[colours[t] for t in shown],
                text=[f"{v:.0%}" for v in values],
                textposition="outside",
                cliponaxis=False,
                name=group,
                showlegend=False,
                hovertext=[
                    hover(
                        name,
                        f"{group}: {v:.0%} of {totals[group]} passages ({counts.get((t, group), 0)})",
                        ("words here: " + words[(t, group)]) if (t, group) in words else None,
                    )
                    for name, t, v in zip(names, shown, values, strict=True)
                ],
                hoverinfo="text",
            ),
            row=1,
            col=col,
        )
    fig.update_xaxes(range=[0, top * 1.3], tickformat=".0%", tickfont={"size": 11})
    fig.update_yaxes(autorange="reversed", tickfont={"size": 13}, ticksuffix="  ")
    for annotation in fig.layout.annotations:
        annotation.font = {"size": 14, "color": TEXT_COLOUR}
    shown_classes = which(len(groups), len(totals), "groups") + f" by {class_name}"
    return layout(
        fig,
        f"Share of each {class_name}'s passages in the {which(len(shown), len(ranked))}",
        f"{shown_classes}; share: the topic's passages ÷ all passages of that {class_name} "
        "(those in no topic included)",
        size,
        t=175,
        l=330,
        r=30,
    )
