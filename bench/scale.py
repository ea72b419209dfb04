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

A million passages take some 2.6 hours to embed on 2 cores. With ``--embed-at-most N``, a
larger run embeds a seeded N of its passages for real and finds the others in its cache as
*stand-ins*: the normalized mean of the model's own vectors of the passage's sentences (made
beforehand, in this process, and not timed). Every stage after the embedding then runs on the
whole corpus (a stand-in is near its passage's true vector: `stand_in_check` prints how near),
and the line says "projected": the wall time with the embedding at the measured seconds per
embedded passage for all of them.
"""

from __future__ import annotations

import argparse
import contextlib
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


def corpus_file(n: int, folder: Path) -> Path:
    import cube

    path = folder / f"passages-{n}.parquet"
    if not path.exists():
        bundled = cube.datasets.load("sotu")
        table = bundled if n == len(bundled) else cube.datasets.load("sotu-synthetic", sample=n)
        table[["year", "party", "text"]].to_parquet(path, index=False)
    return path


def stand_in_vectors(texts: list[str], sentence_cache: Path) -> np.ndarray:
    """Each text's stand-in: the normalized mean of the model's vectors of its sentences."""
    import cube
    from cube.datasets._sotu import split_sentences

    pieces = [split_sentences(t) or [t] for t in texts]
    distinct = sorted({p for ps in pieces for p in ps})
    with cube.config_context(cache_dir=sentence_cache):
        vectors = cube.embed(distinct)
    where = {p: i for i, p in enumerate(distinct)}
    out = np.zeros((len(texts), vectors.shape[1]), np.float32)
    for row, ps in enumerate(pieces):
        out[row] = vectors[[where[p] for p in ps]].mean(axis=0)
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def stand_in_check(sentence_cache: Path) -> str:
    """How near a stand-in is to the model's vector of the same passage, on 1,000 of them."""
    import cube

    texts = cube.datasets.load("sotu-synthetic", sample=1_000, seed=99)["text"].tolist()
    stand_ins = stand_in_vectors(texts, sentence_cache)
    with cube.config_context(cache_dir=sentence_cache):
        true = cube.embed(texts)
    cosine = np.sum(stand_ins * true, axis=1) / np.linalg.norm(true, axis=1)
    return (
        f"stand-in vs the model's vector of the same passage (1,000 passages): cosine "
        f"median {np.median(cosine):.3f}, 5th percentile {np.percentile(cosine, 5):.3f}"
    )


def fill_stand_ins(file: Path, cache: Path, embed_at_most: int, sentence_cache: Path) -> int:
    """Put stand-in vectors in ``cache`` for all of ``file``'s passages but a seeded
    ``embed_at_most``, which the run embeds; returns how many it will embed."""
    import pandas as pd

    import cube
    from cube._config import DEFAULT_MODEL
    from cube._store import text_keys
    from cube.embeddings._backend import plan_space

    texts = pd.read_parquet(file, columns=["text"])["text"].tolist()
    keep_out = np.random.default_rng(0).choice(len(texts), size=embed_at_most, replace=False)
    standing = np.setdiff1d(np.arange(len(texts)), keep_out)
    with cube.config_context(cache_dir=cache):
        space = plan_space(
            DEFAULT_MODEL,
            normalize=False,
            max_seq_length=None,
            prompt=None,
            precision="float32",
            truncate_dim=None,
            backend=None,
            device=None,
            encoder=None,
        ).space
        store = space.store()
        space.write_meta()
        for start in range(0, len(standing), 100_000):
            rows = standing[start : start + 100_000]
            block = [texts[i] for i in rows]
            store.add(text_keys(block), stand_in_vectors(block, sentence_cache))
        store.compact(force=True)
    return embed_at_most


def tree_rss(process: psutil.Process) -> int:
    total = 0
    for p in [process, *process.children(recursive=True)]:
        with contextlib.suppress(psutil.Error):
            total += p.memory_info().rss
    return total


def run(file: Path, mode: str, onnx: Path, work: Path, fill=None) -> dict:
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
    parser.add_argument(
        "--embed-at-most",
        type=int,
        default=None,
        help="above this many passages, embed this many for real and stand in for the rest",
    )
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
    sentence_cache = work / "sentence-cache"
    if args.embed_at_most is not None and max(sizes) > args.embed_at_most:
        (sentence_cache / "onnx").parent.mkdir(parents=True, exist_ok=True)
        (sentence_cache / "onnx").symlink_to(onnx_cache / "onnx", target_is_directory=True)
        print(stand_in_check(sentence_cache), flush=True)
    results: dict[tuple[int, str], dict] = {}
    for n in sizes:
        file = corpus_file(n, work)
        for mode in modes:
            fill = None
            if args.embed_at_most is not None and n > args.embed_at_most:
                fill = functools.partial(
                    fill_stand_ins,
                    file,
                    embed_at_most=args.embed_at_most,
                    sentence_cache=sentence_cache,
                )
            r = run(file, mode, onnx_cache / "onnx", work, fill)
            s = r["summary"]["seconds"]
            embedded = r["summary"]["cache"]["embedded"]
            r["projected"] = r["wall"]
            if fill is not None:  # the embedding at its measured cost per passage, for all
                r["projected"] = r["wall"] - s["embed"] + s["embed"] / embedded * n
            results[(n, mode)] = r
            stages = ", ".join(f"{k} {v:.1f}s" for k, v in s.items() if k != "total")
            how = (
                f"embedded {embedded:,}, stand-ins for the rest; projected "
                f"{r['projected']:.1f} s, {r['projected'] / n * 1000:.2f} ms/passage; "
                if fill is not None
                else ""
            )
            print(
                f"{n:>9,} passages  {mode:<8} {r['wall']:7.1f} s  {r['wall'] / n * 1000:6.2f} ms/passage  "
                f"peak {r['peak'] / 2**30:.2f} GB  ({stages}); {how}{r['summary']['topics']} topics",
                flush=True,
            )
    for n in sizes:
        if (n, "one") in results and (n, "workers2") in results:
            ratio = results[(n, "workers2")]["wall"] / results[(n, "one")]["wall"]
            print(f"LocalCluster (2 workers) / one process at {n:,}: {ratio:.2f}  (goal <= 1.10)")
    if len(sizes) > 1:
        for mode in modes:
            small, large = sizes[0], sizes[-1]
            per = [results[(k, mode)]["projected"] / k for k in (small, large)]
            print(
                f"{mode}: cost per passage at {large:,} / at {small:,} = {per[1] / per[0]:.2f}  (goal <= 1.2)"
            )
    print(f"(work folder {work})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
