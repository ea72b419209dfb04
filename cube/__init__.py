"""cube: a Jupyter-first kit for learning and doing topic modeling.

``import cube`` is light: torch, sentence-transformers, BERTopic and plotly load the first
time something needs them.

Example:
    >>> import cube
    >>> vectors = cube.embed(["The union is strong.", "Taxes were cut."])
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from cube._errors import (
    BrowserNotFoundError,
    CacheWarning,
    CubeError,
    InputError,
    ModelNotFoundError,
)

__version__ = "0.1.0"

# Public names that live in submodules, imported on first access (scikit-learn style).
_LAZY = {
    "embed": "cube.embeddings",
}
_SUBMODULES = {"datasets", "embeddings", "figures", "notebook", "topics", "widgets"}

if TYPE_CHECKING:  # pragma: no cover
    from cube import datasets, embeddings, figures, notebook, topics, widgets
    from cube.embeddings import embed


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"cube.{name}")
    else:
        raise AttributeError(f"module 'cube' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY, *_SUBMODULES])


__all__ = [
    "BrowserNotFoundError",
    "CacheWarning",
    "CubeError",
    "InputError",
    "ModelNotFoundError",
    "__version__",
    "datasets",
    "embed",
    "embeddings",
    "figures",
    "notebook",
    "topics",
    "widgets",
]
