"""cube's standard figures answer their question as a 1600×900 PNG, without a mouse.

One small real model (600 passages of the bundled corpus) is fitted once for the session (conftest);
each test holds one promise on the figure objects, and a real browser exports them all.
"""

from __future__ import annotations

import copy
import html
import io
import re
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import cube
from cube.figures import (
    barchart,
    hierarchy,
    standard_figures,
    time_bins,
    topic_colors,
    topic_name,
    words_from_ctfidf,
)
from cube.figures._labels import text_box
from cube.figures._names import NAME_CHARS, OUTLIER_NAME, wrap_name
from cube.figures._palette import MAX_COLOURED, OTHER_COLOUR, OUTLIER_COLOUR, topics_by_size

pytestmark = pytest.mark.slow

KEYS = {
    "barchart",
    "topics_map",
    "documents_map",
    "hierarchy",
    "heatmap",
    "topics_over_time",
    "topics_per_class",
}


@pytest.fixture(scope="module")
def run(sotu_600):
    """The session's small model, its inputs and its standard figures: drawn once."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CUBE_CACHE_DIR", str(sotu_600["cache"]))
        frame, docs, vectors = sotu_600["frame"], sotu_600["docs"], sotu_600["vectors"]
        topic_model = copy.deepcopy(sotu_600["model"])
        cube.figures.document_coordinates(topic_model, vectors)  # as the pipeline does
        started = time.perf_counter()
        figures = standard_figures(
            topic_model,
            docs,
            vectors,
            timestamps=frame["year"].tolist(),
            classes=frame["party"].tolist(),
            class_name="party",
        )
        seconds = time.perf_counter() - started
    return {
        "frame": frame,
        "docs": docs,
        "vectors": vectors,
        "model": topic_model,
        "figures": figures,
        "seconds": seconds,
    }


def hover_texts(fig) -> list[str]:
    texts = []
    for trace in fig.data:
        value = getattr(trace, "hovertext", None)
        if value is None:
            continue
        flat = np.ravel(np.asarray(value, dtype=object))
        texts.extend(str(v) for v in flat if v is not None)
    return texts


def lines_of(text: str) -> list[str]:
    return [html.unescape(re.sub(r"<[^>]+>", "", line)) for line in text.split("<br>")]


def shown_colours(name: str, fig) -> dict[str, str]:
    """topic name → colour as the figure draws it."""
    out: dict[str, str] = {}
    if name in ("barchart", "topics_over_time"):
        for trace in fig.data:
            if trace.type == "bar" and name == "barchart":
                out[trace.name] = trace.marker.color
            elif trace.type == "scatter":
                out[trace.name] = trace.line.color
    elif name == "documents_map":
        for trace in fig.data:
            if trace.name != OUTLIER_NAME and not trace.name.startswith("other topics"):
                out[trace.name] = trace.marker.color
    elif name == "topics_per_class":
        trace = fig.data[0]
        out = dict(zip(trace.y, trace.marker.color, strict=True))
    return out


def test_all_seven_figures_at_slide_size_and_fast(run, record_property):
    figures = run["figures"]
    assert set(figures) == KEYS
    for name, fig in figures.items():
        assert fig.layout.width == 1600, name
        assert fig.layout.height >= 900, name
    record_property("summary", f"standard_figures: {run['seconds']:.1f}s for 7 figures")
    assert run["seconds"] < 60  # no hidden UMAP: the 2-D reduction comes from the cache


def test_coordinates_the_caller_has_are_drawn_as_they_are(run):
    model, docs = run["model"], run["docs"]
    coordinates = cube.figures.document_coordinates(model, run["vectors"])  # from the cache
    shifted = coordinates + 1000.0  # not what a reduction would give: proves none ran
    figures = standard_figures(model, docs, None, coordinates=shifted, size=None)
    data = figures["documents_map"].data
    points = [(float(x), float(y)) for tr in data for x, y in zip(tr.x, tr.y, strict=True)]
    assert len(points) == len(docs)
    assert sorted(points) == sorted(map(tuple, shifted.astype(float).tolist()))


@pytest.mark.parametrize("shape", [(5, 2), (-1, 3), (-1,)])
def test_coordinates_of_the_wrong_shape_are_refused_at_once(run, shape):
    n = len(run["docs"])
    shape = tuple(n if s == -1 else s for s in shape)
    with pytest.raises(cube.InputError, match=rf"^coordinates= has shape .* must be \({n}, 2\)"):
        standard_figures(run["model"], run["docs"], None, coordinates=np.zeros(shape))


def test_the_map_takes_its_settings_from_the_models_umap():
    from types import SimpleNamespace

    from cube.figures._documents_map import map_params
    from cube.reductions import UMAPParams

    held = SimpleNamespace(params=UMAPParams(5, 30, 0.1, "euclidean", 7, 200))
    assert map_params(held) == UMAPParams(2, 30, 0.1, "euclidean", 7, None)
    assert map_params(SimpleNamespace(seed=3, n_neighbors=10)) == UMAPParams(2, 10, seed=3)
    assert map_params(object()) == UMAPParams(2, 15, seed=0)


def test_each_figure_can_be_drawn_alone(run):
    model = run["model"]
    assert cube.figures.barchart(model).layout.width == 1600
    assert cube.figures.heatmap(model).data[0].type == "heatmap"
    assert cube.figures.topics_map(model, seed=0).data[0].customdata is not None


def test_every_trace_visible_and_nothing_only_a_mouse_can_use(run):
    for name, fig in run["figures"].items():
        for trace in fig.data:
            assert trace.visible in (None, True), (name, trace.name, trace.visible)
        assert not fig.layout.sliders, name
        assert not fig.layout.updatemenus, name


def test_titles_say_which_topics(run):
    model, figures = run["model"], run["figures"]
    total = len(topics_by_size(model))
    assert total > MAX_COLOURED  # the sample is meant to have more topics than colours
    title = {name: fig.layout.title.text for name, fig in figures.items()}
    for name in ("barchart", "topics_over_time", "topics_per_class"):
        assert f"{MAX_COLOURED} largest of {total} topics" in title[name], title[name]
    for name in ("topics_map", "documents_map", "hierarchy"):
        assert f"all {total} topics" in title[name], title[name]
    assert re.search(rf"(\d+ largest of|all) {total} topics", title["heatmap"])
    assert "600 passages" in title["documents_map"]
    assert "decade" in title["topics_over_time"]
    assert "party" in title["topics_per_class"]


def test_one_colour_per_topic_everywhere(run):
    model = run["model"]
    colours = topic_colors(model)
    ranked = topics_by_size(model)
    expected = {topic_name(model, t): colours[t] for t in ranked[:MAX_COLOURED]}
    assert len(set(expected.values())) == len(expected)  # distinct colours ≥ topics shown
    assert OTHER_COLOUR not in expected.values() and OUTLIER_COLOUR not in expected.values()
    for name in ("barchart", "documents_map", "topics_over_time", "topics_per_class"):
        drawn = shown_colours(name, run["figures"][name])
        assert drawn, name
        for topic, colour in drawn.items():
            full = next(n for n in expected if n.startswith(topic.rstrip("…")))
            assert colour == expected[full], (name, topic)
        assert len(set(drawn.values())) == len(drawn), name
    topics_map = run["figures"]["topics_map"].data[0]
    for topic, colour in zip(topics_map.customdata, topics_map.marker.color, strict=True):
        assert colour == colours[topic]
    leaves = run["figures"]["hierarchy"].data[-1]
    for topic, colour in zip(leaves.customdata, leaves.marker.color, strict=True):
        assert colour == colours[topic]


def test_outliers_are_grey_and_called_not_in_any_topic(run):
    model = run["model"]
    fig = run["figures"]["documents_map"]
    (outliers,) = [t for t in fig.data if t.name == OUTLIER_NAME]
    assert outliers.marker.color == OUTLIER_COLOUR
    assert len(outliers.x) == list(model.topics_).count(-1)
    assert sum(len(t.x) for t in fig.data) == len(run["docs"])
    assert topic_name(model, -1) == OUTLIER_NAME
    for name in ("barchart", "topics_over_time", "topics_per_class", "heatmap", "hierarchy"):
        text = " ".join(hover_texts(run["figures"][name]))
        assert OUTLIER_NAME not in text, name  # -1 is never shown as a topic


def test_hover_text_is_wrapped_and_short(run):
    for name, fig in run["figures"].items():
        texts = hover_texts(fig)
        assert texts, name
        for text in texts:
            lines = lines_of(text)
            assert len(lines) <= 8, (name, lines)
            assert max(len(line) for line in lines) <= 61, (name, lines)
    passages = hover_texts(run["figures"]["documents_map"])
    assert max(len(lines_of(t)) for t in passages) == 5  # a name and at most 4 lines of text


def test_topic_names_are_made_for_people(run):
    model = run["model"]
    for topic in topics_by_size(model):
        name = topic_name(model, topic)
        assert not re.match(r"-?\d+_", name) and "_" not in name, name
        assert 0 < len(name) <= NAME_CHARS
        words = {w for phrase, _ in model.get_topic(topic) for w in phrase.split()}
        for token in name.replace(" · ", " ").rstrip("…").split():
            assert token in words, (name, token)  # whole words only
    labels = []
    for name in ("hierarchy", "heatmap"):
        axis = run["figures"][name].layout.yaxis
        labels += list(axis.ticktext or run["figures"][name].data[0].y)
    labels += list(run["figures"]["topics_per_class"].data[0].y)
    for annotation in run["figures"]["topics_map"].layout.annotations:
        labels.append(annotation.text.replace("<br>", " "))
    assert labels
    assert not [label for label in labels if re.match(r"-?\d+_", label) or "_" in label]


def test_names_users_give_are_used_and_never_cut_mid_word(run):
    model = run["model"]
    first, second = topics_by_size(model)[:2]
    long = (
        "Money, banks and the long quarrel over gold and silver coinage in the nineteenth century"
    )
    try:
        model.set_topic_labels({first: "The Cold War", second: long})
        assert topic_name(model, first) == "The Cold War"
        short = topic_name(model, second)
        assert short.endswith("…") and len(short) <= NAME_CHARS
        assert long.startswith(short[:-1]) and long[len(short) - 1] == " "  # at a word boundary
        third = topics_by_size(model)[2]
        assert not re.match(r"\d+_", topic_name(model, third))  # unnamed topics keep words
        titles = " ".join(a.text for a in barchart(model).layout.annotations)
        assert "The Cold War" in titles
    finally:
        model.custom_labels_ = None


def test_over_time_shows_shares_of_each_decade(run):
    model, frame = run["model"], run["frame"]
    fig = run["figures"]["topics_over_time"]
    bins = time_bins(frame["year"].tolist())
    totals = Counter(bins)
    periods = sorted(totals)
    lines = [t for t in fig.data if t.type == "scatter"]
    assert len(lines) == MAX_COLOURED
    sums = np.zeros(len(periods))
    for trace in lines:
        assert list(trace.x) == periods
        values = np.asarray(trace.y, dtype=float)
        assert ((values >= 0) & (values <= 1)).all()
        sums += values
    assert (sums <= 1 + 1e-9).all() and sums.max() > 0.1
    # one value, counted by hand
    topic = topics_by_size(model)[0]
    period = max(periods, key=lambda p: totals[p])
    by_hand = sum(1 for t, b in zip(model.topics_, bins, strict=True) if t == topic and b == period)
    trace = next(t for t in lines if t.name == topic_name(model, topic))
    assert trace.y[periods.index(period)] == pytest.approx(by_hand / totals[period])
    (sizes,) = [t for t in fig.data if t.type == "bar"]  # how many passages each decade has
    assert list(sizes.y) == [totals[p] for p in periods]


def test_per_class_shows_shares_of_each_class(run):
    model, frame = run["model"], run["frame"]
    fig = run["figures"]["topics_per_class"]
    parties = [str(p) for p in frame["party"]]
    totals = Counter(parties)
    topic = topics_by_size(model)[0]
    for trace in fig.data:
        values = np.asarray(trace.x, dtype=float)
        assert ((values >= 0) & (values <= 1)).all()
        assert values.sum() <= 1 + 1e-9
        by_hand = sum(
            1 for t, p in zip(model.topics_, parties, strict=True) if t == topic and p == trace.name
        )
        assert values[0] == pytest.approx(by_hand / totals[trace.name])
        assert f"{totals[trace.name]} passages" in " ".join(
            a.text for a in fig.layout.annotations if a.text.startswith(trace.name[:10])
        )


def boxes(fig) -> list[tuple[float, float, float, float]]:
    """The labels' boxes in pixels, as the figure places them."""
    from cube.figures._layout import _pixels

    layout = fig.layout
    margin = {k: getattr(layout.margin, k) for k in "ltrb"}
    out = []
    for a in layout.annotations:
        (px, py) = _pixels(
            np.array([[a.x, a.y]]),
            layout.xaxis.range,
            layout.yaxis.range,
            (layout.width, layout.height),
            margin,
        )[0]
        cx, cy = px + (a.ax if a.showarrow else 0), py + (a.ay if a.showarrow else 0)
        w, h = text_box(a.text.split("<br>"), a.font.size)
        out.append((cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2))
    return out


