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

from impact._errors import EstimationError, ParameterError, data_error
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


# ---------------------------------------------------------------------------------------------
# Abadie and Imbens (2016): the variance of the matching ATT when the score was estimated

#: ``se_method`` of a mean difference whose variance carries the Abadie-Imbens (2016) term.
SE_AI2016 = " + Abadie-Imbens (2016) estimated-score adjustment"


@dataclass(frozen=True)
class ScoreTerms:
    """Sample versions of the two vectors of Abadie and Imbens (2016, Theorem 2) per subgroup.

    For a subgroup ``S`` of the data the logit was fitted on (``N`` rows, information ``I``),
    ``c[S]`` estimates ``E[S f(X'b) (cov(X, mu(1, X) | p, s) + p / (1 - p) cov(X, mu(0, X) | p, s))]
    / E[S p]`` and ``d[S]`` estimates ``E[S X f(X'b) (tau(p, s) - tau_S)] / E[S p]`` (``s`` the
    exact-matching stratum, ``f = p (1 - p)`` for the logit). The ATT's large-sample variance
    on the estimated score is that on the known score plus ``(d' I^-1 d - c' I^-1 c) / N``, and
    for a contrast of subgroups the same with the contrasts of ``c`` and ``d`` (both are linear
    in the estimand: they come from one expansion in the shared score estimate).
    """

    c: dict[str, np.ndarray]
    d: dict[str, np.ndarray]
    info_inv: np.ndarray
    n: int

    def extra_variance(self, a: str, b: str | None = None) -> float:
        """The term added to the variance of ``tau_a`` (or of ``tau_a - tau_b``)."""
        dc = self.c[a] - (self.c[b] if b is not None else 0.0)
        dd = self.d[a] - (self.d[b] if b is not None else 0.0)
        return float((dd @ self.info_inv @ dd - dc @ self.info_inv @ dc) / self.n)


def _nearest_in_arm(p: np.ndarray, arm_pos: np.ndarray, at: np.ndarray, k: int) -> np.ndarray:
    """(len(at), k) positions (into ``p``) of the ``k`` units of ``arm_pos`` nearest on ``p`` to
    each unit of ``at`` (the unit itself included when it is in the arm); ties by position."""
    order = arm_pos[np.argsort(p[arm_pos], kind="stable")]
    ps = p[order]
    m = len(order)
    k = min(k, m)
    loc = np.searchsorted(ps, p[at])
    cand = loc[:, None] + np.arange(-k, k)[None, :]
    valid = (cand >= 0) & (cand < m)
    cand = np.clip(cand, 0, m - 1)
    dist = np.where(valid, np.abs(ps[cand] - p[at][:, None]), np.inf)
    pick = np.argsort(dist, axis=1, kind="stable")[:, :k]
    return order[np.take_along_axis(cand, pick, axis=1)]


def score_terms(y: np.ndarray, t: np.ndarray, p: np.ndarray, X: np.ndarray, strata: np.ndarray,
                groups: dict[str, np.ndarray], estimates: dict[str, float], n_neighbours: int = 2) -> ScoreTerms:
    """:class:`ScoreTerms` from every row of the fit: outcome ``y``, treatment ``t``, fitted
    probability ``p``, logit design ``X`` (with its intercept column), exact-matching ``strata``.

    The conditional moments given the score are estimated as in Abadie and Imbens (2016, section
    4): for each unit, the ``n_neighbours`` units of each arm nearest on the score in its stratum;
    ``cov(X, mu(w, X) | p)`` is their sample covariance of ``X`` and ``y`` (divisor ``L - 1``),
    ``mu(w, p)`` their mean. ``groups`` are row masks, ``estimates`` the matching ATTs.
    """
    L = max(int(n_neighbours), 2)
    n, k = X.shape
    cov = {0: np.zeros((n, k)), 1: np.zeros((n, k))}
    mu = {0: np.zeros(n), 1: np.zeros(n)}
    for s in pd.unique(pd.Series(strata)):
        at = np.flatnonzero(strata == s)
        for w in (0, 1):
            pool = at[t[at] == w]
            if len(pool) < 2:
                raise EstimationError("estimate_effects: the Abadie-Imbens (2016) adjustment needs at least "
                                      "two units of each arm in every exact-matching stratum.")
            nb = _nearest_in_arm(p, pool, at, L)                  # (len(at), L)
            Xn, yn = X[nb], y[nb]                                 # (a, L, k), (a, L)
            Xc = Xn - Xn.mean(axis=1, keepdims=True)
            yc = yn - yn.mean(axis=1, keepdims=True)
            cov[w][at] = np.einsum("alk,al->ak", Xc, yc) / (nb.shape[1] - 1)
            mu[w][at] = yn.mean(axis=1)
    f = p * (1.0 - p)
    info = (X * f[:, None]).T @ X / n
    info_inv = np.linalg.inv(info)
    ratio = p / (1.0 - p)
    c: dict[str, np.ndarray] = {}
    d: dict[str, np.ndarray] = {}
    for name, mask in groups.items():
        n1 = float((mask & t.astype(bool)).sum())
        sel = mask.astype(bool)
        c[name] = (f[sel, None] * (cov[1][sel] + ratio[sel, None] * cov[0][sel])).sum(axis=0) / n1
        tau_p = mu[1][sel] - mu[0][sel]
        d[name] = (X[sel] * (f[sel] * (tau_p - estimates[name]))[:, None]).sum(axis=0) / n1
    return ScoreTerms(c=c, d=d, info_inv=info_inv, n=n)


