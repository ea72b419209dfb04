"""Benchmark: HDBSCAN's core distances in worker processes (hdbscan's default) or in this one.

Run: uv run python bench/hdbscan_jobs.py [--sizes 50000,200000]

hdbscan computes core distances with ``core_dist_n_jobs`` joblib jobs (default 4) once there
are more than 16,384 points; the jobs are worker processes that stay after the fit. cube
builds its clustering with ``core_dist_n_jobs=1``. Each fit runs in a fresh process on the same
seeded blobs (5 dimensions, as UMAP's output for clustering), and prints its seconds, the
clusters found, the memory of the processes it left behind and its own peak (VmHWM); then
whether the labels of the two settings are the same.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

FIT = """
import json, sys, time
import numpy as np, psutil
from hdbscan import HDBSCAN
from sklearn.datasets import make_blobs
n, jobs = int(sys.argv[1]), int(sys.argv[2])
X, _ = make_blobs(n_samples=n, n_features=5, centers=150, cluster_std=1.5, random_state=0)
started = time.perf_counter()
fitted = HDBSCAN(min_cluster_size=max(10, n // 1000), prediction_data=True,
                 core_dist_n_jobs=jobs).fit(X)
seconds = time.perf_counter() - started
left = sum(p.memory_info().rss for p in psutil.Process().children(recursive=True))
peak = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM"))
print(json.dumps({"seconds": seconds, "clusters": int(fitted.labels_.max() + 1),
                  "left_mb": left >> 20, "peak_mb": peak >> 10,
                  "labels": fitted.labels_.tolist()}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="50000,200000")
    args = parser.parse_args(argv)
    for n in (int(s) for s in args.sizes.split(",")):
        runs = {}
        for jobs in (4, 1):
            out = subprocess.run(
                [sys.executable, "-c", FIT, str(n), str(jobs)],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            runs[jobs] = json.loads(out.strip().splitlines()[-1])
            r = runs[jobs]
            print(
                f"{n:>8,} points, core_dist_n_jobs={jobs}: {r['seconds']:5.1f} s, "
                f"{r['clusters']} clusters, processes left behind {r['left_mb']:,} MB, "
                f"own peak {r['peak_mb']:,} MB",
                flush=True,
            )
        same = runs[4]["labels"] == runs[1]["labels"]
        print(
            f"{n:>8,} points: labels the same: {same}; one process / four jobs: "
            f"{runs[1]['seconds'] / runs[4]['seconds']:.2f} of the time"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
