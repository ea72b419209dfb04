"""Public names shown where users find them, as httpx does.

A function defined in ``cube/embeddings/_embed.py`` and re-exported by ``cube.embeddings``
says ``cube.embeddings`` in ``help()``, reprs and tracebacks, not its private file.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any


def rehome(
    namespace: Mapping[str, Any], names: Iterable[str], module: str, **elsewhere: str
) -> None:
    """Set ``__module__`` of each function and class in ``names`` to ``module``.

    ``elsewhere`` maps a name to another public home (``embed="cube"`` for ``cube.embed``).

    Example:
        >>> rehome(globals(), __all__, __name__, reduce="cube")
    """
    for name in names:
        value = namespace.get(name)
        if isinstance(value, type) or (callable(value) and hasattr(value, "__code__")):
            value.__module__ = elsewhere.get(name, module)
