"""The main job, ``cube topics``: a corpus in; vectors, reductions, topics, quality and figures out.

:func:`run` = :func:`~cube.pipeline._plan.prepare` (every check, before the long work), then
the stages in order into a staging folder claimed by :func:`~cube.pipeline._output.claim`.
"""

from __future__ import annotations

import contextlib
import errno
import json
import platform
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cube import _cache
from cube._cache import atomic_write
from cube._errors import BrowserFailedError, BrowserNotFoundError, CubeError
from cube._texts import TextsOnDisk
from cube._version import __version__
from cube.pipeline._documents import write_documents
from cube.pipeline._output import _atomic_rename_into, claim
from cube.pipeline._plan import JobSpec, Plan, classes_for_figures, prepare

STAGES = ("load", "embed", "reduce", "cluster", "represent", "evaluate", "figures", "export")


# In summary.json, not on the report's page: what reproduces the run, not what a reader needs.
_MACHINE_DETAIL = ("model_path", "model_fingerprint", "umap")

_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


@dataclass
class Timings:
    seconds: dict[str, float] = field(default_factory=dict)
    # This process's peak memory (RSS, MB) when each stage ended: where the peak was reached.
    peak_mb: dict[str, int] = field(default_factory=dict)

    @contextlib.contextmanager
    def stage(self, name: str, say: Callable[[str], None]) -> Iterator[None]:
        say(f"[{STAGES.index(name) + 1}/{len(STAGES)}] {name}")
        started = time.perf_counter()
        yield
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
        self.peak_mb[name] = _peak_mb()


def _peak_mb() -> int:
    """This process's peak resident memory so far, in MB (0 where the OS does not say).

    On Linux, the memory map's own high-water mark (``VmHWM``): ``ru_maxrss`` would start at
    the size of the process that forked this one.
    """
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) // 1024
    try:
        import resource
    except ImportError:  # Windows
        return 0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak / 1024 if platform.system() != "Darwin" else peak / 2**20)


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


def _quality_summary(quality: pd.DataFrame) -> dict[str, float | int]:
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


def run(
    spec: JobSpec,
    say: Callable[[str], None] = print,
    *,
    before_work: Callable[[Plan], None] | None = None,
) -> dict[str, Any]:
    """Run the whole job into ``spec.out``; returns the summary (also written as JSON).

    Without a working browser and with the default formats, figures are HTML only and
    ``summary["figures_skipped"]`` says which formats were skipped and why. ``before_work``
    is called with the plan once the checks pass and the output is claimed (the command
    line starts its imports there).
    """
    timings = Timings()
    started = time.perf_counter()
    with contextlib.ExitStack() as stack:
        with timings.stage("load", say):
            plan = prepare(spec, say)
            if isinstance(plan.docs, TextsOnDisk):  # a large file's texts, in a temporary file
                stack.callback(plan.docs.close)
            # The output is claimed before any slow import: a second run on it stops at once.
            staging = stack.enter_context(claim(plan.target, say))
            if before_work is not None:
                before_work(plan)
        summary, table, figures = _work(plan, staging, timings, say, stack)
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
        f"NPMI {quality['npmi']:+.3f} over passages · {quality['c_npmi']:+.3f} over 10-token "
        f"windows (c_npmi) · diversity@10 {quality['diversity@10']:.2f} · "
        f"{quality['outlier_share']:.0%} in no topic · {quality['n_topics']} topics"
    )
    write_report(
        path,
        title=f"Topics in {summary['documents']:,} documents",
        summary={
            **summary,
            "parameters": {
                k: v for k, v in summary["parameters"].items() if k not in _MACHINE_DETAIL
            },
            "quality": {"headline": headline, **quality},
        },
        topics=table,
        figures=figures,
        descriptions=summary.get("figure_descriptions"),
    )


def _start_browser_early() -> None:
    """Start the browser that renders figure images on a thread; the export waits for it.

    A failure here is not reported: the export starts it again, bounded, and reports that.
    """
    import threading

    from cube.figures import start_session

    def start() -> None:
        with contextlib.suppress(Exception):
            start_session()

    threading.Thread(target=start, name="cube-browser-start", daemon=True).start()


def _export_figures(
    plan: Plan, figures: dict[str, Any], folder: Path
) -> tuple[tuple[str, ...], dict[str, Any] | None]:
    """Write the figures in the plan's formats; returns the formats written and what was skipped.

    A browser that passed the probe but fails while drawing means HTML only when the formats
    were the default (as without a browser), and an error when they were asked for.
    """
    from cube.figures import STATIC_FORMATS, export

    try:
        export(figures, folder, formats=plan.formats, include_plotlyjs="directory")
    except (BrowserNotFoundError, BrowserFailedError) as exc:
        static = [f for f in plan.formats if f in STATIC_FORMATS]
        if not plan.images_may_fall_back or not static:
            raise
        formats = tuple(f for f in plan.formats if f not in STATIC_FORMATS)
        export(figures, folder, formats=formats, include_plotlyjs="directory")
        return formats, {"formats": static, "reason": str(exc)}
    return plan.formats, plan.figures_skipped


