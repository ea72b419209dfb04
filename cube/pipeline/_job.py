"""The main job, ``cube topics``: a corpus in, a folder of topics, figures and a model out.

All or nothing: everything is built in a hidden sibling folder (``.NAME.partial-XXXX``) and
renamed into place at the end, so a failed or interrupted run leaves no half-written output
folder. Everything the run needs (input, columns, texts, output folder, cache folder, model,
and a browser when static images are asked for) is checked before the first embedding.

Locks (``filelock``): a run holds ``.NAME.lock`` beside ``--out`` from its checks to its end, so
a second run on the same output stops at once; and ``.NAME.partial-XXXX.lock`` while it writes
its staging folder, so that a later run sweeps only the staging folders of runs that died (no
lock holder) and are older than :data:`STALE_SECONDS`.
"""

from __future__ import annotations

import contextlib
import errno
import glob
import json
import os
import platform
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cube import _cache, _config
from cube._cache import atomic_write
from cube._errors import BrowserFailedError, BrowserNotFoundError, CubeError, InputError
from cube._version import __version__

DEFAULT_SAMPLE = 4000  # a cold run of the bundled corpus takes about 3 minutes on 2 cores
DEFAULT_TIME_COLUMN = "year"
DEFAULT_CLASS_COLUMN = "party"
STAGES = ("load", "embed", "reduce", "cluster", "represent", "evaluate", "figures", "export")
DEFAULT_FORMATS = ("png", "html")  # without a working browser: html only, and a note
FIGURE_FORMATS = ("png", "svg", "pdf", "jpeg", "webp", "html", "json")
STATIC_FORMATS = ("png", "svg", "pdf", "jpeg", "webp")  # these need a browser
BROWSER_PROBE_SECONDS = 15.0
MAX_TEXT_CHARS = 1_000_000  # the model reads ~256 words of a text; longer ones are not passages
MAX_CLASSES_SHOWN = 30  # the per-class figure shows the most frequent classes, the rest as one
OTHER_CLASSES = "(other classes)"
STALE_SECONDS = 600  # a staging folder this old whose lock nobody holds is debris
# What --out needs free: plotly.js and the model (~10 MB), plus the texts about three times
# over (documents.csv, the documents map's hover texts, representative documents).
OUTPUT_SPACE_BASE = 16 * 2**20
CACHE_SPACE_PER_DOCUMENT = 4096  # a vector of up to 1024 floats, its key, two reductions
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


@dataclass
class JobSpec:
    """What ``cube topics`` was asked to do."""

    out: Path
    file: Path | None = None
    text_column: str = "text"
    time_column: str | None = None
    class_column: str | None = None
    sample: int | None = DEFAULT_SAMPLE  # None: every document
    seed: int = 0
    min_topic_size: int | None = None
    model: str = _config.DEFAULT_MODEL
    encoding: str | None = None
    force: bool = False
    # None: png and html, or html only (with a note in the summary) when no browser starts.
    # Asked for explicitly, static formats without a working browser are an error.
    formats: tuple[str, ...] | None = None


@dataclass
class Plan:
    """What the checks found: everything the long work needs, nothing left to fail on input."""

    spec: JobSpec
    target: Path  # --out with symlinks resolved: where the results go
    frame: pd.DataFrame
    source: str
    docs: list[str]
    timestamps: list[Any] | None
    classes: list[str] | None
    min_topic_size: int
    formats: tuple[str, ...]
    figures_skipped: dict[str, Any] | None


@dataclass
class Timings:
    seconds: dict[str, float] = field(default_factory=dict)

    @contextlib.contextmanager
    def stage(self, name: str, say: Callable[[str], None]) -> Iterator[None]:
        say(f"[{STAGES.index(name) + 1}/{len(STAGES)}] {name}")
        started = time.perf_counter()
        yield
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started


def parse_sample(value: str) -> int | None:
    """``--sample``: a positive number of documents, or ``all``."""
    if value.strip().lower() == "all":
        return None
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise InputError(f"--sample takes a positive number of documents or 'all', not {value!r}")
    return number


