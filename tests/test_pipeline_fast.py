"""``cube topics`` end to end in the fast tier, on a registered fake model (no transformer):
the pipeline's files, its summary's record of the embedding space, and the saved model."""

from __future__ import annotations

import json

import pandas as pd

import cube
from cube.cli import main


def test_cube_topics_runs_whole_on_a_fake_model(fake_model, tmp_path, capsys):
    out = tmp_path / "topics"
    code = main(
        ["topics", "--model", fake_model, "--sample", "600", "--formats", "html", "--out", str(out)]
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "quality: NPMI" in printed
    for name in ("report.html", "topics.csv", "documents.csv", "quality.csv", "summary.json"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    topics = pd.read_csv(out / "topics.csv")
    documents = pd.read_csv(out / "documents.csv")
    assert summary["topics"] == (topics["id"] >= 0).sum() >= 2
    assert len(documents) == summary["documents"] == 600
    assert set(documents["assigned_by"]) <= {"cluster", "similarity", "none"}
    embedding = summary["parameters"]["embedding"]
    assert embedding["model"] == fake_model
    assert (
        embedding["encoding"].startswith("custom encoder") and embedding["precision"] == "float32"
    )
    assert sorted(p.suffix for p in (out / "figures").iterdir()) and not list(
        (out / "figures").glob("*.png")
    )  # html only, as asked
    # The saved model embeds new documents in the space it was fitted in.
    model = cube.topics.load(out / "model")
    assert model.embedding_model.plan.space.key == embedding["space"]
    new, _ = model.transform(["Taxes on imports and the tariff.", "The army and the navy."])
    assert len(new) == 2
