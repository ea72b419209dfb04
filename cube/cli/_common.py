"""What the command modules share."""

from __future__ import annotations

import re

EXIT_USAGE = 2


class Terminated(KeyboardInterrupt):
    """SIGTERM (a ``timeout``, a job scheduler, a stopping container), handled like Ctrl-C."""


EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM


# The library names its parameters (``force=True``, ``formats='html'``, ``time_column=``);
# the command line says the flags that set them.
FLAGS = {
    "out": "--out",
    "force": "--force",
    "sample": "--sample",
    "formats": "--formats",
    "text_column": "--text-column",
    "time_column": "--time-column",
    "class_column": "--class-column",
    "encoding": "--encoding",
    "min_topic_size": "--min-topic-size",
    "seed": "--seed",
    "model": "--model",
    "backend": "--backend",
    "platforms": "--platforms",
    "project": "--project",
    "port": "--port",
    "workers": "--workers",
    "scheduler": "--scheduler",
    "fit_sample": "--fit-sample",
}
_PARAMETER = re.compile(
    r"(?<![\w.-])(" + "|".join(FLAGS) + r")=(True\b|'([^']*)'|(\d+)\b|(?=[\s;,)]|$))"
)


def as_flags(message: str) -> str:
    """A library message in the command line's words: ``pass force=True`` → ``pass --force``.

    Example:
        >>> as_flags("pass formats='html' or choose another out=")
        'pass --formats html or choose another --out'
    """

    def flag(match: re.Match) -> str:
        value = match.group(3) or match.group(4)
        return FLAGS[match.group(1)] + (f" {value}" if value else "")

    return _PARAMETER.sub(flag, message)


def add_cluster_arguments(parser) -> None:
    """``--workers`` / ``--scheduler``: embed on a Dask cluster (see ``cube.distributed``)."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="embed with N worker processes on this machine (a Dask LocalCluster)",
    )
    group.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="embed on the running Dask cluster at ADDRESS (tcp://HOST:8786); its workers "
        "must see this cache folder (a shared file system)",
    )
