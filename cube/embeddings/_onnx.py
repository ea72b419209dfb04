"""The ONNX Runtime backend: a model's int8 export, made once into the cache, and its encoder.

The export is derived data: a function of the model's files and :data:`RECIPE`. It is built
offline from the local model (``torch.onnx.export``, then the int8 rewrite of
:mod:`cube.embeddings._int8`), checked against PyTorch on probe sentences before and after
the rewrite, written into a temporary folder and renamed into place under a file lock, with
the SHA-256 of the model file in its manifest (checked before each first use in a process).

Texts are encoded one per forward pass, at their own length (no padding to compute), on a
few worker threads: :func:`open_encoder` gives the :class:`~cube.embeddings._encoder.Encoder`.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from cube import _cache
from cube._cache import atomic_write, file_sha256
from cube._errors import CubeError
from cube._parallel import workers
from cube.embeddings import _int8

if TYPE_CHECKING:  # pragma: no cover
    from cube.embeddings._models import ResolvedModel
    from cube.embeddings._space import EmbeddingSpace

BACKENDS = ("auto", "torch", "onnx")
RECIPE = (
    "onnx opset 17, eager attention; every weighted MatMul in int8: per-token activations, "
    "per-channel weights, SmoothQuant alpha 0.7 on 128 bundled passages; 32 float32 input "
    "channels per down-projection; rows by QuantizeLinear and DequantizeLinear"
)
_PROBES = [
    "The state of the Union is strong.",
    "We must reduce the public debt, reform the tariff and strengthen the Navy.",
    "",
]
_EXPORT_MAX_DIFF = 1e-3  # the float32 export against PyTorch, before quantization
_INT8_MIN_COSINE = 0.99  # the int8 graph's pooled vectors against PyTorch's (measured: >= 0.996)
_SUPPORTED_POOLING = {"pooling_mode_mean_tokens": "mean", "pooling_mode_cls_token": "cls"}
_STEP = 64  # texts per step of the encoder (progress and cache writes go by steps)


@dataclass(frozen=True)
class OnnxLayout:
    """What the encoder needs besides the graph: pooling, normalization, token limit."""

    pooling: str  # "mean" | "cls"
    normalize: bool  # the model ends with a Normalize module
    max_seq_length: int
    do_lower_case: bool


def installed() -> str | None:
    """onnxruntime's version, or None when onnxruntime or onnx is not installed."""
    try:
        runtime = version("onnxruntime")
        version("onnx")
    except PackageNotFoundError:
        return None
    return runtime


