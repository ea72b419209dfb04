"""The main job, ``cube topics``: a corpus in; vectors, reductions, topics, quality and figures out.

:func:`run` = :func:`~cube.pipeline._plan.prepare` (every check, before the long work), then
the stages in order into a staging folder claimed by :func:`~cube.pipeline._output.claim`.
"""

from __future__ import annotations

import contextlib
import dataclasses
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
from cube._errors import NO_ROOM_ERRNOS, BrowserFailedError, BrowserNotFoundError, CubeError
from cube._texts import TextsOnDisk
from cube.pipeline._documents import topic_table, write_documents
from cube.pipeline._output import STAGES, atomic_rename_into, claim, run_summary
from cube.pipeline._plan import JobSpec, Plan, classes_for_figures, prepare

# In summary.json, not on the report's page: what reproduces the run, not what a reader needs.
_MACHINE_DETAIL = ("model_path", "model_fingerprint", "umap", "embedding")


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
        atomic_rename_into(staging, plan.target)
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


@dataclass(frozen=True)
class Corpus:
    """The documents the run models and which of them the topics are fitted on.

    ``docs`` and ``embeddings`` are every modeled document's (all of the plan's, or with
    ``--dedupe`` and no fit sample the ones kept); ``rows`` their rows in the plan's table;
    ``fit`` the positions (in ``docs``) the topics are fitted on and ``fit_vectors`` their
    vectors, in memory.
    """

    docs: list[str] | TextsOnDisk
    embeddings: np.ndarray | Any  # CachedVectors with a fit sample: read when indexed
    rows: np.ndarray
    fit: np.ndarray
    fit_vectors: np.ndarray

    @property
    def fit_docs(self) -> list[str]:
        return [self.docs[i] for i in self.fit]

    def leave_out(self, keep: np.ndarray) -> Corpus:
        """Without the fitted documents where ``keep`` (one per fitted document) is False:
        left out of the fit sample, or of the whole run when every document is fitted."""
        if len(self.fit) < len(self.docs):  # they join a topic as the others do
            return dataclasses.replace(self, fit=self.fit[keep], fit_vectors=self.fit_vectors[keep])
        kept = np.flatnonzero(keep)
        return Corpus(
            [self.docs[i] for i in kept],
            self.embeddings[kept],
            self.rows[kept],
            np.arange(len(kept)),
            self.fit_vectors[kept],
        )


def _work(
    plan: Plan,
    staging: Path,
    timings: Timings,
    say: Callable[[str], None],
    stack: contextlib.ExitStack,
) -> tuple[dict, pd.DataFrame, dict]:
    """The long work, one way: embed, reduce, fit, draw, write into ``staging``; the vectors,
    the neighbour graph and both reductions are made once and handed along in memory. Returns
    the summary, the topic table and the figures (for the report)."""
    from cube.figures import STATIC_FORMATS
    from cube.reductions import knn_graph, reduction
    from cube.topics import evaluate, fit_on_sample

    settings = plan.settings
    with timings.stage("embed", say):
        client = _client(plan, stack, say)
        corpus, embed_stats = _embed(plan, client, say)
        # One neighbour graph of the fitted vectors, for the copies and both reductions.
        graph = knn_graph(corpus.fit_vectors, settings.umap_params())
        corpus, copies = _near_duplicates(plan, corpus, graph, say)
    if embed_stats.encoded and any(f in STATIC_FORMATS for f in plan.formats):
        _start_browser_early()  # a long run: the browser starts while UMAP uses one core
    with timings.stage("reduce", say):
        clustered_in = reduction(corpus.fit_vectors, settings.umap_params(), neighbours=graph)
        mapped_in = reduction(
            corpus.fit_vectors, settings.umap_params().for_map(), neighbours=graph
        )
    say(f"[4/{len(STAGES)}] cluster and [5/{len(STAGES)}] represent")
    made = fit_on_sample(  # the full fit when corpus.fit is every document
        corpus.docs, corpus.embeddings, settings, sample=corpus.fit, reduction=clustered_in,
        embedding=plan.embedding, client=client,
    )  # fmt: skip
    _time_fit(timings, made)
    topics = made.topics
    say(f"      {len(set(topics) - {-1})} topics; {topics.count(-1):,} documents in no topic (-1)")
    with timings.stage("evaluate", say):
        quality = evaluate(made.topic_model, corpus.fit_docs)
    with timings.stage("figures", say):
        figures = _figures(plan, corpus, made.topic_model, mapped_in.coordinates)
    with timings.stage("export", say):
        table, formats, skipped = _export(plan, staging, corpus, made, quality, figures)
    summary = run_summary(
        plan,
        corpus_rows=len(corpus.rows),
        fitted=made,
        quality=quality,
        copies=copies,
        embed_stats=embed_stats,
        reductions_computed=sum(not r.from_cache for r in (clustered_in, mapped_in)),
        timings=timings,
        figures=figures,
        formats=formats,
        figures_skipped=skipped,
        texts=corpus.docs,
    )
    return summary, table, figures


def _client(plan: Plan, stack: contextlib.ExitStack, say: Callable[[str], None]):
    """The Dask client asked for (closed by ``stack``), or None."""
    if plan.spec.workers is None and plan.spec.scheduler is None:
        return None
    from cube.distributed import cluster

    return stack.enter_context(cluster(plan.spec.workers, plan.spec.scheduler, say=say))


