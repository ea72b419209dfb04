"""Notebook helpers: ``setup()`` for the first cell, ``render()`` behind ``cube render``.

Example:
    >>> import cube
    >>> cube.notebook.setup()
"""

from cube.notebook._lab import QUIET_LAB_FLAGS, lab_command, prepare_workdir, reset_notebook
from cube.notebook._lab import launch as launch_lab
from cube.notebook._render import (
    RenderFailure,
    course_samples,
    execute,
    kit_notebooks,
    kit_notebooks_dir,
    render,
    workshop_notebooks,
)
from cube.notebook._setup import Environment, environment, sample_size, setup

__all__ = [
    "QUIET_LAB_FLAGS",
    "Environment",
    "RenderFailure",
    "course_samples",
    "environment",
    "execute",
    "kit_notebooks",
    "kit_notebooks_dir",
    "lab_command",
    "launch_lab",
    "prepare_workdir",
    "render",
    "reset_notebook",
    "sample_size",
    "setup",
    "workshop_notebooks",
]