def ai2016_adjust(result: Any, match: Any, n_neighbours: int = 2) -> Any:
    """The mean differences of ``result`` with Abadie and Imbens' (2016) estimated-score variance.

    ``result`` is ``estimate_effects(match, outcome=...)`` without ``adjust``; ``match`` the
    :func:`impact.match` result it came from: nearest-neighbour matching for the ATT on a
    logistic score (``distance="glm"``) whose fit kept every row of ``match.data``. The
    sandwich of the matched regression treats the fitted score as known; matching on an
    estimated score has a different variance (smaller or larger for the ATT). The adjusted
    variance of each ``mean_diff`` row (subgroup or difference of subgroups) is the sandwich
    variance plus :meth:`ScoreTerms.extra_variance`; SEs, intervals and p-values are replaced,
    ``se_method`` gains :data:`SE_AI2016`, a note says so. When the adjusted variance is not
    positive (small samples) the row keeps its sandwich SE and the note names it. Subgroups
    should be exact-matching strata (``exact=[by]``), as the gender groups of ``evaluate`` are;
    other subgroups get the term conditional on the exact strata only (noted).

    Returns a new result (``dataclasses.replace``); ``mean_treated`` and ``mean_control`` are
    unchanged. In the heterogeneity table the rows of a two-level ``by`` are recomputed from the
    adjusted variances (the covariance of the two levels from the adjusted variance of their
    difference); with more levels, or crossed ``by`` columns, it keeps the sandwich's tests (noted).
    """
    import dataclasses

    settings = dict(result.settings)
    if settings.get("adjust"):
        raise ParameterError("The Abadie-Imbens (2016) adjustment is for the unadjusted matching estimator; "
                             "the regression-adjusted estimate (adjust=...) has its own sandwich.")
    prop = getattr(match, "propensity", None)
    if (getattr(match, "method", None) != "nearest" or getattr(match, "estimand", None) != "ATT"
            or prop is None or prop.kind != "glm" or prop.probability is None):
        raise ParameterError("The Abadie-Imbens (2016) adjustment needs nearest-neighbour matching for the ATT "
                             "on a logistic propensity score (impact.match(..., distance='glm')).")
    data = match.data
    p = np.asarray(prop.probability, float)
    if len(p) != len(data):
        raise EstimationError("The Abadie-Imbens (2016) adjustment needs the score of every row the logit "
                              "was fitted on; this match result does not keep it.")
    outcome, treatment = settings["outcome"], settings["treatment"]
    if outcome not in data.columns:
        raise ParameterError(f"The Abadie-Imbens (2016) adjustment needs the outcome '{outcome}' for every "
                             "row of the matching data (matched or not), in match.data.")
    y = data[outcome].to_numpy(float)
    keep = np.isfinite(y) & np.isfinite(p)
    if not keep.all():
        raise EstimationError(f"The Abadie-Imbens (2016) adjustment needs '{outcome}' for every row the "
                              "score was fitted on; some are missing.")
    Xc, _ = expand_covariates(data, list(match.covariates))
    X = np.column_stack([np.ones(len(data)), np.asarray(Xc, float)])
    t = data[treatment].to_numpy() == 1
    exact = list(match.settings.get("exact") or ())
    strata = (pd.factorize(pd.MultiIndex.from_frame(data[exact].astype(str)))[0] if exact
              else np.zeros(len(data), np.int64))
    by = settings.get("by")
    notes = list(result.notes)
    table = result.table.copy()
    diff_rows = table["estimand"] == "mean_diff"
    est = dict(zip(table.loc[diff_rows, "subgroup"], table.loc[diff_rows, "estimate"]))
    groups: dict[str, np.ndarray] = {"all": np.ones(len(data), bool)}
    pairs: dict[str, tuple[str, str]] = {}
    if isinstance(by, str):
        lev = data[by].astype(str).to_numpy()
        for name in est:
            if name != "all" and " - " not in name and name in set(lev):
                groups[name] = lev == name
        for name in est:
            if " - " in name and ":" not in name:
                a, b = name.split(" - ", 1)
                if a in groups and b in groups:
                    pairs[name] = (a, b)
        if by not in exact:
            notes.append(f"Abadie-Imbens (2016) adjustment: '{by}' is not an exact-matching variable; the "
                         "conditional moments of its levels are taken within the exact strata only.")
    elif by is not None:
        notes.append("Abadie-Imbens (2016) adjustment: only the overall mean difference is adjusted with two "
                     "'by' columns.")
    groups = {g: m for g, m in groups.items() if g in est}
    terms = score_terms(y, t.astype(np.int64), p, X, strata, groups, {g: float(est[g]) for g in groups},
                        n_neighbours)
    z = float(stats.norm.ppf(0.5 + float(result.conf_level) / 2))
    kept: list[str] = []
    for i in table.index[diff_rows]:
        name = table.at[i, "subgroup"]
        if name in groups:
            extra = terms.extra_variance(name)
        elif name in pairs:
            extra = terms.extra_variance(*pairs[name])
        else:
            continue
        var = float(table.at[i, "se"]) ** 2 + extra
        if not var > 0:
            kept.append(str(name))
            continue
        se, e = float(np.sqrt(var)), float(table.at[i, "estimate"])
        table.loc[i, ["se", "ci_low", "ci_high", "p_value"]] = [se, e - z * se, e + z * se, p_normal(e, se)]
        table.at[i, "se_method"] = str(table.at[i, "se_method"]) + SE_AI2016
    notes.append(f"Mean differences: the variance adds Abadie and Imbens' (2016) term for matching on an estimated "
                 f"logistic score ((d' I^-1 d - c' I^-1 c) / N, N = {len(data)} rows of the score model; "
                 f"conditional moments from the {max(int(n_neighbours), 2)} nearest units of each arm on the score "
                 "within exact strata); the sandwich alone treats the score as known.")
    if kept:
        notes.append("Abadie-Imbens (2016) adjustment not positive for " + ", ".join(kept)
                     + ": the sandwich SE is kept there.")
    het = _ai2016_heterogeneity(result, table, pairs, float(result.conf_level), notes)
    settings["se_ai2016"] = True
    return dataclasses.replace(result, table=table, notes=tuple(dict.fromkeys(notes)), settings=settings,
                               heterogeneity=het)


