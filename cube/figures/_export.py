"""Exporting figures: static images through one kaleido browser session, offline HTML, JSON.

kaleido 1.x renders with a headless Chrome; starting one costs seconds, so cube starts it once
per process (kaleido's sync server) and sends every image through it — including the PNGs that
plotly's own ``to_image`` / ``write_image`` and the notebook renderer make afterwards.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from cube._cache import atomic_write
from cube._errors import CubeError
from cube.figures import _session
from cube.figures._browser import check_browser
from cube.figures._formats import ALIASES, FORMATS, format_name, parse_formats

MATPLOTLIB_FORMATS = ("png", "svg", "pdf", "jpeg")


def _mathjax_option(mathjax: bool | str) -> bool | str | None:
    # kaleido: None means "MathJax from a CDN"; False disables it; a path uses a local copy.
    if mathjax is True:
        return None
    return mathjax or False


def start_session(*, mathjax: bool | str = False) -> str:
    """Start (once) the browser that renders static images; returns the browser's path.

    Later calls reuse it; plotly's ``fig.write_image`` and ``pio.to_image`` use it too. It
    stops when Python exits, or with :func:`stop_session`. ``mathjax=False`` (the default)
    keeps rendering offline: kaleido would otherwise load MathJax from a CDN.

    The browser is checked first (:func:`check_browser`, once per process), and its start is
    bounded in time: :class:`cube.BrowserNotFoundError` or :class:`cube.BrowserFailedError`
    instead of a wait.

    Example:
        >>> start_session()
        '/usr/bin/chromium'
    """
    browser = check_browser()
    _session.install().start({"path": browser, "mathjax": _mathjax_option(mathjax)})
    return browser


def stop_session() -> None:
    """Close the rendering browser, if one is running."""
    _session.server.stop()


atexit.register(stop_session)


def _is_matplotlib(fig: object) -> bool:
    return hasattr(fig, "savefig") and not hasattr(fig, "to_plotly_json")


def _is_plotly(fig: object) -> bool:
    return hasattr(fig, "to_plotly_json") or (isinstance(fig, dict) and "data" in fig)


def _normalize_formats(formats: str | Iterable[str] | None, path: Path) -> list[str]:
    """The formats to write: those asked for (:func:`parse_formats`), else the suffix's or png."""
    if formats is None:
        suffix = format_name(path.suffix)
        return [suffix] if suffix in FORMATS else ["png"]
    return list(parse_formats(formats))


def _targets(figures: Any, destination: Path) -> list[tuple[Path, Any]]:
    """(path without suffix, figure) pairs for one figure or a name → figure mapping."""
    if isinstance(figures, Mapping) and not _is_plotly(figures):
        if not figures:
            raise CubeError("no figures to export: the mapping is empty")
        pairs = []
        for name, fig in figures.items():
            if not str(name) or Path(str(name)).name != str(name):
                raise CubeError(f"figure name {name!r} must be a plain file name (no folders)")
            pairs.append((destination / str(name), fig))
        return pairs
    stem = (
        destination.with_suffix("")
        if destination.suffix.lstrip(".") in (*FORMATS, *ALIASES)
        else destination
    )
    return [(stem, figures)]


def export(
    figures: Any,
    destination: str | os.PathLike,
    formats: str | Iterable[str] | None = None,
    *,
    width: int | None = None,
    height: int | None = None,
    scale: float = 1.0,
    include_plotlyjs: bool | str = True,
    mathjax: bool | str = False,
) -> list[Path]:
    """Write one figure, or a mapping of name → figure, to image, HTML and JSON files.

    Plotly figures go to png, svg, pdf, jpeg, webp (all rendered in one browser session),
    html (plotly.js inline, so it opens offline; ``include_plotlyjs="cdn"`` for small files
    that need the internet) and json. Matplotlib figures go to png, svg, pdf and jpeg.

    Args:
        figures: a figure, or a mapping of file name → figure (``destination`` is then a folder).
        destination: a file path (its suffix picks the format if ``formats`` is not given)
            or a folder.
        formats: one format or several (a comma-separated string or an iterable, see
            :func:`cube.figures.parse_formats`); default: the suffix of ``destination``,
            else png.
        width, height: size in CSS pixels (default: the figure's own, else 700 × 500).
        scale: pixel density; a PNG is ``width * scale`` pixels wide.
        include_plotlyjs: HTML only: ``True`` inline, ``"cdn"`` a script tag to the CDN.
        mathjax: ``False`` (offline), ``True`` (from a CDN) or the path of a local MathJax.

    Returns:
        The paths written, figure by figure and format by format.

    Raises:
        cube.InputError: an unknown format (see :func:`cube.figures.parse_formats`).
        cube.BrowserNotFoundError, cube.BrowserFailedError: a static format and no browser
            that starts (or one that stopped answering); HTML and JSON need none.

    Example:
        >>> export({"barchart": fig1, "map": fig2}, "slides/", formats=("png", "html"))
        [PosixPath('slides/barchart.png'), PosixPath('slides/barchart.html'), ...]
    """
    destination = Path(destination).expanduser()
    fmts = _normalize_formats(formats, destination)
    targets = _targets(figures, destination)
    for base, fig in targets:
        if _is_matplotlib(fig):
            bad = [f for f in fmts if f not in MATPLOTLIB_FORMATS]
            if bad:
                raise CubeError(
                    f"{base.name}: a matplotlib figure cannot be saved as {', '.join(bad)}; "
                    f"use {', '.join(MATPLOTLIB_FORMATS)}"
                )
        elif not _is_plotly(fig):
            raise CubeError(
                f"{base.name}: {type(fig).__name__} is not a plotly or matplotlib figure"
            )
    try:
        for base, _ in targets:
            base.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CubeError(f"cannot create {exc.filename} ({exc.strerror})") from exc

    written: list[Path] = []
    static_jobs: list[dict] = []
    for base, fig in targets:
        for fmt in fmts:
            path = base.with_name(f"{base.name}.{fmt}")
            written.append(path)
            if _is_matplotlib(fig):
                atomic_write(
                    path,
                    lambda p, fig=fig, fmt=fmt: fig.savefig(p, format=fmt, dpi=100 * scale),
                )
            elif fmt == "html":
                atomic_write(
                    path,
                    lambda p, fig=fig: _plotly_figure(fig).write_html(
                        p, include_plotlyjs=include_plotlyjs, full_html=True
                    ),
                )
            elif fmt == "json":
                atomic_write(path, lambda p, fig=fig: _plotly_figure(fig).write_json(p))
            else:
                fig_obj = _plotly_figure(fig)
                opts = _image_options(fig_obj, fmt, width, height, scale)
                static_jobs.append({"fig": fig_obj, "path": path, "opts": opts})
    if static_jobs:
        render_static(static_jobs, mathjax=mathjax)
    return written


