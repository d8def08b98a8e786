"""Log-rank tests: R's ``survdiff`` (stratified) and, with weights or clusters, the robust score
test of a Breslow Cox model at beta = 0 (R's ``coxph(..., weights=, cluster=)$rscore``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, stats

from impact._errors import DataError
from impact._validation import (
    as_1d,
    check_cluster,
    check_duration,
    check_event,
    check_length,
    check_weights,
    validate_params,
)
from impact.survival._common import ARRAY
from impact.survival._partial import (
    cluster_score_sums,
    derivatives,
    prepare,
    score_residuals,
)

__all__ = ["LogRankResult", "logrank_test"]


@dataclass(frozen=True, repr=False)
class LogRankResult:
    """Result of :func:`logrank_test`.

    Attributes
    ----------
    statistic, df, p_value : float, int, float
        Chi-square statistic, degrees of freedom (groups - 1) and p-value.
    method : str
        ``"survdiff"`` (hypergeometric variance, R's ``survdiff``) or ``"robust score"``
        (weighted and/or clustered; R's ``coxph(..., ties="breslow")$rscore``).
    table : pandas.DataFrame
        ``group, n, observed, expected`` (weighted counts when weighted).
    notes : tuple of str
    """

    statistic: float
    df: int
    p_value: float
    method: str
    table: pd.DataFrame
    notes: tuple[str, ...]

    def summary(self) -> pd.DataFrame:
        """One row: ``test, statistic, df, p_value``."""
        return pd.DataFrame({"test": ["log-rank"], "method": [self.method],
                             "statistic": [self.statistic], "df": [self.df],
                             "p_value": [self.p_value]})

    def __repr__(self) -> str:
        return (f"LogRankResult(chisq={self.statistic:.4g}, df={self.df}, "
                f"p={self.p_value:.4g}, method='{self.method}')")

    def _repr_html_(self) -> str:
        return (f"<p><b>Log-rank test</b> ({self.method}): chi-square = {self.statistic:.3f}, "
                f"df = {self.df}, p = {self.p_value:.4g}</p>" + self.table.to_html(index=False))


@validate_params({"duration": [ARRAY], "event": [ARRAY], "group": [ARRAY], "weights": [ARRAY, None],
                  "cluster": [ARRAY, None], "strata": [ARRAY, None]})
def logrank_test(duration: Any, event: Any, group: Any, weights: Any = None,
                 cluster: Any = None, strata: Any = None) -> LogRankResult:
    """Test whether survival differs between groups (stratified, weighted, clustered).

    Without weights and clusters this is R's ``survdiff(Surv(duration, event) ~ group +
    strata(strata))``. With case weights (matching, IPW) or clusters (matched sets) it is the
    robust score test of a Cox model with the group as a factor, Breslow ties, at beta = 0:
    the log-rank score with a sandwich variance, as R's ``coxph(Surv(duration, event) ~
    factor(group) + strata(strata), weights=, cluster=, ties="breslow")$rscore``.

    Parameters
    ----------
    duration, event : array-like
        Follow-up time (> 0) and event indicator (0/1).
    group : array-like
        Group labels (two or more).
    weights : array-like, optional
        Case weights (>= 0, not all zero).
    cluster : array-like, optional
        Cluster labels (matched sets).
    strata : array-like, optional
        Strata labels: the test compares groups within strata.

    Returns
    -------
    LogRankResult

    Examples
    --------
    >>> from lifelines.datasets import load_rossi
    >>> from impact.survival import logrank_test
    >>> rossi = load_rossi()
    >>> res = logrank_test(rossi["week"], rossi["arrest"], rossi["fin"])
    >>> round(res.statistic, 3), res.df, round(res.p_value, 4)
    (3.838, 1, 0.0501)
    """
    T = check_duration(duration)
    n = T.size
    d = check_event(event, n)
    g_arr = as_1d(group, "group")
    check_length(g_arr, n, "group")
    gcodes, glabels = pd.factorize(pd.Series(g_arr), sort=True)
    if (gcodes < 0).any():
        from impact._errors import data_error

        raise data_error("group", "group labels must not be missing", gcodes < 0)
    k = len(glabels)
    if k < 2:
        raise DataError(f"Column 'group': a log-rank test needs at least two groups; found {k}.",
                        column="group", rule="two or more groups")
    w = check_weights(weights, n)
    if strata is None:
        scodes = np.zeros(n, dtype=np.int64)
    else:
        s_arr = as_1d(strata, "strata")
        check_length(s_arr, n, "strata")
        scodes, _ = pd.factorize(pd.Series(s_arr), sort=True)
        if (scodes < 0).any():
            from impact._errors import data_error

            raise data_error("strata", "strata labels must not be missing", scodes < 0)
    X = np.zeros((n, k - 1))
    for j in range(1, k):
        X[:, j - 1] = gcodes == j
    pp = prepare(T, d, X, w, scodes.astype(np.int64), "breslow")
    ev = derivatives(pp, np.zeros(k - 1))
    observed = np.bincount(gcodes, weights=w * d, minlength=k)
    # expected = sum over deaths of the group's share of the risk set (Breslow, beta = 0)
    # score for group j = O_j - E_j, so E_j = O_j - U_j; group 0 from sum(E) = sum(O)
    U = ev.score
    expected = np.empty(k)
    expected[1:] = observed[1:] - U
    expected[0] = observed.sum() - expected[1:].sum()
    notes: list[str] = []
    if weights is None and cluster is None:
        method = "survdiff"
        V = _hypergeometric_variance(T, d, gcodes, k, scodes)
        stat = float(U @ linalg.solve(V[1:, 1:], U, assume_a="sym"))
        notes.append("hypergeometric variance (R survdiff)")
    else:
        method = "robust score"
        if cluster is not None:
            codes, ncl = check_cluster(cluster, n)
            S = cluster_score_sums(pp, ev, codes[pp.order], ncl)
        else:
            S = (score_residuals(pp, ev) * pp.w).T
        B = S.T @ S
        stat = float(U @ linalg.solve(B, U, assume_a="sym"))
        notes.append("robust score test of a Breslow Cox model at beta = 0 (R coxph rscore)")
        if cluster is not None:
            notes.append("variance clustered on the given clusters")
    df = k - 1
    table = pd.DataFrame({"group": list(glabels), "n": np.bincount(gcodes, minlength=k),
                          "observed": observed, "expected": expected})
    return LogRankResult(statistic=stat, df=df, p_value=float(stats.chi2.sf(stat, df)),
                         method=method, table=table, notes=tuple(notes))


def _hypergeometric_variance(T: np.ndarray, d: np.ndarray, g: np.ndarray, k: int,
                             s: np.ndarray) -> np.ndarray:
    """survdiff's variance of O - E, summed over strata and distinct event times."""
    V = np.zeros((k, k))
    for sv in np.unique(s):
        m = s == sv
        t, dd, gg = T[m], d[m], g[m]
        times, inv = np.unique(t, return_inverse=True)
        K = times.size
        exits = np.zeros((K, k))
        np.add.at(exits, (inv, gg), 1.0)
        nrisk_g = np.cumsum(exits[::-1], axis=0)[::-1]  # (K, k)
        deaths = np.bincount(inv, weights=dd, minlength=K)
        nr = nrisk_g.sum(axis=1)
        ok = (deaths > 0) & (nr > 1)
        fac = np.where(ok, deaths * (nr - deaths) / np.where(nr > 1, nr - 1, 1.0), 0.0)
        p = nrisk_g / nr[:, None]
        V += np.einsum("t,tj,jk->jk", fac, p, np.eye(k)) - np.einsum("t,tj,tk->jk", fac, p, p)
    return V