def _ai2016_heterogeneity(result: Any, table: pd.DataFrame, pairs: dict[str, tuple[str, str]],
                          conf_level: float, notes: list[str]) -> pd.DataFrame:
    """The heterogeneity rows of a two-level ``by`` from the adjusted mean differences: the level
    rows' SEs and p-values, and the joint test with ``V = [[v_a, c], [c, v_b]]``,
    ``c = (v_a + v_b - v_{a-b}) / 2`` (all adjusted), which for two levels is the difference's test."""
    from impact.effects._heterogeneity import heterogeneity_rows

    het = result.heterogeneity
    by = result.settings.get("by")
    if het is None or het.empty or "estimand" not in het.columns:
        return het
    md = het["estimand"] == "mean_diff"
    if not md.any():
        return het
    rows = table[table["estimand"] == "mean_diff"].set_index("subgroup")
    done = False
    if isinstance(by, str) and len(pairs) == 1:
        name, (a, b) = next(iter(pairs.items()))
        adjusted = all(str(rows.at[g, "se_method"]).endswith(SE_AI2016) for g in (a, b, name))
        mine = md & (het["by"] == by) & (het["kind"].isin(["level", "joint test"]))
        if adjusted and mine.sum() == 3:
            va, vb, vd = (float(rows.at[g, "se"]) ** 2 for g in (a, b, name))
            c = (va + vb - vd) / 2.0
            cov = str(het.loc[mine, "covariance"].iloc[0]) + " + the Abadie-Imbens (2016) term"
            new = heterogeneity_rows(by, "mean_diff", np.nan, [a, b],
                                     np.array([rows.at[a, "estimate"], rows.at[b, "estimate"]], float),
                                     np.sqrt([va, vb]), np.array([rows.at[a, "p_value"], rows.at[b, "p_value"]], float),
                                     np.array([[va, c], [c, vb]]), 1 - conf_level, cov)
            keep = het[~mine]
            pos = int(np.flatnonzero(mine.to_numpy())[0])
            het = pd.concat([keep.iloc[:pos], pd.DataFrame(new)[het.columns], keep.iloc[pos:]], ignore_index=True)
            done = True
    if not done:
        notes.append("Abadie-Imbens (2016) adjustment: the heterogeneity tests of the mean differences keep the "
                     "sandwich covariance (they are recomputed only for a 'by' column with two levels).")
    return het


