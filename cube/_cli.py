"""The ``cube`` command line.

Every subcommand imports what it needs when it runs, so ``cube --help`` answers at once.
Errors a user can fix print one line (``cube: error: ...``) and exit with code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from cube import __version__, _config
from cube._errors import CubeError

EXIT_USAGE = 2


def _human_bytes(size: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


# -- cube embed ----------------------------------------------------------------------------
def _cmd_embed(args: argparse.Namespace) -> int:
    from cube.datasets import load_table
    from cube.embeddings._embed import embed_with_stats

    table = load_table(args.file, args.text_column, encoding=args.encoding)
    texts = table[args.text_column if args.text_column in table else "text"].tolist()
    vectors, stats = embed_with_stats(
        texts,
        args.model,
        batch_size=args.batch_size,
        normalize=args.normalize,
        device=args.device,
    )
    print(
        f"{len(texts)} texts -> {vectors.shape[1]}-dimensional vectors with {args.model}: "
        f"{stats.encoded} encoded, {stats.cached} from the cache"
        + (f", {stats.duplicates} duplicates" if stats.duplicates else "")
        + f" ({_config.embeddings_dir()})"
    )
    return 0


# -- cube cache ----------------------------------------------------------------------------
def _cmd_cache_info(args: argparse.Namespace) -> int:
    from cube.embeddings import cache_spaces

    spaces = cache_spaces()
    print(f"cache: {_config.cache_dir()}")
    if not spaces:
        print("embeddings: none yet")
        return 0
    rows = sum(s["rows"] for s in spaces)
    size = sum(s["bytes"] for s in spaces)
    print(f"embeddings: {rows} vectors, {_human_bytes(size)}, {len(spaces)} model setting(s)")
    for s in spaces:
        extras = [f"normalize={s.get('normalize')}"]
        for name in ("prompt", "truncate_dim"):
            if s.get(name):
                extras.append(f"{name}={s[name]!r}")
        if s.get("precision", "float32") != "float32":
            extras.append(f"precision={s['precision']}")
        print(
            f"  {s.get('model', '?')}: {s['rows']} vectors, {_human_bytes(s['bytes'])} "
            f"({', '.join(extras)})"
        )
    return 0


def _cmd_cache_clear(args: argparse.Namespace) -> int:
    import shutil

    from cube.embeddings import cache_spaces

    root = _config.cache_dir()
    if args.model:
        matching = [s for s in cache_spaces() if s.get("model") == args.model]
        if not matching:
            known = sorted({str(s.get("model")) for s in cache_spaces()})
            raise CubeError(
                f"no cached embeddings for model {args.model!r}; cached models: "
                + (", ".join(known) if known else "none")
            )
        for s in matching:
            shutil.rmtree(s["path"], ignore_errors=True)
        print(f"removed {sum(s['rows'] for s in matching)} cached vectors of {args.model}")
        return 0
    removed = 0
    for sub in (_config.embeddings_dir(), _config.reductions_dir()):
        if sub.is_dir():
            removed += sum(f.stat().st_size for f in sub.rglob("*") if f.is_file())
            shutil.rmtree(sub, ignore_errors=True)
    print(f"cleared {root} ({_human_bytes(removed)} freed)")
    return 0


# -- cube doctor ---------------------------------------------------------------------------
def _check(label: str, probe: Callable[[], str]) -> bool:
    try:
        detail = probe()
    except Exception as exc:  # a check that fails for any reason is a FAIL line, not a crash
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"FAIL  {label}: {message}")
        return False
    print(f"OK    {label}: {detail}")
    return True


def _probe_python() -> str:
    return f"{sys.version.split()[0]} ({sys.executable})"


def _probe_torch() -> str:
    import torch

    from cube.embeddings import pick_device

    return f"torch {torch.__version__}, device {pick_device()}"


def _probe_model() -> str:
    from cube.embeddings import resolve_model

    model = resolve_model(_config.DEFAULT_MODEL, allow_download=False)
    if not any(model.path.glob("*.safetensors")) and not any(model.path.glob("*.bin")):
        raise CubeError(f"{model.path} has no weights file")
    return f"{_config.DEFAULT_MODEL} from the {model.source} ({model.path})"


def _probe_cache() -> str:
    import tempfile

    root = _config.cache_dir()
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".doctor-"):
            pass
    except OSError as exc:
        raise CubeError(f"{root} is not writable ({exc.strerror}); set CUBE_CACHE_DIR") from exc
    return str(root)


def _probe_browser() -> str:
    from cube.figures._browser import find_browser

    return find_browser()


def _probe_version(module: str) -> Callable[[], str]:
    def probe() -> str:
        from importlib.metadata import version

        __import__(module)
        return version(module)

    return probe


def _cmd_doctor(args: argparse.Namespace) -> int:
    checks = [
        ("Python", _probe_python),
        ("torch", _probe_torch),
        ("default model offline", _probe_model),
        ("cache directory writable", _probe_cache),
        ("Chrome for figure export", _probe_browser),
        ("jupyterlab", _probe_version("jupyterlab")),
        ("ipywidgets", _probe_version("ipywidgets")),
    ]
    results = [_check(label, probe) for label, probe in checks]
    failed = results.count(False)
    print("all checks passed" if not failed else f"{failed} check(s) failed")
    return 0 if not failed else 1


# -- cube topics ---------------------------------------------------------------------------
def _cmd_topics(args: argparse.Namespace) -> int:
    from pathlib import Path

    from cube.topics._job import DEFAULT_SAMPLE, JobSpec, format_summary, parse_sample, run

    if args.file is None and args.text_column != "text":
        raise CubeError("--text-column needs a FILE; without one the bundled corpus is used")
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
    )
    summary = run(spec)
    print(format_summary(summary, spec.out))
    return 0


# -- cube render ---------------------------------------------------------------------------
def _cmd_render(args: argparse.Namespace) -> int:
    from cube.notebook import render

    formats = [f.strip() for f in args.to.split(",") if f.strip()]
    written, failures = render(
        args.notebooks or None,
        args.out,
        formats=formats,
        quick=True if args.quick else None,
        timeout=args.timeout,
    )
    for path in written:
        print(f"wrote {path}")
    for failure in failures:
        print(f"cube: error: {failure}", file=sys.stderr)
    return 1 if failures else 0


# -- cube lab ------------------------------------------------------------------------------
def _cmd_lab(args: argparse.Namespace) -> int:
    from cube.notebook._lab import launch

    return launch(args.dir, port=args.port, open_browser=not args.no_browser)


# -- the parser ----------------------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage too)
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"cube: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cube",
        description="A Jupyter-first kit for learning and doing topic modeling.",
    )
    parser.add_argument("--version", action="version", version=f"cube {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

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
    embed.set_defaults(handler=_cmd_embed)

    cache = commands.add_parser("cache", help="inspect or clear the cache")
    cache_commands = cache.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    info = cache_commands.add_parser("info", help="entries, size and models in the cache")
    info.set_defaults(handler=_cmd_cache_info)
    clear = cache_commands.add_parser("clear", help="delete cached vectors")
    clear.add_argument("--model", default=None, help="only this model's vectors")
    clear.set_defaults(handler=_cmd_cache_clear)

    topics = commands.add_parser(
        "topics",
        help="the main job: find topics in a corpus, write tables, figures and the model",
        description="Find topics in FILE (or the bundled State of the Union corpus) and write "
        "topics.csv, documents.csv, figures (PNG and HTML), the model and summary.json to "
        "--out. Nothing is written unless the whole run succeeds.",
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
    topics.add_argument("--out", required=True, help="output folder (created)")
    topics.add_argument("--force", action="store_true", help="replace a non-empty --out")
    topics.add_argument("--seed", type=int, default=0, help="same seed, same topics")
    topics.add_argument("--min-topic-size", type=int, help="smallest topic (default: scaled)")
    topics.add_argument("--model", default=_config.DEFAULT_MODEL, help="model name or folder")
    topics.add_argument("--encoding", default=None, help="text encoding when not UTF-8")
    topics.set_defaults(handler=_cmd_topics)

    render = commands.add_parser(
        "render",
        help="execute notebooks in a fresh kernel and write HTML",
        description="Execute notebooks headlessly (default: the kit's own) and write one HTML "
        "page per notebook. CUBE_QUICK passes through to the kernels.",
    )
    render.add_argument("notebooks", nargs="*", metavar="NOTEBOOK", help=".ipynb files")
    render.add_argument("--to", default="html", help="html, ipynb, or both: html,ipynb")
    render.add_argument("--out", default="rendered", help="output folder (default: rendered)")
    render.add_argument("--quick", action="store_true", help="small samples (CUBE_QUICK=1)")
    render.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    render.set_defaults(handler=_cmd_render)

    lab = commands.add_parser(
        "lab",
        help="open JupyterLab on the kit's notebooks (localhost, token login)",
        description="Start JupyterLab on the kit's notebooks. Read-only notebooks (an installed "
        "package, the Nix store) are first copied into DIR (default ./cube-notebooks); a copy "
        "that already exists is never overwritten.",
    )
    lab.add_argument("dir", nargs="?", help="working folder for your copies of the notebooks")
    lab.add_argument("--port", type=int, default=None, help="port (default: Jupyter's)")
    lab.add_argument("--no-browser", action="store_true", help="do not open a browser")
    lab.set_defaults(handler=_cmd_lab)

    doctor = commands.add_parser("doctor", help="check this machine is ready for a workshop")
    doctor.set_defaults(handler=_cmd_doctor)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``cube`` command; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.handler(args)
    except CubeError as exc:
        print(f"cube: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("cube: interrupted; finished work was kept in the cache", file=sys.stderr)
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