def test_map_labels_do_not_overlap_and_name_the_topics(run):
    model = run["model"]
    for name in ("topics_map", "documents_map"):
        fig = run["figures"][name]
        placed = boxes(fig)
        for i, a in enumerate(placed):
            assert a[0] >= 0 and a[2] <= fig.layout.width, name
            for b in placed[i + 1 :]:
                assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), name
        texts = {a.text.replace("<br>", " ") for a in fig.layout.annotations}
        for topic in topics_by_size(model)[:MAX_COLOURED]:
            assert " ".join(wrap_name(topic_name(model, topic), 26, 2)) in texts, (name, topic)
    # the topics map names every topic here (23 fit), the documents map at least the coloured
    assert len(run["figures"]["topics_map"].layout.annotations) == len(topics_by_size(model))


@pytest.mark.browser
def test_every_figure_exports_to_a_png_that_is_not_blank(run, tmp_path):
    from PIL import Image

    written = cube.figures.export(run["figures"], tmp_path, formats=("png",))
    assert len(written) == len(KEYS)
    for path in written:
        image = Image.open(io.BytesIO(path.read_bytes())).convert("RGB")
        assert image.size[0] == 1600 and image.size[1] >= 900, path.name
        small = np.asarray(image.resize((400, 225)))
        colours = {tuple(p) for p in small.reshape(-1, 3)[::7]}
        not_white = (small.min(axis=2) < 235).mean()
        assert len(colours) > 30, (path.name, len(colours))
        assert not_white > 0.02, (path.name, not_white)


