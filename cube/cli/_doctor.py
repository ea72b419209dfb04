"""``cube doctor``: one OK/FAIL line per thing a workshop machine needs.

``--workshop`` adds what a room needs on the day (free disk, the course's vectors in the cache,
a smoke test with the network off, JupyterLab's online checks off) and ends with a ready code
to paste into the workshop's chat.
"""

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


MIN_FREE_BYTES = 2 * 1024**3
SMOKE_SECONDS = 60


def _probe_disk() -> str:
    import shutil

    from cube._progress import human_bytes

    root = _cache.root()
    where = next((p for p in (root, *root.parents) if p.exists()), root.anchor)
    free = shutil.disk_usage(where).free
    if free < MIN_FREE_BYTES:
        raise CubeError(
            f"{human_bytes(free)} free at {where}; the course needs about "
            f"{human_bytes(MIN_FREE_BYTES)}: free some space"
        )
    return f"{human_bytes(free)} free at {where}"


def course_cache_share() -> tuple[int, int]:
    """(passages found, passages the course notebooks embed at full size) in this cache."""
    import numpy as np

    from cube._store import text_keys
    from cube.datasets import load
    from cube.embeddings import embedding_space, imported_twin
    from cube.notebook import course_samples

    texts: dict[str, None] = {}
    for _, size, seed in course_samples():
        texts.update(dict.fromkeys(load("sotu", sample=size, seed=seed)["text"]))
    keys = text_keys(list(texts))
    space = embedding_space()
    found = np.zeros(len(keys), bool)
    for source in (imported_twin(space), space):
        if source is not None:
            found |= source.store().get(keys)[0]
    return int(found.sum()), len(keys)


def _probe_course_cache() -> str:
    found, total = course_cache_share()
    share = 100 * found / total
    _ready["cache"] = f"{share:.0f}%"
    size = "quick samples" if _config.get_config().quick else "full size"
    detail = f"{found} of the {total} passages notebooks 1-5 embed at {size} ({share:.0f}%)"
    if share < 99:
        raise CubeError(
            f"only {detail} are cached; import the workshop's cache (cube cache import FILE) "
            "or expect the first runs to embed the rest"
        )
    return detail


def _probe_smoke() -> str:
    import time

    import plotly.graph_objects as go

    import cube
    from cube.figures import to_png

    started = time.perf_counter()
    texts = [f"A quick check of this laptop, sentence {i}, {time.time_ns()}." for i in range(10)]
    with _network_off(), cube.config_context(hub_offline=True):
        cube.embed(texts, show_progress=False, cache=False)
        png = to_png(go.Figure(go.Bar(x=[1, 2, 3], y=[3, 1, 2])))
    if not png.startswith(b"\x89PNG"):
        raise CubeError("figure export returned no PNG")
    seconds = time.perf_counter() - started
    _ready["smoke"] = f"{seconds:.0f}s"
    if seconds > SMOKE_SECONDS:
        raise CubeError(f"took {seconds:.0f} s (over {SMOKE_SECONDS} s): this laptop is slow")
    return f"10 texts embedded and one PNG written in {seconds:.1f} s, with the network off"


class _NetworkOff(OSError):
    pass


def _network_off():
    """Connections to anything but this machine fail while the block runs."""
    import contextlib
    import ipaddress
    import socket

    real_connect = socket.socket.connect

    def connect(self, address):
        host = address[0] if isinstance(address, tuple) else None
        if host is not None:
            try:
                local = ipaddress.ip_address(host).is_loopback
            except ValueError:
                local = host == "localhost"
            if not local:
                raise _NetworkOff(f"cube doctor: the network is off for this check ({host})")
        return real_connect(self, address)

    @contextlib.contextmanager
    def block():
        socket.socket.connect = connect
        try:
            yield
        finally:
            socket.socket.connect = real_connect

    return block()


def _probe_lab_quiet() -> str:
    from pathlib import Path

    from jupyterlab.handlers.announcements import NeverCheckForUpdate  # noqa: F401

    from cube.notebook import QUIET_LAB_FLAGS, lab_command

    if not all(flag in lab_command(Path("."), open_browser=False) for flag in QUIET_LAB_FLAGS):
        raise CubeError("cube lab would let JupyterLab fetch news and check for updates")
    return "cube lab starts JupyterLab with no news feed and no update check"


_ready: dict[str, str] = {}
# What a ready code calls each failed check.
_SHORT = {
    "Python": "python",
    "default model offline": "model",
    "embedding backend": "backend",
    "cache directory writable": "cache-dir",
    "Chrome for figure export": "chrome",
    "free disk": "disk",
    "course cache": "course-cache",
    "offline smoke test": "smoke",
    "JupyterLab offline": "lab-offline",
}


def _platform_name(system: str, machine: str) -> str:
    """The platform as cube pack names it: ``linux-x86_64``, ``macos-arm64``, ``windows-x86_64``."""
    system = {"darwin": "macos"}.get(system.lower(), system.lower())
    machine = {"amd64": "x86_64", "arm64": "arm64" if system == "macos" else "aarch64"}.get(
        machine.lower(), machine.lower()
    )
    return f"{system}-{machine}"


def _ready_code(failed: list[str]) -> str:
    import platform

    from cube.embeddings import choose_backend

    try:
        backend = choose_backend(None, _config.DEFAULT_MODEL).name
    except Exception:  # the failing check already said why
        backend = "?"
    parts = [
        "CUBE-READY" if not failed else "CUBE-STUCK",
        _platform_name(platform.system(), platform.machine()),
        f"py{sys.version.split()[0]}",
        f"cache={_ready.get('cache', '?')}",
        f"backend={backend}",
        f"smoke={_ready.get('smoke', '?')}",
    ]
    if failed:
        parts.append("failed=" + ",".join(failed))
    return " ".join(parts)


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
    if args.workshop:
        checks += [
            ("free disk", _probe_disk),
            ("course cache", _probe_course_cache),
            ("offline smoke test", _probe_smoke),
            ("JupyterLab offline", _probe_lab_quiet),
        ]
    failed = [label for label, probe in checks if not _check(label, probe)]
    print("all checks passed" if not failed else f"{len(failed)} check(s) failed")
    if args.workshop:
        print(_ready_code([_SHORT.get(label, label) for label in failed]))
    return 0 if not failed else 1


def add_parser(commands) -> None:
    doctor = commands.add_parser("doctor", help="check this machine is ready for a workshop")
    doctor.add_argument(
        "--workshop",
        action="store_true",
        help="also free disk, the course's cache, an offline smoke test; ends with a ready code",
    )
    doctor.set_defaults(handler=_cmd_doctor)
