"""Doubly robust shares at each horizon with competing exits: G-formula, IPTW and AIPTW.

Reproduces R's ``riskRegression::ate`` (version 2022.11.28) for a binary treatment, a
cause-specific Cox outcome model (``CSC``, one Breslow Cox model per cause), a logistic treatment
model (``glm(binomial)``) and a Cox (or Kaplan-Meier) censoring model, with the influence-function
standard errors that account for the estimation of all three nuisance models (``se = TRUE``,
``B = 0``).

Conventions kept from ``riskRegression`` so that the numbers agree to 1e-6 (checked on
``survival::mgus2`` by ``tests/reference/aiptw.R``):

* the absolute risk of the cause of interest is ``F(t | x) = sum_{s <= t} S(s- | x) dLambda_1(s | x)``
  with the all-cause survival ``S`` a product-limit ``prod (1 - sum_k dLambda_k)`` (``CSC``'s
  default ``product.limit = TRUE``), and the censoring survival ``G`` a product-limit too; the
  influence functions of ``S`` and ``G`` are those of their exp(-cumulative hazard) forms
  (``-S dLambda``), as in ``predictCox``/``predictCoxPL``;
* ``G`` is taken just before ``min(T, tau)``.

On tied times, ``ties="riskregression"`` also reproduces three conventions of riskRegression
2022.11.28 (the coefficient influence sums ``1/S0`` over distinct event times; the martingale
integral runs over censoring times with repetition; the averaged risk influence at repeated times
pairs columns by position); the default ``ties="exact"`` does not (docs/aiptw.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from impact._errors import DataError, EstimationError, ParameterError, data_error
from impact._validation import (Constraint, InstanceOf, Interval, Options, check_cluster, check_columns,
                                check_duration, check_treatment, validate_params)
from impact.data import covariate_matrix
from impact.effects._effects import _Horizons
from impact.survival import CoxPH

__all__ = ["CompetingATEResult", "ate_competing"]

ESTIMATORS = ("gformula", "iptw", "aiptw")


# ----------------------------------------------------------------------------------------------
# nuisance models
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Breslow:
    """A Cox model with Breslow ties on a fixed grid of times, with its iid decomposition.

    ``iid`` scale: rows sum (over subjects) to the influence, ``sum(iid**2)`` is the variance.
    """

    beta: np.ndarray      # (q,)
    grid: np.ndarray      # (G,) sorted distinct times
    h0: np.ndarray        # (G,) baseline hazard increments (uncentred)
    H0: np.ndarray        # (G,) cumulative baseline hazard at each grid time
    IFbeta: np.ndarray    # (n, q)
    iid_h: np.ndarray     # (n, G) iid of h0
    iid_H: np.ndarray     # (n, G) iid of H0 (cumulative over the grid)

    def H_at(self, t: np.ndarray, strict: bool = False) -> np.ndarray:
        """Cumulative baseline hazard at ``t`` (over grid times <= t, or < t when ``strict``)."""
        k = np.searchsorted(self.grid, t, side="left" if strict else "right")
        return np.concatenate([[0.0], self.H0])[k]

    def idx(self, t: np.ndarray, strict: bool = False) -> np.ndarray:
        """Number of grid times <= t (or < t)."""
        return np.searchsorted(self.grid, t, side="left" if strict else "right")

    def iid_H_at(self, t: np.ndarray, strict: bool = False) -> np.ndarray:
        """(n, len(t)) iid of the cumulative baseline hazard at ``t``."""
        k = self.idx(t, strict)
        z = np.zeros((self.iid_H.shape[0], 1))
        return np.concatenate([z, self.iid_H], axis=1)[:, k]


def _fit_breslow(T: np.ndarray, d: np.ndarray, Z: np.ndarray, grid: np.ndarray, upto: float,
                 rr_ties: bool = False) -> _Breslow:
    """Breslow Cox fit of ``d`` on ``Z`` (``impact.survival.CoxPH``), baseline and iid on ``grid``.

    ``grid`` must hold every event time; the (n, G) iid matrices are kept for grid times <= ``upto``.
    ``rr_ties``: riskRegression 2022.11.28's coefficient influence (see below).
    """
    n, q = Z.shape
    if q:
        names = [f"z{j}" for j in range(q)]
        frame = pd.DataFrame(Z, columns=names)
        frame["_t"] = T
        frame["_d"] = d
        cox = CoxPH(ties="breslow", robust=False).fit(frame, duration="_t", event="_d",
                                                       covariates=names)
        beta = cox.params_.to_numpy(dtype=np.float64)
        vcov = cox.naive_cov_.to_numpy(dtype=np.float64)
    else:
        beta = np.zeros(0)
        vcov = np.zeros((0, 0))
    eXb = np.exp(Z @ beta)
    order = np.argsort(T, kind="stable")
    Ts = T[order]
    # at-risk sums at each grid time: subjects with T >= u
    start = np.searchsorted(Ts, grid, side="left")
    suff_e = np.concatenate([np.cumsum(eXb[order][::-1])[::-1], [0.0]])
    S0 = suff_e[start]
    EZ = np.zeros((grid.size, q))
    if q:
        suff_z = np.concatenate([np.cumsum((eXb[:, None] * Z)[order][::-1], axis=0)[::-1],
                                 np.zeros((1, q))])
        EZ = suff_z[start] / S0[:, None]
    gi = np.searchsorted(grid, T)                       # grid position of each T (if on the grid)
    on_grid = (gi < grid.size) & (grid[np.minimum(gi, grid.size - 1)] == T)
    dN = np.zeros(grid.size)
    np.add.at(dN, gi[(d > 0) & on_grid], d[(d > 0) & on_grid])
    if np.any((d > 0) & ~on_grid):
        raise EstimationError("internal: an event time is not on the hazard grid")
    with np.errstate(invalid="ignore", divide="ignore"):
        h0 = np.where(S0 > 0, dN / S0, 0.0)
    H0 = np.cumsum(h0)
    with np.errstate(invalid="ignore", divide="ignore"):
        inv = np.where(S0 > 0, 1.0 / S0, 0.0)
    k_le = np.searchsorted(grid, T, side="right")        # grid times <= T_i
    if q:
        # riskRegression's IFbeta_cpp: the compensator of the score sums 1 / S0 over the distinct
        # event times (not dN / S0), so with tied events it differs from R's dfbeta residuals
        h_score = np.where(dN > 0, inv, 0.0) if rr_ties else h0
        H_T = np.concatenate([[0.0], np.cumsum(h_score)])[k_le]
        cumEh = np.concatenate([np.zeros((1, q)), np.cumsum(EZ * h_score[:, None], axis=0)])
        E_T = np.where(on_grid[:, None], EZ[np.minimum(gi, grid.size - 1)], 0.0)
        score = d[:, None] * (Z - E_T) - eXb[:, None] * (Z * H_T[:, None] - cumEh[k_le])
        IFbeta = score @ vcov
    else:
        IFbeta = np.zeros((n, 0))
    L = int(np.searchsorted(grid, upto, side="right"))
    grid, h0, H0, inv, EZ = grid[:L], h0[:L], H0[:L], inv[:L], EZ[:L]
    at_risk = T[:, None] >= grid[None, :]
    iid_h = -(at_risk * eXb[:, None]) * (h0 * inv)[None, :]
    rows = np.flatnonzero((d > 0) & on_grid & (gi < L))
    iid_h[rows, gi[rows]] += d[rows] * inv[gi[rows]]
    if q:
        iid_h -= (IFbeta @ EZ.T) * h0[None, :]
    return _Breslow(beta=beta, grid=grid, h0=h0, H0=H0, IFbeta=IFbeta, iid_h=iid_h,
                    iid_H=np.cumsum(iid_h, axis=1))


@dataclass(frozen=True)
class _CSC:
    """Cause-specific Cox models on the all-cause event-time grid; model 0 is the cause of interest."""

    models: tuple[_Breslow, ...]
    grid: np.ndarray

    def hazards(self, Z: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(e (m,K), S_before (m,G) product-limit survival just before each grid time, P = S_before * e_1 * h_1)."""
        e = np.exp(np.column_stack([Z @ m.beta for m in self.models]))
        h = np.column_stack([m.h0 for m in self.models])            # (G, K)
        tot = e @ h.T                                                # (m, G)
        S_incl = np.cumprod(1.0 - tot, axis=1)
        S_before = np.concatenate([np.ones((Z.shape[0], 1)), S_incl[:, :-1]], axis=1)
        return e, S_before, S_before * e[:, :1] * self.models[0].h0[None, :]

    def risk(self, Z: np.ndarray, t: np.ndarray) -> np.ndarray:
        """(m, len(t)) absolute risk of the cause of interest at ``t``."""
        _, _, P = self.hazards(Z)
        F = np.concatenate([np.zeros((Z.shape[0], 1)), np.cumsum(P, axis=1)], axis=1)
        return F[:, np.searchsorted(self.grid, t, side="right")]

    def survival(self, Z: np.ndarray, t: np.ndarray, strict: bool) -> np.ndarray:
        """(m, len(t)) all-cause product-limit survival at ``t`` (jumps <= t, or < t when ``strict``)."""
        e = np.exp(np.column_stack([Z @ m.beta for m in self.models]))
        h = np.column_stack([m.h0 for m in self.models])
        S = np.concatenate([np.ones((Z.shape[0], 1)), np.cumprod(1.0 - e @ h.T, axis=1)], axis=1)
        return S[:, np.searchsorted(self.grid, t, side="left" if strict else "right")]

    def avg_iid_risk(self, Z: np.ndarray, F: np.ndarray, t: np.ndarray) -> np.ndarray:
        """(n, M): ``mean_j F[j, m] * iid(risk(t_m | Z_j))`` (``predictRisk(average.iid = factor)``)."""
        n = F.shape[0]
        e, S_before, P = self.hazards(Z)
        m1 = self.models[0]
        Pe = S_before * e[:, :1]
        mask = (self.grid[:, None] <= t[None, :]).astype(np.float64)    # (G, M)
        Fn = F / n
        W = (Pe.T @ Fn) * mask                                          # sum_j f_j S_j e1_j
        out = m1.iid_h @ W
        Fcum = P @ mask                                                 # risk(t_m | Z_j)
        if m1.beta.size:
            out += m1.IFbeta @ (Z.T @ (Fn * Fcum))
        for k, mk in enumerate(self.models):
            Hb = np.concatenate([[0.0], mk.H0[:-1]])                    # H_k(s-)
            iid_Hb = np.concatenate([np.zeros((n, 1)), mk.iid_H[:, :-1]], axis=1)
            Wk = ((P * e[:, k:k + 1]).T @ Fn) * mask                    # h1 S e1 e_k
            out -= iid_Hb @ Wk
            if mk.beta.size:
                R = (P * Hb[None, :]) @ mask
                out -= mk.IFbeta @ (Z.T @ (Fn * e[:, k:k + 1] * R))
        return out

    def avg_iid_survival(self, Z: np.ndarray, F: np.ndarray, t: np.ndarray, strict: bool) -> np.ndarray:
        """(n, M): ``mean_j F[j, m] * iid(S(t_m | Z_j))`` with ``iid S = -S sum_k iid Lambda_k``."""
        n = F.shape[0]
        e = np.exp(np.column_stack([Z @ m.beta for m in self.models]))
        Sv = self.survival(Z, t, strict)
        out = np.zeros((n, t.size))
        FS = F * Sv / n
        for k, mk in enumerate(self.models):
            a = (FS * e[:, k:k + 1]).sum(axis=0)
            out -= mk.iid_H_at(t, strict) * a[None, :]
            if mk.beta.size:
                Hk = mk.H_at(t, strict)
                out -= mk.IFbeta @ ((Z.T @ (FS * e[:, k:k + 1])) * Hk[None, :])
        return out


