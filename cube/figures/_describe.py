"""Alt text: each standard figure said in one paragraph, from the data it draws.

A reader who cannot see a figure (a screen reader, a printed handout, a slow connection) gets
what the figure shows: which topics, how large, what peaks where. The numbers come from the
figures' own traces and the model, so the text and the picture never disagree.
"""

from __future__ import annotations

import base64
import functools
import html
import re
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from cube.figures._layout import which
from cube.figures._names import OUTLIER_NAME, topic_name
from cube.figures._palette import topics_by_size

if TYPE_CHECKING:  # pragma: no cover
    from bertopic import BERTopic


def _listing(items: list[str], limit: int = 3) -> str:
    shown = items[:limit]
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " and " + shown[-1]


def _largest(topic_model: BERTopic, n: int = 3) -> list[str]:
    counts = Counter(int(t) for t in topic_model.topics_)
    total = sum(counts.values())
    return [
        f"“{topic_name(topic_model, t)}” ({counts[t]:,} passages, {counts[t] / total:.0%})"
        for t in topics_by_size(topic_model)[:n]
    ]


def _barchart(topic_model: BERTopic, fig: Any) -> str:
    bars = [t for t in fig.data if t.type == "bar"]
    parts = [f"“{t.name}”: {', '.join(list(t.y)[::-1][:5])}" for t in bars[:3]]
    return (
        f"Bar charts of the top words of the {len(bars)} largest topics, in the order shown. "
        f"{'; '.join(parts)}."
    )


def _topics_map(topic_model: BERTopic, fig: Any) -> str:
    n = len(topics_by_size(topic_model))
    return (
        f"The {n} topics as circles, each sized by its passages and placed near the topics most "
        f"like it (distances between circles far apart mean nothing). The largest are "
        f"{_listing(_largest(topic_model))}."
    )


def _documents_map(topic_model: BERTopic, fig: Any) -> str:
    topics = np.asarray(topic_model.topics_)
    outliers = int((topics == -1).sum())
    drawn = sum(len(trace.x) for trace in fig.data)
    count = (
        f"{len(topics):,}"
        if drawn >= len(topics)
        else f"{drawn:,} (a seeded sample) of {len(topics):,}"
    )
    return (
        f"{count} passages as dots placed by meaning and coloured by topic, each topic "
        f"labelled where its passages sit; the largest are {_listing(_largest(topic_model))}. "
        f"{outliers:,} passages ({outliers / len(topics):.0%}) are in no topic "
        f"(“{OUTLIER_NAME}”). Read neighbours, not distances."
    )


def _heatmap(topic_model: BERTopic, fig: Any) -> str:
    trace = fig.data[0]
    z = np.array([[np.nan if v is None else v for v in row] for row in trace.z], dtype=float)
    names = list(trace.x)
    if len(names) < 2 or np.all(np.isnan(z)):
        return f"The similarity of {len(names)} topic(s) to each other."
    i, j = np.unravel_index(np.nanargmax(z), z.shape)
    k, m = np.unravel_index(np.nanargmin(z), z.shape)
    return (
        f"A grid of the cosine similarity between the embeddings of {len(names)} topics, darker "
        f"for more alike. Most alike: “{names[i]}” and “{names[j]}” ({z[i, j]:.2f}); least "
        f"alike: “{names[k]}” and “{names[m]}” ({z[k, m]:.2f})."
    )


def _hierarchy(topic_model: BERTopic, fig: Any) -> str:
    ranked = topics_by_size(topic_model)
    leaves = [int(t) for t in fig.data[-1].customdata]  # the tree's topics (the largest 100)
    shown = [t for t in ranked if t in set(leaves)]
    pair = _most_alike_pair(topic_model, shown)
    alike = (
        f" The first two topics joined, the most alike in their words, are {pair}." if pair else ""
    )
    scope = which(len(shown), len(ranked), article=True)
    return (
        f"A tree of {scope}: topics on the left, joined step by step into broader themes; "
        f"a join further right joins less alike branches.{alike}"
    )


