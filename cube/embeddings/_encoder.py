"""What :func:`~cube.embeddings.embed` runs: one :class:`Encoder` protocol for every backend.

Each backend has one factory that opens an encoder on the texts to encode:
:func:`cube.embeddings._torch.open_encoder` (PyTorch), :func:`cube.embeddings._onnx.open_encoder`
(ONNX Runtime) and :class:`CustomEncoder` (a :class:`TextEncoder` given to ``embed``). The
caller asks it for its steps, encodes each step's rows, and closes it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

import numpy as np

from cube._errors import CubeError

if TYPE_CHECKING:  # pragma: no cover
    from cube.embeddings._space import EmbeddingSpace


class Encoder(Protocol):
    """Vectors of the texts an encoder was opened on, step by step.

    Example:
        >>> encoder = open_encoder(texts, ...)  # one factory per backend
        >>> try:
        ...     for rows in encoder.steps():
        ...         vectors = encoder.encode(rows)
        ... finally:
        ...     encoder.close()
    """

    def steps(self) -> list[np.ndarray]:
        """Positions (into the texts) to encode per step, in the order to encode them."""
        ...

    def encode(self, rows: np.ndarray) -> np.ndarray:
        """Float32 vectors of the texts at ``rows`` (one step's positions), in that order."""
        ...

    def close(self) -> None:
        """Release what the encoder holds (threads, sessions)."""
        ...


@runtime_checkable
class TextEncoder(Protocol):
    """Anything with ``encode(texts) -> array``: what ``embed(..., encoder=...)`` accepts.

    A SentenceTransformer qualifies, and so does a small class in a test.

    Example:
        >>> class Lengths:
        ...     def encode(self, texts):
        ...         return np.array([[len(t), 1.0] for t in texts], np.float32)
        >>> cube.embed(["a", "bcd"], "path/to/model-folder", encoder=Lengths())
        array([[1., 1.],
               [3., 1.]], dtype=float32)
    """

    def encode(self, texts: list[str]) -> np.ndarray:
        """One vector (a row) per text, in order."""
        ...


def custom_encoding(encoder: TextEncoder) -> str:
    """The ``encoding`` of a space whose vectors come from ``encoder``: its qualified class name.

    Example:
        >>> custom_encoding(Lengths())
        'custom encoder __main__.Lengths'
    """
    kind = type(encoder)
    return f"custom encoder {kind.__module__}.{kind.__qualname__}"


def longest_first_steps(texts: list[str], group: int) -> list[np.ndarray]:
    """Positions of ``texts``, longest first (stable), in steps of ``group``."""
    order = np.argsort([-len(t) for t in texts], kind="stable")
    return [order[start : start + group] for start in range(0, len(texts), group)]


def dimension(encoder: object) -> int | None:
    """The vector size an encoder reports (as a SentenceTransformer does), else None."""
    for name in ("get_embedding_dimension", "get_sentence_embedding_dimension"):
        get_dim = getattr(encoder, name, None)
        if callable(get_dim) and get_dim() is not None:
            return int(get_dim())
    return None


class CustomEncoder:
    """An :class:`Encoder` around a :class:`TextEncoder`, applying the space's settings.

    The prompt is put before each text; the vectors are cut to ``truncate_dim``, then scaled
    to unit length if the space normalizes (as sentence-transformers does). Texts go longest
    first, ``4 * batch_size`` per call.
    """

    def __init__(
        self, inner: TextEncoder, texts: list[str], space: EmbeddingSpace, batch_size: int
    ):
        self.inner = inner
        self.texts = texts
        self.space = space
        self.group = max(batch_size * 4, 1)

    def steps(self) -> list[np.ndarray]:
        return longest_first_steps(self.texts, self.group)

    def encode(self, rows: np.ndarray) -> np.ndarray:
        prompt = self.space.prompt or ""
        vectors = np.asarray(self.inner.encode([prompt + self.texts[i] for i in rows]))
        if vectors.ndim != 2 or len(vectors) != len(rows):
            raise CubeError(
                f"the encoder {type(self.inner).__qualname__} returned an array of shape "
                f"{vectors.shape} for {len(rows)} texts; it must return one row per text"
            )
        vectors = vectors.astype(np.float32)
        if self.space.truncate_dim:
            vectors = vectors[:, : self.space.truncate_dim]
        if self.space.normalize:
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            vectors = vectors / np.maximum(norms, 1e-12)
        return vectors

    def close(self) -> None:
        pass
