"""The ``cube`` command line: one module per command, each importing what it needs when it runs.

So ``cube --help`` answers at once. Errors a user can fix print one line
(``cube: error: ...``) and exit with code 2.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence

from cube._errors import CubeError
from cube._version import __version__
from cube.cli import _cache, _doctor, _embed, _lab, _pack, _render, _topics
from cube.cli._common import (
    EXIT_INTERRUPTED,
    EXIT_TERMINATED,
    EXIT_USAGE,
    Terminated,
    as_flags,
)


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
    for command in (_embed, _cache, _topics, _render, _lab, _doctor, _pack):
        command.add_parser(commands)
    return parser


def _on_sigterm(signum, frame) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second one must not cut the clean-up short
    raise Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``cube`` command; returns the exit code.

    SIGTERM is handled like Ctrl-C: the command cleans up (the main job removes its staging
    folder), says so in one line and exits with 143 (Ctrl-C: 130).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return EXIT_USAGE
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        return args.handler(args)
    except CubeError as exc:
        print(f"cube: error: {as_flags(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        terminated = isinstance(exc, Terminated)
        print(
            f"cube: {'terminated' if terminated else 'interrupted'}; finished embeddings were "
            "kept in the cache",
            file=sys.stderr,
        )
        return EXIT_TERMINATED if terminated else EXIT_INTERRUPTED
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())
