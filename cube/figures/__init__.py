"""Figure export: static images through one browser session, offline HTML, JSON.

Example:
    >>> from cube import figures
    >>> figures.export(fig, "out/barchart.png")
    [PosixPath('out/barchart.png')]
"""

from cube.figures._browser import find_browser
from cube.figures._export import FORMATS, export, start_session, stop_session

__all__ = ["FORMATS", "export", "find_browser", "start_session", "stop_session"]
