"""Covariate balance before and after matching or weighting (SMD, variance ratio, eCDF) and the Love plot.

The package is ``diagnostics`` so that no submodule shadows the function :func:`impact.balance`.
"""

from impact.diagnostics._balance import BalanceResult, balance, balance_table

__all__ = ["balance", "BalanceResult", "balance_table"]
