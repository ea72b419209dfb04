"""Progress bars: widgets in a live notebook, plain text when rendering or in a terminal."""

from __future__ import annotations

from typing import Any

from cube import _config

RENDERING_ENV = "CUBE_RENDERING"  # set by `cube render` for the kernels it starts (see _config)


def progress(*args: Any, **kwargs: Any):
    """A ``tqdm`` bar: ``tqdm.auto`` interactively, text under ``cube render``.

    In a headless render, widget bars would end up as ``HBox(...)`` lines (and a widget
    script from a CDN) in the HTML, so they are plain text there.
    """
    if _config.get_config().rendering:
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm
    return tqdm(*args, **kwargs)
