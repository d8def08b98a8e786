"""Moved to :mod:`impact.publish`; this path keeps working for this version with a FutureWarning."""

from __future__ import annotations

from impact._compat import moved
from impact.publish import Suppression, feasible_intervals, suppress, suppress_counts

__all__ = ["Suppression", "suppress", "feasible_intervals", "suppress_counts"]

moved("privacy", "publish")
