"""The main job, ``cube topics``: texts in; vectors, reductions, topics and figures out.

:func:`prepare` makes every check and every decision (a frozen :class:`Plan`); :func:`run`
prepares, then carries the plan out into a staging folder renamed into place at the end.

Example:
    >>> from pathlib import Path
    >>> from cube.pipeline import JobSpec, prepare, run
    >>> plan = prepare(JobSpec(out=Path("sotu-topics"), sample=2000))
    >>> summary = run(JobSpec(out=Path("sotu-topics"), sample=2000))
"""

from cube._public import rehome
from cube.pipeline._job import STAGES, run
from cube.pipeline._plan import (
    DEFAULT_SAMPLE,
    Columns,
    JobSpec,
    Plan,
    load_corpus,
    prepare,
    read_corpus,
)

__all__ = [
    "DEFAULT_SAMPLE",
    "STAGES",
    "Columns",
    "JobSpec",
    "Plan",
    "load_corpus",
    "prepare",
    "read_corpus",
    "run",
]

rehome(globals(), __all__, __name__)
