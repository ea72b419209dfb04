"""Content-addressed storage of float32 row vectors, safe for concurrent writers.

A store is one directory holding immutable *chunk files*. Each chunk holds ``n`` keys
(32-byte digests) and their ``n`` vectors, behind a small JSON header with a checksum::

    b"CUBEVEC1" | uint32 header length | JSON header (padded to 64 bytes) | keys | vectors

Writers never modify a chunk: they write a new one to a temporary name, fsync it and
rename it into place, so a reader sees a whole chunk or none. Two processes writing at once
just add two chunks.

New chunks land in the store's folder. Merging (:meth:`VectorStore.compact`) moves their rows
into 16 *shards* by the first hex digit of the key (``shard-0`` … ``shard-f``), skipping rows a
shard already holds, and merges a shard's own files when it has many: a merge rewrites the new
rows and at most one shard (a sixteenth of the store), never the whole store, and every folder
stays small at ten million rows. A damaged chunk (bad checksum, wrong size) is reported with a
:class:`~cube._errors.CacheWarning`, removed, and its rows count as missing. Chunks are
memory-mapped read-only; the pages a lookup touched are let go after it (they stay in the
system's file cache, not in the process's memory), so reading a million vectors back costs
their copy, not their copy plus the mapped files. Nothing here uses pickle.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import mmap
import struct
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cube._cache import atomic_write
from cube._errors import CacheWarning, CubeError

MAGIC = b"CUBEVEC1"
KEY_BYTES = 32
CHUNK_SUFFIX = ".vec"
_ALIGN = 64
_COMPACT_AT = 24  # merge the new chunks of a store once it has this many
_SHARD_MERGE_AT = 8  # and a shard's files once it has this many
SHARDS = 16  # shard folders, by the first hex digit of the key
_STALE_PART_SECONDS = 3600
_GET_BLOCK = 16_384  # rows copied out of a chunk at a time


def text_keys(texts: list[str]) -> np.ndarray:
    """SHA-256 of each text's UTF-8 bytes, as an ``(n, 32)`` uint8 array."""
    out = np.empty((len(texts), KEY_BYTES), dtype=np.uint8)
    buf = out.reshape(-1).data
    for i, text in enumerate(texts):
        buf[i * KEY_BYTES : (i + 1) * KEY_BYTES] = hashlib.sha256(
            text.encode("utf-8", "surrogatepass")
        ).digest()
    return out


@dataclass(frozen=True)
class _Chunk:
    path: Path
    keys: np.ndarray  # (n, 32) uint8, memory-mapped
    vectors: np.ndarray  # (n, dim) float32, memory-mapped
    mapping: mmap.mmap | None = None

    def let_go(self) -> None:
        """Drop the pages read through the mapping from this process (Linux, macOS): the
        next read finds them in the file cache."""
        if self.mapping is not None and hasattr(self.mapping, "madvise"):
            with contextlib.suppress(OSError, ValueError):
                self.mapping.madvise(mmap.MADV_DONTNEED)


class ChunkError(Exception):
    """A chunk file is damaged."""


def _write_chunk(path: Path, keys: np.ndarray, vectors: np.ndarray) -> None:
    keys = np.ascontiguousarray(keys, dtype=np.uint8)
    vectors = np.ascontiguousarray(vectors, dtype="<f4")
    payload_hash = hashlib.sha256()
    payload_hash.update(keys.data)
    payload_hash.update(vectors.data)
    header = {
        "format": 1,
        "n": int(vectors.shape[0]),
        "key_bytes": int(keys.shape[1]),
        "dim": int(vectors.shape[1]),
        "dtype": "<f4",
        "sha256": payload_hash.hexdigest(),
    }
    raw = json.dumps(header).encode()
    start = len(MAGIC) + 4 + len(raw)
    raw += b" " * (-start % _ALIGN)

    def write(tmp: Path) -> None:
        with open(tmp, "wb") as f:
            f.write(MAGIC + struct.pack("<I", len(raw)) + raw)
            f.write(keys.data)
            f.write(vectors.data)

    atomic_write(path, write, durable=True)


