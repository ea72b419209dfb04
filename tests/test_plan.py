"""The main job decides once: a frozen plan, read by every stage; reductions handed along."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cube
from cube.cli import main
from cube.cli._common import as_flags
from cube.pipeline import JobSpec, load_corpus, prepare, run


def write_csv(path: Path, texts: list[str], **columns) -> Path:
    pd.DataFrame({"text": texts, **columns}).to_csv(path, index=False)
    return path


def test_spec_and_plan_are_frozen(passages, tmp_path):
    spec = JobSpec(
        out=tmp_path / "out", file=write_csv(tmp_path / "t.csv", passages[:120]), formats=("html",)
    )
    plan = prepare(spec, say=lambda line: None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.formats = ("html",)
    with pytest.raises(dataclasses.FrozenInstanceError):
        spec.time_column = "year"
    assert (
        plan.spec is spec
        and plan.embedding.backend.name in ("onnx", "torch")
        and plan.embedding.backend.reason
    )
    assert plan.settings.min_topic_size == cube.topics.default_min_topic_size(120)
    decided = plan.decisions()
    assert decided["embedding_backend"] == plan.embedding.backend.name
    assert decided["model_fingerprint"] == plan.embedding.resolved.fingerprint
    assert decided["umap"]["n_components"] == 5 and decided["text_column"] == "text"


def test_loading_the_corpus_reports_columns_and_leaves_the_spec_alone(tmp_path):
    spec = JobSpec(out=tmp_path / "out", sample=300)
    frame, source, columns = load_corpus(spec)
    assert len(frame) == 300 and "State of the Union" in source
    assert (columns.text, columns.time, columns.classes) == ("text", "year", "party")
    assert spec.time_column is None and spec.class_column is None  # the caller's words, kept
    txt = tmp_path / "lines.txt"
    txt.write_text("one line\nanother line\n", encoding="utf-8")
    _, _, columns = load_corpus(JobSpec(out=tmp_path / "o", file=txt, text_column="body"))
    assert columns.text == "text"  # TXT files have one column, whatever was asked


def test_library_errors_name_parameters_and_the_cli_names_flags(passages, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("keep me")
    file = write_csv(tmp_path / "t.csv", passages[:120])
    with pytest.raises(cube.InputError, match=r"pass force=True to replace it$") as error:
        prepare(JobSpec(out=out, file=file, formats=("html",)), say=lambda line: None)
    assert "--" not in str(error.value)
    with pytest.raises(cube.InputError, match=r"no column 'when' for time_column=") as error:
        prepare(JobSpec(out=tmp_path / "new", file=file, time_column="when"))
    assert "--" not in str(error.value)
    assert main(["topics", str(file), "--formats", "html", "--out", str(out)]) == 2
    assert capsys.readouterr().err.strip().endswith("pass --force to replace it")
    code = main(["topics", str(file), "--time-column", "when", "--out", str(tmp_path / "n")])
    assert code == 2 and "no column 'when' for --time-column;" in capsys.readouterr().err
    assert (out / "old.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("message", "flags"),
    [
        (
            "pass formats='html' or choose another out=",
            "pass --formats html or choose another --out",
        ),
        ("pass force=True to replace it", "pass --force to replace it"),
        (
            "lower min_topic_size= (now min_topic_size=27)",
            "lower --min-topic-size (now --min-topic-size 27)",
        ),
        ("pass embedding_model= to load()", "pass embedding_model= to load()"),  # not a flag
        ("reserved_out=1; x.out=2", "reserved_out=1; x.out=2"),  # only whole names
    ],
)
def test_messages_in_the_command_lines_words(message, flags):
    assert as_flags(message) == flags


def test_figures_own_their_formats():
    assert cube.figures.parse_formats("PNG, .jpg,png,html") == ("png", "jpeg", "html")
    assert cube.figures.parse_formats(["svg", "SVG"]) == ("svg",)
    with pytest.raises(cube.InputError, match="unknown figure format 'gif'") as error:
        cube.figures.parse_formats("png,gif")
    assert "--" not in str(error.value)


def test_public_names_say_where_they_live():
    assert cube.reduce.__module__ == "cube"
    assert cube.pipeline.prepare.__module__ == "cube.pipeline"
    assert cube.datasets.load_table.__module__ == "cube.datasets"
    assert cube.reductions.UMAPParams.__module__ == "cube.reductions"
    assert cube.figures.export.__module__ == "cube.figures"


@pytest.mark.slow
def test_each_reduction_runs_once_and_is_handed_along(
    passages, tmp_path, monkeypatch, cube_settings
):
    """With the cache off nothing can be read back: UMAP runs once per reduction, not twice."""
    import umap

    fits = []
    real = umap.UMAP.fit_transform

    def counted(self, X, *args, **kwargs):
        fits.append((self.n_components, len(X)))
        return real(self, X, *args, **kwargs)

    monkeypatch.setattr(umap.UMAP, "fit_transform", counted)
    cube_settings(cache=False)
    file = write_csv(tmp_path / "t.csv", passages[:200])
    summary = run(JobSpec(out=tmp_path / "out", file=file, formats=("html",)), say=lambda s: None)
    assert sorted(fits) == [(2, 200), (5, 200)]
    assert summary["cache"]["reductions_computed"] == 2
    written = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert written["parameters"]["embedding_backend"] == summary["parameters"]["embedding_backend"]
    assert written["formats_written"] == ["html"] and written["figures_skipped"] is None


@pytest.mark.slow
def test_a_handed_reduction_is_used_as_is(passages):
    docs = passages[:150]
    vectors = cube.embed(docs)
    settings = cube.topics.TopicSettings(min_topic_size=10)
    made = cube.reductions.reduction(vectors, settings.umap_params())
    topic_model = cube.topics.build(len(docs), settings)
    cube.topics.fit_transform(topic_model, docs, vectors, reduction=made)
    assert topic_model.umap_model.reduction_ is made
    np.testing.assert_array_equal(topic_model.umap_model.embedding_, made.coordinates)
    other = cube.reductions.reduction(vectors, settings.umap_params().for_map())
    with pytest.raises(cube.InputError, match="made with"):
        cube.topics.fit_transform(cube.topics.build(150, settings), docs, vectors, reduction=other)
