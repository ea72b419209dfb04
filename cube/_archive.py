"""The cache as one file: :func:`export_cache` and :func:`import_cache`.

An archive is a plain tar file whose first member, ``cube-cache.json``, lists every other
member with its size and SHA-256; the members are the cache's own files under their cache
paths (vector chunks under the SHA-256 of their contents, reductions and figure images under
the hash of their inputs, the ONNX export under its model's fingerprint). The same cache
exports to the same bytes.

Import checks everything before it changes anything: each member's name, type, size and
hash, and each vector chunk's own checksum, into a staging folder inside the cache. Only then
are entries moved into place, one whole file at a time. An entry that is already there with
the same contents is skipped; one that is there with *different* contents is kept as it is and
counted (never overwritten). Vectors are merged row by row under the same rule.

Spaces whose vectors came from an archive are remembered (``imported.json``): texts found there
keep those vectors whichever backend this machine would use, so a room of laptops that imported
one archive sees the same topics (:func:`cube._cache.imported_space_keys`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tarfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from cube import _cache
from cube._errors import CubeError, InputError
from cube._progress import human_bytes
from cube._store import ChunkError, VectorStore, _read_chunk
from cube._version import __version__

MANIFEST_NAME = "cube-cache.json"
FORMAT = "cube-cache/1"
_MAX_MANIFEST = 64 * 1024 * 1024
_COPY_BLOCK = 1 << 20
# What an archive may hold, and nothing else: every path is one a cube cache writes.
_ENTRY = re.compile(
    r"^(?:embeddings/[0-9a-f]{32}/(?:space\.json|[0-9a-f]{64}\.vec)"
    r"|reductions/[0-9a-f]{16,64}\.vec"
    r"|figures/[0-9a-f]{16,64}\.(?:png|jpg|jpeg|webp|svg|pdf|eps)"
    r"|onnx/[0-9a-f]{16,64}/[A-Za-z0-9_][A-Za-z0-9_.-]{0,99})$"
)
_KINDS = ("embeddings", "reductions", "figures", "onnx")


@dataclass
class ArchiveReport:
    """What an export wrote or an import took in.

    ``files`` entries new to the cache (or written to the archive), ``same`` already there
    with the same contents, ``kept`` already there with *different* contents and left alone;
    ``vectors`` rows of vectors added, ``vectors_kept`` rows whose key the cache held with
    another vector.
    """

    path: Path
    files: int = 0
    bytes: int = 0
    vectors: int = 0
    same: int = 0
    kept: int = 0
    vectors_same: int = 0
    vectors_kept: int = 0
    spaces: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the command line."""
        parts = [
            f"{self.files} file{'s' if self.files != 1 else ''} ({human_bytes(self.bytes)})",
            f"{self.vectors} vectors",
        ]
        if self.same or self.vectors_same:
            parts.append(f"{self.same} files and {self.vectors_same} vectors already there")
        if self.kept or self.vectors_kept:
            parts.append(
                f"{self.kept} files and {self.vectors_kept} vectors differ from this cache's "
                "and were not imported (run `cube cache clear`, then import again, to take "
                "the archive's)"
            )
        return ", ".join(parts)


def _cache_entries(root: Path) -> list[tuple[str, Path]]:
    """(archive name, file) of every entry the cache holds, sorted; vector chunks renamed to
    the SHA-256 of their contents, damaged ones left out."""
    entries: list[tuple[str, Path]] = []
    embeddings = root / "embeddings"
    for space in sorted(embeddings.iterdir()) if embeddings.is_dir() else []:
        meta = space / "space.json"
        if not meta.is_file():
            continue
        chunks = []
        for chunk in sorted(VectorStore(space).chunk_files()):
            try:
                _read_chunk(chunk)  # checks its own checksum
            except (ChunkError, OSError, ValueError):
                continue
            chunks.append((f"embeddings/{space.name}/{_cache.file_sha256(chunk)}.vec", chunk))
        if chunks:
            entries.append((f"embeddings/{space.name}/space.json", meta))
            entries.extend(chunks)
    for kind in ("reductions", "figures", "onnx"):
        folder = root / kind
        for path in sorted(folder.rglob("*")) if folder.is_dir() else []:
            name = path.relative_to(root).as_posix()
            if path.is_file() and _ENTRY.match(name):
                entries.append((name, path))
    unique = dict(entries)  # two identical chunks give one entry
    return sorted(unique.items())


