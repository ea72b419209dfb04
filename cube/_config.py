"""One place for cube's settings: environment variables, paths and defaults.

Every environment variable cube reads is read here, so the list below is complete:

- ``CUBE_CACHE_DIR``  where embeddings, reductions and model fingerprints are cached
  (default: the platform's user cache directory, e.g. ``~/.cache/cube`` on Linux).
- ``CUBE_DEVICE``     force a torch device (``cpu``, ``cuda``, ``mps``) instead of picking one.
- ``CUBE_QUICK``      ``1`` makes notebooks and ``cube render`` use small samples.
- ``BROWSER_PATH``    the Chrome/Chromium that figure export drives.
- ``HF_HUB_OFFLINE``  ``1`` means never touch the Hugging Face hub (read by huggingface_hub too).
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_MODEL = "all-MiniLM-L6-v2"
"""BERTopic's default sentence-transformers model; bundled for offline use by ``cube[offline]``."""

_TRUE = {"1", "true", "yes", "on"}


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUE


def cache_dir() -> Path:
    """The root of cube's on-disk cache (``CUBE_CACHE_DIR`` or the user cache directory)."""
    configured = os.environ.get("CUBE_CACHE_DIR", "").strip()
    if configured:
        return Path(configured).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("cube", appauthor=False))


def embeddings_dir() -> Path:
    return cache_dir() / "embeddings"


def reductions_dir() -> Path:
    return cache_dir() / "reductions"


def device_override() -> str | None:
    value = os.environ.get("CUBE_DEVICE", "").strip()
    return value or None


def quick_mode() -> bool:
    """True when ``CUBE_QUICK`` asks for small samples (notebook rendering, CI)."""
    return _flag("CUBE_QUICK")


def hub_offline() -> bool:
    """True when the Hugging Face hub must not be contacted."""
    return _flag("HF_HUB_OFFLINE") or _flag("TRANSFORMERS_OFFLINE")


def hub_endpoint() -> str:
    return os.environ.get("HF_ENDPOINT", "https://huggingface.co").rstrip("/")


def browser_path() -> str | None:
    value = os.environ.get("BROWSER_PATH", "").strip()
    return value or None