# ---------------------------------------------------------------------------------------------
# k:1 matching that uses most of a stratum's controls

#: Share of a stratum's controls that ``ratio`` x treated may need before the unadjusted
#: matched mean difference is flagged. In ``benchmarks/simulate_coverage.py`` (R = 1000) the bias
#: of the unadjusted estimate is 0.03 to 0.11 of its SD where 1:1 needs 27% (women) and 36% (men)
#: of the controls, and 0.16 to 0.78 of the SD where 2:1 needs 55% and 72% (coverage with the
#: estimated-score SE 86.7% to 93.5%); the regression-adjusted estimate removes it.
SCARCE_SHARE = 0.5


def scarce_controls(match: Any, threshold: float = SCARCE_SHARE) -> list[tuple[str, float]]:
    """``(stratum, share)`` for each exact-matching stratum (or the whole sample) where
    ``ratio x treated / controls`` exceeds ``threshold``, for k:1 nearest-neighbour matching
    without replacement; empty otherwise."""
    s = getattr(match, "settings", None)
    if s is None or getattr(match, "method", None) not in ("nearest", "optimal") or s.get("replace"):
        return []
    ratio = s.get("ratio")
    if not isinstance(ratio, (int, float, np.integer)) or getattr(match, "estimand", "ATT") != "ATT":
        return []
    data = match.data
    t = data[match.treatment].to_numpy().astype(bool)
    keep = ~np.asarray(getattr(match, "discarded", np.zeros(len(data), bool)), bool)
    exact = list(s.get("exact") or ())
    if exact:
        keys = data[exact].astype(str).agg(", ".join, axis=1).to_numpy() if len(exact) > 1 \
            else data[exact[0]].astype(str).to_numpy()
        label = ", ".join(exact)
    else:
        keys, label = np.full(len(data), "all", dtype=object), ""
    out: list[tuple[str, float]] = []
    for k in pd.unique(pd.Series(keys)):
        sel = (keys == k) & keep
        n1, n0 = int((sel & t).sum()), int((sel & ~t).sum())
        if n1 == 0:
            continue
        share = float(ratio) * n1 / n0 if n0 else float("inf")
        if share > threshold:
            out.append((f"{label}={k}" if label else "all", share))
    return out


def scarce_control_notes(match: Any, threshold: float = SCARCE_SHARE, warn: bool = True) -> list[str]:
    """The note (and, with ``warn``, a :class:`impact.ImpactWarning`, a UserWarning) for each
    stratum found by :func:`scarce_controls`: the unadjusted mean difference there carries the
    gap between the treated and their later, poorer matches; the regression-adjusted estimate
    (``adjust=[covariates]``, the default of ``evaluate``) removes it (Abadie and Imbens 2011)."""
    import warnings

    from impact._errors import ImpactWarning

    ratio = match.settings.get("ratio") if getattr(match, "settings", None) is not None else None
    notes = []
    for stratum, share in scarce_controls(match, threshold):
        msg = (f"{ratio}:1 matching needs {share:.0%} of the controls in stratum {stratum} (more than "
               f"{threshold:.0%}): the later controls of each set are poor matches, so the unadjusted mean "
               "difference is biased by their gap in the outcome's predictors. Use the regression-adjusted "
               "estimate (estimate_effects(..., adjust=[the matching covariates]), the default of evaluate), "
               "or fewer controls per participant.")
        notes.append(msg)
        if warn:
            warnings.warn(msg, ImpactWarning, stacklevel=3)
    return notes
