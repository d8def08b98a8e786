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
    "ClusterIndex",
    "TimeIndex",
    "cluster_index",
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
    """Distinct times and each row's index into them (computed once)."""

    times: np.ndarray  # (K,) distinct observed times, ascending
    index: np.ndarray  # (n,) j_i


def time_index(duration: np.ndarray) -> TimeIndex:
    """Distinct times and each row's index into them.

    Whole-number durations (days, weeks, months) with a range of at most a few times the number
    of rows are indexed by counting, in O(n) without a sort; other durations by one sort.
    """
    n = duration.size
    top = float(duration.max()) if n else 0.0
    if top <= 4 * n + 1024:
        whole = duration.astype(np.int64)
        if np.array_equal(whole, duration):
            present = np.bincount(whole, minlength=int(top) + 1) > 0
            lut = np.cumsum(present) - 1
            return TimeIndex(times=np.flatnonzero(present).astype(np.float64), index=lut[whole])
    times, index = np.unique(duration, return_inverse=True)
    return TimeIndex(times=times, index=index.reshape(-1).astype(np.int64, copy=False))


@dataclass(frozen=True)
class ClusterIndex:
    """How the rows fall into clusters, for the clustered IJ variance (computed once per fit).

    Rows in clusters of one or two rows are handled in closed form (``partner``: the other row of
    a pair, -1 for a row alone), without a sort; rows of larger clusters (``big``) are sorted by
    (cluster, time) once.
    """

    codes: np.ndarray        # (n,) cluster code of each row
    n_clusters: int
    partner: np.ndarray | None  # (n_small,) partner row position (-1: alone), rows ``small``
    small: np.ndarray | None    # positions of rows in clusters of 1 or 2 (None: all rows)
    big: np.ndarray | None      # positions of rows in larger clusters, sorted by (cluster, time)


def cluster_index(codes: np.ndarray, n_clusters: int, ti: TimeIndex) -> ClusterIndex:
    n = codes.size
    size = np.bincount(codes, minlength=n_clusters)
    pos1 = np.arange(1, n + 1, dtype=np.float64)
    if size.max() <= 2:
        small, big, rows, sub = None, None, pos1, codes
    else:
        in_small = size[codes] <= 2
        small = np.flatnonzero(in_small)
        bigrows = np.flatnonzero(~in_small)
        key = codes[bigrows] * np.int64(ti.times.size) + ti.index[bigrows]
        big = bigrows[np.argsort(key)]  # any order within a (cluster, time) cell will do
        rows, sub = pos1[small], codes[small]
    # the partner of a row in a pair: the sum of the pair's positions minus its own
    tot = np.bincount(sub, weights=rows, minlength=n_clusters)
    partner = (np.take(tot, sub) - rows).astype(np.int64) - 1  # -1 for a row alone
    if small is not None:
        # positions within the small subset
        where = np.full(n, -1, dtype=np.int64)
        where[small] = np.arange(small.size)
        partner = np.where(partner >= 0, where[np.maximum(partner, 0)], -1)
    return ClusterIndex(codes=codes, n_clusters=n_clusters, partner=partner, small=small, big=big)


