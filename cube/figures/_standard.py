"""The standard figures of a fitted model, with no hidden UMAP and no figure twice.

Each figure is cube's own plotly figure, drawn from the fitted model (BERTopic computes the
data: ``hierarchical_topics``, ``topics_over_time``, ``topics_per_class``, c-TF-IDF, topic
embeddings) so that, as a 1600×900 PNG, it answers its question without a mouse: every trace
visible, at most :data:`~cube.figures._palette.MAX_COLOURED` topics in colour (the title says
which), one colour per topic in every figure, topic names for people, labels that do not
overlap, short wrapped hover text, shares where groups differ in size, no sliders.
"""

from __future__ import annotations

import contextlib
import math
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from cube.figures._labels import place_labels, text_box
from cube.figures._names import (
    OUTLIER_NAME,
    hover,
    shorten,
    topic_name,
    topic_words,
    wrap,
    wrap_name,
)
from cube.figures._palette import (
    MAX_COLOURED,
    OTHER_COLOUR,
    OUTLIER_COLOUR,
    topic_colors,
    topic_sizes,
    topics_by_size,
)
from cube.reductions import reduce

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go
    from bertopic import BERTopic

MAX_BINS = 40  # topics over time: at most this many time steps
MAX_HEATMAP = 20  # the similarity heatmap shows at most this many topics
MAX_CLASSES = 6  # topics per class: at most this many classes, the largest
MIN_CLASS_SIZE = 10  # ... and none smaller than this (unless all are)
SIZE = (1600, 900)  # the figures' size in pixels: a slide
FONT = 15
TEXT_COLOUR = "#222222"
MUTED = "#666666"


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


# -- shared pieces --------------------------------------------------------------------------
def _which(shown: int, total: int, noun: str = "topics") -> str:
    """'10 largest of 25 topics', or 'all 7 topics'."""
    if shown >= total:
        return f"all {total} {noun}" if total != 1 else f"the one {noun.rstrip('s')}"
    return f"{shown} largest of {total} {noun}"


def _layout(
    fig: go.Figure, title: str, subtitle: str, size: tuple[int, int] | None, **margins: int
) -> go.Figure:
    margin = {"l": 80, "r": 40, "t": 120, "b": 60, **margins}
    fig.update_layout(
        template="plotly_white",
        font={"size": FONT, "color": TEXT_COLOUR},
        title={
            "text": title,
            "x": 0.01,
            "xanchor": "left",
            "y": 1.0,
            "yanchor": "top",
            "yref": "container",
            "pad": {"t": 24},
            "font": {"size": 24},
            "subtitle": {"text": subtitle, "font": {"size": 15, "color": MUTED}},
        },
        margin=margin,
        hoverlabel={"align": "left", "font": {"size": 13}},
    )
    if size is not None:
        fig.update_layout(width=size[0], height=size[1])
    return fig


def _nothing(title: str, size: tuple[int, int] | None) -> go.Figure:
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return _layout(fig, title, "every passage is in no topic: try a smaller min_topic_size", size)


