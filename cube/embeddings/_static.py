"""Static embeddings: a model2vec model distilled once from the local model, and its encoder.

A static model keeps one vector per token of the model's vocabulary (what the transformer
gives that token alone, reduced by PCA and weighted by SIF); a text's vector is the mean of its
tokens' vectors, scaled to unit length. There is no forward pass per text: on 2 busy cores,
about a thousand passages a second against about a dozen for the int8 transformer
(x88, ``bench/static.py``).

The distilled model is derived data, like the ONNX export (:mod:`cube.embeddings._onnx`): a
function of the model's files and :data:`RECIPE`, made offline from the local model by
``model2vec``'s ``distill_from_model`` (no hub: the model and tokenizer are loaded from the
folder with ``local_files_only``), written into a staging folder and renamed into place under
a file lock, with the SHA-256 of each file that changes a vector in its manifest (checked
before the first use in a process). model2vec saves safetensors and a ``tokenizer.json``;
both are read here without pickle.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cube import _cache
from cube._cache import atomic_write
from cube._errors import CubeError

if TYPE_CHECKING:  # pragma: no cover
    from cube.embeddings._models import ResolvedModel

PCA_DIMS = 256
SIF_COEFFICIENT = 1e-4
RECIPE = (
    f"model2vec distill_from_model: every token of the model's own vocabulary, mean pooling, "
    f"PCA to {PCA_DIMS}, SIF {SIF_COEFFICIENT}, float16"
)
_FILES = ("model.safetensors", "tokenizer.json", "config.json")  # what changes a vector
_STEP = 4096  # texts per step of the encoder (progress and cache writes go by steps)
_INSTALL = "pip install model2vec skeletoken"


def installed() -> str | None:
    """model2vec's version, or None when it is not installed.

    Example:
        >>> installed()
        '0.10.0'
    """
    try:
        return version("model2vec")
    except PackageNotFoundError:
        return None


def _require(distilling: bool) -> None:
    """A one-line :class:`CubeError` when what the static model needs is missing."""
    missing = [
        name
        for name in (("model2vec", "skeletoken") if distilling else ("model2vec",))
        if _missing(name)
    ]
    if missing:
        raise CubeError(
            f"static embeddings need {' and '.join(missing)}, which "
            f"{'is' if len(missing) == 1 else 'are'} not installed; run `{_INSTALL}`"
        )


def _missing(module: str) -> bool:
    import importlib.util
    import sys

    if module in sys.modules:
        return sys.modules[module] is None
    return importlib.util.find_spec(module) is None


# -- the distilled model, once per model and recipe -------------------------------------------
def static_folder(fingerprint: str) -> Path:
    """Where the cache keeps the static model distilled from the model with this fingerprint."""
    return _cache.root() / "static" / static_key(fingerprint)


def static_key(fingerprint: str) -> str:
    return _cache.fingerprint({"model": fingerprint, "recipe": RECIPE}, length=24)


def is_cached(fingerprint: str) -> bool:
    """Whether the cache holds a complete static model distilled from this model.

    Example:
        >>> is_cached(resolve_model("all-MiniLM-L6-v2").fingerprint)
        True
    """
    return _read_verified(static_folder(fingerprint)) is not None


_verified: dict[Path, str] = {}
_lock = threading.Lock()
_temporary: dict[str, Path] = {}  # fingerprint → model distilled with the cache off


def static_model(model_path: Path, fingerprint: str, *, cache: bool = True) -> tuple[Path, str]:
    """The folder of the static model distilled from a model (made on first use), and its digest.

    The digest is a SHA-256 over the files that change a vector; it names the static space.
    With ``cache=False`` the model is distilled into a temporary folder removed at exit.

    Example:
        >>> folder, digest = static_model(resolved.path, resolved.fingerprint)
        >>> sorted(p.name for p in folder.iterdir())[:3]
        ['config.json', 'manifest.json', 'model.safetensors']
    """
    _require(distilling=False)
    with _lock:
        if cache:
            folder = static_folder(fingerprint)
        else:
            if fingerprint not in _temporary:
                _temporary[fingerprint] = Path(tempfile.mkdtemp(prefix="cube-static-"))
            folder = _temporary[fingerprint] / "model"
        if folder in _verified:
            return folder, _verified[folder]
        digest = _cache.made_once(folder, _read_verified, lambda f: _distill(model_path, f))
        _verified[folder] = digest
        return folder, digest


def _files_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for name in _FILES:
        digest.update(name.encode() + b"\0")
        with open(folder / name, "rb") as f:
            for block in iter(lambda f=f: f.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def _read_verified(folder: Path) -> str | None:
    """The model's digest when the folder holds a complete, intact static model, else None."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        digest = _files_digest(folder)
    except (OSError, ValueError):
        return None
    return digest if manifest.get("sha256") == digest else None


