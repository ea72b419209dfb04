"""cube.embed against the real all-MiniLM-L6-v2 model, and its on-disk cache."""

from __future__ import annotations

import pickle
import random
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

import cube
from cube import CacheWarning, InputError, ModelNotFoundError
from cube.embeddings import (
    CachedVectors,
    embed_with_stats,
    embedding_space,
    pick_device,
    resolve_model,
)

pytestmark = pytest.mark.model  # the real model, PyTorch path


@pytest.fixture(autouse=True)
def _exact_path(torch_backend):
    """These tests hold the PyTorch path to sentence-transformers' vectors (test_onnx.py: ONNX)."""


def chunk_files(cache: Path) -> list[Path]:
    return sorted(cache.glob("embeddings/*/*.vec"))


def test_vectors_match_sentence_transformers(passages, reference_model):
    texts = passages[:40]
    vectors = cube.embed(texts)
    expected = reference_model.encode(texts, convert_to_numpy=True)
    assert vectors.dtype == np.float32
    assert vectors.shape == (40, 384)
    np.testing.assert_allclose(vectors, expected, atol=2e-5)


def test_normalize_gives_unit_vectors(passages, reference_model):
    vectors = cube.embed(passages[:10], normalize=True)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    expected = reference_model.encode(passages[:10], normalize_embeddings=True)
    np.testing.assert_allclose(vectors, expected, atol=2e-5)


def test_second_call_shuffle_and_duplicates_are_cache_hits(passages):
    texts = passages[:60]
    first, stats = embed_with_stats(texts)
    assert (stats.encoded, stats.cached) == (60, 0)

    again, stats = embed_with_stats(texts)
    assert (stats.encoded, stats.cached) == (0, 60)
    np.testing.assert_array_equal(again, first)

    order = list(range(60))
    random.Random(3).shuffle(order)
    shuffled, stats = embed_with_stats([texts[i] for i in order])
    assert stats.encoded == 0
    np.testing.assert_array_equal(shuffled, first[order])

    doubled, stats = embed_with_stats(texts[:5] * 3)
    assert (stats.texts, stats.duplicates, stats.encoded) == (15, 10, 0)
    np.testing.assert_array_equal(doubled, np.concatenate([first[:5]] * 3))


def test_duplicates_in_a_cold_call_are_encoded_once(passages):
    vectors, stats = embed_with_stats([passages[0], passages[1], passages[0]])
    assert (stats.duplicates, stats.encoded) == (1, 2)
    np.testing.assert_array_equal(vectors[0], vectors[2])


def test_only_new_texts_are_encoded(passages, reference_model):
    embed_with_stats(passages[:95])
    vectors, stats = embed_with_stats(passages[:100])
    assert (stats.cached, stats.encoded) == (95, 5)
    expected = reference_model.encode(passages[95:100])
    np.testing.assert_allclose(vectors[95:], expected, atol=2e-5)


@pytest.mark.parametrize(
    "change",
    [
        {"normalize": True},
        {"max_seq_length": 32},
        {"prompt": "query: "},
        {"truncate_dim": 64},
    ],
)
def test_each_setting_that_changes_vectors_misses(passages, change):
    texts = passages[:6]
    base, _ = embed_with_stats(texts)
    changed, stats = embed_with_stats(texts, **change)
    assert stats.encoded == 6
    assert changed.shape[0] == 6
    if "truncate_dim" in change:
        assert changed.shape[1] == 64
    elif "normalize" not in change:  # all-MiniLM-L6-v2 already ends in a Normalize layer
        assert not np.allclose(changed, base)
    _, stats = embed_with_stats(texts, **change)
    assert stats.encoded == 0


def test_settings_that_do_not_change_vectors_hit(passages):
    embed_with_stats(passages[:8])
    _, stats = embed_with_stats(passages[:8], batch_size=3, device="cpu", show_progress=False)
    assert stats.encoded == 0


def test_space_key_covers_precision_and_model_weights(tmp_path, bundled_model_path):
    base = embedding_space()
    assert embedding_space(precision="float16").key != base.key
    # The same files elsewhere are the same model: content-addressed, so a hit.
    copy = tmp_path / "copy"
    shutil.copytree(bundled_model_path, copy)
    assert embedding_space(copy).key == base.key
    # Different pooling is a different model.
    pooling = copy / "1_Pooling" / "config.json"
    pooling.write_text(
        pooling.read_text().replace(
            '"pooling_mode_cls_token": false', '"pooling_mode_cls_token": true'
        )
    )
    assert embedding_space(copy).key != base.key


