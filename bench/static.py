"""Benchmark: static embeddings distilled from the bundled model (issue 43), against MiniLM.

Run: uv run python bench/static.py [--stages distill,speed,quality,million] [--corpora 4000,all]
(``tokenlearn`` is a further stage, run when ``tokenlearn`` imports: it is not a dependency.)

Everything runs in one cache folder (``--cache``, default /tmp/static-bench/cache; the user's
ONNX export is linked into it when there, so no run pays for the export). Stages:

- distill: model2vec's ``distill_from_model`` on the bundled all-MiniLM-L6-v2, offline
  (HF_HUB_OFFLINE=1), into that cache (``cube.embeddings._static.static_model``), timed. It
  runs once per cache: remove ``<cache>/static`` to time it again.
- speed: passages per second, static against MiniLM (cube's ``auto`` backend: int8 ONNX on
  this CPU), interleaved A/B three times in one process: the whole bundled corpus through the
  static encoder (no vector cache), then 256 other passages each round through ``cube.embed``,
  whose rate counts the passages it encoded (those already in the cache from an earlier
  run are left out of the count but not of the time). The machine's 2 cores are shared with other jobs, so the ratio is
  the number to read, not the rates.
- quality: ``cube.topics.fit`` (seed 0) on the bundled 4,000 (as ``cube topics`` picks them:
  ``frame.sample(n=4000, random_state=0)``) and on the whole corpus, with MiniLM vectors
  (the reference) and with static vectors: (a) static everywhere, cube's settings; (c) static
  with settings for its space (the outlier threshold, min_topic_size); (b) the fit sample
  embedded by the transformer and the rest assigned through static vectors: the topics'
  centroids in the static space are the means of the sample's own static vectors, each other
  passage joins its most similar centroid, and the threshold leaves the rest the same share
  in no topic as the sample has (the sample: a quarter of the corpus); beside it, the same sample fit with every passage assigned
  through MiniLM vectors (``cube.topics.fit_on_sample``). Each row: ``cube.topics.evaluate``'s
  quality over every passage, ARI against the MiniLM fit's topics, and the fit's seconds.
- million: how ``bench/scale.py`` makes a million unique passages (``sotu-synthetic``:
  sentences of the speeches recombined decade by decade), 100,000 of them embedded static,
  timed and projected linearly to a million; then ``cube.topics.fit_on_sample`` on those
  100,000 static vectors with UMAP's and HDBSCAN's seconds.
- tokenlearn: (d) the static model trained further on the fit sample's MiniLM vectors.

Findings (2 cores shared with up to 7 other jobs, load average 8-14; numbers as printed in the
run recorded below):

- distill: 568.2 s here (load 15.2; a first try outside the bench, model2vec's ``distill``
  on the same folder: 275.1 s; ``pytest tests/test_static.py -m model``, its one
  distillation included: 262.8 s; the issue's 54.6 s was on a quieter machine), once per
  machine: 15.6 MB in the cache (model.safetensors float16, 29,525 tokens x 256, tokenizer.json,
  config.json, manifest.json). model2vec 0.10.0's distill imports skeletoken; its [distill]
  extra pins transformers<5.4, but model2vec and skeletoken 0.6.1 distill with the locked
  transformers 5.23 (so cube depends on the two, not on the extra).
- speed, A/B interleaved three times: static 951, 1,055, 972 passages/s against MiniLM (int8
  ONNX) 12.1, 11.9, 10.9/s: static x79, x88, x89 (median x88). Both rates are a fraction of an
  idle machine's (the issue: 2,617/s static); the tokenizer is most of the static time.
- quality on the bundled 4,000 (min_topic_size 27; ARI against the MiniLM topics):

  | vectors | passage NPMI | c_npmi | diversity@10 | topics | in no topic | ARI | fit s |
  |---|---|---|---|---|---|---|---|
  | MiniLM (cube's default) | +0.284 | +0.170 | 0.921 | 24 | 10.0% | 1.00 | 180.4 |
  | (a) static, cube's settings | +0.226 | +0.155 | 0.925 | 8 | 0.1% | 0.15 | 40.0 |
  | (c) static, outlier threshold 0.7 | +0.226 | +0.155 | 0.925 | 8 | 1.0% | 0.15 | 11.0 |
  | (c) static, outlier threshold 0.8 | +0.225 | +0.155 | 0.912 | 8 | 4.9% | 0.15 | 14.0 |
  | (c) static, min_topic_size 13, threshold 0.5 | +0.266 | +0.176 | 0.797 | 36 | 0.1% | 0.14 | 13.8 |
  | (c) static, min_topic_size 13, threshold 0.7 | +0.266 | +0.176 | 0.797 | 36 | 0.9% | 0.14 | 13.4 |
  | (c) static, min_topic_size 13, threshold 0.8 | +0.267 | +0.177 | 0.803 | 36 | 5.2% | 0.14 | 14.3 |
  | (b0) fit on 1,000 MiniLM, rest by MiniLM | +0.246 | +0.137 | 0.912 | 26 | 9.7% | 0.55 | 11.9 |
  | (b) fit on 1,000 MiniLM, rest by static centroids (thr 0.79) | +0.237 | +0.134 | 0.885 | 26 | 8.9% | 0.36 | 15.5 |

  (MiniLM's fit ran UMAP cold; the first static fit too; later rows found their UMAP in the
  cache, so "fit s" compares only like with like.)
  Read: static everywhere with cube's settings gives a third of the topics (8 against 24; the
  issue's run: 12) and almost no outliers: cosine similarities in the static space are high,
  so the 0.5 rule takes nearly every HDBSCAN outlier in; 0.8 leaves 5 %, and no threshold
  brings back what HDBSCAN did not find. Halving min_topic_size gives more topics than MiniLM
  (36) with higher coherence but lower diversity (0.80). Whatever the settings, static topics
  agree little with MiniLM's (ARI 0.14-0.15). The hybrid (b) keeps the sample fit's 26
  topics and its outlier share by construction, agrees with MiniLM's topics more than static
  does (0.36 against 0.15; the same fit with MiniLM for the rest: 0.55), at a small cost in
  coherence against (b0).
- (d) tokenlearn (PyPI 0.2.1; not a cube dependency: it requires model2vec[distill], whose
  transformers<5.4 pin conflicts with cube's lock, and `datasets`; its `train_model` imports
  neither and ran offline from the unpacked wheel on PYTHONPATH): the distilled model trained
  on the 1,000-passage fit sample's MiniLM vectors (900 to train, 100 to stop early) in 199.8 s,
  then static everywhere on the 4,000 (its saved model does not normalize: tokenlearn's
  StaticModel is made with normalize=False):

  | vectors | passage NPMI | c_npmi | diversity@10 | topics | in no topic | ARI | fit s |
  |---|---|---|---|---|---|---|---|
  | (d) tokenlearn static, cube's settings | +0.245 | +0.178 | 0.879 | 14 | 0.3% | 0.28 | 27.0 |
  | (d) tokenlearn static, threshold 0.7 | +0.251 | +0.183 | 0.879 | 14 | 5.8% | 0.27 | 11.9 |

  Better than the plain static model on every count but diversity (14 topics against 8, ARI
  0.28 against 0.15, c_npmi above MiniLM's), still below the hybrid's agreement (0.36); the
  training costs the transformer's vectors of the sample (which (b) pays too) plus minutes of
  PyTorch, and changes the model per corpus (a cache entry per corpus and sample).
- million: ``bench/scale.py`` takes its passages from ``cube.datasets.load("sotu-synthetic",
  sample=n)``: each passage four sentences drawn at random from one decade's speeches, decades
  drawn as often as they have passages, repeats drawn again (unique texts). 100,000 were made
  in 18.6 s and embedded static in 86.3 s, 1,159 passages/s (load 11.8): a million at that
  rate is 14.4 min of embedding on this loaded machine (the issue's idle rate, 2,617/s, would
  make it 6.4 min), and 1.02 GB of float32 vectors (256 dimensions).
  ``cube.topics.fit_on_sample`` on those 100,000 static vectors (below its 200,000 fit sample,
  so one fit on all of them): 695.1 s; UMAP 494.6 s, HDBSCAN 57.0 s, the rest (the outlier
  rule, c-TF-IDF and the words) 143.5 s; NPMI +0.168 over passages, +0.137 c_npmi, diversity@10
  0.76, 0 % in no topic, 8 topics. So with static vectors the time goes to UMAP on the fit
  sample (71 %), then to the words (21 %); HDBSCAN is 8 %. A million in 15 minutes needs a fit
  sample far below 100,000 on this machine, and the 8 topics of 100,000 synthetic passages
  show the coarseness again (min_topic_size 50 there, cube's cap).
- where static pays, as these tables read (a proposal for the backend choice, not wired in):
  keep the transformer wherever its embedding fits the time (the default 4,000: static loses
  two thirds of the topics and agrees at ARI 0.15); above that, (b): the fit sample embedded by
  the transformer, every other passage by the static model, joining the nearest topic
  centroid of the sample's own static vectors, the threshold set so the rest keeps the sample's
  share in no topic (fixed thresholds mean little in the static space: 0.5 admits nearly
  every outlier). For the million in 15 minutes the fit sample must then shrink well below
  cube's 200,000: at the int8 transformer's rate here (about 12/s loaded; the scale issue's
  idle VNNI rate about 160/s) 200,000 passages take hours, 20,000 about 2 minutes idle.
  Static everywhere, if chosen for speed alone, needs its own min_topic_size (half of cube's
  gives 36 topics here against 8) and says so.
- not measured here: the whole bundled corpus (~16,000) against MiniLM, which needs MiniLM
  vectors of all of it (about 25 minutes of int8 ONNX at this load; 5,294 of its 15,820
  distinct passages were cached when time ran out): run ``--stages quality --corpora all``.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DEFAULT_CACHE = Path(tempfile.gettempdir()) / "static-bench" / "cache"


def _setup(cache: Path) -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["CUBE_CACHE_DIR"] = str(cache)
    cache.mkdir(parents=True, exist_ok=True)
    user_onnx = Path.home() / ".cache" / "cube" / "onnx"
    if user_onnx.is_dir() and not (cache / "onnx").exists():
        (cache / "onnx").symlink_to(user_onnx, target_is_directory=True)


def _load() -> float:
    return os.getloadavg()[0]


def stage_distill() -> None:
    from cube.embeddings import _static, resolve_model

    resolved = resolve_model("all-MiniLM-L6-v2")
    cached = _static.is_cached(resolved.fingerprint)
    load = _load()
    started = time.perf_counter()
    folder, digest = _static.static_model(resolved.path, resolved.fingerprint)
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in folder.iterdir())
    what = "found in the cache (remove <cache>/static to time it)" if cached else "distilled"
    print(
        f"distill: {what} in {seconds:.1f} s (load {load:.1f}); {size / 1e6:.1f} MB, "
        f"digest {digest[:16]}, {_static.installed()=}"
    )


def stage_speed(rounds: int = 3) -> None:
    import cube
    from cube.embeddings import embed_with_stats
    from cube.embeddings._static import embed_static

    docs = cube.datasets.load("sotu")["text"].tolist()
    embed_static(docs[:64], "all-MiniLM-L6-v2")  # load the static model
    embed_with_stats(docs[-8:])  # load the ONNX session
    rng = np.random.default_rng(0)
    order = rng.permutation(len(docs) - 8)
    print(f"speed: static on all {len(docs):,} bundled passages, MiniLM on 256 new ones, A/B")
    ratios = []
    for r in range(rounds):
        load = _load()
        started = time.perf_counter()
        embed_static(docs, "all-MiniLM-L6-v2")
        static_rate = len(docs) / (time.perf_counter() - started)
        picked = [docs[i] for i in order[r * 256 : (r + 1) * 256]]
        started = time.perf_counter()
        _, stats = embed_with_stats(picked)
        minilm_rate = stats.encoded / (time.perf_counter() - started)
        ratios.append(static_rate / minilm_rate)
        print(
            f"  round {r + 1}: static {static_rate:,.0f}/s, MiniLM ({stats.backend}, "
            f"{stats.encoded} encoded) {minilm_rate:,.1f}/s: x{ratios[-1]:,.0f} (load {load:.1f})"
        )
    print(f"  static / MiniLM passages per second: median x{np.median(ratios):,.0f}")


@dataclasses.dataclass
class Row:
    name: str
    npmi: float
    c_npmi: float
    diversity: float
    n_topics: int
    outliers: float
    ari: float
    seconds: float

    def line(self) -> str:
        return (
            f"| {self.name} | {self.npmi:+.3f} | {self.c_npmi:+.3f} | {self.diversity:.3f} | "
            f"{self.n_topics} | {self.outliers:.1%} | {self.ari:.2f} | {self.seconds:.1f} |"
        )


def _row(name, topic_model, docs, labels, reference, seconds) -> Row:
    from sklearn.metrics import adjusted_rand_score

    import cube

    words = cube.topics.TopicWords.from_bertopic(topic_model)
    words = dataclasses.replace(words, labels=np.asarray(labels))
    overall = cube.topics.evaluate(words, docs).loc["overall"]
    ari = adjusted_rand_score(reference, labels) if reference is not None else 1.0
    return Row(
        name,
        float(overall["npmi"]),
        float(overall["c_npmi"]),
        float(overall["diversity@10"]),
        int(overall["n_topics"]),
        float(overall["outlier_share"]),
        float(ari),
        seconds,
    )


def _timed_fit(docs, vectors, **settings):
    import cube

    started = time.perf_counter()
    model = cube.topics.fit(docs, vectors, seed=0, **settings)
    return model, time.perf_counter() - started


def _hybrid(docs, minilm, static, sample_size: int, reference) -> list[Row]:
    """(b): the sample fit on MiniLM vectors; the rest through MiniLM, then through static."""
    import cube

    started = time.perf_counter()
    made = cube.topics.fit_on_sample(docs, minilm, sample_size=sample_size, seed=0)
    minilm_seconds = time.perf_counter() - started
    rows = [
        _row(
            f"(b0) fit on {sample_size:,} MiniLM, rest by MiniLM",
            made.topic_model,
            docs,
            made.topics,
            reference,
            minilm_seconds,
        )
    ]
    started = time.perf_counter()
    sample = made.sample
    fitted = np.asarray(made.topic_model.topics_)
    ids = sorted(set(fitted.tolist()) - {-1})
    unit = static / np.maximum(np.linalg.norm(static, axis=1, keepdims=True), 1e-12)
    centroids = np.stack([unit[sample[fitted == t]].mean(axis=0) for t in ids])
    centroids /= np.linalg.norm(centroids, axis=1, keepdims=True)
    rest = np.setdiff1d(np.arange(len(docs)), sample)
    similarity = unit[rest] @ centroids.T
    best = np.asarray(ids)[similarity.argmax(axis=1)]
    top = similarity.max(axis=1)
    share = float((fitted == -1).mean())
    threshold = float(np.quantile(top, share)) if share > 0 else -1.0
    topics = np.empty(len(docs), np.int64)
    topics[sample] = fitted
    topics[rest] = np.where(top >= threshold, best, -1)
    cube.topics.words_from_every_document(made.topic_model, docs, topics, sample)
    seconds = minilm_seconds + (time.perf_counter() - started)
    rows.append(
        _row(
            f"(b) fit on {sample_size:,} MiniLM, rest by static centroids (thr {threshold:.2f})",
            made.topic_model,
            docs,
            topics,
            reference,
            seconds,
        )
    )
    return rows


def stage_quality(corpora: list[str]) -> None:
    import cube
    from cube.embeddings import embed
    from cube.embeddings._static import embed_static
    from cube.topics import default_min_topic_size

    frame = cube.datasets.load("sotu")
    for corpus in corpora:
        if corpus == "all":
            docs = frame["text"].tolist()
        else:
            docs = frame.sample(n=int(corpus), random_state=0).sort_index()["text"].tolist()
        minilm = embed(docs)
        static = embed_static(docs, "all-MiniLM-L6-v2")
        size = default_min_topic_size(len(docs))
        print(f"\nquality on {len(docs):,} bundled passages (min_topic_size {size})")
        print(
            "| vectors | passage NPMI | c_npmi | diversity@10 | topics | in no topic | ARI | fit s |"
        )
        print("|---|---|---|---|---|---|---|---|")
        model, seconds = _timed_fit(docs, minilm)
        reference = np.asarray(model.topics_)
        print(_row("MiniLM (cube's default)", model, docs, reference, None, seconds).line())
        runs = [("(a) static, cube's settings", {})]
        for threshold in (0.7, 0.8):
            runs.append(
                (f"(c) static, outlier threshold {threshold}", dict(outlier_threshold=threshold))
            )
        half = max(5, size // 2)
        for threshold in (0.5, 0.7, 0.8):
            runs.append(
                (
                    f"(c) static, min_topic_size {half}, threshold {threshold}",
                    dict(min_topic_size=half, outlier_threshold=threshold),
                )
            )
        for name, settings in runs:
            model, seconds = _timed_fit(docs, static, **settings)
            print(_row(name, model, docs, model.topics_, reference, seconds).line(), flush=True)
        for row in _hybrid(docs, minilm, static, len(docs) // 4, reference):
            print(row.line(), flush=True)


def stage_tokenlearn(corpus: int = 4000, sample_size: int = 1000) -> None:
    """(d): the static model trained further with tokenlearn on the fit sample's own MiniLM
    vectors (``train_model``: the token vectors and weights fitted so the mean of a passage's
    tokens predicts its MiniLM vector), then static everywhere."""
    import cube
    from cube.embeddings import _static, embed, resolve_model
    from cube.topics import sample_rows

    try:
        from tokenlearn.train import train_model
    except ImportError as exc:
        print(f"\ntokenlearn: not importable ({exc}); skipped")
        return
    import logging

    from model2vec import StaticModel as Model2Vec

    logging.getLogger("tokenlearn").setLevel(logging.WARNING)
    frame = cube.datasets.load("sotu")
    docs = frame.sample(n=corpus, random_state=0).sort_index()["text"].tolist()
    minilm = embed(docs)
    resolved = resolve_model("all-MiniLM-L6-v2")
    folder, _ = _static.static_model(resolved.path, resolved.fingerprint)
    model = Model2Vec.from_pretrained(folder, force_download=False)
    model.embedding = model.embedding.astype(np.float32)
    sample = sample_rows(len(docs), sample_size, 0)
    started = time.perf_counter()
    trained = train_model(model, [docs[i] for i in sample], minilm[sample], device="cpu")
    seconds = time.perf_counter() - started
    out = Path(tempfile.mkdtemp(prefix="tokenlearn-"))
    trained.save_pretrained(out)
    static = _static.StaticModel(out).encode(docs)
    print(
        f"\ntokenlearn: trained on {sample_size:,} of the {corpus:,} passages' MiniLM vectors in "
        f"{seconds:.1f} s"
    )
    reference, _ = _timed_fit(docs, minilm)
    reference = np.asarray(reference.topics_)
    for name, settings in [
        ("(d) tokenlearn static, cube's settings", {}),
        ("(d) tokenlearn static, threshold 0.7", dict(outlier_threshold=0.7)),
    ]:
        model, seconds = _timed_fit(docs, static, **settings)
        print(_row(name, model, docs, model.topics_, reference, seconds).line(), flush=True)


def stage_million(n: int = 100_000, fit: bool = True) -> None:
    import cube
    from cube.embeddings._static import embed_static

    started = time.perf_counter()
    docs = cube.datasets.load("sotu-synthetic", sample=n)["text"].tolist()
    made_seconds = time.perf_counter() - started
    print(f"\nmillion: {len(docs):,} sotu-synthetic passages made in {made_seconds:.1f} s")
    embed_static(docs[:64], "all-MiniLM-L6-v2")
    load = _load()
    started = time.perf_counter()
    vectors = embed_static(docs, "all-MiniLM-L6-v2")
    seconds = time.perf_counter() - started
    print(
        f"  static embedding: {seconds:.1f} s, {len(docs) / seconds:,.0f} passages/s (load "
        f"{load:.1f}); a million at that rate: {seconds * 1_000_000 / len(docs) / 60:.1f} min, "
        f"{1_000_000 * vectors.shape[1] * 4 / 1e9:.2f} GB of float32 vectors"
    )
    if not fit:
        return
    started = time.perf_counter()
    made = cube.topics.fit_on_sample(docs, vectors, seed=0)
    total = time.perf_counter() - started
    model = made.topic_model
    umap_seconds = model.umap_model.reduction_.seconds
    hdbscan_seconds = model.hdbscan_model.fit_seconds_
    quality = cube.topics.evaluate(model, [docs[i] for i in made.sample]).loc["overall"]
    print(
        f"  fit_on_sample on {len(docs):,} static vectors (fit sample {len(made.sample):,}): "
        f"{total:.1f} s; UMAP {umap_seconds:.1f} s, HDBSCAN {hdbscan_seconds:.1f} s, the rest "
        f"{total - umap_seconds - hdbscan_seconds:.1f} s; {cube.topics.quality_headline(quality)},"
        f" {int(quality['n_topics'])} topics"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stages", default="distill,speed,quality,million")
    parser.add_argument("--corpora", default="4000,all")
    parser.add_argument("--million-size", type=int, default=100_000)
    parser.add_argument("--no-million-fit", action="store_true")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    args = parser.parse_args(argv)
    _setup(args.cache)
    stages = args.stages.split(",")
    print(f"cache {args.cache}; {os.cpu_count()} CPUs; load {_load():.1f}", flush=True)
    if "distill" in stages:
        stage_distill()
    if "speed" in stages:
        stage_speed()
    if "quality" in stages:
        stage_quality(args.corpora.split(","))
    if "tokenlearn" in stages:
        stage_tokenlearn()
    if "million" in stages:
        stage_million(args.million_size, fit=not args.no_million_fit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
