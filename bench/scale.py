"""Benchmark: `cube topics` as the corpus grows, in one process and on a 2-worker LocalCluster.

Run: uv run python bench/scale.py [--sizes 15825,100000] [--modes one,workers2]

Each run is a fresh `cube topics FILE --out ... --formats html` process on an empty cache
(the ONNX export is made once beforehand and shared, so no run pays for it). The bundled corpus
is its 15,825 passages; a larger size is `sotu-synthetic` (unique passages recombined from the
speeches' sentences, decade by decade; see cube/datasets/_synthetic.py). Printed per run: wall
time, seconds per stage (from summary.json), cost per passage, and the peak memory of the whole
process tree (cube and its Dask workers, sampled every 0.2 s) with each process's share at
that peak (MB). Then the ratios the scale issue
sets: cost per passage at the largest size against the smallest (goal <= 1.2), and the
LocalCluster against one process at each size (goal: overhead <= 10 %).

A million passages take some 2.6 hours to embed on 2 cores. With ``--embed-at-most N``, a
larger size is measured in two parts (sizes up to N run whole). The embedding: `cube embed` on
a seeded N of its (or ``--embed-measured M``: M of its)
passages (in the run's mode: `--workers 2` for workers2), in a fresh process on an empty
cache, timed whole; and `cube embed` on a seeded 64 of them the same way, whose time is the
embedding's fixed cost (starting Python, loading the model, and for workers2 starting the
cluster and loading the model in each worker). The embedding of all N passages is projected
as that fixed cost plus N - 64 at the seconds per passage between the two runs; the line also
prints the cruder projection that scales the whole measured time (fixed costs included) by
N / M, and the ratios are printed both ways. The
rest: `cube topics` on all of them, with every vector found in its cache as a *stand-in*: a
point between the true vector of one of those N passages, drawn from the same decade, and the
true vector of one of its 5 nearest neighbours among them (seeded weights, normalized); made
beforehand in this process, and not timed. So every stage after the embedding runs on the
whole corpus, on vectors that lie where real passages of its decade lie, and the line says
"projected": the topics run plus the embedding at the measured seconds per passage for all of
them. (Tried first, and dropped: the mean of the true vectors of a passage's sentences, too
smooth, so synthetic passages formed 2 topics; stand-ins mixed with true vectors, which split
into two clusters of their own; a true vector plus noise, whose copies of one passage cluster
together and break UMAP's graph into many pieces.)
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import functools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
MODES = {"one": [], "workers2": ["--workers", "2"]}
KEYS = ("projected", "projected_scaled")  # a run's seconds, two ways (see EmbeddingTime)


def corpus_file(n: int, folder: Path) -> Path:
    import cube

    path = folder / f"passages-{n}.parquet"
    if not path.exists():
        bundled = cube.datasets.load("sotu")
        table = bundled if n == len(bundled) else cube.datasets.load("sotu-synthetic", sample=n)
        # In row groups of 50,000, as archives written in parts are: pyarrow reads a row group
        # whole, so one group of a million rows would be read at once however it is asked.
        table[["year", "party", "text"]].to_parquet(path, index=False, row_group_size=50_000)
    return path


def embed_seconds(
    file: Path, n: int, onnx: Path, work: Path, mode: str = "one"
) -> tuple[float, Path, Path]:
    """Wall seconds of `cube embed` on a seeded ``n`` of ``file``'s passages on an empty cache
    (with ``mode``'s flags: on the LocalCluster for ``workers2``); also the file of those
    passages and the cache that now holds their vectors."""
    import pandas as pd

    table = pd.read_parquet(file)
    part = work / f"embed-{n}-of-{file.stem}.parquet"
    table.sample(n=n, random_state=0).to_parquet(part, index=False)
    cache = Path(tempfile.mkdtemp(prefix="cache-embed-", dir=work))
    (cache / "onnx").symlink_to(onnx, target_is_directory=True)
    env = {**os.environ, "CUBE_CACHE_DIR": str(cache), "TQDM_DISABLE": "1"}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "cube", "embed", str(part), *MODES[mode]],
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started, part, cache


FIXED_PROBE = 64  # passages: `cube embed` on these times the embedding's fixed cost


@dataclasses.dataclass(frozen=True)
class EmbeddingTime:
    """`cube embed` timed on ``measured`` passages (``whole`` s) and on :data:`FIXED_PROBE` of
    them (``fixed`` s, the fixed cost); the rest is derived."""

    measured: int
    whole: float
    fixed: float

    @property
    def per_passage(self) -> float:
        return (self.whole - self.fixed) / (self.measured - FIXED_PROBE)

    def projected(self, n: int) -> float:
        """All ``n`` passages: the fixed cost, then the rest at the cost per passage."""
        return self.fixed + self.per_passage * (n - FIXED_PROBE)

    def scaled(self, n: int) -> float:
        """All ``n`` passages, cruder: the measured whole time, fixed cost and all, times n / M."""
        return self.whole / self.measured * n


def time_embedding(file: Path, measured: int, onnx: Path, work: Path, mode: str):
    """`cube embed` in ``mode`` on ``measured`` of ``file``'s passages and on
    :data:`FIXED_PROBE` of those; with the passages embedded and their cache (for the
    stand-ins)."""
    whole, part, cache = embed_seconds(file, measured, onnx, work, mode)
    fixed, _, _ = embed_seconds(part, FIXED_PROBE, onnx, work, mode)
    return EmbeddingTime(measured, whole, fixed), part, cache


STAND_IN_NEIGHBOURS = 5


def fill_stand_ins(file: Path, cache: Path, embedded: Path, embedded_cache: Path) -> None:
    """Put a stand-in vector in ``cache`` for every one of ``file``'s passages: a point between
    the true vector of an ``embedded`` passage of the same decade (from ``embedded_cache``) and
    one of its nearest neighbours among them."""
    import pandas as pd

    import cube
    from cube._store import text_keys
    from cube.embeddings import embedding_space

    table = pd.read_parquet(file, columns=["year", "text"])
    bases = pd.read_parquet(embedded, columns=["year", "text"])
    with cube.config_context(cache_dir=embedded_cache):
        base_vectors = cube.embed(bases["text"].tolist())  # all found in that cache
    unit = base_vectors / np.linalg.norm(base_vectors, axis=1, keepdims=True)
    neighbours = np.empty((len(unit), STAND_IN_NEIGHBOURS), np.int64)
    for start in range(0, len(unit), 2_000):
        similar = unit[start : start + 2_000] @ unit.T
        similar[np.arange(len(similar)), np.arange(start, start + len(similar))] = -2
        neighbours[start : start + 2_000] = np.argsort(-similar, axis=1)[:, :STAND_IN_NEIGHBOURS]
    rng = np.random.default_rng(0)
    by_decade = {d: np.flatnonzero(bases["year"] // 10 == d) for d in set(bases["year"] // 10)}
    decades = (table["year"] // 10).to_numpy()
    chosen = np.empty(len(table), np.int64)
    for decade in np.unique(decades):
        rows = np.flatnonzero(decades == decade)
        pool = by_decade.get(decade, np.arange(len(bases)))
        chosen[rows] = pool[rng.integers(0, len(pool), size=len(rows))]
    partner = neighbours[chosen, rng.integers(0, STAND_IN_NEIGHBOURS, size=len(table))]
    weight = rng.uniform(0.0, 1.0, size=(len(table), 1)).astype(np.float32)
    texts = table["text"].tolist()
    with cube.config_context(cache_dir=cache):
        space = embedding_space()
        store = space.store()
        space.write_meta()
        for start in range(0, len(texts), 100_000):
            rows = np.arange(start, min(start + 100_000, len(texts)))
            w = weight[rows]
            mixed = w * unit[chosen[rows]] + (1 - w) * unit[partner[rows]]
            mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
            store.add(text_keys([texts[i] for i in rows]), mixed.astype(np.float32))
        store.compact(force=True)


def tree_rss(process: psutil.Process) -> dict[str, int]:
    """Resident bytes of ``process`` and of each of its descendants, named by what they run."""
    sizes: dict[str, int] = {}
    try:
        family = [process, *process.children(recursive=True)]
    except psutil.Error:  # it has just ended
        return sizes
    for p in family:
        with contextlib.suppress(psutil.Error):
            name = "cube" if p.pid == process.pid else _what_runs(p)
            sizes[name] = sizes.get(name, 0) + p.memory_info().rss
    return sizes


def _what_runs(p: psutil.Process) -> str:
    """A short name for a child process: its Python module or script, else its program."""
    line = p.cmdline()
    if "-m" in line:
        return line[line.index("-m") + 1]
    if "-c" in line:
        return "python -c " + line[line.index("-c") + 1][:40]
    return Path(line[0]).name if line else p.name()


def run(file: Path, mode: str, onnx: Path, work: Path, fill=None, extra=()) -> dict:
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=work))
    (cache / "onnx").symlink_to(onnx, target_is_directory=True)
    if fill is not None:
        fill(cache)
    out = work / f"out-{file.stem}-{mode}"
    env = {**os.environ, "CUBE_CACHE_DIR": str(cache), "TQDM_DISABLE": "1"}
    command = [sys.executable, "-m", "cube", "topics", str(file), "--out", str(out)]
    command += ["--formats", "html", "--time-column", "year", "--class-column", "party"]
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*command, *MODES[mode], *extra], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    watched, peak, at_peak = psutil.Process(proc.pid), [0], [{}]

    def sample() -> None:
        while proc.poll() is None:
            sizes = tree_rss(watched)
            if sum(sizes.values()) > peak[0]:
                peak[0], at_peak[0] = sum(sizes.values()), sizes
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    wall = time.perf_counter() - started
    sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"{mode} on {file.name} failed:\n{err.decode()[-2000:]}")
    summary = json.loads((out / "summary.json").read_text())
    return {"wall": wall, "peak": peak[0], "at_peak": at_peak[0], "summary": summary}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="15825", help="passages per run, comma-separated")
    parser.add_argument("--modes", default="one,workers2", help=f"of {', '.join(MODES)}")
    parser.add_argument(
        "--embed-at-most",
        type=int,
        default=None,
        help="above this many passages, time cube embed on this many, run the rest on stand-ins",
    )
    parser.add_argument(
        "--embed-measured",
        type=int,
        default=None,
        help="with --embed-at-most: embed this many of a larger size (default: that many)",
    )
    parser.add_argument("--fit-sample", type=int, default=None, help="cube topics --fit-sample")
    parser.add_argument("--min-topic-size", type=int, default=None, help="... --min-topic-size")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    modes = args.modes.split(",")
    import cube
    from cube.embeddings import plan_space

    work = Path(tempfile.mkdtemp(prefix="cube-scale-"))
    onnx_cache = work / "onnx-cache"
    with cube.config_context(cache_dir=onnx_cache):
        plan = plan_space()
        if plan.backend.name == "onnx":
            plan.space  # noqa: B018 - the ONNX export, made once here and shared by every run
    # Read the libraries from disk once, untimed, so the first run does not pay for it alone
    # (a cold start added some 10 s to the first run's loading, none to later ones').
    warm = "import bertopic, dask.distributed, hdbscan, onnxruntime, sentence_transformers, umap"
    subprocess.run([sys.executable, "-c", warm], check=True, capture_output=True)
    cores = len(os.sched_getaffinity(0))
    print(
        f"{cores} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB; cube topics, cold cache each run"
    )
    results: dict[tuple[int, str], dict] = {}
    for n in sizes:
        file = corpus_file(n, work)
        for mode in modes:
            fill, embedded, how = None, None, ""
            measured = args.embed_measured or args.embed_at_most
            if args.embed_at_most is not None and n > args.embed_at_most:
                embedded, part, part_cache = time_embedding(
                    file, measured, onnx_cache / "onnx", work, mode
                )
                fill = functools.partial(
                    fill_stand_ins, file, embedded=part, embedded_cache=part_cache
                )
            extra = ("--fit-sample", str(args.fit_sample)) if args.fit_sample else ()
            if args.min_topic_size:
                extra += ("--min-topic-size", str(args.min_topic_size))
            r = run(file, mode, onnx_cache / "onnx", work, fill, extra)
            s = r["summary"]["seconds"]
            r["projected"] = r["projected_scaled"] = r["wall"]
            if embedded is not None:  # the embedding at its measured cost per passage, for all
                r["projected"] = r["wall"] + embedded.projected(n)
                r["projected_scaled"] = r["wall"] + embedded.scaled(n)
                how = (
                    f"stand-in vectors; cube embed on {measured:,} of them "
                    f"{embedded.whole:.1f} s, on {FIXED_PROBE} {embedded.fixed:.1f} s, "
                    f"so {embedded.per_passage * 1000:.2f} ms/passage beyond the fixed cost; "
                    f"projected {r['projected']:.1f} s, {r['projected'] / n * 1000:.2f} ms/passage "
                    f"(the {measured:,}'s whole time scaled by {n / measured:,.0f}: "
                    f"{r['projected_scaled']:.1f} s); "
                )
            results[(n, mode)] = r
            stages = ", ".join(f"{k} {v:.1f}s" for k, v in s.items() if k != "total")
            peaks = r["summary"].get("peak_memory_mb_after") or {}
            if peaks:  # where cube's own process reached its peak
                stages += "; peak MB after " + ", ".join(f"{k} {v}" for k, v in peaks.items())
            whose = ", ".join(f"{k} {v / 2**20:,.0f}" for k, v in r["at_peak"].items())
            print(
                f"{n:>9,} passages  {mode:<8} {r['wall']:7.1f} s  {r['wall'] / n * 1000:6.2f} ms/passage  "
                f"peak {r['peak'] / 2**30:.2f} GB (MB: {whose})  ({stages}); {how}"
                f"{r['summary']['topics']} topics",
                flush=True,
            )

    def ratio(a: tuple[int, str], b: tuple[int, str], goal: str) -> str:
        """``a``'s projected seconds per passage over ``b``'s, and the same with the fixed
        costs scaled too where that differs (only with --embed-at-most)."""
        ours, crude = (results[a][k] / a[0] / (results[b][k] / b[0]) for k in KEYS)
        also = f"; fixed costs scaled too: {crude:.2f}" if crude != ours else ""
        return f"{ours:.2f}  (goal <= {goal}){also}"

    for n in sizes:
        if (n, "one") in results and (n, "workers2") in results:
            vs = ratio((n, "workers2"), (n, "one"), "1.10")
            print(f"LocalCluster (2 workers) / one process at {n:,}: {vs}")
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        for mode in modes:
            vs = ratio((large, mode), (small, mode), "1.2")
            print(f"{mode}: cost per passage at {large:,} / at {small:,} = {vs}")
    print(f"(work folder {work})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
