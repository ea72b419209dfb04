"""``TopicExplorer``: pick a topic, see its words, documents and size over time; rename, merge.

Every view is computed from arrays the fitted model already holds (its topics, their words,
the documents); no interaction embeds a text or runs UMAP.
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


def _snippet(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _SNIPPET_CHARS else text[: _SNIPPET_CHARS - 1] + "…"


def _show_figure(fig) -> None:
    """Interactive only: a PNG copy (cube.notebook.setup) on every click would be wasted work."""
    fig.show(renderer="plotly_mimetype")


def _doc_list(title: str, docs: Sequence[str]) -> str:
    """An HTML list of documents; their text is escaped, so it is shown, never run."""
    items = "".join(f"<li>{html.escape(_snippet(d))}</li>" for d in docs)
    return (
        f"<b>{html.escape(title)}</b><ol>{items}</ol>"
        if docs
        else f"<b>{html.escape(title)}</b>: none"
    )


class TopicExplorer:
    """An ipywidgets explorer for a fitted BERTopic model.

    Pick a topic (dropdown, or type in the search box to filter by words), and see its top
    words as a bar chart, its representative documents, a few random ones, and its size over
    time when ``timestamps`` are given. Rename a topic, or merge it into another.

    Example:
        >>> explorer = TopicExplorer(topic_model, docs, timestamps=years)
        >>> explorer  # in a notebook cell
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
        self.timestamps = list(timestamps) if timestamps is not None else None
        self.n_random = n_random
        self._rng = np.random.default_rng(seed)

        self.search = w.Text(placeholder="filter topics by a word…", description="Search")
        self.topic = w.Dropdown(description="Topic", layout=w.Layout(width="60%"))
        self.rename_box = w.Text(placeholder="a new name", description="Rename")
        self.rename_button = w.Button(description="Rename", icon="pencil")
        self.merge_target = w.Dropdown(description="Merge into", layout=w.Layout(width="60%"))
        self.merge_button = w.Button(description="Merge", icon="compress", button_style="warning")
        self.shuffle_button = w.Button(description="Other random documents", icon="random")
        self.status = w.HTML()
        self.words_output = w.Output()
        self.time_output = w.Output()
        self.representative = w.HTML()
        self.random_docs = w.HTML()
        self.words_figure = None
        self.time_figure = None

        self.search.observe(lambda _: self._refresh_options(), names="value")
        self.topic.observe(lambda _: self._show(), names="value")
        self.rename_button.on_click(lambda _: self.rename(self.topic.value, self.rename_box.value))
        self.merge_button.on_click(lambda _: self.merge(self.topic.value, self.merge_target.value))
        self.shuffle_button.on_click(lambda _: self._show_random())

        self.widget = w.VBox(
            [
                w.HBox([self.search, self.topic]),
                w.HBox([self.words_output, self.time_output]),
                self.representative,
                self.random_docs,
                self.shuffle_button,
                w.HBox([self.rename_box, self.rename_button]),
                w.HBox([self.merge_target, self.merge_button]),
                self.status,
            ]
        )
        self._refresh_options()

    # -- display ---------------------------------------------------------------------------
    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def _labels(self) -> dict[int, str]:
        info = self.topic_model.get_topic_info()
        names = info["CustomName"] if "CustomName" in info else info["Name"]
        return {
            int(t): f"{int(t)}: {name} ({int(n)} docs)"
            for t, name, n in zip(info["Topic"], names, info["Count"], strict=True)
        }

    def topic_options(self) -> list[tuple[str, int]]:
        """(label, topic id) pairs matching the search box (all topics when it is empty)."""
        labels = self._labels()
        query = self.search.value.strip().lower()
        options = []
        for topic, label in labels.items():
            words = " ".join(w for w, _ in (self.topic_model.get_topic(topic) or []))
            if not query or query in label.lower() or query in words.lower():
                options.append((label, topic))
        return options

    def _refresh_options(self) -> None:
        options = self.topic_options()
        current = self.topic.value
        self.topic.options = options
        ids = [t for _, t in options]
        if ids:
            self.topic.value = current if current in ids else ids[0]
        self.merge_target.options = [(label, t) for t, label in self._labels().items() if t != -1]
        self._show()

    def documents_of(self, topic: int) -> list[int]:
        return [i for i, t in enumerate(self.topic_model.topics_) if t == topic]

    def _show(self) -> None:
        topic = self.topic.value
        if topic is None:
            self.status.value = "No topic matches the search."
            return
        import plotly.graph_objects as go

        words = self.topic_model.get_topic(topic) or []
        self.words_figure = go.Figure(
            go.Bar(
                x=[float(s) for _, s in words][::-1],
                y=[word for word, _ in words][::-1],
                orientation="h",
            ),
            layout={"title": f"Topic {topic}: top words", "width": 420, "height": 360,
                    "margin": {"l": 120, "r": 10, "t": 40, "b": 30}},
        )  # fmt: skip
        self.words_output.clear_output(wait=True)
        with self.words_output:
            _show_figure(self.words_figure)
        self._show_time(topic)
        reps = self.topic_model.get_representative_docs(topic) or []
        self.representative.value = _doc_list("Representative documents", reps)
        self._show_random()
        self.status.value = ""

    def _show_time(self, topic: int) -> None:
        self.time_output.clear_output()
        if self.timestamps is None:
            self.time_figure = None
            return
        import plotly.graph_objects as go

        counts = Counter(self.timestamps[i] for i in self.documents_of(topic))
        steps = sorted(set(self.timestamps))
        self.time_figure = go.Figure(
            go.Scatter(x=steps, y=[counts.get(s, 0) for s in steps], mode="lines+markers"),
            layout={"title": f"Topic {topic}: documents over time", "width": 480, "height": 360},
        )
        with self.time_output:
            _show_figure(self.time_figure)

    def _show_random(self) -> None:
        members = self.documents_of(self.topic.value)
        chosen = self._rng.choice(members, size=min(self.n_random, len(members)), replace=False)
        self.random_docs.value = _doc_list("Random documents", [self.docs[i] for i in chosen])

    # -- actions ---------------------------------------------------------------------------
    def rename(self, topic: int, name: str) -> None:
        """Give ``topic`` a custom label (kept in the model as ``custom_labels_``)."""
        name = name.strip()
        if not name:
            self.status.value = "Type a name first."
            return
        self.topic_model.set_topic_labels({topic: name})
        self.rename_box.value = ""
        self._refresh_options()
        self.status.value = f"Topic {topic} is now called “{html.escape(name)}”."

    def merge(self, topic: int, into: int) -> None:
        """Merge two topics; topic words are then re-counted with c-TF-IDF (no embedding)."""
        from cube.figures import words_from_ctfidf

        if topic == into or -1 in (topic, into):
            self.status.value = "Pick two different topics (not -1, the outliers)."
            return
        member = self.documents_of(into)[0]  # topic ids change on merge; documents do not
        with words_from_ctfidf(self.topic_model):
            self.topic_model.merge_topics(self.docs, [into, topic])
        # Custom labels are per topic id, and the ids were just renumbered.
        self.topic_model.custom_labels_ = None
        merged = self.topic_model.topics_[member]
        self.search.value = ""
        self._refresh_options()
        self.topic.value = merged
        self.status.value = f"Merged topic {topic} into {into}: together they are topic {merged}."