@pytest.mark.browser
def test_report_of_the_standard_figures_draws_every_figure(run, tmp_path):
    import json

    import pandas as pd
    from test_report import open_offline

    model = run["model"]
    info = model.get_topic_info()
    topics = pd.DataFrame(
        {
            "id": info["Topic"],
            "size": info["Count"],
            "name": info["Name"],
            "top_words": [", ".join(w for w, _ in model.get_topic(t)) for t in info["Topic"]],
            "representative_documents": [json.dumps(d) for d in info["Representative_Docs"]],
        }
    )
    path = cube.figures.write_report(
        tmp_path / "report.html",
        title="600 State of the Union passages",
        summary={"documents": 600, "topics": len(info) - 1, "outliers": 10},
        topics=topics,
        figures=run["figures"],
    )
    facts, errors, blocked = open_offline(Path(path))
    assert not errors and not blocked, (errors, blocked)
    assert facts["divs"] == facts["drawn"] == len(KEYS)


def test_hover_wrap_of_a_prefix_is_the_wrap_of_the_whole_text(run):
    """wrap() only wraps the start of a passage: the lines it keeps are the whole text's."""
    import textwrap

    from cube.figures._names import HOVER_LINES, HOVER_WIDTH, shorten, wrap

    def whole(text: str, width: int, lines: int) -> list[str]:
        wrapped = textwrap.wrap(" ".join(text.split()), width=width) or [""]
        if len(wrapped) > lines:
            wrapped, last = wrapped[:lines], wrapped[lines - 1]
            cut = last if len(last) < width else shorten(last, width - 1).rstrip("…")
            wrapped[-1] = cut + "…"
        return wrapped

    texts = [*run["docs"], "", "x" * 500, "y" * 79 + " z", " ".join(["word"] * 200)]
    for text in texts:
        for width, lines in ((HOVER_WIDTH, HOVER_LINES), (26, 2), (5, 1)):
            assert wrap(text, width, lines) == whole(text, width, lines), (text[:60], width)


