"""The output folder of ``cube topics``: all or nothing, one writer, no debris.

Everything is built in a hidden sibling folder (``.NAME.partial-XXXX``) and renamed into place
at the end, so a failed or interrupted run leaves no half-written output folder.

Locks (``filelock``): a run holds ``.NAME.lock`` beside ``--out`` from its checks to its end, so
a second run on the same output stops at once; and ``.NAME.partial-XXXX.lock`` while it writes
its staging folder, so that a later run sweeps only the staging folders of runs that died (no
lock holder) and are older than :data:`STALE_SECONDS`.
"""

from __future__ import annotations

import contextlib
import glob
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

from cube._errors import InputError

STALE_SECONDS = 600  # a staging folder this old whose lock nobody holds is debris


def _atomic_rename_into(staging: Path, out: Path) -> None:
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{uuid.uuid4().hex[:8]}")
        out.rename(old)
    try:
        staging.rename(out)
    except BaseException:
        if old is not None:
            old.rename(out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


_LEFTOVER = re.compile(r"\.(partial|old)-[0-9a-f]+")


def _release(lock) -> None:
    """Remove a lock file we hold, then let go (filelock leaves the file otherwise)."""
    with contextlib.suppress(OSError):
        Path(lock.lock_file).unlink()
    lock.release()


def sweep_stale(target: Path, *, older_than: float = STALE_SECONDS) -> list[Path]:
    """Remove ``.NAME.partial-*`` and ``.NAME.old-*`` folders that earlier runs left beside
    ``target`` when killed: only those older than ``older_than`` seconds whose lock no live run
    holds. Returns the folders removed."""
    from filelock import FileLock, Timeout

    prefix = f".{target.name}"
    removed = []
    now = time.time()
    for path in sorted(target.parent.glob(f"{glob.escape(prefix)}.*")):
        rest = path.name[len(prefix) :]
        is_lock_file = rest.endswith(".lock") and _LEFTOVER.fullmatch(rest[: -len(".lock")])
        if not (_LEFTOVER.fullmatch(rest) or is_lock_file):
            continue
        try:
            info = path.lstat()
        except OSError:
            continue
        if now - info.st_mtime < older_than:
            continue
        if is_lock_file:  # of a run killed outright; its folder is handled on its own
            if not path.with_name(path.name[: -len(".lock")]).exists():
                lock = FileLock(path, timeout=0)
                with contextlib.suppress(Timeout, OSError):
                    lock.acquire()
                    _release(lock)
            continue
        if path.is_symlink() or not path.is_dir():
            continue
        lock = FileLock(f"{path}.lock", timeout=0)
        try:
            lock.acquire()
        except (Timeout, OSError):
            continue  # a live run is writing it
        try:
            shutil.rmtree(path, ignore_errors=True)
            if not path.exists():
                removed.append(path)
        finally:
            _release(lock)
    return removed


@contextlib.contextmanager
def claim(target: Path, say: Callable[[str], None] = print) -> Iterator[Path]:
    """Hold ``target``'s name for this run and yield a fresh, locked staging folder beside it.

    The staging folder is removed when the block fails or is interrupted (Ctrl-C, SIGTERM).
    """
    from filelock import FileLock, Timeout

    name_lock = FileLock(target.parent / f".{target.name}.lock", timeout=0)
    try:
        name_lock.acquire()
    except Timeout:
        raise InputError(
            f"another cube topics run is writing {target} right now; wait for it to finish "
            "or choose another out="
        ) from None
    try:
        removed = sweep_stale(target)
        if removed:
            say(f"      removed {len(removed)} leftover folder(s) of earlier interrupted runs")
        staging = target.parent / f".{target.name}.partial-{uuid.uuid4().hex[:8]}"
        staging_lock = FileLock(f"{staging}.lock", timeout=0)
        staging_lock.acquire()
        try:
            staging.mkdir()
            try:
                yield staging
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
        finally:
            _release(staging_lock)
    finally:
        _release(name_lock)
