"""The main job, ``cube topics``: a corpus in, a folder of topics, figures and a model out.

All or nothing: everything is built in a hidden sibling folder and renamed into place at the
end, so a failed or interrupted run leaves no half-written output folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from cube import _cache, _config
from cube._cache import atomic_write
from cube._errors import InputError
from cube._version import __version__

DEFAULT_SAMPLE = 4000  # a cold run of the bundled corpus takes about 3 minutes on 2 cores
DEFAULT_TIME_COLUMN = "year"
DEFAULT_CLASS_COLUMN = "party"
STAGES = ("load", "embed", "reduce", "cluster", "represent", "figures", "export")


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
    formats: tuple[str, ...] = ("png", "html")


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


def check_output_folder(out: Path, force: bool) -> None:
    if out.exists() and not out.is_dir():
        raise InputError(f"{out} is a file; choose a folder name for --out")
    if out.is_dir() and any(out.iterdir()) and not force:
        raise InputError(f"{out} already exists and is not empty; pass --force to replace it")
    parent = out.resolve().parent
    if not parent.is_dir():
        raise InputError(f"cannot create {out}: {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise InputError(f"cannot create {out}: {parent} is not writable")


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
    info = topic_model.get_topic_info()
    rows = []
    for _, row in info.iterrows():
        topic = int(row["Topic"])
        words = [w for w, _ in (topic_model.get_topic(topic) or [])]
        rows.append(
            {
                "id": topic,
                "size": int(row["Count"]),
                "name": row["Name"],
                "top_words": ", ".join(words),
                "representative_documents": json.dumps(
                    list(row.get("Representative_Docs") or []), ensure_ascii=False
                ),
            }
        )
    return pd.DataFrame(rows)


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


def run(spec: JobSpec, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the whole job into ``spec.out``; returns the summary (also written as JSON)."""
    from cube import datasets
    from cube.embeddings import embed_with_stats
    from cube.figures import export, standard_figures
    from cube.reductions import reduce_with_stats
    from cube.topics import build, check_corpus_size, default_min_topic_size, fit_transform
    from cube.topics import save as save_model

    out = spec.out
    check_output_folder(out, spec.force)
    timings = Timings()
    started = time.perf_counter()
    with timings.stage("load", say):
        frame, source = load_corpus(spec)
        docs = frame[spec.text_column].tolist()
        timestamps = (
            datasets.time_values(frame, spec.time_column, source) if spec.time_column else None
        )
        classes = (
            datasets.class_values(frame, spec.class_column, source) if spec.class_column else None
        )
        min_topic_size = spec.min_topic_size or default_min_topic_size(len(docs))
        check_corpus_size(len(docs), min_topic_size)
        say(f"      {len(docs)} documents from {source}")

    staging = out.resolve().parent / f".{out.name}.partial-{uuid.uuid4().hex[:8]}"
    staging.mkdir()
    try:
        with timings.stage("embed", say):
            embeddings, embed_stats = embed_with_stats(docs, spec.model)
        topic_model = build(
            len(docs), model=spec.model, min_topic_size=min_topic_size, seed=spec.seed
        )
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
        topics, probabilities = fit_transform(topic_model, docs, embeddings)
        fit_seconds = time.perf_counter() - fit_started
        cluster_seconds = getattr(topic_model.hdbscan_model, "fit_seconds_", 0.0)
        timings.seconds["cluster"] = cluster_seconds
        timings.seconds["represent"] = max(0.0, fit_seconds - cluster_seconds)
        n_topics = len(set(topics) - {-1})
        say(f"      {n_topics} topics; {sum(t == -1 for t in topics)} documents in no topic (-1)")
        with timings.stage("figures", say):
            figures = standard_figures(
                topic_model, docs, embeddings, timestamps=timestamps, classes=classes
            )
        with timings.stage("export", say):
            _topic_table(topic_model).to_csv(staging / "topics.csv", index=False)
            info = topic_model.get_topic_info()
            names = dict(zip(info["Topic"], info["Name"], strict=True))
            documents = pd.DataFrame(
                {
                    "row": range(1, len(docs) + 1),
                    "topic": topics,
                    "topic_name": [names[t] for t in topics],
                    "probability": [round(float(p), 4) for p in probabilities],
                }
            )
            for column in (spec.time_column, spec.class_column):
                if column:
                    documents[column] = frame[column].tolist()
            documents["text"] = docs
            documents.to_csv(staging / "documents.csv", index=False)
            export(
                figures,
                staging / "figures",
                formats=spec.formats,
                include_plotlyjs="directory",
            )
            save_model(topic_model, staging / "model")
        summary = {
            "cube_version": __version__,
            "source": source,
            "documents": len(docs),
            "topics": n_topics,
            "outliers": int(sum(1 for t in topics if t == -1)),
            "parameters": {
                "model": spec.model,
                "sample": spec.sample if spec.sample is not None else "all",
                "seed": spec.seed,
                "min_topic_size": min_topic_size,
                "text_column": spec.text_column,
                "time_column": spec.time_column,
                "class_column": spec.class_column,
            },
            "cache": {
                "embedded": embed_stats.encoded,
                "embeddings_from_cache": embed_stats.cached,
                "reductions_computed": reductions_computed,
            },
            "seconds": {name: round(timings.seconds.get(name, 0.0), 2) for name in STAGES},
            "figures": sorted(figures),
            "environment": {
                "python": platform.python_version(),
                "platform": platform.platform(),
                "cache_dir": str(_cache.root()),
            },
        }
        summary["seconds"]["total"] = round(time.perf_counter() - started, 2)
        atomic_write(staging / "summary.json", json.dumps(summary, indent=2))
        _atomic_rename_into(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return summary


def format_summary(summary: dict[str, Any], out: Path) -> str:
    seconds = summary["seconds"]
    stages = ", ".join(f"{name} {seconds[name]:.1f}s" for name in STAGES)
    return (
        f"{summary['topics']} topics in {summary['documents']} documents "
        f"({summary['outliers']} in no topic) -> {out}\n"
        f"time: {seconds['total']:.1f}s ({stages})"
    )