def parse_formats(value: str) -> tuple[str, ...]:
    """``--formats``: comma-separated figure formats, e.g. ``png,html`` (``jpg`` is ``jpeg``)."""
    formats: list[str] = []
    for item in value.split(","):
        name = item.strip().lower().lstrip(".")
        name = {"jpg": "jpeg"}.get(name, name)
        if name not in FIGURE_FORMATS:
            raise InputError(
                f"--formats: unknown figure format {item.strip()!r}; use a comma-separated "
                f"list of {', '.join(FIGURE_FORMATS)}"
            )
        if name not in formats:
            formats.append(name)
    return tuple(formats)


def _human(size: float) -> str:
    return f"{size / 2**20:.1f} MB"


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_output_folder(
    out: Path, force: bool, *, keep: tuple[tuple[str, Path], ...] = (), needed: int = 0
) -> Path:
    """Check ``--out``; returns where the results go (``out`` with symlinks resolved).

    A symlink to a folder (or a dangling one) is followed: the results replace its target and
    the link stays. ``keep`` names what ``--force`` must never delete (the input, the cache).
    """
    target = out.resolve()
    if target.exists() and not target.is_dir():
        raise InputError(f"{out} is a file; choose a folder name for --out")
    if target.is_dir() and any(target.iterdir()):
        if not force:
            raise InputError(f"{out} already exists and is not empty; pass --force to replace it")
        for what, path in keep:
            if _is_within(path.resolve(), target):
                raise InputError(
                    f"--force would delete {out}, which holds {what} ({path}); choose another --out"
                )
    parent = target.parent
    if not parent.is_dir():
        raise InputError(f"cannot create {out}: {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise InputError(f"cannot create {out}: {parent} is not writable")
    free = shutil.disk_usage(parent).free
    if needed and free < needed:
        raise InputError(
            f"cannot write {out}: {parent} has {_human(free)} free and this run needs about "
            f"{_human(needed)}; free some space or choose another --out"
        )
    return target


def check_cache_folder(n_documents: int) -> None:
    """The cache folder exists (or can be made), takes a file, and has room for the vectors."""
    if not _cache.enabled():
        return
    root = _cache.root()
    hint = "set CUBE_CACHE_DIR to a writable folder (or CUBE_CACHE=0 for no cache)"
    try:
        root.mkdir(parents=True, exist_ok=True)
        probe = atomic_write(root / f".write-test-{uuid.uuid4().hex[:8]}", os.urandom(4096))
        probe.unlink()
    except OSError as exc:
        raise CubeError(f"cannot write to the cache at {root} ({exc.strerror}); {hint}") from exc
    needed = 2**20 + n_documents * CACHE_SPACE_PER_DOCUMENT
    free = shutil.disk_usage(root).free
    if free < needed:
        raise CubeError(
            f"the cache at {root} has {_human(free)} free and this run needs about "
            f"{_human(needed)}; free some space or {hint}"
        )


def check_texts(docs: list[str], column: str, source: str) -> None:
    """Texts that cannot make topics fail here, before they are embedded."""
    from cube.topics import MIN_DOCUMENTS, make_vectorizer

    long = [i + 1 for i, doc in enumerate(docs) if len(doc) > MAX_TEXT_CHARS]
    if long:
        from cube.datasets import format_rows

        biggest = max(len(docs[i - 1]) for i in long)
        raise InputError(
            f"{source}: {len(long)} texts in {column!r} are longer than {MAX_TEXT_CHARS:,} "
            f"characters (rows {format_rows(long)}; the longest has {biggest:,}); the model "
            "reads only the first ~256 words of a text, so split long documents into passages"
        )
    distinct = len(set(docs))
    if distinct < MIN_DOCUMENTS:
        raise InputError(
            f"{source}: the {len(docs)} texts in {column!r} hold only {distinct} different "
            f"ones; topic modeling needs at least {MIN_DOCUMENTS} different texts"
        )
    analyzer = make_vectorizer(len(docs)).build_analyzer()
    if not any(analyzer(doc) for doc in docs):
        raise InputError(
            f"{source}: the documents have no words left once stop words and numbers are "
            f"removed; check that {column!r} is the column that holds the documents"
        )


def _probe_browser() -> str:
    from cube.figures import check_browser

    return check_browser(timeout=BROWSER_PROBE_SECONDS)


def check_figure_formats(
    formats: tuple[str, ...] | None,
) -> tuple[tuple[str, ...], dict[str, Any] | None]:
    """The formats to write and what was skipped: static images need a browser that starts."""
    wanted = formats or DEFAULT_FORMATS
    static = [f for f in wanted if f in STATIC_FORMATS]
    if not static:
        return tuple(wanted), None
    try:
        _probe_browser()
    except (BrowserNotFoundError, BrowserFailedError) as exc:
        if formats is not None:
            hint = "" if "--formats" in str(exc) else "; or pass --formats html"
            raise InputError(f"--formats {','.join(static)} needs a browser: {exc}{hint}") from exc
        return tuple(f for f in wanted if f not in static), {"formats": static, "reason": str(exc)}
    return tuple(wanted), None


def load_corpus(spec: JobSpec) -> tuple[pd.DataFrame, str]:
    """The documents (sampled) and a name for where they came from."""
    from cube import datasets

    if spec.file is None:
        frame, source = datasets.load("sotu"), "the bundled State of the Union corpus"
        spec.time_column = spec.time_column or DEFAULT_TIME_COLUMN
        spec.class_column = spec.class_column or DEFAULT_CLASS_COLUMN
    else:
        frame = datasets.load_table(spec.file, spec.text_column, encoding=spec.encoding)
        source = str(spec.file)
        if "text" in frame.columns and spec.text_column not in frame.columns:
            spec.text_column = "text"  # TXT files
    for column, option in (
        (spec.time_column, "--time-column"),
        (spec.class_column, "--class-column"),
    ):
        if column:
            datasets.require_column(frame, column, option, source)
    if spec.sample is not None and spec.sample < len(frame):
        frame = frame.sample(n=spec.sample, random_state=spec.seed).sort_index()
    return frame.reset_index(drop=True), source


def _topic_table(topic_model) -> pd.DataFrame:
    """topics.csv: one row per topic, with the name people see in the figures."""
    from cube.figures import topic_name

    info = topic_model.get_topic_info()
    rows = []
    for _, row in info.iterrows():
        topic = int(row["Topic"])
        words = [w for w, _ in (topic_model.get_topic(topic) or []) if str(w).strip()]
        rows.append(
            {
                "id": topic,
                "size": int(row["Count"]),
                "name": topic_name(topic_model, topic),
                "top_words": ", ".join(words),
                "representative_documents": json.dumps(
                    list(row.get("Representative_Docs") or []), ensure_ascii=False
                ),
            }
        )
    return pd.DataFrame(rows)


QUALITY_HEADLINE = (
    "npmi",
    "diversity@10",
    "diversity@25",
    "outlier_share",
    "n_topics",
    "largest_topic_size",
)


def _quality_summary(quality: pd.DataFrame) -> dict[str, float | int]:
    """The overall row of ``cube.topics.evaluate``, as plain numbers for summary.json."""
    overall = quality.loc["overall"]
    return {
        name: (
            int(overall[name])
            if name in ("n_topics", "largest_topic_size")
            else round(float(overall[name]), 4)
        )
        for name in QUALITY_HEADLINE
    }


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


def classes_for_figures(classes: list[str]) -> list[str]:
    """The most frequent :data:`MAX_CLASSES_SHOWN` classes as they are, the rest as one."""
    counts = pd.Series(classes).value_counts(sort=True)
    if len(counts) <= MAX_CLASSES_SHOWN:
        return classes
    shown = set(counts.index[:MAX_CLASSES_SHOWN])
    return [c if c in shown else OTHER_CLASSES for c in classes]


def prepare(spec: JobSpec, say: Callable[[str], None] = print) -> Plan:
    """Every check of the run, cheap ones first; nothing is embedded or written to --out."""
    from cube import datasets
    from cube.embeddings import resolve_model
    from cube.topics import check_corpus_size, default_min_topic_size

    keep = (("the input file", spec.file),) if spec.file is not None else ()
    if _cache.enabled():
        keep += (("the cache", _cache.root()),)
    target = check_output_folder(spec.out, spec.force, keep=keep)
    frame, source = load_corpus(spec)
    docs = frame[spec.text_column].tolist()
    timestamps = datasets.time_values(frame, spec.time_column, source) if spec.time_column else None
    classes = datasets.class_values(frame, spec.class_column, source) if spec.class_column else None
    min_topic_size = spec.min_topic_size or default_min_topic_size(len(docs))
    check_corpus_size(len(docs), min_topic_size)
    check_texts(docs, spec.text_column, source)
    text_bytes = sum(len(doc.encode("utf-8", "surrogatepass")) for doc in docs)
    check_output_folder(spec.out, spec.force, keep=keep, needed=OUTPUT_SPACE_BASE + 3 * text_bytes)
    check_cache_folder(len(docs))
    resolve_model(spec.model)
    formats, skipped = check_figure_formats(spec.formats)
    say(f"      {len(docs)} documents from {source}")
    return Plan(
        spec=spec,
        target=target,
        frame=frame,
        source=source,
        docs=docs,
        timestamps=timestamps,
        classes=classes,
        min_topic_size=min_topic_size,
        formats=formats,
        figures_skipped=skipped,
    )


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
            "or choose another --out"
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


def run(spec: JobSpec, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the whole job into ``spec.out``; returns the summary (also written as JSON).

    Without a working browser and with the default formats, figures are HTML only and
    ``summary["figures_skipped"]`` says which formats were skipped and why.
    """
    timings = Timings()
    started = time.perf_counter()
    with timings.stage("load", say):
        plan = prepare(spec, say)
    with claim(plan.target, say) as staging:
        summary, table, figures = _work(plan, staging, timings, say)
        summary["seconds"]["total"] = round(time.perf_counter() - started, 2)
        atomic_write(staging / "summary.json", json.dumps(summary, indent=2))
        _write_report(staging / "report.html", summary, table, figures)
        _atomic_rename_into(staging, plan.target)
    return summary


def _write_report(path: Path, summary: dict, table: pd.DataFrame, figures: dict) -> None:
    """report.html: the whole run on one page that opens offline from a single file."""
    from cube.figures import write_report

    quality = summary["quality"]
    headline = (
        f"NPMI {quality['npmi']:+.3f} · diversity@10 {quality['diversity@10']:.2f} · "
        f"{quality['outlier_share']:.0%} in no topic · {quality['n_topics']} topics"
    )
    write_report(
        path,
        title=f"Topics in {summary['documents']:,} documents",
        summary={**summary, "quality": {"headline": headline, **quality}},
        topics=table,
        figures=figures,
    )


def _export_figures(plan: Plan, figures: dict[str, Any], folder: Path) -> None:
    from cube.figures import export

    try:
        export(figures, folder, formats=plan.formats, include_plotlyjs="directory")
    except (BrowserNotFoundError, BrowserFailedError) as exc:
        static = [f for f in plan.formats if f in STATIC_FORMATS]
        if plan.spec.formats is not None or not static:
            raise
        # The probe passed but the browser failed while drawing: HTML only, as without one.
        plan.formats = tuple(f for f in plan.formats if f not in STATIC_FORMATS)
        plan.figures_skipped = {"formats": static, "reason": str(exc)}
        export(figures, folder, formats=plan.formats, include_plotlyjs="directory")


def _work(
    plan: Plan, staging: Path, timings: Timings, say: Callable[[str], None]
) -> tuple[dict, pd.DataFrame, dict]:
    """The long work: embed, reduce, fit, draw, write into ``staging``.

    Returns the summary, the topic table and the figures (for the report).
    """
    from cube.embeddings import embed_with_stats
    from cube.figures import standard_figures
    from cube.reductions import reduce_with_stats
    from cube.topics import TopicSettings, build, evaluate, fit_transform
    from cube.topics import save as save_model

    spec, docs, frame = plan.spec, plan.docs, plan.frame
    with timings.stage("embed", say):
        embeddings, embed_stats = embed_with_stats(docs, spec.model)
    settings = TopicSettings(model=spec.model, min_topic_size=plan.min_topic_size, seed=spec.seed)
    topic_model = build(len(docs), settings)
    with timings.stage("reduce", say):
        # Both reductions land in the cache; fit_transform and the documents map read them.
        umap_params = topic_model.umap_model.get_params()
        reductions = [
            reduce_with_stats(embeddings, **dict(umap_params, n_components=n))[1]
            for n in (umap_params["n_components"], 2)
        ]
        reductions_computed = sum(not r.from_cache for r in reductions)
    fit_started = time.perf_counter()
    say(f"[4/{len(STAGES)}] cluster and [5/{len(STAGES)}] represent")
    topics, probabilities = fit_transform(
        topic_model, docs, embeddings, outlier_threshold=settings.outlier_threshold
    )
    clustered = np.asarray(topic_model.hdbscan_model.labels_) != -1
    fit_seconds = time.perf_counter() - fit_started
    cluster_seconds = getattr(topic_model.hdbscan_model, "fit_seconds_", 0.0)
    timings.seconds["cluster"] = cluster_seconds
    timings.seconds["represent"] = max(0.0, fit_seconds - cluster_seconds)
    n_topics = len(set(topics) - {-1})
    say(f"      {n_topics} topics; {sum(t == -1 for t in topics)} documents in no topic (-1)")
    with timings.stage("evaluate", say):
        quality = evaluate(topic_model, docs)
    with timings.stage("figures", say):
        figures = standard_figures(
            topic_model,
            docs,
            embeddings,
            timestamps=plan.timestamps,
            classes=classes_for_figures(plan.classes) if plan.classes is not None else None,
            class_name=spec.class_column or "class",
        )
    with timings.stage("export", say):
        try:
            table = _topic_table(topic_model)
            table.to_csv(staging / "topics.csv", index=False)
            quality.to_csv(staging / "quality.csv", index_label="topic")
            names = dict(zip(table["id"], table["name"], strict=True))
            documents = pd.DataFrame(
                {
                    "row": range(1, len(docs) + 1),
                    "topic": topics,
                    "topic_name": [names[t] for t in topics],
                    # HDBSCAN's cluster, or an outlier moved to its most similar topic.
                    "assigned_by": np.where(
                        clustered,
                        "cluster",
                        np.where(np.asarray(topics) == -1, "none", "similarity"),
                    ),
                    "probability": [round(float(p), 4) for p in probabilities],
                }
            )
            for column in (spec.time_column, spec.class_column):
                if column:
                    documents[column] = frame[column].tolist()
            documents["text"] = docs
            documents.to_csv(staging / "documents.csv", index=False)
            _export_figures(plan, figures, staging / "figures")
            save_model(topic_model, staging / "model")
        except OSError as exc:
            if exc.errno not in _WRITE_ERRNOS:
                raise
            raise CubeError(
                f"cannot write the results for {spec.out} ({exc.strerror}); free some space "
                "or choose another --out"
            ) from exc
    summary = {
        "cube_version": __version__,
        "source": plan.source,
        "documents": len(docs),
        "topics": n_topics,
        "outliers": int(sum(1 for t in topics if t == -1)),
        "quality": _quality_summary(quality),
        "parameters": {
            "model": spec.model,
            "sample": spec.sample if spec.sample is not None else "all",
            "seed": spec.seed,
            "min_topic_size": plan.min_topic_size,
            "representation": settings.representation,
            "outlier_threshold": settings.outlier_threshold,
            "text_column": spec.text_column,
            "time_column": spec.time_column,
            "class_column": spec.class_column,
            "formats": list(plan.formats),
        },
        "cache": {
            "embedded": embed_stats.encoded,
            "embeddings_from_cache": embed_stats.cached,
            "reductions_computed": reductions_computed,
        },
        "seconds": {name: round(timings.seconds.get(name, 0.0), 2) for name in STAGES},
        "figures": sorted(figures),
        "figures_skipped": plan.figures_skipped,
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cache_dir": str(_cache.root()),
        },
    }
    return summary, table, figures


def format_summary(summary: dict[str, Any], out: Path) -> str:
    seconds = summary["seconds"]
    stages = ", ".join(f"{name} {seconds[name]:.1f}s" for name in STAGES)
    quality = summary["quality"]
    return (
        f"{summary['topics']} topics in {summary['documents']} documents "
        f"({summary['outliers']} in no topic) -> {out}\n"
        f"quality: NPMI {quality['npmi']:+.3f}, diversity@10 {quality['diversity@10']:.2f}, "
        f"{quality['outlier_share']:.0%} in no topic (per topic: quality.csv)\n"
        f"time: {seconds['total']:.1f}s ({stages})"
    )


def skipped_note(summary: dict[str, Any]) -> str | None:
    """One line on figures skipped for want of a browser, and how to get them; else None."""
    skipped = summary.get("figures_skipped")
    if not skipped:
        return None
    formats = "/".join(f.upper() for f in skipped["formats"])
    reason = str(skipped["reason"]).split("; ")[0]
    return (
        f"cube: {formats} figures skipped ({reason}); HTML figures were written. To get them, "
        "install Chromium or Chrome or set BROWSER_PATH; --formats html silences this"
    )
