"""Mean differences for continuous and count outcomes, as a weighted regression on treatment.

The estimate of ``lm(y ~ treat, weights = weights)`` is the weighted mean of the participants
minus that of the controls; its standard error is the sandwich clustered on matched sets
(R's ``sandwich::vcovCL(fit, cluster = ~subclass)``, type HC1: the cluster sum of the score
``w_i e_i x_i`` with the factor ``G / (G - 1) * (n - 1) / (n - k)``), or, after matching with
replacement where a control sits in several sets, the unclustered HC3 sandwich
(``sandwich::vcovHC(fit, type = "HC3")``: each score divided by ``1 - h_i``), as MatchIt's
vignette *Estimating Effects After Matching* recommends when pair membership is not unique.

Every estimate carries its per-row influence (the score times the bread), so estimates of several
subgroups can be combined: their joint covariance is the cross-product of the influences summed
within matched sets, which is exactly the clustered covariance of the fully interacted regression
``lm(y ~ 0 + level + level:treat)``; the finite-sample factor is then that of the interacted
model (``k`` = twice the number of levels).

Regression adjustment (``adjust=[covariates]``): in each subgroup the fit is
``lm(y ~ treat * (x1c + x2c + ...), weights = weights)`` with every covariate centred at its weighted
mean among the participants of that subgroup, so that the coefficient of ``treat`` is the average
effect on the treated by g-computation (Lin 2013; MatchIt's vignette *Estimating Effects After
Matching*): the participants' mean minus the mean of the controls' regression predicted at the
participants' covariates. The intercept is then that adjusted control mean, and intercept plus
slope is still the participants' weighted mean. The same sandwich (and the same stacking for
differences between subgroups, with ``k`` the total number of coefficients) gives the SEs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from impact._errors import EstimationError, data_error
from impact._validation import check_columns
from impact.data import expand_covariates

#: Standard-error kinds of the mean difference (the ``se_method`` column).
SE_CL_HC1 = "cluster-robust sandwich (HC1)"
SE_HC1 = "robust sandwich (HC1)"
SE_HC3 = "robust sandwich (HC3)"


@dataclass(frozen=True)
class LinearPiece:
    """One subgroup's weighted regression of the outcome on treatment.

    ``coef`` is (control mean, difference); ``influence`` has one row per observation of the
    subgroup and one column per coefficient, scaled so that the HC0 covariance is the
    cross-product of its sums within ``cluster``; ``hc3`` says the rows were already divided by
    ``1 - h_i`` (HC3) and are independent.
    """

    coef: np.ndarray
    influence: np.ndarray
    cluster: np.ndarray
    rows: np.ndarray       # positions in the full data
    hc3: bool

    @property
    def n(self) -> int:
        return int(self.influence.shape[0])

    @property
    def k(self) -> int:
        """Number of coefficients (2 unadjusted; 2 + 2 p with ``p`` adjustment columns)."""
        return int(self.influence.shape[1])


def fit_piece(y: np.ndarray, t: np.ndarray, w: np.ndarray, cluster: np.ndarray, rows: np.ndarray,
              hc3: bool, Z: np.ndarray | None = None) -> LinearPiece:
    """Weighted least squares of ``y`` on ``[1, t]`` (or on ``[1, t, Z, t Z]`` with the already
    centred adjustment columns ``Z``) and the per-row influence of the coefficients."""
    X = np.column_stack([np.ones(len(y)), t.astype(float)])
    if Z is not None and Z.shape[1]:
        X = np.column_stack([X, Z, Z * t.astype(float)[:, None]])
    XtWX = X.T @ (X * w[:, None])
    bread = np.linalg.inv(XtWX)
    coef = bread @ (X.T @ (w * y))
    resid = y - X @ coef
    infl = (X * (w * resid)[:, None]) @ bread      # row i: B x_i w_i e_i (B symmetric)
    if hc3:
        h = w * np.einsum("ij,jk,ik->i", X, bread, X)
        infl = infl / (1.0 - h)[:, None]
    return LinearPiece(coef=coef, influence=infl, cluster=cluster, rows=rows, hc3=hc3)


def cluster_cov(influences: list[np.ndarray], clusters: list[np.ndarray]) -> np.ndarray:
    """Cross-product of the column-stacked influences summed within clusters (HC0 clustered).

    ``influences[j]`` is a vector (one estimate) whose rows are in ``clusters[j]``; rows of
    different estimates that share a cluster label are summed together.
    """
    labels = pd.factorize(pd.Series(np.concatenate([np.asarray(c, dtype=object) for c in clusters])),
                          sort=False)[0]
    n_cl = int(labels.max()) + 1 if labels.size else 0
    sums = np.zeros((n_cl, len(influences)))
    start = 0
    for j, v in enumerate(influences):
        stop = start + len(v)
        sums[:, j] = np.bincount(labels[start:stop], weights=np.asarray(v, float), minlength=n_cl)
        start = stop
    return sums.T @ sums


def small_sample_factor(n: int, k: int, n_clusters: int, hc3: bool) -> float:
    """``G / (G - 1) * (n - 1) / (n - k)`` (vcovCL HC1 with ``cadjust = TRUE``); 1 for HC3."""
    if hc3:
        return 1.0
    if n_clusters < 2 or n <= k:
        return float("nan")
    return n_clusters / (n_clusters - 1) * (n - 1) / (n - k)


def piece_cov(piece: LinearPiece) -> np.ndarray:
    """Covariance of one subgroup's coefficients (vcovCL HC1, or vcovHC HC3)."""
    cols = [piece.influence[:, j] for j in range(2)]
    if piece.hc3:
        return cluster_cov(cols, [np.arange(piece.n)] * 2)
    v = cluster_cov(cols, [piece.cluster] * 2)
    g = len(pd.unique(pd.Series(piece.cluster)))
    return v * small_sample_factor(piece.n, piece.k, g, False)


