"""Kept so older imports work: ``results_as_finished`` lives in :mod:`cube._parallel`."""

from __future__ import annotations

from cube._parallel import results_as_finished

__all__ = ["results_as_finished"]
