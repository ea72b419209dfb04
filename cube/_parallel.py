"""Parallel work, ground level: how many cores this process may use, and Dask tasks sent a
few at a time so the scheduler never holds them all.

It imports nothing from cube, so the embeddings, the cluster and the topics can all use it
without tying one of them to another.
"""

from __future__ import annotations

import contextlib
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Any

_END = object()


def workers() -> int:
    """Worker threads: the cores this process may use (its CPU affinity where the OS has one).

    Example:
        >>> workers() >= 1
        True
    """
    with contextlib.suppress(AttributeError):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def results_as_finished(
    client: Any, submit: Callable[[Any], Any], items: Iterable[Any], in_flight: int
) -> Iterator[Any]:
    """``submit(item)`` for each item (a Dask future), at most ``in_flight`` pending at once;
    yields each result as its task finishes and sends the next item. On any error, Ctrl-C
    included, the pending tasks are cancelled.

    Example:
        >>> total = sum(results_as_finished(client, lambda n: client.submit(f, n), range(100), 8))
    """
    from distributed import as_completed

    items = iter(items)
    futures = [submit(item) for item in itertools.islice(items, in_flight)]
    pending = as_completed(futures)
    try:
        for future in pending:
            yield future.result()
            futures.remove(future)
            item = next(items, _END)
            if item is not _END:
                futures.append(submit(item))
                pending.add(futures[-1])
    except BaseException:
        client.cancel(futures)
        raise
