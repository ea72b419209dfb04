"""``cube.distributed.cluster``: a Dask client for a run, on this machine or on a cluster."""

from __future__ import annotations

import contextlib
import importlib.util
import logging
import os
from collections.abc import Iterator
from typing import Any

from cube._errors import InputError
from cube._parallel import workers as cores  # the cores this process may use

DASHBOARD = "127.0.0.1:8787"  # this machine only, as JupyterLab; another port if it is taken


def check_cluster_options(workers: int | None, scheduler: str | None) -> None:
    """Fail fast, before any work: one of the two at most, a positive count, Dask installed."""
    if workers is not None and scheduler is not None:
        raise InputError(
            "workers= and scheduler= were both given: workers= starts a cluster on this "
            "machine, scheduler= uses a running one; give one of them"
        )
    if workers is not None and workers < 1:
        raise InputError(f"workers={workers} is no number of processes; give 1 or more")
    if scheduler is not None and "://" not in scheduler:
        raise InputError(
            f"scheduler={scheduler!r} is not an address; give it as the scheduler prints it, "
            "e.g. tcp://10.0.0.5:8786"
        )
    if workers is not None or scheduler is not None:
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise InputError(
                "running on a Dask cluster needs dask[distributed]: pip install 'dask[distributed]'"
            ) from None


@contextlib.contextmanager
def cluster(
    workers: int | None = None,
    scheduler: str | None = None,
    *,
    threads_per_worker: int | None = None,
    say: Any = print,
) -> Iterator[Any]:
    """A ``dask.distributed.Client``: ``workers`` processes on this machine (a ``LocalCluster``),
    or the running cluster at ``scheduler``; closed (and a local cluster stopped) on exit,
    also on Ctrl-C. The dashboard's address is said once.

    Example:
        >>> with cube.distributed.cluster(workers=2) as client:
        ...     vectors = cube.embed(texts, client=client)
    """
    check_cluster_options(workers, scheduler)
    if workers is None and scheduler is None:
        raise InputError("cluster() needs workers (a count) or scheduler (an address)")
    from distributed import Client, LocalCluster

    with contextlib.ExitStack() as stack:
        if scheduler is not None:
            try:
                client = stack.enter_context(Client(scheduler, timeout="20s"))
            except OSError as exc:
                raise InputError(
                    f"no Dask scheduler answers at {scheduler} ({exc}); start one "
                    "(dask scheduler) or check the address"
                ) from None
        else:
            assert workers is not None
            threads = threads_per_worker or max(1, cores() // workers)
            # Runs last, once the cluster is closed: see _restore_environment.
            stack.callback(_restore_environment, dict(os.environ))
            stack.enter_context(_worker_environment(threads))
            local = stack.enter_context(
                LocalCluster(
                    n_workers=workers,
                    threads_per_worker=threads,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=DASHBOARD,
                    # Not ERROR: a worker whose scheduler stops first (Ctrl-C) logs its
                    # failed heartbeat with a traceback; a task that fails still raises here.
                    silence_logs=logging.CRITICAL,
                )
            )
            client = stack.enter_context(Client(local))
        has_dashboard = importlib.util.find_spec("bokeh") is not None  # Dask's needs bokeh
        link = client.dashboard_link if has_dashboard else "none (pip install bokeh)"
        count = len(client.scheduler_info().get("workers", {}))
        say(f"      Dask: {count} worker(s) at {client.scheduler.address}; dashboard {link}")
        yield client


def _worker_environment(threads: int) -> contextlib.AbstractContextManager:
    """Dask's settings for the environment its nannies give new workers, changed in two ways.

    ``MALLOC_TRIM_THRESHOLD_`` is left unset: set at all, it fixes glibc's mmap threshold at
    128 KB, so every large array (a model's activations, a matrix product's result) is mapped
    and zero-filled afresh; PyTorch embedded at 1.5 times the time one process took on the same
    cores. And the BLAS libraries get the threads the worker is given, not 1.
    """
    import dask

    count = str(threads)
    return dask.config.set(
        {
            "distributed.nanny.pre-spawn-environ": {
                "OMP_NUM_THREADS": count,
                "MKL_NUM_THREADS": count,
                "OPENBLAS_NUM_THREADS": count,
            }
        }
    )


def _restore_environment(before: dict[str, str]) -> None:
    """This process's environment as it was before a ``LocalCluster`` started.

    Dask's nannies set variables for their workers in the parent's own environment
    (``OMP_NUM_THREADS=1``, ``OPENBLAS_NUM_THREADS=1``, ``MKL_NUM_THREADS=1``, ...) and leave
    them there: every process started afterwards inherited one BLAS thread, which changes
    UMAP's reduction, so a ``cube topics`` run from the same notebook found other topics.
    """
    for key in set(os.environ) - set(before):
        del os.environ[key]
    for key, value in before.items():
        if os.environ.get(key) != value:
            os.environ[key] = value
