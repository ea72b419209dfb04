"""Which backend computes a model's vectors, decided once (a :class:`BackendChoice`), and
the cache space that choice leads to (:func:`embedding_space`)."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass, field
from typing import Any

from cube import _config
from cube._errors import CubeError
from cube.embeddings import _onnx
from cube.embeddings._encoder import TextEncoder, custom_encoding
from cube.embeddings._models import ResolvedModel, as_resolved, pick_device
from cube.embeddings._space import EmbeddingSpace, EmbedOptions, imported_twin

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


def embedding_space(
    model: str | os.PathLike | ResolvedModel | SpacePlan = _config.DEFAULT_MODEL,
    options: EmbedOptions | None = None,
    *,
    backend: str | BackendChoice | None = None,
    encoder: TextEncoder | None = None,
    **option_fields: Any,
) -> EmbeddingSpace:
    """The cache space that :func:`embed` with these arguments reads and writes.

    ``option_fields`` are :class:`EmbedOptions` fields by name (``normalize=True``). With the
    ONNX backend this exports the model first, once (see :func:`choose_backend`).

    Example:
        >>> space = embedding_space("all-MiniLM-L6-v2", normalize=True)
        >>> space.backend, len(space.key)
        ('onnx', 32)
    """
    return plan_space(model, options, backend=backend, encoder=encoder, **option_fields).space


@dataclass(frozen=True)
class SpacePlan:
    """One embedding decision: the model found, the backend chosen, the options, and the cache
    space they lead to.

    Made once by :func:`plan_space` and then carried: ``cube.embed(texts, plan)`` embeds in
    exactly this space without deciding again, a topic model fitted with it embeds new
    documents in it, :func:`cube.topics.save` keeps it, and :meth:`record` is what provenance
    and ``summary.json`` say made the vectors.

    Example:
        >>> plan = plan_space("all-MiniLM-L6-v2", backend="torch")
        >>> plan.backend.name, plan.space.precision
        ('torch', 'float32')
    """

    resolved: ResolvedModel
    backend: BackendChoice
    options: EmbedOptions = field(default_factory=EmbedOptions)
    layout: _onnx.OnnxLayout | None = None  # read once, for the ONNX encoder
    encoder: TextEncoder | None = field(default=None, compare=False)  # a custom encoder

    @functools.cached_property
    def space(self) -> EmbeddingSpace:
        """The cache space of these vectors. For ONNX this needs the model's export, made
        (once per model and machine) the first time it is asked for, not when deciding."""
        options, resolved = self.options, self.resolved
        precision = options.precision
        if self.encoder is not None:
            encoding = custom_encoding(self.encoder)
        elif self.backend.name == "onnx":
            encoding, precision = _onnx.space_encoding(resolved), "int8"
        else:
            from cube.embeddings import _torch  # light, but only PyTorch spaces need it

            encoding = _torch.ENCODING
        config_len = resolved.config.get("max_seq_length")
        return EmbeddingSpace(
            model=resolved.name,
            fingerprint=resolved.fingerprint,
            normalize=bool(options.normalize),
            max_seq_length=options.max_seq_length or (int(config_len) if config_len else None),
            prompt=options.prompt or None,
            precision=precision,
            truncate_dim=options.truncate_dim,
            encoding=encoding,
        )

    def record(self) -> dict[str, Any]:
        """What made (or makes) the vectors, as plain values: for provenance and summaries.

        ``imported_space`` names the space of an imported archive (a workshop's cache) that
        is read first for the same model and settings, whatever backend this machine uses.
        """
        from dataclasses import asdict

        space = self.space
        twin = imported_twin(space) if self.encoder is None else None
        return {
            "model": self.resolved.name,
            "model_fingerprint": self.resolved.fingerprint,
            "backend": self.backend.name,
            "backend_reason": self.backend.reason,
            "space": space.key,
            **{k: v for k, v in asdict(space).items() if k not in ("model", "fingerprint")},
            "imported_space": None
            if twin is None
            else {"space": twin.key, "backend": twin.backend, "encoding": twin.encoding},
        }


_registered: dict[str, TextEncoder] = {}  # register_encoder: model names an encoder computes


def register_encoder(name: str, encoder: TextEncoder | None) -> None:
    """Make ``name`` a model that ``encoder`` computes, everywhere a model name is taken:
    ``cube.embed(texts, name)``, ``cube.topics.fit(..., model=name)``, ``cube topics --model
    name`` in this process. For demos and tests (a fast, deterministic encoder drives the whole
    pipeline); ``None`` removes the name. Its vectors are cached in a space of their own.

    Example:
        >>> register_encoder("demo", HashedWords())
        >>> cube.embed(["A text."], "demo").shape
        (1, 32)
    """
    if encoder is None:
        _registered.pop(name, None)
        return
    _check_custom_encoder(encoder, None)
    _registered[name] = encoder


def _registered_model(name: str, encoder: TextEncoder) -> ResolvedModel:
    """A :class:`ResolvedModel` for a registered encoder: no folder; its fingerprint is the
    name's and the encoder class's."""
    import hashlib
    from pathlib import Path

    kind = f"{type(encoder).__module__}.{type(encoder).__qualname__}"
    resolved = ResolvedModel(name, Path(f"<encoder {name}>"), "registered encoder")
    # The fingerprint is otherwise a hash of the model's files, which it has none of.
    resolved.__dict__["fingerprint"] = hashlib.sha256(f"{name}\0{kind}".encode()).hexdigest()
    resolved.__dict__["config"] = {}
    return resolved


def plan_space(
    model: str | os.PathLike | ResolvedModel | SpacePlan = _config.DEFAULT_MODEL,
    options: EmbedOptions | None = None,
    *,
    backend: str | BackendChoice | None = None,
    encoder: TextEncoder | None = None,
    **option_fields: Any,
) -> SpacePlan:
    """Decide once how texts are embedded: the model resolved, the backend chosen (the ONNX
    layout read), the options. A :class:`SpacePlan` given as ``model`` is returned as it is
    (passing other options or a backend with it is an error: it was already decided).
    ``option_fields`` are :class:`EmbedOptions` fields by name.

    Example:
        >>> plan_space("all-MiniLM-L6-v2", normalize=True).space.normalize
        True
    """
    if isinstance(model, SpacePlan):
        if options is not None or option_fields or backend is not None or encoder is not None:
            raise CubeError(
                "a SpacePlan is an embedding decision already made: pass no options, backend "
                "or encoder with it (make another with plan_space())"
            )
        return model
    options = (options or EmbedOptions()).replace(**option_fields)
    if isinstance(model, str) and model in _registered and encoder is None:
        encoder = _registered[model]
        resolved = _registered_model(model, encoder)
    else:
        resolved = as_resolved(model)
    if encoder is not None:
        _check_custom_encoder(encoder, backend)
        choice = BackendChoice("torch", f"custom encoder {type(encoder).__qualname__}")
        return SpacePlan(resolved, choice, options, None, encoder)
    choice, model_layout = decide(
        backend, resolved, device=options.device, precision=options.precision
    )
    return SpacePlan(resolved, choice, options, model_layout)


def _check_custom_encoder(encoder: object, backend: str | BackendChoice | None) -> None:
    if not isinstance(encoder, TextEncoder):
        raise CubeError(
            f"encoder must have an encode(texts) method returning one vector per text; "
            f"a {type(encoder).__qualname__} has none"
        )
    name = backend.name if isinstance(backend, BackendChoice) else backend
    if name is not None and str(name).lower() not in ("auto", "torch"):
        raise CubeError(
            f"an encoder computes the vectors itself: leave backend unset with it, not {name!r}"
        )
