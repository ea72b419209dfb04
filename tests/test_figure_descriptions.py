"""Every figure has its description in words beneath it (cube.notebook.setup()) and as its
accessible name: a standard figure's cube.figures.describe text, which it carries in
``layout.meta``; any other plotly figure, what it says about itself (title, kind, axes)."""

from __future__ import annotations

import copy

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import pytest

import cube
from cube.figures._describe import META_KEY, figure_alt_text, figure_description
from cube.notebook._setup import DESCRIPTION_CLASS


def shown(source: str) -> list[dict]:
    """The outputs a notebook cell with ``source`` shows after ``cube.notebook.setup()``, in
    order: (mimetypes, plain text) of each, as a kernel would publish them."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    shell = InteractiveShell.instance()
    with capture_output(display=False):
        cube.notebook.setup(png=False, quiet=True)  # PNG needs Chromium: the browser tier
    with capture_output() as cap:
        result = shell.run_cell(source)
    assert result.success, result.error_in_exec
    return [o.data for o in cap.outputs]


def test_a_figure_is_followed_by_its_words_in_the_order_shown():
    outputs = shown(
        "import plotly.express as px\n"
        "px.scatter(x=[1, 2, 3], y=[3, 1, 2], color=['a', 'b', 'a'], title='Three points')"
    )
    assert len(outputs) == 2
    figure, words = outputs
    assert "application/vnd.plotly.v1+json" in figure
    text = "In words: “Three points”: A scatter plot of 3 points in 2 groups (a and b)"
    assert words["text/plain"].startswith(text)
    assert f'<p class="{DESCRIPTION_CLASS}"><em>In words:</em> “Three points”' in words["text/html"]
    # The interactive figure of a handout is named by the same words.
    assert (
        '<div role="figure" aria-label="Three points. “Three points”: A scatter'
        not in (figure["text/html"])
    )  # the title is said once
    assert '<div role="figure" aria-label="“Three points”: A scatter plot' in figure["text/html"]


def test_show_and_display_get_their_words_too():
    outputs = shown(
        "import plotly.graph_objects as go\nfrom IPython.display import display\n"
        "fig = go.Figure(go.Heatmap(z=[[1, 2], [3, 4]]))\nfig.show()\ndisplay(fig)"
    )
    kinds = ["plotly" if "application/vnd.plotly.v1+json" in o else "words" for o in outputs]
    assert kinds == ["plotly", "words", "plotly", "words"]
    assert outputs[1]["text/plain"] == "In words: A heatmap."


def test_the_courses_own_figures_say_what_they_draw():
    """Figures as notebooks 1, 2 and 5 draw them with plotly express: the words name the
    title, the kind, the panels or groups, how many points, and the axes."""
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "x": rng.normal(size=60),
            "y": rng.normal(size=60),
            "era": np.repeat(["1790-1860", "1861-1932", "1933-2024"], 20),
        }
    )
    scatter = px.scatter(frame, "x", "y", color="era", title="<b>Passages</b><br>by era")
    said = figure_description(scatter)
    assert said.startswith("“Passages by era”: A scatter plot of 60 points in 3 groups")
    assert "1790-1860, 1861-1932 and 1933-2024" in said

    by_decade = px.scatter(frame.assign(decade=np.arange(60) * 10), "x", "y", color="decade")
    assert "of 60 points coloured by decade; x axis: x; y axis: y." in figure_description(by_decade)

    shares = pd.DataFrame(
        {"decade": [1900, 1910] * 3, "share": np.linspace(0, 0.5, 6), "topic": list("aabbcc")}
    )
    lines = px.line(shares, "decade", "share", facet_col="topic", title="Share per decade")
    said = figure_description(lines)
    assert said.startswith("“Share per decade”: A line chart in 3 panels (topic=a, topic=b")
    assert "x axis: decade; y axis: share" in said
    # A short line is said with its values, panel by panel (notebook 4's sweep).
    assert "topic=a: 0, 0.1 at 1900, 1910; topic=b: 0.2, 0.3 at 1900, 1910;" in said

    bars = px.bar(x=["war", "peace"], y=[3, 1], labels={"x": "word", "y": "passages"})
    assert (
        figure_description(bars) == "A bar chart; bars: war, peace; x axis: word; y axis: passages."
    )


def test_panels_of_bars_are_said_top_bar_first():
    """As BERTopic's visualize_barchart draws them: one horizontal bar chart per topic, the
    subplot titles first among the annotations, the top word last in each trace; a note
    added later is not a panel's name."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=["Topic 0", "Topic 1"])
    fig.add_trace(go.Bar(x=[0.1, 0.2, 0.3], y=["tax", "taxes", "income"], orientation="h"), 1, 1)
    fig.add_trace(go.Bar(x=[0.1, 0.2], y=["peace", "war"], orientation="h"), 1, 2)
    fig.add_annotation(text="a note", x=0, y=0, showarrow=False)
    fig.update_layout(title="Topic Word Scores")
    assert figure_description(fig) == (
        "“Topic Word Scores”: A bar chart in 2 panels (Topic 0 and Topic 1); "
        "bars from the top: Topic 0: income, taxes, tax; Topic 1: war, peace."
    )


def test_a_figure_with_no_words_of_its_own_still_gets_its_kind():
    assert figure_description(go.Figure()) == "A figure."
    assert figure_alt_text({"data": [], "layout": {"title": "Only a title"}}) == (
        "“Only a title”: A figure."
    )


@pytest.mark.slow
def test_each_standard_figure_carries_its_describe_text(sotu_600):
    """Real figures of the session's small model: the words beneath each are the ones
    cube.figures.describe writes, kept through the copy and relayout notebook 6 makes."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CUBE_CACHE_DIR", str(sotu_600["cache"]))
        model = copy.deepcopy(sotu_600["model"])
        frame = sotu_600["frame"]
        figures = cube.figures.standard_figures(
            model,
            sotu_600["docs"],
            sotu_600["vectors"],
            timestamps=frame["year"].tolist(),
            classes=frame["party"].tolist(),
            class_name="party",
        )
    texts = cube.figures.describe(model, figures)
    assert set(texts) == set(figures)
    for name, fig in figures.items():
        assert figure_description(fig) == texts[name], name
        copied = go.Figure(fig).update_layout(width=None, autosize=True)
        assert figure_description(copied) == texts[name]
        assert fig.layout.meta[META_KEY] == texts[name]
    alone = cube.figures.barchart(model)  # drawn on its own, not by standard_figures
    assert figure_description(alone) == texts["barchart"]