def test_corrupted_cache_file_is_reported_and_recomputed(passages, cube_cache, reference_model):
    texts = passages[:20]
    embed_with_stats(texts)
    for chunk in chunk_files(cube_cache):  # one, or more if a slow machine flushed midway
        data = bytearray(chunk.read_bytes())
        data[-100] ^= 0xFF  # flip bits inside a vector
        chunk.write_bytes(bytes(data))
    with pytest.warns(CacheWarning, match="checksum"):
        vectors, stats = embed_with_stats(texts)
    assert stats.encoded == 20
    np.testing.assert_allclose(vectors, reference_model.encode(texts), atol=2e-5)


def test_truncated_cache_file_is_reported_and_recomputed(passages, cube_cache, reference_model):
    texts = passages[:20]
    embed_with_stats(texts)
    for chunk in chunk_files(cube_cache):  # one, or more if a slow machine flushed midway
        with open(chunk, "r+b") as f:
            f.truncate(chunk.stat().st_size // 2)
    with pytest.warns(CacheWarning, match="truncated"):
        vectors, stats = embed_with_stats(texts)
    assert stats.encoded == 20
    np.testing.assert_allclose(vectors, reference_model.encode(texts), atol=2e-5)
    with warnings.catch_warnings():
        warnings.simplefilter("error", CacheWarning)
        _, stats = embed_with_stats(texts)  # the recomputed rows were stored again
    assert stats.encoded == 0


def test_many_chunks_are_compacted(passages, cube_cache):
    with cube.config_context(flush_seconds=0.0):  # a chunk per group of 4 batches
        first, _ = embed_with_stats(passages[:200], batch_size=2)
    assert 1 <= len(chunk_files(cube_cache)) < 24
    again, stats = embed_with_stats(passages[:200])
    assert stats.encoded == 0
    np.testing.assert_array_equal(again, first)


def test_no_cache_option_writes_nothing(passages, cube_cache):
    cube.embed(passages[:3], cache=False)
    assert chunk_files(cube_cache) == []


def test_bad_texts_are_user_errors():
    with pytest.raises(InputError, match="single string"):
        cube.embed("one text")
    with pytest.raises(InputError, match=r"2 of 3 texts are not strings \(positions 1, 2\)"):
        cube.embed(["ok", 3, None])


def test_empty_input_gives_an_empty_matrix():
    assert cube.embed([]).shape == (0, 384)


# -- model resolution ----------------------------------------------------------------------
def test_default_model_resolves_to_the_bundled_package():
    assert resolve_model("all-MiniLM-L6-v2").source == "bundled package"
    assert resolve_model("sentence-transformers/all-MiniLM-L6-v2").source == "bundled package"


def test_local_directory_wins(tmp_path, bundled_model_path, passages, reference_model):
    copy = tmp_path / "my-model"
    shutil.copytree(bundled_model_path, copy)
    assert resolve_model(copy).source == "local directory"
    vectors = cube.embed(passages[:3], model=str(copy))
    np.testing.assert_allclose(vectors, reference_model.encode(passages[:3]), atol=2e-5)


def test_hugging_face_cache_comes_before_the_bundled_copy(
    bundled_model_path, monkeypatch, tmp_path
):
    hub = tmp_path / "hf" / "hub"
    repo = hub / "models--sentence-transformers--all-MiniLM-L6-v2"
    revision = "0123456789abcdef0123456789abcdef01234567"
    shutil.copytree(bundled_model_path, repo / "snapshots" / revision)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(revision)
    import huggingface_hub.constants as hf_constants

    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(hub))
    found = resolve_model("all-MiniLM-L6-v2")
    assert found.source == "Hugging Face cache"
    assert found.path == repo / "snapshots" / revision