def _distill(model_path: Path, folder: Path) -> str:
    """Distill into a staging folder beside ``folder``, check it, then rename it into place."""
    _require(distilling=True)  # one line naming what to install, before any work
    import warnings

    from model2vec.distill import distill_from_model
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as transformers_logging

    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    bar_was_on = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()  # its weight-loading bar
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = AutoModel.from_pretrained(model_path, local_files_only=True)
            tokenizer = AutoTokenizer.from_pretrained(
                model_path, local_files_only=True, use_fast=True
            )
            static = distill_from_model(
                model=model,
                tokenizer=tokenizer,
                device="cpu",
                pca_dims=PCA_DIMS,
                sif_coefficient=SIF_COEFFICIENT,
                quantize_to="float16",
            )
        static.save_pretrained(staging)
        _check(staging)
        digest = _files_digest(staging)
        manifest = {
            "sha256": digest,
            "files": list(_FILES),
            "recipe": RECIPE,
            "source": str(model_path),
            "versions": {
                name: version(name)
                for name in ("model2vec", "skeletoken", "torch", "transformers", "tokenizers")
            },
        }
        atomic_write(staging / "manifest.json", json.dumps(manifest, indent=1))
        if folder.exists():  # an incomplete or damaged model: replace it
            shutil.rmtree(folder)
        os.replace(staging, folder)
    finally:
        if bar_was_on:
            transformers_logging.enable_progress_bar()
        shutil.rmtree(staging, ignore_errors=True)
    return digest


def _check(folder: Path) -> None:
    """The saved model must load and give unit vectors that tell two probe sentences apart."""
    model = StaticModel(folder)
    vectors = model.encode(
        ["The state of the Union is strong.", "We must reform the tariff and the Navy."]
    )
    norms = np.linalg.norm(vectors, axis=1)
    if vectors.shape != (2, model.dim) or not np.allclose(norms, 1, atol=1e-4):
        raise CubeError(f"the static model distilled into {folder} gives broken vectors")
    if float(vectors[0] @ vectors[1]) > 0.99:
        raise CubeError(f"the static model distilled into {folder} gives one vector for all")


# -- loading and encoding ---------------------------------------------------------------------
@dataclass(frozen=True)
class StaticLayout:
    """What the encoder reads from a static model's ``config.json``."""

    normalize: bool
    max_length: int | None  # tokens kept per text (model2vec's default: 512)
    dim: int


class StaticModel:
    """A distilled static model read from its folder (safetensors and tokenizer.json, no pickle).

    ``encode`` gives each text the mean of its tokens' vectors (float32, the [UNK] token left
    out, as model2vec does), scaled to unit length when the model normalizes. A text's vector
    depends on that text alone: the tokens are summed one text at a time, in order. A text
    with no known token gets the zero vector.

    Example:
        >>> model = StaticModel(folder)
        >>> model.encode(["Taxes were cut."]).shape
        (1, 256)
    """

    def __init__(self, folder: Path):
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        tensors = load_file(str(folder / "model.safetensors"))
        if set(tensors) != {"embeddings"}:
            raise CubeError(
                f"{folder} holds {sorted(tensors)}; cube reads static models with one "
                "'embeddings' table (no vocabulary quantization)"
            )
        self.table = np.ascontiguousarray(tensors["embeddings"], dtype=np.float32)
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        self.layout = StaticLayout(
            normalize=bool(config.get("normalize", True)),
            max_length=config.get("max_length", 512),
            dim=int(self.table.shape[1]),
        )
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        if self.layout.max_length:
            self.tokenizer.enable_truncation(max_length=int(self.layout.max_length))
        else:
            self.tokenizer.no_truncation()
        unk = getattr(self.tokenizer.model, "unk_token", None)
        self.unk_id = self.tokenizer.token_to_id(unk) if unk else None
        tokens = sorted(self.tokenizer.get_vocab().items(), key=lambda item: item[1])
        if len(tokens) != len(self.table):
            raise CubeError(
                f"{folder}: {len(tokens)} tokens but {len(self.table)} vectors; distill it again"
            )
        # model2vec cuts a text to max_length x the median token length in characters before
        # tokenizing (a long text's first 512 tokens fit in that); so does this encoder.
        median = int(np.median([len(token) for token, _ in tokens]))
        self.max_chars = int(self.layout.max_length) * median if self.layout.max_length else None

    @property
    def dim(self) -> int:
        return self.layout.dim

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """Each text's token ids, without special tokens or [UNK]."""
        if self.max_chars is not None:
            texts = [text[: self.max_chars] for text in texts]
        encodings = self.tokenizer.encode_batch_fast(texts, add_special_tokens=False)
        if self.unk_id is None:
            return [e.ids for e in encodings]
        unk = self.unk_id
        return [[i for i in e.ids if i != unk] for e in encodings]

    def encode(self, texts: list[str]) -> np.ndarray:
        """Float32 vectors of ``texts``, one row each, in order."""
        from scipy.sparse import csr_matrix

        ids = self.token_ids(list(texts))
        lengths = np.fromiter((len(row) for row in ids), np.int64, len(ids))
        indptr = np.concatenate([[0], np.cumsum(lengths)])
        indices = np.fromiter((i for row in ids for i in row), np.int32, int(indptr[-1]))
        ones = np.ones(len(indices), np.float32)
        # One row per text, one entry per token (repeats kept): the product adds each text's
        # token vectors on their own, first to last, so no other text changes its sum.
        counts = csr_matrix((ones, indices, indptr), shape=(len(ids), len(self.table)))
        out = np.asarray(counts @ self.table, dtype=np.float32)
        out /= np.maximum(lengths, 1)[:, None].astype(np.float32)
        if self.layout.normalize:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out


