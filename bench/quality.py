"""Benchmark: topic quality of cube's defaults against the peers a user would pick instead.

Run: uv run --group bench python bench/quality.py [--corpora sotu-4000 sotu-all spam quotes docs]
     [--seeds 0 1 2] [--systems ...] [--exact-path]

For each corpus (the main job's 4,000 passages, the whole bundled corpus, and the corpora of
bench/corpora.py: other kinds of text, each from a registry this project reaches), every system
gets the same texts and the same int8 ONNX vectors of all-MiniLM-L6-v2 (bench/peers.py says how
each is called), and the table shows, from ``cube.topics.evaluate`` on its top 10 words:

  npmi     passage NPMI: co-occurrence in whole texts, a term present where it literally stands
  c_npmi   the literature's: sliding windows of 10 tokens, stop words out (gensim's c_npmi)
  div@10, div@25   unique / all top words (Dieng et al. 2020)
  stop     share of top-10 terms that are (or hold) an English stop word
  defects  top-10 terms of one letter or digits / that stand nowhere in the texts / beside
           their own part in one topic (a phrase and its word): counts
  outl     share of texts in no topic;  topics: how many;  ARI: mean adjusted Rand index of the
           labels over the seeds;  fit s: seconds of one fit (embeddings excluded, shared)

Numbers are seed 0's; ARI compares seeds (``--slow-seeds N``: FASTopic and LDA fit only the
first N seeds; with 1, their ARI is nan). Systems with a fixed topic count get as many as
cube's defaults find. ``--exact-path`` adds cube on float32 PyTorch vectors and checks the
fast path's quality line (NPMI within 0.01, diversity@10 within 0.02, mean of seeds).
"""

from __future__ import annotations

import argparse
import itertools
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

import peers

BUNDLED = {"sotu-4000": 4000, "sotu-all": None}
SYSTEMS = (
    "cube",
    "cube-before",
    "bertopic",
    "bertopic-stop",
    "keynmf",
    "turftopic",
    "fastopic",
    "lda",
)
TITLES = {
    "cube": "cube defaults",
    "cube-before": "cube 0.2 (before)",
    "cube-exact": "cube defaults, float32 torch",
    "bertopic": "plain BERTopic",
    "bertopic-stop": "BERTopic, stop words out",
    "keynmf": "Turftopic KeyNMF",
    "turftopic": "Turftopic clustering",
    "fastopic": "FASTopic (topmost)",
    "lda": "LDA (converged, relevance)",
}
NPMI_LINE, DIVERSITY_LINE = 0.01, 0.02


def load_texts(name: str) -> tuple[list[str], str]:
    if name in BUNDLED:
        from cube.pipeline import JobSpec, load_corpus

        frame, _, _ = load_corpus(JobSpec(out=Path("unused"), sample=BUNDLED[name]))
        return frame["text"].tolist(), "bundled State of the Union passages (public domain)"
    from corpora import CORPORA

    if name not in CORPORA:
        raise SystemExit(f"unknown corpus {name!r}; choose from {', '.join([*BUNDLED, *CORPORA])}")
    corpus = CORPORA[name]
    return corpus.load(), f"{corpus.kind}: {corpus.source} ({corpus.licence})"


def term_checks(topics, texts: list[str]) -> dict[str, float]:
    """Over the top 10 terms of every topic: stop-word share and the three defects' counts."""
    from cube.topics import contains, is_stop_word, literal_terms

    words = {t: ws for t, ws in topics.top(10).items() if t != -1}
    every = [w for ws in words.values() for w in ws]
    terms = set(every)
    longest = max((len(t.split()) for t in terms), default=1)
    standing = set()
    for text in texts:
        standing |= literal_terms(text, longest) & terms
    short = sum(any(len(p) < 2 or p.isdigit() for p in w.split()) for w in every)
    absent = sum(w.lower() not in standing for w in every)
    beside = sum(any(v != w and contains(v, w) for v in ws) for ws in words.values() for w in ws)
    stop = sum(any(is_stop_word(p) for p in w.lower().split()) for w in every)
    return {
        "stop": stop / len(every) if every else math.nan,
        "defects": f"{short}/{absent}/{beside}",
        "n_terms": len(every),
    }


