"""``cube topics``: the main job (see :mod:`cube.pipeline`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from cube import _config
from cube._errors import InputError
from cube.cli._common import add_cluster_arguments


def parse_sample(value: str, flag: str = "--sample") -> int | None:
    """``--sample`` (or ``flag``): a positive number of documents, or ``all`` (None)."""
    if value.strip().lower() == "all":
        return None
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise InputError(f"{flag} takes a positive number of documents or 'all', not {value!r}")
    return number


def _cmd_topics(args: argparse.Namespace) -> int:
    from cube.figures import parse_formats
    from cube.pipeline import DEFAULT_SAMPLE, JobSpec, run

    if args.file is None and args.text_column != "text":
        raise InputError("--text-column needs a FILE; without one the bundled corpus is used")
    spec = JobSpec(
        out=Path(args.out),
        file=Path(args.file) if args.file else None,
        text_column=args.text_column,
        time_column=args.time_column,
        class_column=args.class_column,
        sample=parse_sample(args.sample)
        if args.sample
        else (None if args.file else DEFAULT_SAMPLE),
        seed=args.seed,
        min_topic_size=args.min_topic_size,
        model=args.model,
        encoding=args.encoding,
        force=args.force,
        formats=parse_formats(args.formats) if args.formats is not None else None,
        backend=args.backend,
        dedupe=args.dedupe,
        workers=args.workers,
        scheduler=args.scheduler,
        fit_sample=parse_sample(args.fit_sample, "--fit-sample")
        if args.fit_sample
        else JobSpec.fit_sample,
    )
    summary = run(spec, before_work=_before_work)
    print(format_summary(summary, spec.out))
    note = skipped_note(summary)
    if note:
        print(note, file=sys.stderr)
    return 0


def format_summary(summary: dict[str, Any], out: Path) -> str:
    """The run's last lines: topics, the quality headline, seconds per stage."""
    from cube.pipeline import STAGES
    from cube.topics import quality_headline

    seconds = summary["seconds"]
    stages = ", ".join(f"{name} {seconds[name]:.1f}s" for name in STAGES)
    quality = summary["quality"]
    return (
        f"{summary['topics']} topics in {summary['documents']:,} documents "
        f"({summary['outliers']:,} in no topic) -> {out}\n"
        f"quality: {quality_headline(quality)} (per topic: quality.csv)\n"
        + duplicates_line(summary)
        + f"time: {seconds['total']:.1f}s ({stages})"
    )


def duplicates_line(summary: dict[str, Any]) -> str:
    """A line on near-identical passages, when there are any (empty otherwise)."""
    from cube.reductions import near_duplicates_note

    copies = summary.get("near_duplicates") or {}
    return f"near-duplicates: {near_duplicates_note(copies)}\n" if copies.get("copies") else ""


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


def _before_work(plan) -> None:
    """Once the input passed its checks: a first run's ONNX export starts in another process
    while this one imports BERTopic (without PyTorch and transformers)."""
    from cube.embeddings import export_in_background
    from cube.topics import import_bertopic_lean

    model = plan.embedding.resolved
    if plan.embedding.backend.name == "onnx" and export_in_background(
        model.path, model.fingerprint
    ):
        print("      preparing the model for ONNX Runtime, once per model and machine")
    import_bertopic_lean()


EXAMPLES = """\
examples:
  cube topics --out sotu-topics
      4,000 State of the Union passages, by year and party (about a minute the first time)
  cube topics reviews.csv --text-column review --time-column date --out reviews-topics
      your own table: topics, and topics over time from its date column
  cube topics speeches.parquet --sample all --formats html --out all --force
      every document, HTML figures only (no browser needed), replacing ./all
"""


def add_parser(commands) -> None:
    topics = commands.add_parser(
        "topics",
        help="the main job: find topics in a corpus, write tables, figures and the model",
        description="Find topics in FILE (or the bundled State of the Union corpus) and write "
        "report.html, topics.csv, documents.csv (and .parquet), quality.csv, figures (PNG and HTML), the model "
        "and summary.json to --out. Everything the run needs is checked before the long work "
        "starts; nothing is written unless the whole run succeeds.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    topics.add_argument("file", nargs="?", help="CSV, TSV, Parquet, JSONL or TXT")
    topics.add_argument("--text-column", default="text", help="column holding the texts")
    topics.add_argument("--time-column", help="years or dates: adds topics over time")
    topics.add_argument("--class-column", help="groups such as party: adds topics per class")
    topics.add_argument(
        "--sample",
        default=None,
        help="documents to use, or 'all' (default: 4000 of the bundled corpus, all of a FILE)",
    )
    topics.add_argument(
        "--fit-sample",
        default=None,
        help="above this many documents, fit the topics on a sample of this many and give the "
        f"others the most similar topic, or 'all' (default: {_config.DEFAULT_FIT_SAMPLE})",
    )
    topics.add_argument("--out", required=True, help="output folder (created)")
    add_cluster_arguments(topics)
    topics.add_argument("--force", action="store_true", help="replace a non-empty --out")
    topics.add_argument("--seed", type=int, default=0, help="same seed, same topics")
    topics.add_argument("--min-topic-size", type=int, help="smallest topic (default: scaled)")
    topics.add_argument("--model", default=_config.DEFAULT_MODEL, help="model name or folder")
    topics.add_argument("--encoding", default=None, help="text encoding when not UTF-8")
    topics.add_argument(
        "--backend",
        choices=("auto", "onnx", "torch"),
        help="embedding backend: onnx (int8, fast on CPU), torch (exact float32); "
        "default auto: onnx on a CPU where it can run",
    )
    topics.add_argument(
        "--formats",
        default=None,
        metavar="LIST",
        help="figure formats, comma-separated, from png, svg, pdf, jpeg, webp, html, json "
        "(default: png,html; without a working Chrome the default writes HTML only and says so)",
    )
    topics.add_argument(
        "--dedupe",
        action="store_true",
        help="model one passage of each group of near-identical ones (cosine >= 0.98); "
        "default: keep them all (they are counted and reported either way)",
    )
    topics.set_defaults(handler=_cmd_topics)
