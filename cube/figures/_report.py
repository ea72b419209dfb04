"""``report.html``: one self-contained page for a run — summary, topic table, every figure.

It opens from a single file with no network: plotly.js is inlined once, each figure is a div
that uses it. Every piece of document text is HTML-escaped (documents are untrusted), and
plotly's own JSON escapes ``<`` and ``/``, so no passage can close a tag or a script.
"""

from __future__ import annotations

import html
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cube._cache import atomic_write
from cube.figures._names import NAME_CHARS, OUTLIER_NAME, distinct_words, shorten

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

PASSAGES = 3  # representative passages per topic
PASSAGE_CHARS = 280  # shown at once; the rest opens on a click
TOPIC_COLUMNS = ("id", "size", "name", "top_words", "representative_documents")
FIGURE_TITLES = {
    "barchart": "Top words",
    "topics_map": "Topics map",
    "documents_map": "Documents map",
    "hierarchy": "Hierarchy",
    "heatmap": "Similarity",
    "topics_over_time": "Topics over time",
    "topics_per_class": "Topics per class",
}
_DEFAULT_NAME = re.compile(r"^-?\d+_")

_CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
       color: #222; margin: 0; background: #fafafa; }
main { max-width: 1640px; margin: 0 auto; padding: 24px 20px 60px; }
h1 { font-size: 28px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 36px 0 10px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.lead { color: #555; margin: 0 0 16px; }
.alt { color: #333; max-width: 70em; margin: 4px 0 20px; padding: 0 12px; }
.quality { background: #eef5ff; border-left: 4px solid #1f77b4; padding: 8px 12px; margin: 12px 0; }
nav a { margin-right: 14px; }
table { border-collapse: collapse; background: #fff; }
th, td { border: 1px solid #e2e2e2; padding: 6px 9px; text-align: left; vertical-align: top; }
th { background: #f1f1f1; }
table.facts td:first-child { color: #555; white-space: nowrap; }
table.topics td.num { text-align: right; white-space: nowrap; }
table.topics td.name { font-weight: 600; min-width: 12em; }
table.topics td.words { max-width: 22em; }
table.topics ol { margin: 0; padding-left: 1.2em; }
table.topics li { margin-bottom: 6px; }
details summary { cursor: pointer; }
.figure { background: #fff; border: 1px solid #e2e2e2; overflow-x: auto; margin-bottom: 8px; }
footer { color: #777; font-size: 13px; margin-top: 40px; }
"""


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _display_name(topic: int, name: Any) -> str:
    """The topic table's name made for people: "0_a_b_c" becomes "a · b · c"."""
    if topic == -1:
        return OUTLIER_NAME
    text = "" if name is None else str(name)
    if _DEFAULT_NAME.match(text):
        text = " · ".join(distinct_words(_DEFAULT_NAME.sub("", text).split("_"), 3))
    return shorten(text or f"topic {topic}", NAME_CHARS)


def _passages(value: Any) -> list[str]:
    if value is None or (isinstance(value, float) and value != value):  # NaN
        return []
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except json.JSONDecodeError:
            return [value]
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _passage_html(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= PASSAGE_CHARS:
        return f"<li>{_e(text)}</li>"
    return (
        f"<li><details><summary>{_e(shorten(text, PASSAGE_CHARS))}</summary>"
        f"{_e(text)}</details></li>"
    )


def _facts(summary: Mapping[str, Any]) -> str:
    rows: list[tuple[str, str]] = []
    if "source" in summary:
        rows.append(("corpus", _e(summary["source"])))
    documents = summary.get("documents")
    if documents is not None:
        rows.append(
            ("documents", _e(f"{documents:,}" if isinstance(documents, int) else documents))
        )
    if "topics" in summary:
        rows.append(("topics", _e(summary["topics"])))
    if "outliers" in summary:
        outliers = summary["outliers"]
        share = (
            f" ({outliers / documents:.0%} of the documents)"
            if isinstance(outliers, int) and isinstance(documents, int) and documents
            else ""
        )
        rows.append(("not in any topic", _e(f"{outliers}{share}")))
    fitted = summary.get("fit_sample")
    if isinstance(fitted, Mapping):  # topics, quality and figures from a sample
        rows.append(
            (
                "fitted on",
                _e(
                    f"a seeded sample of {fitted['fitted_on']:,} documents: the topics, the "
                    "quality and the figures come from it; the other "
                    f"{fitted['assigned_by_similarity']:,} joined the most similar topic "
                    f"(cosine >= {fitted['threshold']:.2f}); the topics' words and sizes "
                    "are counted over every document"
                ),
            )
        )
    copies = summary.get("near_duplicates")
    if isinstance(copies, Mapping):
        from cube.reductions import near_duplicates_note

        rows.append(("near-duplicates", _e(near_duplicates_note(copies))))
    parameters = summary.get("parameters")
    if isinstance(parameters, Mapping):
        text = ", ".join(f"{k} = {v}" for k, v in parameters.items() if v is not None)
        rows.append(("parameters", _e(text)))
    seconds = summary.get("seconds")
    if isinstance(seconds, Mapping):
        parts = [f"{k} {float(v):.1f}" for k, v in seconds.items() if k != "total"]
        total = seconds.get("total")
        text = (f"{float(total):.1f} s in all: " if total is not None else "") + ", ".join(parts)
        rows.append(("seconds", _e(text)))
    for key in ("cube_version",):
        if key in summary:
            rows.append(("cube", _e(summary[key])))
    return (
        '<table class="facts">'
        + "".join(f"<tr><td>{k}</td><td>{v}</td></tr>" for k, v in rows)
        + "</table>"
    )


def _quality(summary: Mapping[str, Any]) -> str:
    quality = summary.get("quality")
    if quality is None:
        return ""
    if isinstance(quality, Mapping):
        headline = quality.get("headline")
        if headline is None and {"npmi", "c_npmi", "diversity@10", "outlier_share"} <= set(quality):
            from cube.topics import quality_headline

            headline = quality_headline(quality)
        if headline is None:
            headline = "; ".join(
                f"{k}: {v:.3g}" if isinstance(v, float) else f"{k}: {v}"
                for k, v in quality.items()
                if not isinstance(v, (Mapping, list, tuple))
            )
    else:
        headline = quality
    return f'<p class="quality"><b>Quality:</b> {_e(headline)}</p>'


def _topic_table(topics: pd.DataFrame) -> str:
    missing = [c for c in ("id", "size") if c not in topics.columns]
    if missing:
        raise ValueError(f"the topics table needs the columns {TOPIC_COLUMNS}; missing {missing}")
    rows = []
    ordered = sorted(topics.to_dict("records"), key=lambda r: (int(r["id"]) == -1, -int(r["size"])))
    for row in ordered:
        topic = int(row["id"])
        passages = _passages(row.get("representative_documents"))[:PASSAGES]
        rows.append(
            "<tr>"
            f'<td class="num">{topic}</td>'
            f'<td class="name">{_e(_display_name(topic, row.get("name")))}</td>'
            f'<td class="num">{int(row["size"]):,}</td>'
            f'<td class="words">{_e(row.get("top_words") or "")}</td>'
            f"<td><ol>{''.join(_passage_html(p) for p in passages)}</ol></td>"
            "</tr>"
        )
    return (
        '<table class="topics"><thead><tr><th>id</th><th>name</th><th>passages</th>'
        "<th>top words</th><th>representative passages</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
    )


def _anchor(name: str) -> str:
    return "fig-" + re.sub(r"[^a-z0-9_-]+", "-", name.lower())


def write_report(
    path: str | os.PathLike,
    *,
    title: str,
    summary: Mapping[str, Any],
    topics: pd.DataFrame,
    figures: Mapping[str, Any],
    descriptions: Mapping[str, str] | None = None,
) -> Path:
    """Write one self-contained HTML page: the run's summary, its topics and every figure.

    The page opens offline from this one file (plotly.js inline, once). Document text is
    HTML-escaped everywhere.

    Args:
        path: the file to write (e.g. ``out/report.html``), atomically.
        title: the page's heading.
        summary: the run's summary (``summary.json``): ``source``, ``documents``, ``topics``,
            ``outliers``, ``parameters``, ``seconds``, ``cube_version`` and, if present,
            ``quality`` (a string, or a mapping with a ``headline``) — all optional.
        topics: one row per topic with the columns ``id``, ``size``, ``name``, ``top_words``
            and ``representative_documents`` (a JSON list of strings, or a list).
        figures: name → plotly figure, shown in this order.
        descriptions: name → a paragraph that says what the figure shows (alt text, see
            :func:`cube.figures.describe`), printed under it and tied to it for screen readers.

    Example:
        >>> write_report("out/report.html", title="Topics in 4,000 passages",
        ...              summary=summary, topics=table, figures=figs)
    """
    import plotly.graph_objects as go
    import plotly.io as pio
    from plotly.offline import get_plotlyjs

    path = Path(path)
    sections = []
    links = []
    for name, fig in figures.items():
        heading = FIGURE_TITLES.get(str(name), str(name).replace("_", " ").capitalize())
        # As wide as the page, whatever slide size the figure was made for.
        page_fig = go.Figure(fig).update_layout(width=None, autosize=True)
        div = pio.to_html(
            page_fig,
            include_plotlyjs=False,
            full_html=False,
            default_width="100%",
            config={"displaylogo": False, "responsive": True},
        )
        anchor = _anchor(str(name))
        links.append(f'<a href="#{anchor}">{_e(heading)}</a>')
        text = (descriptions or {}).get(str(name))
        about = f' role="img" aria-describedby="{anchor}-text"' if text else ""
        caption = f'<p class="alt" id="{anchor}-text">{_e(text)}</p>' if text else ""
        sections.append(
            f'<section id="{anchor}"><h2>{_e(heading)}</h2>'
            f'<div class="figure"{about}>{div}</div>{caption}</section>'
        )
    n_topics = summary.get("topics")
    lead = []
    if summary.get("documents") is not None:
        lead.append(
            f"{summary['documents']:,} documents"
            if isinstance(summary["documents"], int)
            else f"{summary['documents']} documents"
        )
    if n_topics is not None:
        lead.append(f"{n_topics} topics")
    page = f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_e(title)}</title>
<style>{_CSS}</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head>
<body>
<main>
<h1>{_e(title)}</h1>
<p class="lead">{_e(", ".join(lead))}</p>
{_quality(summary)}
<nav><a href="#summary">Summary</a>{"".join(links)}<a href="#topics">Topics</a></nav>
<section id="summary"><h2>Summary</h2>{_facts(summary)}</section>
{"".join(sections)}
<section id="topics"><h2>Topics</h2>{_topic_table(topics)}</section>
<footer>Made with cube. This page needs no network: open it from disk, mail it as one file.</footer>
</main>
</body>
</html>
"""
    return atomic_write(path, page)
