"""Preparing a room: ``cube pack`` (one folder that sets up every laptop offline) and its server.

Example:
    >>> from cube.workshop import build_pack
    >>> report = build_pack("workshop-pack", platforms="linux-x86_64,macos-arm64")
"""

from cube._public import rehome
from cube.workshop._lock import PLATFORMS, Platform
from cube.workshop._pack import PackReport, build_pack
from cube.workshop._serve import make_server, serve

__all__ = ["PLATFORMS", "PackReport", "Platform", "build_pack", "make_server", "serve"]

rehome(globals(), __all__, __name__)
