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

from cube._config import config_context, get_config, set_config
from cube._errors import (
    BrowserFailedError,
    BrowserNotFoundError,
    CacheWarning,
    CubeError,
    InputError,
    ModelNotFoundError,
)
from cube._version import __version__

# Public names that live in submodules, imported on first access (scikit-learn style).
_LAZY = {
    "embed": "cube.embeddings",
    "reduce": "cube.reductions",
}
# The stages, in the order data flows through them, then the helpers around them.
_SUBMODULES = {
    "datasets",
    "embeddings",
    "reductions",
    "topics",
    "figures",
    "pipeline",
    "notebook",
    "widgets",
    "distributed",
}

if TYPE_CHECKING:  # pragma: no cover
    from cube import (
        datasets,
        distributed,
        embeddings,
        figures,
        notebook,
        pipeline,
        reductions,
        topics,
        widgets,
    )
    from cube.embeddings import embed
    from cube.reductions import reduce


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
    "BrowserFailedError",
    "BrowserNotFoundError",
    "CacheWarning",
    "CubeError",
    "InputError",
    "ModelNotFoundError",
    "__version__",
    "config_context",
    "datasets",
    "distributed",
    "embed",
    "embeddings",
    "figures",
    "get_config",
    "notebook",
    "pipeline",
    "reduce",
    "reductions",
    "set_config",
    "topics",
    "widgets",
]
