"""Cox proportional hazards: weights, Efron or Breslow ties, strata, (start, stop] rows, and
cluster-robust variance in O(n p^2), agreeing with R's ``coxph``.

Everything is computed from one sort by (stratum, time) and cumulative sums over the distinct
times: the partial log-likelihood, its score and information, and the score residuals from which
the robust variance ``D'D`` (``D`` = dfbeta residuals summed within clusters) is made. Tied
deaths with Efron's approximation are expanded into one "k-row" per death, so the work is
O(n p^2 + deaths p^2) per Newton step and never O(n^2) or O(times p^2) memory.

R's conventions, checked against ``coxph`` on the Rossi data:

* Efron ties use the mean weight of the tied deaths (``meanwt``), as R does;
* score residuals for tied deaths are ``x_i - mean_k xbar_k`` minus the at-risk terms, with a
  tied death's risk weight ``1 - k/d`` in the k-th term (R's ``coxscore``);
* the robust variance is ``D'D`` with ``D = rowsum(w_i * score_i %*% V, cluster)``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import linalg, stats
from scipy.linalg import blas

from .._checks import check_columns, check_option
from .._errors import DataError, EstimationError, ImpactWarning, ParameterError, data_error
from ._common import (check_cluster, check_conf_level, check_duration, check_event, check_weights,
                      covariate_matrix, z_value)

__all__ = ["CoxPH"]

Ties = Literal["efron", "breslow"]


# ----------------------------------------------------------------------------------------------
# the computational core
# ----------------------------------------------------------------------------------------------
@dataclass
class _Prepared:
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

    @property
    def X(self) -> np.ndarray:
        return self.XT.T


def _prepare(T: np.ndarray, d: np.ndarray, X: np.ndarray, w: np.ndarray, strata: np.ndarray,
             ties: str, entry: np.ndarray | None = None) -> _Prepared:
    n, p = X.shape
    order = np.lexsort((1.0 - d, T, strata))  # deaths first within each (stratum, time)
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
    nd = np.add.reduceat(ds, gstart)
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
        key_t = gtime = Ts[gstart]
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
    bounds[1::2] = gstart + ndi
    empty = np.zeros(2 * G, dtype=bool)
    empty[0::2] = ndi == 0
    empty[1::2] = ndi == gsize
    return _Prepared(order=order, XT=XT, d=ds, w=ws, grp=grp, gstart=gstart, g_first=g_first,
                     g_end=g_end, gtime=Ts[gstart], entry_grp=entry_grp, nd=nd, wd=wd, kg=kg,
                     kfrac=kfrac, sum_wdx=sum_wdx, didx=didx, gsize=gsize, bounds=bounds,
                     empty_slot=empty)


def _rev_within(x: np.ndarray, g_end: np.ndarray) -> np.ndarray:
    """sum_{g' >= g, same stratum} x[g']."""
    rc = np.cumsum(x[::-1], axis=0)[::-1]
    rc = np.concatenate([rc, np.zeros((1,) + x.shape[1:])])
    return rc[:-1] - rc[g_end]


def _fwd_within(x: np.ndarray, g_first: np.ndarray) -> np.ndarray:
    """sum_{g' <= g, same stratum} x[g']."""
    cs = np.cumsum(x, axis=0)
    cs = np.concatenate([np.zeros((1,) + x.shape[1:]), cs])
    return cs[1:] - cs[g_first]


@dataclass
class _Eval:
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


def _evaluate(pp: _Prepared, beta: np.ndarray, need_info: bool = True) -> _Eval:
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
    R0 = _rev_within(D0 + N0, pp.g_end)
    R1 = _rev_within(D1 + N1, pp.g_end)
    if pp.entry_grp is not None:
        # a row entering at group e is not at risk at groups before e: subtract it there
        E0 = np.bincount(pp.entry_grp, weights=wr, minlength=G + 1)[:G + 1]
        E1e = np.zeros((G + 1, p))
        for c in range(p):
            E1e[:, c] = np.bincount(pp.entry_grp, weights=wr * XT[c], minlength=G + 1)[:G + 1]
        R0 = R0 - _rev_within_shift(E0, pp.g_end)
        R1 = R1 - _rev_within_shift(E1e, pp.g_end)
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
        Ccum = _fwd_within(c_g, pp.g_first)
        cum_i = np.repeat(Ccum, pp.gsize)
        if pp.entry_grp is not None:
            prev = pp.entry_grp - 1
            same = prev >= pp.g_first[pp.grp]
            cum_i = cum_i - np.where(same, Ccum[np.maximum(prev, 0)], 0.0)
        v = wr * (cum_i - d * np.repeat(e_g, pp.gsize))
        Y = XT * np.sqrt(np.maximum(v, 0.0))
        first = blas.dsyrk(1.0, Y.T, trans=1)  # upper triangle of Y Y'
        first = np.triu(first) + np.triu(first, 1).T
        # sum_k mw xbar_k xbar_k' = R1'(a R1) - R1'(b D1) - D1'(b R1) + D1'(c D1)
        aa, bb, cc = mwg * s2, mwg * sf2, mwg * sff2
        RbD = R1.T @ (D1 * bb[:, None])
        second = R1.T @ (R1 * aa[:, None]) - RbD - RbD.T + D1.T @ (D1 * cc[:, None])
        info = first - second
    return _Eval(loglik=loglik, score=score, info=info, r=r, c_g=c_g, e_g=e_g, H1=H1, E1=E1,
                 xbar_avg=xbar_avg)


def _rev_within_shift(x: np.ndarray, g_end: np.ndarray) -> np.ndarray:
    """sum_{g < e < g_end(g)} x[e]  (strictly later groups of the same stratum; x has G+1 rows)."""
    G = g_end.size
    rc = np.cumsum(x[::-1], axis=0)[::-1]  # rc[g] = sum_{e >= g} x[e], length G+1
    rc = np.concatenate([rc, np.zeros((1,) + x.shape[1:])])
    return rc[1:G + 1] - rc[g_end]


def _score_residuals(pp: _Prepared, ev: _Eval) -> np.ndarray:
    """R's score residuals (unweighted, per sorted row), transposed ``(p, n)``:
    ``sum_i w_i L_i == score``.

    ``L_i = d_i (x_i - mean_k xbar_k) - r_i sum_{g at risk} sum_k (x_i - xbar_k) mw / den_k
    * (1 - f_k if i dies at g else 1)``, as R's ``coxscore``.
    """
    XT, d, r = pp.XT, pp.d, ev.r
    Ccum = _fwd_within(ev.c_g, pp.g_first)
    Hcum = _fwd_within(ev.H1, pp.g_first)
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


def _cluster_score_sums(pp: _Prepared, ev: _Eval, codes: np.ndarray, n_clusters: int) -> np.ndarray:
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
    Ccum = _fwd_within(ev.c_g, pp.g_first)
    Hcum = _fwd_within(ev.H1, pp.g_first)
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
    return out


def _rowsum_T(valuesT: np.ndarray, codes: np.ndarray, n_groups: int) -> np.ndarray:
    """Sums of the columns of ``valuesT`` (p, n) within groups: (n_groups, p), O(n p)."""
    from scipy import sparse

    n = codes.size
    M = sparse.csr_matrix((np.ones(n), (codes, np.arange(n))), shape=(n_groups, n))
    return np.asarray(M @ valuesT.T)


@dataclass
class _CoxFit:
    beta: np.ndarray
    loglik: float
    loglik0: float
    info: np.ndarray
    naive_cov: np.ndarray
    n_iter: int
    converged: bool
    pp: _Prepared
    ev: _Eval


def _cox_fit(pp: _Prepared, max_iter: int, tol: float, names: Sequence[str]) -> _CoxFit:
    p = pp.XT.shape[0]
    beta = np.zeros(p)
    ev = _evaluate(pp, beta)
    loglik0 = ev.loglik
    converged = False
    it = 0
    for it in range(1, max_iter + 1):
        try:
            step = linalg.solve(ev.info, ev.score, assume_a="pos")
        except (linalg.LinAlgError, ValueError):
            step = linalg.lstsq(ev.info, ev.score)[0]
        new = beta + step
        ev_new = _evaluate(pp, new)
        halvings = 0
        while (not np.isfinite(ev_new.loglik) or ev_new.loglik < ev.loglik - 1e-12 * abs(ev.loglik)) \
                and halvings < 30:
            step = step / 2.0
            new = beta + step
            ev_new = _evaluate(pp, new)
            halvings += 1
        change = abs(ev_new.loglik - ev.loglik)
        beta, ev = new, ev_new
        if np.max(np.abs(step)) < tol * (1.0 + np.max(np.abs(beta))) or \
                change < 1e-13 * max(1.0, abs(ev.loglik)):
            converged = True
            break
    try:
        naive = linalg.inv(ev.info)
    except (linalg.LinAlgError, ValueError):
        naive = np.full((p, p), np.nan)
    if not np.all(np.isfinite(naive)) or np.any(np.diag(naive) <= 0):
        raise EstimationError(
            "The Cox model cannot be estimated: its information matrix is singular. A covariate "
            "is constant, collinear with others, or has no events at some level "
            f"(covariates: {', '.join(names)}). Drop or combine covariates."
        )
    return _CoxFit(beta=beta, loglik=ev.loglik, loglik0=loglik0, info=ev.info, naive_cov=naive,
                   n_iter=it, converged=converged, pp=pp, ev=ev)


# ----------------------------------------------------------------------------------------------
# public estimator
# ----------------------------------------------------------------------------------------------
class CoxPH:
    """Cox proportional hazards with case weights, Efron ties, strata and cluster-robust SEs.

    Agrees with R's ``coxph(Surv(time, event) ~ x + strata(s), weights=w, cluster=id,
    ties="efron")``. The robust (sandwich) variance is computed from score residuals exactly
    as R's ``residuals(fit, "dfbeta")`` with Efron ties, in O(n p^2): one sort and cumulative
    sums, so a million rows take seconds.

    Parameters
    ----------
    ties : {"efron", "breslow"}, default "efron"
        Handling of tied event times (R's default is Efron).
    robust : bool or None, default None
        Robust (sandwich) variance without ``cluster_col`` (each row its own cluster, R's
        ``robust=TRUE``). ``None`` follows R: robust when the weights are not whole numbers
        (matching or IPW weights), model-based otherwise. With ``cluster_col`` the variance is
        always cluster-robust.
    conf_level : float, default 0.95
        Confidence level of the intervals in :meth:`summary`.
    max_iter : int, default 50
        Newton-Raphson iterations (with step halving).
    tol : float, default 1e-10
        Convergence: largest coefficient step below ``tol * (1 + max|beta|)``.

    Attributes
    ----------
    params_ : pandas.Series
        Log hazard ratios.
    cov_ : pandas.DataFrame
        Variance of ``params_``: robust when clustered or ``robust=True``, else model-based.
    naive_cov_ : pandas.DataFrame
        Model-based variance (inverse information).
    cov_type_ : str
        ``"cluster"``, ``"robust"`` or ``"naive"``.
    loglik_, loglik_null_ : float
        Partial log-likelihood at the estimate and at zero.
    n_, n_events_, n_clusters_, n_iter_ : int
    notes_ : tuple of str

    Examples
    --------
    >>> from lifelines.datasets import load_rossi
    >>> from impact.survival import CoxPH
    >>> rossi = load_rossi()
    >>> cox = CoxPH().fit(rossi, duration_col="week", event_col="arrest")
    >>> cox.summary().round(3).loc[:2, ["term", "estimate", "se", "hazard_ratio"]]
       term  estimate     se  hazard_ratio
    0   fin    -0.379  0.191         0.684
    1   age    -0.057  0.022         0.944
    2  race     0.314  0.308         1.369
    """

    def __init__(self, ties: Ties = "efron", robust: bool | None = None, conf_level: float = 0.95,
                 max_iter: int = 50, tol: float = 1e-10) -> None:
        self.ties = ties
        self.robust = robust
        self.conf_level = conf_level
        self.max_iter = max_iter
        self.tol = tol

    # ------------------------------------------------------------------------------------------
    def fit(self, df: pd.DataFrame, duration_col: str, event_col: str,
            covariates: Sequence[str] | None = None, weights_col: str | None = None,
            cluster_col: str | None = None, strata: str | Sequence[str] | None = None,
            entry_col: str | None = None) -> "CoxPH":
        """Fit the model.

        Parameters
        ----------
        df : pandas.DataFrame
        duration_col : str
            Follow-up time (> 0); with ``entry_col``, the end of each (entry, duration] row.
        event_col : str
            1/True event, 0/False censored.
        covariates : sequence of str, optional
            Default: every other numeric (or boolean) column.
        weights_col : str, optional
            Case weights (>= 0, not all zero).
        cluster_col : str, optional
            Cluster (matched set) for cluster-robust variance, as R's ``cluster=``.
        strata : str or sequence of str, optional
            Stratify the baseline hazard (R's ``strata()``).
        entry_col : str, optional
            Start of each row's risk interval for (start, stop] data (delayed entry; R's
            ``Surv(start, stop, event)``). Default: every row at risk from 0.

        Returns
        -------
        self
        """
        func = "CoxPH"
        check_option("ties", self.ties, ("efron", "breslow"), func)
        conf = check_conf_level(self.conf_level, func)
        if self.robust is not None and not isinstance(self.robust, (bool, np.bool_)):
            raise ParameterError(f"The 'robust' parameter of {func} must be True, False or None. "
                                 f"Got {self.robust!r}.")
        strata_cols = [] if strata is None else ([strata] if isinstance(strata, str) else list(strata))
        named = [duration_col, event_col] + [c for c in (weights_col, cluster_col, entry_col) if c]
        check_columns(df, named + strata_cols)
        covariates, X, default_cov = covariate_matrix(df, covariates, set(named) | set(strata_cols), func)
        if not covariates:
            raise ParameterError("CoxPH needs at least one covariate; none given and no other "
                                 "numeric column in the data.")
        T = check_duration(df[duration_col].to_numpy(), duration_col)
        n = T.size
        d = check_event(df[event_col].to_numpy(), n, event_col)
        w = check_weights(None if weights_col is None else df[weights_col].to_numpy(), n,
                          weights_col or "weights")
        X = np.asfortranarray(X)  # covariates as rows in memory: the layout the core works in
        entry = None
        if entry_col is not None:
            entry = df[entry_col].to_numpy(dtype=np.float64)
            bad = ~np.isfinite(entry) | (entry < 0) | (entry >= T)
            if bad.any():
                raise data_error(entry_col, f"entry times must be >= 0 and < '{duration_col}'", bad)
        if strata_cols:
            sc = df[strata_cols]
            bad = sc.isna().any(axis=1).to_numpy()
            if bad.any():
                raise data_error(strata_cols[0], "strata must not be missing", bad)
            s_codes = sc.groupby(strata_cols, sort=True).ngroup().to_numpy().astype(np.int64)
        else:
            s_codes = np.zeros(n, dtype=np.int64)
        clusters = None
        n_clusters = n
        if cluster_col is not None:
            clusters, n_clusters = check_cluster(df[cluster_col].to_numpy(), n, cluster_col)
        keep = w > 0
        n_events = int(d[keep].sum())
        p = len(covariates)
        if n_events == 0:
            raise EstimationError(f"Column '{event_col}': there are no events (all rows are "
                                  "censored); a Cox model cannot be estimated.")
        if n_events < p + 1:
            raise EstimationError(
                f"Too few events for the Cox model: {n_events} event(s) for {p} covariate(s); "
                "at least one more event than covariates is needed (10 per covariate is a common "
                "rule). Use fewer covariates.")
        Xk = X if keep.all() else X[keep]
        const = [covariates[c] for c in np.flatnonzero(Xk.max(axis=0) == Xk.min(axis=0))]
        if const:
            raise DataError(f"Covariate(s) {', '.join(repr(c) for c in const)} are constant; "
                            "a constant has no hazard ratio. Drop them from 'covariates'.",
                            column=const[0], rule="not constant")

        pp = _prepare(T, d, X, w, s_codes, self.ties, entry)
        fit = _cox_fit(pp, self.max_iter, self.tol, covariates)
        if not fit.converged:
            warnings.warn(f"CoxPH did not converge in {self.max_iter} iterations; estimates may "
                          "be unreliable (a covariate may perfectly predict the events).",
                          ImpactWarning, stacklevel=2)
        big = np.abs(fit.beta) * np.sqrt(np.einsum("ij,ij->i", pp.XT, pp.XT) / n) > 25
        if big.any():
            warnings.warn("CoxPH: very large coefficient(s) for "
                          f"{', '.join(covariates[i] for i in np.flatnonzero(big))}: the likelihood "
                          "may be monotone (e.g. no events in one group).", ImpactWarning,
                          stacklevel=2)

        cov_type = "naive"
        cov = fit.naive_cov
        robust = self.robust
        auto_robust = robust is None and weights_col is not None and bool(np.any(w != np.floor(w)))
        if robust is None:
            robust = auto_robust
        if clusters is not None or robust:
            if clusters is not None:
                S = _cluster_score_sums(pp, fit.ev, clusters[pp.order], n_clusters)
            else:
                S = (_score_residuals(pp, fit.ev) * pp.w).T
            D = S @ fit.naive_cov
            cov = D.T @ D
            cov_type = "cluster" if clusters is not None else "robust"

        self.params_ = pd.Series(fit.beta, index=covariates, name="coef")
        self.cov_ = pd.DataFrame(cov, index=covariates, columns=covariates)
        self.naive_cov_ = pd.DataFrame(fit.naive_cov, index=covariates, columns=covariates)
        self.cov_type_ = cov_type
        self.loglik_ = fit.loglik
        self.loglik_null_ = fit.loglik0
        self.n_ = n
        self.n_events_ = n_events
        self.n_clusters_ = n_clusters if clusters is not None else n
        self.n_iter_ = fit.n_iter
        self.converged_ = fit.converged
        self.conf_level_ = conf
        self.covariates_ = list(covariates)
        self.strata_ = strata_cols
        self.duration_col_ = duration_col
        self.event_col_ = event_col
        notes = [f"ties: {self.ties}"]
        if default_cov:
            notes.append("covariates: every other numeric column (" + ", ".join(covariates) + ")")
        notes.append({"cluster": f"cluster-robust variance clustered on '{cluster_col}'",
                      "robust": "robust (sandwich) variance, each row its own cluster",
                      "naive": "model-based variance (inverse information)"}[cov_type])
        if auto_robust and clusters is None:
            notes.append("robust variance because the weights are not whole numbers (as R)")
        self.notes_ = tuple(notes)
        self._fit = fit
        return self

    # ------------------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise ParameterError("This CoxPH instance is not fitted yet. Call fit(df, ...) first.")

    def summary(self) -> pd.DataFrame:
        """Tidy table: ``term, estimate, se, hazard_ratio, ci_low, ci_high, p_value``.

        ``estimate`` is the log hazard ratio; ``ci_low``/``ci_high`` are on the hazard-ratio
        scale (Wald, ``conf_level``); ``se`` is from ``cov_`` (``cov_type_``).
        """
        self._check_fitted()
        b = self.params_.to_numpy()
        se = np.sqrt(np.diag(self.cov_.to_numpy()))
        z = z_value(self.conf_level_)
        out = pd.DataFrame({
            "term": self.params_.index, "estimate": b, "se": se, "hazard_ratio": np.exp(b),
            "ci_low": np.exp(b - z * se), "ci_high": np.exp(b + z * se),
            "p_value": 2 * stats.norm.sf(np.abs(b / se)),
        })
        out.attrs["conf_level"] = self.conf_level_
        out.attrs["cov_type"] = self.cov_type_
        return out

    def dfbeta(self) -> np.ndarray:
        """Weighted dfbeta residuals ``w_i * score_i @ naive_cov`` (n_rows, p), input row order.

        R's ``residuals(fit, type="dfbeta", weighted=TRUE)``; summed within clusters, their
        cross-product is the robust variance.
        """
        self._check_fitted()
        fit = self._fit
        L = (_score_residuals(fit.pp, fit.ev) * fit.pp.w).T
        out = np.empty_like(L)
        out[fit.pp.order] = L @ fit.naive_cov
        return out

    def zph(self, transform: Literal["km", "identity", "rank"] = "km") -> Any:
        """Proportional-hazards check of this fit: :func:`impact.survival.cox_zph` (R's ``cox.zph``).

        Returns a :class:`impact.survival.CoxZPH` with the test table, the scaled Schoenfeld
        residuals and ``.plot(term, ax=None)``.
        """
        from ._zph import cox_zph

        return cox_zph(self, transform)

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return f"CoxPH(ties='{self.ties}', robust={self.robust})"
        return (f"CoxPH(ties='{self.ties}', n={self.n_}, events={self.n_events_}, "
                f"covariates={len(self.params_)}, cov_type='{self.cov_type_}')")

    def _repr_html_(self) -> str:
        self._check_fitted()
        head = (f"<p><b>Cox proportional hazards</b> (ties: {self.ties}; variance: "
                f"{self.cov_type_}); n = {self.n_}, events = {self.n_events_}"
                + (f", strata: {', '.join(self.strata_)}" if self.strata_ else "") + "</p>")
        return head + self.summary().to_html(index=False)
