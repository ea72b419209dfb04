"""One embedding decision, carried: a topic model embeds new documents in the space its topics
were fitted in, whatever this machine's default, and save/load keep that space."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import cube
from cube import CubeError
from cube.embeddings import plan_space


@pytest.mark.model
def test_a_model_fitted_with_torch_embeds_new_documents_with_torch_under_another_default(
    passages, tmp_path
):
    new = ["Tariffs on imported steel were raised.", "The navy needs new ships."]
    with cube.config_context(embedding_backend="torch"):
        topic_model = cube.topics.fit(passages, min_topic_size=10, seed=0)
        cube.topics.save(topic_model, tmp_path / "model")
        expected = cube.embed(new, backend="torch")
    recorded = json.loads((tmp_path / "model" / "cube.json").read_text())["embedding"]
    assert recorded["backend"] == "torch" and recorded["precision"] == "float32"
    record = cube.topics.provenance(passages, topic_model=topic_model)
    assert record["embedding"]["backend"] == "torch" and record["embedding"]["decided"] == (
        "with the fit"
    )
    # This machine's default now differs: PyTorch forbidden outright, so a re-decision shows.
    onnx_here = plan_space().backend.name == "onnx"
    with cube.config_context(embedding_backend="onnx" if onnx_here else "torch"):
        loaded = cube.topics.load(tmp_path / "model")
        assert loaded.embedding_model.plan.space.key == recorded["space"]
        vectors = loaded.embedding_model.embed(new)
        assert np.array_equal(vectors, expected)  # the same bytes: the torch space's own
        topics, _ = loaded.transform(new)
        assert len(topics) == 2
        # The model fitted in memory embeds in its own space too, not this default's.
        assert np.array_equal(topic_model.embedding_model.embed(new), expected)


def test_load_refuses_a_space_this_machine_does_not_compute(fake_model, tmp_path, passages):
    topic_model = cube.topics.fit(passages, model=fake_model, min_topic_size=10, seed=0)
    cube.topics.save(topic_model, tmp_path / "model")
    meta_path = tmp_path / "model" / "cube.json"
    meta = json.loads(meta_path.read_text())
    assert meta["embedding"]["model"] == fake_model
    assert (
        cube.topics.load(tmp_path / "model").embedding_model.plan.space.key
        == (meta["embedding"]["space"])
    )
    # Saved by another runtime: the recorded encoding is not what this machine computes.
    shutil.copytree(tmp_path / "model", tmp_path / "other")
    meta["embedding"]["space"] = "0" * 32
    meta["embedding"]["encoding"] = "onnxruntime 9.9.9, export 0000: one text per pass"
    (tmp_path / "other" / "cube.json").write_text(json.dumps(meta))
    with pytest.raises(CubeError) as refused:
        cube.topics.load(tmp_path / "other")
    message = str(refused.value)
    assert "\n" not in message and "embedding_backend=" in message and "9.9.9" in message
    # Asked for explicitly, the model loads and embeds new documents with that backend.
    loaded = cube.topics.load(tmp_path / "other", embedding_backend="torch")
    assert loaded.embedding_model.plan.backend.name == "torch"