def test_topics_over_time_without_evolution_tuning_is_the_same_frame(run):
    """BERTopic's evolution tuning writes into a copy it drops: cube skips its cost.

    If a BERTopic release makes the tuning take effect, this fails: then pass it again.
    """
    model, docs = run["model"], run["docs"]
    bins = time_bins(run["frame"]["year"].tolist())
    tuned = model.topics_over_time(docs, bins)
    untuned = model.topics_over_time(docs, bins, evolution_tuning=False)
    assert len(tuned) > 20
    assert tuned.equals(untuned)


def test_each_figure_has_alt_text_from_its_own_data(run):
    """One paragraph per figure, naming what the figure draws, with its numbers."""
    model, figures = run["model"], run["figures"]
    texts = cube.figures.describe(model, figures)
    assert set(texts) == set(figures) == KEYS
    largest = topic_name(model, Counter(t for t in model.topics_ if t != -1).most_common(1)[0][0])
    assert largest in texts["barchart"] and largest in texts["documents_map"]
    outliers = list(model.topics_).count(-1)
    assert f"{outliers} passages (" in texts["documents_map"]
    assert f"{len(run['docs']):,} passages as dots" in texts["documents_map"]
    first = next(t for t in figures["topics_over_time"].data if t.type == "scatter")
    peak = int(np.argmax(first.y))
    assert (
        f"“{first.name}” peaks in {first.x[peak]} ({first.y[peak]:.0%})"
        in texts["topics_over_time"]
    )
    assert "Democratic" in texts["topics_per_class"] or "Republican" in texts["topics_per_class"]
    for text in texts.values():
        assert 80 < len(text) < 900 and "nan" not in text


