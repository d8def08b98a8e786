"""The proportional-hazards check: scaled Schoenfeld residuals and R's ``cox.zph`` score test.

For each covariate the Cox model is extended to ``beta_j(t) = beta_j + gamma_j g(t)`` with
``g`` a transform of time (``"km"``: one minus the left-continuous Kaplan-Meier of all rows,
``"identity"``, ``"rank"``), centred at its mean over the events. At ``(beta_hat, gamma = 0)`` the
score for ``gamma`` is ``u = sum_deaths w_i g(t_i) r_i`` with ``r_i`` the Schoenfeld residual
(``x_i`` minus the Efron-averaged risk-set mean), and the information of ``(beta, gamma)`` has the
blocks ``sum_t I_t``, ``sum_t g(t) I_t`` and ``sum_t g(t)^2 I_t`` with ``I_t`` a death time's
contribution to the Cox information. The test of a term is ``u' [I^-1] u`` with ``beta``'s score
set to zero (df 1), and GLOBAL uses every ``gamma`` at once (df p): survival 3.x's ``cox.zph``, not
the older approximation of survival 2.x.

The scaled residuals are ``beta_hat + r_i V^-1`` with ``V`` the information divided by the number
of deaths (per stratum, as R); their smooth against ``g(t)`` estimates ``beta(t)``
(Grambsch and Therneau 1994).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol

import numpy as np
import pandas as pd
from scipy import linalg, stats

from impact._errors import ParameterError
from impact._validation import Options, validate_params
from impact.survival._partial import PartialLikelihoodFit, rev_within
from impact.survival._plot import old_positional

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["CoxZPH", "cox_zph"]


class FittedCox(Protocol):
    """What cox.zph needs of a fitted Cox model (:class:`impact.survival.CoxPH` after ``fit``)."""

    partial_likelihood_: PartialLikelihoodFit
    params_: pd.Series
    strata_: list[str]

Transform = Literal["km", "identity", "rank"]


@dataclass(frozen=True)
class CoxZPH:
    """Result of :func:`cox_zph`.

    Attributes
    ----------
    table : pandas.DataFrame
        ``term, chisq, df, p_value``: one row per covariate and a last row ``GLOBAL``.
    residuals : pandas.DataFrame
        One row per event (sorted by stratum and time, as R): ``time``, ``x`` (transformed time),
        ``stratum``, and one column of scaled Schoenfeld residuals per covariate (R's
        ``zph$y``; ``beta_j`` plus the scaled residual).
    var : pandas.DataFrame
        R's ``zph$var``: the inverse of the information per death, used for the plot's band.
    transform : str
    coef : pandas.Series
        The fitted log hazard ratios.
    notes : tuple of str
    """

    table: pd.DataFrame
    residuals: pd.DataFrame
    var: pd.DataFrame
    transform: str
    coef: pd.Series
    notes: tuple[str, ...] = field(default=())

    def summary(self) -> pd.DataFrame:
        """The test table (``term, chisq, df, p_value``)."""
        return self.table.copy()

    def __repr__(self) -> str:
        g = self.table.iloc[-1]
        return (f"CoxZPH(transform='{self.transform}', terms={len(self.table) - 1}, "
                f"global chisq={g['chisq']:.4g} on {int(g['df'])} df, p={g['p_value']:.4g})")

    def _repr_html_(self) -> str:
        return (f"<p><b>Proportional-hazards check</b> (cox.zph, transform: {self.transform})</p>"
                + self.table.to_html(index=False))

    def plot(self, ax: Axes | None = None, term: str | None = None, df: int = 4, band: bool = True) -> Axes:
        """Scaled Schoenfeld residuals of ``term`` against transformed time, with a smooth.

        As R's ``plot(cox.zph(fit)[term])``: a natural cubic spline with ``df`` degrees of
        freedom fitted by least squares, with a +/- 2 standard error band from ``var``; a flat
        smooth at the coefficient (dashed line) is what proportional hazards predict.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Draw into this Axes (default: a new figure).
        term : str
            A covariate of the model. (The old order ``plot(term)`` still works this version,
            with a FutureWarning.)
        df : int, default 4
            Degrees of freedom of the smooth (R's default).
        band : bool, default True
            Draw the +/- 2 se band.

        Returns
        -------
        matplotlib.axes.Axes
        """
        import matplotlib.pyplot as plt

        ax, term = old_positional(ax, term, "term", "CoxZPH.plot")
        if term not in self.coef.index:
            raise ParameterError(f"The 'term' parameter of CoxZPH.plot must be one of "
                                 f"{', '.join(repr(t) for t in self.coef.index)}. Got {term!r}.")
        if ax is None:
            _, ax = plt.subplots()
        x = self.residuals["x"].to_numpy()
        y = self.residuals[term].to_numpy()
        ok = np.isfinite(y)
        x, y = x[ok], y[ok]
        ax.scatter(x, y, s=8, color="0.45", alpha=0.7, label="scaled Schoenfeld residual")
        grid = np.linspace(x.min(), x.max(), 101)
        B = _ns_basis(x, df)
        Bg = _ns_basis(x, df, grid)
        coef, *_ = linalg.lstsq(B, y)
        ax.plot(grid, Bg @ coef, color="C0", label="smooth (beta(t))")
        if band:
            # R: the variance of the smooth is B (B'B)^-1 B' var_jj ... scaled by the number of events
            xtx_inv = linalg.pinv(B.T @ B)
            v = float(self.var.loc[term, term])
            se = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", Bg, xtx_inv, Bg), 0.0) * v)
            ax.plot(grid, Bg @ coef + 2 * se, color="C0", ls=":")
            ax.plot(grid, Bg @ coef - 2 * se, color="C0", ls=":")
        ax.axhline(float(self.coef[term]), color="C3", ls="--", lw=1, label="coefficient")
        ax.set_xlabel({"km": "1 - Kaplan-Meier (transformed time)", "identity": "time",
                       "rank": "rank of time"}.get(self.transform, "transformed time"))
        ax.set_ylabel(f"beta(t) for {term}")
        return ax


def _ns_basis(x: np.ndarray, df: int, at: np.ndarray | None = None) -> np.ndarray:
    """Natural cubic spline basis with an intercept, ``df`` columns besides it (knots at quantiles)."""
    at = x if at is None else at
    df = max(1, int(df))
    inner = np.quantile(x, np.linspace(0, 1, df + 1)[1:-1]) if df > 1 else np.array([])
    knots = np.unique(np.r_[x.min(), inner, x.max()])
    cols = [np.ones_like(at), at]
    K = knots.size
    if K > 2:
        def dk(k: int) -> np.ndarray:
            return (np.maximum(at - knots[k], 0) ** 3 - np.maximum(at - knots[-1], 0) ** 3) / \
                (knots[-1] - knots[k])
        last = dk(K - 2)
        for k in range(K - 2):
            cols.append(dk(k) - last)
    return np.column_stack(cols)


@validate_params({"transform": [Options(["km", "identity", "rank"])]})
def cox_zph(fit: FittedCox, transform: Transform = "km") -> CoxZPH:
    """Test proportional hazards per covariate and globally, as R's ``cox.zph``.

    Parameters
    ----------
    fit : CoxPH
        A fitted Cox model (right-censored data; weights, strata and Efron or Breslow ties).
    transform : {"km", "identity", "rank"}, default "km"
        Time scale of the test: ``"km"`` one minus the left-continuous Kaplan-Meier estimate of
        all rows (unweighted, unstratified, as R), ``"identity"`` time itself, ``"rank"`` the rank
        of time among all rows.

    Returns
    -------
    CoxZPH
        ``.table`` (``term, chisq, df, p_value`` with a ``GLOBAL`` row), ``.residuals`` (scaled
        Schoenfeld residuals) and ``.plot(ax=None, term=...)``.

    Notes
    -----
    R equivalent: ``cox.zph(coxph(...), transform=)`` in survival 3.x. The test does not use
    cluster-robust variance (neither does R): with matched sets, read it as a diagnostic.

    Examples
    --------
    >>> from lifelines.datasets import load_rossi
    >>> from impact.survival import CoxPH, cox_zph
    >>> cox = CoxPH().fit(load_rossi(), duration="week", event="arrest")
    >>> cox_zph(cox).table.round(3).iloc[[1, 3, 7]]
         term   chisq  df  p_value
    1     age   5.974   1    0.015
    3    wexp   4.225   1    0.040
    7  GLOBAL  17.694   7    0.013
    """
    cf = getattr(fit, "partial_likelihood_", None)
    if not isinstance(cf, PartialLikelihoodFit):
        raise ParameterError(f"The 'fit' parameter of cox_zph must be a fitted CoxPH. Got "
                             f"{type(fit).__name__}{' (not fitted yet)' if hasattr(fit, 'fit') else ''}.")
    pp, ev = cf.pp, cf.ev
    if pp.tail is not None:
        raise ParameterError("cox_zph supports right-censored Cox fits only; a Fine-Gray model keeps "
                             "competing exits at risk with time-varying weights.")
    if pp.entry_grp is not None:
        raise ParameterError("cox_zph supports right-censored fits only; this model was fitted "
                             "with entry_col (start, stop] data.")
    XT, w, d = pp.XT, pp.w, pp.d
    p, n = XT.shape
    G = pp.gstart.size
    T = pp.gtime[pp.grp]  # sorted times
    ev_rows = d > 0

    # transformed time for every row (R computes it on all rows of the model)
    if transform == "identity":
        tt = T.copy()
    elif transform == "rank":
        tt = stats.rankdata(T)
    else:
        ut, inv = np.unique(T, return_inverse=True)
        n_ev = np.bincount(inv, weights=d, minlength=ut.size)
        n_at = n - np.r_[0, np.cumsum(np.bincount(inv, minlength=ut.size))[:-1]]
        surv = np.cumprod(1.0 - n_ev / n_at)
        s_left = np.r_[1.0, surv[:-1]]  # S(t-) at each distinct time
        tt = 1.0 - s_left[inv]
    gt = tt - tt[ev_rows].mean()
    g_grp = gt[pp.gstart]  # the same for every row of a (stratum, time) group

    # per-group risk-set sums at beta_hat: zero, first and second moments, deaths and all
    wr = w * ev.r
    starts = pp.gstart
    X = XT.T
    S0 = np.add.reduceat(wr, starts)
    S0d = np.add.reduceat(wr * d, starts)
    S1 = np.add.reduceat(X * wr[:, None], starts, axis=0)
    S1d = np.add.reduceat(X * (wr * d)[:, None], starts, axis=0)
    XX = (X[:, :, None] * X[:, None, :]).reshape(n, p * p)
    S2 = np.add.reduceat(XX * wr[:, None], starts, axis=0)
    S2d = np.add.reduceat(XX * (wr * d)[:, None], starts, axis=0)
    del XX
    R0 = rev_within(S0, pp.g_end)
    R1 = rev_within(S1, pp.g_end)
    R2 = rev_within(S2, pp.g_end)
    kg, f = pp.kg, pp.kfrac
    den = R0[kg] - f * S0d[kg]
    xb = (R1[kg] - f[:, None] * S1d[kg]) / den[:, None]
    M2 = (R2[kg] - f[:, None] * S2d[kg]) / den[:, None]
    Vk = M2.reshape(-1, p, p) - xb[:, :, None] * xb[:, None, :]
    mwg = np.where(pp.nd > 0, pp.wd / np.maximum(pp.nd, 1), 0.0)
    Ig = np.zeros((G, p, p))
    np.add.at(Ig, kg, Vk * mwg[kg][:, None, None])
    xbar_avg = np.zeros((G, p))
    np.add.at(xbar_avg, kg, xb)
    xbar_avg /= np.maximum(pp.nd, 1)[:, None]

    # Schoenfeld residuals (unweighted, one per death, sorted by stratum and time)
    di = pp.didx
    resid = X[di] - xbar_avg[pp.grp[di]]
    u = (w[di] * gt[di]) @ resid
    I_bb = Ig.sum(axis=0)
    I_bg = np.einsum("g,gab->ab", g_grp, Ig)
    I_gg = np.einsum("g,gab->ab", g_grp * g_grp, Ig)
    imat = np.block([[I_bb, I_bg], [I_bg.T, I_gg]])

    names = list(fit.params_.index)
    chisq = np.empty(p + 1)
    for j in range(p):
        kk = np.r_[np.arange(p), p + j]
        uu = np.r_[np.zeros(p), u[j]]
        chisq[j] = float(uu @ linalg.solve(imat[np.ix_(kk, kk)], uu, assume_a="sym"))
    uu = np.r_[np.zeros(p), u]
    chisq[p] = float(uu @ linalg.solve(imat, uu, assume_a="sym"))
    dfs = np.r_[np.ones(p, dtype=np.int64), p]
    table = pd.DataFrame({"term": names + ["GLOBAL"], "chisq": chisq, "df": dfs,
                          "p_value": stats.chi2.sf(chisq, dfs)})

    # scaled residuals: V = information / deaths, per stratum over the covariates that vary there
    strat_of_grp = pp.g_first  # stratum identified by its first group
    s_rows = strat_of_grp[pp.grp]
    s_ids = np.unique(strat_of_grp)
    used = np.zeros((s_ids.size, p))
    for a, s in enumerate(s_ids):
        rows = s_rows == s
        nde = float(d[rows].sum())
        varies = XT[:, rows].max(axis=1) > XT[:, rows].min(axis=1)
        used[a] = np.where(varies, nde, 0.0)
    wtmat = np.zeros((p, p))
    for a in range(s_ids.size):
        wtmat += np.minimum.outer(used[a], used[a])
    vmean = I_bb / np.where(wtmat == 0, 1.0, wtmat)
    beta = fit.params_.to_numpy()
    scaled = np.full(resid.shape, np.nan)
    s_death = s_rows[di]
    for a, s in enumerate(s_ids):
        k = np.flatnonzero(used[a] > 0)
        rows = s_death == s
        if k.size and rows.any():
            scaled[np.ix_(rows, k)] = linalg.solve(vmean[np.ix_(k, k)], resid[np.ix_(rows, k)].T,
                                                   assume_a="sym").T
    scaled += beta
    res = pd.DataFrame({"time": T[di], "x": tt[di]})
    if fit.strata_:
        labels = np.searchsorted(s_ids, s_death)
        res["stratum"] = labels
    else:
        res["stratum"] = 0
    for j, name in enumerate(names):
        res[name] = scaled[:, j]
    var = pd.DataFrame(linalg.inv(vmean), index=names, columns=names)
    notes = (f"transform: {transform}" + (" (1 - left-continuous Kaplan-Meier of all rows, "
                                          "unweighted, as R)" if transform == "km" else ""),
             ("score test of beta(t) = beta + gamma g(t), survival 3.x cox.zph; model-based "
             "information (not cluster-robust)"))
    return CoxZPH(table=table, residuals=res, var=var, transform=transform,
                  coef=fit.params_.copy(), notes=notes)

