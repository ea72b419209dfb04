"""Benchmark: the hierarchy's tree with many topics, cube.topics.topic_tree against BERTopic's.

Run: uv run python bench/tree.py [--min-topic-sizes 40,10,5]

The whole bundled corpus (15,825 passages, vectors from the cache) is fitted at each smallest
topic size (smaller: more topics). On each fit, timed in this one process: BERTopic's
``hierarchical_topics`` (as cube's figures called it before: c-TF-IDF words per merge), then
``topic_tree`` on every topic (the same tree: the merges and their words are compared), then
``topic_tree`` at its default, the largest ``MAX_TREE_TOPICS`` (what the figure now draws).
Printed: topics, seconds of each, whether the trees agree, the ratios.
"""

from __future__ import annotations

import argparse
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-topic-sizes", default="40,10,5")
    args = parser.parse_args(argv)
    import cube
    from cube.figures import words_from_ctfidf
    from cube.topics import MAX_TREE_TOPICS, topic_tree

    docs = cube.datasets.load("sotu")["text"].tolist()
    vectors = cube.embed(docs)
    for size in (int(s) for s in args.min_topic_sizes.split(",")):
        model = cube.topics.fit(docs, vectors, min_topic_size=size)
        n_topics = len(set(model.topics_) - {-1})
        started = time.perf_counter()
        with words_from_ctfidf(model):
            theirs = model.hierarchical_topics(docs)
        bertopic_s = time.perf_counter() - started
        started = time.perf_counter()
        whole = topic_tree(model, docs, max_topics=n_topics)
        whole_s = time.perf_counter() - started
        started = time.perf_counter()
        topic_tree(model, docs)
        default_s = time.perf_counter() - started
        merges = dict(zip(map(frozenset, theirs["Topics"]), theirs["Parent_Name"], strict=True))
        same = sum(
            merges.get(frozenset(t)) == n
            for t, n in zip(whole["Topics"], whole["Parent_Name"], strict=True)
        )
        print(
            f"min_topic_size {size:>3}: {n_topics:>4} topics; BERTopic hierarchical_topics "
            f"{bertopic_s:6.1f} s; topic_tree on all {whole_s:5.1f} s "
            f"({same} of {len(whole)} merges with the same leaves and words); on the "
            f"{min(n_topics, MAX_TREE_TOPICS)} largest {default_s:5.1f} s; BERTopic / cube: "
            f"{bertopic_s / whole_s:.1f} (all), {bertopic_s / default_s:.1f} (figure's)",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
