"""Everything ``cube topics`` checks and decides before the long work starts.

Input, columns, texts, the output and cache folders (writable, with room), the model, and a
browser when static images are asked for: any problem is one :class:`~cube.CubeError` line
before the first embedding. :func:`prepare` returns the :class:`Plan` the job then carries out.
"""

from __future__ import annotations

import itertools
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cube import _cache, _config
from cube._cache import atomic_write
from cube._errors import (
    NO_ROOM_ERRNOS,
    BrowserFailedError,
    BrowserNotFoundError,
    CubeError,
    InputError,
)
from cube._progress import human_bytes
from cube._texts import TextsOnDisk

if TYPE_CHECKING:
    from cube.embeddings import SpacePlan
    from cube.topics import TopicSettings

DEFAULT_SAMPLE = 4000  # a cold run of the bundled corpus takes about a minute on 2 cores


DEFAULT_TIME_COLUMN = "year"


DEFAULT_CLASS_COLUMN = "party"


BROWSER_PROBE_SECONDS = 15.0


MAX_TEXT_CHARS = 1_000_000  # the model reads ~256 words of a text; longer ones are not passages


MAX_CLASSES_SHOWN = 30  # the per-class figure shows the most frequent classes, the rest as one


OTHER_CLASSES = "(other classes)"


# What the output folder needs free: plotly.js and the model (~10 MB), plus the texts about three times
# over (documents.csv, the documents map's hover texts, representative documents).
OUTPUT_SPACE_BASE = 16 * 2**20


CACHE_SPACE_PER_DOCUMENT = 4096  # a vector of up to 1024 floats, its key, two reductions


@dataclass(frozen=True)
class JobSpec:
    """What ``cube topics`` was asked to do: the caller's words, never changed afterwards.

    Example:
        >>> JobSpec(out=Path("reviews-topics"), file=Path("reviews.csv"), text_column="review")
    """

    out: Path
    file: Path | None = None
    text_column: str = "text"
    time_column: str | None = None  # None: "year" for the bundled corpus, else no time figure
    class_column: str | None = None  # None: "party" for the bundled corpus, else no class figure
    sample: int | None = DEFAULT_SAMPLE  # None: every document
    seed: int = 0
    min_topic_size: int | None = None
    model: str = _config.DEFAULT_MODEL
    encoding: str | None = None
    force: bool = False
    # None: png and html, or html only (with a note in the summary) when no browser starts.
    # Asked for explicitly, static formats without a working browser are an error.
    formats: tuple[str, ...] | None = None
    backend: str | None = None  # embedding backend; None: the embedding_backend setting
    # Near-identical passages (cosine >= 0.98) are always counted and reported; dedupe=True
    # also keeps only the first of each group for the topics (default: keep them all).
    dedupe: bool = False
    # Embed on a Dask cluster: `workers` processes on this machine, or the running cluster
    # whose scheduler is at `scheduler` (tcp://HOST:PORT). Neither: in this process.
    workers: int | None = None
    scheduler: str | None = None
    # Above this many documents, UMAP and HDBSCAN fit on a seeded sample of this many and the
    # others join the most similar topic (cube.topics.fit_on_sample); None: always all.
    fit_sample: int | None = _config.DEFAULT_FIT_SAMPLE


@dataclass(frozen=True)
class Columns:
    """The columns a run reads, as found in the input (TXT files have one, ``text``)."""

    text: str
    time: str | None
    classes: str | None


