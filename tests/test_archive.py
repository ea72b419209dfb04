"""cube cache export / import: one file carries a cache to another machine, checked first."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

import numpy as np
import pytest

import cube
from cube import _cache
from cube._archive import MANIFEST_NAME, export_cache, import_cache
from cube._cache import imported_space_keys
from cube._store import VectorStore, save_matrix, text_keys
from cube.cli import main
from cube.embeddings import cache_spaces

TEXTS = [f"Passage number {i} about the union." for i in range(40)]


def _fill(fake_encoder, texts=TEXTS) -> None:
    """A cache holding real entries of each kind cube writes."""
    model_dir, encoder = fake_encoder
    cube.embed(texts[:25], model_dir, encoder=encoder)
    cube.embed(texts[25:], model_dir, encoder=encoder)  # a second chunk
    save_matrix(_cache.reductions_dir() / f"{'ab' * 20}.vec", np.arange(12.0).reshape(6, 2))
    _cache.figures_dir().mkdir(parents=True, exist_ok=True)
    (_cache.figures_dir() / f"{'cd' * 16}.png").write_bytes(b"\x89PNG figure bytes")


def _snapshot(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.name.endswith(".lock")
    }


def _vectors(texts=TEXTS) -> np.ndarray:
    (space,) = cache_spaces()
    found, vectors = VectorStore(space["path"]).get(text_keys(texts))
    assert found.all()
    return vectors


@pytest.fixture
def other_cache(tmp_path, cube_settings):
    """Switch to a second, empty cache (another laptop)."""

    def switch() -> Path:
        root = tmp_path / "laptop-cache"
        cube_settings(cache_dir=root)
        return root

    return switch


def test_round_trip_carries_every_entry_and_is_deterministic(fake_encoder, tmp_path, other_cache):
    _fill(fake_encoder)
    before = _vectors()
    report = export_cache(tmp_path / "a.tar")
    again = export_cache(tmp_path / "b.tar")
    assert (tmp_path / "a.tar").read_bytes() == (tmp_path / "b.tar").read_bytes()
    assert report.vectors == len(TEXTS) and report.files == 5  # space.json, 2 chunks, 2 files
    assert again.files == report.files

    root = other_cache()
    imported = import_cache(tmp_path / "a.tar")
    assert (imported.vectors, imported.kept, imported.vectors_kept) == (len(TEXTS), 0, 0)
    assert np.array_equal(_vectors(), before)
    assert (root / "reductions" / f"{'ab' * 20}.vec").is_file()
    assert (root / "figures" / f"{'cd' * 16}.png").read_bytes() == b"\x89PNG figure bytes"
    assert imported_space_keys() == [cache_spaces()[0]["key"]]
    assert not list(root.glob(".import-*"))

    # A cached text is not encoded again on the other laptop.
    model_dir, encoder = fake_encoder
    encoder.encoded.clear()
    cube.embed(TEXTS[:3], model_dir, encoder=encoder)
    assert encoder.encoded == []

    # Importing twice changes nothing and says so.
    state = _snapshot(root)
    second = import_cache(tmp_path / "a.tar")
    assert (second.files, second.vectors, second.vectors_same) == (0, 0, len(TEXTS))
    assert second.same == 5
    assert _snapshot(root) == state


def test_import_never_overwrites_a_different_entry(fake_encoder, tmp_path, other_cache):
    _fill(fake_encoder)
    export_cache(tmp_path / "cache.tar")
    other_cache()
    # This laptop already holds other vectors for three texts, and another reduction file.
    model_dir, encoder = fake_encoder
    cube.embed(TEXTS[:3], model_dir, encoder=encoder)
    (space,) = cache_spaces()
    own = np.full((3, encoder.dim), 7.0, np.float32)
    for chunk in Path(space["path"]).glob("*.vec"):
        chunk.unlink()
    VectorStore(space["path"]).add(text_keys(TEXTS[:3]), own)
    reduction = _cache.reductions_dir() / f"{'ab' * 20}.vec"
    save_matrix(reduction, np.zeros((6, 2)))
    kept_bytes = reduction.read_bytes()

    report = import_cache(tmp_path / "cache.tar")
    assert (report.vectors_kept, report.vectors, report.kept) == (3, len(TEXTS) - 3, 1)
    assert "differ from this cache's and were not imported" in report.summary()
    assert np.array_equal(_vectors()[:3], own)
    assert reduction.read_bytes() == kept_bytes


def _rewrite(source: Path, target: Path, change) -> None:
    """Copy a tar member by member, letting ``change(name, data)`` alter or drop members."""
    import io

    with tarfile.open(source) as tin, tarfile.open(target, "w", format=tarfile.PAX_FORMAT) as tout:
        for info in tin.getmembers():
            data = tin.extractfile(info).read()
            changed = change(info.name, data)
            if changed is None:
                continue
            name, data = changed
            new = tarfile.TarInfo(name)
            new.size = len(data)
            tout.addfile(new, io.BytesIO(data))


def _flip_last_byte(name, data):
    if name.endswith(".vec") and name.startswith("embeddings/"):
        return name, data[:-1] + bytes([data[-1] ^ 1])
    return name, data


def _drop_reduction(name, data):
    return None if name.startswith("reductions/") else (name, data)


def _climb_out(name, data):
    if name == MANIFEST_NAME:
        manifest = json.loads(data)
        manifest["entries"][0]["path"] = "../../etc/cube-owned"
        return name, json.dumps(manifest).encode()
    return name, data


def _extra_member(name, data):
    return (
        ("reductions/" + "ef" * 20 + ".vec", data)
        if name.startswith("figures/")
        else (
            name,
            data,
        )
    )


@pytest.mark.parametrize(
    "damage, says",
    [
        (_flip_last_byte, "does not match its checksum"),
        (_drop_reduction, "listed files are missing"),
        (_climb_out, "which is not a cube cache file"),
        (_extra_member, "which its manifest does not list"),
        ("truncate", "cut short or damaged"),
        ("not a tar", "not a readable tar file"),
    ],
)
def test_a_damaged_archive_is_refused_in_one_line_and_nothing_is_imported(
    fake_encoder, tmp_path, other_cache, capsys, damage, says
):
    _fill(fake_encoder)
    good = tmp_path / "good.tar"
    export_cache(good)
    bad = tmp_path / "bad.tar"
    if damage == "truncate":
        with tarfile.open(good) as tar:
            last = tar.getmembers()[-1]
        bad.write_bytes(good.read_bytes()[: last.offset_data + last.size // 2])
    elif damage == "not a tar":
        bad.write_text("hello, this is a note and not an archive\n" * 30)
    else:
        _rewrite(good, bad, damage)
    root = other_cache()
    root.mkdir()
    (root / "keep.txt").write_text("mine")
    before = _snapshot(root)

    assert main(["cache", "import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and says in err and "nothing was imported" in err
    assert _snapshot(root) == before
    assert not list(root.glob(".import-*"))


def test_cli_export_and_import(fake_encoder, tmp_path, other_cache, capsys):
    assert main(["cache", "export", str(tmp_path / "empty.tar")]) == 2
    assert "is empty: nothing to export" in capsys.readouterr().err
    _fill(fake_encoder)
    assert main(["cache", "export", str(tmp_path / "nowhere" / "c.tar")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["cache", "export", str(tmp_path / "c.tar")]) == 0
    assert "exported 5 files" in capsys.readouterr().out
    other_cache()
    assert main(["cache", "import", str(tmp_path / "c.tar")]) == 0
    out = capsys.readouterr().out
    assert out.startswith("imported 5 files") and f"{len(TEXTS)} vectors" in out
    assert main(["cache", "import", str(tmp_path / "missing.tar")]) == 2
    assert "no archive at" in capsys.readouterr().err