def test_missing_paths_and_models_have_clear_errors(tmp_path):
    with pytest.raises(ModelNotFoundError, match="no model folder"):
        resolve_model(str(tmp_path / "nope"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match="not a sentence-transformers model"):
        resolve_model(tmp_path / "empty")
    with pytest.raises(ModelNotFoundError, match=r"HF_HUB_OFFLINE is set.*local model folder"):
        resolve_model("someone/model-that-is-not-here")


def test_unreachable_hub_fails_fast(monkeypatch):
    import time

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # nothing listens on port 9
    started = time.monotonic()
    with pytest.raises(ModelNotFoundError, match="cannot be reached"):
        resolve_model("someone/model-that-is-not-here")
    assert time.monotonic() - started < 10


def test_device_choice(monkeypatch):
    assert pick_device("cpu") == "cpu"
    monkeypatch.setenv("CUBE_DEVICE", "cpu")
    assert pick_device() == "cpu"
    monkeypatch.delenv("CUBE_DEVICE")
    import torch

    expected = "cuda" if torch.cuda.is_available() else "cpu"
    if not torch.cuda.is_available() and torch.backends.mps.is_available():
        expected = "mps"
    assert pick_device() == expected


def test_one_calls_truncation_never_leaks_into_the_next(tmp_path, bundled_model_path, passages):
    """The loaded model is shared between calls: max_seq_length must not stick to it.

    With no length in the model's own settings, a space says ``max_seq_length=None``; before
    the fix, a call after ``max_seq_length=8`` kept encoding 8 word pieces and cached the
    truncated vectors under the untruncated key.
    """
    import json

    model = tmp_path / "no-length"
    shutil.copytree(bundled_model_path, model)
    settings = model / "sentence_bert_config.json"
    config = json.loads(settings.read_text())
    config.pop("max_seq_length", None)
    settings.write_text(json.dumps(config))
    text = [max(passages, key=len)]
    full = cube.embed(text, model, cache=False)
    truncated = cube.embed(text, model, max_seq_length=8, cache=False)
    assert not np.allclose(full, truncated, atol=1e-3)
    after, stats = embed_with_stats(text, model)  # cached under max_seq_length=None
    assert embedding_space(model).max_seq_length is None and stats.encoded == 1
    np.testing.assert_allclose(after, full, atol=1e-5)


def _near_word_pieces(text: str, tokenizer, pieces: int) -> str:
    """The longest prefix of ``text`` (whole words) with at most ``pieces`` word pieces."""
    words = text.split()
    while len(tokenizer(" ".join(words), verbose=False)["input_ids"]) > pieces:
        words = words[:-1]
    return " ".join(words)


def test_a_texts_vector_does_not_depend_on_its_batch(passages, reference_model, record_property):
    """Same text, same bytes: whatever else is encoded with it, in any order or batch size.

    Otherwise a run that follows a smaller run reads vectors that differ in their last bits
    from an empty-cache run's, and the same seed finds different topics (issue #16).
    """
    tokenizer = reference_model.tokenizer
    longest = " ".join(sorted(passages, key=len)[-3:])
    targets = [
        "Taxes.",
        "We the people",
        "Peace",
        passages[0],
        passages[1],
        passages[2][:200],
        _near_word_pieces(longest, tokenizer, 254),  # just under the 256 word-piece limit
        _near_word_pieces(longest, tokenizer, 256),
        longest,  # truncated at 256 word pieces
    ]
    alone = cube.embed(targets, cache=False)
    others = passages[10:60]  # 50 texts of all lengths
    mixed_texts = others + targets
    order = list(range(len(mixed_texts)))
    random.Random(11).shuffle(order)
    shuffled = cube.embed([mixed_texts[i] for i in order], batch_size=7, cache=False)
    mixed = np.empty_like(shuffled)
    mixed[order] = shuffled
    one_by_one = np.concatenate([cube.embed([t], batch_size=64, cache=False) for t in targets])
    differ = [
        sum(
            not np.array_equal(a.view(np.uint32), b.view(np.uint32))
            for a, b in zip(alone, x, strict=True)
        )
        for x in (mixed[len(others) :], one_by_one)
    ]
    record_property("summary", f"targets whose bytes differ: mixed {differ[0]}, alone {differ[1]}")
    assert alone[:3].tobytes() != alone[3:6].tobytes()  # sanity: distinct texts, distinct rows
    assert mixed[len(others) :].tobytes() == alone.tobytes()
    assert one_by_one.tobytes() == alone.tobytes()
    np.testing.assert_allclose(alone, reference_model.encode(targets), atol=2e-5)


def test_vectors_kept_in_the_cache_are_read_when_indexed(passages):
    """in_memory=False: every vector put in the cache, rows read only when indexed."""
    embed_with_stats(passages[:20])  # some are there already
    texts = passages[:50] + passages[:3]  # and some repeat
    kept, stats = embed_with_stats(texts, in_memory=False)
    assert isinstance(kept, CachedVectors) and kept.shape == (53, 384) and len(kept) == 53
    assert (stats.cached, stats.encoded, stats.duplicates) == (20, 30, 3)
    expected, stats = embed_with_stats(texts)
    assert stats.encoded == 0
    np.testing.assert_array_equal(np.asarray(kept), expected)
    for index in (
        [5, 52, 0],
        slice(10, 40, 3),
        7,
        -1,
        [-2, 3],
        np.arange(53) % 2 == 0,
        (slice(2, 4), 0),
        (3, slice(0, 5)),
        (4, 7),
    ):
        np.testing.assert_array_equal(kept[index], expected[index])
    # As a Dask worker gets a partition: the store's folder and keys, no vectors.
    part = pickle.loads(pickle.dumps(kept.take([1, 52, 7])))
    assert part.shape == (3, 384) and len(pickle.dumps(part)) < 1_000
    np.testing.assert_array_equal(part[:], expected[[1, 52, 7]])
    assert kept.take(9).shape == (1, 384)
    with pytest.raises(InputError, match="in_memory=False keeps the vectors in the cache"):
        embed_with_stats(texts, in_memory=False, cache=False)
