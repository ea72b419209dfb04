"""The bundled corpus: shipped inside the package, deterministic, and rebuilt identically."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import cube
from cube.datasets import _sotu

SHARED = (
    Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "sotu-speeches.jsonl.gz"
)


def test_the_bundled_corpus():
    frame = cube.datasets.load("sotu")
    assert list(frame.columns) == _sotu.COLUMNS
    assert 15_000 < len(frame) < 17_000
    assert (frame["decade"] == frame["year"] // 10 * 10).all()
    assert frame["year"].between(1790, 2021).all()
    words = frame["text"].str.split().str.len()
    assert 90 < words.mean() < 130
    assert not frame["text"].str.contains(r"\(Applause", regex=True).any()
    assert (_sotu.DATA_FILE.parent / "PROVENANCE.md").is_file()


def test_samples_are_reproducible():
    a = cube.datasets.load("sotu", sample=50, seed=1)
    b = cube.datasets.load("sotu", sample=50, seed=1)
    c = cube.datasets.load("sotu", sample=50, seed=2)
    pd.testing.assert_frame_equal(a, b)
    assert a["text"].tolist() != c["text"].tolist()
    with pytest.raises(cube.InputError, match="unknown dataset"):
        cube.datasets.load("nope")


def test_sentence_splitting():
    assert _sotu.split_sentences(
        "Mr. Speaker, we met in Washington, D.C. today. Gen. Grant spoke! Did J. Smith? (Applause.) Yes."
    ) == [
        "Mr. Speaker, we met in Washington, D.C. today.",
        "Gen. Grant spoke!",
        "Did J. Smith?",
        "Yes.",
    ]


@pytest.mark.slow
@pytest.mark.skipif(not SHARED.is_file(), reason="../shared is not beside this checkout")
def test_rebuilding_from_the_speeches_gives_the_same_table(tmp_path):
    rebuilt = _sotu.build(SHARED, tmp_path / "passages.parquet")
    pd.testing.assert_frame_equal(rebuilt, cube.datasets.load("sotu"))


def test_the_bundled_mailing_lists():
    """Notebook 6's example: mail with dates and lists, as PROVENANCE.md describes it."""
    mail = cube.datasets.load("mailing-lists")
    assert mail.columns.tolist() == ["date", "list", "subject", "text"]
    assert len(mail) == 2_335 and mail["text"].is_unique
    assert mail["list"].nunique() == 8 and mail["list"].value_counts().index[0] == "fork"
    words = mail["text"].str.split().str.len()
    assert words.between(10, 400).all()
    assert not mail["text"].str.contains(r"https?://|\S+@\S+\.\w+", regex=True).any()
    times = cube.datasets.time_values(mail, "date", "mailing-lists")
    assert str(min(times).date()) == "2002-02-01"
    assert [str(t.date()) for t in times if t.year > 2002] == ["2028-10-04"]  # a wrong clock
    sample = cube.datasets.load("mailing-lists", sample=40, seed=3)
    assert len(sample) == 40 and sample["text"].isin(mail["text"]).all()


def test_synthetic_passages_keep_each_decade_and_never_repeat():
    from cube.datasets._sotu import split_sentences

    made = cube.datasets.load("sotu-synthetic", sample=3000, seed=2)
    assert len(made) == 3000 and made["text"].is_unique
    assert made.equals(cube.datasets.synthetic_passages(3000, seed=2))  # reproducible
    bundled = cube.datasets.load("sotu")
    by_decade = {
        d: {s for text in g["text"] for s in split_sentences(text)}
        for d, g in bundled.groupby("decade")
    }
    for decade, text in made[["decade", "text"]].head(300).itertuples(index=False):
        assert all(s in by_decade[decade] for s in split_sentences(text))  # one decade each
    share = made["decade"].value_counts(normalize=True)
    expected = bundled["decade"].value_counts(normalize=True)
    assert (share - expected).abs().max() < 0.02  # decades as often as in the corpus
    assert not made["text"].isin(bundled["text"]).all()
    with pytest.raises(cube.InputError, match="needs sample="):
        cube.datasets.load("sotu-synthetic")