@dataclass(frozen=True)
class _Censoring:
    """Cox (or, without covariates, Nelson-Aalen) model of the censoring hazard."""

    model: _Breslow
    Z: np.ndarray

    @property
    def eXb(self) -> np.ndarray:
        return np.exp(self.Z @ self.model.beta)

    def G_pl(self, t: np.ndarray) -> np.ndarray:
        """(n, len(t)) product-limit censoring survival of each subject at ``t`` (jumps <= t)."""
        G = np.concatenate([np.ones((self.Z.shape[0], 1)),
                            np.cumprod(1.0 - self.eXb[:, None] * self.model.h0[None, :], axis=1)], axis=1)
        return G[:, self.model.idx(t)]

    def G_pl_diag(self, t: np.ndarray) -> np.ndarray:
        """(n,) product-limit censoring survival of subject i at ``t[i]``."""
        G = np.concatenate([np.ones((self.Z.shape[0], 1)),
                            np.cumprod(1.0 - self.eXb[:, None] * self.model.h0[None, :], axis=1)], axis=1)
        return G[np.arange(t.size), self.model.idx(t)]

    def avg_iid_G_diag(self, f: np.ndarray, t: np.ndarray) -> np.ndarray:
        """(n,): ``mean_j f_j * iid(G(t_j | Z_j))`` with ``iid G = -exp(-Lambda) iid Lambda``."""
        m = self.model
        n = f.size
        e = self.eXb
        Ht = m.H_at(t)
        c = f / n * np.exp(-e * Ht) * e
        k = m.idx(t)                                    # grid times <= t_j
        # v[u] = sum_j c_j 1{u <= t_j}: grid position u (0-based) counted when u < k_j
        cnt = np.zeros(m.grid.size + 1)
        np.add.at(cnt, k, c)
        v = np.cumsum(cnt[::-1])[::-1][1:]
        out = m.iid_h @ v
        if m.beta.size:
            out += m.IFbeta @ (self.Z.T @ (c * Ht))
        return -out

    def avg_iid_G(self, F: np.ndarray, t: np.ndarray, strict: bool) -> np.ndarray:
        """(n, M): ``mean_j F[j, m] iid(G_exp(t_m | Z_j))``."""
        m = self.model
        n = F.shape[0]
        e = self.eXb
        Ht = m.H_at(t, strict)
        C = F / n * np.exp(-e[:, None] * Ht[None, :]) * e[:, None]
        out = m.iid_H_at(t, strict) * C.sum(axis=0)[None, :]
        if m.beta.size:
            out += m.IFbeta @ ((self.Z.T @ C) * Ht[None, :])
        return -out

    def avg_iid_hazard(self, F: np.ndarray, t: np.ndarray) -> np.ndarray:
        """(n, M): ``mean_j F[j, m] iid(dLambda(t_m | Z_j))`` (the jump at exactly ``t_m``)."""
        m = self.model
        n = F.shape[0]
        e = self.eXb
        pos = np.searchsorted(m.grid, t)
        hit = (pos < m.grid.size) & (m.grid[np.minimum(pos, m.grid.size - 1)] == t)
        C = F / n * e[:, None]
        ht = np.where(hit, m.h0[np.minimum(pos, m.grid.size - 1)], 0.0)
        cols = np.where(hit[None, :], m.iid_h[:, np.minimum(pos, m.grid.size - 1)], 0.0)
        out = cols * C.sum(axis=0)[None, :]
        if m.beta.size:
            out += m.IFbeta @ ((self.Z.T @ C) * ht[None, :])
        return out

    def hazard(self, t: np.ndarray) -> np.ndarray:
        """(n, len(t)) censoring hazard jump of each subject at exactly ``t``."""
        m = self.model
        pos = np.searchsorted(m.grid, t)
        hit = (pos < m.grid.size) & (m.grid[np.minimum(pos, m.grid.size - 1)] == t)
        ht = np.where(hit, m.h0[np.minimum(pos, m.grid.size - 1)], 0.0)
        return self.eXb[:, None] * ht[None, :]