def _embed(plan: Plan, client, say: Callable[[str], None]):
    """Every document's vector, in the plan's space; the fit sample's read into memory.

    With a fit sample the vectors stay in the cache: the sample's are read, then the others a
    block at a time as they join a topic (never all in memory at once).
    """
    from cube.embeddings import embed_with_stats
    from cube.topics import sample_rows

    docs = plan.docs
    sampled = plan.fit_sample is not None and plan.fit_sample < len(docs)
    if not sampled and isinstance(docs, TextsOnDisk):
        docs = list(docs)  # a full fit holds every text (BERTopic's table of documents)
    embeddings, stats = embed_with_stats(
        docs,
        plan.embedding,
        client=client,
        in_memory=not (sampled and _cache.enabled()),
    )
    fit = np.arange(len(docs))
    if sampled:
        fit = sample_rows(len(docs), plan.fit_sample, plan.settings.seed)
        say(
            f"      topics fitted on {len(fit):,} of {len(docs):,} documents (a seeded sample); "
            "the others join the most similar topic"
        )
    fit_vectors = np.asarray(embeddings[fit]) if sampled else np.asarray(embeddings)
    return Corpus(docs, embeddings, np.arange(len(docs)), fit, fit_vectors), stats


def _near_duplicates(plan: Plan, corpus: Corpus, graph, say: Callable[[str], None]):
    """Near-identical passages among the fitted documents (with a fit sample: in the sample
    alone, so the neighbour graph is the one its UMAP uses); ``--dedupe`` leaves them out."""
    from cube.reductions import near_duplicates

    settings = plan.settings
    copies = near_duplicates(
        corpus.fit_vectors, n_neighbors=settings.n_neighbors, seed=settings.seed, neighbours=graph
    )
    if plan.spec.dedupe and copies.n_copies:
        sampled = len(corpus.fit) < len(corpus.docs)
        corpus = corpus.leave_out(copies.keep)
        say(
            f"      {copies.n_copies} near-identical passages left out "
            + ("of the fit (--dedupe)" if sampled else "(--dedupe)")
        )
    return corpus, copies


def _time_fit(timings: Timings, made) -> None:
    """The fit's stages: HDBSCAN's own seconds, the rest of the fit and the words counted
    over every document (with a fit sample) as representing."""
    cluster_seconds = getattr(made.topic_model.hdbscan_model, "fit_seconds_", 0.0)
    timings.seconds["cluster"] = cluster_seconds
    timings.seconds["represent"] = max(0.0, made.seconds["fit"] - cluster_seconds) + (
        made.seconds.get("words", 0.0)
    )
    timings.peak_mb["cluster"] = timings.peak_mb["represent"] = _peak_mb()


def _figures(plan: Plan, corpus: Corpus, topic_model, coordinates: np.ndarray) -> dict:
    """The standard figures of the fitted documents, on the map already computed."""
    from cube.figures import standard_figures

    fitted_rows = corpus.rows[corpus.fit]
    classes = _subset(plan.classes, fitted_rows)
    return standard_figures(
        topic_model,
        corpus.fit_docs,
        corpus.fit_vectors,
        coordinates=coordinates,
        timestamps=_subset(plan.timestamps, fitted_rows),
        classes=classes_for_figures(classes) if classes is not None else None,
        class_name=plan.columns.classes or "class",
    )


def _export(plan: Plan, staging: Path, corpus: Corpus, made, quality, figures):
    """topics.csv, quality.csv, the documents, the figures and the model, into ``staging``;
    returns the topic table, the formats written and what was skipped."""
    from cube.topics import save as save_model

    try:
        table = topic_table(made.topic_model)
        table.to_csv(staging / "topics.csv", index=False)
        quality.to_csv(staging / "quality.csv", index_label="topic")
        names = dict(zip(table["id"], table["name"], strict=True))
        documents = {
            "row": corpus.rows + 1,  # the input's row, counted from 1
            "topic": np.asarray(made.topics, np.int64),
            "topic_name": [names[t] for t in made.topics],
            # HDBSCAN's cluster, an outlier moved to its most similar topic, or (with a fit
            # sample) a document outside the sample given its most similar topic.
            "assigned_by": made.assigned_by,
            "probability": made.probability,
        }
        for column in (plan.columns.time, plan.columns.classes):
            if column:
                documents[column] = plan.frame[column].to_numpy()[corpus.rows]
        documents["text"] = corpus.docs
        write_documents(staging, documents)
        formats, skipped = _export_figures(plan, figures, staging / "figures")
        save_model(made.topic_model, staging / "model")
    except OSError as exc:
        if exc.errno not in NO_ROOM_ERRNOS:
            raise
        raise CubeError(
            f"cannot write the results for {plan.spec.out} ({exc.strerror}); free some space "
            "or choose another out="
        ) from exc
    return table, formats, skipped


def _subset(values: list | None, rows: np.ndarray) -> list | None:
    """The values of the modeled documents (all of them unless --dedupe left some out)."""
    return None if values is None else [values[i] for i in rows]