def _read_chunk(path: Path) -> _Chunk:
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(len(MAGIC) + 4)
        if len(head) < len(MAGIC) + 4 or not head.startswith(MAGIC):
            raise ChunkError("not a cube vector file")
        (header_len,) = struct.unpack("<I", head[len(MAGIC) :])
        try:
            header = json.loads(f.read(header_len))
            n, dim, checksum = int(header["n"]), int(header["dim"]), str(header["sha256"])
            key_bytes = int(header.get("key_bytes", KEY_BYTES))
        except (ValueError, KeyError, TypeError) as exc:
            raise ChunkError("unreadable header") from exc
    offset = len(MAGIC) + 4 + header_len
    expected = offset + n * key_bytes + n * dim * 4
    if header.get("format") != 1 or header.get("dtype") != "<f4" or n <= 0 or dim <= 0:
        raise ChunkError("unknown layout")
    if key_bytes not in (0, KEY_BYTES):
        raise ChunkError("unknown key size")
    if size != expected:
        raise ChunkError(f"{size} bytes where {expected} were expected (truncated?)")
    payload = hashlib.sha256()  # read, not mapped: checking a chunk keeps none of it in memory
    with open(path, "rb") as f:
        f.seek(offset)
        while block := f.read(1 << 24):
            payload.update(block)
        if payload.hexdigest() != checksum:
            raise ChunkError("checksum mismatch")
        mapping = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    data = np.frombuffer(mapping, dtype=np.uint8, count=expected - offset, offset=offset)
    keys = data[: n * key_bytes].reshape(n, key_bytes)
    vectors = data[n * key_bytes :].view("<f4").reshape(n, dim)
    return _Chunk(path, keys, vectors, mapping)


