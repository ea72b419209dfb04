"""Figures: the standard set of a fitted model, and export through one browser session.

Each standard figure has its own function (:func:`barchart`, :func:`topics_map`,
:func:`documents_map`, :func:`hierarchy`, :func:`heatmap`, :func:`topics_over_time`,
:func:`topics_per_class`); :func:`standard_figures` draws them all.

Example:
    >>> from cube import figures
    >>> figs = figures.standard_figures(topic_model, docs, vectors)
    >>> figures.export(figs, "out/", formats=("png", "html"))
    >>> figures.parse_formats("png,jpg")
    ('png', 'jpeg')
    >>> figures.check_browser()  # before long work: a browser that starts, or why not
    '/usr/bin/chromium'
"""

from cube._public import rehome
from cube.figures._barchart import barchart
from cube.figures._browser import check_browser, find_browser
from cube.figures._describe import describe, figure_alt_text, figure_description
from cube.figures._documents_map import document_coordinates, documents_map
from cube.figures._export import export, start_session, stop_session, to_png
from cube.figures._formats import DEFAULT_FORMATS, FORMATS, STATIC_FORMATS, parse_formats
from cube.figures._heatmap import heatmap
from cube.figures._hierarchy import hierarchy
from cube.figures._names import topic_name
from cube.figures._palette import topic_colors
from cube.figures._report import write_report
from cube.figures._standard import standard_figures, words_from_ctfidf
from cube.figures._topics_map import topics_map
from cube.figures._topics_over_time import (
    MAX_BINS,
    time_bins,
    time_periods,
    topics_over_time,
)
from cube.figures._topics_per_class import topics_per_class

__all__ = [
    "DEFAULT_FORMATS",
    "FORMATS",
    "MAX_BINS",
    "STATIC_FORMATS",
    "barchart",
    "check_browser",
    "describe",
    "document_coordinates",
    "documents_map",
    "export",
    "figure_alt_text",
    "figure_description",
    "find_browser",
    "heatmap",
    "hierarchy",
    "parse_formats",
    "standard_figures",
    "start_session",
    "stop_session",
    "time_bins",
    "time_periods",
    "to_png",
    "topic_colors",
    "topic_name",
    "topics_map",
    "topics_over_time",
    "topics_per_class",
    "words_from_ctfidf",
    "write_report",
]

rehome(globals(), __all__, __name__)  # help() shows cube.figures.export, not its file