def _work(
    plan: Plan,
    staging: Path,
    timings: Timings,
    say: Callable[[str], None],
    stack: contextlib.ExitStack,
) -> tuple[dict, pd.DataFrame, dict]:
    """The long work: embed, reduce, fit, draw, write into ``staging``.

    Data flows one way: the vectors and both reductions are computed once and handed along
    in memory to the topic fit and the figures. With ``--workers``/``--scheduler`` the cluster
    (closed by ``stack``) embeds and, above the fit sample, compares the other documents with
    the topics and counts the topics' words. Returns
    the summary, the topic table and the figures (for the report).
    """
    from cube.embeddings import embed_with_stats
    from cube.figures import STATIC_FORMATS, standard_figures
    from cube.reductions import near_duplicates, reduction
    from cube.topics import (
        assign_rest,
        build,
        evaluate,
        fit_transform,
        sample_rows,
        words_from_every_document,
    )
    from cube.topics import save as save_model

    spec, docs, frame, settings = plan.spec, plan.docs, plan.frame, plan.settings
    with timings.stage("embed", say):
        client = None
        if spec.workers is not None or spec.scheduler is not None:
            from cube.distributed import cluster

            client = stack.enter_context(cluster(spec.workers, spec.scheduler, say=say))
        sampled = plan.fit_sample is not None and plan.fit_sample < len(docs)
        if not sampled and isinstance(docs, TextsOnDisk):
            docs = list(docs)  # a full fit holds every text (BERTopic's table of documents)
        # With a fit sample, the vectors stay in the cache: the sample's are read, then the
        # others a block at a time as they join a topic (never all in memory at once).
        embeddings, embed_stats = embed_with_stats(
            docs,
            plan.model,
            backend=plan.backend,
            client=client,
            in_memory=not (sampled and _cache.enabled()),
        )
        rows = np.arange(len(docs))  # which of the plan's documents are fitted
        every = None  # with a fit sample: (rows, docs, embeddings) of all the documents
        if sampled:
            every = (rows, docs, embeddings)
            picked = sample_rows(len(docs), plan.fit_sample, settings.seed)
            rows, docs, embeddings = rows[picked], [docs[i] for i in picked], embeddings[picked]
            say(
                f"      topics fitted on {len(picked):,} of {len(every[1]):,} documents (a "
                "seeded sample); the others join the most similar topic"
            )
        # Looked for among the fitted documents (with a fit sample: in the sample alone, so
        # the neighbour graph is the one its UMAP uses, not one of the whole corpus).
        copies = near_duplicates(embeddings, n_neighbors=settings.n_neighbors, seed=settings.seed)
    if spec.dedupe and copies.n_copies:
        keep = np.flatnonzero(copies.keep)
        rows, docs, embeddings = rows[keep], [docs[i] for i in keep], embeddings[keep]
        if every is not None:  # the sample's copies join a topic as the others do
            picked = picked[keep]
        say(
            f"      {copies.n_copies} near-identical passages left out "
            + ("of the fit (--dedupe)" if every is not None else "(--dedupe)")
        )
    if embed_stats.encoded and any(f in STATIC_FORMATS for f in plan.formats):
        _start_browser_early()  # a long run: the browser starts while UMAP uses one core
    with timings.stage("reduce", say):
        clustered_in = reduction(embeddings, settings.umap_params())
        mapped_in = reduction(embeddings, settings.umap_params().for_map())
        reductions_computed = sum(not r.from_cache for r in (clustered_in, mapped_in))
    topic_model = build(len(docs), settings)
    fit_started = time.perf_counter()
    say(f"[4/{len(STAGES)}] cluster and [5/{len(STAGES)}] represent")
    topics, probabilities = fit_transform(
        topic_model,
        docs,
        embeddings,
        outlier_threshold=settings.outlier_threshold,
        max_outlier_share=settings.max_outlier_share,
        reduction=clustered_in,
    )
    clustered = np.asarray(topic_model.hdbscan_model.labels_) != -1
    fit_seconds = time.perf_counter() - fit_started
    cluster_seconds = getattr(topic_model.hdbscan_model, "fit_seconds_", 0.0)
    timings.seconds["cluster"] = cluster_seconds
    timings.seconds["represent"] = max(0.0, fit_seconds - cluster_seconds)
    timings.peak_mb["cluster"] = _peak_mb()  # after the fit: HDBSCAN and BERTopic's words
    assigned_by = np.where(
        clustered, "cluster", np.where(np.asarray(topics) == -1, "none", "similarity")
    )
    probability = np.round(np.asarray(probabilities, dtype=float), 4)
    fitted_rows, fitted_docs, fitted_topics, fit_threshold = rows, docs, topics, None
    modeled_docs = every[1] if every is not None else docs
    if every is not None:  # the documents outside the sample: the most similar topic
        rows = every[0]
        rest = np.setdiff1d(np.arange(len(rows)), picked, assume_unique=True)
        joined, _, fit_threshold = assign_rest(
            topic_model, every[2], settings, rows=rest, client=client
        )
        all_topics = np.empty(len(rows), np.int64)
        all_topics[picked], all_topics[rest] = topics, joined
        by = np.empty(len(rows), object)
        by[picked] = assigned_by
        outside = ("similarity (outside the sample)", "none (outside the sample)")
        by[rest] = np.where(joined == -1, outside[1], outside[0])
        fitted_probability, probability = probability, np.full(len(rows), np.nan)
        probability[picked] = fitted_probability
        topics, assigned_by = [int(t) for t in all_topics], by
        with timings.stage("represent", say):  # the words from every document's counts
            words_from_every_document(topic_model, modeled_docs, all_topics, picked, client=client)
    n_topics = len(set(topics) - {-1})
    say(f"      {n_topics} topics; {sum(t == -1 for t in topics):,} documents in no topic (-1)")
    with timings.stage("evaluate", say):
        quality = evaluate(topic_model, fitted_docs)
    with timings.stage("figures", say):
        figures = standard_figures(
            topic_model,
            docs,
            embeddings,
            coordinates=mapped_in.coordinates,
            timestamps=_subset(plan.timestamps, fitted_rows),
            classes=classes_for_figures(_subset(plan.classes, fitted_rows))
            if plan.classes is not None
            else None,
            class_name=plan.columns.classes or "class",
        )
    with timings.stage("export", say):
        try:
            table = _topic_table(topic_model)
            table.to_csv(staging / "topics.csv", index=False)
            quality.to_csv(staging / "quality.csv", index_label="topic")
            names = dict(zip(table["id"], table["name"], strict=True))
            documents = {
                "row": rows + 1,  # the input's row, counted from 1
                "topic": np.asarray(topics, np.int64),
                "topic_name": [names[t] for t in topics],
                # HDBSCAN's cluster, an outlier moved to its most similar topic, or (with a
                # fit sample) a document outside the sample given its most similar topic.
                "assigned_by": assigned_by,
                "probability": probability,
            }
            for column in (plan.columns.time, plan.columns.classes):
                if column:
                    documents[column] = frame[column].to_numpy()[rows]
            documents["text"] = modeled_docs
            write_documents(staging, documents)
            formats, figures_skipped = _export_figures(plan, figures, staging / "figures")
            save_model(topic_model, staging / "model")
        except OSError as exc:
            if exc.errno not in _WRITE_ERRNOS:
                raise
            raise CubeError(
                f"cannot write the results for {spec.out} ({exc.strerror}); free some space "
                "or choose another out="
            ) from exc
    from cube.figures import describe
    from cube.topics import library_versions, texts_digest

    summary = {
        "cube_version": __version__,
        "source": plan.source,
        "documents": len(rows),
        # With a fit sample: the topics, words, quality and figures come from the sample.
        "fit_sample": None
        if every is None
        else {
            "fitted_on": len(fitted_docs),
            "assigned_by_similarity": int(len(rows) - len(fitted_docs)),
            "threshold": round(fit_threshold, 4),
        },
        "topics": n_topics,
        "outliers": int(sum(1 for t in topics if t == -1)),
        "quality": _quality_summary(quality),
        "near_duplicates": {
            **copies.summary(
                fitted_topics if len(fitted_rows) == len(copies.group) else None,
                collapsed=spec.dedupe,
            ),
            # With a fit sample, copies were looked for among its documents only.
            "looked_for_in": "the fit sample" if every is not None else "every document",
        },
        "parameters": plan.decisions(),
        "cache": {
            "embedded": embed_stats.encoded,
            "embeddings_from_cache": embed_stats.cached,
            "reductions_computed": reductions_computed,
        },
        # Where the embedding ran: this process, or a Dask cluster (which also, above the fit
        # sample, assigns the other documents and counts the words; the rest runs here).
        "embedded_on": (
            {"dask_workers": spec.workers}
            if spec.workers is not None
            else {"dask_scheduler": spec.scheduler}
            if spec.scheduler is not None
            else "this process"
        ),
        "seconds": {name: round(timings.seconds.get(name, 0.0), 2) for name in STAGES},
        "peak_memory_mb_after": dict(timings.peak_mb),  # this process's, stage by stage
        "figures": sorted(figures),
        "figure_descriptions": describe(topic_model, figures),  # alt text, from their data
        "formats_written": list(formats),
        "figures_skipped": figures_skipped,
        "texts_sha256": texts_digest(modeled_docs),
        "environment": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cache_dir": str(_cache.root()),
            "versions": library_versions(),
        },
    }
    return summary, table, figures


def _subset(values: list | None, rows: np.ndarray) -> list | None:
    """The values of the modeled documents (all of them unless --dedupe left some out)."""
    return None if values is None else [values[i] for i in rows]