def _most_alike_pair(topic_model: BERTopic, topics: list[int]) -> str:
    """The two of ``topics`` the tree joins first: the pair whose c-TF-IDF rows are most alike
    (the tree's measure, :func:`cube.topics.topic_tree`; Ward linkage joins it first)."""
    weights = getattr(topic_model, "c_tf_idf_", None)
    if weights is None or len(topics) < 2:
        return ""
    from sklearn.metrics.pairwise import cosine_similarity

    offset = int(getattr(topic_model, "_outliers", 0))
    similarity = cosine_similarity(weights[[t + offset for t in topics]])
    np.fill_diagonal(similarity, -np.inf)
    i, j = np.unravel_index(np.argmax(similarity), similarity.shape)
    return f"“{topic_name(topic_model, topics[i])}” and “{topic_name(topic_model, topics[j])}”"


def _topics_over_time(topic_model: BERTopic, fig: Any) -> str:
    lines = [t for t in fig.data if t.type == "scatter" and t.name]
    bars = [t for t in fig.data if t.type == "bar"]
    parts = []
    for trace in lines[:4]:
        y = np.asarray(trace.y, dtype=float)
        peak = int(np.argmax(y))
        parts.append(f"“{trace.name}” peaks in {list(trace.x)[peak]} ({y[peak]:.0%})")
    periods = list(bars[0].x) if bars else list(lines[0].x) if lines else []
    span = f" from {periods[0]} to {periods[-1]}" if periods else ""
    thin = ""
    if bars:
        counts = np.asarray(bars[0].y, dtype=float)
        low = int(np.argmin(counts))
        thin = (
            f" The last panel counts the passages per period: {periods[low]} has the fewest "
            f"({counts[low]:.0f}), so its shares rest on little."
        )
    return (
        f"The share of each period's passages in the {len(lines)} largest topics{span}, one "
        f"panel per topic. {'; '.join(parts)}.{thin}"
    )


def _topics_per_class(topic_model: BERTopic, fig: Any) -> str:
    bars = [t for t in fig.data if t.type == "bar"]
    if not bars:
        return "The share of each group's passages in the largest topics."
    topics = list(bars[0].y)
    parts = []
    for row, name in enumerate(topics[:4]):
        best = max(bars, key=lambda b: b.x[row])
        parts.append(f"“{name}” is largest in {best.name} ({best.x[row]:.0%})")
    return (
        f"The share of each group's passages in {len(topics)} topics, one panel per group "
        f"({_listing([b.name for b in bars], 4)}{' …' if len(bars) > 4 else ''}). "
        f"{'; '.join(parts)}."
    )


_WRITERS = {
    "barchart": _barchart,
    "topics_map": _topics_map,
    "documents_map": _documents_map,
    "hierarchy": _hierarchy,
    "heatmap": _heatmap,
    "topics_over_time": _topics_over_time,
    "topics_per_class": _topics_per_class,
}


def describe(topic_model: BERTopic, figures: Mapping[str, Any]) -> dict[str, str]:
    """A one-paragraph text summary (alt text) of each standard figure, from its data.

    Example:
        >>> figures = cube.figures.standard_figures(topic_model, docs, vectors)
        >>> print(cube.figures.describe(topic_model, figures)["barchart"])
        Bar charts of the top words of the 8 largest topics, in the order shown. ...
    """
    return {
        name: _WRITERS[name](topic_model, fig) for name, fig in figures.items() if name in _WRITERS
    }


# A standard figure carries its description in ``layout.meta`` (plotly keeps it through
# ``go.Figure(fig)``, ``update_layout`` and the JSON a notebook saves), so whatever shows the
# figure later (cube.notebook.setup()'s renderer, a handout) can put it beneath.
META_KEY = "cube_description"
_Make = TypeVar("_Make", bound=Callable[..., Any])


