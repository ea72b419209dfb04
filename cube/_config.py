"""cube's settings, in one place: ``set_config``, ``config_context`` and ``get_config``.

Every environment variable cube reads is read here, once per process, as the default of a
setting; ``set_config`` (or the ``config_context`` block) overrides it from code:

- ``CUBE_CACHE_DIR``  ``cache_dir``: where embeddings, reductions and model fingerprints live
  (default: the platform's user cache directory, e.g. ``~/.cache/cube`` on Linux).
- ``CUBE_CACHE``      ``cache``: ``0`` turns the on-disk cache off (nothing read or written).
- ``CUBE_DEVICE``     ``device``: force a torch device (``cpu``, ``cuda``, ``mps``).
- ``CUBE_EMBEDDING_BACKEND`` ``embedding_backend``: ``auto`` (default), ``onnx`` or ``torch``
  (see ``cube.embed``).
- ``CUBE_QUICK``      ``quick``: ``1`` makes notebooks and ``cube render`` use small samples.
- ``CUBE_RENDERING``  ``rendering``: set by ``cube render`` for its kernels (plain-text progress).
- ``BROWSER_PATH``    ``browser_path``: the Chrome/Chromium that figure export drives.
- ``HF_HUB_OFFLINE``  ``hub_offline`` (also ``TRANSFORMERS_OFFLINE``): never touch the hub.
- ``HF_ENDPOINT``     ``hub_endpoint``: the Hugging Face hub's address.

Example:
    >>> import cube
    >>> with cube.config_context(cache=False):
    ...     vectors = cube.embed(["not cached"])
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

DEFAULT_MODEL = "all-MiniLM-L6-v2"
# Above this many documents the topics are fitted on a seeded sample of this many and the
# others join the most similar topic (cube.topics.fit_on_sample, cube topics --fit-sample).
DEFAULT_FIT_SAMPLE = 200_000
"""BERTopic's default sentence-transformers model; bundled for offline use by ``cube[offline]``."""

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


def _env_flag(*names: str, default: bool = False) -> bool:
    for name in names:
        value = (_env(name) or "").lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
    return default


@dataclasses.dataclass(frozen=True)
class Config:
    """cube's settings; read them with :func:`get_config`, change them with :func:`set_config`."""

    cache_dir: Path | None = None  # None: the user cache directory
    cache: bool = True
    device: str | None = None
    embedding_backend: str = "auto"
    quick: bool = False
    rendering: bool = False
    browser_path: str | None = None
    hub_offline: bool = False
    hub_endpoint: str = "https://huggingface.co"
    # Embedding writes finished vectors to the cache at least this often (seconds), so an
    # interrupted run keeps them; 0 stores every step as soon as it is done.
    flush_seconds: float = 5.0

    @classmethod
    def from_environment(cls) -> Config:
        cache_dir = _env("CUBE_CACHE_DIR")
        return cls(
            cache_dir=Path(cache_dir).expanduser() if cache_dir else None,
            cache=_env_flag("CUBE_CACHE", default=True),
            device=_env("CUBE_DEVICE"),
            embedding_backend=(_env("CUBE_EMBEDDING_BACKEND") or cls.embedding_backend).lower(),
            quick=_env_flag("CUBE_QUICK"),
            rendering=_env_flag("CUBE_RENDERING"),
            browser_path=_env("BROWSER_PATH"),
            hub_offline=_env_flag("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"),
            hub_endpoint=(_env("HF_ENDPOINT") or cls.hub_endpoint).rstrip("/"),
        )


_FIELDS = {f.name for f in dataclasses.fields(Config)}
_overrides: dict[str, Any] = {}  # set_config, for the whole process
_local = threading.local()  # config_context, for one thread


def get_config() -> Config:
    """The settings in force: the environment's values, with ``set_config`` and
    ``config_context`` changes on top (the environment is read at each call, so a variable set
    later still counts unless code overrode it).

    Example:
        >>> cube.get_config().quick
        False
    """
    settings = {**_overrides, **getattr(_local, "overrides", {})}
    return _replace(Config.from_environment(), settings)


def set_config(**settings: Any) -> None:
    """Change settings for the rest of the process, e.g. ``set_config(cache_dir="/tmp/c")``.

    Example:
        >>> cube.set_config(device="cpu", quick=True)
    """
    _replace(Config(), settings)  # unknown names fail here, before anything changes
    _overrides.update(settings)


@contextlib.contextmanager
def config_context(**settings: Any) -> Iterator[Config]:
    """Settings changed inside a ``with`` block only (in this thread).

    Example:
        >>> with cube.config_context(cache=False):
        ...     cube.embed(["computed, not cached"])
    """
    _replace(Config(), settings)
    saved = getattr(_local, "overrides", {})
    _local.overrides = {**saved, **settings}
    try:
        yield get_config()
    finally:
        _local.overrides = saved


def reset_config() -> None:
    """Forget every ``set_config`` change: back to the environment's values."""
    _overrides.clear()


def _replace(config: Config, settings: dict[str, Any]) -> Config:
    unknown = sorted(set(settings) - _FIELDS)
    if unknown:
        from cube._errors import CubeError

        raise CubeError(
            f"unknown setting {', '.join(map(repr, unknown))}; "
            f"the settings are: {', '.join(sorted(_FIELDS))}"
        )
    if settings.get("cache_dir") is not None:
        settings = {**settings, "cache_dir": Path(settings["cache_dir"]).expanduser()}
    return dataclasses.replace(config, **settings) if settings else config


# -- derived values ------------------------------------------------------------------------
def cache_dir() -> Path:
    """The root of cube's on-disk cache (``cache_dir`` setting, else the user cache directory)."""
    configured = get_config().cache_dir
    if configured is not None:
        return configured
    import platformdirs

    return Path(platformdirs.user_cache_dir("cube", appauthor=False))


def device_override() -> str | None:
    return get_config().device


def quick_mode() -> bool:
    """True when ``quick`` (``CUBE_QUICK``) asks for small samples (notebook rendering, CI)."""
    return get_config().quick


def hub_offline() -> bool:
    """True when the Hugging Face hub must not be contacted."""
    return get_config().hub_offline


def hub_endpoint() -> str:
    return get_config().hub_endpoint


def browser_path() -> str | None:
    return get_config().browser_path