def test_a_large_map_draws_a_seeded_sample_and_says_so(run):
    model, docs = run["model"], run["docs"]
    coordinates = cube.figures.document_coordinates(model, run["vectors"])  # from the cache
    fig = cube.figures.documents_map(model, docs, coordinates, max_points=200)
    points = [(float(x), float(y)) for tr in fig.data for x, y in zip(tr.x, tr.y, strict=True)]
    assert len(points) == 200 and set(points) <= set(map(tuple, coordinates.tolist()))
    again = cube.figures.documents_map(model, docs, coordinates, max_points=200)
    assert [list(tr.x) for tr in again.data] == [list(tr.x) for tr in fig.data]  # seeded
    assert fig.layout.title.text.startswith("200 of 600 passages by meaning")
    assert "a seeded sample of 200 of the 600 passages drawn" in fig.layout.title.subtitle.text
    said = cube.figures.describe(model, {"documents_map": fig})["documents_map"]
    assert said.startswith("200 (a seeded sample) of 600 passages as dots")
    whole = cube.figures.documents_map(model, docs, coordinates)  # under the cap: every dot
    assert sum(len(tr.x) for tr in whole.data) == 600
    assert "sample" not in whole.layout.title.text + whole.layout.title.subtitle.text


def test_the_tree_is_bertopics_with_words_counted_per_document(run):
    """cube.topics.topic_tree against BERTopic's hierarchical_topics on the same model."""
    model, docs = copy.deepcopy(run["model"]), run["docs"]
    with words_from_ctfidf(model):
        theirs = model.hierarchical_topics(docs)
    ours = cube.topics.topic_tree(model, docs)
    assert len(ours) == len(theirs) == len(topics_by_size(model)) - 1
    merges = dict(zip(map(frozenset, theirs["Topics"]), theirs["Distance"], strict=True))
    for leaves, distance in zip(ours["Topics"], ours["Distance"], strict=True):
        assert merges[frozenset(leaves)] == pytest.approx(distance)
    names = dict(zip(map(frozenset, theirs["Topics"]), theirs["Parent_Name"], strict=True))
    # BERTopic counts one string per topic with its punctuation stripped; cube counts each
    # document as it is. On the whole corpus with 363 topics, 346 of 362 merged names agree.
    pairs = zip(ours["Topics"], ours["Parent_Name"], strict=True)
    differ = [(n, names[frozenset(k)]) for k, n in pairs if names[frozenset(k)] != n]
    assert len(differ) <= 0.1 * len(ours), differ
    assert min(ours["Parent_ID"]) > max(topics_by_size(model))  # never a topic's id


def test_a_tree_of_many_topics_joins_the_largest_and_says_so(run):
    model, docs = run["model"], run["docs"]
    total = len(topics_by_size(model))
    tree = cube.topics.topic_tree(model, docs, max_topics=5)
    assert len(tree) == 4
    assert set(tree["Topics"].iloc[-1]) == set(topics_by_size(model)[:5])
    for _, merge in tree.iterrows():  # the merged words are those of its topics' documents
        words = merge["Parent_Name"].split("_")
        text = " ".join(d for d, t in zip(docs, model.topics_, strict=True) if t in merge["Topics"])
        assert words and all(w in text.lower() for w in words), merge["Parent_Name"]
    fig = hierarchy(model, tree)
    assert f"5 largest of {total} topics" in fig.layout.title.text
    with pytest.raises(cube.InputError, match="max_topics must be 2 or more, not 1"):
        cube.topics.topic_tree(model, docs, max_topics=1)
    with pytest.raises(cube.InputError, match=f"10 documents but {len(docs)} topics"):
        cube.topics.topic_tree(model, docs[:10])
    assert sorted(fig.data[-1].customdata) == sorted(topics_by_size(model)[:5])
    alt = cube.figures.describe(model, {"hierarchy": fig})["hierarchy"]  # its alt text
    assert alt.startswith(f"A tree of the 5 largest of {total} topics:"), alt
    named = re.findall(r"“([^”]+)”", alt)
    first = tree.iloc[0]  # the tree's first join: the pair the alt text names
    assert "first two topics joined" in alt
    assert set(named) == {
        topic_name(model, first["Child_Left_ID"]),
        topic_name(model, first["Child_Right_ID"]),
    }
