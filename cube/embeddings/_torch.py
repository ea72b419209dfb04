"""The PyTorch backend: a sentence-transformers model, run so a vector depends on its text alone.

:func:`open_encoder` loads the model (kept in memory between calls) and returns an
:class:`~cube.embeddings._encoder.Encoder`: the batch-independent one for models that take
token inputs, sentence-transformers' own ``encode`` for others. torch loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from cube.embeddings._encoder import Encoder, longest_first_steps
from cube.embeddings._models import (
    ResolvedModel,
    default_max_seq_length,
    load_model,
    pick_device,
)

if TYPE_CHECKING:  # pragma: no cover
    from cube.embeddings._space import EmbeddingSpace

# The shape of every forward pass of the batch-independent encoder: this many rows, and a
# width in token columns that is the text's own length rounded up to a multiple of _BUCKET.
# Measured on 2 CPU cores against sentence-transformers' own encode (batch_size 32), with the
# same bytes for a text in 24 different compositions: 16 x 16 costs 1.24x; one text per pass
# (exact length, no padding at all) 2.5x; exact lengths with 4 or 8 rows were slower still (many
# small passes). Exact lengths with a varying row count are not batch-independent: the row
# count alone changes the matrix kernels' blocking, hence the last bits.
_FIXED_ROWS = 16
_BUCKET = 16
# How texts are batched, part of every PyTorch space's key (see EmbeddingSpace.encoding).
ENCODING = f"batch-independent: {_FIXED_ROWS} rows x multiples of {_BUCKET} tokens"


def open_encoder(
    texts: list[str],
    resolved: ResolvedModel,
    space: EmbeddingSpace,
    *,
    device: str | None,
    batch_size: int,
) -> Encoder:
    """An encoder of ``texts`` in ``space`` with the model loaded on ``device``.

    Example:
        >>> encoder = open_encoder(["Taxes were cut."], resolved, space, device="cpu", batch_size=32)
        >>> encoder.encode(encoder.steps()[0]).shape
        (1, 384)
    """
    model = load_model(resolved.path, pick_device(device), space.precision)
    # The loaded model is shared between calls (load_model keeps it): give it this space's
    # length each time, its own default when the space has none, so one call's truncation
    # never leaks into a later call's vectors (or their cache key).
    model.max_seq_length = space.max_seq_length or default_max_seq_length(model)
    group = max(batch_size * 4, 1)
    encoder = _BatchIndependentEncoder.for_model(model, texts, space, group)
    if encoder is None:  # a model without token inputs: sentence-transformers' own batching
        return _SentenceTransformersEncoder(model, texts, space, batch_size)
    return encoder


def model_dim(resolved: ResolvedModel, device: str | None, precision: str) -> int:
    """The size of the model's vectors (loads the model)."""
    model = load_model(resolved.path, pick_device(device), precision)
    get_dim = (
        getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    )
    return int(get_dim())


