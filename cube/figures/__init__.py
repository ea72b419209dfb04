"""Figure export (static images through kaleido and one browser session, offline HTML)."""

from cube.figures._browser import find_browser

__all__ = ["find_browser"]
