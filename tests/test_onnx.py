"""The ONNX Runtime backend: the int8 export of the real model, its vectors, its cache."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

import cube
from cube import CubeError
from cube._config import DEFAULT_MODEL
from cube.embeddings import (
    BackendChoice,
    _int8,
    _onnx,
    cache_spaces,
    choose_backend,
    embed_with_stats,
    resolve_model,
)
from cube.reductions import exact_knn

pytestmark = [
    pytest.mark.model,  # the real model and its int8 export
    pytest.mark.skipif(_onnx.installed() is None, reason="onnxruntime is not installed"),
    pytest.mark.skipif(
        _onnx.installed() is not None and _onnx.int8_unsafe_reason() is not None,
        reason=f"int8 is not used on this CPU: {_onnx.int8_unsafe_reason()}",
    ),
]

EDGE_TEXTS = [
    "",
    "   ",
    "Café, naïve façade — “quoted” ÅNGSTRÖM résumé",
    "word " * 600,  # longer than the model's 256 tokens: truncated
    "Tabs\tand\nnew lines",
    "漢字とカタカナ",
]


def own_export_cache(cube_cache: Path) -> None:
    """This test makes its own export instead of the session's shared one."""
    (cube_cache / "onnx").unlink()
    _onnx._verified.clear()


def test_tokens_are_those_sentence_transformers_feeds_the_model(passages, reference_model):
    model = resolve_model(DEFAULT_MODEL)
    layout = _onnx.layout(model.path)
    assert isinstance(layout, _onnx.OnnxLayout)
    tokenizer = _onnx.Tokenizer(model.path, layout)
    for text in [*passages, *EDGE_TEXTS]:
        expected = reference_model.tokenize([text])
        ours = tokenizer.one(text)
        for name in ("input_ids", "attention_mask", "token_type_ids"):
            assert ours[name].tolist() == expected[name].tolist(), (name, text[:60])


def test_onnx_vectors_agree_with_pytorch(passages, reference_model):
    vectors, stats = embed_with_stats(passages, backend="onnx")
    assert stats.backend == "onnx"
    assert vectors.dtype == np.float32 and vectors.shape == (len(passages), 384)
    expected = reference_model.encode(passages, convert_to_numpy=True)
    cosine = np.sum(vectors * expected, axis=1) / np.linalg.norm(vectors, axis=1)
    near_onnx, _ = exact_knn(vectors, 11)
    near_torch, _ = exact_knn(expected, 11)
    overlap = np.mean(
        [len(set(a[1:]) & set(b[1:])) / 10 for a, b in zip(near_onnx, near_torch, strict=True)]
    )
    # Measured on these 300 passages: mean cosine 0.9988, min 0.998, 10-NN overlap 0.96.
    assert cosine.mean() > 0.997 and cosine.min() > 0.99, (cosine.mean(), cosine.min())
    assert overlap > 0.92, overlap
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_a_vector_depends_on_its_text_alone(passages):
    text = passages[5]
    with cube.config_context(cache=False):
        alone = cube.embed([text], backend="onnx")
        among = cube.embed([*passages[:40], text, *passages[60:90]], backend="onnx")
        reversed_ = cube.embed([text, *passages[:40][::-1]], backend="onnx")
    np.testing.assert_array_equal(alone[0], among[40])
    np.testing.assert_array_equal(alone[0], reversed_[0])


def test_backends_never_share_cache_entries(passages):
    texts = passages[:30]
    _, torch_stats = embed_with_stats(texts, backend="torch")
    onnx_vectors, onnx_stats = embed_with_stats(texts, backend="onnx")
    assert (torch_stats.encoded, onnx_stats.encoded) == (30, 30)
    again, stats = embed_with_stats(texts, backend="onnx")
    assert (stats.cached, stats.encoded) == (30, 0)
    np.testing.assert_array_equal(again, onnx_vectors)
    precisions = sorted(space["precision"] for space in cache_spaces())
    assert precisions == ["float32", "int8"]


def test_prompt_truncate_dim_and_normalize_as_sentence_transformers(passages, reference_model):
    texts = passages[:20]
    vectors = cube.embed(texts, backend="onnx", prompt="query: ", truncate_dim=64, normalize=True)
    expected = reference_model.encode(
        texts, prompt="query: ", truncate_dim=64, normalize_embeddings=True
    )
    assert vectors.shape == (20, 64)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.sum(vectors * expected, axis=1).min() > 0.98


