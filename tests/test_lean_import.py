"""cube topics imports BERTopic without PyTorch or transformers; nothing else changes."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # fresh interpreters importing BERTopic

CHECK = """
import sys
from cube.topics._lean import import_bertopic_lean
assert import_bertopic_lean()
heavy = [m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules]
assert not heavy, heavy
from bertopic import BERTopic
from bertopic.representation import KeyBERTInspired, TextGeneration
assert type(TextGeneration).__name__ == "NotInstalled"  # BERTopic's own placeholder
import torch  # still importable afterwards (the ONNX export of a first run needs it)

assert not import_bertopic_lean()  # once only
print("ok")
"""


def test_bertopic_imports_without_torch_and_torch_still_imports_later():
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "ok"


def test_import_cube_alone_never_changes_how_bertopic_imports():
    code = "import sys, cube; import bertopic; print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "True", result.stderr[-2000:]
