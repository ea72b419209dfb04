"""Files fetched once, checked by SHA-256, kept in a download folder between packs."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cube._cache import atomic_write, file_sha256
from cube._errors import CubeError
from cube._progress import progress
from cube.workshop._lock import WheelFile

_BLOCK = 1 << 20


def _fetch(file: WheelFile, store: Path, bar) -> Path:
    target = store / file.filename
    if target.is_file() and file_sha256(target) == file.sha256:
        bar.update(target.stat().st_size)
        return target

    def write(tmp: Path) -> None:
        digest = hashlib.sha256()
        try:
            with urllib.request.urlopen(file.url, timeout=60) as response, open(tmp, "wb") as out:
                while block := response.read(_BLOCK):
                    digest.update(block)
                    out.write(block)
                    bar.update(len(block))
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise CubeError(
                f"cannot download {file.url} ({getattr(exc, 'reason', exc)}); check the network "
                "and run cube pack again (files already fetched are kept)"
            ) from exc
        if digest.hexdigest() != file.sha256:
            raise CubeError(
                f"{file.filename} does not match the hash in uv.lock; refusing it (run again; "
                "if it persists, the index serves another file than the one locked)"
            )

    atomic_write(target, write)
    return target


def fetch_all(files: list[WheelFile], store: Path, *, threads: int = 4) -> list[Path]:
    """Download each file into ``store`` once (kept files are re-checked, not re-fetched)."""
    store.mkdir(parents=True, exist_ok=True)
    unique = list({f.filename: f for f in files}.values())
    total = sum(f.size or 0 for f in unique)
    with (
        progress(total=total, unit="B", unit_scale=True, desc="wheels") as bar,
        ThreadPoolExecutor(threads) as pool,
    ):
        return list(pool.map(lambda f: _fetch(f, store, bar), unique))


def place(source: Path, target: Path) -> None:
    """``source``'s bytes at ``target``: a hard link when the file system allows, else a copy.

    Only for the download folder's files, which are never changed in place (a new download is
    a new file renamed over the old).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileNotFoundError):
        target.unlink()
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
