"""Moved to :mod:`impact.pipeline`; this path keeps working for this version with a FutureWarning."""

from __future__ import annotations

from impact._compat import moved
from impact.data import data_fingerprint
from impact.pipeline import MONITORING_INPUTS, Evaluation, evaluate, monitoring_tables, run

__all__ = ["Evaluation", "evaluate", "monitoring_tables", "run", "data_fingerprint", "MONITORING_INPUTS"]

moved("evaluation", "pipeline")
