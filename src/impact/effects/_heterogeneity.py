"""Heterogeneity across the levels of a subgroup: a joint Wald test and adjusted p-values.

For ``k`` levels with effect estimates ``b`` and joint covariance ``V`` (from the influence
functions of the level estimates summed within matched sets, so sets that span levels are
handled), the test that all effects are equal is ``(C b)' (C V C')^{-1} (C b)`` on ``k - 1``
degrees of freedom, with ``C`` the contrasts of the first level against each other level. The
level p-values are adjusted for the ``k`` comparisons by Holm and by Benjamini-Hochberg
(``statsmodels.stats.multitest.multipletests``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

Row = dict[str, Any]

#: Columns of ``EffectsResult.heterogeneity``.
HETEROGENEITY_COLUMNS = ["by", "kind", "subgroup", "estimand", "horizon", "estimate", "se", "statistic",
                         "df", "p_value", "p_holm", "p_bh", "significant_holm", "significant_bh", "covariance"]


def wald_equal(b: np.ndarray, V: np.ndarray) -> tuple[float, int, float]:
    """Chi-squared statistic, degrees of freedom and p-value of ``b_1 = ... = b_k``."""
    k = len(b)
    if k < 2:
        return float("nan"), 0, float("nan")
    C = np.zeros((k - 1, k))
    C[:, 0] = 1.0
    C[np.arange(k - 1), np.arange(1, k)] = -1.0
    d = C @ b
    M = C @ V @ C.T
    if not np.all(np.isfinite(M)) or np.linalg.matrix_rank(M) < k - 1:
        return float("nan"), k - 1, float("nan")
    stat = float(d @ np.linalg.solve(M, d))
    return stat, k - 1, float(stats.chi2.sf(stat, k - 1))


def adjust(p: np.ndarray, alpha: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Holm and Benjamini-Hochberg adjusted p-values and their rejections at ``alpha`` (NaN kept)."""
    from statsmodels.stats.multitest import multipletests
    p = np.asarray(p, float)
    holm = np.full(p.shape, np.nan)
    bh = np.full(p.shape, np.nan)
    rh = np.zeros(p.shape, bool)
    rb = np.zeros(p.shape, bool)
    ok = np.isfinite(p)
    if ok.any():
        holm[ok] = _holm(p[ok])
        rh[ok] = holm[ok] <= alpha
        rb[ok], bh[ok] = multipletests(p[ok], alpha=alpha, method="fdr_bh")[:2]
    return holm, bh, rh, rb


def _holm(p: np.ndarray) -> np.ndarray:
    """Holm's step-down adjusted p-values (as statsmodels' ``multipletests(method="holm")``, whose
    implementation calls ``gc.collect()`` on every call: 70 ms each, seconds per effect table)."""
    order = np.argsort(p, kind="stable")
    m = p.size
    adj = np.minimum(np.maximum.accumulate(p[order] * np.arange(m, 0, -1)), 1.0)
    out = np.empty(m)
    out[order] = adj
    return out


def heterogeneity_rows(by: str, estimand: str, horizon: float, levels: list[str], b: np.ndarray,
                       se: np.ndarray, p: np.ndarray, V: np.ndarray, alpha: float, covariance: str,
                       kind: str = "level") -> list[Row]:
    """One row per level (``kind``) with adjusted p-values, then the joint test row."""
    holm, bh, rh, rb = adjust(p, alpha)
    out: list[Row] = []
    for i, lev in enumerate(levels):
        out.append(dict(by=by, kind=kind, subgroup=lev, estimand=estimand, horizon=horizon,
                        estimate=float(b[i]), se=float(se[i]), statistic=np.nan, df=np.nan,
                        p_value=float(p[i]), p_holm=float(holm[i]), p_bh=float(bh[i]),
                        significant_holm=bool(rh[i]), significant_bh=bool(rb[i]), covariance=covariance))
    stat, df, pj = wald_equal(np.asarray(b, float), V)
    out.append(dict(by=by, kind="joint test" if kind == "level" else f"joint test ({kind})",
                    subgroup=" = ".join(levels), estimand=estimand, horizon=horizon, estimate=np.nan,
                    se=np.nan, statistic=stat, df=float(df), p_value=pj, p_holm=np.nan, p_bh=np.nan,
                    significant_holm=bool(pj < alpha) if np.isfinite(pj) else False,
                    significant_bh=bool(pj < alpha) if np.isfinite(pj) else False, covariance=covariance))
    return out
