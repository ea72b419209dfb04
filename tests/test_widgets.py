"""TopicExplorer, driven headlessly: set widget values, check what is shown."""

from __future__ import annotations

import copy
import html
from collections import Counter

import pytest

from cube.widgets import TopicExplorer
from cube.widgets._explorer import _doc_list

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fitted(sotu_600):
    """The session's small model (a copy: these tests rename and merge), texts and decades."""
    model = copy.deepcopy(sotu_600["model"])
    return model, sotu_600["docs"], sotu_600["frame"]["decade"].tolist()


@pytest.fixture
def explorer(fitted, monkeypatch):
    from cube.embeddings import _embed
    from cube.reductions import _umap
    from cube.topics import _components

    model, texts, decades = fitted

    def no_encoding(*args, **kwargs):
        raise AssertionError("an interaction tried to embed texts")

    def no_umap(*args, **kwargs):
        raise AssertionError("an interaction ran UMAP")

    monkeypatch.setattr(_embed, "encode_missing", no_encoding)
    monkeypatch.setattr(_umap, "make_umap", no_umap)
    monkeypatch.setattr(_components, "make_umap", no_umap)
    yield TopicExplorer(model, texts, timestamps=decades)


@pytest.fixture
def own_model(fitted):
    """A copy of the fitted model, for tests that rename or merge."""
    model, _, _ = fitted
    return copy.deepcopy(model)


def sizes_of(model) -> Counter:
    return Counter(int(t) for t in model.topics_)


def shown(text: str) -> str:
    """How a passage's start appears in the explorer's HTML: whitespace folded, escaped."""
    return html.escape(" ".join(text.split())[:60])


def test_picking_a_topic_shows_its_words_documents_and_time(explorer, fitted):
    model, texts, decades = fitted
    explorer.topic.value = 1
    words = [w for w, _ in model.get_topic(1)]
    assert list(explorer.words_figure.data[0].y) == words[::-1]
    first_rep = model.get_representative_docs(1)[0]
    assert shown(first_rep) in explorer.representative.value
    members = {texts[i] for i, t in enumerate(model.topics_) if t == 1}
    random_docs = explorer.random_docs.value
    assert random_docs.count("<li>") == 3
    assert any(shown(m) in random_docs for m in members)
    # Shares of each decade's passages, with the counts behind them on hover.
    per_decade = Counter(decades)
    assert list(explorer.time_figure.data[0].x) == sorted(per_decade)
    counts = [c[0] for c in explorer.time_figure.data[0].customdata]
    assert sum(counts) == len(members)
    assert [c[1] for c in explorer.time_figure.data[0].customdata] == [
        per_decade[d] for d in sorted(per_decade)
    ]
    for share, count, decade in zip(
        explorer.time_figure.data[0].y, counts, sorted(per_decade), strict=True
    ):
        assert share == pytest.approx(count / per_decade[decade])
    # One height from the start: the figures are drawn at the size their boxes are given.
    assert explorer.words_figure.layout.height == explorer.time_figure.layout.height == 360
    assert explorer.words_output.layout.height == explorer.time_output.layout.height


def test_opens_on_the_largest_topic_and_lists_outliers_last(explorer, fitted):
    model, _, _ = fitted
    sizes = sizes_of(model)
    assert sizes[-1] > 0  # the sample has outliers, or this test shows nothing
    largest = max((t for t in sizes if t != -1), key=lambda t: sizes[t])
    assert explorer.topic.value == largest
    labels, ids = zip(*explorer.topic.options, strict=True)
    assert sorted(ids) == sorted(sizes)
    assert ids[-1] == -1 and labels[-1] == f"-1: not in any topic ({sizes[-1]} passages)"
    assert [sizes[t] for t in ids[:-1]] == sorted((sizes[t] for t in ids[:-1]), reverse=True)
    assert -1 not in [t for _, t in explorer.merge_target.options]
    explorer.rename(-1, "Misc")  # -1 keeps its name
    assert explorer.names == {} and "not in any topic" in explorer.topic.options[-1][0]


def test_search_filters_topics_and_says_when_nothing_matches(explorer, fitted):
    model, _, _ = fitted
    word = model.get_topic(2)[0][0]
    explorer.search.value = word
    assert 2 in [t for _, t in explorer.topic.options]
    assert html.escape(word) in explorer.status.value
    assert explorer.words_figure is not None

    explorer.search.value = "zzzz-no-such-word <b>"
    assert explorer.topic.options == ()
    assert "No passage matches “zzzz-no-such-word &lt;b&gt;”" in explorer.status.value
    # ... and the previous topic's charts and passages are gone.
    assert explorer.words_figure is None and explorer.time_figure is None
    assert explorer.words_output.outputs == () and explorer.time_output.outputs == ()
    assert explorer.representative.value == "" and explorer.random_docs.value == ""

    explorer.search.value = ""
    assert len(explorer.topic.options) == len(model.get_topic_info())
    assert explorer.words_figure is not None and explorer.status.value == ""


def test_search_finds_topics_by_their_passages(explorer, fitted):
    model, texts, _ = fitted
    # A word of one passage that is in no topic's top words or name.
    all_words = {w for t in sizes_of(model) for w, _ in (model.get_topic(t) or [])}
    doc = next(i for i, t in enumerate(model.topics_) if t != -1)
    word = next(w for w in texts[doc].lower().split() if w.isalpha() and w not in all_words)
    explorer.search.value = word
    assert int(model.topics_[doc]) in [t for _, t in explorer.topic.options]