def described(name: str) -> Callable[[_Make], _Make]:
    """Decorator for a standard figure's function (first argument the model): the figure it
    returns carries its :func:`describe` text (see :func:`figure_description`)."""

    def decorate(make: _Make) -> _Make:
        @functools.wraps(make)
        def made(topic_model: BERTopic, *args: Any, **kwargs: Any) -> Any:
            fig = make(topic_model, *args, **kwargs)
            try:
                text = _WRITERS[name](topic_model, fig)
            except Exception:  # a figure with nothing drawn: its own words describe it
                return fig
            meta = fig.layout.meta
            if meta is None or isinstance(meta, dict):  # another meta is left alone
                fig.update_layout(meta={**(meta or {}), META_KEY: text})
            return fig

        return made  # type: ignore[return-value]

    return decorate


_KINDS = {
    "bar": "bar chart",
    "heatmap": "heatmap",
    "histogram": "histogram",
    "box": "box plot",
    "violin": "violin plot",
    "pie": "pie chart",
    "scatter3d": "3-D scatter plot",
}


def _plain(text: Any) -> str:
    """Text as a reader sees it: plotly's <br> and <b> tags out, entities decoded."""
    text = re.sub(r"<br\s*/?>", " ", str(text or ""), flags=re.I)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", text)).split())


def _title(layout: Mapping[str, Any]) -> str:
    title = layout.get("title") or {}
    if not isinstance(title, Mapping):
        return _plain(title)
    main, sub = _plain(title.get("text")), _plain((title.get("subtitle") or {}).get("text"))
    return f"{main} ({sub})" if main and sub else main or sub


def _count(values: Any) -> int:
    if isinstance(values, Mapping):  # plotly's base64 arrays: {"dtype", "bdata", "shape"}
        if "shape" in values:
            return int(str(values["shape"]).split(",")[0])
        try:
            size = np.dtype(values["dtype"]).itemsize
            return len(base64.b64decode(values["bdata"])) // size
        except (KeyError, TypeError, ValueError):
            return 0
    try:
        return len(values)
    except TypeError:
        return 0


def _kind(trace: Mapping[str, Any]) -> str:
    kind = trace.get("type") or "scatter"
    if kind in ("scatter", "scattergl"):
        return "line chart" if "lines" in (trace.get("mode") or "markers") else "scatter plot"
    return _KINDS.get(kind, f"{kind} chart")


def _axis_title(layout: Mapping[str, Any], axis: str) -> str:
    title = (layout.get(axis) or {}).get("title") or {}
    return _plain(title.get("text") if isinstance(title, Mapping) else title)


def _values(values: Any) -> list[Any] | None:
    """A trace's x or y as a list (plotly's base64 arrays decoded), None when absent."""
    if isinstance(values, Mapping) and "bdata" in values:
        try:
            array = np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"])
        except (KeyError, TypeError, ValueError):
            return None
        return array.tolist()
    if isinstance(values, np.ndarray):
        return values.tolist()
    return list(values) if isinstance(values, (list, tuple)) else None


def _number(value: Any) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _line_values(trace: Mapping[str, Any], name: str) -> str:
    """A short line's values, where it is: "topics: 53, 28, 12 at 10, 20, 40"."""
    x, y = _values(trace.get("x")), _values(trace.get("y"))
    if not x or not y or len(y) > 12 or len(x) != len(y):
        return ""
    said = f"{', '.join(_number(v) for v in y)} at {', '.join(_number(v) for v in x)}"
    return f"{name}: {said}" if name else said


def _bar_labels(trace: Mapping[str, Any]) -> list[str]:
    """A bar trace's text categories, top bar first (plotly draws a horizontal trace's first
    category at the bottom); none when the categories are numbers."""
    across = trace.get("orientation") == "h"
    labels = trace.get("y" if across else "x")
    if isinstance(labels, np.ndarray):
        labels = labels.tolist()
    if not isinstance(labels, (list, tuple)) or not all(isinstance(v, str) for v in labels):
        return []
    return [_plain(v) for v in (labels[::-1] if across else labels)]


