"""cube.notebook.setup() and `cube render`: figures survive nbconvert, with a PNG copy."""

from __future__ import annotations

import json
import re

import nbformat
import pytest

from cube.cli import main

FIGURES = 3


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
            "import os\nprint('quick:', os.environ.get('CUBE_QUICK'))",
        ],
    )
    return path


def test_rendered_html_keeps_every_figure_offline(figure_notebook, tmp_path, capsys):
    out = tmp_path / "site"
    code = main(
        ["render", str(figure_notebook), "--to", "html,ipynb", "--out", str(out), "--quick"]
    )
    assert code == 0, capsys.readouterr().err
    html = (out / "figures.html").read_text()
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
    for output in figure_outputs:
        assert output["data"]["image/png"].startswith("iVBORw0KGgo")  # base64 of a PNG header
        assert "Plotly.newPlot" in output["data"]["text/html"]
    printed = "".join(o.get("text", "") for o in executed.cells[-1].outputs)
    assert "quick: 1" in printed
    summary = "".join(o.get("text", "") for o in executed.cells[0].outputs)
    assert re.search(
        r"cube \S+ \| model all-MiniLM-L6-v2 \(bundled package\) \| device \w+", summary
    )


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


def test_setup_bundles_interactive_html_and_png():
    import plotly.express as px
    import plotly.io as pio

    import cube

    cube.notebook.setup(quiet=True)
    assert pio.renderers.default == "cube"
    bundle = px.bar(x=["a"], y=[1])._repr_mimebundle_()
    assert {"application/vnd.plotly.v1+json", "text/html", "image/png"} <= set(bundle)
    assert json.loads(json.dumps(bundle["application/vnd.plotly.v1+json"]))["data"]