def test_renames_reach_the_model_and_figures(fitted, own_model):
    from cube.figures import topic_name

    _, texts, decades = fitted
    explorer = TopicExplorer(own_model, texts, timestamps=decades)
    explorer.topic.value = 0
    explorer.rename_box.value = "Money <b>matters</b>"
    explorer.rename_button.click()
    assert explorer.names == {0: "Money <b>matters</b>"}
    assert any("0: Money <b>matters</b>" in label for label, _ in explorer.topic.options)
    assert "&lt;b&gt;" in explorer.status.value
    # BERTopic's custom labels, so every figure and table built afterwards names it so.
    topics = sorted(sizes_of(own_model))
    assert own_model.custom_labels_[topics.index(0)] == "Money <b>matters</b>"
    assert topic_name(own_model, 0) == "Money <b>matters</b>"
    info = own_model.get_topic_info().set_index("Topic")
    assert info.loc[0, "CustomName"] == "Money <b>matters</b>"
    assert topic_name(own_model, 1) == topic_name(copy.deepcopy(fitted[0]), 1)  # unnamed
    # A new explorer on the same model knows the name.
    assert TopicExplorer(own_model, texts).names == {0: "Money <b>matters</b>"}
    explorer.rename(0, "  ")  # an empty name: back to its words
    assert explorer.names == {} and topic_name(own_model, 0) == topic_name(fitted[0], 0)


def test_rename_then_merge_keeps_the_names(fitted, own_model):
    from cube.figures import topic_name

    _, texts, decades = fitted
    explorer = TopicExplorer(own_model, texts, timestamps=decades)
    before = sizes_of(own_model)
    topics = [t for t in explorer.topic_ids() if t != -1]
    into, merged_away, bystander = topics[1], topics[2], topics[-1]
    explorer.rename(into, "Into")
    explorer.rename(merged_away, "Merged away")
    explorer.rename(bystander, "Bystander")
    assert explorer.topic.value == topics[0]  # renaming from code moves no selection
    member_of = {t: int(list(own_model.topics_).index(t)) for t in (into, bystander)}

    explorer.topic.value = merged_away
    explorer.merge_target.value = into
    explorer.merge_button.click()

    after = sizes_of(own_model)
    assert len(after) == len(before) - 1
    merged = int(own_model.topics_[member_of[into]])
    assert explorer.topic.value == merged
    assert after[merged] == before[into] + before[merged_away]
    new_bystander = int(own_model.topics_[member_of[bystander]])
    assert explorer.names == {merged: "Into", new_bystander: "Bystander"}
    assert topic_name(own_model, merged) == "Into"
    assert topic_name(own_model, new_bystander) == "Bystander"
    assert "Merged away" not in " ".join(map(str, own_model.custom_labels_))
    assert f"Merged topic {merged_away} into {into}" in explorer.status.value
    # An unnamed `into`: the merged topic goes by its (new) words.
    others = [t for t in explorer.topic_ids() if t not in (-1, merged, new_bystander)]
    explorer.merge(others[0], others[1])
    assert set(explorer.names.values()) == {"Into", "Bystander"}
    assert explorer.topic.value == int(own_model.topics_[member_of[into]])  # still on screen


def test_the_explorer_carries_a_static_view_for_handouts(fitted):
    model, texts, decades = fitted
    evil = '<script>alert("x")</script> and <img src=x onerror=alert(1)>'
    docs = [evil if t == model.topics_[0] else d for d, t in zip(texts, model.topics_, strict=True)]
    explorer = TopicExplorer(model, docs, timestamps=decades)
    explorer.topic.value = int(model.topics_[0])
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # live in JupyterLab
    page = bundle["text/html"]  # static where no widget runs
    assert "cube-explorer-snapshot" in page and "Representative documents" in page
    assert "&lt;script&gt;" in page and "<script" not in page and "<img" not in page
    for word, _ in model.get_topic(explorer.topic.value)[:3]:
        assert html.escape(word) in page
    # The same measure as the live chart: each period's share, not its count.
    assert (
        "Share of each period&#x27;s passages" in page or "Share of each period's passages" in page
    )
    topic = explorer.topic.value
    decade = decades[next(i for i, t in enumerate(model.topics_) if t == topic)]
    share = sum(
        t == topic and d == decade for t, d in zip(model.topics_, decades, strict=True)
    ) / list(decades).count(decade)
    assert f"{share:.0%}</td>" in page
    assert explorer.snapshot().data == explorer.snapshot_html()


def test_a_handout_shows_the_static_view(fitted):
    """The explorer's output as a notebook saves it, through `cube render`'s page: the live
    widget is dropped, its static view stays."""
    import nbformat
    from IPython.core.formatters import DisplayFormatter

    from cube.notebook._render import to_html

    model, texts, decades = fitted
    explorer = TopicExplorer(model, texts, timestamps=decades)
    data, metadata = DisplayFormatter().format(explorer)
    cell = nbformat.v4.new_code_cell("explorer")
    cell.outputs = [nbformat.v4.new_output("display_data", data=data, metadata=metadata)]
    nb = nbformat.v4.new_notebook(cells=[cell])
    page = to_html(nb)
    assert page.count('class="cube-explorer-snapshot"') == 1
    assert "Representative documents" in page and "VBox(" not in page
    label = explorer.topic.options[0][0]
    assert html.escape(label) in page


def test_document_text_is_shown_not_run():
    shown = _doc_list("Docs", ['<script>alert("x")</script> and <img src=x onerror=alert(1)>'])
    assert "<script>" not in shown and "<img" not in shown
    assert "&lt;script&gt;" in shown
