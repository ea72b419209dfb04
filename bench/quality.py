"""Benchmark: topic quality of cube's defaults against plain BERTopic and LDA, in one table.

Run: uv run python bench/quality.py [--sample 4000 all]

For each corpus (by default the main job's 4,000 passages, then the whole bundled corpus), on
the same embeddings and the same seeded 5-D UMAP reductions, it fits

  (a)  cube's defaults                      (cube.topics.fit)
  (a0) cube 0.1's defaults                  KeyBERTInspired + MMR words, HDBSCAN's outliers kept
  (b)  plain BERTopic defaults              BERTopic(), UMAP seeded so runs repeat
  (c)  BERTopic, English stop words removed the same, CountVectorizer(stop_words="english")
  (d)  LDA with as many topics as (a)       cube.topics.lda

and prints NPMI (mean over topics, cube.topics.evaluate: co-occurrence in documents, each
model's own tokenizer), diversity@10/@25, outlier share, topic count, seed stability (mean
adjusted Rand index of the document labels over seeds 0, 1, 2) and the seconds of one fit
(embeddings and reductions excluded: they are shared and printed once per corpus).
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np

SEEDS = (0, 1, 2)
PAPER = "BERTopic paper (20 Newsgroups, all-MiniLM-L6-v2; arXiv 2203.05794): NPMI 0.159, diversity 0.833 — another corpus and NPMI over 10-word windows, for scale only"


def corpus(sample: str) -> list[str]:
    from cube.pipeline import JobSpec, load_corpus

    spec = JobSpec(out=Path("unused"), sample=None if sample == "all" else int(sample))
    frame, _ = load_corpus(spec)
    return frame["text"].tolist()


def plain_bertopic(docs, vectors, seed: int, *, stop_words: bool):
    from bertopic import BERTopic
    from sklearn.feature_extraction.text import CountVectorizer

    from cube.topics import CachedUMAP, CubeEmbedder

    topic_model = BERTopic(
        embedding_model=CubeEmbedder(),  # never used for words: c-TF-IDF only
        umap_model=CachedUMAP(n_components=5, n_neighbors=15, seed=seed),  # BERTopic's UMAP
        vectorizer_model=CountVectorizer(stop_words="english") if stop_words else None,
    )
    topic_model.fit_transform(docs, embeddings=vectors)
    return topic_model


def contenders(docs, vectors):
    """name → fit(seed) returning a BERTopic or TopicWords; (d) needs (a)'s topic count."""
    import cube

    counts = {}

    def cube_defaults(seed):
        topic_model = cube.topics.fit(docs, vectors, seed=seed)
        counts.setdefault(seed, len(set(topic_model.topics_) - {-1}))
        return topic_model

    return {
        "(a)  cube defaults": cube_defaults,
        "(a0) cube 0.1 defaults": lambda seed: cube.topics.fit(
            docs,
            vectors,
            seed=seed,
            representation="keybert+mmr",
            reduce_frequent_words=False,
            outlier_threshold=None,
        ),
        "(b)  plain BERTopic": lambda seed: plain_bertopic(docs, vectors, seed, stop_words=False),
        "(c)  BERTopic + stop words": lambda seed: plain_bertopic(
            docs, vectors, seed, stop_words=True
        ),
        "(d)  LDA, as many topics as (a)": lambda seed: cube.topics.lda(docs, counts[seed], seed),
    }


def labels_of(model) -> np.ndarray:
    return np.asarray(getattr(model, "topics_", None) or model.labels)


def measure(sample: str) -> list[str]:
    from sklearn.metrics import adjusted_rand_score

    import cube

    docs = corpus(sample)
    started = time.perf_counter()
    vectors = cube.embed(docs)
    embed_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for seed in SEEDS:  # every BERTopic contender reads these from the cache
        cube.reduce(vectors, 5, seed=seed)
    reduce_seconds = (time.perf_counter() - started) / len(SEEDS)
    lines = [
        f"{len(docs)} passages: embed {embed_seconds:.1f} s, 5-D UMAP {reduce_seconds:.1f} s a seed "
        "(shared by (a)-(c), excluded below)",
        f"{'model':34s} {'NPMI':>7s} {'div@10':>7s} {'div@25':>7s} {'outliers':>8s} "
        f"{'topics':>6s} {'ARI':>5s} {'fit s':>6s}",
    ]
    for name, fit in contenders(docs, vectors).items():
        started = time.perf_counter()
        first = fit(SEEDS[0])
        seconds = time.perf_counter() - started
        overall = cube.topics.evaluate(first, docs).loc["overall"]
        labels = [labels_of(first)] + [labels_of(fit(seed)) for seed in SEEDS[1:]]
        ari = np.mean([adjusted_rand_score(a, b) for a, b in itertools.combinations(labels, 2)])
        lines.append(
            f"{name:34s} {overall['npmi']:+7.3f} {overall['diversity@10']:7.3f} "
            f"{overall['diversity@25']:7.3f} {overall['outlier_share']:8.1%} "
            f"{int(overall['n_topics']):6d} {ari:5.2f} {seconds:6.1f}"
        )
        print(lines[-1], flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", nargs="+", default=["4000", "all"], help="sizes, or 'all'")
    args = parser.parse_args()
    tables = [measure(sample) for sample in args.sample]
    print()
    for table in tables:
        print("\n".join(table))
        print()
    print(PAPER)


if __name__ == "__main__":
    main()