def export_cache(path: str | os.PathLike) -> ArchiveReport:
    """Write everything the cache holds to one archive file (atomically).

    Example:
        >>> export_cache("course-cache.tar").files
        412
    """
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{target} is a folder; give the archive's file name, e.g. cache.tar")
    if not target.parent.is_dir():
        raise InputError(f"cannot write {target}: folder {target.parent} does not exist")
    root = _cache.root()
    entries = _cache_entries(root)
    if not entries:
        raise CubeError(f"the cache at {root} is empty: nothing to export")
    listing = [
        {"path": name, "size": file.stat().st_size, "sha256": _cache.file_sha256(file)}
        for name, file in entries
    ]
    spaces = sorted({name.split("/")[1] for name, _ in entries if name.startswith("embeddings/")})
    manifest = json.dumps(
        {"format": FORMAT, "cube": __version__, "spaces": spaces, "entries": listing},
        indent=1,
        sort_keys=True,
    ).encode()

    def member(name: str, size: int) -> tarfile.TarInfo:
        info = tarfile.TarInfo(name)
        info.size, info.mode, info.mtime = size, 0o644, 0  # the same cache gives the same bytes
        return info

    def write(tmp: Path) -> None:
        import io

        with tarfile.open(tmp, "w", format=tarfile.PAX_FORMAT) as tar:
            tar.addfile(member(MANIFEST_NAME, len(manifest)), io.BytesIO(manifest))
            for (name, file), item in zip(entries, listing, strict=True):
                with open(file, "rb") as f:
                    tar.addfile(member(name, item["size"]), f)

    try:
        _cache.atomic_write(target, write, durable=True)
    except OSError as exc:
        raise CubeError(f"cannot write {target} ({exc.strerror})") from exc
    return ArchiveReport(
        path=target,
        files=len(entries),
        bytes=target.stat().st_size,
        vectors=sum(
            _chunk_rows(file)
            for name, file in entries
            if name.endswith(".vec") and name.startswith("embeddings/")
        ),
        spaces=spaces,
    )


def _chunk_rows(path: Path) -> int:
    return len(_read_chunk(path).keys)


class _Damaged(Exception):
    pass


def _read_manifest(tar: tarfile.TarFile) -> dict:
    first = tar.next()
    if first is None or first.name != MANIFEST_NAME or not first.isfile():
        raise _Damaged(f"it does not start with {MANIFEST_NAME}: not a cube cache archive")
    if first.size > _MAX_MANIFEST:
        raise _Damaged(f"{MANIFEST_NAME} is implausibly large")
    try:
        manifest = json.loads(tar.extractfile(first).read())
        entries = manifest["entries"]
        fmt = manifest["format"]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise _Damaged(f"{MANIFEST_NAME} is unreadable") from exc
    if fmt != FORMAT:
        raise _Damaged(f"it is in format {fmt!r}; this cube reads {FORMAT!r} (upgrade cube?)")
    listed: dict[str, tuple[int, str]] = {}
    for item in entries:
        try:
            name, size, sha = str(item["path"]), int(item["size"]), str(item["sha256"])
        except (KeyError, TypeError, ValueError) as exc:
            raise _Damaged(f"{MANIFEST_NAME} has an unreadable entry") from exc
        if not _ENTRY.match(name) or name in listed or not re.fullmatch(r"[0-9a-f]{64}", sha):
            raise _Damaged(f"it lists {name!r}, which is not a cube cache file")
        listed[name] = (size, sha)
    manifest["entries"] = listed
    return manifest