_loaded: dict[tuple[Path, str], StaticModel] = {}


def load(folder: Path, digest: str) -> StaticModel:
    """The static model in ``folder`` (kept in memory for reuse, by its digest)."""
    with _lock:
        key = (folder, digest)
        if key not in _loaded:
            _loaded[key] = StaticModel(folder)
        return _loaded[key]


def space_encoding(resolved: ResolvedModel) -> str:
    """The ``encoding`` of the model's static spaces (distills the model first, once).

    A static space never shares cache entries with the transformer's: its encoding names the
    static model's digest, which is part of the space's key.

    Example:
        >>> space_encoding(resolve_model("all-MiniLM-L6-v2"))
        'model2vec 0.10.0, static fbeef47c3bdee7d2: mean of token vectors'
    """
    _, digest = static_model(resolved.path, resolved.fingerprint, cache=_cache.enabled())
    return f"model2vec {installed()}, static {digest[:16]}: mean of token vectors"


def open_encoder(
    texts: list[str],
    resolved: ResolvedModel,
    *,
    prompt: str | None = None,
    truncate_dim: int | None = None,
    normalize: bool = True,
) -> StaticEncoder:
    """An :class:`~cube.embeddings._encoder.Encoder` of ``texts`` with the model's static model.

    The static model is distilled into the cache on first use (about a minute on 2 cores).
    ``prompt`` goes before each text; vectors are cut to ``truncate_dim``, then scaled to unit
    length when ``normalize``.

    Example:
        >>> encoder = open_encoder(["Taxes were cut."], resolve_model("all-MiniLM-L6-v2"))
        >>> encoder.encode(encoder.steps()[0]).shape
        (1, 256)
    """
    folder, digest = static_model(resolved.path, resolved.fingerprint, cache=_cache.enabled())
    return StaticEncoder(
        texts, load(folder, digest), prompt=prompt, truncate_dim=truncate_dim, normalize=normalize
    )


class StaticEncoder:
    """Vectors of texts from a :class:`StaticModel`: steps of 4,096 texts, in input order."""

    def __init__(
        self,
        texts: list[str],
        model: StaticModel,
        *,
        prompt: str | None = None,
        truncate_dim: int | None = None,
        normalize: bool = True,
    ):
        self.texts = texts
        self.model = model
        self.prompt = prompt or ""
        self.truncate_dim = truncate_dim
        self.normalize = normalize

    def steps(self) -> list[np.ndarray]:
        count = len(self.texts)
        return [np.arange(start, min(start + _STEP, count)) for start in range(0, count, _STEP)]

    def encode(self, rows: np.ndarray) -> np.ndarray:
        vectors = self.model.encode([self.prompt + self.texts[i] for i in rows])
        if self.truncate_dim:
            vectors = np.ascontiguousarray(vectors[:, : self.truncate_dim])
        if self.normalize:
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        return vectors

    def close(self) -> None:
        pass


def embed_static(texts: list[str], model: str | os.PathLike | ResolvedModel) -> np.ndarray:
    """Static vectors of ``texts`` (no cache of vectors): for benchmarks and comparisons.

    Example:
        >>> embed_static(["Taxes were cut.", "War was declared."], "all-MiniLM-L6-v2").shape
        (2, 256)
    """
    from cube.embeddings._models import as_resolved

    encoder = open_encoder(list(texts), as_resolved(model))
    try:
        parts = [encoder.encode(rows) for rows in encoder.steps()]
    finally:
        encoder.close()
    return np.concatenate(parts) if parts else np.zeros((0, encoder.model.dim), np.float32)


def _remove_temporary() -> None:
    for folder in _temporary.values():
        shutil.rmtree(folder, ignore_errors=True)


atexit.register(_remove_temporary)