def test_auto_picks_onnx_on_a_cpu_and_torch_where_onnx_cannot_run(tmp_path, monkeypatch):
    model = resolve_model(DEFAULT_MODEL)
    safe = _onnx.int8_unsafe_reason() is None
    assert choose_backend("auto", model, device="cpu").name == ("onnx" if safe else "torch")
    monkeypatch.setattr(_onnx, "int8_unsafe_reason", lambda: None)
    assert choose_backend("auto", model, device="cpu").name == "onnx"
    assert choose_backend("auto", DEFAULT_MODEL, device="cpu").name == "onnx"  # a name will do
    assert choose_backend("torch", model) == BackendChoice("torch", "asked for")
    assert choose_backend("auto", model, precision="float16").name == "torch"
    assert choose_backend("auto", model, device="cuda").name == "torch"
    with pytest.raises(CubeError, match="precision 'float16' is a PyTorch setting"):
        choose_backend("onnx", model, precision="float16")
    with pytest.raises(CubeError, match="unknown embedding backend 'tpu'"):
        choose_backend("tpu", model)
    with cube.config_context(embedding_backend="torch"):
        assert choose_backend(None, model).name == "torch"

    # The same weights with max pooling: a layout the export does not cover.
    copy = tmp_path / "max-pooling-model"
    shutil.copytree(model.path, copy, ignore=shutil.ignore_patterns("*.safetensors"))
    for weights in model.path.glob("*.safetensors"):
        (copy / weights.name).symlink_to(weights)
    pooling = copy / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config.update(pooling_mode_mean_tokens=False, pooling_mode_max_tokens=True)
    pooling.write_text(json.dumps(config))
    other = resolve_model(copy)
    choice = choose_backend("auto", other, device="cpu")
    assert choice.name == "torch" and "pooling_mode_max_tokens" in choice.reason
    with pytest.raises(CubeError, match=r"backend .onnx. cannot be used: .*max_tokens"):
        choose_backend("onnx", other)


def test_a_resolved_model_and_a_choice_are_used_as_given(passages, monkeypatch):
    from cube.embeddings import _models

    model = resolve_model(DEFAULT_MODEL)
    choice = choose_backend("onnx", model)
    expected, _ = embed_with_stats(passages[:5], backend="onnx", cache=False)
    reads = []
    read_layout = _onnx.layout
    monkeypatch.setattr(_onnx, "layout", lambda path: reads.append(path) or read_layout(path))
    embed_with_stats(passages[:5], backend="onnx", cache=False)
    assert len(reads) == 1  # choosing the backend read it; the encoder was handed it

    def refuse(*args, **kwargs):
        raise AssertionError("the model was resolved again")

    monkeypatch.setattr(_models, "resolve_model", refuse)
    reads.clear()
    again, stats = embed_with_stats(passages[:5], model, backend=choice, cache=False)
    assert stats.backend == "onnx" and len(reads) == 1  # for the encoder, nothing else
    np.testing.assert_array_equal(again, expected)
    torch_choice = choose_backend("torch", model)
    assert cube.embeddings.embedding_space(model, backend=torch_choice).backend == "torch"
    with pytest.raises(CubeError, match="precision 'float16' is a PyTorch setting"):
        embed_with_stats(passages[:1], model, backend=choice, precision="float16")
    with pytest.raises(CubeError, match="named 'onnx' or 'torch'"):
        BackendChoice("tpu", "fast")


def test_auto_keeps_int8_off_cpus_where_its_products_can_overflow(monkeypatch):
    model = resolve_model(DEFAULT_MODEL)
    why = (
        "this CPU has no VNNI instructions, without which onnxruntime's int8 products can overflow"
    )
    monkeypatch.setattr(_onnx, "int8_unsafe_reason", lambda: why)
    assert choose_backend("auto", model, device="cpu") == BackendChoice("torch", why)
    with pytest.raises(CubeError, match="cannot be used: this CPU has no VNNI instructions"):
        choose_backend("onnx", model, device="cpu")


def test_this_cpu_is_judged_by_its_features():
    import platform

    flags = ""
    with contextlib.suppress(OSError):
        flags = Path("/proc/cpuinfo").read_text()
    vnni = any(f in flags.split() for f in ("avx_vnni", "avx512_vnni", "amx_int8"))
    x86 = platform.machine().lower() in {"x86_64", "amd64"}
    if flags and x86:
        assert (_onnx.int8_unsafe_reason() is None) == vnni
    elif not x86:
        assert _onnx.int8_unsafe_reason() is None


def test_export_is_checksummed_and_a_damaged_one_is_rebuilt(cube_cache):
    own_export_cache(cube_cache)
    model = resolve_model(DEFAULT_MODEL)
    path, digest = _onnx.exported_model(model.path, model.fingerprint)
    manifest = json.loads((path.parent / "manifest.json").read_text())
    assert manifest["sha256"] == digest
    assert path.parent == cube_cache / "onnx" / _onnx.export_key(model.fingerprint)
    assert [p.name for p in (cube_cache / "onnx").iterdir() if p.is_dir()] == [path.parent.name]
    with open(path, "r+b") as f:  # a bit flipped on disk
        f.seek(1000)
        byte = f.read(1)
        f.seek(1000)
        f.write(bytes([byte[0] ^ 1]))
    _onnx._verified.clear()  # a new process
    again, again_digest = _onnx.exported_model(model.path, model.fingerprint)
    assert again == path and again_digest == digest  # rebuilt, byte for byte the same export


