"""cube.notebook.setup() and `cube render`: figures survive nbconvert, with a PNG copy, and
handouts hold figures and printed results only: no progress bars, warnings or widget reprs."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from cube.cli import main
from cube.notebook._render import handout

FIGURES = 3


def output_text(page: str) -> str:
    """What a reader of a rendered notebook sees of its outputs: the text inside the output
    areas, outside scripts and styles (the code and prose around them may name a warning)."""
    from html.parser import HTMLParser

    void = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}

    class Outputs(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []
            self.stack: list[tuple[str, bool]] = []  # (tag, shown as output text)

        def handle_starttag(self, tag, attrs) -> None:
            if tag in void:
                return
            inside = bool(self.stack) and self.stack[-1][1]
            output = "jp-OutputArea" in (dict(attrs).get("class") or "")
            self.stack.append((tag, tag not in ("script", "style") and (inside or output)))

        def handle_endtag(self, tag) -> None:
            while self.stack and self.stack.pop()[0] != tag:
                pass

        def handle_data(self, data) -> None:
            if self.stack and self.stack[-1][1]:
                self.parts.append(data)

    parser = Outputs()
    parser.feed(page)
    return " ".join(parser.parts)


def assert_quiet_handout(page: str) -> None:
    text = output_text(page)
    assert text.strip(), "the page shows no outputs at all"
    for noise in ("it/s", "Warning", "WARNING", "VBox(", "HBox(", "Loading weights"):
        assert noise not in text, f"the handout shows {noise!r}"


def write_notebook(path, cells: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in cells]
    nbformat.write(nb, path)


@pytest.fixture
def figure_notebook(tmp_path):
    path = tmp_path / "figures.ipynb"
    write_notebook(
        path,
        [
            "import cube\ncube.notebook.setup()",
            "import plotly.express as px\npx.bar(x=['a', 'b'], y=[1, 2], title='shown as value')",
            "px.scatter(x=[1, 2, 3], y=[3, 1, 2]).show()",
            "import plotly.graph_objects as go\nfrom IPython.display import display\n"
            "display(go.Figure(go.Heatmap(z=[[1, 2], [3, 4]])))",
            # What must not reach a handout: progress bars (tqdm's own and cube's), warnings,
            # stderr, a live widget.
            "from tqdm.auto import tqdm\nfor _ in tqdm(range(3)): pass",
            "from cube._progress import progress\nfor _ in progress(range(3), disable=False): pass",
            "import sys, warnings\nwarnings.warn('Warning: noisy')\n"
            "print('Warning on stderr', file=sys.stderr)",
            "import ipywidgets\nipywidgets.VBox([ipywidgets.HBox([ipywidgets.Label('x')])])",
            "import os\nprint('quick:', os.environ.get('CUBE_QUICK'))",
        ],
    )
    return path


@pytest.mark.slow
def test_rendered_html_keeps_every_figure_offline(figure_notebook, tmp_path, capfd):
    out = tmp_path / "site"
    code = main(
        ["render", str(figure_notebook), "--to", "html,ipynb", "--out", str(out), "--quick"]
    )
    printed, err = capfd.readouterr()  # the kernel's own stderr too
    assert code == 0, err
    # One line for the notebook, with its seconds; nothing from the kernel (no IPKernelApp
    # "Kernel is running over TCP without encryption").
    assert re.search(r"^\[1/1\] figures\.ipynb \.\.\. \d+ s$", printed, re.M), printed
    assert err == ""
    html = (out / "figures.html").read_text()
    assert_quiet_handout(html)
    assert html.count("Plotly.newPlot(") == FIGURES
    assert html.count('id="cube-plotlyjs"') == 1  # plotly.js inline once per notebook
    # Nothing from a CDN: no plotly.js, require.js or MathJax script tags.
    assert not re.search(r"<script[^>]*\ssrc=", html)
    assert not re.search(r"import\(\s*[\"']https?:", html)

    executed = nbformat.read(out / "figures.ipynb", as_version=4)
    figure_outputs = [
        output
        for cell in executed.cells
        for output in cell.outputs
        if "application/vnd.plotly.v1+json" in output.get("data", {})
    ]
    assert len(figure_outputs) == FIGURES
    # The kernel was quiet: no bar and no warning was even written, only the cell's own print
    # to stderr (which the page leaves out).
    stderr = [o.text for c in executed.cells for o in c.outputs if o.get("name") == "stderr"]
    assert stderr == ["Warning on stderr\n"]
    for output in figure_outputs:
        assert output["data"]["image/png"].startswith("iVBORw0KGgo")  # base64 of a PNG header
        assert "Plotly.newPlot" in output["data"]["text/html"]
    printed = "".join(o.get("text", "") for o in executed.cells[-1].outputs)
    assert "quick: 1" in printed
    summary = "".join(o.get("text", "") for o in executed.cells[0].outputs)
    assert re.search(
        r"cube \S+ \| model all-MiniLM-L6-v2 \(bundled package\) \| device \w+", summary
    )


def test_a_handout_keeps_results_and_drops_noise():
    nb = nbformat.v4.new_notebook()
    out = nbformat.v4
    widget = {"model_id": "abc", "version_major": 2, "version_minor": 0}
    nb.cells = [
        nbformat.v4.new_code_cell(
            "x",
            outputs=[
                out.new_output("stream", name="stdout", text="a result\n"),
                out.new_output("stream", name="stderr", text="UserWarning: noise\n"),
                out.new_output(
                    "display_data",
                    data={
                        "application/vnd.jupyter.widget-view+json": widget,
                        "text/plain": "Loading weights:  10%| 1/10 [00:00<?, ?it/s]",
                    },
                ),
                out.new_output(
                    "execute_result",
                    data={"text/plain": "VBox(children=(HBox(children=(Label(value='x'),)),))"},
                    execution_count=1,
                ),
                out.new_output(  # a widget with a static fallback: the fallback stays
                    "display_data",
                    data={
                        "application/vnd.jupyter.widget-view+json": widget,
                        "text/plain": "VBox(children=(...))",
                        "image/png": "iVBORw0KGgo=",
                    },
                ),
                out.new_output("execute_result", data={"text/plain": "42"}, execution_count=2),
            ],
        )
    ]
    nb.metadata["widgets"] = {"state": {}}
    page = handout(nb)
    outputs = page.cells[0].outputs
    assert [o.get("text") or o["data"] for o in outputs] == [
        "a result\n",
        {"image/png": "iVBORw0KGgo="},
        {"text/plain": "42"},
    ]
    assert "widgets" not in page.metadata
    assert len(nb.cells[0].outputs) == 6  # the executed notebook itself is left as it was


def test_render_help_ends_with_examples(capsys):
    with pytest.raises(SystemExit):
        main(["render", "--help"])
    tail = capsys.readouterr().out.split("examples:")[-1]
    assert tail.count("  cube render ") == 4


@pytest.mark.slow
def test_a_failing_cell_is_named(tmp_path, capsys):
    path = tmp_path / "broken.ipynb"
    write_notebook(path, ["x = 1", "1 / 0", "print('never')"])
    code = main(["render", str(path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1
    assert "broken.ipynb: cell 2 failed: ZeroDivisionError: division by zero" in err
    assert not (tmp_path / "out" / "broken.html").exists()


def test_render_rejects_what_is_not_a_notebook(tmp_path, capsys):
    code = main(["render", str(tmp_path / "missing.ipynb")])
    assert code == 2
    assert "missing.ipynb does not exist" in capsys.readouterr().err
    code = main(["render", "--to", "pdf", str(tmp_path / "missing.ipynb")])
    assert code == 2


@pytest.mark.browser  # the PNG copy is drawn by Chromium
def test_setup_bundles_interactive_html_and_png():
    import plotly.express as px
    import plotly.io as pio

    import cube

    cube.notebook.setup(quiet=True)
    assert pio.renderers.default == "cube"
    bundle = px.bar(x=["a"], y=[1])._repr_mimebundle_()
    assert {"application/vnd.plotly.v1+json", "text/html", "image/png"} <= set(bundle)
    assert json.loads(json.dumps(bundle["application/vnd.plotly.v1+json"]))["data"]
