"""The partial-likelihood engine shared by CoxPH, the log-rank test and cox.zph.

Rows sorted once by stratum and time; risk-set sums by reverse cumulative sums within strata;
Efron or Breslow ties. Nothing here knows about DataFrames or result objects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import linalg
from scipy.linalg import blas

from impact._errors import EstimationError

__all__ = [
    "Derivatives",
    "PartialLikelihoodFit",
    "Prepared",
    "Tail",
    "Ties",
    "cluster_score_sums",
    "derivatives",
    "distinct_rows",
    "fwd_within",
    "newton_fit",
    "prepare",
    "rev_within",
    "rev_within_shift",
    "score_residuals",
    "tail_score_sums",
]

Ties = Literal["efron", "breslow"]


# ----------------------------------------------------------------------------------------------
# the computational core
# ----------------------------------------------------------------------------------------------
@dataclass
class Tail:
    """Rows kept in the risk set after they leave it, with a weight that changes over time.

    Fine-Gray: a competing exit at ``T_i`` stays at risk at every later time ``u`` with weight
    ``wt_i * gfac(u)`` (``wt_i = w_i / G(T_i-)``, ``gfac(u) = G(u-)``, ``G`` the censoring
    Kaplan-Meier). Its risk-set sums at each time are a forward cumulative sum over the rows
    already gone, times ``gfac``: the forward half of the forward-backward scan of Kawaguchi et
    al. (2020), so nothing is expanded.
    """

    rows: np.ndarray   # (m,) sorted positions of the rows
    wt: np.ndarray     # (m,) their base weights
    grp: np.ndarray    # (m,) the group (time) at which each row leaves; at risk at later groups
    gfac: np.ndarray   # (G,) the time factor at each group


@dataclass
class Prepared:
    """Rows sorted by (stratum, stop time) and the group structure over distinct times."""

    order: np.ndarray        # sorted position -> input row
    XT: np.ndarray           # (p, n) centred covariates, sorted, C-contiguous (fast rows)
    d: np.ndarray            # (n,) 0/1 deaths, sorted
    w: np.ndarray            # (n,) weights, sorted
    grp: np.ndarray          # (n,) group (stratum, time) of each sorted row
    gstart: np.ndarray       # (G,) first sorted row of each group
    g_first: np.ndarray      # (G,) first group of the group's stratum
    g_end: np.ndarray        # (G,) one past the last group of the group's stratum
    gtime: np.ndarray        # (G,) time of each group
    # (start, stop] data: entry group = first group with time > entry, within stratum
    entry_grp: np.ndarray | None  # (n,) index of the first group the row is at risk at
    nd: np.ndarray           # (G,) number of deaths per group
    wd: np.ndarray           # (G,) sum of death weights per group
    kg: np.ndarray           # (Dk,) group of each k-row (one per death)
    kfrac: np.ndarray        # (Dk,) k/d (Efron) or 0 (Breslow)
    sum_wdx: np.ndarray      # (p,) sum_i w_i d_i x_i
    didx: np.ndarray         # sorted positions of the deaths
    gsize: np.ndarray        # (G,) rows per group
    bounds: np.ndarray       # (2G,) reduceat bounds: deaths of g, then the others of g
    empty_slot: np.ndarray   # (2G,) slots with no rows
    tail: Tail | None = None  # rows at risk after they leave (Fine-Gray), single stratum only

    @property
    def X(self) -> np.ndarray:
        return self.XT.T


#: fits on fewer rows than this use every row as given (:func:`distinct_rows`)
DISTINCT_MIN_ROWS = 20_000


def _column_codes(col: np.ndarray, n: int) -> tuple[np.ndarray, int]:
    """Integer codes ``0..size-1`` of a column's values: whole numbers within ``n`` of each other
    by their offset from the smallest (no hashing), others by a hash factorisation."""
    import pandas as pd

    if col.dtype.kind == "b":
        col = col.view(np.int8)
    if col.dtype.kind in "iuf":
        lo, hi = col.min(), col.max()
        if lo == hi:
            return np.zeros(n, dtype=np.int64), 1
        if np.isfinite(lo) and np.isfinite(hi) and hi - lo <= n and abs(lo) < 2**52 and abs(hi) < 2**52:
            k = col.astype(np.int64)
            if (k == col).all():
                k -= int(lo)
                return k, int(hi - lo) + 1
    k, uniq = pd.factorize(col)
    return k.astype(np.int64, copy=False), len(uniq)


def distinct_rows(columns: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """The first row of each distinct combination of ``columns`` (1-D, same length, no NaN) and
    how many rows it stands for (float), when there are at least ``DISTINCT_MIN_ROWS`` rows and at
    most a quarter as many distinct ones (register data: whole days, a few binary covariates);
    else None. O(n): each column coded by its offset (whole numbers) or a hash factorisation,
    the combined code counted by ``np.bincount``.
    """
    import pandas as pd

    n = columns[0].size if columns else 0
    if n < DISTINCT_MIN_ROWS:
        return None
    code = np.zeros(n, dtype=np.int64)
    size = 1
    for col in columns:
        k, m = _column_codes(np.asarray(col), n)
        if m > n // 4:
            return None
        if m > 1:
            size *= m
            if size > 2**62:
                return None
            code = code * m + k
    if size <= 4 * n:
        counts = np.bincount(code, minlength=size)
        used = np.flatnonzero(counts)
        if used.size > n // 4:
            return None
        dense = np.empty(size, dtype=np.int64)
        dense[used] = np.arange(used.size)
        codes, count = dense[code], counts[used]
    else:
        codes, uniq = pd.factorize(code)
        if len(uniq) > n // 4:
            return None
        count = np.bincount(codes, minlength=len(uniq))
    first = np.empty(count.size, dtype=np.int64)
    first[codes[::-1]] = np.arange(n - 1, -1, -1)
    return first, count.astype(np.float64)


def _time_order(T: np.ndarray, d: np.ndarray, strata: np.ndarray) -> np.ndarray:
    """``np.lexsort((1.0 - d, T, strata))``: rows by stratum, time, deaths first, then input order.

    Whole-number times within 32,767 of each other (days, weeks) in one stratum are sorted as one
    16-bit key ``2 (T - min T) + (1 - d)`` by numpy's stable radix sort, O(n); the permutation
    is the same (a stable sort keeps the input order of equal keys, as lexsort does).
    """
    n = T.size
    if n > 1 and d.dtype.kind in "fiub":
        lo, hi = float(T.min()), float(T.max())
        if np.isfinite(lo) and hi - lo < 32767 and (strata.size == 0 or strata.min() == strata.max()):
            base = T - lo
            whole = base.astype(np.uint16)
            death = d == 1
            if np.array_equal(whole, base) and (death | (d == 0)).all():
                key = whole * np.uint16(2)
                key += ~death
                return np.argsort(key, kind="stable")
    return np.lexsort((1.0 - d, T, strata))


def prepare(T: np.ndarray, d: np.ndarray, X: np.ndarray, w: np.ndarray, strata: np.ndarray,
             ties: str, entry: np.ndarray | None = None, count: np.ndarray | None = None) -> Prepared:
    """Sort the rows and build the group structure.

    ``count``: each row stands for that many identical rows (:func:`distinct_rows`); ``w`` is then
    the row's weight times its count, and tied deaths are counted with their multiplicity (Efron's
    ``k/d`` and the mean weight of the tied deaths are those of the rows stood for).
    """
    n = X.shape[0]
    order = _time_order(T, d, strata)  # deaths first within each (stratum, time)
    Ts, ss = T[order], strata[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    new[1:] = (Ts[1:] != Ts[:-1]) | (ss[1:] != ss[:-1])
    grp = np.cumsum(new) - 1
    gstart = np.flatnonzero(new)
    G = gstart.size
    gstrat = ss[gstart]
    snew = np.r_[True, gstrat[1:] != gstrat[:-1]]
    sfirst = np.flatnonzero(snew)
    send = np.r_[sfirst[1:], G]
    sidx = np.cumsum(snew) - 1
    g_first = sfirst[sidx]
    g_end = send[sidx]
    ws = w[order]
    XT = np.take(np.asarray(X).T, order, axis=1)  # (p, n), C-contiguous
    mean = (XT @ ws) / ws.sum()
    XT -= mean[:, None]
    ds = d[order]
    nrow_d = np.add.reduceat(ds, gstart).astype(np.int64)   # death rows per group
    nd = nrow_d.astype(ds.dtype) if count is None else np.add.reduceat(ds * count[order], gstart)
    wd = np.add.reduceat(ws * ds, gstart)
    ndi = nd.astype(np.int64)
    kg = np.repeat(np.arange(G), ndi)
    if ties == "efron":
        kstart = np.repeat(np.cumsum(ndi) - ndi, ndi)
        kfrac = (np.arange(kg.size) - kstart) / np.repeat(np.maximum(ndi, 1), ndi)
    else:
        kfrac = np.zeros(kg.size)
    entry_grp = None
    if entry is not None:
        # first group (within the row's stratum) whose time is > entry
        es = entry[order]
        key_t = Ts[gstart]
        entry_grp = np.empty(n, dtype=np.int64)
        for s0, s1 in zip(sfirst, send):
            rows = (grp >= s0) & (grp < s1)
            entry_grp[rows] = s0 + np.searchsorted(key_t[s0:s1], es[rows], side="right")
    sum_wdx = XT @ (ws * ds)
    didx = np.flatnonzero(ds)
    gsize = np.diff(np.r_[gstart, n])
    # slots (deaths of g, others of g) for one reduceat; empty slots are zeroed after it
    bounds = np.empty(2 * G, dtype=np.int64)
    bounds[0::2] = gstart
    bounds[1::2] = gstart + nrow_d
    empty = np.zeros(2 * G, dtype=bool)
    empty[0::2] = nrow_d == 0
    empty[1::2] = nrow_d == gsize
    return Prepared(order=order, XT=XT, d=ds, w=ws, grp=grp, gstart=gstart, g_first=g_first,
                     g_end=g_end, gtime=Ts[gstart], entry_grp=entry_grp, nd=nd, wd=wd, kg=kg,
                     kfrac=kfrac, sum_wdx=sum_wdx, didx=didx, gsize=gsize, bounds=bounds,
                     empty_slot=empty)


def rev_within(x: np.ndarray, g_end: np.ndarray) -> np.ndarray:
    """sum_{g' >= g, same stratum} x[g']."""
    rc = np.cumsum(x[::-1], axis=0)[::-1]
    rc = np.concatenate([rc, np.zeros((1,) + x.shape[1:])])
    return rc[:-1] - rc[g_end]


def fwd_within(x: np.ndarray, g_first: np.ndarray) -> np.ndarray:
    """sum_{g' <= g, same stratum} x[g']."""
    cs = np.cumsum(x, axis=0)
    cs = np.concatenate([np.zeros((1,) + x.shape[1:]), cs])
    return cs[1:] - cs[g_first]


@dataclass
class Derivatives:
    loglik: float
    score: np.ndarray
    info: np.ndarray | None
    r: np.ndarray       # (n,) exp(eta - shift), sorted
    # per-group terms (G,), (G, p): everything the residuals need
    c_g: np.ndarray     # sum_k mw / den_k
    e_g: np.ndarray     # sum_k mw f_k / den_k
    H1: np.ndarray      # sum_k mw xbar_k / den_k
    E1: np.ndarray      # sum_k mw f_k xbar_k / den_k
    xbar_avg: np.ndarray  # mean_k xbar_k (0 for groups without deaths)


def derivatives(pp: Prepared, beta: np.ndarray, need_info: bool = True) -> Derivatives:
    """Log-likelihood, score and information at ``beta``.

    Efron's k-th term at a time with d tied deaths has ``den_k = R0 - f_k D0`` and
    ``xbar_k = (R1 - f_k D1) / den_k`` (``f_k = k/d``). Every sum over k needed here is a
    combination of R1, D1 (per group) with scalar sums over k such as ``sum_k 1/den_k^2``, so
    no (deaths x p) array is formed.
    """
    XT, w, d = pp.XT, pp.w, pp.d
    p = XT.shape[0]
    G = pp.gstart.size
    eta = beta @ XT
    shift = float(eta.max()) if eta.size else 0.0
    r = np.exp(eta - shift)
    wr = w * r
    WX = XT * wr  # (p, n)
    # rows are sorted deaths-first within each group: one reduceat gives deaths and the rest
    bounds = pp.bounds
    if bounds[-1] >= wr.size:  # last group is all deaths: its "others" slot is empty
        S0 = np.r_[np.add.reduceat(wr, bounds[:-1]), 0.0]
        S1 = np.vstack([np.add.reduceat(WX, bounds[:-1], axis=1).T, np.zeros((1, p))])
    else:
        S0 = np.add.reduceat(wr, bounds)
        S1 = np.add.reduceat(WX, bounds, axis=1).T  # (2G, p)
    del WX
    S0[pp.empty_slot] = 0.0
    S1[pp.empty_slot] = 0.0
    D0, N0 = S0[0::2], S0[1::2]
    D1, N1 = S1[0::2], S1[1::2]
    R0 = rev_within(D0 + N0, pp.g_end)
    R1 = rev_within(D1 + N1, pp.g_end)
    if pp.entry_grp is not None:
        # a row entering at group e is not at risk at groups before e: subtract it there
        E0 = np.bincount(pp.entry_grp, weights=wr, minlength=G + 1)[:G + 1]
        E1e = np.zeros((G + 1, p))
        for c in range(p):
            E1e[:, c] = np.bincount(pp.entry_grp, weights=wr * XT[c], minlength=G + 1)[:G + 1]
        R0 = R0 - rev_within_shift(E0, pp.g_end)
        R1 = R1 - rev_within_shift(E1e, pp.g_end)
    tl = pp.tail
    if tl is not None:
        # rows gone before group g, still at risk there with weight wt * gfac[g]
        wr_t = tl.wt * r[tl.rows]
        XTt = XT[:, tl.rows]
        A0 = np.bincount(tl.grp, weights=wr_t, minlength=G)
        R0 = R0 + tl.gfac * (np.cumsum(A0) - A0)
        A1 = np.empty((G, p))
        for c in range(p):
            A1[:, c] = np.bincount(tl.grp, weights=wr_t * XTt[c], minlength=G)
        R1 = R1 + tl.gfac[:, None] * (np.cumsum(A1, axis=0) - A1)
    kg, f = pp.kg, pp.kfrac
    den = R0[kg] - f * D0[kg]
    inv = 1.0 / den
    mwg = np.where(pp.nd > 0, pp.wd / np.maximum(pp.nd, 1), 0.0)  # R's mean weight of tied deaths

    def ksum(x: np.ndarray) -> np.ndarray:
        return np.bincount(kg, weights=x, minlength=G)

    s1 = ksum(inv)
    sf1 = ksum(f * inv)
    s2 = ksum(inv * inv)
    sf2 = ksum(f * inv * inv)
    sff2 = ksum(f * f * inv * inv)
    c_g = mwg * s1
    e_g = mwg * sf1
    # sum_k mw xbar_k = R1 c_g - D1 e_g
    loglik = float(np.dot(w * d, eta) - np.sum(mwg[kg] * (np.log(den) + shift)))
    score = pp.sum_wdx - (R1.T @ c_g - D1.T @ e_g)
    H1 = R1 * (mwg * s2)[:, None] - D1 * (mwg * sf2)[:, None]
    E1 = R1 * (mwg * sf2)[:, None] - D1 * (mwg * sff2)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        ndg = np.maximum(pp.nd, 1)[:, None]
        xbar_avg = np.where(pp.nd[:, None] > 0, (R1 * s1[:, None] - D1 * sf1[:, None]) / ndg, 0.0)
    info = None
    if need_info:
        Ccum = fwd_within(c_g, pp.g_first)
        cum_i = np.repeat(Ccum, pp.gsize)
        if pp.entry_grp is not None:
            prev = pp.entry_grp - 1
            same = prev >= pp.g_first[pp.grp]
            cum_i = cum_i - np.where(same, Ccum[np.maximum(prev, 0)], 0.0)
        v = wr * (cum_i - d * np.repeat(e_g, pp.gsize))
        Y = XT * np.sqrt(np.maximum(v, 0.0))
        first = blas.dsyrk(1.0, Y.T, trans=1)  # upper triangle of Y Y'
        if tl is not None and tl.rows.size:
            # a tail row is at risk at every later group: sum_{g > g_i} gfac_g c_g
            CG = np.cumsum(tl.gfac * c_g)
            vt = wr_t * (CG[-1] - CG[tl.grp])
            Yt = XTt * np.sqrt(np.maximum(vt, 0.0))
            first = first + blas.dsyrk(1.0, Yt.T, trans=1)
        first = np.triu(first) + np.triu(first, 1).T
        # sum_k mw xbar_k xbar_k' = R1'(a R1) - R1'(b D1) - D1'(b R1) + D1'(c D1)
        aa, bb, cc = mwg * s2, mwg * sf2, mwg * sff2
        RbD = R1.T @ (D1 * bb[:, None])
        second = R1.T @ (R1 * aa[:, None]) - RbD - RbD.T + D1.T @ (D1 * cc[:, None])
        info = first - second
    return Derivatives(loglik=loglik, score=score, info=info, r=r, c_g=c_g, e_g=e_g, H1=H1, E1=E1,
                 xbar_avg=xbar_avg)


def rev_within_shift(x: np.ndarray, g_end: np.ndarray) -> np.ndarray:
    """sum_{g < e < g_end(g)} x[e]  (strictly later groups of the same stratum; x has G+1 rows)."""
    G = g_end.size
    rc = np.cumsum(x[::-1], axis=0)[::-1]  # rc[g] = sum_{e >= g} x[e], length G+1
    rc = np.concatenate([rc, np.zeros((1,) + x.shape[1:])])
    return rc[1:G + 1] - rc[g_end]


def score_residuals(pp: Prepared, ev: Derivatives) -> np.ndarray:
    """R's score residuals (unweighted, per sorted row), transposed ``(p, n)``:
    ``sum_i w_i L_i == score``.

    ``L_i = d_i (x_i - mean_k xbar_k) - r_i sum_{g at risk} sum_k (x_i - xbar_k) mw / den_k
    * (1 - f_k if i dies at g else 1)``, as R's ``coxscore``.
    """
    XT, d, r = pp.XT, pp.d, ev.r
    Ccum = fwd_within(ev.c_g, pp.g_first)
    Hcum = fwd_within(ev.H1, pp.g_first)
    cum_c = np.repeat(Ccum - 0.0, pp.gsize) - d * np.repeat(ev.e_g, pp.gsize)
    HT = np.repeat(Hcum.T, pp.gsize, axis=1)
    if pp.entry_grp is not None:
        g = pp.grp
        prev = pp.entry_grp - 1
        same = prev >= pp.g_first[g]
        pc = np.maximum(prev, 0)
        cum_c = cum_c - np.where(same, Ccum[pc], 0.0)
        HT -= np.take(Hcum.T, pc, axis=1) * same
    LT = XT * (d - r * cum_c)
    LT += HT * r
    del HT
    LT -= np.repeat(ev.xbar_avg.T, pp.gsize, axis=1) * d
    LT -= np.repeat(ev.E1.T, pp.gsize, axis=1) * (r * d)
    return LT


def tail_score_sums(pp: Prepared, ev: Derivatives) -> np.ndarray:
    """Weighted score residuals of the tail rows over the times after they left, ``(m, p)``.

    A tail row is at risk at every later group ``u`` with weight ``wt gfac(u)`` and never dies
    there, so its residual sums to ``-wt r (x sum_u gfac c_u - sum_u gfac H1_u)`` (R's
    ``coxscore`` on the expanded rows, summed over them).
    """
    tl = pp.tail
    if tl is None:
        return np.zeros((0, pp.XT.shape[0]))
    CG = np.cumsum(tl.gfac * ev.c_g)
    HG = np.cumsum(ev.H1 * tl.gfac[:, None], axis=0)
    wr_t = tl.wt * ev.r[tl.rows]
    after_c = CG[-1] - CG[tl.grp]
    after_h = HG[-1] - HG[tl.grp]
    return -wr_t[:, None] * (pp.XT[:, tl.rows].T * after_c[:, None] - after_h)


def cluster_score_sums(pp: Prepared, ev: Derivatives, codes: np.ndarray, n_clusters: int) -> np.ndarray:
    """``sum_{i in cluster} w_i L_i`` for every cluster, (n_clusters, p), in O(n p).

    ``L_i = x_i (d_i - r_i cum_c_i) + r_i Hcum_{g_i} - d_i xbar_avg_{g_i} - r_i d_i E1_{g_i}``;
    the group-level terms are summed within clusters through sparse (cluster x group)
    matrices, so no (n, p) array of residuals is formed.
    """
    from scipy import sparse

    XT, d, r, w = pp.XT, pp.d, ev.r, pp.w
    G = pp.gstart.size
    g = pp.grp
    n = g.size
    Ccum = fwd_within(ev.c_g, pp.g_first)
    Hcum = fwd_within(ev.H1, pp.g_first)
    cum_c = np.repeat(Ccum, pp.gsize) - d * np.repeat(ev.e_g, pp.gsize)
    wr = w * r
    if pp.entry_grp is not None:
        prev = pp.entry_grp - 1
        same = prev >= pp.g_first[g]
        pc = np.maximum(prev, 0)
        cum_c = cum_c - np.where(same, Ccum[pc], 0.0)
    shape = (n_clusters, G)
    Mx = sparse.csr_matrix((w * (d - r * cum_c), (codes, np.arange(n))), shape=(n_clusters, n))
    out = np.asarray(Mx @ XT.T)
    out += sparse.csr_matrix((wr, (codes, g)), shape=shape) @ Hcum
    if pp.entry_grp is not None:
        out -= sparse.csr_matrix((wr * same, (codes, pc)), shape=shape) @ Hcum
    di = pp.didx
    if di.size:
        gd = g[di]
        out -= sparse.csr_matrix((w[di], (codes[di], gd)), shape=shape) @ ev.xbar_avg
        out -= sparse.csr_matrix((wr[di], (codes[di], gd)), shape=shape) @ ev.E1
    if pp.tail is not None:
        ts = tail_score_sums(pp, ev)
        ct = codes[pp.tail.rows]
        for c in range(ts.shape[1]):
            out[:, c] += np.bincount(ct, weights=ts[:, c], minlength=n_clusters)
    return out


@dataclass
class PartialLikelihoodFit:
    beta: np.ndarray
    loglik: float
    loglik0: float
    info: np.ndarray
    naive_cov: np.ndarray
    n_iter: int
    converged: bool
    pp: Prepared
    ev: Derivatives


def newton_fit(pp: Prepared, max_iter: int, tol: float, names: Sequence[str]) -> PartialLikelihoodFit:
    p = pp.XT.shape[0]
    beta = np.zeros(p)
    ev = derivatives(pp, beta)
    loglik0 = ev.loglik
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        try:
            step = linalg.solve(ev.info, ev.score, assume_a="pos")
        except (linalg.LinAlgError, ValueError):
            step = linalg.lstsq(ev.info, ev.score)[0]
        new = beta + step
        ev_new = derivatives(pp, new)
        halvings = 0
        while (not np.isfinite(ev_new.loglik) or ev_new.loglik < ev.loglik - 1e-12 * abs(ev.loglik)) \
                and halvings < 30:
            step = step / 2.0
            new = beta + step
            ev_new = derivatives(pp, new)
            halvings += 1
        change = abs(ev_new.loglik - ev.loglik)
        beta, ev = new, ev_new
        if np.max(np.abs(step)) < tol * (1.0 + np.max(np.abs(beta))) or \
                change < 1e-13 * max(1.0, abs(ev.loglik)):
            converged = True
            break
    info = ev.info
    if info is None:  # pragma: no cover - derivatives(need_info=True) always computes it
        raise EstimationError("The Cox information matrix was not computed (internal error).")
    try:
        naive = linalg.inv(info)
    except (linalg.LinAlgError, ValueError):
        naive = np.full((p, p), np.nan)
    if not np.all(np.isfinite(naive)) or np.any(np.diag(naive) <= 0):
        raise EstimationError(
            "The Cox model cannot be estimated: its information matrix is singular. A covariate "
            "is constant, collinear with others, or has no events at some level "
            f"(covariates: {', '.join(names)}). Drop or combine covariates."
        )
    return PartialLikelihoodFit(beta=beta, loglik=ev.loglik, loglik0=loglik0, info=info, naive_cov=naive,
                   n_iter=it, converged=converged, pp=pp, ev=ev)
