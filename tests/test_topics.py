"""cube.topics and the main job `cube topics`, on small slices of the bundled corpus."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

import cube
from cube.cli import main
from cube.reductions import Reduction, UMAPParams, reduction

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def corpus(sotu) -> pd.DataFrame:
    """400 passages of the session corpus (their vectors are in the session's cache)."""
    return sotu.head(400)


@pytest.fixture(scope="module")
def module_cache(warm_cache, tmp_path_factory) -> Path:
    return warm_cache(tmp_path_factory.mktemp("topics-cache"))


@pytest.fixture
def shared_cache(module_cache, cube_settings) -> Path:
    """One cache for the tests of this module, so reductions are computed once."""
    cube_settings(cache_dir=module_cache)
    return module_cache


def topic_words(topic_model) -> list[str]:
    return [
        word
        for topic in topic_model.get_topics()
        for phrase, _ in topic_model.get_topic(topic)
        for word in phrase.split()
    ]


def _reduce(vectors, **params) -> tuple[np.ndarray, Reduction]:
    made = reduction(vectors, UMAPParams(n_components=2, **params))
    return made.coordinates, made


def test_topics_are_real_bertopic_without_stop_words(corpus, shared_cache):
    from bertopic import BERTopic

    docs = corpus["text"].tolist()
    topic_model = cube.topics.fit(docs)
    assert isinstance(topic_model, BERTopic)
    assert len(set(topic_model.topics_) - {-1}) >= 2
    words = topic_words(topic_model)
    assert words
    assert not [w for w in words if w.lower() in ENGLISH_STOP_WORDS]
    assert not [w for w in words if any(ch.isdigit() for ch in w)]


def test_same_seed_same_topics_and_the_second_run_skips_umap(corpus, shared_cache):
    docs = corpus["text"].tolist()
    vectors = cube.embed(docs)
    first = cube.topics.fit(docs, vectors, seed=3)
    second = cube.topics.fit(docs, vectors, seed=3)
    assert second.umap_model.reduction_.from_cache, "the second run ran UMAP again"
    assert first.topics_ == second.topics_
    assert first.get_topics() == second.get_topics()
    third = cube.topics.fit(docs, vectors, seed=4)
    assert not third.umap_model.reduction_.from_cache  # another seed is another reduction


def test_new_documents_get_topics(corpus, shared_cache):
    docs = corpus["text"].tolist()
    topic_model = cube.topics.fit(docs, seed=3)  # the reduction the module's tests share
    others = cube.datasets.load("sotu", sample=60, seed=12)["text"]
    new = others[~others.isin(docs)].tolist()[:50]
    topics, _ = topic_model.transform(new)  # CachedUMAP fits a real, seeded UMAP here
    assert len(topics) == 50
    assert set(topics) <= set(topic_model.topics_)


def test_reductions_are_cached_per_parameters(sotu_600, cube_cache):
    vectors = sotu_600["vectors"][:120]
    a, first = _reduce(vectors, seed=0)
    b, again = _reduce(vectors, seed=0)
    np.testing.assert_array_equal(a, b)
    assert not first.from_cache and again.from_cache
    np.testing.assert_array_equal(cube.topics.reduce(vectors, 2, seed=0), a)  # the 0.1 name
    c, other = _reduce(vectors, seed=0, n_neighbors=5)
    assert not other.from_cache
    assert c.shape == (120, 2)
    for path in (cube_cache / "reductions").glob("*.vec"):
        data = bytearray(path.read_bytes())
        data[-8:] = b"\xff" * 8
        path.write_bytes(bytes(data))
    with pytest.warns(cube.CacheWarning, match="checksum"):
        recomputed, stats = _reduce(vectors, seed=0)
    assert not stats.from_cache
    np.testing.assert_allclose(recomputed, a, atol=1e-4)  # recomputed, identically seeded


def test_exact_neighbour_graph(sotu_600):
    from cube.reductions import exact_knn

    vectors = sotu_600["vectors"][:200]
    vectors = np.vstack([vectors, vectors[:3]])  # three exact copies
    indices, distances = exact_knn(vectors, 15)
    normed = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    full = 1.0 - normed @ normed.T
    assert (indices[:, 0] == np.arange(len(vectors))).all()  # itself first, even among copies
    assert (distances[:, 0] == 0).all() and (np.diff(distances, axis=1) >= 0).all()
    for row in range(len(vectors)):
        others = np.delete(full[row], row)
        np.testing.assert_allclose(distances[row, 1:], np.sort(others)[:14], atol=1e-5)
    assert distances[200, 1] < 1e-6 and indices[200, 1] == 0  # a copy's nearest other: itself


def test_maps_run_200_epochs_and_clustering_reductions_umaps_own(sotu_600, cube_cache):
    from cube.reductions import default_epochs

    assert default_epochs(4000, 2) == 200
    assert default_epochs(4000, 5) == 500 and default_epochs(15_000, 5) == 200
    vectors = sotu_600["vectors"][:120]
    a, _ = _reduce(vectors, seed=0)
    b, explicit = _reduce(vectors, seed=0, n_epochs=200)
    assert explicit.from_cache and np.array_equal(
        a, b
    )  # the same reduction: 200 is the map's default
    c, other = _reduce(vectors, seed=0, n_epochs=500)
    assert not other.from_cache and not np.array_equal(a, c)


def test_too_small_a_corpus_names_the_minimum(corpus):
    with pytest.raises(cube.InputError, match=r"at least 50 documents.*got 12"):
        cube.topics.fit(corpus["text"].tolist()[:12], np.zeros((12, 384), np.float32))


def test_save_and_load_without_pickle(corpus, shared_cache, tmp_path):
    docs = corpus["text"].tolist()
    topic_model = cube.topics.fit(docs, seed=3)
    saved = cube.topics.save(topic_model, tmp_path / "model")
    names = {p.name for p in saved.iterdir()}
    assert {"topics.json", "config.json", "cube.json", "topic_embeddings.safetensors"} <= names
    assert not [n for n in names if n.endswith((".pkl", ".pickle", ".bin", ".joblib"))]
    assert "embedding_model" not in json.loads((saved / "config.json").read_text())
    loaded = cube.topics.load(saved)

    def words(model):
        return {t: [(w, round(float(x), 5)) for w, x in ws] for t, ws in model.get_topics().items()}

    assert words(loaded) == words(topic_model)
    # BERTopic saves no callable analyzer; cube puts its term rules back, so words stay honest.
    analyze = loaded.vectorizer_model.build_analyzer()
    assert analyze("work from home in New York") == ["work", "home", "new", "york", "new york"]
    similar, _ = loaded.find_topics("taxes and the budget", top_n=1)  # embeds through cube
    assert similar


# -- the main job --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def table(corpus, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("input") / "speeches.csv"
    corpus.rename(columns={"text": "body"}).to_csv(path, index=False)
    return path


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(["topics", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_main_job_writes_everything(table, shared_cache, tmp_path, capsys):
    out = tmp_path / "result"
    code, stdout, err = run_cli(
        capsys, str(table), "--text-column", "body", "--time-column", "year",
        "--class-column", "party", "--out", str(out),
    )  # fmt: skip
    assert code == 0, err
    assert re.search(r"\d+ topics in 400 documents", stdout)
    topics = pd.read_csv(out / "topics.csv")
    assert list(topics.columns) == ["id", "size", "name", "top_words", "representative_documents"]
    assert topics["size"].sum() == 400
    documents = pd.read_csv(out / "documents.csv")
    assert len(documents) == 400
    assert set(documents["topic"]) <= set(topics["id"])
    same = pd.read_parquet(out / "documents.parquet")  # the same rows; cube's numbers numbers
    assert list(same.columns) == list(documents.columns)
    assert same["text"].tolist() == documents["text"].tolist()
    assert same["topic"].dtype == "int64" and same["probability"].dtype == "float64"
    assert same["topic"].tolist() == documents["topic"].tolist()
    assert same["year"].astype(str).tolist() == documents["year"].astype(str).tolist()
    assert documents["probability"].between(0, 1).all()
    # Outliers close enough to a topic joined it; the rest say they are in none.
    assert set(documents["assigned_by"]) <= {"cluster", "similarity", "none"}
    assert (documents["assigned_by"] == "none").sum() == (documents["topic"] == -1).sum()
    assert not topics["name"].str.match(r"^-?\d+_").any(), "names are made for people"
    quality = pd.read_csv(out / "quality.csv", index_col="topic")
    assert set(quality.index) == {*map(str, topics["id"]), "overall"}
    assert "quality: NPMI" in stdout
    report = (out / "report.html").read_text()  # one page, offline: plotly.js inline once
    assert report.count("Plotly.newPlot(") == 7 and "<script src=" not in report
    figures = {p.name for p in (out / "figures").iterdir()}
    for name in ("barchart", "topics_map", "documents_map", "hierarchy", "heatmap",
                 "topics_over_time", "topics_per_class"):  # fmt: skip
        assert {f"{name}.png", f"{name}.html"} <= figures
        assert (out / "figures" / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["seconds"]) >= {"load", "embed", "reduce", "cluster", "represent",
                                       "evaluate", "figures", "export", "total"}  # fmt: skip
    assert summary["quality"]["n_topics"] == summary["topics"]
    peaks = summary["peak_memory_mb_after"]  # where the run's memory peaked, stage by stage
    assert list(peaks) == ["load", "embed", "reduce", "cluster", "represent", "evaluate",
                           "figures", "export"]  # fmt: skip
    assert 0 < peaks["load"] <= peaks["embed"] <= peaks["reduce"] <= peaks["export"]
    documents_text = pd.read_csv(out / "documents.csv")["text"].tolist()
    assert summary["texts_sha256"] == cube.topics.provenance(documents_text)["texts"]["sha256"]
    assert summary["environment"]["versions"]["bertopic"] == __import__("bertopic").__version__
    assert summary["quality"]["outlier_share"] == summary["outliers"] / 400
    assert -1 <= summary["quality"]["npmi"] <= 1
    assert cube.topics.load(out / "model").get_topic_info()["Count"].sum() == 400
    assert not list(tmp_path.glob(".result*")), "no staging folder left behind"
    originals = summary["near_duplicates"]["copies"]  # counted, and kept by default
    assert summary["near_duplicates"]["collapsed"] is False

    # Run again with dates instead of years and 30 shouted copies of one passage (the model
    # lower-cases: the same vectors), collapsed with --dedupe, replacing the output.
    dated = tmp_path / "dated.csv"
    frame = pd.read_csv(table)
    frame["when"] = pd.to_datetime(frame["year"].astype(str) + "-01-15").dt.strftime("%Y-%m-%d")
    copies = pd.concat([frame.iloc[[7]]] * 30, ignore_index=True)
    copies["body"] = [f"{text.upper()}{'!' * i}" for i, text in enumerate(copies["body"])]
    pd.concat([frame, copies], ignore_index=True).to_csv(dated, index=False)
    code, stdout, err = run_cli(
        capsys, str(dated), "--text-column", "body", "--time-column", "when",
        "--out", str(out), "--force", "--dedupe",
    )  # fmt: skip
    assert code == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["near_duplicates"]["copies"] >= originals + 29
    assert summary["near_duplicates"]["collapsed"] is True
    assert f"{summary['near_duplicates']['copies']} passages copy another" in stdout
    assert summary["documents"] == 430 - summary["near_duplicates"]["copies"]
    documents = pd.read_csv(out / "documents.csv")
    assert documents["row"].max() <= 401  # the copies (rows 401-430) were left out
    assert "near-duplicates" in (out / "report.html").read_text()
    assert summary["cache"]["embeddings_from_cache"] == 400
    assert summary["cache"]["reductions_computed"] == 0  # the same 400 passages as before
    assert (out / "figures" / "topics_over_time.png").exists()
    assert not (out / "figures" / "topics_per_class.png").exists()


BAD_JOBS = {
    "missing file": (["nope.csv"], "does not exist"),
    "unknown text column": (["{table}", "--text-column", "speech_text"], "no column 'speech_text'"),
    "a column of numbers": (["{table}", "--text-column", "passage"], "no words left"),
    "unknown time column": (
        ["{table}", "--text-column", "body", "--time-column", "when"],
        "no column 'when' for --time-column",
    ),
    "bad sample": (["{table}", "--sample", "zero"], "--sample takes a positive number"),
    "too few documents": (
        ["{table}", "--text-column", "body", "--sample", "20"],
        "at least 50 documents",
    ),
    "text column without file": (["--text-column", "body"], "--text-column needs a FILE"),
}


@pytest.mark.parametrize("case", list(BAD_JOBS))
def test_bad_jobs_fail_cleanly(case, table, tmp_path, capsys):
    argv, message = BAD_JOBS[case]
    out = tmp_path / "result"
    code, _, err = run_cli(capsys, *[a.format(table=table) for a in argv], "--out", str(out))
    assert code == 2
    # One error line, last; a model loaded on the way may print its own progress bar first.
    lines = [line for line in err.strip().splitlines() if line.startswith("cube: error:")]
    assert len(lines) == 1 and message in lines[0] and err.strip().endswith(lines[0]), err
    assert not out.exists()
    assert not list(tmp_path.glob(".result*"))


def test_bad_time_and_class_values(table, tmp_path, capsys):
    frame = pd.read_csv(table, dtype=str)
    frame.loc[3, "year"] = "sometime"
    frame.loc[5, "party"] = None
    broken = tmp_path / "broken.csv"
    frame.to_csv(broken, index=False)
    args = [str(broken), "--text-column", "body", "--out", str(tmp_path / "r")]
    code, _, err = run_cli(capsys, *args, "--time-column", "year")
    assert code == 2 and "neither years nor dates (rows 4)" in err
    code, _, err = run_cli(capsys, *args, "--class-column", "party")
    assert code == 2 and "values of class column 'party' are empty (rows 6)" in err
    assert not (tmp_path / "r").exists()


def test_existing_output_is_kept_without_force(table, tmp_path, capsys):
    out = tmp_path / "result"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    code, _, err = run_cli(capsys, str(table), "--text-column", "body", "--out", str(out))
    assert code == 2 and "--force" in err
    assert (out / "notes.txt").read_text() == "mine"


def test_an_interrupted_run_leaves_nothing(table, shared_cache, tmp_path, monkeypatch):
    from cube import figures

    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(figures, "standard_figures", interrupt)
    out = tmp_path / "result"
    code = main(["topics", str(table), "--text-column", "body", "--out", str(out)])
    assert code == 130
    assert not out.exists()
    assert not list(tmp_path.glob(".result*"))


def test_a_fitted_model_saves_the_bertopic_way(sotu_600, tmp_path):
    """cube's components live at module level, so BERTopic's default (pickle) save works."""
    from bertopic import BERTopic

    topic_model = sotu_600["model"]  # fitted with c-TF-IDF's words; saving leaves it as it was
    topic_model.save(tmp_path / "model.pickle")  # BERTopic's default serialization
    loaded = BERTopic.load(str(tmp_path / "model.pickle"))
    assert type(loaded.umap_model) is type(topic_model.umap_model)
    assert loaded.topics_ == topic_model.topics_


def test_fit_and_build_share_one_settings_object():
    settings = cube.topics.TopicSettings(seed=2, top_n_words=7, representation="ctfidf")
    topic_model = cube.topics.build(500, settings, min_topic_size=9)
    assert topic_model.top_n_words == 7 and topic_model.min_topic_size == 9
    assert topic_model.umap_model.params.seed == 2
    with pytest.raises(cube.InputError, match="unknown representation"):
        cube.topics.TopicSettings(representation="lda")


NUMBA_WORKER = """
import numpy as np
import umap.layouts
from cube.reductions import reduce
with __import__("cube").config_context(cache=False):
    reduce(np.random.default_rng(0).normal(size=(200, 8)).astype("float32"), 2)
stats = umap.layouts._nb_optimize_layout_euclidean_single_epoch.stats
print(sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))
"""


def test_umap_compiles_once_per_machine_not_per_process(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    runs = [
        subprocess.run(
            [sys.executable, "-c", NUMBA_WORKER], env=env, capture_output=True, text=True
        )
        for _ in range(2)
    ]
    assert [run.returncode for run in runs] == [0, 0], runs[0].stderr[-2000:]
    (first_hits, _), (second_hits, second_misses) = (
        [int(x or 0) for x in run.stdout.split()] for run in runs
    )
    assert first_hits == 0 and second_hits >= 1 and second_misses == 0
    assert list((tmp_path / "numba").rglob("*.nbc"))  # compiled code on disk


def test_find_topic_by_its_words(corpus, shared_cache):
    docs = corpus["text"].tolist()
    topic_model = cube.topics.fit(docs, seed=3)
    for topic in sorted(set(topic_model.topics_) - {-1}):
        word = topic_model.get_topic(topic)[0][0].split()[0]  # its best word
        found = cube.topics.find_topic(topic_model, word)
        shown = [w for w, _ in topic_model.get_topic(found)]
        assert any(part.startswith(word) for w in shown for part in w.split())
    # A stem finds terms it starts; a word no topic shows falls back to c-TF-IDF weight.
    vocabulary = topic_model.vectorizer_model.get_feature_names_out()
    shown = {w for t in set(topic_model.topics_) for w, _ in topic_model.get_topic(t)}
    hidden = next(t for t in vocabulary if " " not in t and not any(t in w for w in shown))
    found = cube.topics.find_topic(topic_model, hidden)
    assert found != -1
    with pytest.raises(cube.CubeError, match=f"no topic found for '{hidden}': no term starting"):
        cube.topics.find_topic(topic_model, hidden, top_words_only=True)
    with pytest.raises(cube.CubeError, match="no topic found for 'zzqx', 'qqv'"):
        cube.topics.find_topic(topic_model, "zzqx", "qqv")
    with pytest.raises(cube.CubeError, match="at least one word"):
        cube.topics.find_topic(topic_model)


@pytest.mark.slow
def test_fit_on_a_sample_assigns_the_rest_by_the_same_rule(sotu_600):
    from sklearn.metrics.pairwise import cosine_similarity

    docs, vectors = sotu_600["docs"], sotu_600["vectors"]
    made = cube.topics.fit_on_sample(docs, vectors, sample_size=300, seed=0)
    again = cube.topics.fit_on_sample(docs, vectors, sample_size=300, seed=0)
    assert made.topics == again.topics and len(made.topics) == len(docs)  # seeded
    topics = np.asarray(made.topics)
    assert len(made.sample) == 300 and list(topics[made.sample]) == made.topic_model.topics_
    assert made.topic_model.min_topic_size == max(
        5, round(cube.topics.default_min_topic_size(600) * 300 / 600)
    )  # a topic of the same share of the corpus as a full fit's
    rest = np.setdiff1d(np.arange(len(docs)), made.sample)
    model = made.topic_model
    similarity = cosine_similarity(vectors[rest], model.topic_embeddings_[model._outliers :])
    joined = topics[rest] != -1
    assert joined.any()
    np.testing.assert_array_equal(topics[rest][joined], similarity.argmax(axis=1)[joined])
    assert (similarity.max(axis=1)[joined] >= made.threshold - 1e-6).all()
    assert (similarity.max(axis=1)[~joined] < made.threshold).all()
    assert (~joined).mean() <= 0.10 + 1 / len(rest) or made.threshold == 0.2  # max share
    whole = cube.topics.fit_on_sample(docs, vectors, sample_size=600, seed=0)
    assert whole.topics == cube.topics.fit(docs, vectors, seed=0).topics_  # no sample: fit


@pytest.mark.slow
def test_words_after_a_sample_fit_come_from_every_documents_counts(sotu_600):
    """c-TF-IDF as a map-reduce: each document counted on its own a partition at a time,
    summed per topic; the same whichever way the corpus is partitioned, and equal to counting
    each topic's documents one by one. The words and sizes are those of every document."""
    from bertopic.vectorizers import ClassTfidfTransformer

    docs, vectors = sotu_600["docs"], sotu_600["vectors"]
    made = cube.topics.fit_on_sample(docs, vectors, sample_size=300, seed=0)
    model, topics = made.topic_model, np.asarray(made.topics)
    whole = cube.topics.count_terms_by_topic(model, [(docs, topics)])
    parts = [(docs[i : i + 70], topics[i : i + 70]) for i in range(0, len(docs), 70)]
    assert (cube.topics.count_terms_by_topic(model, parts) != whole).nnz == 0
    labels = sorted(model.topic_sizes_)
    for row, topic in enumerate(labels):
        own = [d for d, t in zip(docs, topics, strict=True) if t == topic]
        expected = np.asarray(model.vectorizer_model.transform(own).sum(axis=0)).ravel()
        np.testing.assert_array_equal(whole[row].toarray().ravel(), expected)
    c_tf_idf = ClassTfidfTransformer(reduce_frequent_words=True).fit_transform(whole)
    np.testing.assert_allclose(model.c_tf_idf_.toarray(), c_tf_idf.toarray(), rtol=1e-6)
    assert sum(model.topic_sizes_.values()) == sum(1 for t in topics if t in labels)
    assert model.get_topic_info()["Count"].sum() == sum(model.topic_sizes_.values())
    for topic in labels:
        assert [w for w, _ in model.get_topic(topic) if w]  # every topic has words


@pytest.mark.slow
def test_cube_topics_fits_on_a_sample_as_the_library_does(tmp_path):
    import pandas as pd

    from cube.pipeline import JobSpec, run

    spec = JobSpec(  # the cluster embeds and counts the words: the same as the library here
        out=tmp_path / "out", sample=600, seed=0, fit_sample=300, formats=("html",), workers=2
    )
    said: list[str] = []
    summary = run(spec, say=said.append)
    assert any("topics fitted on 300 of 600 documents" in line for line in said)
    assert summary["documents"] == 600 and summary["parameters"]["fit_sample"] == 300
    assert summary["fit_sample"]["fitted_on"] == 300
    assert summary["fit_sample"]["assigned_by_similarity"] == 300
    documents = pd.read_csv(tmp_path / "out" / "documents.csv")
    assert len(documents) == 600 and list(documents["row"]) == list(range(1, 601))
    outside = documents["assigned_by"].str.endswith("(outside the sample)")
    assert outside.sum() == 300 and documents.loc[outside, "probability"].isna().all()
    docs = cube.datasets.load("sotu", sample=600, seed=0)["text"].tolist()
    assert documents["text"].tolist() == docs
    made = cube.topics.fit_on_sample(docs, cube.embed(docs), sample_size=300, seed=0)
    assert documents["topic"].tolist() == made.topics  # the command and the library agree
    words = pd.read_csv(tmp_path / "out" / "topics.csv").set_index("id")["top_words"]
    for topic in made.topic_model.topic_sizes_:
        expected = [w for w, _ in made.topic_model.get_topic(topic) if str(w).strip()]
        assert words[topic] == ", ".join(expected)
    assert summary["embedded_on"] == {"dask_workers": 2}
    assert summary["fit_sample"]["threshold"] == round(made.threshold, 4)
    report = (tmp_path / "out" / "report.html").read_text()
    assert "a seeded sample of 300 documents" in report and "the other 300 joined" in report
    assert "words and sizes are counted over every document" in report
    topics = pd.read_csv(tmp_path / "out" / "topics.csv")  # sizes: every document's
    assert topics["size"].sum() == documents["topic"].isin(topics["id"]).sum() > 300
