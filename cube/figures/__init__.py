"""Figures: the standard set of a fitted model, and export through one browser session.

Example:
    >>> from cube import figures
    >>> figs = figures.standard_figures(topic_model, docs, vectors)
    >>> figures.export(figs, "out/", formats=("png", "html"))
    >>> figures.check_browser()  # before long work: a browser that starts, or why not
    '/usr/bin/chromium'
"""

from cube.figures._browser import check_browser, find_browser
from cube.figures._export import FORMATS, export, start_session, stop_session, to_png
from cube.figures._names import topic_name
from cube.figures._palette import topic_colors
from cube.figures._report import write_report
from cube.figures._standard import (
    MAX_BINS,
    document_coordinates,
    standard_figures,
    time_bins,
    words_from_ctfidf,
)

__all__ = [
    "FORMATS",
    "MAX_BINS",
    "check_browser",
    "document_coordinates",
    "export",
    "find_browser",
    "standard_figures",
    "start_session",
    "stop_session",
    "time_bins",
    "to_png",
    "topic_colors",
    "topic_name",
    "words_from_ctfidf",
    "write_report",
]
