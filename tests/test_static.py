"""Static embeddings (cube/embeddings/_static.py): a model2vec model distilled offline from the
bundled model, once, into the cache; its encoder gives a text the same bytes in any batch.

The fast tests use a small static model made here (the bundled tokenizer and a seeded table);
the ``model`` tests share one real distillation per session (about a minute on 2 cores).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from cube._errors import CubeError
from cube.embeddings import _static


def _small_model(folder: Path, bundled_model_path: Path, dim: int = 8) -> Path:
    """A static model with the bundled tokenizer's vocabulary and a seeded random table."""
    from safetensors.numpy import save_file
    from tokenizers import Tokenizer

    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(bundled_model_path / "tokenizer.json", folder / "tokenizer.json")
    size = Tokenizer.from_file(str(folder / "tokenizer.json")).get_vocab_size()
    table = np.random.default_rng(0).normal(size=(size, dim)).astype(np.float16)
    save_file({"embeddings": table}, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps({"normalize": True, "max_length": 512}))
    return folder


def _compositions(text: str, others: list[str]) -> list[tuple[list[str], int]]:
    """24 batches holding ``text``: alone, first, last, in the middle, among short and long
    texts, beside itself, at sizes 1 to 4,097 (the encoder's step is 4,096)."""
    rng = np.random.default_rng(3)
    batches = []
    for size in (1, 2, 3, 7, 16, 33, 64, 100, 255, 256, 1000, 4097):
        for where in ("first", "random"):
            picked = [others[i] for i in rng.integers(0, len(others), size - 1)]
            at = 0 if where == "first" else int(rng.integers(0, size))
            batches.append(([*picked[:at], text, *picked[at:]], at))
    return batches


