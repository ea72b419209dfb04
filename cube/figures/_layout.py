"""What every standard figure shares: its size, fonts and colours, title and subtitle, labels.

A figure made here is a 1600×900 slide (:data:`SIZE`) with a title that says what it shows and
a subtitle that says how to read it; topic names on the maps are placed by
:func:`cube.figures._labels.place_labels` so that they overlap nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from cube.figures._labels import place_labels, text_box
from cube.figures._names import topic_name, topic_words, wrap_name
from cube.figures._palette import OTHER_COLOUR

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go
    from bertopic import BERTopic

SIZE = (1600, 900)  # the figures' size in pixels: a slide
FONT = 15
TEXT_COLOUR = "#222222"
MUTED = "#666666"


def which(shown: int, total: int, noun: str = "topics", *, article: bool = False) -> str:
    """'10 largest of 25 topics' ('the 10 largest …' with ``article``), or 'all 7 topics'."""
    if shown >= total:
        return f"all {total} {noun}" if total != 1 else f"the one {noun.rstrip('s')}"
    return f"{'the ' if article else ''}{shown} largest of {total} {noun}"


def layout(
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


def nothing(title: str, size: tuple[int, int] | None) -> go.Figure:
    import plotly.graph_objects as go

    fig = go.Figure()
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    return layout(fig, title, "every passage is in no topic: try a smaller min_topic_size", size)


def rgba(colour: str, alpha: float) -> str:
    colour = colour.lstrip("#")
    r, g, b = (int(colour[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def words(topic_model: BERTopic, topic: int, n: int = 8) -> str:
    return ", ".join(topic_words(topic_model, topic)[:n])


def human_words(joined: Any, n: int = 6) -> str:
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


def padded(values: np.ndarray, share: float) -> tuple[float, float]:
    lo, hi = float(np.min(values)), float(np.max(values))
    pad = (hi - lo) * share or 1.0
    return lo - pad, hi + pad


def label_annotations(
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