@dataclass(frozen=True)
class Plan:
    """Every decision of the run, made once by :func:`prepare`; the stages only read it.

    Nothing is left to fail on input, and nothing here changes after the checks: what the
    export then does (e.g. HTML only, when the browser dies mid-run) is reported beside it.
    """

    spec: JobSpec
    target: Path  # spec.out with symlinks resolved: where the results go
    frame: pd.DataFrame
    source: str
    columns: Columns
    docs: list[str] | TextsOnDisk  # a large file's texts are read from disk when indexed
    timestamps: list[Any] | None
    classes: list[str] | None
    settings: TopicSettings  # the topic model: min_topic_size, seed, model, representation
    formats: tuple[str, ...]
    figures_skipped: dict[str, Any] | None  # static formats left out because no browser starts
    # Whether a browser that passed the probe but fails while drawing means HTML only (the
    # default formats) or an error (formats asked for explicitly).
    images_may_fall_back: bool
    embedding: SpacePlan  # the model found, the backend chosen and why, the options: once
    fit_sample: int | None = None  # documents the topics are fitted on, when not all

    @property
    def min_topic_size(self) -> int:
        return int(self.settings.min_topic_size or 0)

    def decisions(self) -> dict[str, Any]:
        """What the plan decided, as plain values for summary.json."""
        return {
            "model": self.spec.model,
            "model_path": str(self.embedding.resolved.path),
            "model_fingerprint": self.embedding.resolved.fingerprint,
            "embedding_backend": self.embedding.backend.name,
            "embedding_backend_reason": self.embedding.backend.reason,
            "sample": self.spec.sample if self.spec.sample is not None else "all",
            "seed": self.settings.seed,
            "min_topic_size": self.min_topic_size,
            "representation": self.settings.representation,
            "outlier_threshold": self.settings.outlier_threshold,
            "max_outlier_share": self.settings.max_outlier_share,
            "umap": self.settings.umap_params().as_dict(),
            "text_column": self.columns.text,
            "time_column": self.columns.time,
            "class_column": self.columns.classes,
            "formats": list(self.formats),
            "dedupe": self.spec.dedupe,
            "fit_sample": self.fit_sample if self.fit_sample is not None else "all",
        }