def joint_effect_cov(pieces: list[LinearPiece]) -> np.ndarray:
    """Covariance of the differences of several subgroups (disjoint rows), as the interacted model's."""
    if not pieces:
        return np.zeros((0, 0))
    hc3 = pieces[0].hc3
    infl = [p.influence[:, 1] for p in pieces]
    if hc3:
        cl = [p.rows for p in pieces]     # rows are independent under HC3
        return cluster_cov(infl, cl)
    cl = [p.cluster for p in pieces]
    v = cluster_cov(infl, cl)
    n = sum(p.n for p in pieces)
    g = len(pd.unique(pd.Series(np.concatenate([np.asarray(c, dtype=object) for c in cl]))))
    return v * small_sample_factor(n, sum(p.k for p in pieces), g, False)


Row = dict[str, Any]


def check_adjustment(data: pd.DataFrame, adjust: list[str]) -> None:
    """The adjustment covariates are columns of ``data`` without missing values."""
    check_columns(data, adjust, role="adjustment covariate")
    miss = data[adjust].isna().to_numpy()
    if miss.any():
        raise data_error(", ".join(c for j, c in enumerate(adjust) if miss[:, j].any()),
                         "missing values in adjustment covariates", miss.any(axis=1),
                         "Fill them, or leave the covariate out of adjust=.")


def centred_covariates(sub: pd.DataFrame, adjust: list[str], t: np.ndarray, w: np.ndarray,
                       group: str) -> tuple[np.ndarray, list[str]]:
    """The expanded adjustment columns of one subgroup centred at the participants' weighted means.

    Columns constant in the subgroup (e.g. the ``by`` column itself, or a level absent from it)
    carry no information and are left out. Raises :class:`EstimationError` naming the columns
    when the interacted design ``[1, t, Z, t Z]`` is not of full rank (collinear covariates, or
    a covariate constant within one arm, such as a level no participant has).
    """
    X, names = expand_covariates(sub, adjust)
    X = np.asarray(X, dtype=float)
    keep = np.ptp(X, axis=0) > 0 if len(X) else np.zeros(X.shape[1], bool)
    X, names = X[:, keep], [n for n, k in zip(names, keep) if k]
    wt = w * t
    Z = X - (wt @ X) / wt.sum()
    tf = t.astype(float)
    sw = np.sqrt(w)[:, None]
    terms = [(Z[:, j], name) for j, name in enumerate(names)]
    terms += [(Z[:, j] * tf, f"treat:{name}") for j, name in enumerate(names)]   # lm's column order
    full = np.column_stack([np.ones(len(Z)), tf] + [c for c, _ in terms]) * sw
    bad: list[str] = []
    if np.linalg.matrix_rank(full) < full.shape[1]:   # name the terms that add nothing, in order
        design = full[:, :2]
        for j, (_, label) in enumerate(terms):
            trial = np.column_stack([design, full[:, 2 + j]])
            if np.linalg.matrix_rank(trial) < trial.shape[1]:
                bad.append(label)
            else:
                design = trial
        bad = bad or ["the adjustment columns together"]   # only numerically deficient as a whole
    if bad:
        raise EstimationError(
            f"estimate_effects: the regression adjustment in subgroup '{group}' is not of full rank: "
            f"{', '.join(bad)} {'is' if len(bad) == 1 else 'are'} collinear with the other terms of "
            "lm(y ~ treat * (covariates)) (collinear covariates, or a covariate constant within one "
            "arm, e.g. a level that no participant or no control has). Leave "
            f"{'it' if len(bad) == 1 else 'them'} out of adjust= or merge rare levels.")
    return Z, names


