"""Greedy nearest-neighbour matching on the Mahalanobis distance (blocked products, no dense matrix)."""

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


def _tie_cut(best: float) -> float:
    """The largest distance :func:`_tied` counts as tied with ``best``."""
    return best * (1 + 1e-9) + 1e-12


def _distances(zt: np.ndarray, ZcT: np.ndarray, cols: np.ndarray | None) -> np.ndarray:
    """Euclidean distances from the point(s) ``zt`` to the controls ``ZcT[:, cols]`` (all when
    ``cols`` is None), summed coordinate by coordinate: the same rounding for a pair whatever
    batch it is computed in, so both sweeps below agree on every tie."""
    s = np.zeros(ZcT.shape[1] if cols is None else len(cols))
    for j in range(ZcT.shape[0]):
        c = ZcT[j] if cols is None else ZcT[j, cols]
        diff = c - (zt[..., j] if zt.ndim > 1 else zt[j])
        s += diff * diff
    return np.sqrt(s)


#: bytes of the block of approximate squared distances held at a time
_BLOCK_BYTES = 1 << 21


class _Products:
    """For each treated unit, the controls within a radius, with their exact distances (brute force).

    Squared distances are first computed by matrix products (``|t|^2 + |c|^2 - 2 t'c``, a block
    of treated x controls at a time, never a full matrix); the radius of unit ``i`` is the
    ``q``-th smallest of them over a subset of the controls, so that about ``q * nc / subset``
    controls fall inside it. Every control whose *exact* squared distance is at most
    ``radius2[i]`` is in the list (the products' rounding error is bounded and allowed for);
    the list's distances are exact (:func:`_distances`). A sweep that needs a control beyond
    the radius falls back to an exact scan of all controls.
    """

    def __init__(self, Zt: np.ndarray, Zc: np.ndarray, q: int) -> None:
        nt, nc = len(Zt), len(Zc)
        self.ZcT = np.ascontiguousarray(Zc.T)
        self.Zt = Zt
        centre = Zc.mean(axis=0)
        Tc, Cc = Zt - centre, Zc - centre
        tt, cc = (Tc * Tc).sum(axis=1), (Cc * Cc).sum(axis=1)
        k = Zt.shape[1]
        # |fl(t't + c'c - 2 t'c) - |t - c|^2| <= gamma (|t| + |c|)^2 on the centred points, plus
        # the rounding of the centring itself; with room to spare
        gamma = 4.0 * (k + 4) * float(np.finfo(float).eps)
        zt, zc = np.sqrt((Zt * Zt).sum(axis=1)), np.sqrt((Zc * Zc).sum(axis=1))
        err = gamma * ((np.sqrt(tt) + float(np.sqrt(cc.max(initial=0.0)))) ** 2
                       + (zt + float(zc.max(initial=0.0))) ** 2)
        step = max(1, nc // max(4096, nc // 16))
        sub = np.arange(0, nc, step)
        q = min(q, len(sub))
        # the products give c'c - 2 t'c directly: [-2 t, 1] @ [c; c'c]
        Tm = np.column_stack([-2.0 * Tc, np.ones(nt)])
        CcT = np.vstack([Cc.T, cc[None, :]])
        radius2 = np.full(nt, np.inf)
        if step > 1 or q < len(sub):                   # else every control is a candidate
            CsT = np.ascontiguousarray(CcT[:, sub])
            rows = max(1, min(nt, _BLOCK_BYTES // (8 * len(sub))))
            for a in range(0, nt, rows):
                b = min(a + rows, nt)
                D = Tm[a:b] @ CsT
                radius2[a:b] = np.partition(D, q - 1, axis=1)[:, q - 1] + tt[a:b]
        # approximate cut (on c'c - 2 t'c) that keeps every control with exact |t - c|^2 <= radius2
        bound = radius2 + 2.0 * err - tt
        # a unit with more candidates than this (many controls at one distance) scans all instead
        cap = 64 + 16 * q * step                       # about 16 times the expected count
        count = np.zeros(nt, dtype=np.int64)
        ti_parts: list[np.ndarray] = []
        cj_parts: list[np.ndarray] = []
        cols = min(nc, 2048)
        rows = min(nt, 256)
        D = np.empty((rows, cols))
        hit = np.zeros(-(-rows * cols // 8) * 8, dtype=bool)   # whole 8-byte words
        for c0 in range(0, nc, cols):
            c1 = min(c0 + cols, nc)
            blockT = np.ascontiguousarray(CcT[:, c0:c1])
            w = c1 - c0
            for a in range(0, nt, rows):
                b = min(a + rows, nt)
                m = (b - a) * w
                Db = D.ravel()[:m].reshape(b - a, w)
                np.matmul(Tm[a:b], blockT, out=Db)
                hit[m:] = False
                np.less_equal(Db, bound[a:b, None], out=hit[:m].reshape(b - a, w))
                words = np.flatnonzero(hit.view(np.uint64))    # few: skip the empty words
                if not len(words):
                    continue
                wr, wb = np.nonzero(hit.reshape(-1, 8)[words])
                flat = words[wr] * 8 + wb
                r, c = np.divmod(flat, w)
                r = r + a
                count += np.bincount(r, minlength=nt)
                keep = count[r] <= cap
                ti_parts.append(r[keep])
                cj_parts.append(c[keep] + c0)
        ti = np.concatenate(ti_parts) if ti_parts else np.empty(0, dtype=np.intp)
        cj = np.concatenate(cj_parts) if cj_parts else np.empty(0, dtype=np.intp)
        over = count > cap
        if over.any():
            keep = ~over[ti]
            ti, cj = ti[keep], cj[keep]
        o = np.argsort(ti, kind="stable")
        ti, cj = ti[o], cj[o]
        d = np.empty(len(cj))
        chunk = 1 << 16
        for a in range(0, len(cj), chunk):
            d[a:a + chunk] = _distances(Zt[ti[a:a + chunk]], self.ZcT, cj[a:a + chunk])
        self.start = np.searchsorted(ti, np.arange(nt + 1))
        self.cj, self.d = cj, d
        self.radius = np.sqrt(np.maximum(radius2, 0.0))
        self.radius[over] = -1.0                       # never trusted: always the exact scan

    def of(self, i: int) -> tuple[np.ndarray, np.ndarray, float]:
        """``(distances, controls, radius)`` of treated unit ``i``."""
        a, b = self.start[i], self.start[i + 1]
        return self.d[a:b], self.cj[a:b], float(self.radius[i])

    def scan(self, i: int, free: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Exact distances from treated unit ``i`` to every (free) control: complete for any cut."""
        d = _distances(self.Zt[i], self.ZcT, None)
        j = np.arange(len(d))
        return (d, j) if free is None else (d[free], j[free])


def _kdtree(Zc: np.ndarray) -> "cKDTree":
    """A KD-tree of the controls, split at the sliding midpoint (``balanced_tree=False``) with
    its nodes left at their cell bounds (``compact_nodes=False``): on register-like covariates
    (many 0/1 columns, so many points share coordinates) median splits make deep, unbalanced
    searches; the midpoint rule builds and queries several times faster. The answers (the
    nearest points) do not depend on the tree's shape."""
    from scipy.spatial import cKDTree

    return cKDTree(Zc, balanced_tree=False, compact_nodes=False)


class _Tree:
    """The same lists from a KD-tree: each treated unit's ``q`` nearest controls, found by one
    batched query; the radius is the tree's distance to the farthest of them (every control
    nearer is in the list), shrunk by a rounding margin since the list's distances are
    recomputed exactly (:func:`_distances`)."""

    def __init__(self, Zt: np.ndarray, Zc: np.ndarray, q: int, tree: "cKDTree | None" = None) -> None:
        self.Zt, self.nc = Zt, len(Zc)
        self.ZcT = np.ascontiguousarray(Zc.T)
        self.tree = _kdtree(Zc) if tree is None else tree
        q = min(q, self.nc)
        D, J = self.tree.query(Zt, k=list(range(1, q + 1)))
        self.cj = J.ravel().astype(np.intp)
        ti = np.repeat(np.arange(len(Zt)), q)
        self.d = _distances(Zt[ti], self.ZcT, self.cj) if len(ti) else np.empty(0)
        self.start = np.arange(0, len(Zt) * q + 1, q)
        self.radius = (np.full(len(Zt), np.inf) if q >= self.nc
                       else D[:, -1] * (1 - 1e-12)) if len(Zt) else np.empty(0)

    def of(self, i: int) -> tuple[np.ndarray, np.ndarray, float]:
        a, b = self.start[i], self.start[i + 1]
        return self.d[a:b], self.cj[a:b], float(self.radius[i])

    def scan(self, i: int, free: np.ndarray | None, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Widening queries until the (free) controls found hold every one tied at the ``k``-th."""
        q = min(self.nc, 4 * k + 4)
        while True:
            D, J = self.tree.query(self.Zt[i], k=list(range(1, q + 1)))
            J = J.astype(np.intp)
            jj = J if free is None else J[free[J]]
            dd = _distances(self.Zt[i], self.ZcT, jj)
            if q >= self.nc:
                return dd, jj
            if len(dd) >= k and _tie_cut(float(np.partition(dd, k - 1)[k - 1])) < D[-1] * (1 - 1e-12):
                return dd, jj
            q = min(self.nc, 4 * q)


def _candidates(Zt: np.ndarray, Zc: np.ndarray, q: int) -> "_Products | _Tree":
    """The faster of the two candidate finders for these points (the answer is the same).

    A KD-tree is fast when the covariates have few effective dimensions (dummies, duplicates)
    and slow in many continuous ones, where blocked products win; a batched query of a sample
    of treated units times the tree against the products on the same sample.
    """
    import time

    nt, nc = len(Zt), len(Zc)
    if nt * nc <= 1 << 22:
        return _Products(Zt, Zc, q)
    tree = _kdtree(Zc)
    sample = Zt[:: max(1, nt // 32)][:32]
    t0 = time.perf_counter()
    tree.query(sample, k=list(range(1, min(q, nc) + 1)))
    t_tree = time.perf_counter() - t0
    t0 = time.perf_counter()
    np.less_equal(sample @ Zc.T, 0.0)              # the products' main cost for the sample
    t_products = 2.0 * (time.perf_counter() - t0)  # and the radius pass, the hits, the lists
    return _Tree(Zt, Zc, q, tree) if t_tree < t_products else _Products(Zt, Zc, q)


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


def _nearest_free(cand: "_Products | _Tree", i: int, free: np.ndarray, c_rank: np.ndarray
                  ) -> tuple[float, int] | None:
    """The nearest free control of treated unit ``i`` (ties to the smaller tie key), or None."""
    d, j, radius = cand.of(i)
    ok = free[j]
    if ok.any():
        dd, jj = d[ok], j[ok]
        best = float(dd.min())
        if not _tie_cut(best) < radius:
            dd, jj = cand.scan(i, free, 1)
    else:
        dd, jj = cand.scan(i, free, 1)
    if not len(dd):
        return None
    best = float(dd.min())
    tied = _tied(dd, best)
    pick = np.flatnonzero(tied)[np.argmin(c_rank[jj[tied]])]
    return float(dd[pick]), int(jj[pick])


def _k_nearest(cand: "_Products | _Tree", i: int, k: int, c_rank: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest controls of treated unit ``i`` (with replacement), ties to the smaller key."""
    d, j, radius = cand.of(i)
    if len(d) >= k:
        dd, jj = _take(d, j, c_rank, k)
        if len(dd) and _tie_cut(float(dd[-1])) < radius:
            return dd, jj
    d, j = cand.scan(i, None, k)
    return _take(d, j, c_rank, k)


def mahalanobis_nearest(X: np.ndarray, treated: np.ndarray, strata: np.ndarray | None,
                        rank_fn: Callable[[np.ndarray], np.ndarray], *, ratio: int = 1,
                        replace: bool = False, m_order: str = "data",
                        rng: np.random.Generator) -> Pairs:
    """Greedy k:1 matching on the Mahalanobis distance (MatchIt's ``distance = "mahalanobis"``).

    Treated units choose in ``m_order`` (default: tie-key order); each takes the nearest control
    still available; distances equal up to rounding go to the control with the smaller tie key
    (as every other method breaks ties), so the answer does not depend on the row order.

    The candidates of every treated unit (the controls within a radius holding a few dozen of
    them) come from blocked matrix products, all at once; the greedy sweep then reads them and
    scans all the controls only for a unit whose nearest free control lies beyond its radius.
    """
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
        nc = len(c_units)
        if replace:
            k = min(nc, ratio)
            cand = _candidates(Z[t_units], Z[c_units], q=k + 1)
            out_t, out_c, out_r, out_d = [], [], [], []
            for i in range(len(t_units)):
                dd, jj = _k_nearest(cand, i, k, c_rank)
                out_t.append(np.full(len(jj), t_units[i]))
                out_c.append(c_units[jj])
                out_r.append(np.arange(len(jj)))
                out_d.append(dd)
            parts.append(Pairs(np.concatenate(out_t).astype(np.int64), np.concatenate(out_c).astype(np.int64),
                               np.concatenate(out_r).astype(np.int64), np.concatenate(out_d).astype(float)))
            continue
        t_rank = rank_fn(t_units)
        proc = processing_order(t_units, np.zeros(len(X)), t_rank, m_order, rng)
        # a few more candidates than needed: fewer units fall back to a scan once theirs are taken
        cand = _candidates(Z[t_units], Z[c_units], q=3 + ratio)
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
                got = _nearest_free(cand, i, free, c_rank)
                if got is None:
                    continue
                dist, jc = got
                free[jc] = False
                n_used += 1
                o_t.append(int(t_units[i]))
                o_c.append(int(c_units[jc]))
                o_r.append(r)
                o_d.append(dist)
                still.append(i)
            active = still
        parts.append(Pairs(np.asarray(o_t, dtype=np.int64), np.asarray(o_c, dtype=np.int64),
                           np.asarray(o_r, dtype=np.int64), np.asarray(o_d, dtype=float)))
    return Pairs.concat(parts)
