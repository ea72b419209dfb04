"""How cube's topic-word and outlier defaults were chosen: every candidate on every corpus.

Run: uv run --group bench python bench/defaults.py [--corpora sotu-4000 sotu-all emails quotes python-docs]

For each corpus, one clustering (cube's defaults: seeded 5-D UMAP, HDBSCAN with
``min_topic_size`` scaled to the corpus) is shared by every candidate; candidates differ only
in how outliers are given a topic afterwards and how each topic's words are chosen. Each line:
passage NPMI, windowed NPMI (c_npmi), diversity@10, outlier share, from
``cube.topics.evaluate``; the last block is the mean over corpora, which is what chose.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

from quality import load_texts

COLUMNS = ("npmi", "c_npmi", "diversity@10", "outlier_share")


def passage_vocabulary(docs: list[str], min_passages: int) -> list[str]:
    """cube's terms found in at least ``min_passages`` passages (BERTopic's min_df counts topics)."""
    from sklearn.feature_extraction.text import CountVectorizer

    from cube.topics import TermAnalyzer

    counts = CountVectorizer(analyzer=TermAnalyzer(), min_df=min_passages, binary=True)
    counts.fit(docs)
    return list(counts.get_feature_names_out())


def word_candidates(docs: list[str]) -> dict:
    """name -> (vectorizer, c-TF-IDF model, representation) makers."""
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import CountVectorizer

    from cube.topics import CoherentTerms, DistinctTerms, TermAnalyzer, make_vectorizer

    n = len(docs)

    def fixed(min_passages):
        return lambda: CountVectorizer(
            analyzer=TermAnalyzer(), vocabulary=passage_vocabulary(docs, min_passages)
        )

    def sqrt_tf(flag=True, bm25=False):
        return lambda: ClassTfidfTransformer(reduce_frequent_words=flag, bm25_weighting=bm25)

    def distinct():
        return [DistinctTerms(top_n_words=10)]

    def coherent(weight=1.0, candidates=20):
        return lambda: [
            DistinctTerms(top_n_words=30),
            CoherentTerms(top_n_words=10, candidates=candidates, weight=weight),
        ]

    return {
        "terms, min_df 2 topics (now)": (lambda: make_vectorizer(n), sqrt_tf(), distinct),
        "terms, min_df 1 topic": (lambda: make_vectorizer(n, min_df=1), sqrt_tf(), distinct),
        "terms, in >= 3 passages": (fixed(3), sqrt_tf(), distinct),
        "terms, in >= 5 passages": (fixed(5), sqrt_tf(), distinct),
        "terms, min_df 2, no sqrt tf": (lambda: make_vectorizer(n), sqrt_tf(False), distinct),
        "terms, min_df 2, bm25": (lambda: make_vectorizer(n), sqrt_tf(True, True), distinct),
        "coherent, weight 1, 20": (lambda: make_vectorizer(n), sqrt_tf(), coherent()),
        "coherent, weight 0.5, 20": (lambda: make_vectorizer(n), sqrt_tf(), coherent(0.5)),
        "coherent, weight 2, 20": (lambda: make_vectorizer(n), sqrt_tf(), coherent(2.0)),
        "coherent, weight 1, 30": (lambda: make_vectorizer(n), sqrt_tf(), coherent(1.0, 30)),
        "coherent, w1, 20, min_df 1": (
            lambda: make_vectorizer(n, min_df=1),
            sqrt_tf(),
            coherent(),
        ),
        "terms, words only": (
            lambda: CountVectorizer(analyzer=TermAnalyzer(phrases=False), min_df=2),
            sqrt_tf(),
            distinct,
        ),
    }


def outlier_rules(model, docs, vectors) -> dict[str, np.ndarray]:
    """name -> labels after outliers were given topics by that rule."""
    labels = np.asarray(model.topics_)
    outliers = np.flatnonzero(labels == -1)
    rules = {"HDBSCAN only": labels.copy()}
    if not len(outliers):
        return rules
    topic_ids = sorted(set(labels.tolist()) - {-1})
    centres = np.stack([vectors[labels == t].mean(axis=0) for t in topic_ids])
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    unit = vectors[outliers] / np.linalg.norm(vectors[outliers], axis=1, keepdims=True)
    similarity = unit @ centres.T
    best, nearest = similarity.max(axis=1), np.asarray(topic_ids)[similarity.argmax(axis=1)]

    def assign(threshold):
        out = labels.copy()
        out[outliers] = np.where(best >= threshold, nearest, -1)
        return out

    for threshold in (0.5, 0.4, 0.3):
        rules[f"cosine >= {threshold}"] = assign(threshold)
    for share in (0.10, 0.05):
        allowed = int(share * len(labels))
        needed = len(outliers) - allowed
        cut = np.sort(best)[::-1][needed - 1] if needed > 0 else 1.0
        rules[f"<= {share:.0%} left, else 0.5"] = assign(min(0.5, cut))
    return rules


def measure(name: str, only_words=None, only_rules=None) -> dict[tuple[str, str], dict]:
    import cube
    from cube.topics import evaluate

    docs, where = load_texts(name)
    vectors = cube.embed(docs)
    started = time.perf_counter()
    model = cube.topics.build(len(docs), seed=0)
    cube.topics.fit_transform(model, docs, vectors, outlier_threshold=None)
    print(
        f"## {name}: {len(docs)} texts ({where}); clustering {time.perf_counter() - started:.0f} s"
    )
    print(f"{'outliers':26s} {'words':32s} " + " ".join(f"{c[:8]:>8s}" for c in COLUMNS))
    results = {}
    rules = outlier_rules(model, docs, vectors)
    words = word_candidates(docs)
    pairs = [
        (r, "terms, min_df 2 topics (now)") for r in rules if not only_rules or r in only_rules
    ]
    pairs += [("cosine >= 0.5", w) for w in words if w != "terms, min_df 2 topics (now)"]
    if only_words:
        pairs = [(r, w) for r, w in pairs if w in only_words]
    for rule, word in pairs:
        vectorizer, ctfidf, representation = words[word]
        model.update_topics(
            docs,
            topics=rules[rule].tolist(),
            vectorizer_model=vectorizer(),
            ctfidf_model=ctfidf(),
            representation_model=representation(),
        )
        overall = evaluate(model, docs).loc["overall"]
        results[(rule, word)] = {c: float(overall[c]) for c in COLUMNS}
        print(
            f"{rule:26s} {word:32s} "
            + " ".join(f"{results[(rule, word)][c]:+8.3f}" for c in COLUMNS),
            flush=True,
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpora", nargs="+", default=["sotu-4000", "sotu-all", "emails", "quotes", "python-docs"]
    )
    parser.add_argument("--words", nargs="*", help="only these word candidates")
    parser.add_argument("--rules", nargs="*", help="only these outlier rules")
    args = parser.parse_args()
    every = [measure(name, args.words, args.rules) for name in args.corpora]
    print(f"\n## mean over {len(every)} corpora ({', '.join(args.corpora)})")
    for key in every[0]:
        means = {c: np.mean([r[key][c] for r in every]) for c in COLUMNS}
        worst = max(r[key]["outlier_share"] for r in every)
        print(
            f"{key[0]:26s} {key[1]:32s} "
            + " ".join(f"{means[c]:+8.3f}" for c in COLUMNS)
            + f"  (most outliers {worst:.1%})"
        )


if __name__ == "__main__":
    main()
