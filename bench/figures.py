"""Benchmark: 10 BERTopic-sized figures to PNG, cube.figures.export against a naive loop.

Run: uv run python bench/figures.py

The naive loop calls ``fig.write_image`` per figure, which starts a browser each time under
kaleido 1.x. ``cube.figures.export`` renders all of them in one browser session. Target:
cube <= 0.30 x the naive loop. Figures are synthetic but shaped like BERTopic's (barchart of
8 topics, topic map, 2,000-document map with hover text, dendrogram, 30 x 30 heatmap).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots


def barchart(rng) -> go.Figure:
    fig = make_subplots(rows=2, cols=4, subplot_titles=[f"Topic {i}" for i in range(8)])
    for i in range(8):
        words = [f"word{i}_{j}" for j in range(5)]
        fig.add_trace(
            go.Bar(x=np.sort(rng.random(5)), y=words, orientation="h"),
            row=i // 4 + 1,
            col=i % 4 + 1,
        )
    return fig.update_layout(width=1000, height=500, showlegend=False, title="Topic Word Scores")


def topic_map(rng) -> go.Figure:
    x, y, size = rng.normal(size=40), rng.normal(size=40), rng.integers(10, 400, 40)
    return go.Figure(
        go.Scatter(
            x=x,
            y=y,
            mode="markers",
            marker={"size": np.sqrt(size) * 2},
            hovertext=[f"Topic {i}" for i in range(40)],
        )
    )


def document_map(rng) -> go.Figure:
    points = rng.normal(size=(2000, 2))
    topics = rng.integers(0, 20, 2000)
    fig = go.Figure()
    for t in range(20):
        sel = topics == t
        fig.add_trace(
            go.Scattergl(
                x=points[sel, 0],
                y=points[sel, 1],
                mode="markers",
                name=f"topic {t}",
                hovertext=[f"a passage of text number {i}" for i in np.flatnonzero(sel)],
            )
        )
    return fig.update_layout(width=1200, height=750)


def hierarchy(rng) -> go.Figure:
    fig = go.Figure()
    for i in range(39):
        x0 = rng.random()
        fig.add_trace(
            go.Scatter(
                x=[0, x0, x0, 0],
                y=[i * 10, i * 10, i * 10 + 10, i * 10 + 10],
                mode="lines",
                showlegend=False,
            )
        )
    return fig.update_layout(width=1000, height=800)


def heatmap(rng) -> go.Figure:
    z = rng.random((30, 30))
    return go.Figure(go.Heatmap(z=(z + z.T) / 2)).update_layout(width=800, height=800)


def main() -> None:
    rng = np.random.default_rng(0)
    makers = [barchart, topic_map, document_map, hierarchy, heatmap]
    figures = {f"{m.__name__}_{k}": m(rng) for k in range(2) for m in makers}
    out = Path(tempfile.mkdtemp(prefix="cube-bench-figures-"))

    import kaleido

    assert not kaleido._global_server.is_running()
    start = time.perf_counter()
    for name, fig in figures.items():
        fig.write_image(out / f"naive-{name}.png")
    naive = time.perf_counter() - start

    start = time.perf_counter()
    next(iter(figures.values())).write_image(out / "naive-one.png")
    naive_one = time.perf_counter() - start

    from cube.figures import export, stop_session

    start = time.perf_counter()
    export(figures, out / "cube", formats="png")
    cube_all = time.perf_counter() - start

    start = time.perf_counter()
    export(next(iter(figures.values())), out / "cube-one.png")
    cube_one_warm = time.perf_counter() - start
    stop_session()

    start = time.perf_counter()
    export(next(iter(figures.values())), out / "cube-one-cold.png")
    cube_one_cold = time.perf_counter() - start
    stop_session()

    n = len(figures)
    print(f"{n} BERTopic-sized figures to PNG")
    print(f"naive loop of fig.write_image     {naive:7.2f} s  ({naive / n:.2f} s per figure)")
    print(f"cube.figures.export, one session  {cube_all:7.2f} s  ({cube_all / n:.2f} s per figure)")
    print(f"ratio cube / naive                {cube_all / naive:7.3f}    (target <= 0.30)")
    print(f"one figure alone: write_image     {naive_one:7.2f} s")
    print(f"one figure alone: cube, cold      {cube_one_cold:7.2f} s  (starts the browser)")
    print(f"one figure alone: cube, warm      {cube_one_warm:7.2f} s  (session already open)")


if __name__ == "__main__":
    main()
