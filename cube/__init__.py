"""cube: a Jupyter-first kit for learning and doing topic modeling.

``import cube`` is light: torch, sentence-transformers, BERTopic and plotly load the first
time something needs them.

Example:
    >>> import cube
    >>> vectors = cube.embed(["The union is strong.", "Taxes were cut."])
"""

from __future__ import annotations

from cube._config import config_context, get_config, set_config
from cube._errors import (
    BrowserFailedError,
    BrowserNotFoundError,
    CacheWarning,
    CubeError,
    InputError,
    ModelNotFoundError,
)
from cube._public import lazy_face
from cube._version import __version__

# Public names that live in submodules, imported on first access (scikit-learn style), and
# the stages, in the order data flows through them, then the helpers around them. For type
# checkers, __init__.pyi says the same (tests/test_faces.py keeps them equal).
_PUBLIC = {
    "cube.embeddings": ("embed",),
    "cube.reductions": ("reduce",),
}
_SUBMODULES = (
    "datasets",
    "embeddings",
    "reductions",
    "topics",
    "figures",
    "pipeline",
    "notebook",
    "widgets",
    "distributed",
)
__getattr__, __dir__, __all__ = lazy_face(globals(), _PUBLIC, submodules=_SUBMODULES)
__all__ += [  # the light names imported above
    "BrowserFailedError",
    "BrowserNotFoundError",
    "CacheWarning",
    "CubeError",
    "InputError",
    "ModelNotFoundError",
    "__version__",
    "config_context",
    "get_config",
    "set_config",
]