@dataclass(frozen=True)
class _Logit:
    """Logistic treatment model with the iid of its coefficients (score times inverse information)."""

    X: np.ndarray        # (n, r) with intercept
    p: np.ndarray        # (n,) P(A = 1 | X)
    IFbeta: np.ndarray   # (n, r)

    def pi(self, arm: int) -> np.ndarray:
        return self.p if arm == 1 else 1.0 - self.p

    def avg_iid(self, F: np.ndarray, arm: int) -> np.ndarray:
        """(n, M): ``mean_j F[j, m] iid(pi_arm(X_j))``."""
        n = F.shape[0]
        g = (self.X * (self.p * (1.0 - self.p))[:, None]).T @ F / n
        return (1.0 if arm == 1 else -1.0) * (self.IFbeta @ g)


def _fit_logit(A: np.ndarray, X: np.ndarray) -> _Logit:
    import statsmodels.api as sm

    Xc = np.column_stack([np.ones(A.size), X])
    fit = sm.GLM(A, Xc, family=sm.families.Binomial()).fit(tol=1e-12, maxiter=100)
    p = np.asarray(fit.fittedvalues, dtype=np.float64)
    info = (Xc * (p * (1 - p))[:, None]).T @ Xc
    IFbeta = (Xc * (A - p)[:, None]) @ np.linalg.inv(info)
    return _Logit(X=Xc, p=p, IFbeta=IFbeta)


