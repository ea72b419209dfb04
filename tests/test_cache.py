"""The cache subsystem without any model: the vector store, keys, atomic writes, settings."""

from __future__ import annotations

import random
import threading

import numpy as np
import pytest

import cube
from cube import _cache
from cube._store import VectorStore, load_matrix, save_matrix, text_keys


def test_store_round_trip_on_synthetic_rows(tmp_path):
    store = VectorStore(tmp_path / "space")
    keys = text_keys([f"text {i}" for i in range(100)])
    vectors = np.random.default_rng(0).normal(size=(100, 16)).astype(np.float32)
    store.add(keys[:60], vectors[:60])
    store.add(keys[40:], vectors[40:])  # overlapping chunk: both copies are the same rows
    found, got = VectorStore(tmp_path / "space").get(keys[::-1])
    assert found.all()
    np.testing.assert_array_equal(got, vectors[::-1])
    missing, none = store.get(text_keys(["never stored"]))
    assert not missing.any() and len(none) == 0
    assert store.stats()[0] == 120  # rows, counting the overlap twice until compaction
    assert store.compact(force=True)
    assert store.stats()[0] == 100
    found, got = store.get(keys)
    np.testing.assert_array_equal(got, vectors)


def test_a_damaged_chunk_is_dropped_with_a_warning(tmp_path):
    store = VectorStore(tmp_path / "space")
    keys = text_keys(["a", "b"])
    store.add(keys, np.ones((2, 4), np.float32))
    (chunk,) = (tmp_path / "space").glob("*.vec")
    data = bytearray(chunk.read_bytes())
    data[-1] ^= 0xFF
    chunk.write_bytes(bytes(data))
    with pytest.warns(cube.CacheWarning, match="checksum"):
        found, _ = VectorStore(tmp_path / "space").get(keys)
    assert not found.any() and not chunk.exists()


def test_matrix_files_round_trip(tmp_path):
    matrix = np.arange(12, dtype=np.float32).reshape(4, 3)
    save_matrix(tmp_path / "m.vec", matrix)
    np.testing.assert_array_equal(load_matrix(tmp_path / "m.vec"), matrix)
    assert load_matrix(tmp_path / "absent.vec") is None


def test_fingerprint_is_stable_and_sensitive():
    a = np.arange(6, dtype=np.float32)
    key = _cache.fingerprint({"seed": 0, "n": 5}, a)
    assert key == _cache.fingerprint({"n": 5, "seed": 0}, a.copy())  # key order is irrelevant
    assert key != _cache.fingerprint({"seed": 1, "n": 5}, a)
    assert key != _cache.fingerprint({"seed": 0, "n": 5}, a + 1)
    assert len(_cache.fingerprint("x", length=12)) == 12


def test_atomic_write_leaves_the_old_file_on_failure(tmp_path):
    target = tmp_path / "out.json"
    _cache.atomic_write(target, "old")

    def broken(path):
        path.write_text("half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        _cache.atomic_write(target, broken)
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]  # no temporary file left


def test_settings_from_environment_code_and_blocks(monkeypatch, tmp_path):
    monkeypatch.setenv("CUBE_QUICK", "1")
    assert cube.get_config().quick
    with cube.config_context(quick=False, cache_dir=tmp_path):
        assert not cube.get_config().quick
        assert _cache.root() == tmp_path
    assert cube.get_config().quick
    try:
        cube.set_config(device="cpu")
        assert cube.get_config().device == "cpu"
    finally:
        cube._config.reset_config()
    with pytest.raises(cube.CubeError, match="unknown setting 'colour'"):
        cube.set_config(colour="blue")


def test_config_context_is_per_thread():
    seen = {}
    with cube.config_context(device="mps"):
        thread = threading.Thread(target=lambda: seen.update(device=cube.get_config().device))
        thread.start()
        thread.join()
        assert cube.get_config().device == "mps"
    assert seen["device"] != "mps"


def test_cache_switch_turns_the_store_off(fake_encoder, cube_cache, cube_settings):
    model_dir, encoder = fake_encoder
    cube_settings(cache=False)
    cube.embed(["one", "two"], model_dir, encoder=encoder)
    cube.embed(["one", "two"], model_dir, encoder=encoder)
    assert sorted(encoder.encoded) == ["one", "one", "two", "two"]
    assert not list(cube_cache.glob("embeddings/*/*.vec"))


