"""What the command modules share."""

from __future__ import annotations

EXIT_USAGE = 2


def human_bytes(size: float) -> str:
    """``1536`` → ``'1.5 KB'``."""
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


class Terminated(KeyboardInterrupt):
    """SIGTERM (a ``timeout``, a job scheduler, a stopping container), handled like Ctrl-C."""


EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM
