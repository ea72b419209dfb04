"""``cube.notebook.setup()``: one call at the top of a notebook.

It makes plotly figures interactive in JupyterLab *and* kept in ``jupyter nbconvert --to html``
(plotly.js inline once per notebook, so the HTML works offline) *and* carried as a PNG for
GitHub's viewer and PDF exports, each with its description in words beneath it (and as its
accessible name): a standard figure's :func:`cube.figures.describe` text, else what the
figure says about itself (:func:`cube.figures._describe.figure_description`).
"""

from __future__ import annotations

import base64
import warnings
from dataclasses import dataclass
from typing import Any

from cube import _config
from cube._version import __version__

RENDERER_NAME = "cube"
DESCRIPTION_RENDERER = "cube_description"
DESCRIPTION_CLASS = "cube-figure-description"
_PLOTLYJS_MARKER = "cube-plotlyjs"


def description_bundle(fig_dict: dict) -> dict[str, str]:
    """The output shown beneath a figure: its description in words (HTML and plain text).

    Example:
        >>> description_bundle(px.bar(x=["a"], y=[1], title="One bar").to_dict())["text/plain"]
        'In words: “One bar”: A bar chart; x axis: x; y axis: y.'
    """
    from html import escape

    from cube.figures import figure_description

    text = figure_description(fig_dict)
    return {
        "text/html": f'<p class="{DESCRIPTION_CLASS}"><em>In words:</em> {escape(text)}</p>',
        "text/plain": f"In words: {text}",
    }


def _description_renderer_class():
    from plotly.io.base_renderers import ExternalRenderer

    class DescriptionRenderer(ExternalRenderer):
        """Shows the figure's description as its own output, after the figure's bundle (plotly
        runs the "external" renderers after it has displayed the mimetype ones)."""

        def render(self, fig_dict: dict) -> None:
            from IPython.display import display

            display(description_bundle(fig_dict), raw=True)

    return DescriptionRenderer


def _renderer_class():
    from plotly.io.base_renderers import MimetypeRenderer, PlotlyRenderer

    class CubeRenderer(MimetypeRenderer):
        """One bundle per figure: plotly JSON (JupyterLab), an HTML div (nbconvert), a PNG."""

        def __init__(self, png: bool = True, scale: float = 1.0) -> None:
            self.png = png
            self.scale = scale
            self._png_failed = False
            self._plotly = PlotlyRenderer()

        def to_mimebundle(self, fig_dict: dict) -> dict[str, Any]:
            from html import escape

            import plotly.io as pio

            from cube.figures import figure_alt_text

            bundle = self._plotly.to_mimebundle(fig_dict)
            # A screen reader meets the interactive figure by its name: the words beneath it.
            label = escape(figure_alt_text(fig_dict), quote=True)
            bundle["text/html"] = (
                f'<div role="figure" aria-label="{label}">'
                + pio.to_html(
                    fig_dict,
                    include_plotlyjs=False,  # loaded once by setup(), see _plotlyjs_html
                    include_mathjax=False,
                    full_html=False,
                    default_width="100%",
                    default_height=525,
                    validate=False,
                    config={"responsive": True},
                )
                + "</div>"
            )
            if self.png and not self._png_failed:
                png = self._render_png(fig_dict)
                if png is not None:
                    bundle["image/png"] = base64.b64encode(png).decode("ascii")
            return bundle

        def _render_png(self, fig_dict: dict) -> bytes | None:
            from cube.figures import to_png

            try:
                return to_png(fig_dict, scale=self.scale)
            except Exception as exc:  # the interactive figure still shows; say why once
                self._png_failed = True
                warnings.warn(
                    f"cube: figures will have no PNG copy (for GitHub and PDF): {exc}",
                    stacklevel=2,
                )
                return None

    return CubeRenderer


def _plotlyjs_html() -> str:
    from plotly.offline import get_plotlyjs

    return (
        f'<div id="{_PLOTLYJS_MARKER}" style="display:none"></div>'
        "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script>"
        f'<script type="text/javascript">{get_plotlyjs()}</script>'
    )


@dataclass(frozen=True)
class Environment:
    """What :func:`setup` found; printed as one line."""

    version: str
    model: str
    model_source: str
    device: str
    cache_dir: str
    png: str

    def __str__(self) -> str:
        return (
            f"cube {self.version} | model {self.model} ({self.model_source}) | "
            f"device {self.device} | cache {self.cache_dir} | figures: interactive + {self.png}"
        )


def environment(*, png_state: str = "PNG") -> Environment:
    """cube's version, the default model and where it comes from, the device, the cache."""
    from cube.embeddings import pick_device, resolve_model

    try:
        model_source = resolve_model(_config.DEFAULT_MODEL, allow_download=False).source
    except Exception:
        model_source = "not installed: run `cube doctor`"
    return Environment(
        version=__version__,
        model=_config.DEFAULT_MODEL,
        model_source=model_source,
        device=pick_device(),
        cache_dir=str(_config.cache_dir()),
        png=png_state,
    )


def setup(*, png: bool = True, scale: float = 1.0, quiet: bool = False) -> None:
    """Configure plotly and progress bars for this notebook and print a one-line summary.

    Call it once, in the first code cell. Afterwards every plotly figure is interactive in
    JupyterLab, survives ``jupyter nbconvert --to html`` (plotly.js is embedded once, here,
    so the page works offline), carries a PNG copy (``png=False`` to skip it), and has its
    description in words printed beneath it.

    Example:
        >>> import cube
        >>> cube.notebook.setup()
        cube 0.1.0 | model all-MiniLM-L6-v2 (bundled package) | device cpu | ...
    """
    import plotly.io as pio

    pio.renderers[RENDERER_NAME] = _renderer_class()(png=png, scale=scale)
    pio.renderers[DESCRIPTION_RENDERER] = _description_renderer_class()()
    pio.renderers.default = f"{RENDERER_NAME}+{DESCRIPTION_RENDERER}"
    png_state = "no PNG"
    if png:
        try:
            from cube.figures import find_browser

            png_state = f"PNG ({find_browser()})"
        except Exception as exc:
            png_state = f"no PNG ({exc})"
            pio.renderers[RENDERER_NAME].png = False

    try:
        from IPython.display import HTML, display

        display(HTML(_plotlyjs_html()))
    except ImportError:  # plain Python: nothing to embed into
        pass
    if not quiet:
        print(environment(png_state=png_state))


def sample_size(normal: int, quick: int) -> int:
    """``quick`` when ``CUBE_QUICK=1`` (rendering, tests), else ``normal``.

    Example:
        >>> cube.notebook.sample_size(3000, quick=400)
        3000
    """
    return quick if _config.quick_mode() else normal
