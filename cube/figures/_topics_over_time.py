"""Topics over time: each large topic's share of each period's passages, and the periods."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from cube.figures._describe import described
from cube.figures._layout import SIZE, TEXT_COLOUR, human_words, layout, rgba, which
from cube.figures._names import hover, topic_name, wrap_name
from cube.figures._palette import MAX_COLOURED, topic_colors, topics_by_size

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go
    from bertopic import BERTopic

MAX_BINS = 40  # topics over time: at most this many time steps


def time_periods(timestamps: Sequence[Any], max_bins: int = MAX_BINS) -> tuple[list[Any], str]:
    """Each timestamp's period, at most ``max_bins`` of them, and the word for a period.

    Years stay years when there are at most ``max_bins`` of them, else they become decades.
    Dates are binned by the finest of day, month, quarter, year and decade that gives at most
    ``max_bins`` periods (a period is named by its first day; decades by their first year).

    Example:
        >>> time_periods([1999, 2001])
        ([1999, 2001], 'year')
        >>> time_periods(["2020-03-07", "2020-04-01"])[1]
        'day'
    """
    import pandas as pd

    from cube.datasets import parse_times

    values, bad = parse_times(timestamps)
    if bad:
        raise ValueError(
            f"timestamps in rows {bad[:8]} are neither years nor dates: give years (1999) or "
            "dates (1999-12-31)"
        )
    if all(isinstance(v, (int, np.integer)) for v in values):
        if len(set(values)) <= max_bins:
            return [int(v) for v in values], "year"
        return [int(v) // 10 * 10 for v in values], "decade"
    stamps = pd.Series(pd.to_datetime(list(values)))
    for freq, word in (("D", "day"), ("M", "month"), ("Q", "quarter"), ("Y", "year")):
        binned = stamps.dt.to_period(freq).dt.start_time
        if binned.nunique() <= max_bins:
            return binned.tolist(), word
    return (stamps.dt.year // 10 * 10).astype(int).tolist(), "decade"


def time_bins(timestamps: Sequence[Any], max_bins: int = MAX_BINS) -> list[Any]:
    """Timestamps grouped into at most ``max_bins`` periods (see :func:`time_periods`).

    Example:
        >>> time_bins(list(range(1900, 2000)))[:3]
        [1900, 1900, 1900]
    """
    return time_periods(timestamps, max_bins)[0]


@described("topics_over_time")  # the figure carries its alt text
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
    words = {(int(r.Topic), r.Timestamp): human_words(r.Words, 6) for r in over_time.itertuples()}
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
                fillcolor=rgba(colours[topic], 0.25),
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
    return layout(
        fig,
        f"Share of each {period}'s passages in the {which(len(shown), len(ranked))}",
        f"share: the topic's passages ÷ all passages of that {period} (those in no topic "
        f"included); the last panel shows how many passages each {period} has",
        size,
        t=150,
        l=60,
    )
