"""A large corpus's texts kept in a file while it is modeled, read back when indexed."""

from __future__ import annotations

import os
import tempfile
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, overload

import numpy as np

_BLOCK = 10_000  # texts read at once when iterating


class TextsOnDisk(Sequence[str]):
    """Texts in an unnamed temporary file (UTF-8, one after another), read when indexed.

    What ``cube topics`` holds of a large file's texts: an index of 16 bytes per text, not
    the texts as Python strings (0.7 GB at a million passages). The file has no name where
    the OS allows (Linux, macOS: deleted when made), so nothing is left behind however the
    process ends; reads go through the OS's page cache, not this process's memory.
    Indexing works as on a list (a position, a slice); an array of positions gives a list,
    and :meth:`take` a view of those texts that reads nothing yet.

    Example:
        >>> texts = TextsOnDisk.write([["A text.", "Another."], ["A third."]], folder=Path("."))
        >>> len(texts), texts[2], texts[:2]
        (3, 'A third.', ['A text.', 'Another.'])
    """

    def __init__(self, file: IO[bytes], starts: np.ndarray, ends: np.ndarray):
        self._file = file
        self._starts = starts
        self._ends = ends
        self._lock = threading.Lock()  # for seek+read where the OS has no pread

    @classmethod
    def write(cls, parts: Iterable[Sequence[str]], folder: str | os.PathLike) -> TextsOnDisk:
        """Write the texts of ``parts`` (lists of texts, in order) to a file in ``folder``."""
        # Closed by close() or with the last view of it: not a with-block.
        file = tempfile.TemporaryFile(dir=Path(folder), prefix=".cube-texts-")  # noqa: SIM115
        lengths = []
        try:
            for part in parts:
                encoded = [text.encode("utf-8", "surrogatepass") for text in part]
                file.write(b"".join(encoded))
                lengths.append(np.fromiter(map(len, encoded), np.int64, len(encoded)))
            file.flush()
        except BaseException:
            file.close()
            raise
        sizes = np.concatenate(lengths) if lengths else np.empty(0, np.int64)
        ends = np.cumsum(sizes)
        return cls(file, ends - sizes, ends)

    def __len__(self) -> int:
        return len(self._starts)

    @property
    def nbytes(self) -> int:
        """The texts' size in UTF-8."""
        return int(self.sizes().sum())

    def sizes(self) -> np.ndarray:
        """Each text's size in UTF-8 bytes (read from the index: no text is read)."""
        return self._ends - self._starts

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index):
        if isinstance(index, (int, np.integer)):
            i = int(index) + (len(self) if index < 0 else 0)
            if not 0 <= i < len(self):
                raise IndexError(f"text {index} of {len(self)}")
            return self._read_one(i)
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step == 1:
                return self._read_run(start, stop)
            return [self._read_one(i) for i in range(start, stop, step)]
        positions = np.asarray(index)
        if positions.dtype == bool:
            positions = np.flatnonzero(positions)
        return [self[int(i)] for i in positions]

    def take(self, positions: Sequence[int] | np.ndarray) -> TextsOnDisk:
        """The texts at ``positions``, in that order, read when indexed (nothing is read now)."""
        positions = np.asarray(positions, np.int64)
        return TextsOnDisk(self._file, self._starts[positions], self._ends[positions])

    def __iter__(self) -> Iterator[str]:
        for start in range(0, len(self), _BLOCK):
            yield from self._read_run(start, min(start + _BLOCK, len(self)))

    def close(self) -> None:
        """Let the file go (it goes anyway when the last view of it does)."""
        self._file.close()

    def __reduce__(self):
        raise TypeError(
            "TextsOnDisk lives in this process's temporary file; send slices of it (lists)"
        )

    def __repr__(self) -> str:
        return f"<TextsOnDisk: {len(self):,} texts, {self.nbytes / 2**20:.1f} MB on disk>"

    def _read_one(self, i: int) -> str:
        start, end = int(self._starts[i]), int(self._ends[i])
        return self._pread(end - start, start).decode("utf-8", "surrogatepass")

    def _read_run(self, start: int, stop: int) -> list[str]:
        """Texts ``start`` to ``stop``: one read when they lie one after another in the file."""
        if stop <= start:
            return []
        starts, ends = self._starts[start:stop], self._ends[start:stop]
        if not np.array_equal(starts[1:], ends[:-1]):  # a view by take(): one at a time
            return [self._read_one(i) for i in range(start, stop)]
        first = int(starts[0])
        data = self._pread(int(ends[-1]) - first, first)
        cuts = (ends - first).tolist()
        texts, previous = [], 0
        for cut in cuts:
            texts.append(data[previous:cut].decode("utf-8", "surrogatepass"))
            previous = cut
        return texts

    def _pread(self, size: int, offset: int) -> bytes:
        if size == 0:
            return b""
        if hasattr(os, "pread"):
            data = os.pread(self._file.fileno(), size, offset)
        else:  # Windows
            with self._lock:
                self._file.seek(offset)
                data = self._file.read(size)
        if len(data) != size:
            raise OSError(f"the texts' temporary file ended early ({len(data)} of {size} bytes)")
        return data
