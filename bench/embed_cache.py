"""Benchmark: cube.embed's cache against plain SentenceTransformer.encode.

Run: uv run python bench/embed_cache.py [--n 2000]

Prints each timing and its ratio to the cold run (or to raw encode), measured in this one
run on this machine. Targets: cold/raw <= 1.10, warm/cold <= 0.01, 5% new/cold <= 0.10.
"batch-independent" is cube's encoder alone (no cache): every forward pass has a shape that
depends on one text only, so a vector's bytes never depend on its batch companions (issue #16);
its ratio to raw encode is that guarantee's cost.
Model loading is excluded from both raw and cube timings (it is the same one-off cost).
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time

import numpy as np


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="passages to embed")
    args = parser.parse_args()
    os.environ["CUBE_CACHE_DIR"] = tempfile.mkdtemp(prefix="cube-bench-")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from sentence_transformers import SentenceTransformer

    from cube import datasets
    from cube._store import text_keys
    from cube.embeddings import embed_with_stats, embedding_space, pick_device, resolve_model

    corpus = datasets.load("sotu")["text"].tolist()
    rng = random.Random(0)
    rng.shuffle(corpus)
    texts, fresh = corpus[: args.n], corpus[args.n : args.n + args.n // 20]
    device = pick_device()
    load_seconds, model = timed(
        lambda: SentenceTransformer(str(resolve_model("all-MiniLM-L6-v2").path), device=device)
    )
    model.encode(texts[:64], batch_size=32)  # warm up kernels for both contenders

    raw, _ = timed(lambda: model.encode(texts, batch_size=32, convert_to_numpy=True))
    fixed, (_, stats) = timed(lambda: embed_with_stats(texts, cache=False, show_progress=False))
    assert stats.encoded == len(texts)
    cold, (vectors, stats) = timed(lambda: embed_with_stats(texts, show_progress=False))
    assert stats.encoded == len(texts)
    warm, (again, stats) = timed(lambda: embed_with_stats(texts))
    assert stats.encoded == 0 and np.array_equal(again, vectors)
    shuffled_texts = texts[:]
    rng.shuffle(shuffled_texts)
    shuffled, (_, stats) = timed(lambda: embed_with_stats(shuffled_texts))
    assert stats.encoded == 0
    mixed = texts[: len(texts) - len(fresh)] + fresh
    new5, (_, stats) = timed(lambda: embed_with_stats(mixed, show_progress=False))
    assert stats.encoded == len(fresh)

    # Warm lookup at workshop scale: 20,000 texts already in the cache.
    big = [f"{corpus[i % len(corpus)]} #{i}" for i in range(20_000)]
    space = embedding_space()
    space.write_meta()
    rows = np.random.default_rng(0).standard_normal((len(big), 384)).astype(np.float32)
    space.store().add(text_keys(big), rows)
    lookup, (got, stats) = timed(lambda: embed_with_stats(big))
    assert stats.encoded == 0 and np.array_equal(got, rows)

    print(f"machine: {os.cpu_count()} cores, device {device}; {len(texts)} passages")
    print(f"model load (excluded)     {load_seconds:8.2f} s")
    print(f"raw encode                {raw:8.2f} s")
    print(
        f"batch-independent encode  {fixed:8.2f} s   indep/raw    = {fixed / raw:.3f}  (no cache)"
    )
    print(
        f"cube cold                 {cold:8.2f} s   cold/raw     = {cold / raw:.3f}  (target <= 1.10)"
    )
    print(
        f"cube warm (100% cached)   {warm:8.3f} s   warm/cold    = {warm / cold:.4f} (target <= 0.01)"
    )
    print(f"cube shuffled             {shuffled:8.3f} s   shuffled/cold = {shuffled / cold:.4f}")
    print(
        f"cube 5% new texts         {new5:8.2f} s   5% new/cold  = {new5 / cold:.3f}  (target <= 0.10)"
    )
    print(f"warm lookup, 20,000 texts {lookup:8.3f} s")


if __name__ == "__main__":
    main()
