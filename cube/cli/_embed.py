"""``cube embed``: embed a table of texts into the cache."""

from __future__ import annotations

import argparse
import contextlib
import itertools

from cube import _cache, _config
from cube._errors import InputError
from cube.cli._common import add_cluster_arguments


def _cmd_embed(args: argparse.Namespace) -> int:
    """Embed the file a partition at a time: each partition's vectors go to the cache and are
    let go, so memory stays flat however many rows the file has; an interrupted run keeps
    every partition (and every step within one) it finished."""
    from cube.datasets import read_partitions
    from cube.distributed import check_cluster_options, cluster
    from cube.embeddings import embed_with_stats

    check_cluster_options(args.workers, args.scheduler)
    if args.partition_rows < 1:
        raise InputError(f"--partition-rows must be 1 or more, not {args.partition_rows}")
    partitions = read_partitions(
        args.file, args.text_column, rows=args.partition_rows, encoding=args.encoding
    )
    first = next(partitions)  # the file's problems before any cluster starts
    column = args.text_column if args.text_column in first else "text"
    texts = encoded = cached = duplicates = dim = 0
    with contextlib.ExitStack() as stack:
        client = None
        if args.workers is not None or args.scheduler is not None:
            client = stack.enter_context(cluster(args.workers, args.scheduler))
        for part in itertools.chain([first], partitions):
            vectors, stats = embed_with_stats(
                part[column].tolist(),
                args.model,
                batch_size=args.batch_size,
                normalize=args.normalize,
                device=args.device,
                backend=args.backend,
                client=client,
            )
            texts, dim = texts + stats.texts, vectors.shape[1]
            encoded, cached = encoded + stats.encoded, cached + stats.cached
            duplicates += stats.duplicates
            del vectors
    print(
        f"{texts} texts -> {dim}-dimensional vectors with {args.model} ({stats.backend}): "
        f"{encoded} encoded, {cached} from the cache"
        + (f", {duplicates} duplicates" if duplicates else "")
        + f" ({_cache.embeddings_dir()})"
    )
    return 0


def add_parser(commands) -> None:
    embed = commands.add_parser(
        "embed",
        help="embed a table of texts into the cache (CSV, TSV, Parquet, JSONL, TXT)",
        description="Embed the texts of a file so later runs find them in the cache.",
    )
    embed.add_argument("file", help="CSV, TSV, Parquet, JSONL or TXT (one text per line)")
    embed.add_argument("--text-column", default="text", help="column holding the texts")
    embed.add_argument("--model", default=_config.DEFAULT_MODEL, help="model name or folder")
    embed.add_argument("--encoding", default=None, help="text encoding when not UTF-8")
    embed.add_argument("--batch-size", type=int, default=32)
    embed.add_argument("--normalize", action="store_true", help="unit-length vectors")
    embed.add_argument("--device", default=None, help="cpu, cuda or mps (default: best)")
    embed.add_argument(
        "--backend",
        choices=("auto", "onnx", "torch"),
        help="onnx (int8, fast on CPU) or torch (exact float32); default auto",
    )
    embed.add_argument(
        "--partition-rows",
        type=int,
        default=50_000,
        metavar="N",
        help="rows read and embedded at a time (memory stays flat; default 50000)",
    )
    add_cluster_arguments(embed)
    embed.set_defaults(handler=_cmd_embed)
