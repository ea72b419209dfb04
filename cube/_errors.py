"""The errors cube raises for things a user can fix.

Each carries a one-line message that says what is wrong and how to fix it; the CLI prints it
and exits with code 2 instead of showing a traceback.
"""

from __future__ import annotations

import errno


class CubeError(Exception):
    """A problem the user can fix; ``str(error)`` is a one-line explanation."""


class InputError(CubeError, ValueError):
    """Bad input data: a missing file, an unknown column, empty texts, ..."""


class ModelNotFoundError(CubeError, LookupError):
    """The embedding model is neither on disk nor reachable."""


class BrowserNotFoundError(CubeError, RuntimeError):
    """No Chrome or Chromium for static figure export."""


class BrowserFailedError(CubeError, RuntimeError):
    """A Chrome or Chromium was found but does not start, or stopped answering (and was ended)."""


class CacheWarning(UserWarning):
    """A cache file was damaged; cube removed it and recomputes what it held."""


# What a full disk, a quota, a read-only file system or a folder without write permission
# look like from an OSError: "free some space or choose another folder", never a traceback.
NO_ROOM_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})