def layout(path: Path) -> OnnxLayout | str:
    """The model's layout, or why the ONNX backend cannot run it (a short reason)."""

    def read(name: str) -> dict | list:
        try:
            return json.loads((path / name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    modules = read("modules.json")
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules if isinstance(m, dict)]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return f"its modules are {kinds or 'not a sentence-transformers pipeline'}"
    if not (path / "tokenizer.json").is_file():
        return "it has no tokenizer.json (a fast tokenizer)"
    pooling_dir = next(
        (m.get("path") for m in modules if m.get("type", "").endswith("Pooling")), ""
    )
    pooling_config = read(f"{pooling_dir}/config.json") if pooling_dir else {}
    modes = [mode for key, mode in _SUPPORTED_POOLING.items() if pooling_config.get(key)]
    others = [k for k, v in pooling_config.items() if k.startswith("pooling_mode") and v]
    if len(modes) != 1 or len(others) != 1:
        return f"its pooling ({', '.join(others) or 'none'}) is not plain mean or CLS"
    settings = read("sentence_bert_config.json")
    return OnnxLayout(
        pooling=modes[0],
        normalize=kinds[-1] == "Normalize",
        max_seq_length=int(settings.get("max_seq_length") or 512),
        do_lower_case=bool(settings.get("do_lower_case")),
    )


@functools.lru_cache(maxsize=1)
def int8_unsafe_reason() -> str | None:
    """Why this CPU's int8 matrix products are not exact in onnxruntime, or None when they are.

    On x86 CPUs without VNNI, onnxruntime multiplies uint8 by int8 with an instruction that
    adds two products into 16 bits and saturates (``vpmaddubsw``); cube's activations and
    weights use the whole int8 range, and measured on 20 passages 1 in 11,000 of those
    pairs would overflow. VNNI (AVX-VNNI, AVX512-VNNI, AMX) and ARM CPUs sum into 32 bits.
    Where the CPU's features cannot be read, the answer errs on "not safe".
    """
    import platform

    if platform.machine().lower() not in {"x86_64", "amd64", "i386", "i686", "x86"}:
        return None
    with contextlib.suppress(ImportError, AttributeError):
        try:
            from numpy._core._multiarray_umath import __cpu_features__ as features
        except ImportError:
            from numpy.core._multiarray_umath import __cpu_features__ as features
        if features.get("AVX512VNNI"):
            return None
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        cpuinfo = ""
    flags = next((line.split() for line in cpuinfo.splitlines() if line.startswith("flags")), [])
    if {"avx_vnni", "avx512_vnni", "amx_int8"} & set(flags):
        return None
    return (
        "this CPU has no VNNI instructions, without which onnxruntime's int8 products can overflow"
    )


# -- the export, once per model and recipe ---------------------------------------------------
def export_folder(fingerprint: str) -> Path:
    """Where the cache keeps the export of the model with this fingerprint."""
    return _cache.root() / "onnx" / export_key(fingerprint)


def export_is_cached(fingerprint: str) -> bool:
    """Whether the cache holds the int8 export of the model with this fingerprint.

    Example:
        >>> export_is_cached(resolve_model("all-MiniLM-L6-v2").fingerprint)
        True
    """
    return (export_folder(fingerprint) / "model.onnx").is_file()


def export_key(fingerprint: str) -> str:
    return _cache.fingerprint({"model": fingerprint, "recipe": RECIPE}, length=24)


_verified: dict[Path, str] = {}
_export_lock = threading.Lock()
_temporary: dict[str, Path] = {}  # fingerprint → export made with the cache off, removed at exit


def exported_model(model_path: Path, fingerprint: str, *, cache: bool = True) -> tuple[Path, str]:
    """The int8 ONNX file of a model, exported on first use; returns (path, its SHA-256).

    Example:
        >>> exported_model(resolved.path, resolved.fingerprint)
        (PosixPath('~/.cache/cube/onnx/3f2a.../model.onnx'), '9c1e...')
    """
    with _export_lock:
        if _background is not None and _background[0] == fingerprint:
            _background[1].wait()  # its export, or its failure, is on disk now
        if cache:
            folder = export_folder(fingerprint)
        else:
            if fingerprint not in _temporary:
                _temporary[fingerprint] = Path(tempfile.mkdtemp(prefix="cube-onnx-"))
            folder = _temporary[fingerprint] / "model"
        if folder in _verified:
            return folder / "model.onnx", _verified[folder]
        digest = _cache.made_once(folder, _read_verified, lambda f: _export(model_path, f))
        _verified[folder] = digest
        return folder / "model.onnx", digest


def export_in_background(model_path: Path, fingerprint: str) -> bool:
    """Start making the export in another process when the cache lacks it; True if started.

    For a caller with other work first (``cube topics`` imports BERTopic meanwhile): its
    :func:`exported_model` then waits for that process and reads the result. If the other
    process failed, :func:`exported_model` makes the export itself and reports why.
    """
    global _background
    if _background is not None and _background[1].poll() is None:
        return False  # one is running
    if not _cache.enabled() or _read_verified(export_folder(fingerprint)) is not None:
        return False
    process = subprocess.Popen(
        [sys.executable, "-m", "cube.embeddings._onnx", str(model_path), fingerprint],
        env={**os.environ, "CUBE_CACHE_DIR": str(_cache.root())},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _background = (fingerprint, process)
    return True


_background: tuple[str, subprocess.Popen] | None = None  # what export_in_background started


def _read_verified(folder: Path) -> str | None:
    """The export's SHA-256 when the folder holds a complete, intact export, else None."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        digest = file_sha256(folder / "model.onnx")
    except (OSError, ValueError):
        return None
    return digest if manifest.get("sha256") == digest else None


def _export(model_path: Path, folder: Path) -> str:
    """Export, quantize and check into a staging folder, then rename it to ``folder``."""
    from cube._progress import progress

    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    bar = progress(total=3, desc="Preparing the ONNX model (once)", unit="step")
    try:
        model_layout = layout(model_path)
        assert isinstance(model_layout, OnnxLayout)
        float_file, reference = _export_float(model_path, model_layout, staging)
        bar.update()
        _check_export(float_file, reference, model_path, model_layout)
        bar.update()
        tokenizer = Tokenizer(model_path, model_layout)
        feeds = [tokenizer.one(text) for text in _int8.calibration_texts()]
        ranges = _int8.activation_ranges(float_file, feeds, workers())
        _int8.quantize(float_file, ranges, staging / "model.onnx")
        _check_int8(staging / "model.onnx", reference, model_path, model_layout)
        float_file.unlink()
        bar.update()
        digest = file_sha256(staging / "model.onnx")
        manifest = {
            "sha256": digest,
            "recipe": RECIPE,
            "source": str(model_path),
            "versions": {
                name: version(name) for name in ("torch", "transformers", "onnx", "onnxruntime")
            },
        }
        atomic_write(staging / "manifest.json", json.dumps(manifest, indent=1))
        if folder.exists():  # an incomplete or damaged export: replace it
            shutil.rmtree(folder)
        os.replace(staging, folder)
    finally:
        bar.close()
        shutil.rmtree(staging, ignore_errors=True)
    return digest


def _export_float(model_path: Path, model_layout: OnnxLayout, staging: Path):
    """torch.onnx.export of the transformer (its last hidden state); also PyTorch's output."""
    import warnings

    import torch
    from transformers import AutoModel
    from transformers.utils import logging as transformers_logging

    bar_was_on = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()  # its weight-loading bar: ours says enough
    try:
        model = AutoModel.from_pretrained(
            model_path, attn_implementation="eager", local_files_only=True
        ).eval()
    finally:
        if bar_was_on:
            transformers_logging.enable_progress_bar()
    tokenizer = Tokenizer(model_path, model_layout)
    feeds = tokenizer.batch(_PROBES[:2])
    names = list(feeds)

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, *inputs):
            return self.inner(**dict(zip(names, inputs, strict=True))).last_hidden_state

    tensors = tuple(torch.from_numpy(feeds[name]) for name in names)
    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "last_hidden_state"]}
    path = staging / "float32.onnx"
    wrapper = LastHiddenState(model).eval()
    with torch.inference_mode():  # PyTorch's answers, before the export touches the module
        reference = {
            text: wrapper(*(torch.from_numpy(v) for v in tokenizer.one(text).values())).numpy()
            for text in _PROBES
        }
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the tracer's notes on constant shapes
        torch.onnx.export(
            wrapper,
            tensors,
            str(path),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    return path, reference


def _probe(path: Path, reference: dict, model_path: Path, model_layout: OnnxLayout):
    """(probe text, the graph's hidden states, PyTorch's) for each probe sentence."""
    session = _session(path)
    tokenizer = Tokenizer(model_path, model_layout)
    for text, expected in reference.items():
        yield text, session.run(None, tokenizer.one(text))[0], expected


def _check_export(path: Path, reference: dict, model_path: Path, model_layout: OnnxLayout):
    """The float32 graph must give PyTorch's hidden states at other lengths than it was traced at."""
    for text, got, expected in _probe(path, reference, model_path, model_layout):
        if got.shape != expected.shape or float(np.abs(got - expected).max()) > _EXPORT_MAX_DIFF:
            raise CubeError(
                f"the ONNX export of {model_path} does not reproduce PyTorch on {text!r}; "
                "use backend='torch'"
            )


def _check_int8(path: Path, reference: dict, model_path: Path, model_layout: OnnxLayout):
    """The int8 graph's mean-pooled vectors must point where PyTorch's do."""
    for text, got, expected in _probe(path, reference, model_path, model_layout):
        have, want = got[0].mean(axis=0), expected[0].mean(axis=0)
        cosine = float(have @ want / max(np.linalg.norm(have) * np.linalg.norm(want), 1e-12))
        if not cosine >= _INT8_MIN_COSINE:
            raise CubeError(
                f"the int8 ONNX model of {model_path} drifts from PyTorch on {text!r} "
                f"(cosine {cosine:.3f}); use backend='torch'"
            )


# -- tokenizing and encoding -------------------------------------------------------------------
class Tokenizer:
    """The model's fast tokenizer, truncating as sentence-transformers does, without torch."""

    def __init__(
        self, model_path: Path, model_layout: OnnxLayout, max_seq_length: int | None = None
    ):
        from tokenizers import Tokenizer as FastTokenizer

        self.inner = FastTokenizer.from_file(str(model_path / "tokenizer.json"))
        self.inner.no_padding()
        self.inner.enable_truncation(max_length=max_seq_length or model_layout.max_seq_length)
        self.lower = model_layout.do_lower_case
        self.names = ["input_ids", "attention_mask", "token_type_ids"]

    def one(self, text: str) -> dict[str, np.ndarray]:
        encoding = self.inner.encode(text.lower() if self.lower else text)
        arrays = (encoding.ids, encoding.attention_mask, encoding.type_ids)
        return {n: np.asarray([a], dtype=np.int64) for n, a in zip(self.names, arrays, strict=True)}

    def batch(self, texts: list[str]) -> dict[str, np.ndarray]:
        rows = [self.one(t) for t in texts]
        width = max(r["input_ids"].shape[1] for r in rows)
        return {
            n: np.concatenate([np.pad(r[n], ((0, 0), (0, width - r[n].shape[1]))) for r in rows])
            for n in self.names
        }


def _session(path: Path):
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1  # parallel over texts instead (see OnnxEncoder)
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@functools.lru_cache(maxsize=4)
def _cached_session(path: Path, digest: str):
    return _session(path)


def space_encoding(resolved: ResolvedModel) -> str:
    """The ``encoding`` of the model's ONNX spaces (exports the model first, once).

    Example:
        >>> space_encoding(resolve_model("all-MiniLM-L6-v2"))
        'onnxruntime 1.32.0, export 739ccdcca1280c43: one text per pass'
    """
    _, digest = exported_model(resolved.path, resolved.fingerprint, cache=_cache.enabled())
    return f"onnxruntime {installed()}, export {digest[:16]}: one text per pass"


def open_encoder(
    texts: list[str],
    resolved: ResolvedModel,
    space: EmbeddingSpace,
    model_layout: OnnxLayout,
    *,
    threads: int | None = None,
) -> OnnxEncoder:
    """An encoder of ``texts`` in ``space`` with the model's int8 export (made if missing).

    ``model_layout`` is the model's :func:`layout`, as read when the backend was chosen;
    ``threads`` how many texts run at once (default :func:`workers`).

    Example:
        >>> encoder = open_encoder(["Taxes were cut."], resolved, space, layout(resolved.path))
        >>> encoder.encode(encoder.steps()[0]).shape
        (1, 384)
    """
    onnx_file, digest = exported_model(resolved.path, resolved.fingerprint, cache=_cache.enabled())
    return OnnxEncoder(
        texts,
        onnx_file,
        digest,
        resolved.path,
        model_layout,
        max_seq_length=space.max_seq_length,
        prompt=space.prompt,
        truncate_dim=space.truncate_dim,
        normalize=space.normalize,
        threads=threads,
    )


class OnnxEncoder:
    """Vectors of texts from the int8 export, one text per forward pass, on :func:`workers` threads.

    An :class:`~cube.embeddings._encoder.Encoder`: steps of 64 texts, in input order.
    """

    def __init__(
        self,
        texts: list[str],
        onnx_file: Path,
        digest: str,
        model_path: Path,
        model_layout: OnnxLayout,
        *,
        max_seq_length: int | None,
        prompt: str | None,
        truncate_dim: int | None,
        normalize: bool,
        threads: int | None = None,
    ):
        self.texts = texts
        self.session = _cached_session(onnx_file, digest)
        self.tokenizer = Tokenizer(model_path, model_layout, max_seq_length)
        self.layout = model_layout
        self.prompt = prompt or ""
        self.truncate_dim = truncate_dim
        self.normalize = normalize
        self.pool = ThreadPoolExecutor(threads or workers())

    def steps(self) -> list[np.ndarray]:
        count = len(self.texts)
        return [np.arange(start, min(start + _STEP, count)) for start in range(0, count, _STEP)]

    def encode(self, rows: np.ndarray) -> np.ndarray:
        return np.stack(list(self.pool.map(self._one, [self.texts[i] for i in rows])))

    def close(self) -> None:
        self.pool.shutdown()

    def _one(self, text: str) -> np.ndarray:
        feeds = self.tokenizer.one(self.prompt + text)
        hidden = self.session.run(None, feeds)[0][0]
        # One text, no padding: mean pooling is the mean over every token.
        vector = hidden[0] if self.layout.pooling == "cls" else hidden.mean(axis=0)
        if self.layout.normalize:
            vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
        if self.truncate_dim:
            vector = vector[: self.truncate_dim]
        if self.normalize:
            vector = vector / max(float(np.linalg.norm(vector)), 1e-12)
        return vector.astype(np.float32)


def _remove_temporary() -> None:
    for folder in _temporary.values():
        shutil.rmtree(folder, ignore_errors=True)


atexit.register(_remove_temporary)

if __name__ == "__main__":  # export_in_background's process
    exported_model(Path(sys.argv[1]), sys.argv[2])
