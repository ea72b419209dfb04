"""The main job, ``cube topics``: texts in; vectors, reductions, topics and figures out.

Example:
    >>> from pathlib import Path
    >>> from cube.pipeline import JobSpec, run
    >>> summary = run(JobSpec(out=Path("sotu-topics"), sample=2000))
"""

from cube.pipeline._job import (
    DEFAULT_SAMPLE,
    STAGES,
    JobSpec,
    check_output_folder,
    format_summary,
    load_corpus,
    parse_sample,
    run,
)

__all__ = [
    "DEFAULT_SAMPLE",
    "STAGES",
    "JobSpec",
    "check_output_folder",
    "format_summary",
    "load_corpus",
    "parse_sample",
    "run",
]
