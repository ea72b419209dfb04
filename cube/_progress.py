"""What a run tells people: progress bars (widgets in a live notebook, plain text in a terminal,
none in a handout) and sizes in bytes as people read them."""

from __future__ import annotations

from typing import Any

from cube import _config

RENDERING_ENV = "CUBE_RENDERING"  # set by `cube render` for the kernels it starts (see _config)


def progress(*args: Any, **kwargs: Any):
    """A ``tqdm`` bar: ``tqdm.auto`` interactively, a disabled one under ``cube render``.

    A handout shows figures and printed results only: a bar rendered there would be a stale
    "it/s" line (or a widget's ``HBox(...)`` repr), so when rendering the bar is disabled:
    it iterates as usual and draws nothing.
    """
    if _config.get_config().rendering:
        from tqdm.std import tqdm

        return tqdm(*args, **{**kwargs, "disable": True})
    from tqdm.auto import tqdm

    return tqdm(*args, **kwargs)


def human_bytes(size: float) -> str:
    """A size for people: bytes up to 1023, then KB, MB and GB with one decimal.

    Example:
        >>> human_bytes(1536)
        '1.5 KB'
    """
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"
