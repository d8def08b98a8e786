"""Survival analysis for time to work or studies, agreeing with R's ``survival`` package.

Curves (weighted Kaplan-Meier and Aalen-Johansen with clustered infinitesimal-jackknife standard
errors), Cox proportional hazards with Efron ties, weights, strata and cluster-robust variance,
Weibull and log-normal accelerated failure time models (time ratios).
"""

from __future__ import annotations

from ._aft import AFT
from ._aj import AalenJohansen, aalen_johansen
from ._cox import CoxPH
from ._finegray import fine_gray
from ._gray import GrayTestResult, gray_test
from ._km import KaplanMeier, kaplan_meier
from ._logrank import LogRankResult, logrank_test
from ._plot import plot_cif, plot_survival
from ._zph import CoxZPH, cox_zph

__all__ = ["AFT", "AalenJohansen", "CoxPH", "CoxZPH", "GrayTestResult", "KaplanMeier", "LogRankResult", "aalen_johansen",
           "cox_zph", "fine_gray", "gray_test", "kaplan_meier", "logrank_test", "plot_cif", "plot_survival"]