def test_every_projection_of_the_export_runs_in_int8():
    onnx = pytest.importorskip("onnx")
    model = resolve_model(DEFAULT_MODEL)
    path, _ = _onnx.exported_model(model.path, model.fingerprint)
    graph = onnx.load(str(path)).graph
    ops = Counter(node.op_type for node in graph.node)
    assert ops["MatMulInteger"] == 6 * 6  # layers x (query, key, value, output, up, down)
    shapes = {init.name: tuple(init.dims) for init in graph.initializer}
    float_products = [n for n in graph.node if n.op_type == "MatMul" and n.input[1] in shapes]
    # The only float32 products left: each down-projection's loudest input channels.
    assert [shapes[n.input[1]] for n in float_products] == [(_int8.FLOAT_CHANNELS, 384)] * 6


EXPORT_WORKER = """
import sys
from cube.embeddings import _onnx, resolve_model
model = resolve_model("all-MiniLM-L6-v2")
print(_onnx.exported_model(model.path, model.fingerprint)[1])
"""


BACKGROUND_WORKER = """
import sys
from cube.embeddings import _onnx, resolve_model
model = resolve_model("all-MiniLM-L6-v2")
started = _onnx.export_in_background(model.path, model.fingerprint)
again = _onnx.export_in_background(model.path, model.fingerprint)  # one is running
path, digest = _onnx.exported_model(model.path, model.fingerprint)  # waits for it
print(started, again, _onnx._background[1].wait(timeout=120), "torch" in sys.modules, digest)
"""


@pytest.mark.slow
def test_a_background_export_is_waited_for_and_not_repeated(cube_cache):
    own_export_cache(cube_cache)
    env = {**os.environ, "CUBE_CACHE_DIR": str(cube_cache)}
    done = subprocess.run(
        [sys.executable, "-c", BACKGROUND_WORKER], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    started, again, exit_code, imported_torch, digest = done.stdout.split()
    # The other process made the export: this one never imported PyTorch.
    assert (started, again, exit_code, imported_torch) == ("True", "False", "0", "False")
    model = resolve_model(DEFAULT_MODEL)
    assert _onnx.exported_model(model.path, model.fingerprint)[1] == digest
    assert not _onnx.export_in_background(model.path, model.fingerprint)  # cached now


@pytest.mark.slow
def test_two_processes_exporting_at_once_share_one_export(cube_cache):
    own_export_cache(cube_cache)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", EXPORT_WORKER],
            env=os.environ.copy(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [proc.communicate(timeout=300) for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], [err[-2000:] for _, err in results]
    digests = {out.strip() for out, _ in results}
    assert len(digests) == 1
    folders = [p for p in (cube_cache / "onnx").iterdir() if p.is_dir()]
    assert len(folders) == 1 and (folders[0] / "model.onnx").is_file()  # no staging left


def test_with_the_cache_off_the_export_leaves_nothing_in_it(cube_cache, passages):
    own_export_cache(cube_cache)
    with cube.config_context(cache=False):
        vectors = cube.embed(passages[:3], backend="onnx")
    assert vectors.shape == (3, 384)
    assert not (cube_cache / "onnx").exists() and not (cube_cache / "embeddings").exists()


def test_an_imported_cache_gives_every_laptop_the_rooms_vectors(
    passages, reference_model, tmp_path, cube_settings
):
    """A laptop whose backend is PyTorch (no VNNI, or forced) that imported the instructor's
    int8 cache gets the instructor's vectors for the course's texts, and PyTorch's for new ones."""
    from cube._archive import export_cache, import_cache

    texts = passages[:60]
    instructor, _ = embed_with_stats(texts)  # auto: int8 ONNX on this CPU
    assert cache_spaces()[0]["precision"] == "int8"
    export_cache(tmp_path / "room.tar")

    cube_settings(cache_dir=tmp_path / "learner", embedding_backend="torch")
    own, _ = embed_with_stats(texts[:5], cache=False)
    assert not np.array_equal(own, instructor[:5])  # on its own the laptop differs...

    import_cache(tmp_path / "room.tar")
    vectors, stats = embed_with_stats([*texts, "A text no one in the room embedded."])
    assert np.array_equal(vectors[:-1], instructor)  # ...with the room's cache it does not
    assert (stats.cached, stats.encoded, stats.backend) == (len(texts), 1, "torch")
    expected = reference_model.encode(["A text no one in the room embedded."])
    np.testing.assert_allclose(vectors[-1], expected[0], atol=1e-5)
