"""TopicExplorer, driven headlessly: set widget values, check what is shown."""

from __future__ import annotations

import html

import pytest

import cube
from cube.widgets import TopicExplorer
from cube.widgets._explorer import _doc_list

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    import os

    os.environ["CUBE_CACHE_DIR"] = str(tmp_path_factory.mktemp("widgets-cache"))
    passages = cube.datasets.load("sotu", sample=400, seed=5)
    texts = passages["text"].tolist()
    vectors = cube.embed(texts)
    model = cube.topics.fit(texts, vectors, seed=0)
    return model, texts, passages["decade"].tolist()


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

    monkeypatch.setattr(_embed, "_encode_missing", no_encoding)
    monkeypatch.setattr(_umap, "make_umap", no_umap)
    monkeypatch.setattr(_components, "make_umap", no_umap)
    yield TopicExplorer(model, texts, timestamps=decades)


def test_picking_a_topic_shows_its_words_documents_and_time(explorer, fitted):
    model, texts, decades = fitted
    ids = [topic for _, topic in explorer.topic.options]
    assert ids == list(model.get_topic_info()["Topic"])
    explorer.topic.value = 1
    words = [w for w, _ in model.get_topic(1)]
    assert list(explorer.words_figure.data[0].y) == words[::-1]
    first_rep = model.get_representative_docs(1)[0]
    assert html.escape(" ".join(first_rep.split())[:60]) in explorer.representative.value
    members = {texts[i] for i, t in enumerate(model.topics_) if t == 1}
    shown = explorer.random_docs.value
    assert shown.count("<li>") == 3
    assert any(html.escape(" ".join(m.split())[:60]) in shown for m in members)
    assert sum(explorer.time_figure.data[0].y) == len(members)
    assert list(explorer.time_figure.data[0].x) == sorted(set(decades))


def test_search_filters_topics(explorer, fitted):
    model, _, _ = fitted
    word = model.get_topic(2)[0][0]
    explorer.search.value = word
    assert 2 in [t for _, t in explorer.topic.options]
    explorer.search.value = "zzzz-no-such-word"
    assert explorer.topic.options == ()
    assert "No topic matches" in explorer.status.value
    explorer.search.value = ""
    assert len(explorer.topic.options) == len(model.get_topic_info())


def test_rename_and_merge(explorer, fitted):
    model, _, _ = fitted
    explorer.topic.value = 0
    explorer.rename_box.value = "Money <b>matters</b>"
    explorer.rename_button.click()
    assert any("Money <b>matters</b>" in label for label, _ in explorer.topic.options)
    assert "&lt;b&gt;" in explorer.status.value

    before = len(model.get_topic_info())
    sizes = model.get_topic_info().set_index("Topic")["Count"]
    expected = int(sizes[1] + sizes[2])
    explorer.topic.value = 2
    explorer.merge_target.value = 1
    explorer.merge_button.click()
    assert len(model.get_topic_info()) == before - 1
    merged = explorer.topic.value
    assert model.get_topic_info().set_index("Topic")["Count"][merged] == expected
    assert "Merged topic 2 into 1" in explorer.status.value


def test_document_text_is_shown_not_run():
    shown = _doc_list("Docs", ['<script>alert("x")</script> and <img src=x onerror=alert(1)>'])
    assert "<script>" not in shown and "<img" not in shown
    assert "&lt;script&gt;" in shown
