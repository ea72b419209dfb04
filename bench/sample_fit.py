"""Benchmark: fit on a sample and assign the rest, against the full fit, on the whole bundled corpus.

Run: uv run python bench/sample_fit.py [--sizes 2000,4000,8000]

The reference is `cube.topics.fit` on all 15,825 passages (seed 0); a second full fit with
seed 1 gives the agreement two full fits reach by chance. Each sample size runs
`cube.topics.fit_on_sample` (seed 0: UMAP and HDBSCAN on the sample, the smallest topic scaled
to the sample, every other passage to its most similar topic embedding by the fit's outlier
rule). Agreement is the adjusted Rand index over all passages, and over the assigned ones only.
The quality line (`cube.topics.evaluate`) of each fit is printed twice: counted over the
sample's passages, as `cube topics` reports it after a sample fit, and over every passage (the
sample's words, every passage's topic), beside the full fit's.

The other way to assign is measured beside it, on the same fits: UMAP's ``transform`` of the
passages outside the sample into the sample's 5-D space, then HDBSCAN's ``approximate_predict``
(BERTopic's ``transform``), its outliers then joining a topic by the same similarity rule.
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np
from sklearn.metrics import adjusted_rand_score

import cube


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,4000,8000")
    args = parser.parse_args(argv)
    docs = cube.datasets.load("sotu")["text"].tolist()
    vectors = cube.embed(docs)
    settings = cube.topics.TopicSettings()
    started = time.perf_counter()
    full_model = cube.topics.fit(docs, vectors, seed=0)
    full = np.asarray(full_model.topics_)
    seconds = time.perf_counter() - started
    other = np.asarray(cube.topics.fit(docs, vectors, seed=1).topics_)
    print(
        f"full fit on {len(docs):,}: {seconds:.1f} s, {len(set(full)) - 1} topics, "
        f"{np.mean(full == -1):.1%} in none; ARI with a full fit of seed 1: "
        f"{adjusted_rand_score(full, other):.3f}"
    )
    print(f"  quality: {_line(cube.topics.evaluate(full_model, docs))}")
    for size in (int(s) for s in args.sizes.split(",")):
        started = time.perf_counter()
        made = cube.topics.fit_on_sample(docs, vectors, sample_size=size, seed=0)
        seconds = time.perf_counter() - started
        topics = np.asarray(made.topics)
        rest = np.setdiff1d(np.arange(len(docs)), made.sample)
        started = time.perf_counter()
        similar, similarity, threshold = cube.topics.assign_rest(
            made.topic_model, vectors[rest], settings
        )
        similar_seconds = time.perf_counter() - started
        started = time.perf_counter()
        predicted = np.asarray(
            made.topic_model.transform([docs[i] for i in rest], vectors[rest])[0]
        )
        # Its outliers join their most similar topic by the same rule and threshold.
        best = cube.topics.assign_to_topics(made.topic_model, vectors[rest])[0]
        joins = (predicted == -1) & (similarity >= threshold)
        predicted[joins] = best[joins]
        predict_seconds = time.perf_counter() - started
        print(
            f"sample {size:>6,} ({size / len(docs):.0%}): {seconds:.1f} s, "
            f"{len(set(topics)) - 1} topics, {np.mean(topics == -1):.1%} in none "
            f"(threshold {made.threshold:.2f}); ARI with the full fit {adjusted_rand_score(full, topics):.3f}, "
            f"on the assigned passages {adjusted_rand_score(full[rest], topics[rest]):.3f}"
        )
        print(
            f"  the {len(rest):,} outside the sample: most similar topic embedding "
            f"{similar_seconds:.1f} s, ARI {adjusted_rand_score(full[rest], similar):.3f}; "
            f"UMAP transform + approximate_predict {predict_seconds:.1f} s, "
            f"ARI {adjusted_rand_score(full[rest], predicted):.3f} "
            f"({np.mean(predicted == -1):.1%} in none)"
        )
        sampled = [docs[i] for i in made.sample]
        every = dataclasses.replace(
            cube.topics.TopicWords.from_bertopic(made.topic_model), labels=topics
        )
        print(
            f"  quality over the sample's {len(sampled):,} passages (as reported): "
            f"{_line(cube.topics.evaluate(made.topic_model, sampled))}"
        )
        print(
            f"  quality over every passage ({len(docs):,}):{'':>15}"
            f"{_line(cube.topics.evaluate(every, docs))}"
        )
    return 0


def _line(quality) -> str:
    """The headline numbers of ``cube.topics.evaluate``'s overall row."""
    overall = quality.loc["overall"]
    return (
        f"NPMI {overall['npmi']:+.3f}, c_npmi {overall['c_npmi']:+.3f}, "
        f"diversity@10 {overall['diversity@10']:.2f}, "
        f"{overall['outlier_share']:.1%} in none, {int(overall['n_topics'])} topics"
    )


if __name__ == "__main__":
    raise SystemExit(main())