def own_analyzer_npmi(topics, texts, analyzer) -> float:
    """The headline as cube 0.2 counted it: presence by the model's own analyzer, every pair."""
    words = {t: ws for t, ws in topics.top(10).items() if t != -1}
    vocab = {w: i for i, w in enumerate(sorted({w for ws in words.values() for w in ws}))}
    present = np.zeros((len(texts), len(vocab)), bool)
    for d, text in enumerate(texts):
        for term in analyzer(text):
            if term in vocab:
                present[d, vocab[term]] = True
    df = present.sum(0)
    co = present.T.astype(np.int64) @ present.astype(np.int64)
    scores = []
    for ws in words.values():
        pairs = []
        for a, b in itertools.combinations([vocab[w] for w in ws], 2):
            joint = co[a, b]
            if joint == 0:
                pairs.append(-1.0)
            elif joint == len(texts):
                pairs.append(1.0)
            else:
                p = joint / len(texts)
                pairs.append(math.log(joint * len(texts) / (df[a] * df[b])) / -math.log(p))
        if pairs:
            scores.append(np.mean(pairs))
    return float(np.mean(scores))


SLOW = ("fastopic", "lda")  # minutes a fit on the whole corpus (see --slow-seeds)


def measure(
    name: str,
    seeds: tuple[int, ...],
    systems: tuple[str, ...],
    exact: bool,
    slow_seeds: int | None = None,
) -> list[str]:
    from sklearn.metrics import adjusted_rand_score

    import cube

    texts, where = load_texts(name)
    words = np.array([len(t.split()) for t in texts])
    started = time.perf_counter()
    vectors = cube.embed(texts)
    embed_seconds = time.perf_counter() - started
    lines = [
        f"## {name}: {len(texts)} texts, median {int(np.median(words))} words; {where}",
        f"embeddings {embed_seconds:.1f} s (cached after the first run); seeds {seeds}",
        f"{'system':30s} {'npmi':>7s} {'c_npmi':>7s} {'div@10':>6s} {'div@25':>6s} "
        f"{'stop':>5s} {'defects':>9s} {'outl':>6s} {'topics':>6s} {'ARI':>5s} {'fit s':>6s}",
    ]
    print("\n".join(lines), flush=True)
    k = None

    def fit_of(system):
        nonlocal k
        if system in ("cube", "cube-before", "cube-exact"):
            chosen = cube.embed(texts, backend="torch") if system == "cube-exact" else vectors
            return (peers.cube_before if system == "cube-before" else peers.cube_defaults)(
                texts, chosen
            )
        k = k or _topics_of_cube(texts, vectors)
        return {
            "bertopic": lambda: peers.plain_bertopic(texts, vectors),
            "bertopic-stop": lambda: peers.plain_bertopic(texts, vectors, stop_words="english"),
            "keynmf": lambda: peers.keynmf(texts, vectors, k),
            "turftopic": lambda: peers.turftopic_clustering(texts, vectors),
            "fastopic": lambda: peers.fastopic(texts, vectors, k),
            "lda": lambda: peers.lda(texts, k),
        }[system]()

    means, largest = {}, {}
    order = [s for s in systems if s != "cube"]
    order = (["cube"] if "cube" in systems else []) + (["cube-exact"] if exact else []) + order
    for system in order:
        fit = fit_of(system)
        runs, seconds = [], []
        for seed in seeds[:slow_seeds] if system in SLOW else seeds:
            started = time.perf_counter()
            runs.append(fit(seed))
            seconds.append(time.perf_counter() - started)
        frames = [cube.topics.evaluate(run, texts) for run in runs]
        overall = frames[0].loc["overall"]
        if system == "cube":
            k = int(overall["n_topics"])
        if system in ("cube", "cube-before"):
            table = frames[0].drop(index=["overall", -1], errors="ignore")
            largest[system] = table.sort_values("size", ascending=False).head(5)
        if system in ("cube", "cube-exact"):
            means[system] = {
                c: float(np.mean([f.loc["overall", c] for f in frames]))
                for c in ("npmi", "diversity@10")
            }
        checks = term_checks(runs[0], texts)
        labels = [run.labels for run in runs]
        ari = (
            np.mean([adjusted_rand_score(a, b) for a, b in itertools.combinations(labels, 2)])
            if len(runs) > 1
            else math.nan
        )
        lines.append(
            f"{TITLES[system]:30s} {overall['npmi']:+7.3f} {overall['c_npmi']:+7.3f} "
            f"{overall['diversity@10']:6.3f} {overall['diversity@25']:6.3f} "
            f"{checks['stop']:5.0%} {checks['defects']:>9s} {overall['outlier_share']:6.1%} "
            f"{int(overall['n_topics']):6d} {ari:5.2f} {np.mean(seconds):6.1f}"
        )
        print(lines[-1], flush=True)
    for system, table in largest.items():
        lines.append(f"{TITLES[system]}: the five largest topics (size: top 10 words)")
        lines += [f"  {int(row['size']):5d}: {row['words']}" for _, row in table.iterrows()]
    if "cube-exact" in means:
        npmi = means["cube"]["npmi"] - means["cube-exact"]["npmi"]
        div = means["cube"]["diversity@10"] - means["cube-exact"]["diversity@10"]
        holds = abs(npmi) <= NPMI_LINE and abs(div) <= DIVERSITY_LINE
        lines.append(
            f"quality line, int8 ONNX against float32 torch, mean of seeds: NPMI diff {npmi:+.3f} "
            f"(line {NPMI_LINE}), diversity@10 diff {div:+.3f} (line {DIVERSITY_LINE}): "
            + ("holds" if holds else "FAILS")
        )
    if "cube-before" in systems:
        lines.append(_headlines(texts, vectors, seeds[0]))
    print("\n".join(lines[-14:]), flush=True)
    return lines


