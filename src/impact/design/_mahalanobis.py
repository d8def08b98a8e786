"""Greedy nearest-neighbour matching on the Mahalanobis distance, with a KD-tree (no dense matrix)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from impact._errors import EstimationError
from impact.data import expand_covariates
from impact.design._engine import Allocation, Design, active_subset, pair_allocation, warn_short_supply
from impact.design._nearest import processing_order
from impact.design._pairs import Pairs
from impact.design._rows import canonical_order, distinct_rows

if TYPE_CHECKING:  # pragma: no cover
    from scipy.spatial import cKDTree

__all__ = ["allocate", "whiten", "mahalanobis_nearest"]


def allocate(design: Design) -> Allocation:
    """``method="nearest", distance="mahalanobis"`` (the engine's method table entry)."""
    warn_short_supply(design)
    spec = design.spec
    idx, rank, strata = active_subset(design)
    X, _ = expand_covariates(design.work.iloc[idx], list(design.covariates))
    pl = mahalanobis_nearest(X, design.focal[idx], strata, rank, ratio=spec.ratio, replace=spec.replace,
                             m_order=design.m_order or "data", rng=spec.rng)
    return pair_allocation(design, pl.take(idx))


def whiten(X: np.ndarray, treated: np.ndarray) -> np.ndarray:
    """Rows transformed so that Euclidean distance equals Mahalanobis distance under the pooled
    within-group covariance (each group centred on its own mean, as MatchIt's ``pooled_cov``).

    Row-order free: the covariance is summed over the rows in a canonical (sorted) order, and the
    transform is applied once per distinct row, so identical rows get bit-identical coordinates
    whatever their positions.
    """
    order = canonical_order(X, treated)
    Xs, ts = X[order], treated[order]
    Xc = Xs.copy()
    for g in (ts, ~ts):
        Xc[g] -= Xs[g].mean(axis=0)
    S = Xc.T @ Xc / max(len(X) - 2, 1)
    vals, vecs = np.linalg.eigh(S)
    if vals.min() <= 1e-12 * max(vals.max(), 1e-300):
        raise EstimationError("The pooled covariance of the covariates is singular (a covariate is "
                              "constant within groups or collinear); Mahalanobis distance needs it "
                              "invertible. Remove the redundant covariates.")
    u, inv = distinct_rows(X, order)
    return (u @ (vecs / np.sqrt(vals)))[inv]


def _tied(d: np.ndarray, best: float | np.ndarray) -> np.ndarray:
    """Distances equal to ``best`` up to rounding (the same rule in every sweep)."""
    return d <= best * (1 + 1e-9) + 1e-12


def _query(tree: "cKDTree", z: np.ndarray, k: int, nc: int, usable: np.ndarray | None
           ) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest usable controls, and every control tied with the farthest of them.

    cKDTree breaks ties in distance by its own tree layout, which depends on the row order; so we
    widen the query until the returned set holds every control tied at the cut, and let the tie
    key choose among them.
    """
    q = min(nc, k + 8)
    while True:
        d, j = tree.query(z, k=q)
        d, j = np.atleast_1d(d), np.atleast_1d(j)
        ok = np.isfinite(d) if usable is None else np.isfinite(d) & usable[np.minimum(j, nc - 1)]
        if q >= nc:
            return d[ok], j[ok]
        dk, jk = d[ok], j[ok]
        if len(dk) > k and not _tied(np.array([d[-1]]), float(dk[k - 1]))[0]:
            return dk, jk
        q = min(nc, 4 * q)


def _take(d: np.ndarray, j: np.ndarray, c_rank: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest of the candidates ``(d, j)``, ties (up to rounding) to the smaller tie key."""
    out_d, out_j = [], []
    left = np.ones(len(d), dtype=bool)
    for _ in range(min(k, len(d))):
        dl = np.where(left, d, np.inf)
        best = _tied(dl, float(dl.min())) & left
        cand = np.flatnonzero(best)
        pick = cand[np.argmin(c_rank[j[cand]])]
        out_d.append(float(d[pick]))
        out_j.append(int(j[pick]))
        left[pick] = False
    return np.asarray(out_d, dtype=float), np.asarray(out_j, dtype=np.int64)


def mahalanobis_nearest(X: np.ndarray, treated: np.ndarray, strata: np.ndarray | None,
                        rank_fn: Callable[[np.ndarray], np.ndarray], *, ratio: int = 1,
                        replace: bool = False, m_order: str = "data",
                        rng: np.random.Generator) -> Pairs:
    """Greedy k:1 matching on the Mahalanobis distance (MatchIt's ``distance = "mahalanobis"``).

    Treated units choose in ``m_order`` (default: tie-key order); each takes the nearest control
    still available; distances equal up to rounding go to the control with the smaller tie key
    (as every other method breaks ties), so the answer does not depend on the row order.
    """
    from scipy.spatial import cKDTree

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
            q = min(nc, k + 1)
            D, J = tree.query(Z[t_units], k=q)
            D, J = D.reshape(len(t_units), -1), J.reshape(len(t_units), -1)
            # rows whose k nearest are strictly apart (beyond rounding) from each other and from
            # the next one: no tie to break, take them as they are; the others go one by one
            clear = ~_tied(D[:, 1:], D[:, :-1]).any(axis=1) if q > 1 else np.ones(len(t_units), dtype=bool)
            fast = np.flatnonzero(clear)
            out_t = [np.repeat(t_units[fast], k)]
            out_c = [c_units[J[fast, :k].ravel()]]
            out_r = [np.tile(np.arange(k), len(fast))]
            out_d = [D[fast, :k].ravel()]
            for i in np.flatnonzero(~clear).tolist():
                d, j = _query(tree, Z[t_units[i]], k, nc, None)
                dd, jj = _take(d, j, c_rank, k)
                out_t.append(np.full(len(jj), t_units[i]))
                out_c.append(c_units[jj])
                out_r.append(np.arange(len(jj)))
                out_d.append(dd)
            p = Pairs(np.concatenate(out_t).astype(np.int64), np.concatenate(out_c).astype(np.int64),
                      np.concatenate(out_r).astype(np.int64), np.concatenate(out_d).astype(float))
            o = np.lexsort((p.round, p.treated))      # the order of the one-by-one path
            parts.append(Pairs(p.treated[o], p.control[o], p.round[o], p.distance[o]))
            continue
        t_rank = rank_fn(t_units)
        proc = processing_order(t_units, np.zeros(len(X)), t_rank, m_order, rng)
        free = np.ones(nc, dtype=bool)
        n_used = 0
        o_t: list[int] = []
        o_c: list[int] = []
        o_r: list[int] = []
        o_d: list[float] = []
        active = proc.tolist()
        for r in range(ratio):
            still = []
            for i in active:
                if n_used >= nc:
                    break
                d, j = _query(tree, Z[t_units[i]], 1, nc, free)
                if not len(d):
                    continue
                dd, jj = _take(d, j, c_rank, 1)
                free[jj[0]] = False
                n_used += 1
                o_t.append(int(t_units[i]))
                o_c.append(int(c_units[jj[0]]))
                o_r.append(r)
                o_d.append(float(dd[0]))
                still.append(i)
            active = still
        parts.append(Pairs(np.asarray(o_t, dtype=np.int64), np.asarray(o_c, dtype=np.int64),
                           np.asarray(o_r, dtype=np.int64), np.asarray(o_d, dtype=float)))
    return Pairs.concat(parts)
