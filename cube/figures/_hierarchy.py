"""The hierarchy: how the topics merge, as a dendrogram with topic names at its leaves."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cube.figures._describe import described
from cube.figures._layout import SIZE, human_words, layout, which, words
from cube.figures._names import hover, topic_name
from cube.figures._palette import (
    MAX_COLOURED,
    OTHER_COLOUR,
    topic_colors,
    topic_sizes,
    topics_by_size,
)

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go
    from bertopic import BERTopic


@described("hierarchy")  # the figure carries its alt text
def hierarchy(topic_model: BERTopic, tree: Any, *, size=SIZE) -> go.Figure:
    """How the topics merge, as a dendrogram with topic names at its leaves.

    ``tree`` is :func:`cube.topics.topic_tree`'s frame (or BERTopic's ``hierarchical_topics``):
    with more topics than its leaves, the title says how many of how many.
    """
    import plotly.graph_objects as go

    colours, sizes = topic_colors(topic_model), topic_sizes(topic_model)
    children: dict[int, tuple[int, int]] = {}
    height: dict[int, float] = {}
    merged_words: dict[int, str] = {}
    for _, row in tree.iterrows():
        parent = int(row["Parent_ID"])
        children[parent] = (int(row["Child_Left_ID"]), int(row["Child_Right_ID"]))
        height[parent] = float(row["Distance"])
        merged_words[parent] = human_words(row["Parent_Name"])
    child_ids = {c for pair in children.values() for c in pair}
    roots = [p for p in children if p not in child_ids]
    leaves: list[int] = []
    position: dict[int, float] = {}

    def walk(node: int) -> float:
        if node not in children:
            position[node] = float(len(leaves))
            leaves.append(node)
            return position[node]
        left, right = children[node]
        position[node] = (walk(left) + walk(right)) / 2
        return position[node]

    for root in sorted(roots, key=lambda r: -height[r]):
        walk(root)
    lowest, highest = min(height.values()), max(height.values())
    base = max(0.0, lowest - 0.15 * ((highest - lowest) or 1.0))  # where the leaves sit
    xs: list[float | None] = []
    ys: list[float | None] = []
    for parent, (left, right) in children.items():
        for child in (left, right):
            xs += [height.get(child, base), height[parent], None]
            ys += [position[child], position[child], None]
        xs += [height[parent], height[parent], None]
        ys += [position[left], position[right], None]
    fig = go.Figure(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            line={"color": "#8a8a8a", "width": 1.5},
            hoverinfo="skip",
            name="merges",
            showlegend=False,
        )
    )
    parents = list(children)
    fig.add_trace(
        go.Scatter(
            x=[height[p] for p in parents],
            y=[position[p] for p in parents],
            mode="markers",
            marker={"size": 7, "color": "#555555"},
            hovertext=[
                hover(
                    f"{len(_leaves_under(p, children))} topics together",
                    "words: " + merged_words[p],
                )
                for p in parents
            ],
            hoverinfo="text",
            name="merged topics",
            showlegend=False,
        )
    )
    names = [topic_name(topic_model, t) for t in leaves]
    fig.add_trace(
        go.Scatter(
            x=[base] * len(leaves),
            y=[position[t] for t in leaves],
            mode="markers",
            marker={"size": 11, "color": [colours.get(t, OTHER_COLOUR) for t in leaves]},
            hovertext=[
                hover(name, f"{sizes.get(t, 0)} passages", "words: " + words(topic_model, t))
                for name, t in zip(names, leaves, strict=True)
            ],
            hoverinfo="text",
            customdata=leaves,
            name="topics",
            showlegend=False,
        )
    )
    fig.update_yaxes(
        tickvals=[position[t] for t in leaves],
        ticktext=names,
        autorange="reversed",
        showgrid=False,
        zeroline=False,
        tickfont={"size": 13 if len(leaves) <= 30 else 11},
    )
    fig.update_xaxes(
        title="distance at which the topics merge (further right: less alike)", zeroline=False
    )
    if size is not None and len(leaves) > 40:
        size = (size[0], max(size[1], 18 * len(leaves) + 180))
    return layout(
        fig,
        f"How {which(len(leaves), len(topics_by_size(topic_model)), article=True)} group together",
        "topics joined further left are closer in meaning (c-TF-IDF, Ward linkage); "
        f"the {MAX_COLOURED} largest topics have coloured dots",
        size,
        l=360,
    )


def _leaves_under(node: int, children: dict[int, tuple[int, int]]) -> list[int]:
    if node not in children:
        return [node]
    return [leaf for child in children[node] for leaf in _leaves_under(child, children)]
