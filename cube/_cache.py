"""cube's one cache subsystem: where it lives, whether it is on, how keys and files are made.

- :func:`root` and its folders (``embeddings/``, ``reductions/``) under the ``cache_dir`` setting;
- :func:`enabled`: the ``cache`` setting (``CUBE_CACHE=0`` or ``cube.set_config(cache=False)``);
- :func:`fingerprint`: the one way cube turns inputs into a cache key (like Hugging Face
  datasets' fingerprints): a SHA-256 of a canonical JSON of the settings, then of each array's
  shape and bytes;
- :func:`file_sha256`: the one way cube checks a file's bytes (an export, an archive entry, a
  downloaded wheel);
- :func:`imported_space_keys`: the embedding spaces whose vectors came from an imported cache
  archive (``imported.json``), which keep their vectors whichever backend this machine would use;
- :func:`atomic_write`: the one way cube writes a file, in the cache or anywhere else: to a
  temporary name beside the target, then renamed into place, so a reader sees the whole file
  or none.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from cube import _config
from cube._errors import CubeError

PART_SUFFIX = ".part"
IMPORTED_SPACES = "imported.json"  # in the root: the spaces that came from an archive


def root() -> Path:
    """The cache's root folder (the ``cache_dir`` setting, ``CUBE_CACHE_DIR``)."""
    return _config.cache_dir()


def embeddings_dir() -> Path:
    return root() / "embeddings"


def reductions_dir() -> Path:
    return root() / "reductions"


def figures_dir() -> Path:
    """Static images (PNG, SVG, ...) keyed by a hash of the figure and its export options."""
    return root() / "figures"


def enabled() -> bool:
    """False when the ``cache`` setting turned the on-disk cache off."""
    return _config.get_config().cache


def fingerprint(settings: Any, *arrays: np.ndarray, length: int = 64) -> str:
    """A hex SHA-256 key for ``settings`` (anything JSON can hold) and the given arrays.

    Example:
        >>> fingerprint({"n_components": 5, "seed": 0}, length=12)
        '3c0b6fbd1c7b'
    """
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for array in arrays:
        digest.update(np.ascontiguousarray(array).data)
    return digest.hexdigest()[:length]


def file_sha256(path: str | os.PathLike) -> str:
    """The hex SHA-256 of a file's bytes, read a block at a time (any size fits in memory).

    Example:
        >>> _ = Path("empty.txt").write_bytes(b"")
        >>> file_sha256("empty.txt")
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'
    """
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def atomic_write(
    path: str | os.PathLike,
    data: bytes | str | Callable[[Path], Any],
    *,
    durable: bool = False,
) -> Path:
    """Write ``path`` whole or not at all; ``data`` is bytes, text, or ``write(tmp_path)``.

    ``durable=True`` also flushes the file and its folder to disk before returning (cache
    chunks, which must survive a power cut as they are or not at all).

    Example:
        >>> atomic_write("summary.json", json.dumps(summary))
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}{PART_SUFFIX}")
    try:
        if isinstance(data, bytes):
            tmp.write_bytes(data)
        elif isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            data(tmp)
        if durable:
            with open(tmp, "rb+") as f:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    if durable:
        _fsync_dir(path.parent)
    return path


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def imported_space_keys(folder: Path | None = None) -> list[str]:
    """The embedding spaces whose vectors came from an imported archive into the cache at
    ``folder`` (default: :func:`root`); none: ``[]``.

    Example:
        >>> imported_space_keys()
        []
    """
    path = (folder or root()) / IMPORTED_SPACES
    with contextlib.suppress(OSError, ValueError, TypeError, KeyError):
        return [str(s) for s in json.loads(path.read_text("utf-8"))["spaces"]]
    return []


def remember_imported_spaces(spaces: list[str], folder: Path | None = None) -> None:
    """Add ``spaces`` to the imported ones of the cache at ``folder`` (default: :func:`root`).

    Example:
        >>> remember_imported_spaces(report.spaces)
    """
    if not spaces:
        return
    folder = folder or root()
    known = set(imported_space_keys(folder))
    atomic_write(
        folder / IMPORTED_SPACES, json.dumps({"spaces": sorted(known | set(spaces))}, indent=1)
    )


def made_once(
    folder: Path, verified: Callable[[Path], str | None], make: Callable[[Path], str]
) -> str:
    """The digest of a folder the cache derives from a model (its ONNX export, its static model):
    ``verified(folder)`` when the folder is whole, else ``make(folder)`` under a file lock, so two
    processes asking at once make it once (the second finds it made). An unwritable cache is one
    :class:`CubeError` line.

    Example:
        >>> made_once(folder, read_verified, lambda f: export(model_path, f))
        '739ccdcca1280c43...'
    """
    digest = verified(folder)
    if digest is not None:
        return digest
    from filelock import FileLock

    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        with FileLock(folder.parent / f".{folder.name}.lock"):
            digest = verified(folder)  # another process may have made it meanwhile
            if digest is None:
                digest = make(folder)
    except OSError as exc:
        raise CubeError(
            f"cannot write to the cache at {folder.parent} ({exc.strerror}); "
            "set CUBE_CACHE_DIR to a writable folder"
        ) from exc
    return digest
