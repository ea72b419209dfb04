"""Public names shown where users find them, as httpx does; faces that load them lazily.

A function defined in ``cube/embeddings/_embed.py`` and re-exported by ``cube.embeddings``
says ``cube.embeddings`` in ``help()``, reprs and tracebacks, not its private file.

A face whose names are costly to import (``cube``, ``cube.topics``) lists them once, in one
``{module: names}`` table given to :func:`lazy_face`; a ``__init__.pyi`` stub beside it tells
type checkers and editors what the names are (the habit of scientific Python's
``lazy_loader``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Mapping, MutableMapping
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


def lazy_face(
    namespace: MutableMapping[str, Any],
    table: Mapping[str, Iterable[str]],
    *,
    submodules: Iterable[str] = (),
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """A face's ``__getattr__``, ``__dir__`` and ``__all__`` from one ``{module: names}`` table.

    Each name is imported from its module the first time it is used, then kept in the face's
    ``namespace``. A name from one of the face's own private files (``"._model"``, a module
    relative to the face) is rehomed to the face, so ``help()`` says ``cube.topics.fit``; a
    name taken from another face keeps the home that face gave it. ``submodules`` are the
    face's subpackages, imported on first use too (``cube.topics``). ``__all__`` is the
    table's names in its order, then the submodules.

    Example:
        >>> __getattr__, __dir__, __all__ = lazy_face(
        ...     globals(), {"._model": ("TopicSettings", "fit"), "cube.reductions": ("reduce",)}
        ... )
    """
    face = namespace["__name__"]
    homes: dict[str, str] = {}
    for module, names in table.items():
        for name in names:
            if name in homes:
                raise ValueError(f"{face}: {name!r} is listed under {homes[name]} and {module}")
            homes[name] = module
    packages = tuple(submodules)

    def __getattr__(name: str) -> Any:
        if name in homes:
            module = importlib.import_module(homes[name], face)
            value = getattr(module, name)
            if module.__name__.startswith(f"{face}._"):
                rehome({name: value}, [name], face)
        elif name in packages:
            value = importlib.import_module(f"{face}.{name}")
        else:
            raise AttributeError(f"module {face!r} has no attribute {name!r}")
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *homes, *packages})

    return __getattr__, __dir__, [*homes, *packages]