def _rgba(colour: str, alpha: float) -> str:
    colour = colour.lstrip("#")
    r, g, b = (int(colour[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _words(topic_model: BERTopic, topic: int, n: int = 8) -> str:
    return ", ".join(topic_words(topic_model, topic)[:n])


def _human_words(joined: Any, n: int = 6) -> str:
    """BERTopic's "a_b_c" or "a, b, c" word lists as "a, b, c" (at most n words)."""
    text = str(joined)
    parts = text.split(", ") if ", " in text else text.split("_")
    return ", ".join(p for p in parts[:n] if p)


def _pixels(
    xy: np.ndarray, xrange: tuple[float, float], yrange: tuple[float, float], size, margin
) -> np.ndarray:
    """Data coordinates to pixels (x right, y down) for a figure of this size and margins."""
    width = size[0] - margin["l"] - margin["r"]
    height = size[1] - margin["t"] - margin["b"]
    px = margin["l"] + (xy[:, 0] - xrange[0]) / (xrange[1] - xrange[0]) * width
    py = margin["t"] + (yrange[1] - xy[:, 1]) / (yrange[1] - yrange[0]) * height
    return np.column_stack([px, py])


def _padded(values: np.ndarray, share: float) -> tuple[float, float]:
    lo, hi = float(np.min(values)), float(np.max(values))
    pad = (hi - lo) * share or 1.0
    return lo - pad, hi + pad


def _label_annotations(
    fig: go.Figure,
    topic_model: BERTopic,
    topics: list[int],
    anchors: np.ndarray,
    colours: dict[int, str],
    xrange: tuple[float, float],
    yrange: tuple[float, float],
    margin: dict[str, int],
    size: tuple[int, int],
    *,
    marker_radius: Sequence[float] | None = None,
    on_point: bool,
) -> int:
    """Topic-name labels at ``anchors`` (data coordinates) that overlap nothing.

    Returns how many labels found no free spot (and were left out).
    """
    pixels = _pixels(anchors, xrange, yrange, size, margin)
    lines, boxes, fonts = [], [], []
    for topic in topics:
        coloured = colours[topic] != OTHER_COLOUR
        font = 14 if coloured else 12
        text = wrap_name(topic_name(topic_model, topic), 26, 2)
        lines.append(text)
        fonts.append(font)
        boxes.append(text_box(text, font))
    area = (margin["l"], margin["t"], size[0] - margin["r"], size[1] - margin["b"])
    obstacles = []
    if marker_radius is not None:
        obstacles = [
            (x - r, y - r, x + r, y + r) for (x, y), r in zip(pixels, marker_radius, strict=True)
        ]
    placed = place_labels(
        [tuple(p) for p in pixels], boxes, area, obstacles=obstacles, on_point=on_point
    )
    for spot in placed:
        topic = topics[spot.index]
        moved = math.hypot(spot.dx, spot.dy) > 1
        fig.add_annotation(
            x=float(anchors[spot.index, 0]),
            y=float(anchors[spot.index, 1]),
            text="<br>".join(lines[spot.index]),
            showarrow=moved,
            ax=spot.dx,
            ay=spot.dy,
            arrowhead=0,
            arrowwidth=1,
            arrowcolor="#777777",
            standoff=float(marker_radius[spot.index]) if marker_radius is not None else 0,
            font={"size": fonts[spot.index], "color": TEXT_COLOUR},
            bgcolor="rgba(255,255,255,0.85)",
            bordercolor=colours[topic],
            borderwidth=2,
            borderpad=2,
            align="center",
        )
    return len(topics) - len(placed)


# -- the figures --------------------------------------------------------------------------
def barchart(topic_model: BERTopic, *, top_n_topics: int = MAX_COLOURED, size=SIZE) -> go.Figure:
    """The top words of the largest topics, one small bar chart each, in the topic's colour."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    ranked = topics_by_size(topic_model)
    if not ranked:
        return _nothing("No topics found", size)
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
    return _layout(
        fig,
        f"Top words of the {_which(len(shown), len(ranked))}",
        "bar length: how typical a word is of its topic (c-TF-IDF); "
        "under each name, the topic's number of passages",
        size,
        t=190,
        l=130,
    )


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
    xrange, yrange = _padded(xy[:, 0], 0.08), _padded(xy[:, 1], 0.08)
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
                    "words: " + _words(topic_model, t),
                )
                for t in ranked
            ],
            hoverinfo="text",
            customdata=ranked,
            name="topics",
            showlegend=False,
        )
    )
    left_out = _label_annotations(
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
    return _layout(
        fig, f"How close {_which(len(ranked), len(ranked))} are in meaning", note, size, **margin
    )


def documents_map(
    topic_model: BERTopic, docs: Sequence[str], coordinates: np.ndarray, *, size=SIZE
) -> go.Figure:
    """Every passage as a dot at its 2-D UMAP position, coloured by topic, topics labelled."""
    import plotly.graph_objects as go

    topics = np.asarray(topic_model.topics_)
    ranked = topics_by_size(topic_model)
    colours = topic_colors(topic_model)
    names = {t: topic_name(topic_model, t) for t in [-1, *ranked]}
    coordinates = np.asarray(coordinates, dtype=float)
    fig = go.Figure()

    def dots(mask: np.ndarray, name: str, colour: str, marker_size: int, opacity: float) -> None:
        index = np.flatnonzero(mask)
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
    xrange, yrange = _padded(coordinates[:, 0], 0.03), _padded(coordinates[:, 1], 0.03)
    anchors = np.array([np.median(coordinates[topics == t], axis=0) for t in ranked])
    left_out = _label_annotations(
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
    return _layout(
        fig,
        f"{len(topics)} passages by meaning, in {_which(len(ranked), len(ranked))}",
        note,
        size,
        **margin,
    )


def hierarchy(topic_model: BERTopic, tree: Any, *, size=SIZE) -> go.Figure:
    """How the topics merge, as a dendrogram with topic names at its leaves.

    ``tree`` is BERTopic's ``hierarchical_topics`` frame.
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
        merged_words[parent] = _human_words(row["Parent_Name"])
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
                hover(name, f"{sizes.get(t, 0)} passages", "words: " + _words(topic_model, t))
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
    return _layout(
        fig,
        f"How {_which(len(leaves), len(leaves))} group together",
        "topics joined further left are closer in meaning (c-TF-IDF, Ward linkage); "
        f"the {MAX_COLOURED} largest topics have coloured dots",
        size,
        l=360,
    )


def _leaves_under(node: int, children: dict[int, tuple[int, int]]) -> list[int]:
    if node not in children:
        return [node]
    return [leaf for child in children[node] for leaf in _leaves_under(child, children)]


def heatmap(topic_model: BERTopic, *, size=SIZE) -> go.Figure:
    """Cosine similarity between the largest topics, similar ones next to each other."""
    import plotly.graph_objects as go
    from sklearn.metrics.pairwise import cosine_similarity

    ranked = topics_by_size(topic_model)
    if not ranked:
        return _nothing("No topics found", size)
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
    return _layout(
        fig,
        f"How similar the {_which(len(shown), len(ranked))} are",
        "cosine similarity of the topics' embeddings, darker: more alike; "
        "similar topics sit next to each other",
        size,
        l=320,
        b=250,
        r=40,
    )


def topics_over_time(
    topic_model: BERTopic,
    over_time: Any,
    bins: Sequence[Any],
    *,
    period: str = "period",
    top_n_topics: int = MAX_COLOURED,
    size=SIZE,
) -> go.Figure:
    """Each large topic's share of each period's passages, one small panel per topic.

    ``over_time`` is BERTopic's ``topics_over_time`` frame (counts and words per period);
    ``bins`` the period of every passage. The last panel shows the passages per period.
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    ranked = topics_by_size(topic_model)
    shown = ranked[: max(1, min(top_n_topics, MAX_COLOURED))]
    colours = topic_colors(topic_model)
    totals = Counter(bins)
    periods = sorted(totals)
    counts = {(int(r.Topic), r.Timestamp): int(r.Frequency) for r in over_time.itertuples()}
    words = {(int(r.Topic), r.Timestamp): _human_words(r.Words, 6) for r in over_time.itertuples()}
    shares = {t: [counts.get((t, p), 0) / totals[p] for p in periods] for t in shown}
    top = max((max(v) for v in shares.values()), default=0.0) or 0.01
    panels = len(shown) + 1
    cols = 4 if panels > 6 else min(panels, 3)
    rows = math.ceil(panels / cols)
    titles = ["<br>".join(wrap_name(topic_name(topic_model, t), 40, 2)) for t in shown]
    titles.append(f"all passages per {period}")
    fig = make_subplots(
        rows=rows,
        cols=cols,
        subplot_titles=titles,
        horizontal_spacing=0.05,
        vertical_spacing=0.14 if rows > 2 else 0.18,
    )
    for i, topic in enumerate(shown):
        name = topic_name(topic_model, topic)
        fig.add_trace(
            go.Scatter(
                x=periods,
                y=shares[topic],
                mode="lines",
                line={"color": colours[topic], "width": 2},
                fill="tozeroy",
                fillcolor=_rgba(colours[topic], 0.25),
                name=name,
                showlegend=False,
                hovertext=[
                    hover(
                        name,
                        f"{p}: {s:.0%} of {totals[p]} passages ({counts.get((topic, p), 0)})",
                        ("words then: " + words[(topic, p)]) if (topic, p) in words else None,
                    )
                    for p, s in zip(periods, shares[topic], strict=True)
                ],
                hoverinfo="text",
            ),
            row=i // cols + 1,
            col=i % cols + 1,
        )
        fig.update_yaxes(
            range=[0, top * 1.1], tickformat=".0%", row=i // cols + 1, col=i % cols + 1
        )
    last = len(shown)
    fig.add_trace(
        go.Bar(
            x=periods,
            y=[totals[p] for p in periods],
            marker_color="#8a8a8a",
            name=f"passages per {period}",
            showlegend=False,
            hovertext=[hover(f"{p}", f"{totals[p]} passages") for p in periods],
            hoverinfo="text",
        ),
        row=last // cols + 1,
        col=last % cols + 1,
    )
    for annotation in fig.layout.annotations:
        annotation.font = {"size": 14, "color": TEXT_COLOUR}
    fig.update_xaxes(tickfont={"size": 11})
    fig.update_yaxes(tickfont={"size": 11})
    return _layout(
        fig,
        f"Share of each {period}'s passages in the {_which(len(shown), len(ranked))}",
        f"share: the topic's passages ÷ all passages of that {period} (those in no topic "
        f"included); the last panel shows how many passages each {period} has",
        size,
        t=150,
        l=60,
    )


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
    words = {(int(r.Topic), str(r.Class)): _human_words(r.Words, 6) for r in per_class.itertuples()}
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
    shown_classes = _which(len(groups), len(totals), "groups") + f" by {class_name}"
    return _layout(
        fig,
        f"Share of each {class_name}'s passages in the {_which(len(shown), len(ranked))}",
        f"{shown_classes}; share: the topic's passages ÷ all passages of that {class_name} "
        "(those in no topic included)",
        size,
        t=175,
        l=330,
        r=30,
    )


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
) -> dict[str, Any]:
    """barchart, topics map, documents map, hierarchy, heatmap (+ over time / per class).

    Returns a name → plotly figure mapping ready for :func:`cube.figures.export`. Every
    figure is ``size`` pixels (a 1600×900 slide; ``None``: as wide as its cell), shows at
    most ``top_n_topics`` (≤ 10) topics in colour, each in the same colour everywhere, and
    names topics with :func:`cube.figures.topic_name`. ``class_name`` names the classes in
    titles (e.g. "party").

    Example:
        >>> figs = cube.figures.standard_figures(topic_model, docs, vectors)
        >>> cube.figures.export(figs, "figures/", formats=("png", "html"))
    """
    docs = list(docs)
    n_topics = len(topics_by_size(topic_model))
    seed = int(getattr(topic_model.umap_model, "seed", 0) or 0)
    figures: dict[str, Any] = {
        "barchart": barchart(topic_model, top_n_topics=top_n_topics, size=size)
    }
    if n_topics >= 3:
        figures["topics_map"] = topics_map(topic_model, seed=seed, size=size)
    figures["documents_map"] = documents_map(
        topic_model, docs, document_coordinates(topic_model, embeddings), size=size
    )
    bins = time_bins(timestamps) if timestamps is not None else None
    labels = [str(c) for c in classes] if classes is not None else None
    with words_from_ctfidf(topic_model):
        tree = topic_model.hierarchical_topics(docs) if n_topics >= 2 else None
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
            period=_period_word(timestamps, bins),
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


def _period_word(timestamps: Sequence[Any], bins: Sequence[Any]) -> str:
    if all(isinstance(b, (int, np.integer)) for b in bins):
        from cube.datasets import parse_times

        values, _ = parse_times(timestamps)
        return "decade" if list(values) != list(bins) else "year"
    return "period"