class _SentenceTransformersEncoder:
    """sentence-transformers' own ``encode``, longest texts first, ``4 * batch_size`` per step.

    Its vectors depend in their last bits on the texts that share a batch; only models
    without token inputs, which the batch-independent encoder cannot pad, come here.
    """

    def __init__(self, model, texts: list[str], space: EmbeddingSpace, batch_size: int):
        self.model = model
        self.texts = texts
        self.space = space
        self.batch_size = batch_size

    def steps(self) -> list[np.ndarray]:
        return longest_first_steps(self.texts, max(self.batch_size * 4, 1))

    def encode(self, rows: np.ndarray) -> np.ndarray:
        return self.model.encode(
            [self.texts[i] for i in rows],
            batch_size=self.batch_size,
            normalize_embeddings=self.space.normalize,
            prompt=self.space.prompt,
            truncate_dim=self.space.truncate_dim,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    def close(self) -> None:
        pass


class _BatchIndependentEncoder:
    """Encode so that a text's vector is bit-for-bit a function of the text alone.

    sentence-transformers pads each batch to its longest text, and torch's CPU kernels sum
    in an order that depends on the tensor's shape: a vector then changes in its last bits
    (about 1e-7) with the texts that happened to share its batch, and a topic model fitted
    on those vectors changes with what the cache already held. Here the shape of a text's
    forward pass depends on the text alone: it is padded (with the attention mask, as the
    tokenizer pads) to its length rounded up to a multiple of ``_BUCKET`` tokens, passes
    go by length bucket, and every pass has exactly ``_FIXED_ROWS`` rows, the last one of a
    bucket filled with repeats of a text. In a pass of fixed shape, a row's result does not
    depend on the other rows' contents or on its position.
    """

    def __init__(
        self, model, features: dict, lengths: np.ndarray, space: EmbeddingSpace, group: int
    ):
        self.model = model
        self.features = features
        self.widths = -(-lengths // _BUCKET) * _BUCKET
        self.space = space
        self.group = group
        tokenizer = getattr(model, "tokenizer", None)
        self.left = getattr(tokenizer, "padding_side", "right") == "left"

    @classmethod
    def for_model(
        cls, model, texts: list[str], space: EmbeddingSpace, group: int
    ) -> _BatchIndependentEncoder | None:
        """Tokenize all texts once, as sentence-transformers would; None for other models."""
        import torch

        preprocess = getattr(model, "preprocess", None)
        if preprocess is None:
            return None
        features = preprocess(texts, prompt=space.prompt)
        ids, mask = features.get("input_ids"), features.get("attention_mask")
        if not isinstance(ids, torch.Tensor) or not isinstance(mask, torch.Tensor):
            return None
        if ids.ndim != 2 or mask.shape != ids.shape or ids.shape[0] != len(texts):
            return None
        # Pad every token tensor to a multiple of _BUCKET columns once, so that any bucket's
        # width is a slice of it.
        extra = -ids.shape[1] % _BUCKET
        if extra:
            tokenizer = getattr(model, "tokenizer", None)
            pad_id = getattr(tokenizer, "pad_token_id", None) or 0
            left = getattr(tokenizer, "padding_side", "right") == "left"
            for name, value in list(features.items()):
                if isinstance(value, torch.Tensor) and value.shape[:2] == ids.shape:
                    pad = torch.full(
                        (value.shape[0], extra, *value.shape[2:]),
                        pad_id if name == "input_ids" else 0,
                        dtype=value.dtype,
                    )
                    features[name] = torch.cat([pad, value] if left else [value, pad], dim=1)
        lengths = features["attention_mask"].sum(dim=1).numpy()
        return cls(model, features, lengths, space, group)

    def steps(self) -> list[np.ndarray]:
        """Positions of the texts to encode per step: one bucket each, longest first."""
        order = np.argsort(-self.widths, kind="stable")
        rows = max(_FIXED_ROWS * (self.group // _FIXED_ROWS), _FIXED_ROWS)
        out = []
        for width in np.unique(self.widths)[::-1]:
            same = order[self.widths[order] == width]
            out.extend(same[start : start + rows] for start in range(0, len(same), rows))
        return out

    def encode(self, rows: np.ndarray) -> np.ndarray:
        """Vectors of ``rows``, which all fall in one length bucket."""
        import torch

        width = int(self.widths[rows[0]])
        out = []
        with torch.inference_mode():
            self.model.eval()
            for start in range(0, len(rows), _FIXED_ROWS):
                part = rows[start : start + _FIXED_ROWS]
                filled = np.concatenate([part, np.repeat(part[-1:], _FIXED_ROWS - len(part))])
                batch = self._features(torch.from_numpy(filled), width)
                vectors = self.model(batch)["sentence_embedding"]
                if self.space.truncate_dim:
                    vectors = vectors[:, : self.space.truncate_dim]
                if self.space.normalize:
                    vectors = torch.nn.functional.normalize(vectors, p=2, dim=1)
                out.append(vectors[: len(part)].float().cpu().numpy())
        return np.concatenate(out)

    def close(self) -> None:
        pass

    def _features(self, rows, width: int) -> dict:
        """The tokenized rows, padded as the tokenizer pads to ``width`` columns."""
        import torch

        full = self.features["attention_mask"]
        columns = slice(full.shape[1] - width, None) if self.left else slice(0, width)
        batch = {}
        for name, value in self.features.items():
            if isinstance(value, torch.Tensor) and value.shape[:2] == full.shape:
                value = value[rows][:, columns]
            elif isinstance(value, torch.Tensor) and value.ndim and len(value) == len(full):
                value = value[rows]
            if isinstance(value, torch.Tensor):
                value = value.to(self.model.device)
            batch[name] = value
        return batch
