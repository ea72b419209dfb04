"""cube.figures.export with a real Chromium: real files, real sizes, offline HTML."""

from __future__ import annotations

import json
import struct
import time

import matplotlib
import plotly.graph_objects as go
import pytest
from plotly.offline import get_plotlyjs

import cube.figures
from cube import BrowserNotFoundError, CubeError, InputError
from cube.figures import _browser, export, find_browser, parse_formats

matplotlib.use("Agg")

EVIL = '</script><script>alert("pwned")</script><img src=x onerror=alert(2)>'


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


@pytest.fixture
def bar() -> go.Figure:
    return go.Figure(go.Bar(x=["economy", "war", "taxes"], y=[3, 1, 2]), layout={"title": "Topics"})


@pytest.mark.browser
def test_png_has_the_pixel_size_asked_for(tmp_path, bar):
    (path,) = export(bar, tmp_path / "bar.png", width=420, height=300, scale=2)
    assert path == tmp_path / "bar.png"
    assert png_size(path.read_bytes()) == (840, 600)


@pytest.mark.browser
def test_every_format_for_a_mapping_of_figures(tmp_path, bar):
    scatter = go.Figure(go.Scattergl(x=list(range(500)), y=[i % 17 for i in range(500)]))
    paths = export(
        {"bar": bar, "scatter": scatter},
        tmp_path / "slides",
        formats=("png", "svg", "pdf", "html", "json"),
        width=500,
        height=400,
    )
    assert [p.name for p in paths] == [
        f"{name}.{fmt}"
        for name in ("bar", "scatter")
        for fmt in ("png", "svg", "pdf", "html", "json")
    ]
    for name in ("bar", "scatter"):
        assert png_size((tmp_path / "slides" / f"{name}.png").read_bytes()) == (500, 400)
        assert (tmp_path / "slides" / f"{name}.pdf").read_bytes().startswith(b"%PDF-")
        svg = (tmp_path / "slides" / f"{name}.svg").read_text()
        assert "<svg" in svg and 'width="500"' in svg
        assert json.loads((tmp_path / "slides" / f"{name}.json").read_text())["data"]
    assert not list((tmp_path / "slides").glob(".*part*")), "no temporary files left behind"


def test_html_opens_offline_and_never_runs_document_text(tmp_path):
    fig = go.Figure(go.Scatter(x=[1, 2], y=[1, 2], hovertext=[EVIL, "fine"], text=[EVIL, "b"]))
    (path,) = export(fig, tmp_path / "docs.html")
    html = path.read_text()
    assert html.count(get_plotlyjs()) == 1  # plotly.js is inline
    # plotly.js before 7.1 holds one URL itself (map icons on unpkg, for map traces only)
    page = html.replace(get_plotlyjs(), "")
    assert "<script src=" not in page and 'src="http' not in page
    assert len(html) > 1_000_000
    assert "alert(" in html  # the text is there ...
    assert "<script>alert" not in html and "</script><script>alert" not in html  # ... inert
    assert "<img src=x" not in html


def test_cdn_only_when_asked(tmp_path, bar):
    (path,) = export(bar, tmp_path / "small.html", include_plotlyjs="cdn")
    assert "cdn.plot.ly" in path.read_text()


@pytest.mark.browser
def test_matplotlib_figures_export_through_the_same_call(tmp_path):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([1, 2, 3], [2, 1, 3])
    paths = export({"line": fig}, tmp_path, formats=("png", "pdf", "svg"), scale=2)
    assert png_size(paths[0].read_bytes()) == (800, 600)
    assert paths[1].read_bytes().startswith(b"%PDF-")
    assert "<svg" in paths[2].read_text()
    with pytest.raises(CubeError, match="cannot be saved as html"):
        export(fig, tmp_path / "line.html")
    plt.close(fig)


def test_bad_arguments_are_clear(tmp_path, bar):
    with pytest.raises(CubeError, match="unknown figure format 'gif'"):
        export(bar, tmp_path / "x", formats="gif")
    with pytest.raises(CubeError, match="not a plotly or matplotlib figure"):
        export("a string", tmp_path / "x.png")
    with pytest.raises(CubeError, match="plain file name"):
        export({"../escape": bar}, tmp_path)


def test_formats_are_parsed_in_one_place_with_one_error():
    assert parse_formats("PNG, .jpg,png") == ("png", "jpeg")
    assert parse_formats(["svg", ".HTML", "svg"]) == ("svg", "html")
    assert parse_formats(()) == ()
    with pytest.raises(InputError, match=r"^formats=: unknown figure format 'gif'; use a") as info:
        parse_formats("png,gif")
    assert "--" not in str(info.value) and "\n" not in str(info.value)
    assert set(cube.figures.DEFAULT_FORMATS) <= set(cube.figures.FORMATS)
    assert set(cube.figures.STATIC_FORMATS) == set(cube.figures.FORMATS) - {"html", "json"}


