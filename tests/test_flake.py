"""flake.nix parses, and flake.lock matches its inputs and follows exactly.

Debian's Nix (2.8) cannot evaluate current nixpkgs, but it parses flake.nix and evaluates its
`inputs` attribute, which is plain data.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FLAKE, LOCK = ROOT / "flake.nix", ROOT / "flake.lock"
NIX_INSTANTIATE = shutil.which("nix-instantiate")
needs_nix = pytest.mark.skipif(NIX_INSTANTIATE is None, reason="nix-instantiate (Debian: nix-bin)")


def flake_inputs() -> dict:
    out = subprocess.run(
        [NIX_INSTANTIATE, "--eval", "--strict", "--json", "-E", f"(import {FLAKE}).inputs"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


@needs_nix
def test_flake_nix_parses():
    subprocess.run([NIX_INSTANTIATE, "--parse", str(FLAKE)], check=True, capture_output=True)


@needs_nix
def test_lock_matches_inputs_and_follows():
    inputs = flake_inputs()
    lock = json.loads(LOCK.read_text())
    assert lock["version"] == 7
    nodes = lock["nodes"]
    root = nodes[lock["root"]]
    assert set(root["inputs"]) == set(inputs)
    # Every input follows ours, so the lock has exactly one node per input, plus root.
    assert set(nodes) == {lock["root"], *(root["inputs"][name] for name in inputs)}
    for name, spec in inputs.items():
        node = nodes[root["inputs"][name]]
        match = re.fullmatch(r"github:([^/]+)/([^/]+)(?:/(.+))?", spec["url"])
        assert match, spec["url"]
        owner, repo, ref = match.groups()
        expected_original = {"owner": owner, "repo": repo, "type": "github"}
        if ref:
            expected_original["ref"] = ref
        assert node["original"] == expected_original
        locked = node["locked"]
        assert (locked["owner"], locked["repo"], locked["type"]) == (owner, repo, "github")
        assert re.fullmatch(r"[0-9a-f]{40}", locked["rev"])
        assert re.fullmatch(r"sha256-[A-Za-z0-9+/]{43}=", locked["narHash"])
        assert isinstance(locked["lastModified"], int) and locked["lastModified"] > 1.7e9
        follows = {k: [v["follows"]] for k, v in spec.get("inputs", {}).items()}
        assert node.get("inputs", {}) == follows, name


def test_flake_covers_the_supported_systems():
    text = FLAKE.read_text()
    for system in ("x86_64-linux", "aarch64-linux", "aarch64-darwin"):
        assert f'"{system}"' in text
    assert '"x86_64-darwin"' not in text
