"""Moved to :mod:`impact.synthetic`; this path keeps working for this version with a FutureWarning."""

from __future__ import annotations

from impact._compat import moved
from impact.synthetic import OUTCOME_90_MIX, SUBSIDY_MIX, MonitoringRecords, simulate_monitoring

__all__ = ["MonitoringRecords", "simulate_monitoring", "SUBSIDY_MIX", "OUTCOME_90_MIX"]

moved("synthetic_monitoring", "synthetic")