def _from_figure(fig: Mapping[str, Any]) -> str:
    """What any plotly figure says about itself: title, kind, panels, points, groups, bars
    and axes."""
    layout, traces = fig.get("layout") or {}, list(fig.get("data") or [])
    kinds = list(dict.fromkeys(_kind(t) for t in traces)) or ["figure"]
    what = _listing(kinds, 3)
    parts = [f"{'An' if what[0] in 'aeiou' else 'A'} {what}"]
    panels = [k for k in layout if re.fullmatch(r"xaxis\d*", k)]
    names: list[str] = []
    if len(panels) > 1:  # subplot titles are the first annotations; later ones are notes
        notes = [_plain(a.get("text")) for a in layout.get("annotations") or []]
        names = [n for n in notes[: len(panels)] if n]
        listed = f" ({_listing(names, 4)}{' …' if len(names) > 4 else ''})" if names else ""
        parts.append(f"in {len(panels)} panels{listed}")
    points = sum(_count(t.get("x", t.get("y"))) for t in traces if _kind(t) == "scatter plot")
    if points:
        parts.append(f"of {points:,} points")
    groups = list(dict.fromkeys(_plain(t.get("name")) for t in traces if t.get("name")))
    if len(groups) > 1:
        more = " …" if len(groups) > 4 else ""
        parts.append(f"in {len(groups)} groups ({_listing(groups, 4)}{more})")
    bar = (layout.get("coloraxis") or {}).get("colorbar") or {}
    colour = _plain(
        bar.get("title", {}).get("text")
        if isinstance(bar.get("title"), Mapping)
        else bar.get("title")
    )
    if colour:  # a continuous colour scale (plotly express's color= of numbers)
        parts.append(f"coloured by {colour}")
    said = [" ".join(parts)]
    bars = [t for t in traces if t.get("type") == "bar"]
    shown = []
    for number, trace in enumerate(bars[:4]):
        labels = _bar_labels(trace)[:5]
        name = names[number] if len(bars) == len(names) else _plain(trace.get("name"))
        if labels:
            shown.append(f"{name + ': ' if name else ''}{', '.join(labels)}")
    if shown:
        said.append(
            f"bars{' from the top' if bars[0].get('orientation') == 'h' else ''}: "
            + "; ".join(shown)
            + (" …" if len(bars) > 4 else "")
        )
    lines = [t for t in traces if _kind(t) == "line chart"]
    shown = []
    for number, trace in enumerate(lines[:4]):
        name = names[number] if len(lines) == len(names) else _plain(trace.get("name"))
        shown.append(_line_values(trace, name))
    if any(shown):
        said.append("; ".join(v for v in shown if v) + (" …" if len(lines) > 4 else ""))
    axes = [(a, _axis_title(layout, f"{a}axis")) for a in ("x", "y")]
    said += [f"{a} axis: {t}" for a, t in axes if t]
    title = _title(layout)
    text = (f"“{title}”: " if title else "") + "; ".join(said)
    return text if text.endswith("…") else text + "."


def figure_description(fig: Any) -> str:
    """The words that go under a plotly figure: the :func:`describe` text a standard figure
    carries, else what the figure says about itself (its title, kind, panels, points, groups
    and axis titles).

    Example:
        >>> import plotly.express as px
        >>> figure_description(px.bar(x=["a", "b"], y=[1, 2], title="Two bars"))
        '“Two bars”: A bar chart; x axis: x; y axis: y.'
    """
    fig = fig.to_dict() if hasattr(fig, "to_dict") else fig
    meta = (fig.get("layout") or {}).get("meta")
    if isinstance(meta, Mapping) and meta.get(META_KEY):
        return str(meta[META_KEY])
    return _from_figure(fig)


def figure_alt_text(fig: Any) -> str:
    """Alt text for a plotly figure: its title, then :func:`figure_description` (once)."""
    fig = fig.to_dict() if hasattr(fig, "to_dict") else fig
    title, text = _title(fig.get("layout") or {}), figure_description(fig)
    return text if not title or title in text else f"{title}. {text}"
