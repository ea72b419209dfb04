"""Importing BERTopic without the parts ``cube topics`` never uses: ~8 s less per run.

``import bertopic`` loads PyTorch, transformers and sentence-transformers (~8 s on 2 cores) for
optional features: multimodal and text-generation models, zero-shot labels, and PyTorch-pickle
model files. A ``cube topics`` process uses none of them (its vectors come from the cache or
the ONNX backend; models are saved as safetensors), so :func:`import_bertopic_lean` imports
BERTopic with those modules reported missing: BERTopic then puts its own "not installed"
placeholders in their place. Only the command line does this; ``import cube`` never does.
"""

from __future__ import annotations

import sys

# Modules BERTopic imports inside ``try: ... except ImportError``: each one falls back cleanly.
OPTIONAL = (
    "bertopic.backend._multimodal",
    "bertopic.representation._textgeneration",
    "bertopic.representation._zeroshot",
    "bertopic.representation._visual",
)


def import_bertopic_lean() -> bool:
    """Import BERTopic without PyTorch or transformers, unless something loaded them already.

    Returns False (and imports nothing) when BERTopic is already imported.

    Example:
        >>> import_bertopic_lean()
        True
    """
    if "bertopic" in sys.modules:
        return False
    # Everything BERTopic needs besides itself loads first, normally: only BERTopic's own
    # modules run while the optional ones are marked missing.
    import hdbscan  # noqa: F401
    import pandas  # noqa: F401
    import plotly.figure_factory
    import plotly.graph_objects  # noqa: F401
    import scipy.stats  # noqa: F401
    import sklearn.feature_extraction.text  # noqa: F401
    import umap  # noqa: F401

    blocked = [name for name in OPTIONAL if name not in sys.modules]
    if "torch" not in sys.modules:
        blocked.append("torch")  # only bertopic._save_utils asks, for PyTorch-pickle files
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # import raises ImportError
    try:
        import bertopic  # noqa: F401
    finally:
        for name in blocked:
            if sys.modules.get(name) is None:
                del sys.modules[name]
    return True
