"""`cube lab`: the working copy of the notebooks, and a JupyterLab that stays on localhost."""

from __future__ import annotations

import json
import os
import stat

import pytest

from cube.notebook import _lab


@pytest.fixture
def read_only_kit(tmp_path, monkeypatch):
    source = tmp_path / "store" / "notebooks"
    source.mkdir(parents=True)
    for name in ("01-a.ipynb", "02-b.ipynb"):
        (source / name).write_text(json.dumps({"cells": [], "original": name}))
        (source / name).chmod(stat.S_IRUSR | stat.S_IRGRP)
    source.chmod(stat.S_IRUSR | stat.S_IXUSR)
    monkeypatch.setattr(_lab, "kit_notebooks_dir", lambda: source)
    monkeypatch.setattr(
        os, "access", lambda path, mode: mode != os.W_OK or "store" not in str(path)
    )
    yield source
    source.chmod(stat.S_IRWXU)


def test_read_only_notebooks_are_copied_once(read_only_kit, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    root, copied = _lab.prepare_workdir()
    assert root == _lab.DEFAULT_WORKDIR
    assert [p.name for p in copied] == ["01-a.ipynb", "02-b.ipynb"]
    edited = root / "01-a.ipynb"
    edited.write_text("my edits")  # the copy is writable
    root_again, copied_again = _lab.prepare_workdir()
    assert root_again == root and copied_again == []
    assert edited.read_text() == "my edits"


def test_a_writable_checkout_is_used_in_place():
    if not os.access(_lab.kit_notebooks_dir(), os.W_OK):
        pytest.skip("the notebooks are installed read-only here (e.g. the Nix check)")
    root, copied = _lab.prepare_workdir()
    assert root == _lab.kit_notebooks_dir() and copied == []


def test_lab_listens_on_localhost_with_a_token(tmp_path, monkeypatch):
    command = _lab.lab_command(tmp_path, port=8899, open_browser=False)
    assert "--ServerApp.ip=127.0.0.1" in command and "--ServerApp.port=8899" in command
    assert not [a for a in command if "token" in a.lower() or "password" in a.lower()]
    monkeypatch.setenv("JUPYTER_TOKEN", "")
    assert "JUPYTER_TOKEN" not in _lab.lab_environment()
