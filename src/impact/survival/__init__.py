"""Survival analysis for time to work or studies, agreeing with R's ``survival`` package.

Curves (weighted Kaplan-Meier and Aalen-Johansen with clustered infinitesimal-jackknife standard
errors), Cox proportional hazards with Efron ties, weights, strata and cluster-robust variance,
Weibull and log-normal accelerated failure time models (time ratios), Fine-Gray subdistribution
hazards. The regression fitters share one scaffold (checks, variance, summary, repr, plot).
"""

from __future__ import annotations

from impact.survival._aft import AFT
from impact.survival._aj import AalenJohansen, aalen_johansen
from impact.survival._cox import CoxPH
from impact.survival._finegray import FineGray, fine_gray
from impact.survival._gray import GrayTestResult, gray_test
from impact.survival._km import KaplanMeier, kaplan_meier
from impact.survival._logrank import LogRankResult, logrank_test
from impact.survival._plot import plot_cif, plot_survival
from impact.survival._zph import CoxZPH, cox_zph

__all__ = ["AFT", "AalenJohansen", "CoxPH", "CoxZPH", "FineGray", "GrayTestResult", "KaplanMeier", "LogRankResult", "aalen_johansen",
           "cox_zph", "fine_gray", "gray_test", "kaplan_meier", "logrank_test", "plot_cif", "plot_survival"]
