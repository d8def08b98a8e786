"""Greedy nearest-neighbour matching on the Mahalanobis distance, with a KD-tree (no dense matrix)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from impact._errors import EstimationError
from impact.design._nearest import Pairs, processing_order

__all__ = ["whiten", "mahalanobis_nearest"]


def whiten(X: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """Rows transformed so that Euclidean distance equals Mahalanobis distance under the pooled
    within-group covariance (each group centred on its own mean, as MatchIt's ``pooled_cov``)."""
    Xc = X.copy()
    for g in (treated, ~treated):
        Xc[g] -= X[g].mean(axis=0)
    S = Xc.T @ Xc / max(len(X) - 2, 1)
    vals, vecs = np.linalg.eigh(S)
    if vals.min() <= 1e-12 * max(vals.max(), 1e-300):
        raise EstimationError("The pooled covariance of the covariates is singular (a covariate is "
                              "constant within groups or collinear); Mahalanobis distance needs it "
                              "invertible. Remove the redundant covariates.")
    return X @ (vecs / np.sqrt(vals))


def mahalanobis_nearest(X: np.ndarray, treated: np.ndarray, strata: np.ndarray | None,
                        rank_fn: Callable[[np.ndarray], np.ndarray], *, ratio: int = 1,
                        replace: bool = False, m_order: str = "data",
                        rng: np.random.Generator | None = None) -> Pairs:
    """Greedy k:1 matching on the Mahalanobis distance (MatchIt's ``distance = "mahalanobis"``).

    Treated units choose in ``m_order`` (default: tie-key order); each takes the nearest control
    still available; equal distances go to the control with the smaller tie key.
    """
    from scipy.spatial import cKDTree

    rng = rng if rng is not None else np.random.default_rng(0)
    Z = whiten(X, treated)
    codes = np.zeros(len(X), dtype=np.int64) if strata is None else strata
    parts = []
    for s in np.unique(codes):
        idx = np.flatnonzero(codes == s)
        t_units = idx[treated[idx]]
        c_units = idx[~treated[idx]]
        if not len(t_units) or not len(c_units):
            continue
        c_rank = rank_fn(c_units)
        tree = cKDTree(Z[c_units])
        nc = len(c_units)
        if replace:
            k = min(nc, ratio)
            d, j = tree.query(Z[t_units], k=k)
            d = d.reshape(len(t_units), -1)
            j = j.reshape(len(t_units), -1)
            parts.append(Pairs(np.repeat(t_units, k), c_units[j.ravel()],
                               np.tile(np.arange(k), len(t_units)), d.ravel()))
            continue
        t_rank = rank_fn(t_units)
        proc = processing_order(t_units, np.zeros(len(X)), t_rank, m_order, rng)
        used = np.zeros(nc, dtype=bool)
        n_used = 0
        out_t, out_c, out_r, out_d = [], [], [], []
        active = proc.tolist()
        for r in range(ratio):
            still = []
            for i in active:
                if n_used >= nc:
                    break
                k = min(nc, 8 + ratio)
                while True:
                    d, j = tree.query(Z[t_units[i]], k=k)
                    d = np.atleast_1d(d)
                    j = np.atleast_1d(j)
                    free = ~used[j]
                    if free.any() or k >= nc:
                        break
                    k = min(nc, 4 * k)
                if not free.any():
                    continue
                d, j = d[free], j[free]
                best = d <= d.min() * (1 + 1e-9) + 1e-12  # equal up to rounding
                jj = j[best][np.argmin(c_rank[j[best]])] if best.sum() > 1 else j[best][0]
                used[jj] = True
                n_used += 1
                out_t.append(t_units[i])
                out_c.append(c_units[jj])
                out_r.append(r)
                out_d.append(float(d.min()))
                still.append(i)
            active = still
        parts.append(Pairs(np.asarray(out_t, dtype=np.int64), np.asarray(out_c, dtype=np.int64),
                           np.asarray(out_r, dtype=np.int64), np.asarray(out_d, dtype=float)))
    return Pairs.concat(parts)
