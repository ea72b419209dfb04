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
        assert output["metadata"]["image/png"]["alt"]  # the PNG's alt text, in the .ipynb too
    # Beneath every figure, its description in words: in the notebook and on the page.
    outputs = [o for cell in executed.cells for o in cell.outputs]
    after = [
        outputs[i + 1]["data"]["text/plain"]
        for i, o in enumerate(outputs)
        if "application/vnd.plotly.v1+json" in o.get("data", {})
    ]
    assert after == [
        "In words: “shown as value”: A bar chart; bars: a, b; x axis: x; y axis: y.",
        "In words: A scatter plot of 3 points; x axis: x; y axis: y.",
        "In words: A heatmap.",
    ]
    assert html.count('<p class="cube-figure-description"><em>In words:</em>') == FIGURES
    named = r'<div (?=[^>]*role="figure")(?=[^>]*aria-label="[^"]+")[^>]*>'  # either order
    assert len(re.findall(named, html)) == FIGURES
    printed = "".join(o.get("text", "") for o in executed.cells[-1].outputs)
    assert "quick: 1" in printed
    summary = "".join(o.get("text", "") for o in executed.cells[0].outputs)
    assert re.search(
        r"cube \S+ \| model all-MiniLM-L6-v2 \(bundled package\) \| device \w+", summary
    )


def _course_cell(notebook: str, marker: str):
    """The Markdown cell of a course notebook whose source holds ``marker``."""
    from cube.notebook import kit_notebooks_dir

    path = next(kit_notebooks_dir().glob(f"{notebook}-*.ipynb"))
    cells = nbformat.read(path, as_version=4).cells
    return next(c for c in cells if c.cell_type == "markdown" and marker in c.source)


def test_the_courses_formulas_are_mathml_in_a_handout():
    """The handouts load no MathJax (no CDN): the c-TF-IDF formula (notebook 2b) and NPMI with
    its inline P(a) (notebook 4a) are MathML, which the browser draws; no TeX is left."""
    from cube.notebook._render import to_html

    ctfidf = _course_cell("02b", r"\text{score}(w, t)")
    npmi = _course_cell("04a", r"\mathrm{NPMI}(a, b)")
    nb = nbformat.v4.new_notebook(cells=[ctfidf, npmi])
    page = to_html(nb)
    body = page[page.index("<body") :]
    assert body.count("<math ") == 5 == body.count('xmlns="http://www.w3.org/1998/Math/MathML"')
    assert body.count('display="block"') == 2
    assert "<msqrt>" in body and body.count("<mfrac>") >= 3  # the root, the fractions
    shown = re.sub(r'alttext="[^"]*"', "", body)  # what the page draws, not its alt text
    assert "$" not in shown and "\\frac" not in shown and "\\text" not in shown
    assert not re.search(r"<script[^>]*\ssrc=", page)  # still nothing from a CDN
    # The TeX stays as the formula's alt text, for screen readers and copying.
    assert 'alttext="\\mathrm{NPMI}(a, b) = ' in body


def test_a_formula_the_converter_cannot_read_stays_as_its_tex():
    from cube.notebook._render import tex_to_mathml

    assert tex_to_mathml(r"\frac{a}{b}").count("<mfrac>") == 1
    assert (
        tex_to_mathml(r"\frac{a}{", display=True) == '<code class="cube-tex">$$\\frac{a}{$$</code>'
    )
    assert tex_to_mathml("a^") == '<code class="cube-tex">$a^$</code>'  # no superscript


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
    assert pio.renderers.default == "cube+cube_description"  # the figure, then its words
    bundle = px.bar(x=["a"], y=[1])._repr_mimebundle_()
    assert {"application/vnd.plotly.v1+json", "text/html", "image/png"} <= set(bundle)
    assert json.loads(json.dumps(bundle["application/vnd.plotly.v1+json"]))["data"]


def test_a_handout_drops_the_check_of_a_solution_it_leaves_out():
    """A check cell right after a solution holds that solution's numbers: a handout without the
    solution cannot run it, so it goes too; a check on the teaching's output stays."""
    from cube.notebook._solutions import strip_solutions

    def cell(source, *tags):
        return nbformat.v4.new_code_cell(source, metadata={"tags": list(tags)})

    nb = nbformat.v4.new_notebook(
        cells=[
            cell("x = 1"),
            cell("assert x == 1", "check"),
            cell("y = 2", "solution"),
            cell("assert y == 2", "check"),
        ]
    )
    assert strip_solutions(nb) == 1
    assert [c.source for c in nb.cells] == ["x = 1", "assert x == 1"]
