"""``TopicExplorer``: pick a topic, see its words, documents and size over time; rename, merge.

Every view is computed from arrays the fitted model already holds (its topics, their words,
the documents); no interaction embeds a text or runs UMAP.

Names given here are the model's own custom labels (``topic_model.set_topic_labels``), so
:func:`cube.figures.topic_name`, and every figure or table built afterwards, use them.
Documents are untrusted text: whatever shows them escapes them first.
"""

from __future__ import annotations

import html
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from bertopic import BERTopic

_SNIPPET_CHARS = 400
OUTLIERS = -1
FIGURE_HEIGHT = 360  # px, both figures, from the first draw on (never the 500 px of a default)
WORDS_WIDTH = 420
TIME_WIDTH = 480
_SETUP_RENDERER = "cube"  # the plotly renderer cube.notebook.setup() makes the default


def _snippet(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _SNIPPET_CHARS else text[: _SNIPPET_CHARS - 1] + "…"


def _doc_list(title: str, docs: Sequence[str]) -> str:
    """An HTML list of documents; their text is escaped, so it is shown, never run."""
    items = "".join(f"<li>{html.escape(_snippet(d))}</li>" for d in docs)
    return (
        f"<b>{html.escape(title)}</b><ol>{items}</ol>"
        if docs
        else f"<b>{html.escape(title)}</b>: none"
    )


def _figure_html(fig) -> str:
    """A figure as an HTML div drawn by the page's plotly.js (``cube.notebook.setup()``).

    Not plotly's JupyterLab renderer: that one draws the figure, then writes a PNG of it back
    into the output, which re-renders it as a picture (another height) until the first
    hover and marks the notebook as modified. This div has one height from the start and
    changes nothing in the notebook.
    """
    import plotly.io as pio

    return pio.to_html(
        fig,
        include_plotlyjs=False,
        include_mathjax=False,
        full_html=False,
        default_width=f"{fig.layout.width}px",
        default_height=f"{fig.layout.height}px",
        validate=False,
        config={"displaylogo": False, "responsive": False},
    )


def _page_has_plotlyjs() -> bool:
    """True once ``cube.notebook.setup()`` has put plotly.js into the page."""
    import plotly.io as pio

    return _SETUP_RENDERER in str(pio.renderers.default).split("+")


def _show_figure(output, fig) -> None:
    from IPython.display import HTML, display

    output.clear_output(wait=True)
    with output:
        if _page_has_plotlyjs():
            display(HTML(_figure_html(fig)))
        else:  # no setup(): plotly's own renderer, which brings its plotly.js
            fig.show(renderer="plotly_mimetype")


def _bars_html(rows: Sequence[tuple[str, float]], colour: str, fmt: str = "{:.3f}") -> str:
    """A bar chart as plain HTML (no script): one row per (label, value), labels escaped."""
    top = max((v for _, v in rows), default=0) or 1
    out = []
    for label, value in rows:
        width = max(1.0, 100 * value / top)
        out.append(
            "<tr>"
            f'<td style="text-align:right;padding-right:6px;white-space:nowrap">'
            f"{html.escape(str(label))}</td>"
            f'<td style="width:260px"><div style="background:{colour};height:12px;'
            f'width:{width:.1f}%"></div></td>'
            f'<td style="padding-left:6px;color:#666">{fmt.format(value)}</td>'
            "</tr>"
        )
    return f'<table style="border-collapse:collapse;font-size:12px">{"".join(out)}</table>'


class TopicExplorer:
    """An ipywidgets explorer for a fitted BERTopic model.

    Pick a topic (dropdown, or type in the search box to filter by a word of its name, its
    top words or its passages), and see its top words as a bar chart, its representative
    documents, a few random ones, and its size over time when ``timestamps`` are given.
    Rename a topic, or merge it into another: names survive merges, and reach the model's
    custom labels, so figures built afterwards show them.

    It opens on the largest topic; topic -1 ("not in any topic") is listed last. Shown in a
    notebook, it also carries a static HTML view of what it showed, which a rendered page
    (``cube render``), where no widget can run, shows instead.

    Example:
        >>> explorer = TopicExplorer(topic_model, docs, timestamps=years)
        >>> explorer  # in a notebook cell
        >>> explorer.rename(3, "The economy")
        >>> explorer.names
        {3: 'The economy'}
    """

    def __init__(
        self,
        topic_model: BERTopic,
        docs: Sequence[str],
        *,
        timestamps: Sequence[Any] | None = None,
        n_random: int = 3,
        seed: int = 0,
    ) -> None:
        import ipywidgets as w

        self.topic_model = topic_model
        self.docs = list(docs)
        if len(self.docs) != len(topic_model.topics_):
            raise ValueError(
                f"the model was fitted on {len(topic_model.topics_)} documents, not {len(self.docs)}"
            )
        self._lower_docs = [str(d).lower() for d in self.docs]
        self.timestamps = list(timestamps) if timestamps is not None else None
        self.n_random = n_random
        self._rng = np.random.default_rng(seed)
        self._names: dict[int, str] = self._names_in_model()
        self._random_shown: list[int] = []

        self.search = w.Text(placeholder="a word in a topic or its passages…", description="Search")
        self.topic = w.Dropdown(description="Topic", layout=w.Layout(width="60%"))
        self.rename_box = w.Text(placeholder="a new name", description="Rename")
        self.rename_button = w.Button(description="Rename", icon="pencil")
        self.merge_target = w.Dropdown(description="Merge into", layout=w.Layout(width="60%"))
        self.merge_button = w.Button(description="Merge", icon="compress", button_style="warning")
        self.shuffle_button = w.Button(description="Other random documents", icon="random")
        self.status = w.HTML()
        # Fixed heights: the page does not jump while a figure is (re)drawn.
        box = {"height": f"{FIGURE_HEIGHT + 10}px", "overflow": "hidden"}
        self.words_output = w.Output(layout=w.Layout(width=f"{WORDS_WIDTH + 10}px", **box))
        self.time_output = w.Output(layout=w.Layout(width=f"{TIME_WIDTH + 10}px", **box))
        self.representative = w.HTML()
        self.random_docs = w.HTML()
        self.words_figure = None
        self.time_figure = None

        self.search.observe(
            lambda _: None if self._refreshing else self._refresh_options(), names="value"
        )
        self._refreshing = False
        self.topic.observe(lambda _: None if self._refreshing else self._show(), names="value")
        self.rename_button.on_click(lambda _: self.rename(self.topic.value, self.rename_box.value))
        self.merge_button.on_click(lambda _: self.merge(self.topic.value, self.merge_target.value))
        self.shuffle_button.on_click(lambda _: self._show_random())

        self.widget = w.VBox(
            [
                w.HBox([self.search, self.topic]),
                self.status,
                w.HBox([self.words_output, self.time_output]),
                self.representative,
                self.random_docs,
                self.shuffle_button,
                w.HBox([self.rename_box, self.rename_button]),
                w.HBox([self.merge_target, self.merge_button]),
            ]
        )
        self._refresh_options()

    # -- names -----------------------------------------------------------------------------
    def _names_in_model(self) -> dict[int, str]:
        """Names the model already carries (``set_topic_labels`` before the explorer)."""
        from cube.figures import topic_name

        named = {}
        if getattr(self.topic_model, "custom_labels_", None):
            for topic in self.topic_ids():
                if topic == OUTLIERS:
                    continue
                default = topic_name(_WithoutLabels(self.topic_model), topic)
                name = topic_name(self.topic_model, topic)
                if name != default:
                    named[topic] = name
        return named

    @property
    def names(self) -> dict[int, str]:
        """The names given to topics (topic id → name); the others go by their words."""
        return dict(self._names)

    def _apply_names(self) -> None:
        """Make :attr:`names` the model's custom labels (ids are current topic ids)."""
        self.topic_model.custom_labels_ = None
        if self._names:
            self.topic_model.set_topic_labels(dict(self._names))

    def name_of(self, topic: int) -> str:
        """The name a person sees: the given name, else the topic's words; -1 is outliers."""
        from cube.figures import topic_name

        return topic_name(self.topic_model, topic)

    # -- display ---------------------------------------------------------------------------
    def _repr_mimebundle_(self, include=None, exclude=None) -> dict[str, Any]:
        """The live widget, and a static HTML view for pages where no widget can run."""
        bundle = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        bundle["text/html"] = self.snapshot_html()
        return bundle

    def snapshot(self):
        """What the explorer shows now, as static HTML (for a handout, a report, an e-mail)."""
        from IPython.display import HTML

        return HTML(self.snapshot_html())

    def snapshot_html(self) -> str:
        """The static view: the current topic's words, its size over time and its passages."""
        from cube.figures import topic_colors

        topic = self.topic.value
        head = (
            '<div class="cube-explorer-snapshot" style="font-size:13px">'
            "<p><i>Topic explorer, as it was when the notebook ran (a static view: run the "
            "notebook to explore).</i></p>"
        )
        if topic is None:
            return head + f"<p>{self.status.value}</p></div>"
        label = dict((t, lbl) for lbl, t in self.topic.options).get(topic, str(topic))
        parts = [head, f"<p><b>{html.escape(label)}</b></p>"]
        colour = topic_colors(self.topic_model).get(topic, "#888888")
        words = [(w, float(s)) for w, s in (self.topic_model.get_topic(topic) or []) if str(w)]
        if words:
            parts.append("<p><b>Top words</b></p>" + _bars_html(words, colour))
        if self.timestamps is not None:
            steps, counts, totals = self._period_counts(topic)
            rows = [(s, counts.get(s, 0) / totals[s]) for s in steps]
            parts.append(
                "<p><b>Share of each period's passages</b></p>" + _bars_html(rows, colour, "{:.0%}")
            )
        parts.append(self.representative.value)
        parts.append(self.random_docs.value)
        parts.append("</div>")
        return "".join(parts)

    # -- topics ----------------------------------------------------------------------------
    def topic_ids(self) -> list[int]:
        """Every topic, largest first; -1 (not in any topic) last."""
        sizes = Counter(int(t) for t in self.topic_model.topics_)
        real = sorted((t for t in sizes if t != OUTLIERS), key=lambda t: (-sizes[t], t))
        return real + ([OUTLIERS] if OUTLIERS in sizes else [])

    def _labels(self) -> dict[int, str]:
        sizes = Counter(int(t) for t in self.topic_model.topics_)
        return {t: f"{t}: {self.name_of(t)} ({sizes[t]} passages)" for t in self.topic_ids()}

    def _matching_passages(self, query: str) -> Counter:
        return Counter(
            int(t)
            for t, doc in zip(self.topic_model.topics_, self._lower_docs, strict=True)
            if query in doc
        )

    def topic_options(self) -> list[tuple[str, int]]:
        """(label, topic id) pairs matching the search box (all topics when it is empty).

        A topic matches when the search text is in its name, its top words or its passages.
        """
        labels = self._labels()
        query = self.search.value.strip().lower()
        if not query:
            return [(label, t) for t, label in labels.items()]
        in_passages = self._matching_passages(query)
        options = []
        for topic, label in labels.items():
            words = " ".join(str(w) for w, _ in (self.topic_model.get_topic(topic) or []))
            if in_passages[topic] or query in label.lower() or query in words.lower():
                options.append((label, topic))
        return options

    def _refresh_options(self, select: int | None = None) -> None:
        options = self.topic_options()
        current = self.topic.value if select is None else select
        ids = [t for _, t in options]
        # Setting the options selects their first: show the topic once, when all is set.
        self._refreshing = True
        try:
            self.topic.options = options
            if ids:
                self.topic.value = current if current in ids else ids[0]
        finally:
            self._refreshing = False
        self.merge_target.options = [
            (label, t) for t, label in self._labels().items() if t != OUTLIERS
        ]
        self._show()

    def documents_of(self, topic: int) -> list[int]:
        return [i for i, t in enumerate(self.topic_model.topics_) if t == topic]

    # -- views -----------------------------------------------------------------------------
    def _clear(self) -> None:
        self.words_output.clear_output()
        self.time_output.clear_output()
        self.words_figure = None
        self.time_figure = None
        self.representative.value = ""
        self.random_docs.value = ""

    def _show(self) -> None:
        topic = self.topic.value
        if topic is None:
            self._clear()
            query = self.search.value.strip()
            self.status.value = (
                f"No passage matches “{html.escape(query)}”, and no topic’s name or words: "
                "clear the search to see all topics."
                if query
                else "No topics."
            )
            return
        import plotly.graph_objects as go

        from cube.figures import topic_colors

        colour = topic_colors(self.topic_model).get(topic, "#888888")
        title = f"Topic {topic}: top words<br><sup>{html.escape(self.name_of(topic))}</sup>"
        words = self.topic_model.get_topic(topic) or []
        self.words_figure = go.Figure(
            go.Bar(
                x=[float(s) for _, s in words][::-1],
                y=[word for word, _ in words][::-1],
                orientation="h",
                marker_color=colour,
            ),
            layout={"title": title, "width": WORDS_WIDTH, "height": FIGURE_HEIGHT,
                    "margin": {"l": 120, "r": 10, "t": 60, "b": 30}},
        )  # fmt: skip
        _show_figure(self.words_output, self.words_figure)
        self._show_time(topic, colour)
        reps = self.topic_model.get_representative_docs(topic) or []
        self.representative.value = _doc_list("Representative documents", reps)
        self._show_random()
        query = self.search.value.strip()
        if query:
            found = self._matching_passages(query.lower())
            total = sum(found.values())
            self.status.value = html.escape(
                f"“{query}”: {len(self.topic.options)} topics; {total} passages contain it, "
                f"{found[topic]} of them in this topic."
            )
        else:
            self.status.value = ""

    def _period_counts(self, topic: int) -> tuple[list, Counter, Counter]:
        """Each period, the topic's passages in it, and all its passages. The charts show the
        share: periods differ ten-fold in size, so counts mostly show the corpus."""
        counts = Counter(self.timestamps[i] for i in self.documents_of(topic))
        totals = Counter(self.timestamps)
        return sorted(totals), counts, totals

    def _show_time(self, topic: int, colour: str) -> None:
        if self.timestamps is None:
            self.time_output.clear_output()
            self.time_figure = None
            return
        import plotly.graph_objects as go

        steps, counts, totals = self._period_counts(topic)
        self.time_figure = go.Figure(
            go.Scatter(
                x=steps,
                y=[counts.get(s, 0) / totals[s] for s in steps],
                customdata=[[counts.get(s, 0), totals[s]] for s in steps],
                hovertemplate="%{x}: %{y:.0%} (%{customdata[0]} of %{customdata[1]} passages)"
                "<extra></extra>",
                mode="lines+markers",
                line_color=colour,
            ),
            layout={"title": f"Topic {topic}: share of each period's passages",
                    "yaxis": {"tickformat": ".0%", "rangemode": "tozero"},
                    "width": TIME_WIDTH, "height": FIGURE_HEIGHT,
                    "margin": {"l": 50, "r": 10, "t": 60, "b": 40}},
        )  # fmt: skip
        _show_figure(self.time_output, self.time_figure)

    def _show_random(self) -> None:
        members = self.documents_of(self.topic.value)
        chosen = self._rng.choice(members, size=min(self.n_random, len(members)), replace=False)
        self._random_shown = [int(i) for i in chosen]
        self.random_docs.value = _doc_list("Random documents", [self.docs[i] for i in chosen])

    # -- actions ---------------------------------------------------------------------------
    def rename(self, topic: int, name: str) -> None:
        """Give ``topic`` a name: the model's custom label, used by every figure built after.

        An empty name gives the topic back its words as its name.
        """
        topic = int(topic)
        name = " ".join(str(name).split())
        if topic == OUTLIERS:
            self.status.value = "Topic -1 holds the passages not in any topic; it keeps that name."
            return
        if topic not in self.topic_ids():
            self.status.value = html.escape(f"There is no topic {topic}.")
            return
        if not name:
            if topic in self._names:
                del self._names[topic]
                self._apply_names()
                self._refresh_options()
                self.status.value = html.escape(f"Topic {topic} goes by its words again.")
            else:
                self.status.value = "Type a name first."
            return
        self._names[topic] = name
        self._apply_names()
        self.rename_box.value = ""
        self._refresh_options()  # the topic on screen stays (a rename from code moves nothing)
        self.status.value = f"Topic {topic} is now called “{html.escape(name)}”."

    def merge(self, topic: int, into: int) -> None:
        """Merge ``topic`` into ``into``; topic words are re-counted with c-TF-IDF (no embedding).

        Topic ids change on a merge; names follow their topics, and the merged topic keeps the
        name of ``into`` (or goes by its new words, when ``into`` had no name).
        """
        from cube.figures import words_from_ctfidf

        if topic is None or into is None or topic == into or OUTLIERS in (topic, into):
            self.status.value = "Pick two different topics (not -1, the passages in no topic)."
            return
        before = [int(t) for t in self.topic_model.topics_]
        with words_from_ctfidf(self.topic_model):
            self.topic_model.merge_topics(self.docs, [into, topic])
        # Topic ids were renumbered; documents were not: follow each name through a member.
        after = [int(t) for t in self.topic_model.topics_]
        new_id = dict(zip(before, after, strict=True))
        self._names = {new_id[t]: n for t, n in self._names.items() if t != topic and t in new_id}
        self._apply_names()
        merged = new_id[into]
        current = self.topic.value
        self._refreshing = True  # one refresh below, not one for the search and one here
        try:
            self.search.value = ""
        finally:
            self._refreshing = False
        # The topic on screen stays, under its new id; the merged one, when it was one of two.
        self._refresh_options(select=new_id.get(current, merged))
        self.status.value = html.escape(
            f"Merged topic {topic} into {into}: together they are topic {merged}, "
            f"“{self.name_of(merged)}”."
        )


class _WithoutLabels:
    """A view of a model with no custom labels: what a topic is called by its words."""

    def __init__(self, topic_model: BERTopic) -> None:
        self._model = topic_model
        self.custom_labels_ = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)
