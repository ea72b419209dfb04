"""``cube doctor``: one OK/FAIL line per thing a workshop machine needs."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from cube import _cache, _config
from cube._errors import CubeError


def _check(label: str, probe: Callable[[], str]) -> bool:
    try:
        detail = probe()
    except Exception as exc:  # a check that fails for any reason is a FAIL line, not a crash
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"FAIL  {label}: {message}")
        return False
    print(f"OK    {label}: {detail}")
    return True


def _probe_python() -> str:
    return f"{sys.version.split()[0]} ({sys.executable})"


def _probe_torch() -> str:
    import platform

    import torch

    from cube.embeddings import pick_device

    detail = f"torch {torch.__version__}, device {pick_device()}"
    if platform.system() == "Linux" and str(torch.__file__).startswith("/nix/store/"):
        detail += " (nixpkgs' CPU build; the uv path runs the locked 2.15.0)"
    return detail


def _probe_model() -> str:
    from cube.embeddings import resolve_model

    model = resolve_model(_config.DEFAULT_MODEL, allow_download=False)
    if not any(model.path.glob("*.safetensors")) and not any(model.path.glob("*.bin")):
        raise CubeError(f"{model.path} has no weights file")
    return f"{_config.DEFAULT_MODEL} from the {model.source} ({model.path})"


def _probe_backend() -> str:
    from cube.embeddings import choose_backend, export_is_cached, resolve_model

    model = resolve_model(_config.DEFAULT_MODEL, allow_download=False)
    choice = choose_backend(None, model)
    backend, why = choice.name, choice.reason
    if backend == "onnx":
        made = export_is_cached(model.fingerprint)
        return (
            f"onnx ({why}; the int8 export is {'cached' if made else 'made on first use, ~10 s'})"
        )
    return f"torch ({why})"


def _probe_cache() -> str:
    import tempfile

    root = _cache.root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".doctor-"):
            pass
    except OSError as exc:
        raise CubeError(f"{root} is not writable ({exc.strerror}); set CUBE_CACHE_DIR") from exc
    return str(root)


def _probe_browser() -> str:
    from cube.figures import check_browser

    return f"{check_browser()} (started headless)"


def _probe_version(module: str) -> Callable[[], str]:
    def probe() -> str:
        from importlib.metadata import version

        __import__(module)
        return version(module)

    return probe


def _cmd_doctor(args: argparse.Namespace) -> int:
    checks = [
        ("Python", _probe_python),
        ("torch", _probe_torch),
        ("default model offline", _probe_model),
        ("embedding backend", _probe_backend),
        ("cache directory writable", _probe_cache),
        ("Chrome for figure export", _probe_browser),
        ("jupyterlab", _probe_version("jupyterlab")),
        ("ipywidgets", _probe_version("ipywidgets")),
    ]
    results = [_check(label, probe) for label, probe in checks]
    failed = results.count(False)
    print("all checks passed" if not failed else f"{failed} check(s) failed")
    return 0 if not failed else 1


def add_parser(commands) -> None:
    doctor = commands.add_parser("doctor", help="check this machine is ready for a workshop")
    doctor.set_defaults(handler=_cmd_doctor)