def test_cache_logic_with_a_fake_encoder(fake_encoder):
    model_dir, encoder = fake_encoder
    texts = [f"passage {i}" for i in range(50)]
    first, stats = cube.embeddings.embed_with_stats(texts, model_dir, encoder=encoder)
    assert (stats.encoded, stats.cached) == (50, 0)
    np.testing.assert_array_equal(first, encoder.encode(texts))  # the encoder's own vectors
    order = list(range(50))
    random.Random(1).shuffle(order)
    shuffled, stats = cube.embeddings.embed_with_stats(
        [texts[i] for i in order] + ["new one", "new one"], model_dir, encoder=encoder
    )
    assert (stats.encoded, stats.cached, stats.duplicates) == (1, 50, 1)
    np.testing.assert_array_equal(shuffled[:50], first[order])
    assert encoder.encoded.count("new one") == 1


def test_an_encoders_vectors_have_a_space_of_their_own(fake_encoder, cube_cache):
    from cube.embeddings import cache_spaces, embedding_space

    model_dir, encoder = fake_encoder
    space = embedding_space(model_dir, encoder=encoder)
    assert space.encoding == f"custom encoder {type(encoder).__module__}.FakeEncoder"
    assert space.key != embedding_space(model_dir, backend="torch").key  # never the model's
    assert space.fingerprint == cube.embeddings.resolve_model(model_dir).fingerprint
    cube.embed(["one"], model_dir, encoder=encoder)
    assert [s["key"] for s in cache_spaces()] == [space.key]

    class FakeEncoder:  # the same vectors from another class: another space
        encode = encoder.encode

    assert embedding_space(model_dir, encoder=FakeEncoder()).key != space.key
    with pytest.raises(cube.CubeError, match="leave backend unset"):
        cube.embed(["one"], model_dir, encoder=encoder, backend="onnx")
    with pytest.raises(cube.CubeError, match="must have an encode"):
        cube.embed(["one"], model_dir, encoder=object())


def test_an_encoder_gets_the_prompt_and_its_vectors_are_cut_and_scaled(fake_encoder):
    model_dir, encoder = fake_encoder
    vectors = cube.embed(
        ["one", "two"], model_dir, encoder=encoder, prompt="query: ", truncate_dim=4, normalize=True
    )
    assert sorted(encoder.encoded) == ["query: one", "query: two"]
    expected = encoder.encode(["query: one", "query: two"])[:, :4]
    np.testing.assert_allclose(vectors, expected / np.linalg.norm(expected, axis=1, keepdims=True))
    assert cube.embed([], model_dir, encoder=encoder, truncate_dim=4).shape == (0, 4)


def test_merging_moves_rows_into_shards_and_rewrites_only_what_it_must(tmp_path):
    from cube import _store

    store = VectorStore(tmp_path / "space")
    keys = text_keys([f"text {i}" for i in range(2000)])
    vectors = np.random.default_rng(1).normal(size=(2000, 8)).astype(np.float32)
    for start in range(0, 1200, 100):
        store.add(keys[start : start + 150], vectors[start : start + 150])  # overlapping adds
    assert store.compact(force=True)
    assert not list((tmp_path / "space").glob("*.vec"))  # every new chunk moved
    shards = sorted(p.parent.name for p in (tmp_path / "space").glob("shard-*/*.vec"))
    assert shards == [f"shard-{i:x}" for i in range(16)]  # one file per shard
    for path in (tmp_path / "space").glob("shard-*/*.vec"):
        chunk = _store._read_chunk(path)
        assert {int(k[0]) >> 4 for k in chunk.keys} == {int(path.parent.name[-1], 16)}
    assert store.stats()[0] == 1250  # each row once
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "space").glob("shard-*/*.vec")}
    store.add(keys[1150:1350], vectors[1150:1350])  # 100 rows new, 100 held already
    assert store.compact(force=False) is False  # one new chunk: nothing to do yet
    assert store.compact(move_at=1)
    after = list((tmp_path / "space").glob("shard-*/*.vec"))
    assert all(p.stat().st_mtime_ns == t for p, t in before.items())  # shards not rewritten
    assert 16 < len(after) <= 32  # at most one new file per shard
    assert store.stats()[0] == 1350  # the 100 held rows were not stored twice
    found, got = VectorStore(tmp_path / "space").get(keys[:1350])
    assert found.all()
    np.testing.assert_array_equal(got, vectors[:1350])
    assert store.compact(merge_at=2)  # shards with two files are merged, each on its own
    assert len(list((tmp_path / "space").glob("shard-*/*.vec"))) == 16
    np.testing.assert_array_equal(store.get(keys[:1350])[1], vectors[:1350])
