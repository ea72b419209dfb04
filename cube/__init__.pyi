"""For type checkers and editors: the names of cube, some of which load lazily (__init__.py)."""

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
from cube.embeddings import embed
from cube.reductions import reduce

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
