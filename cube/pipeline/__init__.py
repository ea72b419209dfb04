"""The main job, ``cube topics``: texts in; vectors, reductions, topics and figures out.

Example:
    >>> from pathlib import Path
    >>> from cube.pipeline import JobSpec, run
    >>> summary = run(JobSpec(out=Path("sotu-topics"), sample=2000))
"""

from cube.pipeline._job import STAGES, format_summary, run, skipped_note
from cube.pipeline._output import claim, sweep_stale
from cube.pipeline._plan import (
    DEFAULT_FORMATS,
    DEFAULT_SAMPLE,
    JobSpec,
    Plan,
    check_output_folder,
    load_corpus,
    parse_formats,
    parse_sample,
    prepare,
)

__all__ = [
    "DEFAULT_FORMATS",
    "DEFAULT_SAMPLE",
    "STAGES",
    "JobSpec",
    "Plan",
    "check_output_folder",
    "claim",
    "format_summary",
    "load_corpus",
    "parse_formats",
    "parse_sample",
    "prepare",
    "run",
    "skipped_note",
    "sweep_stale",
]
