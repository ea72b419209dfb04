"""Benchmark: topic quality of cube's defaults against plain BERTopic and LDA, in one table.

Run: uv run python bench/quality.py [--sample 4000 all] [--n-epochs 500]

For each corpus (by default the main job's 4,000 passages, then the whole bundled corpus), on
the same embeddings and the same seeded 5-D UMAP reductions, it fits

  (a)  cube's defaults                      (cube.topics.fit), int8 ONNX vectors (backend auto)
  (a') cube's defaults, exact path          float32 PyTorch vectors (backend="torch")
  (a0) cube 0.1's defaults                  KeyBERTInspired + MMR words, HDBSCAN's outliers kept
  (b)  plain BERTopic defaults              BERTopic(), UMAP seeded so runs repeat
  (c)  BERTopic, English stop words removed the same, CountVectorizer(stop_words="english")
  (d)  LDA with as many topics as (a)       cube.topics.lda

and prints NPMI (mean over topics, cube.topics.evaluate: co-occurrence in documents, each
model's own tokenizer), diversity@10/@25, outlier share, topic count, seed stability (mean
adjusted Rand index of the document labels over seeds 0, 1, 2) and the seconds of one fit
(embeddings and reductions excluded: they are shared and printed once per corpus).

Then the fast path's quality line: (a) against (a'), NPMI and diversity@10 averaged over the
three seeds; it holds when NPMI is within 0.01 and diversity@10 within 0.02.
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
    frame, _, _ = load_corpus(spec)
    return frame["text"].tolist()


def plain_bertopic(docs, vectors, seed: int, *, stop_words: bool, n_epochs):
    from bertopic import BERTopic
    from sklearn.feature_extraction.text import CountVectorizer

    from cube.reductions import UMAPParams
    from cube.topics import CachedUMAP, CubeEmbedder

    topic_model = BERTopic(
        embedding_model=CubeEmbedder(),  # never used for words: c-TF-IDF only
        umap_model=CachedUMAP(UMAPParams(n_components=5, seed=seed, n_epochs=n_epochs)),
        vectorizer_model=CountVectorizer(stop_words="english") if stop_words else None,
    )
    topic_model.fit_transform(docs, embeddings=vectors)
    return topic_model


FAST, EXACT = "(a)  cube defaults", "(a') cube defaults, exact path"
NPMI_LINE, DIVERSITY_LINE = 0.01, 0.02


def contenders(docs, vectors, exact_vectors, n_epochs):
    """name → fit(seed) returning a BERTopic or TopicWords; (d) needs (a)'s topic count."""
    import cube

    counts = {}

    def cube_defaults(seed):
        topic_model = cube.topics.fit(docs, vectors, seed=seed, n_epochs=n_epochs)
        counts.setdefault(seed, len(set(topic_model.topics_) - {-1}))
        return topic_model

    return {
        FAST: cube_defaults,
        EXACT: lambda seed: cube.topics.fit(docs, exact_vectors, seed=seed, n_epochs=n_epochs),
        "(a0) cube 0.1 defaults": lambda seed: cube.topics.fit(
            docs,
            vectors,
            seed=seed,
            n_epochs=n_epochs,
            representation="keybert+mmr",
            reduce_frequent_words=False,
            outlier_threshold=None,
        ),
        "(b)  plain BERTopic": lambda seed: plain_bertopic(
            docs, vectors, seed, stop_words=False, n_epochs=n_epochs
        ),
        "(c)  BERTopic + stop words": lambda seed: plain_bertopic(
            docs, vectors, seed, stop_words=True, n_epochs=n_epochs
        ),
        "(d)  LDA, as many topics as (a)": lambda seed: cube.topics.lda(docs, counts[seed], seed),
    }


def labels_of(model) -> np.ndarray:
    return np.asarray(getattr(model, "topics_", None) or model.labels)


