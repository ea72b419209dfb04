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
import platform
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cube._errors import InputError

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from cube.pipeline._plan import Plan

STALE_SECONDS = 600  # a staging folder this old whose lock nobody holds is debris

STAGES = ("load", "embed", "reduce", "cluster", "represent", "evaluate", "figures", "export")


def atomic_rename_into(staging: Path, out: Path) -> None:
    """Put the finished ``staging`` folder at ``out``, replacing what was there only once the
    new one is in place (the old one is put back if the rename fails)."""
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


def quality_summary(quality: pd.DataFrame) -> dict[str, float | int]:
    """The overall row of ``cube.topics.evaluate``, as plain numbers for summary.json."""
    from cube.topics import QUALITY_HEADLINE

    overall = quality.loc["overall"]
    return {
        name: (
            int(overall[name])
            if name in ("n_topics", "largest_topic_size")
            else round(float(overall[name]), 4)
        )
        for name in QUALITY_HEADLINE
    }


def run_summary(
    plan: Plan,
    *,
    corpus_rows: int,
    fitted: Any,
    quality: pd.DataFrame,
    copies: Any,
    embed_stats: Any,
    reductions_computed: int,
    timings: Any,
    figures: dict,
    formats: Sequence[str],
    figures_skipped: dict | None,
    texts: Sequence[str],
) -> dict[str, Any]:
    """summary.json: what the run decided, made and measured, and what produced it.

    ``fitted`` is the :class:`~cube.topics.SampleFit`; ``copies`` the near-duplicates found
    among its fitted documents; ``texts`` every modeled document. The environment and the
    embedding space that made the vectors come from :func:`cube.topics.provenance`'s record.
    """
    from cube import _cache
    from cube._version import __version__
    from cube.figures import describe
    from cube.topics import provenance

    topics = fitted.topics
    n_topics = len(set(topics) - {-1})
    fitted_topics = [topics[i] for i in fitted.sample]
    # One record of what produced the model: the texts, the embedding space, the versions.
    record = provenance(texts, embedding=plan.embedding)
    embedding = record["embedding"]
    # Texts found in an imported archive's space (a workshop's cache) were computed by the
    # backend that filled it, not by this machine's.
    embedding["from_imported_cache"] = embed_stats.imported
    embedding["decided"] = "by the plan, before the first embedding"
    return {
        "cube_version": __version__,
        "source": plan.source,
        "documents": corpus_rows,
        # With a fit sample: the topics, words, quality and figures come from the sample.
        "fit_sample": None
        if not fitted.sampled
        else {
            "fitted_on": len(fitted.sample),
            "assigned_by_similarity": int(corpus_rows - len(fitted.sample)),
            "threshold": round(fitted.threshold, 4),
        },
        "topics": n_topics,
        "outliers": int(sum(1 for t in topics if t == -1)),
        "quality": quality_summary(quality),
        "near_duplicates": {
            **copies.summary(
                fitted_topics if len(fitted_topics) == len(copies.group) else None,
                collapsed=plan.spec.dedupe,
            ),
            # With a fit sample, copies were looked for among its documents only.
            "looked_for_in": "the fit sample" if plan.fit_sample is not None else "every document",
        },
        "parameters": {**plan.decisions(), "embedding": embedding},
        "cache": {
            "embedded": embed_stats.encoded,
            "embeddings_from_cache": embed_stats.cached,
            "reductions_computed": reductions_computed,
        },
        # Where the embedding ran: this process, or a Dask cluster (which also, above the fit
        # sample, assigns the other documents and counts the words; the rest runs here).
        "embedded_on": (
            {"dask_workers": plan.spec.workers}
            if plan.spec.workers is not None
            else {"dask_scheduler": plan.spec.scheduler}
            if plan.spec.scheduler is not None
            else "this process"
        ),
        "seconds": {name: round(timings.seconds.get(name, 0.0), 2) for name in STAGES},
        "peak_memory_mb_after": dict(timings.peak_mb),  # this process's, stage by stage
        "figures": sorted(figures),
        "figure_descriptions": describe(fitted.topic_model, figures),  # alt text, from their data
        "formats_written": list(formats),
        "figures_skipped": figures_skipped,
        "texts_sha256": record["texts"]["sha256"],
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cache_dir": str(_cache.root()),
            "versions": record["versions"],
        },
    }