def _topics_of_cube(texts, vectors) -> int:
    import cube

    return len(set(cube.topics.fit(texts, vectors, seed=0).topics_) - {-1})


def _headlines(texts, vectors, seed) -> str:
    """cube's headline passage NPMI, counted as 0.2 counted it and as it is counted now."""
    import cube
    from cube.topics import TopicWords

    parts = []
    for label, fit in (
        ("0.2", peers.cube_before_model),
        ("now", lambda t, v, s: cube.topics.fit(t, v, seed=s)),
    ):
        model = fit(texts, vectors, seed)
        topics = TopicWords.from_bertopic(model)
        old = own_analyzer_npmi(topics, texts, model.vectorizer_model.build_analyzer())
        new = cube.topics.evaluate(topics, texts).loc["overall", "npmi"]
        parts.append(f"{label}: {old:+.3f} counted by the model's analyzer, {new:+.3f} literally")
    return "headline npmi, cube " + "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", nargs="+", default=["sotu-4000", "sotu-all"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=SYSTEMS)
    parser.add_argument("--exact-path", action="store_true", help="add cube on torch vectors")
    parser.add_argument(
        "--slow-seeds",
        type=int,
        help="fit FASTopic and LDA with only the first N seeds (their ARI needs 2)",
    )
    args = parser.parse_args()
    tables = [
        measure(name, tuple(args.seeds), tuple(args.systems), args.exact_path, args.slow_seeds)
        for name in args.corpora
    ]
    print()
    for table in tables:
        print("\n".join(table), end="\n\n")


if __name__ == "__main__":
    main()
