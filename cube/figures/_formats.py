"""The figure formats: which there are, which need a browser, and how they are written.

Example:
    >>> parse_formats("PNG, .jpg,png")
    ('png', 'jpeg')
"""

from __future__ import annotations

from collections.abc import Iterable

from cube._errors import InputError

STATIC_FORMATS = ("png", "svg", "pdf", "jpeg", "webp")  # images: these need a browser
FORMATS = (*STATIC_FORMATS, "html", "json")
DEFAULT_FORMATS = ("png", "html")  # what a run writes unless told otherwise
ALIASES = {"jpg": "jpeg"}


def format_name(value: str) -> str:
    """One format's canonical name: lower case, no leading dot, ``jpg`` as ``jpeg``."""
    name = value.strip().lower().lstrip(".")
    return ALIASES.get(name, name)


def parse_formats(value: str | Iterable[str]) -> tuple[str, ...]:
    """Figure formats from a comma-separated string (``"png,html"``) or an iterable of names.

    Names are case-insensitive, may start with a dot, ``jpg`` is ``jpeg``; each format is
    kept once, in the order given. An unknown name raises :class:`cube.InputError`.

    Example:
        >>> parse_formats("PNG,jpg,png")
        ('png', 'jpeg')
        >>> parse_formats(["svg", ".html"])
        ('svg', 'html')
    """
    items = value.split(",") if isinstance(value, str) else list(value)
    formats: list[str] = []
    for item in items:
        name = format_name(str(item))
        if name not in FORMATS:
            raise InputError(
                f"formats=: unknown figure format {str(item).strip()!r}; use a comma-separated "
                f"list of {', '.join(FORMATS)}"
            )
        if name not in formats:
            formats.append(name)
    return tuple(formats)
