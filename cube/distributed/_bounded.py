"""Tasks sent to a Dask cluster a few at a time: the scheduler never holds them all."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

_END = object()


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