def _same_bytes_in_every_batch(model: _static.StaticModel, texts: list[str]) -> None:
    text = max(texts[:50], key=len)
    alone = model.encode([text])[0].tobytes()
    batches = _compositions(text, texts)
    assert len(batches) == 24
    for batch, at in batches:
        assert model.encode(batch)[at].tobytes() == alone, (len(batch), at)
    many = [*(texts * (5000 // len(texts) + 1))[:5000], text]
    encoder = _static.StaticEncoder(many, model)
    steps = encoder.steps()
    assert [len(s) for s in steps] == [4096, 905]
    single = _static.StaticEncoder([text], model).encode(np.array([0]))[0].tobytes()
    assert encoder.encode(steps[-1])[-1].tobytes() == single


def test_small_model_vectors_do_not_depend_on_the_batch(tmp_path, bundled_model_path, passages):
    model = _static.StaticModel(_small_model(tmp_path / "static", bundled_model_path))
    _same_bytes_in_every_batch(model, passages)


def test_small_model_vector_is_the_mean_of_its_token_vectors(tmp_path, bundled_model_path):
    model = _static.StaticModel(_small_model(tmp_path / "static", bundled_model_path))
    ids = model.token_ids(["The tariff was reformed."])[0]
    assert len(ids) >= 4 and model.unk_id not in ids
    want = model.table[ids].astype(np.float64).mean(axis=0)
    want /= np.linalg.norm(want)
    got = model.encode(["The tariff was reformed."])[0]
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-6)


def test_a_text_with_no_known_token_gets_the_zero_vector(tmp_path, bundled_model_path):
    model = _static.StaticModel(_small_model(tmp_path / "static", bundled_model_path))
    vectors = model.encode(["", "   ", "Congress"])
    assert not vectors[:2].any()
    assert np.isclose(np.linalg.norm(vectors[2]), 1.0)


def test_encoder_applies_prompt_truncation_and_normalization(tmp_path, bundled_model_path):
    model = _static.StaticModel(_small_model(tmp_path / "static", bundled_model_path))
    encoder = _static.StaticEncoder(["war"], model, prompt="query: ", truncate_dim=4)
    vector = encoder.encode(np.array([0]))[0]
    full = model.encode(["query: war"])[0][:4]
    np.testing.assert_allclose(vector, full / np.linalg.norm(full), atol=1e-6)


def test_a_quantized_vocabulary_is_refused_in_one_line(tmp_path, bundled_model_path):
    from safetensors.numpy import save_file

    folder = _small_model(tmp_path / "static", bundled_model_path)
    save_file(
        {"embeddings": np.zeros((4, 8), np.float16), "mapping": np.zeros(3, np.int64)},
        str(folder / "model.safetensors"),
    )
    with pytest.raises(CubeError, match="one 'embeddings' table") as error:
        _static.StaticModel(folder)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize("missing", ["model2vec", "skeletoken"])
def test_missing_model2vec_is_refused_in_one_line(monkeypatch, bundled_model_path, missing):
    monkeypatch.setitem(sys.modules, missing, None)  # as if it were not installed
    with pytest.raises(CubeError) as error:
        _static.static_model(bundled_model_path, "0" * 64)
    message = str(error.value)
    assert f"need {missing}," in message
    assert "pip install model2vec skeletoken" in message
    assert "\n" not in message


# -- the real distillation, once per session ----------------------------------------------------
@pytest.fixture(scope="session")
def distilled(tmp_path_factory, bundled_model_path):
    """(cache folder, static model folder, digest): the bundled model distilled offline."""
    from cube.embeddings._models import resolve_model

    cache = tmp_path_factory.mktemp("static-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CUBE_CACHE_DIR", str(cache))
        patch.setenv("HF_HUB_OFFLINE", "1")
        resolved = resolve_model("all-MiniLM-L6-v2")
        assert resolved.source == "bundled package"
        folder, digest = _static.static_model(resolved.path, resolved.fingerprint)
    return cache, folder, digest, resolved


def _share(cube_cache: Path, distilled) -> None:
    """This test's cache sees the session's distilled model (as a laptop's runs share one)."""
    (cube_cache / "static").symlink_to(distilled[0] / "static", target_is_directory=True)


@pytest.mark.model
def test_distilled_once_offline_into_the_cache(cube_cache, distilled, monkeypatch):
    _, folder, digest, resolved = distilled
    assert folder.parent == distilled[0] / "static"
    names = sorted(p.name for p in folder.iterdir())
    assert {"model.safetensors", "tokenizer.json", "config.json", "manifest.json"} <= set(names)
    assert not [n for n in names if n.endswith((".pkl", ".pickle", ".bin", ".pt"))]
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["sha256"] == digest and manifest["recipe"] == _static.RECIPE
    assert manifest["source"] == str(resolved.path)

    _share(cube_cache, distilled)
    _static._verified.clear()

    def no_second_distillation(*args):
        raise AssertionError("distilled again")

    monkeypatch.setattr(_static, "_distill", no_second_distillation)
    assert _static.is_cached(resolved.fingerprint)
    again, again_digest = _static.static_model(resolved.path, resolved.fingerprint)
    assert again_digest == digest
    assert again.resolve() == folder.resolve()


@pytest.mark.model
def test_a_damaged_model_is_not_trusted(distilled, tmp_path):
    _, folder, digest, _ = distilled
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    assert _static._read_verified(copy) == digest
    table = bytearray((copy / "model.safetensors").read_bytes())
    table[-1] ^= 0xFF
    (copy / "model.safetensors").write_bytes(bytes(table))
    assert _static._read_verified(copy) is None
    shutil.copytree(folder, copy, dirs_exist_ok=True)
    (copy / "manifest.json").unlink()  # a distillation cut off before its manifest
    assert _static._read_verified(copy) is None


@pytest.mark.model
def test_real_static_vectors_are_model2vecs_and_batch_independent(distilled, passages):
    from model2vec import StaticModel as Model2Vec

    _, folder, digest, _ = distilled
    ours = _static.load(folder, digest)
    theirs = Model2Vec.from_pretrained(folder, force_download=False)
    mine = ours.encode(passages)
    reference = theirs.encode(passages, use_multiprocessing=False).astype(np.float32)
    assert mine.shape == (len(passages), _static.PCA_DIMS)
    assert float((mine * reference).sum(axis=1).min()) > 0.999  # theirs sums in float16
    _same_bytes_in_every_batch(ours, passages)


@pytest.mark.model
def test_static_space_never_shares_the_transformers_cache(cube_cache, distilled, passages):
    from cube.embeddings._space import EmbeddingSpace

    _share(cube_cache, distilled)
    _, _, digest, resolved = distilled
    encoding = _static.space_encoding(resolved)
    assert encoding.startswith(f"model2vec {_static.installed()}, static {digest[:16]}")
    fields = dict(
        model="all-MiniLM-L6-v2",
        fingerprint=resolved.fingerprint,
        normalize=True,
        max_seq_length=None,
        prompt=None,
        precision="float32",
        truncate_dim=None,
    )
    static = EmbeddingSpace(**fields, encoding=encoding)
    transformer = EmbeddingSpace(**fields, encoding="batch-independent: 16 rows x 16 tokens")
    assert static.key != transformer.key
    vectors = _static.embed_static(passages[:10], resolved)
    assert vectors.shape == (10, 256) and vectors.dtype == np.float32


_TWO_PROCESSES = """
import os, shutil, sys, time
from pathlib import Path
from cube.embeddings import _static

def distill(model_path, folder):  # a stand-in for model2vec: counts calls, copies a small model
    with open(os.environ["COUNT"], "a") as f:
        f.write("distilled\\n")
    time.sleep(1.0)
    staging = folder.parent / f".{folder.name}.{os.getpid()}"
    shutil.copytree(os.environ["SOURCE"], staging)
    digest = _static._files_digest(staging)
    (staging / "manifest.json").write_text('{"sha256": "%s"}' % digest)
    os.replace(staging, folder)
    return digest

_static._distill = distill
print(_static.static_model(Path(sys.argv[1]), "f" * 64)[1])
"""


@pytest.mark.slow  # two fresh processes
def test_two_processes_distill_once(cube_cache, tmp_path, bundled_model_path):
    import os
    import subprocess

    source = _small_model(tmp_path / "source", bundled_model_path)
    count = tmp_path / "count"
    env = {**os.environ, "COUNT": str(count), "SOURCE": str(source)}
    command = [sys.executable, "-c", _TWO_PROCESSES, str(bundled_model_path)]
    processes = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    digests = {p.communicate(timeout=300)[0].strip() for p in processes}
    assert [p.returncode for p in processes] == [0, 0]
    assert count.read_text().splitlines() == ["distilled"]
    assert digests == {_static._files_digest(source)}
    assert _static._read_verified(_static.static_folder("f" * 64)) in digests
