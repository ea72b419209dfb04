"""Past one machine: embedding on a Dask cluster, into the same content-addressed cache.

``cube topics --workers 2`` starts a ``LocalCluster`` on this machine; ``--scheduler
tcp://HOST:8786`` uses a running cluster; in Python, give ``cube.embed`` a client::

    >>> with cube.distributed.cluster(workers=2) as client:
    ...     vectors = cube.embed(texts, client=client)

The workers write vectors straight into the cache, so they must see it (the same disk, or a
shared file system at the same ``CUBE_CACHE_DIR``); vectors never pass through the scheduler.
"""

from __future__ import annotations

from cube._public import rehome
from cube.distributed._cluster import check_cluster_options, cluster

__all__ = ["check_cluster_options", "cluster"]

rehome(globals(), __all__, __name__)