def _stage(archive: Path, staging: Path) -> dict:
    """Every member of ``archive`` checked and copied under ``staging``; its manifest."""
    try:
        tar = tarfile.open(archive, "r:")  # noqa: SIM115 (closed by the with below)
    except (tarfile.TarError, OSError) as exc:
        raise _Damaged(f"it is not a readable tar file ({exc})") from exc
    with tar:
        manifest = _read_manifest(tar)
        listed: dict[str, tuple[int, str]] = manifest["entries"]
        seen: set[str] = set()
        while True:
            try:
                info = tar.next()
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise _Damaged(f"it is cut short or damaged ({exc})") from exc
            if info is None:
                break
            if info.name not in listed or info.name in seen or not info.isfile():
                raise _Damaged(f"it holds {info.name!r}, which its manifest does not list")
            size, sha = listed[info.name]
            if info.size != size:
                raise _Damaged(f"{info.name} has {info.size} bytes, the manifest says {size}")
            target = staging / info.name
            target.parent.mkdir(parents=True, exist_ok=True)
            digest = hashlib.sha256()
            try:
                source = tar.extractfile(info)
                with open(target, "wb") as out:
                    while block := source.read(_COPY_BLOCK):
                        digest.update(block)
                        out.write(block)
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise _Damaged(f"it is cut short or damaged at {info.name} ({exc})") from exc
            if digest.hexdigest() != sha or target.stat().st_size != size:
                raise _Damaged(f"{info.name} does not match its checksum")
            if info.name.endswith(".vec"):
                try:
                    _read_chunk(target)
                except (ChunkError, OSError, ValueError) as exc:
                    raise _Damaged(f"{info.name} is not a valid vector file ({exc})") from exc
            seen.add(info.name)
        missing = sorted(set(listed) - seen)
        if missing:
            raise _Damaged(f"{len(missing)} listed files are missing, e.g. {missing[0]}")
    for name in listed:
        parts = name.split("/")
        if (
            parts[0] == "embeddings"
            and not (staging / parts[0] / parts[1] / "space.json").is_file()
        ):
            raise _Damaged(f"{name} comes without its space.json")
    return manifest


def _same_file(a: Path, b: Path) -> bool:
    return a.stat().st_size == b.stat().st_size and _cache.file_sha256(a) == _cache.file_sha256(b)


def _merge_space(staged: Path, target: Path, report: ArchiveReport) -> None:
    meta = staged / "space.json"
    existing_meta = target / "space.json"
    if existing_meta.is_file():
        try:
            same_space = json.loads(existing_meta.read_text("utf-8")) == json.loads(
                meta.read_text("utf-8")
            )
        except (OSError, ValueError):
            same_space = False
        if not same_space:
            # The folder's name hashes these settings: another description is a damaged one.
            report.kept += 1
            return
        report.same += 1
    else:
        target.mkdir(parents=True, exist_ok=True)
        _cache.atomic_write(existing_meta, meta.read_bytes())
        report.files += 1
        report.bytes += meta.stat().st_size
    store = VectorStore(target)
    for chunk_file in sorted(staged.glob("*.vec")):
        chunk = _read_chunk(chunk_file)
        keys, vectors = np.asarray(chunk.keys), np.asarray(chunk.vectors)
        found, held = store.get(keys)
        new = ~found
        if found.any():
            equal = np.all(held == vectors[found], axis=1)
            report.vectors_same += int(equal.sum())
            report.vectors_kept += int((~equal).sum())
        if new.any():
            store.add(keys[new], vectors[new])
            report.vectors += int(new.sum())
            report.files += 1
            report.bytes += chunk_file.stat().st_size
        else:
            report.same += 1
    store.compact()


def import_cache(path: str | os.PathLike) -> ArchiveReport:
    """Take an archive's entries into the cache, checked first; never overwrites an entry.

    A damaged or foreign archive raises :class:`CubeError` and imports nothing.

    Example:
        >>> import_cache("course-cache.tar").summary()
        '412 files (310.2 MB), 15825 vectors'
    """
    from filelock import FileLock

    archive = Path(path)
    if not archive.is_file():
        raise InputError(f"no archive at {archive}; give the file `cube cache export` wrote")
    root = _cache.root()
    try:
        root.mkdir(parents=True, exist_ok=True)
        staging = root / f".import-{uuid.uuid4().hex[:12]}.part"
        staging.mkdir()
    except OSError as exc:
        raise CubeError(
            f"cannot write to the cache at {root} ({exc.strerror}); "
            "set CUBE_CACHE_DIR to a writable folder"
        ) from exc
    report = ArchiveReport(path=archive)
    try:
        try:
            manifest = _stage(archive, staging)
        except _Damaged as exc:
            raise CubeError(f"cannot import {archive}: {exc}; nothing was imported") from exc
        with FileLock(root / ".import.lock"):
            for name in sorted(manifest["entries"]):
                if name.startswith("embeddings/"):
                    continue
                staged, target = staging / name, root / name
                if target.exists():
                    if _same_file(staged, target):
                        report.same += 1
                    else:
                        report.kept += 1
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staged, target)  # same file system: whole or not at all
                report.files += 1
                report.bytes += target.stat().st_size
            spaces = (
                sorted((staging / "embeddings").glob("*"))
                if (staging / "embeddings").is_dir()
                else []
            )
            for space in spaces:
                _merge_space(space, _cache.embeddings_dir() / space.name, report)
                report.spaces.append(space.name)
            _cache.remember_imported_spaces(report.spaces, root)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return report
