"""The ``cube`` command line: one module per command, each importing what it needs when it runs.

So ``cube --help`` answers at once. Errors a user can fix print one line
(``cube: error: ...``) and exit with code 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from cube._errors import CubeError
from cube._version import __version__
from cube.cli import _cache, _doctor, _embed, _lab, _render, _topics
from cube.cli._common import EXIT_USAGE


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
    for command in (_embed, _cache, _topics, _render, _lab, _doctor):
        command.add_parser(commands)
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