def mean_effects(data: pd.DataFrame, outcome: str, treatment: str, groups: list[tuple[str, np.ndarray]],
                 w_col: str | None, c_col: str | None, hc3: bool, z: float,
                 adjust: list[str] | None = None, notes: list[str] | None = None
                 ) -> tuple[list[Row], dict[str, LinearPiece]]:
    """Rows ``mean_treated``, ``mean_control``, ``mean_diff`` for every group, and its regression.

    With ``adjust`` the regression is ``lm(y ~ treat * (covariates centred at the participants'
    weighted means))`` in each group: ``mean_diff`` is the regression-adjusted ATT,
    ``mean_control`` the adjusted control mean (``mean_treated - mean_diff``); a note saying so
    is appended to ``notes``.
    """
    adjust = list(adjust or [])
    if adjust:
        check_adjustment(data, adjust)
    y = data[outcome].to_numpy(float)
    t = data[treatment].to_numpy() == 1
    w = data[w_col].to_numpy(float) if w_col else np.ones(len(data))
    cl = data[c_col].to_numpy() if (c_col and not hc3) else np.arange(len(data))
    method = SE_HC3 if hc3 else (SE_CL_HC1 if c_col else SE_HC1)
    rows: list[Row] = []
    pieces: dict[str, LinearPiece] = {}
    for name, mask in groups:
        pos = np.flatnonzero(mask & (w > 0))
        Z = None
        if adjust:
            Z, used = centred_covariates(data.iloc[pos], adjust, t[pos], w[pos], name)
            dropped = sorted(set(adjust) - {u.split("[")[0] for u in used})
            if dropped and notes is not None:
                notes.append(f"{name}: {', '.join(dropped)} constant in this subgroup, left out of its adjustment.")
        piece = fit_piece(y[pos], t[pos], w[pos], cl[pos], pos, hc3, Z)
        pieces[name] = piece
        V = piece_cov(piece)
        b0, b1 = float(piece.coef[0]), float(piece.coef[1])
        counts = dict(n_treated=int(t[pos].sum()), n_control=int((~t[pos]).sum()))
        for estimand, est, var, test in (
                ("mean_treated", b0 + b1, V[0, 0] + V[1, 1] + 2 * V[0, 1], False),
                ("mean_control", b0, V[0, 0], False),
                ("mean_diff", b1, V[1, 1], True)):
            se = float(np.sqrt(var))
            rows.append(dict(subgroup=name, estimand=estimand, horizon=np.nan, estimate=est, se=se,
                             ci_low=est - z * se, ci_high=est + z * se,
                             p_value=p_normal(est, se) if test else np.nan, se_method=method, **counts))
    if adjust and notes is not None:
        notes.append("Regression-adjusted means for " + ", ".join(adjust) + ": in each subgroup mean_diff is "
                     "the coefficient of treatment in lm(y ~ treat * (covariates centred at the participants' "
                     "weighted means), weights) (the ATT by g-computation, Lin 2013); mean_control is the "
                     "adjusted control mean (mean_treated minus mean_diff); mean_treated is unchanged.")
    return rows, pieces


def mean_difference_row(pieces: dict[str, LinearPiece], a: str, b: str, z: float, method: str) -> Row:
    """``a - b`` of the mean differences, with the interacted model's clustered covariance."""
    V = joint_effect_cov([pieces[a], pieces[b]])
    d = float(pieces[a].coef[1] - pieces[b].coef[1])
    se = float(np.sqrt(V[0, 0] + V[1, 1] - 2 * V[0, 1]))
    return dict(subgroup=f"{a} - {b}", estimand="mean_diff", horizon=np.nan, estimate=d, se=se,
                ci_low=d - z * se, ci_high=d + z * se, p_value=p_normal(d, se), se_method=method)


def p_normal(est: float, se: float) -> float:
    """Two-sided normal p-value; NaN without a usable SE."""
    if not np.isfinite(se) or se <= 0:
        return float("nan")
    return float(2 * stats.norm.sf(abs(est / se)))
