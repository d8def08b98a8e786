"""Input checks and the infinitesimal-jackknife machinery shared by the curve estimators.

Notation used throughout (R's ``survfit`` conventions):

* rows ``i`` with follow-up time ``T_i``, case weight ``w_i`` and cluster (matched set) ``g_i``;
* the distinct observed times ``t_0 < t_1 < ... < t_{K-1}`` and ``j_i``, the index of ``T_i``;
* a row's infinitesimal-jackknife (IJ) influence on an estimate at time ``t`` is ``w_i`` times the
  derivative of the estimate with respect to ``w_i``; the variance is the sum over clusters of the
  squared cluster totals (``se^2 = sum_g (sum_{i in g} U_i)^2``), exactly as R computes it for
  ``survfit(..., weights=, cluster=)``.

For the right-censored estimators here (Kaplan-Meier, Aalen-Johansen, and the restricted mean built on
them) each row's influence has the shape::

    U_i(t) = w_i * ( sum_m P_im f_m(t) )   if T_i <= t      (the row has left the risk set)
    U_i(t) = w_i * R(t)                     if T_i >  t      (the row is still at risk)

With ``a_g(t) = (sum_{i in g, T_i<=t} w_i P_i, sum_{i in g, T_i>t} w_i)`` and ``z(t) = (f(t), R(t))``
the clustered variance is ``z(t)' Q(t) z(t)`` with ``Q(t) = sum_g a_g(t) a_g(t)'``. ``Q`` is a step
function that changes only where a row leaves, so one sort and cumulative sums give it at every
observed time: O(n log n), never O(n x times) or O(n^2).
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Real

import numpy as np
import pandas as pd
from scipy import stats

from impact._validation import InstanceOf, Interval

__all__ = [
    "ARRAY",
    "CAUSES",
    "CONF_LEVEL",
    "TimeIndex",
    "ij_quadratic",
    "log_ci",
    "quad_form",
    "row_influence",
    "step_index",
    "time_index",
    "z_value",
]


# ----------------------------------------------------------------------------------------------
# parameter constraints shared by the survival functions' tables
# ----------------------------------------------------------------------------------------------
#: one value per row: a list, a numpy array or a pandas Series / Index / extension array
ARRAY = InstanceOf((np.ndarray, pd.Series, pd.Index, pd.api.extensions.ExtensionArray, list, tuple),
                   "an array-like (a list, numpy array or pandas Series)")
#: declared causes of competing exits
CAUSES = InstanceOf((list, tuple, np.ndarray, pd.Index), "a list of causes")
CONF_LEVEL = Interval(Real, 0, 1, closed="neither")



def z_value(conf_level: float) -> float:
    return float(stats.norm.ppf(0.5 + conf_level / 2.0))


def log_ci(estimate: np.ndarray, se: np.ndarray, z: float,
           cap: float | None = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """R's default ``conf.type="log"``: ``exp(log(p) -/+ z se/p)``, upper capped at 1."""
    est = np.asarray(estimate, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        width = z * np.asarray(se, dtype=np.float64) / est
        low = est * np.exp(-width)
        high = est * np.exp(width)
    bad = ~(est > 0) | ~np.isfinite(width)
    low = np.where(bad, np.nan, low)
    high = np.where(bad, np.nan, high)
    if cap is not None:
        high = np.minimum(high, cap)
    return low, high


# ----------------------------------------------------------------------------------------------
# sorting and the IJ quadratic form
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimeIndex:
    """Distinct times and each row's index into them (computed once, one sort)."""

    times: np.ndarray  # (K,) distinct observed times, ascending
    index: np.ndarray  # (n,) j_i
    order: np.ndarray  # (n,) argsort of the durations (stable)


def time_index(duration: np.ndarray) -> TimeIndex:
    order = np.argsort(duration, kind="stable")
    srt = duration[order]
    new = np.empty(srt.size, dtype=bool)
    new[0] = True
    np.not_equal(srt[1:], srt[:-1], out=new[1:])
    idx_sorted = np.cumsum(new) - 1
    index = np.empty_like(idx_sorted)
    index[order] = idx_sorted
    return TimeIndex(times=srt[new], index=index, order=order)


def ij_quadratic(ti: TimeIndex, w: np.ndarray, P: np.ndarray, cluster: np.ndarray | None,
                 n_clusters: int) -> np.ndarray:
    """``Q(t_k) = sum_g a_g a_g'`` at every distinct time (shape ``(K, M+1, M+1)``).

    ``P`` is ``(n, M)``: the coefficients of a row's influence once it has left the risk set.
    ``cluster=None`` means every row is its own cluster (the fast path: no second sort).
    """
    n, m = P.shape
    K = ti.times.size
    j = ti.index
    wP = P * w[:, None]
    Q = np.zeros((K, m + 1, m + 1))
    if cluster is None:
        # a_i = (0, w_i) before the row leaves, (w_i P_i, 0) after it.
        for a in range(m):
            for b in range(a, m):
                col = np.bincount(j, weights=wP[:, a] * wP[:, b], minlength=K)
                Q[:, a, b] = Q[:, b, a] = np.cumsum(col)
        w2 = np.bincount(j, weights=w * w, minlength=K)
        Q[:, m, m] = np.sum(w * w) - np.cumsum(w2)
        return Q
    # sort rows by (cluster, time): stable sort by cluster of the time order
    order = ti.order[np.argsort(cluster[ti.order], kind="stable")]
    cl = cluster[order]
    delta = np.empty((n, m + 1))
    delta[:, :m] = wP[order]
    delta[:, m] = -w[order]
    cum = np.cumsum(delta, axis=0)
    starts = np.flatnonzero(np.r_[True, cl[1:] != cl[:-1]])
    run = np.diff(np.r_[starts, n])
    base = np.zeros((starts.size, m + 1))
    base[1:] = cum[starts[1:] - 1]
    cum -= np.repeat(base, run, axis=0)  # within-cluster cumulative sums
    w_tot = np.bincount(cluster, weights=w, minlength=n_clusters)
    after = cum
    after[:, m] += w_tot[cl]
    before = after - delta
    js = j[order]
    for a in range(m + 1):
        for b in range(a, m + 1):
            dq = after[:, a] * after[:, b] - before[:, a] * before[:, b]
            col = np.cumsum(np.bincount(js, weights=dq, minlength=K))
            Q[:, a, b] = Q[:, b, a] = col
    Q[:, m, m] += np.sum(w_tot * w_tot)
    return Q


def quad_form(Q: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``z_k' Q_k z_k`` for every k (``Q`` is ``(K, M, M)``, ``z`` is ``(K, M)``)."""
    return np.einsum("ka,kab,kb->k", z, Q, z)


def step_index(grid: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Index of the last grid time <= t (-1 before the first)."""
    return np.searchsorted(grid, times, side="right") - 1


def row_influence(ti: TimeIndex, w: np.ndarray, P: np.ndarray, f: np.ndarray, R: np.ndarray,
                  k: np.ndarray) -> np.ndarray:
    """Per-row influence ``(n, len(k))`` at grid positions ``k`` (``-1``: before the first time).

    ``f`` is ``(K, M)`` and ``R`` is ``(K,)``; columns with ``k < 0`` are zero.
    """
    n = w.size
    out = np.zeros((n, k.size))
    for c, kk in enumerate(k):
        if kk < 0:
            continue
        left = ti.index <= kk
        out[:, c] = np.where(left, P @ f[kk], R[kk]) * w
    return out


