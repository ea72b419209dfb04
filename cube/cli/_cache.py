"""``cube cache info`` / ``clear`` / ``export`` / ``import``: what the cache holds; empty it;
carry it to another machine as one file."""

from __future__ import annotations

import argparse
import contextlib

from cube import _cache
from cube._errors import CubeError
from cube._progress import human_bytes


def _cmd_cache_info(args: argparse.Namespace) -> int:
    from cube.embeddings import cache_spaces

    spaces = cache_spaces()
    print(f"cache: {_cache.root()}")
    for label, folder in (
        ("ONNX model exports", _cache.root() / "onnx"),
        ("figure images", _cache.figures_dir()),
    ):
        files = [f for f in folder.rglob("*") if f.is_file()] if folder.is_dir() else []
        size = sum(f.stat().st_size for f in files)
        count = len([f for f in files if f.suffix != ".lock" and f.name != "manifest.json"])
        print(f"{label}: {count}, {human_bytes(size)}" if count else f"{label}: none")
    if not spaces:
        print("embeddings: none yet")
        return 0
    rows = sum(s["rows"] for s in spaces)
    size = sum(s["bytes"] for s in spaces)
    print(f"embeddings: {rows} vectors, {human_bytes(size)}, {len(spaces)} model setting(s)")
    for s in spaces:
        extras = [f"normalize={s.get('normalize')}"]
        for name in ("prompt", "truncate_dim"):
            if s.get(name):
                extras.append(f"{name}={s[name]!r}")
        if s.get("precision", "float32") != "float32":
            extras.append(f"precision={s['precision']}")
        print(
            f"  {s.get('model', '?')}: {s['rows']} vectors, {human_bytes(s['bytes'])} "
            f"({', '.join(extras)})"
        )
    return 0


def _cmd_cache_clear(args: argparse.Namespace) -> int:
    import shutil

    from cube.embeddings import cache_spaces

    root = _cache.root()
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
    for sub in (
        _cache.embeddings_dir(),
        _cache.reductions_dir(),
        _cache.figures_dir(),
        _cache.root() / "onnx",
    ):
        if sub.is_dir():
            removed += sum(f.stat().st_size for f in sub.rglob("*") if f.is_file())
            shutil.rmtree(sub, ignore_errors=True)
    from cube._cache import IMPORTED_SPACES

    with contextlib.suppress(OSError):
        (root / IMPORTED_SPACES).unlink()
    print(f"cleared {root} ({human_bytes(removed)} freed)")
    return 0


def _cmd_cache_export(args: argparse.Namespace) -> int:
    from cube._archive import export_cache

    report = export_cache(args.file)
    print(f"exported {report.summary()} from {_cache.root()} to {report.path}")
    return 0


def _cmd_cache_import(args: argparse.Namespace) -> int:
    from cube._archive import import_cache

    report = import_cache(args.file)
    print(f"imported {report.summary()} from {report.path} into {_cache.root()}")
    return 0


def add_parser(commands) -> None:
    cache = commands.add_parser("cache", help="inspect or clear the cache")
    cache_commands = cache.add_subparsers(dest="cache_command", metavar="ACTION", required=True)
    info = cache_commands.add_parser("info", help="entries, size and models in the cache")
    info.set_defaults(handler=_cmd_cache_info)
    clear = cache_commands.add_parser(
        "clear", help="delete cached vectors, reductions, figure images and ONNX exports"
    )
    clear.add_argument("--model", default=None, help="only this model's vectors")
    clear.set_defaults(handler=_cmd_cache_clear)
    export = cache_commands.add_parser(
        "export", help="write the whole cache to one archive file (for another machine)"
    )
    export.add_argument("file", help="the archive to write, e.g. course-cache.tar")
    export.set_defaults(handler=_cmd_cache_export)
    load = cache_commands.add_parser(
        "import",
        help="take an archive's entries into the cache, checked first; never overwrites one",
    )
    load.add_argument("file", help="an archive written by `cube cache export`")
    load.set_defaults(handler=_cmd_cache_import)
