"""``cube embed``: embed a table of texts into the cache."""

from __future__ import annotations

import argparse
import contextlib

from cube import _cache, _config
from cube.cli._common import add_cluster_arguments


def _cmd_embed(args: argparse.Namespace) -> int:
    from cube.datasets import load_table
    from cube.distributed import check_cluster_options, cluster
    from cube.embeddings import embed_with_stats

    check_cluster_options(args.workers, args.scheduler)
    table = load_table(args.file, args.text_column, encoding=args.encoding)
    texts = table[args.text_column if args.text_column in table else "text"].tolist()
    with contextlib.ExitStack() as stack:
        client = None
        if args.workers is not None or args.scheduler is not None:
            client = stack.enter_context(cluster(args.workers, args.scheduler))
        vectors, stats = embed_with_stats(
            texts,
            args.model,
            batch_size=args.batch_size,
            normalize=args.normalize,
            device=args.device,
            backend=args.backend,
            client=client,
        )
    print(
        f"{len(texts)} texts -> {vectors.shape[1]}-dimensional vectors with {args.model} ({stats.backend}): "
        f"{stats.encoded} encoded, {stats.cached} from the cache"
        + (f", {stats.duplicates} duplicates" if stats.duplicates else "")
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
    add_cluster_arguments(embed)
    embed.set_defaults(handler=_cmd_embed)