# ----------------------------------------------------------------------------------------------
# the estimators (riskRegression's ATE_TI and iidATE)
# ----------------------------------------------------------------------------------------------
def _estimate(T: np.ndarray, status: np.ndarray, A: np.ndarray, X: np.ndarray, Xt: np.ndarray, Xc: np.ndarray,
              horizons: np.ndarray, cause: int, causes: Sequence[int], estimators: Sequence[str],
              rr_ties: bool = False) -> dict[str, dict[int, tuple[np.ndarray, np.ndarray]]]:
    """Estimates and iid decompositions: {estimator: {arm: (estimate (M,), iid (n, M))}}."""
    n = T.size
    M = horizons.size
    want = set(estimators)
    need_outcome = bool(want & {"gformula", "aiptw"})
    need_weights = bool(want & {"iptw", "aiptw"})
    Z = np.column_stack([A, X])                         # event design: treatment + covariates
    tmax = float(horizons.max())                        # nothing after the last horizon is needed
    out: dict[str, dict[int, tuple[np.ndarray, np.ndarray]]] = {e: {} for e in estimators}

    csc = None
    if need_outcome:
        grid = np.unique(T[status != 0])
        order = [cause] + [c for c in causes if c != cause]
        models = tuple(_fit_breslow(T, (status == c).astype(np.float64), Z, grid, tmax, rr_ties)
                       for c in order)
        csc = _CSC(models=models, grid=models[0].grid)
        Zarm = {a: np.column_stack([np.full(n, float(a)), X]) for a in (0, 1)}
        F1ctf = {a: csc.risk(Zarm[a], horizons) for a in (0, 1)}

    if need_weights:
        logit = _fit_logit(A, Xt)
        before = T[:, None] <= horizons[None, :]
        Y = before * (status == cause)[:, None]
        Cm = 1.0 - before * (status == 0)[:, None]
        cgrid = np.unique(T[status == 0])
        cens = _Censoring(model=_fit_breslow(T, (status == 0).astype(np.float64), Xc, cgrid, tmax, rr_ties),
                          Z=Xc)
        jumpC_all = np.sort(T[status == 0])
        # G just before min(T, tau): the last censoring time (with repetition) strictly before it
        idxC = np.column_stack([np.searchsorted(jumpC_all, np.minimum(T, tau), side="left")
                                for tau in horizons])
        last = int(idxC.max())
        jumpC = jumpC_all[:last]
        ext = np.concatenate([[0.0], jumpC])
        G_T = np.column_stack([cens.G_pl_diag(ext[idxC[:, m]]) for m in range(M)])
        IPCW = Cm / G_T

    if "gformula" in want:
        assert csc is not None
        for a in (0, 1):
            est = F1ctf[a].mean(axis=0)
            iid = (F1ctf[a] - est) / n + csc.avg_iid_risk(Zarm[a], np.ones((n, M)), horizons)
            out["gformula"][a] = (est, iid)

    if need_weights:
        for a in (0, 1):
            pi = logit.pi(a)
            w = (A == a) / pi
            cens_term = np.column_stack([
                cens.avg_iid_G_diag(-w * IPCW[:, m] / G_T[:, m] * Y[:, m], ext[idxC[:, m]]) for m in range(M)])
            if "iptw" in want:
                val = w[:, None] * IPCW * Y
                est = val.mean(axis=0)
                iid = ((val - est) / n + logit.avg_iid(-(Y * IPCW) * (w / pi)[:, None], a) + cens_term)
                out["iptw"][a] = (est, iid)

    if "aiptw" in want:
        assert csc is not None
        # The censoring-martingale integral runs over the censoring times with repetition
        # (riskRegression's time.jumpC). Copies of a tied time u give identical terms except for
        # the censoring survival: G(u-) for the first copy, G(u) for the others. They are summed
        # here per distinct time through 1/G_eff = 1/G(u-) + (k_u - 1)/G(u) (and likewise 1/G^2),
        # so the work is O(n x distinct censoring times), whatever the ties.
        uC, first_pos, counts = np.unique(jumpC, return_index=True, return_counts=True)
        if not rr_ties:          # one term per distinct censoring time, G(u-) (riskRegression >= 2023)
            counts = np.ones_like(counts)
        U = uC.size
        F1tau = csc.risk(Z, horizons)
        F1u = csc.risk(Z, uC)
        Su = csc.survival(Z, uC, strict=True)
        G_prev = cens.G_pl(np.concatenate([[0.0], uC[:-1]]) if U else np.zeros(0))
        G_at = cens.G_pl(uC)
        invG = 1.0 / G_prev + (counts - 1)[None, :] / G_at
        invG2 = 1.0 / G_prev ** 2 + (counts - 1)[None, :] / G_at ** 2
        dN = ((T[:, None] == uC[None, :]) & (status == 0)[:, None]).astype(np.float64)
        dM = dN - cens.hazard(uC)
        bE = uC[None, :] <= T[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            iS = np.where(bE, 1.0 / Su, 0.0)
        dM_S = dM * iS
        A1 = dM_S * invG                                       # sum over copies of dM / (S G)
        integral = np.cumsum(A1, axis=1)
        integral2 = np.cumsum(F1u * A1, axis=1)
        nJ = np.searchsorted(uC, horizons, side="right")       # distinct censoring times <= tau
        aug = np.zeros((n, M))
        for m in range(M):
            if nJ[m]:
                aug[:, m] = F1tau[:, m] * integral[:, nJ[m] - 1] - integral2[:, nJ[m] - 1]
        cum0 = np.concatenate([np.zeros((n, 1)), integral], axis=1)
        int_tau = np.column_stack([
            cum0[np.arange(n), np.searchsorted(uC, np.minimum(T, tau), side="right")] for tau in horizons])
        if U:
            # riskRegression's predict.CauseSpecificCox averages the iid of the risk at the
            # distinct times only, pairing the u-th distinct time with the u-th column of the factor
            # (a column of the list with repetition), then maps back by time: list position p
            # holds distinct time uidx[p], as its first copy when p is a first position
            if rr_ties:
                pos = np.arange(U)
                uidx = np.searchsorted(uC, jumpC[:U])
                is_first = first_pos[uidx] == pos
                G_p = np.where(is_first[None, :], G_prev[:, uidx], G_at[:, uidx])
                fC_base = -dM_S[:, uidx] / G_p
            else:
                fC_base = -dM_S / G_prev
        for a in (0, 1):
            pi = logit.pi(a)
            w = (A == a) / pi
            val = F1ctf[a] + w[:, None] * (IPCW * Y - F1ctf[a] + aug)
            est = val.mean(axis=0)
            iid = (val - est) / n
            iid += csc.avg_iid_risk(Zarm[a], 1.0 - np.repeat(w[:, None], M, axis=1), horizons)
            iid += logit.avg_iid(-(Y * IPCW - F1ctf[a]) * (w / pi)[:, None], a)
            iid += np.column_stack([
                cens.avg_iid_G_diag(-w * IPCW[:, m] / G_T[:, m] * Y[:, m], ext[idxC[:, m]]) for m in range(M)])
            iid += logit.avg_iid(-aug * (w / pi)[:, None], a)
            if not U:
                out["aiptw"][a] = (est, iid)
                continue
            iid += csc.avg_iid_risk(Z, w[:, None] * int_tau, horizons)
            c2 = csc.avg_iid_risk(Z, w[:, None] * fC_base, uC)          # (n, U), column u at time uC[u]
            keep = (uC[:, None] <= horizons[None, :]).astype(np.float64)  # (U, M)
            iid += c2 @ (counts[:, None] * keep)
            for m in range(M):
                if not nJ[m]:
                    continue
                d_tau = (F1tau[:, m:m + 1] - F1u) * keep[None, :, m] * (-w[:, None])
                iid[:, m] += csc.avg_iid_survival(Z, d_tau * dM_S * iS * invG, uC, strict=True).sum(axis=1)
                iid[:, m] += cens.avg_iid_G(d_tau * dM_S * invG2, uC, strict=True).sum(axis=1)
                iid[:, m] += cens.avg_iid_hazard(d_tau * iS * invG, uC).sum(axis=1)
            out["aiptw"][a] = (est, iid)
    return out



# ----------------------------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------------------------
class _Estimators(Constraint):
    """One of the estimator names, or a non-empty sequence of them (no repeats)."""

    def is_satisfied_by(self, value: Any) -> bool:
        if isinstance(value, str):
            return value in ESTIMATORS
        if not isinstance(value, (Sequence, np.ndarray)):
            return False
        values = list(value)
        return (len(values) > 0 and all(isinstance(v, str) and v in ESTIMATORS for v in values)
                and len(set(values)) == len(values))

    def describe(self) -> str:
        return "one of 'gformula', 'iptw', 'aiptw', or a non-empty sequence of them"

    def invalid(self) -> list[Any]:
        return ["ipw", [], ["aiptw", "aiptw"], 3]


class _Cause(Constraint):
    """A cause code: an int or a non-empty string (not a censoring code)."""

    def is_satisfied_by(self, value: Any) -> bool:
        if isinstance(value, bool):
            return False
        if isinstance(value, Integral):
            return int(value) != 0
        return isinstance(value, str) and value not in ("", "0", "censored")

    def describe(self) -> str:
        return "a cause code (an int other than 0, or a string other than 'censored')"

    def invalid(self) -> list[Any]:
        return [0, "censored", 1.5, None]


_PARAMS: dict[str, list[Any]] = {
    "data": [InstanceOf(pd.DataFrame, "a pandas DataFrame")],
    "duration": ["column"],
    "event": ["column"],
    "treatment": ["column"],
    "covariates": ["columns"],
    "horizons": [_Horizons()],
    "cause": [_Cause()],
    "estimator": [_Estimators()],
    "censoring_covariates": ["columns", None],
    "treatment_covariates": ["columns", None],
    "ties": [Options(["exact", "riskregression"])],
    "conf_level": [Interval(Real, 0, 1, closed="neither")],
    "cluster": ["column", None],
}

_ARMS = ("control", "treated", "treated - control")


@dataclass(frozen=True)
class CompetingATEResult:
    """Average risk of one cause by each horizon in each arm, and the difference, by estimator.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per estimator, arm (``"control"``, ``"treated"``, ``"treated - control"``) and
        horizon: ``estimate, se, ci_low, ci_high, p_value`` (the p-value of the difference only).
    influence : dict
        ``{(estimator, arm, horizon): array of n}``, the influence of each row (sum of squares =
        variance without ``cluster``), as riskRegression's ``ate(..., iid = TRUE)$iid`` (the
        difference is treated minus control). Per row even with ``cluster``: the clustered
        variance is the sum of squares of its sums within clusters. Read-only by convention.
    settings : dict
        The columns, cause, horizons, models and confidence level used.
    notes : tuple of str
    """

    table: pd.DataFrame
    influence: dict[tuple[str, str, float], np.ndarray] = field(repr=False)
    settings: dict[str, Any]
    notes: tuple[str, ...] = ()

    def summary(self) -> pd.DataFrame:
        """Tidy table: ``estimator, arm, horizon, estimate, se, ci_low, ci_high, p_value``."""
        out = self.table.copy()
        out.attrs["conf_level"] = self.settings["conf_level"]
        return out

    def __repr__(self) -> str:
        s = self.settings
        return (f"CompetingATEResult(cause={s['cause']!r}, estimators={list(s['estimator'])}, "
                f"horizons={list(s['horizons'])}, n={s['n']})")


def _cluster_sum_squares(iid: np.ndarray, codes: np.ndarray, n_clusters: int, clustered: bool) -> np.ndarray:
    """Column variances: ``sum_i iid_i^2``, or with clusters ``sum_g (sum_{i in g} iid_i)^2``."""
    if not clustered:
        return np.asarray((iid ** 2).sum(axis=0))
    sums = np.zeros((n_clusters, iid.shape[1]))
    np.add.at(sums, codes, iid)
    return np.asarray((sums ** 2).sum(axis=0))


def _censoring_codes(values: pd.Series) -> np.ndarray:
    """True where the event column means censored: 0, None, NaN or ``"censored"`` (as ``aalen_johansen``)."""
    v = values.to_numpy(dtype=object)
    out = np.zeros(v.size, dtype=bool)
    for i, x in enumerate(v):
        if x is None or (isinstance(x, float) and np.isnan(x)):
            out[i] = True
        elif isinstance(x, str):
            out[i] = x in ("censored", "0")
        elif not isinstance(x, bool) and isinstance(x, (int, float, np.integer, np.floating)):
            out[i] = float(x) == 0.0
        elif isinstance(x, (bool, np.bool_)):
            out[i] = not bool(x)
    return out


@validate_params(_PARAMS, name="ate_competing")
def ate_competing(data: pd.DataFrame, duration: str, event: str, treatment: str, covariates: str | Sequence[str],
                  horizons: Sequence[float], cause: int | str = 1,
                  estimator: str | Sequence[str] = ESTIMATORS,
                  censoring_covariates: str | Sequence[str] | None = None,
                  treatment_covariates: str | Sequence[str] | None = None,
                  ties: str = "exact", conf_level: float = 0.95,
                  cluster: str | None = None) -> CompetingATEResult:
    """Doubly robust share reaching one cause by each horizon, with competing exits.

    The average risk ``P(T <= h, cause)`` had everyone been treated, and had no one been, and
    their difference, by three estimators, exactly as R's ``riskRegression::ate`` computes them
    (version 2022.11.28; ``ate(CSC(...), glm(...), coxph(...), se = TRUE, band = FALSE, B = 0)``):

    * ``"gformula"``: the mean over everyone of the predicted risk under each arm, from
      cause-specific Cox models (one Breslow Cox per cause, on treatment and ``covariates``);
    * ``"iptw"``: inverse probability of treatment (logistic model on ``covariates``) and of
      censoring (a Cox model of the censoring hazard) weighted share;
    * ``"aiptw"``: the augmented estimator (AIPTW with the censoring-martingale augmentation,
      riskRegression's ``"AIPTW,AIPCW"``), consistent when either the outcome model or both the
      treatment and censoring models are right.

    Standard errors are from the influence functions, including the estimation of the nuisance
    models (riskRegression's ``iid`` decomposition); intervals are Wald, clipped to [0, 1] for a
    risk and [-1, 1] for a difference, as riskRegression does. With ``cluster`` the influence
    functions are summed within each cluster before squaring (cluster-robust: rows of one
    person, family or matched set need not be independent).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person, no missing values in the columns used.
    duration : str
        Follow-up time (> 0), e.g. days from start to the first exit or censoring.
    event : str
        0, None, NaN, False or ``"censored"`` for censoring; any other value names the exit.
    treatment : str
        1 (participant) or 0 (control).
    covariates : str or sequence of str
        Confounders, in the treatment and the outcome models (categorical ones as dummies).
    horizons : sequence of float
        Times at which the share is estimated (each > 0 and within the follow-up).
    cause : int or str, default 1
        The exit of interest (e.g. work or studies); the others compete.
    estimator : str or sequence of str, default ("gformula", "iptw", "aiptw")
    censoring_covariates : str or sequence of str, optional
        Covariates of the censoring Cox model. Default: the treatment and ``covariates``; an
        empty list gives a Kaplan-Meier (Nelson-Aalen) censoring model.
    treatment_covariates : str or sequence of str, optional
        Covariates of the logistic treatment model. Default: ``covariates``.
    ties : {"exact", "riskregression"}, default "exact"
        How tied times are handled. ``"exact"``: the censoring-martingale integral has one term per
        distinct censoring time (as riskRegression does since 2023) and the Cox coefficients'
        influence is the dfbeta residual. ``"riskregression"``: riskRegression 2022.11.28's own
        conventions, bit for bit (see Notes). The two agree on data without ties.
    conf_level : float, default 0.95
    cluster : str, optional
        Column of cluster labels (no missing values). The variance is then
        ``sum_g (sum_{i in g} iid_i)^2`` over the ``G`` clusters, with no small-sample factor:
        the unclustered variance (riskRegression's, ``sum_i iid_i^2``) has none either, so a
        cluster per row gives exactly the unclustered SEs. For Stata's or ``sandwich::vcovCL``'s
        ``G / (G - 1)`` convention multiply the variance by it (``settings["n_clusters"]``
        holds ``G``); with a few dozen clusters or fewer that factor matters.

    Returns
    -------
    CompetingATEResult

    Raises
    ------
    DataError
        Missing or invalid values, a cause that never occurs, or a horizon beyond the follow-up.

    Notes
    -----
    ``ties="riskregression"`` reproduces three conventions of riskRegression 2022.11.28 on tied
    times (docs/aiptw.md): the Cox coefficients' influence sums ``1/S0`` over distinct event times;
    the AIPTW censoring-martingale integral runs over the censoring times *with repetition* (``k``
    people censored at one time give ``k`` terms, which inflates the augmentation and its variance
    on data in whole days); and the averaged influence of the risk at repeated times pairs the
    u-th distinct time with the u-th repeated column. Use it only to reproduce that version.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from impact.effects import ate_competing
    >>> rng = np.random.default_rng(1)
    >>> n = 300
    >>> age = rng.normal(40, 10, n)
    >>> treat = rng.binomial(1, 1 / (1 + np.exp(-(age - 40) / 10)))
    >>> t1 = rng.exponential(1 / (0.01 * np.exp(0.5 * treat)), n)
    >>> t2 = rng.exponential(1 / 0.005, n)
    >>> c = rng.uniform(0, 200, n)
    >>> time = np.minimum.reduce([t1, t2, c]).round(1) + 0.1
    >>> exit = np.select([t1 <= np.minimum(t2, c), t2 <= c], [1, 2], 0)
    >>> df = pd.DataFrame({"days": time, "exit": exit, "treat": treat, "age": age})
    >>> res = ate_competing(df, duration="days", event="exit", treatment="treat", covariates=["age"],
    ...                     horizons=[60, 120])
    >>> res.summary().query("arm == 'treated - control'").round(2)[["estimator", "horizon", "estimate"]]
       estimator  horizon  estimate
    4   gformula     60.0      0.13
    5   gformula    120.0      0.14
    10      iptw     60.0      0.15
    11      iptw    120.0      0.15
    16     aiptw     60.0      0.15
    17     aiptw    120.0      0.13
    """
    func = "ate_competing"
    estimators = (estimator,) if isinstance(estimator, str) else tuple(estimator)
    covs = [covariates] if isinstance(covariates, str) else list(covariates)
    if censoring_covariates is None:
        ccovs = [treatment] + covs
    else:
        ccovs = [censoring_covariates] if isinstance(censoring_covariates, str) else list(censoring_covariates)
    tcovs = covs if treatment_covariates is None else (
        [treatment_covariates] if isinstance(treatment_covariates, str) else list(treatment_covariates))
    if treatment in covs or treatment in tcovs:
        raise ParameterError(f"The treatment column {treatment!r} must not be among the covariates of {func}; "
                             "it enters the outcome model by itself.")
    check_columns(data, [duration, event, treatment] + ([cluster] if cluster is not None else []))
    used = list(dict.fromkeys([duration, event, treatment] + covs + tcovs + ccovs))
    check_columns(data, used)
    for col in used:
        if col == event:
            continue
        miss = data[col].isna().to_numpy()
        if miss.any():
            raise data_error(col, "missing values", miss, "Drop or impute these rows first.")
    T = check_duration(data[duration].to_numpy(), duration)
    A = check_treatment(data[treatment], treatment).to_numpy(dtype=np.float64)
    if A.min() == A.max():
        raise DataError(f"Column '{treatment}': everyone is in one arm; both participants (1) and "
                        "controls (0) are needed.", column=treatment, rule="both arms")
    cens = _censoring_codes(data[event])
    raw = data[event].to_numpy(dtype=object)
    labels = sorted({str(v) for v in raw[~cens]})
    if str(cause) not in labels:
        raise DataError(f"Column '{event}': the cause {cause!r} never occurs; the causes are "
                        f"{labels}. Pass one of them as 'cause'.", column=event, rule="cause occurs")
    code = {lab: k + 1 for k, lab in enumerate([str(cause)] + [c for c in labels if c != str(cause)])}
    status = np.array([0 if c else code[str(v)] for v, c in zip(raw, cens)], dtype=np.int64)
    if not cens.any():
        raise DataError(f"Column '{event}': no row is censored; this estimator needs a censoring "
                        "model (every follow-up ends with an exit).", column=event, rule="some censoring")
    h = np.asarray(sorted({float(x) for x in horizons}), dtype=np.float64)
    if h.max() >= T.max():
        bad = h[h >= T.max()].tolist()
        raise DataError(f"Horizon(s) {bad} lie beyond the follow-up (longest '{duration}' = {T.max():g}). "
                        "Use horizons within the follow-up.", column=duration, rule="horizon within follow-up")
    terms, X, _ = covariate_matrix(data, covs, set(), func)
    tterms, Xt, _ = covariate_matrix(data, tcovs, set(), func)
    if ccovs:
        cterms, Xc, _ = covariate_matrix(data, ccovs, set(), func)
    else:
        cterms, Xc = [], np.zeros((T.size, 0))
    for name, M_, nm in (("covariates", X, terms), ("treatment_covariates", Xt, tterms),
                         ("censoring_covariates", Xc, cterms)):
        const = np.flatnonzero(M_.max(axis=0) == M_.min(axis=0)) if M_.shape[1] else np.zeros(0, dtype=int)
        if const.size:
            raise DataError(f"Column {nm[const[0]]!r} among the {name} of {func} is constant; drop it.",
                            column=nm[const[0]], rule="not constant")

    codes, n_clusters = check_cluster(None if cluster is None else data[cluster].to_numpy(), T.size,
                                      cluster or "cluster")
    res = _estimate(T, status, A, X, Xt, Xc, h, 1, sorted(set(status[status > 0].tolist())), estimators,
                    rr_ties=ties == "riskregression")
    z = float(stats.norm.ppf(0.5 + conf_level / 2))
    rows: list[dict[str, Any]] = []
    influence: dict[tuple[str, str, float], np.ndarray] = {}
    for e in estimators:
        parts = {"control": res[e][0], "treated": res[e][1],
                 "treated - control": (res[e][1][0] - res[e][0][0], res[e][1][1] - res[e][0][1])}
        for arm in _ARMS:
            est, iid = parts[arm]
            se = np.sqrt(_cluster_sum_squares(iid, codes, n_clusters, cluster is not None))
            lo, hi = (0.0, 1.0) if arm != "treated - control" else (-1.0, 1.0)
            for m, hor in enumerate(h):
                p = float(2 * stats.norm.sf(abs(est[m] / se[m]))) if arm == "treated - control" and se[m] > 0 \
                    else float("nan")
                rows.append({"estimator": e, "arm": arm, "horizon": float(hor), "estimate": float(est[m]),
                             "se": float(se[m]), "ci_low": float(max(lo, est[m] - z * se[m])),
                             "ci_high": float(min(hi, est[m] + z * se[m])), "p_value": p})
                influence[(e, arm, float(hor))] = iid[:, m].copy()
    table = pd.DataFrame(rows, columns=["estimator", "arm", "horizon", "estimate", "se", "ci_low",
                                        "ci_high", "p_value"])
    notes = [f"cause of interest: {cause!r}; competing: {[c for c in labels if c != str(cause)]}",
             "outcome model: one Breslow Cox model per cause on the treatment and covariates "
             "(product-limit all-cause survival)",
             f"treatment model: logistic regression on {tterms}",
             "censoring model: " + (f"Breslow Cox model on {cterms}" if cterms else "Kaplan-Meier"),
             "standard errors from influence functions including the nuisance models "
             "(riskRegression::ate, se = TRUE, B = 0)"
             + (f"; cluster-robust on '{cluster}' ({n_clusters} clusters): influence summed within clusters "
                "before squaring, no G/(G-1) factor" if cluster is not None else "")]
    Tc = T[status == 0]
    if np.unique(Tc).size < Tc.size or np.unique(T[status > 0]).size < int((status > 0).sum()):
        notes.append("tied times: " + ("riskRegression 2022.11.28's tie conventions reproduced (docs/aiptw.md)"
                                       if ties == "riskregression" else
                                       "one censoring-martingale term per distinct censoring time"))
    settings = {"duration": duration, "event": event, "treatment": treatment, "covariates": covs,
                "treatment_covariates": tcovs, "censoring_covariates": ccovs, "ties": ties, "cause": cause, "estimator": estimators,
                "horizons": tuple(float(x) for x in h), "conf_level": float(conf_level), "n": int(T.size),
                "cluster": cluster, "n_clusters": int(n_clusters)}
    return CompetingATEResult(table=table, influence=influence, settings=settings, notes=tuple(notes))