def save_matrix(path: Path, matrix: np.ndarray) -> None:
    """Write one float32 matrix to ``path`` atomically, with a checksum (same file format)."""
    matrix = np.asarray(matrix, dtype=np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_chunk(path, np.empty((len(matrix), 0), np.uint8), matrix)


def load_matrix(path: Path) -> np.ndarray | None:
    """The matrix at ``path``; None if there is none, or (with a warning) if it is damaged."""
    try:
        chunk = _read_chunk(path)
    except FileNotFoundError:
        return None
    except (ChunkError, OSError, ValueError) as exc:
        warnings.warn(
            f"cube: damaged cache file {path} ({exc}); removed it, it will be recomputed",
            CacheWarning,
            stacklevel=2,
        )
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    return np.array(chunk.vectors)


def _first_of_each_key(chunks: list[_Chunk]) -> tuple[np.ndarray, np.ndarray]:
    """The chunks' rows, each key once (its first row), in their order."""
    keys = np.concatenate([c.keys for c in chunks])
    vectors = np.concatenate([c.vectors for c in chunks])
    _, first = np.unique(keys, axis=0, return_index=True)
    first.sort()
    return keys[first], vectors[first]


class VectorStore:
    """Vectors addressed by 32-byte keys, in one directory of chunk files.

    Example:
        >>> store = VectorStore(tmp_path / "space")
        >>> keys = text_keys(["a", "b"])
        >>> store.add(keys, np.ones((2, 3), np.float32))
        >>> found, vectors = store.get(keys)
    """

    def __init__(self, directory: Path, *, shards_only: bool = False) -> None:
        self.directory = Path(directory)
        self.shards_only = shards_only  # read only the merged rows (what a merge compares to)
        self._chunks: dict[tuple[str, int, int], _Chunk] = {}
        self._index: tuple[tuple, np.ndarray, np.ndarray, np.ndarray, list[_Chunk]] | None = None

    # -- reading ---------------------------------------------------------------------------
    def _new_chunk_files(self) -> list[Path]:
        """Chunks as writers add them, not yet merged into the shards."""
        try:
            return sorted(p for p in self.directory.iterdir() if p.name.endswith(CHUNK_SUFFIX))
        except OSError:  # not there (yet), or not readable: nothing cached
            return []

    def _shard_files(self, shard: int) -> list[Path]:
        folder = self.directory / f"shard-{shard:x}"
        try:
            return sorted(p for p in folder.iterdir() if p.name.endswith(CHUNK_SUFFIX))
        except OSError:
            return []

    def _chunk_files(self) -> list[Path]:
        sharded = [p for i in range(SHARDS) for p in self._shard_files(i)]
        return sharded if self.shards_only else [*self._new_chunk_files(), *sharded]

    def chunk_files(self) -> list[Path]:
        """Every chunk file of the store: new ones first, then the shards' (for an archive)."""
        return self._chunk_files()

    def _load_chunks(self) -> list[_Chunk]:
        chunks: list[_Chunk] = []
        seen: dict[tuple[str, int, int], _Chunk] = {}
        for path in self._chunk_files():
            try:
                st = path.stat()
            except FileNotFoundError:  # merged away by another process meanwhile
                continue
            sig = (path.name, st.st_size, st.st_mtime_ns)
            chunk = self._chunks.get(sig)
            if chunk is None:
                try:
                    chunk = _read_chunk(path)
                except FileNotFoundError:
                    continue
                except (ChunkError, OSError, ValueError) as exc:
                    self._discard(path, str(exc))
                    continue
            seen[sig] = chunk
            chunks.append(chunk)
        self._chunks = seen
        return chunks

    def _discard(self, path: Path, reason: str) -> None:
        warnings.warn(
            f"cube: damaged cache file {path} ({reason}); removed it, its vectors will be "
            "recomputed",
            CacheWarning,
            stacklevel=4,
        )
        with contextlib.suppress(OSError):
            path.unlink()

    def _build_index(self):
        chunks = self._load_chunks()
        sig = tuple(c.path.name for c in chunks)
        if self._index is not None and self._index[0] == sig:
            return self._index
        if chunks:
            all_keys = np.concatenate([c.keys for c in chunks])
            owner = np.concatenate(
                [np.full(len(c.keys), i, dtype=np.int32) for i, c in enumerate(chunks)]
            )
            row = np.concatenate([np.arange(len(c.keys), dtype=np.int64) for c in chunks])
        else:
            all_keys = np.empty((0, KEY_BYTES), np.uint8)
            owner = np.empty(0, np.int32)
            row = np.empty(0, np.int64)
        for chunk in chunks:
            chunk.let_go()
        prefix = all_keys[:, :8].copy().view("<u8").reshape(-1)
        order = np.argsort(prefix, kind="stable")
        where = np.stack([owner[order], row[order]])
        self._index = (sig, prefix[order], all_keys[order], where, chunks)
        return self._index

    def _locate(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
        """Which keys are stored, where (their positions in the index) and the chunks."""
        keys = np.ascontiguousarray(keys, dtype=np.uint8)
        _, sorted_prefix, sorted_keys, where, chunks = self._build_index()
        if not chunks or not len(keys):
            return np.zeros(len(keys), dtype=bool), np.empty(0, np.int64), where, chunks
        query = keys[:, :8].copy().view("<u8").reshape(-1)
        pos = np.searchsorted(sorted_prefix, query)
        pos_clipped = np.minimum(pos, len(sorted_prefix) - 1)
        found = (pos < len(sorted_prefix)) & np.all(sorted_keys[pos_clipped] == keys, axis=1)
        return found, pos_clipped[found], where, chunks

    def contains(self, keys: np.ndarray) -> np.ndarray:
        """Which keys are stored (a boolean mask), reading no vector."""
        return self._locate(keys)[0]

    def get(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Look keys up: a boolean mask of those found and their vectors (rows of the mask)."""
        found, hits, where, chunks = self._locate(keys)
        if not chunks or not len(found):
            return found, None
        owners, rows = where[0, hits], where[1, hits]
        dim = chunks[0].vectors.shape[1]
        vectors = np.empty((len(hits), dim), dtype=np.float32)
        for i in np.unique(owners):
            sel = np.flatnonzero(owners == i)
            sel = sel[np.argsort(rows[sel], kind="stable")]  # through the file in order
            for start in range(0, len(sel), _GET_BLOCK):  # a bounded temporary, pages let go
                part = sel[start : start + _GET_BLOCK]
                vectors[part] = chunks[i].vectors[rows[part]]
                chunks[i].let_go()
        return found, vectors

    def dim(self) -> int | None:
        chunks = self._build_index()[4]
        return int(chunks[0].vectors.shape[1]) if chunks else None

    def stats(self) -> tuple[int, int]:
        """(rows, bytes on disk), counting rows stored more than once once per copy."""
        chunks = self._build_index()[4]
        return sum(len(c.keys) for c in chunks), sum(c.path.stat().st_size for c in chunks)

    # -- writing ---------------------------------------------------------------------------
    def add(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """Write ``keys`` → ``vectors`` as one new chunk (atomic: all rows or none)."""
        self._add(self.directory, keys, vectors)

    def _add(self, folder: Path, keys: np.ndarray, vectors: np.ndarray) -> None:
        if len(keys) == 0:
            return
        if len(keys) != len(vectors) or vectors.ndim != 2:
            raise ValueError("keys and vectors must have the same number of rows")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:12]}{CHUNK_SUFFIX}"
            _write_chunk(folder / name, keys, vectors)
        except OSError as exc:
            raise CubeError(
                f"cannot write to the cache at {self.directory} ({exc.strerror}); "
                "set CUBE_CACHE_DIR to a writable folder"
            ) from exc

    def compact(
        self, *, force: bool = False, move_at: int = _COMPACT_AT, merge_at: int = _SHARD_MERGE_AT
    ) -> bool:
        """Move new chunks' rows into the shards when there are many new chunks, and merge a
        shard's files when it has many; returns True if it merged anything.

        ``force``: whatever there is to move or merge. ``move_at``: how many new chunks are
        many (default 24); ``merge_at``: how many files in one shard are (default 8). Other
        processes may read or write meanwhile: merged files are written before the old ones
        are removed, and a lock keeps two compactions from racing.

        Example:
            >>> store.compact(move_at=1)  # whatever new chunks there are go into the shards
        """
        from filelock import FileLock, Timeout

        new = self._new_chunk_files()
        crowded = [i for i in range(SHARDS) if len(self._shard_files(i)) >= merge_at]
        if not force and len(new) < move_at and not crowded:
            return False
        try:
            with FileLock(self.directory / ".compact.lock", timeout=0):
                merged = self._move_into_shards(force or len(new) >= move_at)
                for shard in range(SHARDS):
                    files = self._shard_files(shard)
                    if len(files) >= (2 if force else merge_at):
                        merged |= self._merge(files, self.directory / f"shard-{shard:x}")
                self._remove_stale_parts()
        except Timeout:
            return False
        self._chunks.clear()
        self._index = None
        return merged

    def _move_into_shards(self, wanted: bool) -> bool:
        new = [c for c in self._load_chunks() if c.path.parent == self.directory]
        if not wanted or not new:
            return False
        keys, vectors = _first_of_each_key(new)
        held, _ = VectorStore(self.directory, shards_only=True).get(keys)  # already sharded
        keys, vectors = keys[~held], vectors[~held]
        shard_of = keys[:, 0] >> 4
        for shard in np.unique(shard_of):
            rows = shard_of == shard
            self._add(self.directory / f"shard-{int(shard):x}", keys[rows], vectors[rows])
        for c in new:
            with contextlib.suppress(OSError):
                c.path.unlink()
        return True

    def _merge(self, files: list[Path], folder: Path) -> bool:
        chunks = []
        for path in files:
            with contextlib.suppress(FileNotFoundError, ChunkError, OSError, ValueError):
                chunks.append(_read_chunk(path))
        if len(chunks) < 2:
            return False
        self._add(folder, *_first_of_each_key(chunks))
        for c in chunks:
            with contextlib.suppress(OSError):
                c.path.unlink()
        return True

    def _remove_stale_parts(self) -> None:
        cutoff = time.time() - _STALE_PART_SECONDS
        for p in self.directory.glob("**/.*.part"):
            with contextlib.suppress(OSError):
                if p.stat().st_mtime < cutoff:
                    p.unlink()