def _q_pairs(j: np.ndarray, U: np.ndarray, v: np.ndarray, partner: np.ndarray | None,
             K: int) -> np.ndarray:
    """``Q`` for rows alone or in pairs, in closed form (``partner`` -1 or None: alone).

    For a pair with times ``j_lo <= j_hi`` the cluster's vector ``a_g(t)`` is ``(0, V)`` before
    ``j_lo``, ``(u_lo, v_hi)`` until ``j_hi`` and ``(U, 0)`` after; each row adds its own step at
    its own time (a tie splits the cross terms half and half), so one bincount per entry gives
    ``Q`` at every time.
    """
    m = U.shape[1]
    Q = np.empty((K, m + 1, m + 1))
    vv = v * v
    if partner is None:
        for a in range(m):
            for b in range(a, m):
                Q[:, a, b] = Q[:, b, a] = np.cumsum(np.bincount(j, weights=U[:, a] * U[:, b], minlength=K))
            Q[:, a, m] = Q[:, m, a] = 0.0
        Q[:, m, m] = np.sum(vv) - np.cumsum(np.bincount(j, weights=vv, minlength=K))
        return Q
    n = j.size
    pe = np.where(partner < 0, n, partner)  # a row alone points at an appended zero row

    def of_partner(x: np.ndarray) -> np.ndarray:
        return np.take(np.concatenate([x, np.zeros(1, dtype=x.dtype)]), pe)

    vp = of_partner(v)
    jp = of_partner(j)
    h = (j > jp) + 0.5 * (j == jp)  # 1: the later row of its pair (for a row alone: no cross terms)
    lo = 1.0 - h
    Up = [of_partner(np.ascontiguousarray(U[:, a])) for a in range(m)]
    for a in range(m):
        for b in range(a, m):
            x = U[:, a] * U[:, b] + h * (U[:, a] * Up[b] + Up[a] * U[:, b])
            Q[:, a, b] = Q[:, b, a] = np.cumsum(np.bincount(j, weights=x, minlength=K))
        x = lo * U[:, a] * vp - h * Up[a] * v
        Q[:, a, m] = Q[:, m, a] = np.cumsum(np.bincount(j, weights=x, minlength=K))
    Q[:, m, m] = np.dot(v, v + vp) - np.cumsum(np.bincount(j, weights=vv + 2.0 * lo * v * vp, minlength=K))
    return Q


def _q_sorted(js: np.ndarray, Us: np.ndarray, vs: np.ndarray, cl: np.ndarray, K: int) -> np.ndarray:
    """``Q`` for rows sorted by (cluster, time): within-cluster cumulative sums."""
    n, m = Us.shape
    delta = np.empty((n, m + 1))
    delta[:, :m] = Us
    delta[:, m] = -vs
    cum = np.cumsum(delta, axis=0)
    starts = np.flatnonzero(np.r_[True, cl[1:] != cl[:-1]])
    run = np.diff(np.r_[starts, n])
    base = np.zeros((starts.size, m + 1))
    base[1:] = cum[starts[1:] - 1]
    cum -= np.repeat(base, run, axis=0)  # within-cluster cumulative sums
    w_tot = np.add.reduceat(vs, starts)
    after = cum
    after[:, m] += np.repeat(w_tot, run)
    before = after - delta
    Q = np.empty((K, m + 1, m + 1))
    for a in range(m + 1):
        for b in range(a, m + 1):
            dq = after[:, a] * after[:, b] - before[:, a] * before[:, b]
            Q[:, a, b] = Q[:, b, a] = np.cumsum(np.bincount(js, weights=dq, minlength=K))
    Q[:, m, m] += np.sum(w_tot * w_tot)
    return Q


def ij_quadratic(ti: TimeIndex, w: np.ndarray, P: np.ndarray, ci: ClusterIndex | None) -> np.ndarray:
    """``Q(t_k) = sum_g a_g a_g'`` at every distinct time (shape ``(K, M+1, M+1)``).

    ``P`` is ``(n, M)``: the coefficients of a row's influence once it has left the risk set.
    ``ci=None`` means every row is its own cluster. Rows alone or in pairs cost O(n) (closed
    form, no sort); only rows of larger clusters are sorted, once.
    """
    K = ti.times.size
    j = ti.index
    U = P * w[:, None]
    if ci is None:
        return _q_pairs(j, U, w, None, K)
    if ci.small is None:
        return _q_pairs(j, U, w, ci.partner, K)
    Q = _q_pairs(j[ci.small], U[ci.small], w[ci.small], ci.partner, K)
    b = ci.big
    if b is not None and b.size:
        Q += _q_sorted(j[b], U[b], w[b], ci.codes[b], K)
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