def _image_options(fig, fmt: str, width: int | None, height: int | None, scale: float) -> dict:
    """kaleido's options: the size asked for, else the figure's own, else 700 x 500."""
    return {
        "format": fmt,
        "width": width or fig.layout.width or 700,
        "height": height or fig.layout.height or 500,
        "scale": scale,
    }


def _plotly_figure(fig: Any):
    if isinstance(fig, dict):
        import plotly.graph_objects as go

        return go.Figure(fig)
    return fig


def _image_key(job: dict, mathjax: bool | str) -> str:
    """What an image is a function of: the figure, the export options and the renderers."""
    from importlib.metadata import version

    from cube import _cache

    fig = job["fig"]
    spec = fig.to_json() if hasattr(fig, "to_json") else json.dumps(fig, sort_keys=True)
    return _cache.fingerprint(
        {
            "figure": hashlib.sha256(spec.encode()).hexdigest(),
            "options": job["opts"],
            "mathjax": str(mathjax),
            "plotly": version("plotly"),
            "kaleido": version("kaleido"),
        },
        length=40,
    )


def render_static(jobs: list[dict], *, mathjax: bool | str = False) -> None:
    """Render kaleido jobs ``{"fig", "path", "opts"}`` in the shared browser session.

    An image made before from the same figure and options is copied from the cache instead
    (no browser starts when every image is there). Bounded: a browser that stops answering
    is ended and :class:`cube.BrowserFailedError` raised (kaleido gives each image a time
    limit; the whole call gets that limit per image).
    """
    from cube import _cache

    todo: list[tuple[dict, Path | None]] = []  # (job, where the cache keeps its image)
    for job in jobs:
        stored = None
        if _cache.enabled():
            stored = _cache.figures_dir() / f"{_image_key(job, mathjax)}.{job['opts']['format']}"
            try:
                atomic_write(Path(job["path"]), stored.read_bytes())
                continue
            except OSError:  # not there yet (or unreadable): render it
                pass
        todo.append((job, stored))
    if not todo:
        return
    _render([job for job, _ in todo], mathjax)
    for job, stored in todo:
        if stored is not None:
            with contextlib.suppress(OSError):  # a cache that cannot take it costs speed only
                stored.parent.mkdir(parents=True, exist_ok=True)
                atomic_write(stored, Path(job["path"]).read_bytes())


def _render(jobs: list[dict], mathjax: bool | str) -> None:
    """Render jobs in the shared browser session, each file written whole or not at all."""
    start_session(mathjax=mathjax)
    final = [Path(job["path"]) for job in jobs]
    staged = [
        dict(job, path=p.with_name(f".{p.stem}.{os.getpid()}.part{p.suffix}"))
        for job, p in zip(jobs, final, strict=True)
    ]
    try:
        _session.server.call(
            "write_fig_from_object",
            (staged,),
            {"cancel_on_error": True},  # else kaleido returns its errors instead of raising
            timeout=_session.RENDER_TIMEOUT * len(staged) + _session.CLOSE_TIMEOUT,
        )
        for job, path in zip(staged, final, strict=True):
            os.replace(job["path"], path)
    finally:
        for job in staged:
            with contextlib.suppress(OSError):
                Path(job["path"]).unlink()


def to_png(
    fig: Any, *, width: int | None = None, height: int | None = None, scale: float = 1.0
) -> bytes:
    """A plotly figure as PNG bytes, rendered in the shared browser session (bounded in time)."""
    start_session()
    fig_obj = _plotly_figure(fig)
    return _session.server.call(
        "calc_fig",
        (fig_obj,),
        {"opts": _image_options(fig_obj, "png", width, height, scale)},
        timeout=_session.RENDER_TIMEOUT + _session.CLOSE_TIMEOUT,
    )
