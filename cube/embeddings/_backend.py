"""Which backend computes a model's vectors, decided once: a :class:`BackendChoice`."""

from __future__ import annotations

import os
from dataclasses import dataclass

from cube import _config
from cube._errors import CubeError
from cube.embeddings import _onnx
from cube.embeddings._models import ResolvedModel, as_resolved, pick_device

_NAMES = ("onnx", "torch")


@dataclass(frozen=True)
class BackendChoice:
    """The backend that computes the vectors, ``"onnx"`` or ``"torch"``, and why it was chosen.

    Pass it as ``embed(..., backend=choice)`` to use it as decided, without deciding again.

    Example:
        >>> choose_backend("torch", "all-MiniLM-L6-v2")
        BackendChoice(name='torch', reason='asked for')
    """

    name: str
    reason: str

    def __post_init__(self) -> None:
        if self.name not in _NAMES:
            raise CubeError(
                f"a BackendChoice is named 'onnx' or 'torch', not {self.name!r}; "
                "call choose_backend() to choose one"
            )


def _may_have_gpu() -> bool:
    """Whether a CUDA or Apple GPU could be there, without importing PyTorch (~3 s) to ask."""
    import platform

    if platform.system() == "Darwin":
        return platform.machine() == "arm64"
    return os.path.exists("/proc/driver/nvidia/version") or os.path.exists("/dev/nvidia0")


def choose_backend(
    backend: str | None,
    model: str | os.PathLike | ResolvedModel,
    *,
    device: str | None = None,
    precision: str = "float32",
) -> BackendChoice:
    """The backend that would compute ``model``'s vectors for a requested one (default: the setting).

    ``auto`` takes ONNX Runtime with int8 weights on a CPU whose int8 products are exact
    (see :func:`~cube.embeddings._onnx.int8_unsafe_reason`), for float32 models it can export
    (a transformer, mean or CLS pooling, optional normalization), and PyTorch otherwise.
    ``onnx`` raises :class:`CubeError` where it cannot run.

    Example:
        >>> choose_backend("auto", "all-MiniLM-L6-v2")
        BackendChoice(name='onnx', reason='int8 on CPU, onnxruntime 1.32.0')
    """
    choice, _ = decide(backend, as_resolved(model), device=device, precision=precision)
    return choice


def decide(
    backend: str | BackendChoice | None,
    resolved: ResolvedModel,
    *,
    device: str | None,
    precision: str,
) -> tuple[BackendChoice, _onnx.OnnxLayout | None]:
    """:func:`choose_backend`, also returning the ONNX layout it read (None for PyTorch).

    A :class:`BackendChoice` is used as decided: only the layout its ONNX encoder needs is
    read (and an ONNX choice for a float16 or unexportable model refused).
    """
    if isinstance(backend, BackendChoice):
        if backend.name == "torch":
            return backend, None
        if precision != "float32":
            raise CubeError(
                f"backend 'onnx' cannot be used: precision {precision!r} is a PyTorch "
                "setting; use backend='torch'"
            )
        model_layout = _onnx.layout(resolved.path)
        if isinstance(model_layout, str):
            raise CubeError(
                f"backend 'onnx' cannot be used: the model cannot be exported: {model_layout}; "
                "use backend='torch'"
            )
        return backend, model_layout
    requested = (backend or _config.get_config().embedding_backend or "auto").lower()
    if requested not in _onnx.BACKENDS:
        raise CubeError(
            f"unknown embedding backend {backend!r}; use one of {', '.join(_onnx.BACKENDS)}"
        )
    if requested == "torch":
        return BackendChoice("torch", "asked for"), None
    reasons = []
    runtime = _onnx.installed()
    if runtime is None:
        reasons.append("onnxruntime and onnx are not installed (pip install onnxruntime onnx)")
    if precision != "float32":
        reasons.append(f"precision {precision!r} is a PyTorch setting")
    model_layout = _onnx.layout(resolved.path)
    if isinstance(model_layout, str):
        reasons.append(f"the model cannot be exported: {model_layout}")
    if not reasons:
        chosen_device = device or _config.device_override()
        if chosen_device is None and requested == "auto" and _may_have_gpu():
            chosen_device = pick_device()  # a GPU, when there is one, is faster than int8
        if chosen_device not in (None, "cpu"):
            reasons.append(f"the ONNX backend runs on the CPU, not {chosen_device!r}")
    if not reasons:
        unsafe = _onnx.int8_unsafe_reason()
        if unsafe:
            reasons.append(unsafe)
    if reasons:
        if requested == "onnx":
            raise CubeError(f"backend 'onnx' cannot be used: {reasons[0]}; use backend='torch'")
        return BackendChoice("torch", reasons[0]), None
    assert isinstance(model_layout, _onnx.OnnxLayout)
    return BackendChoice("onnx", f"int8 on CPU, onnxruntime {runtime}"), model_layout