def _is_within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_output_folder(
    out: Path, force: bool, *, keep: tuple[tuple[str, Path], ...] = (), needed: int = 0
) -> Path:
    """Check ``out``; returns where the results go (``out`` with symlinks resolved).

    A symlink to a folder (or a dangling one) is followed: the results replace its target and
    the link stays. ``keep`` names what ``force`` must never delete (the input, the cache).
    """
    target = out.resolve()
    if target.exists() and not target.is_dir():
        raise InputError(f"{out} is a file; choose a folder name for out=")
    if target.is_dir() and any(target.iterdir()):
        if not force:
            raise InputError(
                f"{out} already exists and is not empty; pass force=True to replace it"
            )
        for what, path in keep:
            if _is_within(path.resolve(), target):
                raise InputError(
                    f"force=True would delete {out}, which holds {what} ({path}); choose another out="
                )
    parent = target.parent
    if not parent.is_dir():
        raise InputError(f"cannot create {out}: {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise InputError(f"cannot create {out}: {parent} is not writable")
    free = shutil.disk_usage(parent).free
    if needed and free < needed:
        raise InputError(
            f"cannot write {out}: {parent} has {human_bytes(free)} free and this run needs about "
            f"{human_bytes(needed)}; free some space or choose another out="
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
            f"the cache at {root} has {human_bytes(free)} free and this run needs about "
            f"{human_bytes(needed)}; free some space or {hint}"
        )


def check_texts(docs: Sequence[str], column: str, source: str) -> None:
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
    seen: set[str] = set()
    for doc in docs:  # stops at enough: a set of a million texts is not needed to know
        seen.add(doc)
        if len(seen) >= MIN_DOCUMENTS:
            break
    distinct = len(seen)
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
    from cube.figures import DEFAULT_FORMATS, STATIC_FORMATS

    wanted = formats or DEFAULT_FORMATS
    static = [f for f in wanted if f in STATIC_FORMATS]
    if not static:
        return tuple(wanted), None
    try:
        _probe_browser()
    except (BrowserNotFoundError, BrowserFailedError) as exc:
        if formats is not None:
            hint = "" if "formats=" in str(exc) else "; or pass formats='html'"
            raise InputError(f"formats={','.join(static)!r} needs a browser: {exc}{hint}") from exc
        return tuple(f for f in wanted if f not in static), {"formats": static, "reason": str(exc)}
    return tuple(wanted), None


def load_corpus(spec: JobSpec) -> tuple[pd.DataFrame, str, Columns]:
    """The documents (sampled), a name for where they came from, and the columns to read.

    Example:
        >>> frame, source, columns = load_corpus(JobSpec(out=Path("out"), sample=500))
        >>> columns
        Columns(text='text', time='year', classes='party')
    """
    from cube import datasets

    if spec.file is None:
        frame, source = datasets.load("sotu"), "the bundled State of the Union corpus"
        columns = Columns(
            text="text",
            time=spec.time_column or DEFAULT_TIME_COLUMN,
            classes=spec.class_column or DEFAULT_CLASS_COLUMN,
        )
    else:
        frame = datasets.load_table(spec.file, spec.text_column, encoding=spec.encoding)
        source = str(spec.file)
        columns = _file_columns(spec, frame)
    _require_columns(frame, columns, source)
    if spec.sample is not None and spec.sample < len(frame):
        frame = frame.sample(n=spec.sample, random_state=spec.seed).sort_index()
    return frame.reset_index(drop=True), source, columns


def _file_columns(spec: JobSpec, table: pd.DataFrame) -> Columns:
    """The columns to read from a file's table (or its first partition): a TXT file's texts
    are in ``text`` whatever ``text_column`` says."""
    text = spec.text_column
    if "text" in table.columns and text not in table.columns:
        text = "text"  # TXT files
    return Columns(text=text, time=spec.time_column, classes=spec.class_column)


def _require_columns(table: pd.DataFrame, columns: Columns, source: str) -> None:
    """The time and class columns asked for are in the table (else one line naming them)."""
    from cube import datasets

    for column, parameter in ((columns.time, "time_column="), (columns.classes, "class_column=")):
        if column:
            datasets.require_column(table, column, parameter, source)


def read_corpus(
    spec: JobSpec, spill_to: Path
) -> tuple[pd.DataFrame, list[str] | TextsOnDisk, str, Columns]:
    """:func:`load_corpus`, with the texts apart: the table (its time and class columns), the
    texts, where they came from and the columns.

    A file that :func:`cube.datasets.load_table` reads a partition at a time (above 64 MB)
    has its texts written, partition by partition, to a :class:`~cube.datasets.TextsOnDisk`
    in ``spill_to`` (a file without a name), and only its time and class columns kept in
    the table: the texts of a million passages are not held in memory. Other inputs: the
    texts as a list.

    Example:
        >>> frame, docs, source, columns = read_corpus(JobSpec(out=Path("o")), Path("."))
        >>> len(docs) == len(frame)
        True
    """
    from cube import datasets

    if spec.file is None or not datasets.read_in_partitions(spec.file):
        frame, source, columns = load_corpus(spec)
        return frame, frame[columns.text].tolist(), source, columns
    source = str(spec.file)
    parts = datasets.read_partitions(spec.file, spec.text_column, encoding=spec.encoding)
    first = next(parts)
    columns = _file_columns(spec, first)
    _require_columns(first, columns, source)
    keep = [c for c in dict.fromkeys((columns.time, columns.classes)) if c]
    kept: list[pd.DataFrame] = []

    def texts_by_partition():
        for part in itertools.chain([first], parts):
            kept.append(datasets.as_python_strings(part[keep]))
            yield part[columns.text].tolist()

    try:
        docs = datasets.TextsOnDisk.write(texts_by_partition(), spill_to)
    except OSError as exc:
        if exc.errno not in NO_ROOM_ERRNOS:
            raise
        raise CubeError(
            f"cannot keep the texts of {source} in {spill_to} while they are modeled "
            f"({exc.strerror}); free some space or choose another out="
        ) from exc
    frame = pd.concat(kept, ignore_index=True)
    if "pyarrow" in sys.modules:  # what Arrow's pool kept of the partitions goes back now
        sys.modules["pyarrow"].default_memory_pool().release_unused()
    if spec.sample is not None and spec.sample < len(docs):
        # The rows load_corpus picks: DataFrame.sample draws positions from the length alone.
        rows = pd.RangeIndex(len(docs)).to_series().sample(n=spec.sample, random_state=spec.seed)
        picked = np.sort(rows.to_numpy())
        frame = frame.iloc[picked].reset_index(drop=True)
        sampled = docs[picked]
        docs.close()
        return frame, sampled, source, columns
    return frame, docs, source, columns


def classes_for_figures(classes: list[str]) -> list[str]:
    """The most frequent :data:`MAX_CLASSES_SHOWN` classes as they are, the rest as one."""
    counts = pd.Series(classes).value_counts(sort=True)
    if len(counts) <= MAX_CLASSES_SHOWN:
        return classes
    shown = set(counts.index[:MAX_CLASSES_SHOWN])
    return [c if c in shown else OTHER_CLASSES for c in classes]


def prepare(spec: JobSpec, say: Callable[[str], None] = print) -> Plan:
    """Every check of the run, cheap ones first, and every decision; nothing is embedded
    or written to ``spec.out``.

    Example:
        >>> plan = prepare(JobSpec(out=Path("sotu-topics")))
        >>> plan.embedding.backend.name, plan.min_topic_size
        ('onnx', 27)
    """
    from cube import datasets
    from cube.distributed import check_cluster_options
    from cube.embeddings import plan_space
    from cube.topics import (
        MIN_DOCUMENTS,
        TopicSettings,
        check_corpus_size,
        default_min_topic_size,
        scaled_min_topic_size,
    )

    check_cluster_options(spec.workers, spec.scheduler)  # before the file is read
    keep = (("the input file", spec.file),) if spec.file is not None else ()
    if _cache.enabled():
        keep += (("the cache", _cache.root()),)
    target = check_output_folder(spec.out, spec.force, keep=keep)
    frame, docs, source, columns = read_corpus(spec, spill_to=target.parent)
    timestamps = datasets.time_values(frame, columns.time, source) if columns.time else None
    classes = datasets.class_values(frame, columns.classes, source) if columns.classes else None
    if spec.fit_sample is not None and spec.fit_sample < 2 * MIN_DOCUMENTS:
        raise InputError(
            f"fit_sample={spec.fit_sample} is too small a sample to fit topics on; give at "
            f"least {2 * MIN_DOCUMENTS} documents"
        )
    fit_sample = spec.fit_sample if spec.fit_sample and spec.fit_sample < len(docs) else None
    settings = TopicSettings(
        model=spec.model,
        min_topic_size=spec.min_topic_size
        or (
            scaled_min_topic_size(len(docs), fit_sample)
            if fit_sample
            else default_min_topic_size(len(docs))
        ),
        seed=spec.seed,
    )
    check_corpus_size(len(docs), settings.min_topic_size)
    check_texts(docs, columns.text, source)
    text_bytes = (
        docs.nbytes
        if isinstance(docs, TextsOnDisk)
        else sum(len(doc.encode("utf-8", "surrogatepass")) for doc in docs)
    )
    check_output_folder(spec.out, spec.force, keep=keep, needed=OUTPUT_SPACE_BASE + 3 * text_bytes)
    check_cache_folder(len(docs))
    embedding = plan_space(spec.model, backend=spec.backend)  # 'onnx' where it cannot run: now
    formats, skipped = check_figure_formats(spec.formats)
    say(f"      {len(docs):,} documents from {source}")
    return Plan(
        spec=spec,
        target=target,
        frame=frame,
        source=source,
        columns=columns,
        docs=docs,
        timestamps=timestamps,
        classes=classes,
        settings=settings,
        formats=formats,
        figures_skipped=skipped,
        images_may_fall_back=spec.formats is None,
        embedding=embedding,
        fit_sample=fit_sample,
    )