def test_export_takes_a_comma_separated_string_of_formats(tmp_path, bar):
    paths = export(bar, tmp_path / "bar", formats="json,HTML,json")  # no browser needed
    assert [p.name for p in paths] == ["bar.json", "bar.html"]
    assert all(p.is_file() for p in paths)


def test_public_names_say_they_are_cube_figures():
    for name in cube.figures.__all__:
        obj = getattr(cube.figures, name)
        if callable(obj):
            assert obj.__module__ == "cube.figures", name


@pytest.mark.browser
def test_chrome_is_found_with_no_configuration():
    assert find_browser()  # CI installs Debian's chromium; nothing is configured


def test_broken_browser_path_fails_fast(tmp_path, bar, monkeypatch):
    monkeypatch.setenv("BROWSER_PATH", str(tmp_path / "no-chrome-here"))
    started = time.monotonic()
    with pytest.raises(BrowserNotFoundError, match=r"BROWSER_PATH=.*no-chrome-here"):
        export(bar, tmp_path / "bar.png")
    assert time.monotonic() - started < 5
    assert not (tmp_path / "bar.png").exists()


def test_no_browser_anywhere_names_what_to_install(tmp_path, bar, monkeypatch):
    from cube.figures import _export

    _export.stop_session()
    monkeypatch.delenv("BROWSER_PATH", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(_browser, "TYPICAL_PATHS", ())
    monkeypatch.setattr(_browser, "_kaleido_copy", lambda: None)
    started = time.monotonic()
    with pytest.raises(BrowserNotFoundError, match=r"apt-get install chromium.*BROWSER_PATH"):
        export(bar, tmp_path / "bar.png")
    assert time.monotonic() - started < 5


@pytest.mark.browser
def test_an_image_made_before_comes_from_the_cache_without_a_browser(
    tmp_path, bar, monkeypatch, cube_cache
):
    from cube.figures import _export

    (first,) = export(bar, tmp_path / "a" / "bar.png")
    stored = list((cube_cache / "figures").glob("*.png"))
    assert len(stored) == 1 and stored[0].read_bytes() == first.read_bytes()

    def no_browser(jobs, mathjax):
        raise AssertionError(f"rendered {len(jobs)} image(s) that were in the cache")

    monkeypatch.setattr(_export, "_render", no_browser)
    (again,) = export(bar, tmp_path / "b" / "bar.png")
    assert again.read_bytes() == first.read_bytes()

    rendered = []

    def stand_in(jobs, mathjax):
        rendered.extend(jobs)
        for job in jobs:
            job["path"].write_bytes(b"stand-in")

    monkeypatch.setattr(_export, "_render", stand_in)
    changed = go.Figure(bar).update_layout(title="Other topics")
    export(changed, tmp_path / "c" / "bar.png")
    assert len(rendered) == 1  # another figure: rendered, not taken from the cache
    export(bar, tmp_path / "d" / "bar.png", width=300)  # another size: rendered too
    assert len(rendered) == 2


def test_time_periods_bin_years_and_dates_to_at_most_forty():
    import pandas as pd

    from cube.figures import MAX_BINS, time_bins, time_periods

    assert time_periods([1999, 2001, 1999]) == ([1999, 2001, 1999], "year")
    decades, word = time_periods(list(range(1790, 2022)))
    assert word == "decade" and decades[:11] == [1790] * 10 + [1800]
    days = pd.date_range("2020-01-01", periods=30, freq="D").astype(str).tolist()
    assert time_periods(days)[1] == "day"
    a_year = pd.date_range("2020-01-01", periods=366, freq="D").astype(str).tolist()
    months, word = time_periods(a_year)
    assert word == "month" and len(set(months)) == 12
    assert months[0] == pd.Timestamp("2020-01-01") and months[-1] == pd.Timestamp("2020-12-01")
    ten_years = pd.date_range("2000-01-01", periods=3650, freq="D").astype(str).tolist()
    assert time_periods(ten_years)[1] == "quarter"  # 40 quarters, the most allowed
    centuries = pd.date_range("1800-01-01", periods=300, freq="YS").astype(str).tolist()
    bins, word = time_periods(centuries)
    assert word == "decade" and len(set(bins)) == 30 <= MAX_BINS
    assert time_bins(["03/07/2020", "2020-03-08"]) == [
        pd.Timestamp("2020-03-07"),  # month first, as pandas reads it
        pd.Timestamp("2020-03-08"),
    ]
    with pytest.raises(ValueError, match="rows \\[2\\] are neither years nor dates"):
        time_periods([1999, "soon"])