def measure(sample: str, n_epochs: int | None) -> list[str]:
    from sklearn.metrics import adjusted_rand_score

    import cube
    from cube._config import DEFAULT_MODEL
    from cube.embeddings import choose_backend, resolve_model

    docs = corpus(sample)
    choice = choose_backend(None, resolve_model(DEFAULT_MODEL))
    backend, why = choice.name, choice.reason
    started = time.perf_counter()
    vectors = cube.embed(docs)
    embed_seconds = time.perf_counter() - started
    started = time.perf_counter()
    exact_vectors = cube.embed(docs, backend="torch")
    exact_seconds = time.perf_counter() - started
    cosine = np.sum(vectors * exact_vectors, axis=1) / (
        np.linalg.norm(vectors, axis=1) * np.linalg.norm(exact_vectors, axis=1)
    )
    overlap = neighbour_overlap(vectors, exact_vectors)
    started = time.perf_counter()
    for seed in SEEDS:  # every BERTopic contender reads these from the cache
        cube.reduce(vectors, 5, seed=seed, n_epochs=n_epochs)
    reduce_seconds = (time.perf_counter() - started) / len(SEEDS)
    lines = [
        f"{len(docs)} passages: embed {embed_seconds:.1f} s ({backend}: {why}), exact path "
        f"(torch) {exact_seconds:.1f} s; vectors against torch: mean cosine {cosine.mean():.4f} "
        f"(min {cosine.min():.4f}), 10-NN overlap {overlap:.3f}",
        f"5-D UMAP ({n_epochs or cube.reductions.default_epochs(len(docs), 5)} epochs) "
        f"{reduce_seconds:.1f} s "
        "a seed (shared by (a)-(c), excluded below)",
        f"{'model':34s} {'NPMI':>7s} {'div@10':>7s} {'div@25':>7s} {'outliers':>8s} "
        f"{'topics':>6s} {'ARI':>5s} {'fit s':>6s}",
    ]
    means = {}
    for name, fit in contenders(docs, vectors, exact_vectors, n_epochs).items():
        started = time.perf_counter()
        first = fit(SEEDS[0])
        seconds = time.perf_counter() - started
        overall = cube.topics.evaluate(first, docs).loc["overall"]
        models = [first] + [fit(seed) for seed in SEEDS[1:]]
        labels = [labels_of(model) for model in models]
        if name in (FAST, EXACT):
            rows = [overall] + [cube.topics.evaluate(m, docs).loc["overall"] for m in models[1:]]
            means[name] = {
                k: float(np.mean([r[k] for r in rows])) for k in ("npmi", "diversity@10")
            }
        ari = np.mean([adjusted_rand_score(a, b) for a, b in itertools.combinations(labels, 2)])
        lines.append(
            f"{name:34s} {overall['npmi']:+7.3f} {overall['diversity@10']:7.3f} "
            f"{overall['diversity@25']:7.3f} {overall['outlier_share']:8.1%} "
            f"{int(overall['n_topics']):6d} {ari:5.2f} {seconds:6.1f}"
        )
        print(lines[-1], flush=True)
    npmi = means[FAST]["npmi"] - means[EXACT]["npmi"]
    diversity = means[FAST]["diversity@10"] - means[EXACT]["diversity@10"]
    holds = abs(npmi) <= NPMI_LINE and abs(diversity) <= DIVERSITY_LINE
    lines.append(
        f"quality line, (a) against (a'), mean of seeds {SEEDS}: NPMI {means[FAST]['npmi']:+.3f} vs "
        f"{means[EXACT]['npmi']:+.3f} (diff {npmi:+.3f}, line {NPMI_LINE}), diversity@10 "
        f"{means[FAST]['diversity@10']:.3f} vs {means[EXACT]['diversity@10']:.3f} (diff "
        f"{diversity:+.3f}, line {DIVERSITY_LINE}): {'holds' if holds else 'FAILS'}"
    )
    print(lines[-1], flush=True)
    return lines


def neighbour_overlap(a: np.ndarray, b: np.ndarray, k: int = 10) -> float:
    """Mean share of each row's k nearest neighbours (cosine) that ``a`` and ``b`` agree on."""
    from cube.reductions import exact_knn

    near_a, _ = exact_knn(a, k + 1)
    near_b, _ = exact_knn(b, k + 1)
    return float(
        np.mean([len(set(x[1:]) & set(y[1:])) / k for x, y in zip(near_a, near_b, strict=True)])
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", nargs="+", default=["4000", "all"], help="sizes, or 'all'")
    parser.add_argument("--n-epochs", type=int, help="UMAP epochs (default: cube's)")
    args = parser.parse_args()
    tables = [measure(sample, args.n_epochs) for sample in args.sample]
    print()
    for table in tables:
        print("\n".join(table))
        print()
    print(PAPER)


if __name__ == "__main__":
    main()
