"""Benchmark: `cube topics` as the corpus grows, in one process and on a 2-worker LocalCluster.

Run: uv run python bench/scale.py [--sizes 15825,100000] [--modes one,workers2]

Each run is a fresh `cube topics FILE --out ... --formats html` process on an empty cache
(the ONNX export is made once beforehand and shared, so no run pays for it). The bundled corpus
is its 15,825 passages; a larger size is `sotu-synthetic` (unique passages recombined from the
speeches' sentences, decade by decade; see cube/datasets/_synthetic.py). Printed per run: wall
time, seconds per stage (from summary.json), cost per passage, and the peak memory of the whole
process tree (cube and its Dask workers, sampled every 0.2 s). Then the ratios the scale issue
sets: cost per passage at the largest size against the smallest (goal <= 1.2), and the
LocalCluster against one process at each size (goal: overhead <= 10 %).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
MODES = {"one": [], "workers2": ["--workers", "2"]}


def corpus_file(n: int, folder: Path) -> Path:
    import cube

    path = folder / f"passages-{n}.parquet"
    if not path.exists():
        bundled = cube.datasets.load("sotu")
        table = bundled if n == len(bundled) else cube.datasets.load("sotu-synthetic", sample=n)
        table[["year", "party", "text"]].to_parquet(path, index=False)
    return path


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for p in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def run(file: Path, mode: str, onnx: Path, work: Path) -> dict:
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=work))
    (cache / "onnx").symlink_to(onnx, target_is_directory=True)
    out = work / f"out-{file.stem}-{mode}"
    env = {**os.environ, "CUBE_CACHE_DIR": str(cache), "TQDM_DISABLE": "1"}
    command = [sys.executable, "-m", "cube", "topics", str(file), "--out", str(out)]
    command += ["--formats", "html", "--time-column", "year", "--class-column", "party"]
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*command, *MODES[mode]], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    watched, peak = psutil.Process(proc.pid), [0]

    def sample() -> None:
        while proc.poll() is None:
            peak[0] = max(peak[0], tree_rss(watched))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - started
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{mode} on {file.name} failed:\n{err.decode()[-2000:]}")
    summary = json.loads((out / "summary.json").read_text())
    return {"wall": wall, "peak": peak[0], "summary": summary}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="15825", help="passages per run, comma-separated")
    parser.add_argument("--modes", default="one,workers2", help=f"of {', '.join(MODES)}")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    modes = args.modes.split(",")
    import cube
    from cube._config import DEFAULT_MODEL
    from cube.embeddings import resolve_model
    from cube.embeddings._onnx import exported_model

    work = Path(tempfile.mkdtemp(prefix="cube-scale-"))
    onnx_cache = work / "onnx-cache"
    with cube.config_context(cache_dir=onnx_cache):
        model = resolve_model(DEFAULT_MODEL)
        exported_model(model.path, model.fingerprint, cache=True)  # once, shared by every run
    cores = len(os.sched_getaffinity(0))
    print(
        f"{cores} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; cube topics, cold cache each run"
    )
    results: dict[tuple[int, str], dict] = {}
    for n in sizes:
        file = corpus_file(n, work)
        for mode in modes:
            r = run(file, mode, onnx_cache / "onnx", work)
            results[(n, mode)] = r
            s = r["summary"]["seconds"]
            stages = ", ".join(f"{k} {v:.1f}s" for k, v in s.items() if k != "total")
            print(
                f"{n:>9,} passages  {mode:<8} {r['wall']:7.1f} s  {r['wall'] / n * 1000:6.2f} ms/passage  "
                f"peak {r['peak'] / 2**30:.2f} GB  ({stages}); {r['summary']['topics']} topics",
                flush=True,
            )
    for n in sizes:
        if (n, "one") in results and (n, "workers2") in results:
            ratio = results[(n, "workers2")]["wall"] / results[(n, "one")]["wall"]
            print(f"LocalCluster (2 workers) / one process at {n:,}: {ratio:.2f}  (goal <= 1.10)")
    if len(sizes) > 1:
        for mode in modes:
            small, large = sizes[0], sizes[-1]
            per = [results[(k, mode)]["wall"] / k for k in (small, large)]
            print(
                f"{mode}: cost per passage at {large:,} / at {small:,} = {per[1] / per[0]:.2f}  (goal <= 1.2)"
            )
    print(f"(work folder {work})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
