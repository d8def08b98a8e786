"""Treatment effects on the matched (or weighted) sample, for all and by subgroup.

For each subgroup (everyone, then each level of ``by``, e.g. women and men):

* ``share_treated``, ``share_control``, ``share_diff``: the weighted Aalen-Johansen cumulative
  incidence of work or studies at each horizon (other exits compete; censoring at the cut-off),
  and the difference participants minus controls;
* ``rmst_treated``, ``rmst_control``, ``rmst_diff``: restricted mean days *not yet* in work or
  studies up to each horizon (the horizon minus the area under the cumulative incidence); a
  negative difference means participants get there sooner;
* ``subdistribution_hazard_ratio``: Fine-Gray model of the subdistribution hazard (other exits
  stay in the risk set), the hazard-scale counterpart of the share difference;
* ``time_ratio``: Weibull accelerated failure time model; below 1 means participants reach work
  or studies in that fraction of the controls' time ("X% shorter expected time");
* ``hazard_ratio``: a Cox model of the cause-specific hazard of work or studies on treatment
  (Efron ties, case weights);
* a test of whether the effect differs between the subgroups (``subgroup="female - male"``).

Standard errors of shares and restricted means are infinitesimal-jackknife (influence-function)
sums over matched sets, and those of the hazard, time and subdistribution hazard ratios are the
models' cluster-robust sandwich, so they respect the matched design: the two members of a pair are
not independent, and a control used in several sets counts once per set. Without a cluster column
each row is its own cluster. With ``se_method="bootstrap"`` every estimate except the Fine-Gray
subdistribution hazard ratio is recomputed in each replicate. The ``se_method`` column says, row by
row, how the standard error was made.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from impact._compat import renamed_parameters
from impact._errors import DataError, EstimationError, ParameterError, data_error
from impact._validation import (Constraint, InstanceOf, Interval, Options, check_columns, check_duration,
                                check_option, check_treatment, check_weights, spawn_seeds, validate_params)
from impact.outcomes import CENSORED, COMPETING, EVENT

__all__ = ["EffectsResult", "estimate_effects"]

SUMMARY_COLUMNS = ["subgroup", "estimand", "horizon", "estimate", "se", "ci_low", "ci_high", "p_value"]

#: How a row's standard error was made (the ``se_method`` column of the effect table).
SE_INFLUENCE = "influence function"
SE_SANDWICH = "cluster-robust sandwich"
SE_BOOTSTRAP = "bootstrap"

_RATIOS = ("hazard_ratio", "time_ratio", "subdistribution_hazard_ratio")
_REFITTED = ("share_treated", "share_control", "share_diff", "rmst_treated", "rmst_control", "rmst_diff",
             "hazard_ratio", "time_ratio")   # estimands the bootstrap recomputes in every replicate

Row = dict[str, Any]
Influence = dict[tuple[str, str, float], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class EffectsResult:
    """Effects by subgroup. ``summary()`` is tidy; ``conf_level`` says what the interval is.

    Attributes
    ----------
    table : DataFrame
        One row per subgroup, estimand and horizon: ``subgroup, estimand, horizon, estimate, se,
        ci_low, ci_high, p_value, se_method`` and the counts (``n_treated``, ``n_control``,
        ``events_treated``, ``events_control``). ``se_method`` says how the row's standard
        error was made: ``"influence function"``, ``"cluster-robust sandwich"`` (``"robust
        sandwich"`` without matched sets) or ``"bootstrap"``.
    curves : DataFrame
        Cumulative incidence of work or studies by subgroup and arm (``subgroup, arm, time,
        estimate, se, ci_low, ci_high, n_at_risk``); ``n_at_risk`` is the unweighted number of
        the arm's people of the subgroup still under observation just before ``time`` (duration
        ``>= time``, as lifelines' ``event_table`` ``at_risk``). Not for publication:
        :func:`impact.publish.curves_published` uses it to end each curve where an arm has few
        people left, and drops it.
    conf_level : float
        Confidence level of the intervals.
    settings : dict
        The settings used (columns, horizons, how the standard errors were made).
    notes : tuple of str
        What the reader should know (methods, columns assumed, estimates not made, rows dropped).
    heterogeneity : DataFrame
        Per ``by`` column with two or more levels and per difference estimand (``share_diff``,
        ``rmst_diff`` at each horizon, ``mean_diff``, the ratios): one ``kind="level"`` row per
        level with its p-value adjusted over the levels by Holm (``p_holm``) and
        Benjamini-Hochberg (``p_bh``) and flags ``significant_holm``, ``significant_bh`` (at
        ``1 - conf_level``), then a ``"joint test"`` row: the Wald chi-squared that all level
        effects are equal (``statistic`` on ``df = k - 1``). ``covariance`` says how the joint
        covariance was made. With ``by=[gender, other]``, ``kind="interaction"`` rows hold each
        level's women-minus-men difference, adjusted and jointly tested the same way. Empty
        without ``by``.
    """

    table: pd.DataFrame
    curves: pd.DataFrame
    conf_level: float
    settings: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    heterogeneity: pd.DataFrame = field(default_factory=pd.DataFrame)

    def summary(self) -> pd.DataFrame:
        """``subgroup, estimand, horizon, estimate, se, ci_low, ci_high, p_value, se_method`` (+ counts)."""
        return self.table.copy()

    def headline(self) -> pd.DataFrame:
        """The share difference at each horizon and the hazard ratio (or the mean difference of a
        numeric outcome), one row per subgroup."""
        t = self.table
        rows = t[t["estimand"].isin(["share_diff", "hazard_ratio", "mean_diff"])].copy()
        rows["label"] = np.select([rows["estimand"] == "hazard_ratio", rows["estimand"] == "mean_diff"],
                                  ["hazard ratio", "mean diff"],
                                  "share diff " + rows["horizon"].map(lambda h: f"{h:g}d", na_action="ignore").astype(str))
        fmt = rows.apply(lambda r: f"{r.estimate:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]"
                         if np.isfinite(r.estimate) else "not estimable", axis=1)
        out = pd.DataFrame({"subgroup": rows["subgroup"], "label": rows["label"], "value": fmt})
        order = list(dict.fromkeys(out["label"]))
        wide = out.pivot(index="subgroup", columns="label", values="value")[order]
        wide.columns.name = None
        return wide.reindex([s for s in dict.fromkeys(rows["subgroup"])])

    def __repr__(self) -> str:
        subs = ", ".join(dict.fromkeys(self.table["subgroup"]))
        return f"EffectsResult({len(self.table)} estimates; subgroups: {subs}; {self.conf_level:.0%} CI)"

    def _repr_html_(self) -> str:
        from impact._display import frame_html, notes_html, title_html

        head = title_html("impact.EffectsResult",
                          f"{self.conf_level:.0%} intervals; SE: {self.settings.get('se_method')}")
        counts = [c for c in self.table.columns if c.startswith(("n_", "events_"))]
        return head + frame_html(self.table, index=False, count_columns=counts) + notes_html(self.notes)

    def plot(self, ax: Any = None, kind: str = "curves", **kwargs: Any) -> Any:
        """Draw the effects and return the Axes.

        Parameters
        ----------
        ax : Axes or array of Axes, optional
            Where to draw. With ``None`` new Axes are made: one panel per subgroup for
            ``"curves"``, one per estimand for ``"forest"``.
        kind : {"curves", "forest"}
            ``"curves"``: cumulative incidence of work or studies by arm and subgroup
            (:func:`impact.plotting.plot_effect_curves`); ``"forest"``: share differences and
            hazard ratios with intervals (:func:`impact.plotting.plot_forest`).
        **kwargs
            Passed on to the plotting function (``lang``, ``title``, ``estimands``).

        Returns
        -------
        Axes or array of Axes
            The Axes drawn on; an array of them when several panels were made.

        Notes
        -----
        ``plot("curves")`` (the kind first, as before) still works this version, with a
        FutureWarning: call ``plot(kind="curves")``.
        """
        if isinstance(ax, str):   # the old order plot(kind, ax)
            warnings.warn("EffectsResult.plot now takes ax first: call plot(kind=" + repr(ax) + ") "
                          "instead of plot(" + repr(ax) + "); the old order goes away in the next version.",
                          FutureWarning, stacklevel=2)
            ax, kind = (None if isinstance(kind, str) else kind), ax
        check_option("kind", kind, ["curves", "forest"], "EffectsResult.plot")
        if kind == "curves" and self.curves.empty:
            raise ParameterError("EffectsResult.plot: a numeric outcome has no incidence curves; use "
                                 "plot(kind='forest').")
        from impact.plotting import plot_effect_curves, plot_forest
        if kind == "curves":
            return plot_effect_curves(self.curves, ax=ax, **kwargs)
        return plot_forest(self.table, ax=ax, **kwargs)


# ---- parameters --------------------------------------------------------------------------------

class _MatchResultLike(Constraint):
    """A match result: anything carrying a ``matched_data`` DataFrame."""

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(getattr(value, "matched_data", None), pd.DataFrame)

    def describe(self) -> str:
        return "a match result"

    def invalid(self) -> list[Any]:
        return [object(), "data.csv"]


class _Horizons(Constraint):
    """A non-empty sequence of finite numbers > 0 (days)."""

    _each = Interval(Real, 0, None, closed="neither")

    def is_satisfied_by(self, value: Any) -> bool:
        if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray, pd.Series)):
            return False
        values = list(value)
        return len(values) > 0 and all(self._each.is_satisfied_by(v) for v in values)

    def describe(self) -> str:
        return "a non-empty sequence of numbers > 0 (days)"

    def invalid(self) -> list[Any]:
        return [90, "90", [], [90, -1], [0.0], [float("nan")]]


_PARAMS: dict[str, list[Any]] = {
    "data": [InstanceOf(pd.DataFrame, "a pandas DataFrame"), _MatchResultLike()],
    "duration": ["column"],
    "event": ["column"],
    "treatment": ["column", None],
    "by": ["columns", None],
    "horizons": [_Horizons()],
    "weights": ["column", None],
    "cluster": ["column", None],
    "conf_level": [Interval(Real, 0, 1, closed="neither")],
    "se_method": [Options(["influence", "bootstrap"])],
    "n_boot": [Interval(Integral, 20, None)],
    "random_state": ["random_state"],
    "n_jobs": [Interval(Integral, 1, None), Interval(Integral, None, -1)],
    "progress": ["boolean"],
    "adjust": ["columns", None],
    "subdistribution": ["boolean"],
    "outcome": ["column", None],
    "vcov": [Options(["auto", "HC1", "HC3", "AI2016"])],
    "missing": [Options(["error", "drop"])],
    "persons": ["column", None],
}


def _unwrap(data: Any, treatment: str | None) -> tuple[pd.DataFrame, str]:
    if isinstance(data, pd.DataFrame):
        frame = data
    else:   # a match result (the table has checked it carries matched_data)
        frame = data.matched_data
        treatment = treatment or getattr(data, "treatment", None)
    if treatment is None:
        raise ParameterError("estimate_effects needs the name of the treatment column: treatment='...'.")
    return frame, treatment


def _replaced(data: Any) -> bool:
    """Whether a match result says it matched with replacement."""
    settings = getattr(data, "settings", None)
    try:
        return bool(settings.get("replace", False)) if settings is not None else False
    except AttributeError:
        return False


def _by_columns(by: str | Sequence[str] | None) -> list[str]:
    if by is None:
        return []
    cols = [by] if isinstance(by, str) else list(by)
    if len(cols) > 2 or len(set(cols)) < len(cols):
        raise ParameterError("The 'by' parameter of estimate_effects takes one column, or two different "
                             "columns for crossed levels (by=['gender', 'age_band']: the first, usually "
                             f"gender, is compared within each level of the second). Got {list(cols)!r}.")
    return cols


@renamed_parameters({"matched": "data"})
@validate_params(_PARAMS)
def estimate_effects(data: Any, duration: str = "duration", event: str = "event", *,
                     treatment: str | None = None, by: str | Sequence[str] | None = "gender",
                     horizons: Sequence[float] = (90, 180, 365), weights: str | None = "weights",
                     cluster: str | None = "subclass", conf_level: float = 0.95,
                     se_method: Literal["influence", "bootstrap"] = "influence", n_boot: int = 500,
                     random_state: int | np.random.Generator | None = 0, n_jobs: int = 1,
                     progress: bool = False, adjust: Sequence[str] | str | None = None,
                     subdistribution: bool = True, outcome: str | None = None,
                     vcov: Literal["auto", "HC1", "HC3", "AI2016"] = "auto",
                     missing: Literal["error", "drop"] = "error", persons: str | None = None) -> EffectsResult:
    """Estimate effects on time to work or studies (or on a numeric outcome), for all and by subgroup.

    Parameters
    ----------
    data : DataFrame or match result
        The matched data (``result.matched_data``) with outcomes from
        :func:`impact.time_to_event`, or a match result whose ``matched_data`` has them.
        (Called ``matched`` before; that name still works this version, with a FutureWarning.)
    duration : str
        Days from start to exit or censoring (> 0).
    event : str
        0 censored, 1 work or studies (the event), 2 a competing exit.
    treatment : str
        Treatment column, 0/1 or boolean (taken from the match result when one is passed).
    by : str, list of two str, or None
        Subgroup column; effects are estimated for everyone and for each level. With two
        columns (``["gender", "age_band"]``) also for each crossed cell, and the difference
        between the levels of the first column (two levels, e.g. women minus men) is given
        within each level of the second (the gender interaction, ``"age_band=16-24: female -
        male"``). Levels of the second column are named ``"column=level"``.
    horizons : sequence of float
        Days at which shares in work or studies are compared.
    weights, cluster : str or None
        Matching weights and matched-set columns; ``None`` (or absent) means 1 and one cluster
        per row.
    conf_level : float
        Confidence level of the intervals.
    persons : str or None
        Column of person identifiers, where one person can be in several rows (in the risk-set
        design a control is in one matched set per period it serves). The numbers at risk of
        ``curves`` (which cut the published curves, :func:`impact.publish.curves_published`)
        then count persons, not rows: a person is at risk at day ``t`` while any of its rows is.
        Default: each row a person. The identifiers are only counted; they are in no output.
    se_method : {"influence", "bootstrap"}
        ``"influence"`` (default): infinitesimal-jackknife standard errors summed within matched
        sets for shares and restricted means, the models' cluster-robust sandwich for the
        ratios; normal intervals. ``"bootstrap"``: matched sets resampled with replacement
        ``n_boot`` times (all rows of a set move together); in every replicate the shares,
        restricted means, the Cox and the Weibull models (with the ``adjust`` covariates) are
        recomputed; standard errors are the SD of the replicates and intervals percentile
        intervals (ratios on the log scale). The Fine-Gray model is too slow to re-fit
        hundreds of times: its rows keep their sandwich SEs. The ``se_method`` column of the
        table says, row by row, which was used.
    n_boot, random_state, n_jobs, progress
        Bootstrap replicates, seed (an int, ``None`` or a :class:`numpy.random.Generator`;
        replicate ``b`` uses child ``b`` of its ``SeedSequence``, so the answer does not depend
        on ``n_jobs``), worker processes (joblib) and a progress bar (tqdm).
    adjust : sequence of str, optional
        Covariates added to the outcome (Cox, AFT, Fine-Gray) models beside treatment:
        regression adjustment on the matched sample, which guards against residual imbalance
        (doubly robust in the sense of Ho, Imai, King and Stuart 2007). The hazard, time and
        subdistribution hazard ratios are then conditional on them; shares and restricted means
        stay the matched comparison. Categorical columns are expanded as a formula would.
    subdistribution : bool
        Also fit the Fine-Gray model (``subdistribution_hazard_ratio``). It expands the data
        around every competing exit, so it is the slowest estimand; turn it off for quick looks.
    outcome : str or None
        A numeric (continuous or count) outcome column, e.g. earnings or days in work. Then
        ``duration``, ``event``, ``horizons`` and ``subdistribution`` are not used
        and the table has ``mean_treated``, ``mean_control`` and ``mean_diff`` (estimand
        ``mean_diff``: the weighted mean of participants minus controls, the coefficient of
        ``lm(y ~ treat, weights = weights)``) per subgroup. With ``adjust``, the coefficient of
        treat in ``lm(y ~ treat * (covariates centred at the participants' means))`` per subgroup
        (regression-adjusted ATT); ``mean_control`` is then ``mean_treated - mean_diff``.
    vcov : {"auto", "HC1", "HC3", "AI2016"}
        Standard errors of mean differences. ``"HC1"``: the sandwich clustered on ``cluster``
        (R ``sandwich::vcovCL(fit, cluster = ~subclass)``, HC1 with the factor
        ``G/(G-1) (n-1)/(n-k)``; HC1 per row without a cluster column). ``"HC3"``: the
        unclustered HC3 sandwich (``sandwich::vcovHC(fit, type = "HC3")``), for matching with
        replacement, where a control belongs to several sets: as MatchIt's vignette
        *Estimating Effects After Matching* recommends, pair membership is then ignored.
        ``"auto"``: HC3 when the match result says ``replace=True`` or the cluster column has
        missing set ids, HC1 otherwise. ``"AI2016"``: the ``"auto"`` sandwich plus Abadie and
        Imbens' (2016) term for matching on an *estimated* logistic score (the sandwich treats
        the score as known, which is conservative for these designs in
        ``benchmarks/simulate_coverage.py``); ``data`` must then be the :func:`impact.match`
        result itself (nearest neighbour for the ATT on ``distance="glm"``) and ``adjust``
        empty (see :func:`impact.effects.ai2016_adjust`). With an unadjusted k:1 match
        without replacement that needs more than half of a stratum's controls, a note and an
        :class:`~impact.ImpactWarning` say the estimate carries the poorer later matches and
        point to ``adjust=``.
    missing : {"error", "drop"}
        Missing outcome values: raise a :class:`~impact.DataError` naming the rows, or drop
        those rows (counted in ``notes`` and ``settings["n_dropped_missing"]``; a matched set
        may then lose a member).

    Returns
    -------
    EffectsResult

    Examples
    --------
    >>> import impact
    >>> sim = impact.simulate(n_pool=3000, random_state=5)
    >>> v = impact.validate(sim.registers, sim.roles)
    >>> m = impact.match(v.data, treatment="participant", covariates=list(sim.roles.covariates),
    ...                  caliper=0.2, exact=["gender"], id="person_id")
    >>> data = impact.time_to_event(m.matched_data, sim.roles)
    >>> res = estimate_effects(data, treatment="participant", by="gender")
    >>> res.summary().columns[:9].tolist()
    ['subgroup', 'estimand', 'horizon', 'estimate', 'se', 'ci_low', 'ci_high', 'p_value', 'se_method']

    A numeric outcome (earnings in 1978 on the unmatched Lalonde data, each row its own cluster;
    ``mean_diff`` by marital status and the difference between the two levels):

    >>> from impact.datasets import load_lalonde
    >>> lal = load_lalonde()
    >>> lal["weights"] = 1.0
    >>> r = estimate_effects(lal, outcome="re78", treatment="treat", by="married", cluster=None)
    >>> r.summary().query("estimand == 'mean_diff'")["subgroup"].tolist()
    ['all', '0', '1', '0 - 1']
    """
    replaced = _replaced(data)
    match_result = None if isinstance(data, pd.DataFrame) else data
    frame, treatment = _unwrap(data, treatment)
    data = frame
    by_cols = _by_columns(by)
    adjust_cols = [adjust] if isinstance(adjust, str) else list(adjust or [])
    if outcome is not None:
        if vcov == "AI2016" and (match_result is None or adjust_cols):
            raise ParameterError("vcov='AI2016' needs the match result itself as data (not a DataFrame) and "
                                 "no 'adjust': the estimated-score term is for the unadjusted matching ATT. "
                                 "Pass estimate_effects(match, outcome=..., vcov='AI2016').")
        res = _estimate_means(data, outcome, treatment, by_cols, weights, cluster, conf_level,
                              "auto" if vcov == "AI2016" else vcov, missing, replaced, se_method, adjust_cols)
        from impact.effects._means import ai2016_adjust, scarce_control_notes
        if match_result is not None and not adjust_cols:
            extra = scarce_control_notes(match_result)
            if extra:
                res = dataclasses.replace(res, notes=(*res.notes, *extra))
        if vcov == "AI2016":
            res = ai2016_adjust(res, match_result)
        return res
    if se_method == "bootstrap" and len(by_cols) > 1:
        raise ParameterError("se_method='bootstrap' supports one 'by' column; with crossed levels use "
                             "se_method='influence'.")
    by = by_cols[0] if by_cols else None
    horizons = tuple(float(h) for h in horizons)
    cols = [duration, event, treatment] + by_cols
    check_columns(data, cols)
    w_col = weights if weights and weights in data.columns else None
    c_col = cluster if cluster and cluster in data.columns else None
    notes: list[str] = []
    if weights and w_col is None:
        notes.append(f"No '{weights}' column: every row has weight 1.")
    if cluster and c_col is None:
        notes.append(f"No '{cluster}' column: each row is its own cluster (independent units).")
    _check_inputs(data, duration, event, treatment, w_col)
    if adjust_cols:
        check_columns(data, adjust_cols, role="adjustment covariate")
        if data[adjust_cols].isna().any().any():
            miss = data[adjust_cols].isna().any(axis=1).to_numpy()
            raise data_error(", ".join(c for c in adjust_cols if data[c].isna().any()),
                             "missing values in adjustment covariates", miss)
        notes.append("Hazard, time and subdistribution hazard ratios adjusted for " + ", ".join(adjust_cols)
                     + " in the outcome models (conditional on them); shares and restricted means are the "
                     "unadjusted matched comparison.")
    if c_col is not None and data[c_col].isna().any():
        raise data_error(c_col, "missing matched-set ids (a control used in several sets under "
                         "replacement has no single set)", data[c_col].isna().to_numpy(),
                         "Estimate on result.get_matches(), one row per set membership, or pass "
                         "cluster=None to treat rows as independent.")

    z = float(stats.norm.ppf(0.5 + conf_level / 2))
    sandwich = SE_SANDWICH if c_col else "robust sandwich"
    layout = _groups(data, by_cols, treatment, notes)
    groups = layout.groups

    rows: list[Row] = []
    curves: list[pd.DataFrame] = []
    infl: Influence = {}
    designs: dict[str, np.ndarray | None] = {}
    # the matched sets as dense integer codes, once for all subgroups (consistent across them, so
    # that influences of different subgroups can be summed within sets); without sets, each
    # row its own (its position in the data)
    codes = (pd.factorize(data[c_col], sort=False)[0].astype(np.int64, copy=False) if c_col
             else np.arange(len(data), dtype=np.int64))
    pcodes = person_codes(data, persons)
    # the subgroups' rows of the columns the estimates read only (not every column of the data)
    used = list(dict.fromkeys([duration, event, treatment, *([w_col] if w_col else []),
                               *([c_col] if c_col else []), *adjust_cols]))
    slim = data[used]
    for name, mask in groups:
        sub = slim if mask.all() else slim.loc[mask]   # "all": no copy of every row
        X = _adjustment_matrix(sub, adjust_cols)
        designs[name] = X
        r, c, inf = _subgroup_effects(sub, name, duration, event, treatment, w_col, c_col, horizons, z, notes,
                                      X=X, subdistribution=subdistribution, sandwich=sandwich,
                                      codes=codes[mask], persons=None if pcodes is None else pcodes[mask])
        rows += r
        curves.append(c)
        infl.update(inf)

    first = layout.levels.get(by, []) if by else []
    if by and len(first) == 2:
        if c_col is not None and data.groupby(c_col)[by].nunique().gt(1).any():
            notes.append(f"Some matched sets span several '{by}' levels: the test of the hazard-ratio "
                         "difference treats the subgroup fits as independent (match exactly on "
                         f"'{by}' to make that hold).")
        rows += _difference_tests(rows, infl, first[0], first[1], z, sandwich)
        for lev2, (ca, cb) in layout.pairs.items():
            rows += [dict(r, subgroup=f"{lev2}: {first[0]} - {first[1]}")
                     for r in _difference_tests(rows, infl, ca, cb, z, sandwich)]
    elif by and len(first) > 2:
        notes.append(f"'{by}' has {len(first)} levels: no pairwise test of differences reported; "
                     "the joint test of equal effects is in .heterogeneity.")
    het = _survival_heterogeneity(rows, infl, layout, 1 - conf_level)

    table = pd.DataFrame(rows)
    se_text = ("infinitesimal jackknife clustered on " + c_col) if c_col else "infinitesimal jackknife"
    if se_method == "bootstrap":
        arrays = _arrays(data, duration, event, treatment, w_col, c_col)
        boot_groups = [(name, mask, designs[name]) for name, mask in groups]
        boot = _bootstrap(arrays, boot_groups, horizons, n_boot, random_state, n_jobs, progress)
        table, kept = _apply_bootstrap(table, boot, conf_level)
        if kept:
            notes.append("Fewer than 10 usable bootstrap replicates for " + ", ".join(kept)
                         + ": those rows keep their " + SE_INFLUENCE + " or sandwich SEs (see se_method).")
        notes.append("Bootstrap: shares, restricted means, hazard ratios (Cox) and time ratios (Weibull AFT)"
                     + (" with the adjustment covariates" if adjust_cols else "") + " are re-estimated in "
                     "every replicate" + ("; the Fine-Gray model is not re-fitted, so subdistribution hazard "
                                          f"ratios keep their {sandwich} SEs" if subdistribution else "")
                     + " (column se_method).")
        se_text = (f"bootstrap of {n_boot} replicates resampling "
                   + (f"matched sets ('{c_col}')" if c_col else "rows") + ", percentile intervals")
    else:
        ratios = "hazard, time and subdistribution hazard ratios" if subdistribution else "hazard and time ratios"
        notes.append(f"Standard errors: {SE_INFLUENCE} (infinitesimal jackknife) for shares and restricted "
                     f"means, {sandwich} for {ratios} (column se_method).")
    lead = SUMMARY_COLUMNS + ["se_method"]
    cols_out = lead + [c for c in table.columns if c not in lead]
    settings: dict[str, Any] = dict(
        duration=duration, event=event, treatment=treatment, by=by if len(by_cols) < 2 else tuple(by_cols),
        horizons=horizons, weights=w_col,
        cluster=c_col, conf_level=conf_level, se_method=se_text, n_boot=n_boot if se_method == "bootstrap" else None,
        random_state=random_state if se_method == "bootstrap" else None, adjust=tuple(adjust_cols))
    notes.insert(0, "Share in work or studies: weighted Aalen-Johansen cumulative incidence, other exits "
                    "as competing events; hazard ratio: Cox model of the cause-specific hazard (Efron ties).")
    if se_method == "bootstrap" and not het.empty:
        notes.append("The heterogeneity tests use the influence-function and sandwich covariances, "
                     "not the bootstrap.")
    return EffectsResult(table=table[cols_out], curves=pd.concat(curves, ignore_index=True),
                         conf_level=conf_level, settings=settings, notes=tuple(dict.fromkeys(notes)),
                         heterogeneity=het)


@dataclass(frozen=True)
class _Layout:
    """The subgroups: ``groups`` (name, row mask), level names per ``by`` column, and for crossed
    levels each level of the second column with the two cells of the first column's levels."""

    groups: list[tuple[str, np.ndarray]]
    levels: dict[str, list[str]]
    pairs: dict[str, tuple[str, str]]
    cells: dict[str, list[str]]


def _groups(data: pd.DataFrame, by_cols: list[str], treatment: str, notes: list[str]) -> _Layout:
    from impact.data import require_subgroup_levels
    groups: list[tuple[str, np.ndarray]] = [("all", np.ones(len(data), bool))]
    levels: dict[str, list[str]] = {}
    raw: dict[str, list[Any]] = {}
    for j, col in enumerate(by_cols):
        raw[col] = require_subgroup_levels(data, col, treatment)
        names = [str(lev) if j == 0 else f"{col}={lev}" for lev in raw[col]]
        levels[col] = names
        groups += [(name, mask) for name, mask in zip(names, _level_masks(data[col], raw[col]))]
    pairs: dict[str, tuple[str, str]] = {}
    cells: dict[str, list[str]] = {}
    if len(by_cols) == 2:
        a, b = by_cols
        t = data[treatment].to_numpy() == 1
        for lb, nb in zip(raw[b], levels[b]):
            here: list[str] = []
            for la, na in zip(raw[a], levels[a]):
                mask = ((data[a] == la) & (data[b] == lb)).to_numpy()
                if not (mask & t).any() or not (mask & ~t).any():
                    notes.append(f"Cell {na}, {nb} has no treated or no controls: not estimated.")
                    continue
                groups.append((f"{na}, {nb}", mask))
                here.append(f"{na}, {nb}")
            cells[nb] = here
            if len(levels[a]) == 2 and len(here) == 2:
                pairs[nb] = (here[0], here[1])
    return _Layout(groups=groups, levels=levels, pairs=pairs, cells=cells)


def _level_masks(col: pd.Series, levels: list[Any]) -> list[np.ndarray]:
    """``[(col == lev).to_numpy() for lev in levels]``, from one factorisation of an object or
    numeric column (the levels come from the column and none is missing)."""
    if col.dtype == object or col.dtype.kind in "biuf":
        codes, uniques = pd.factorize(col)
        values = uniques.tolist()
        if codes.size and codes.min() >= 0 and len(values) == len(levels):
            at: dict[Any, int] = {}
            for k, v in enumerate(values):
                at.setdefault(v, k)
            if all(lev in at for lev in levels) and len({at[lev] for lev in levels}) == len(levels):
                return [codes == at[lev] for lev in levels]
    return [(col == lev).to_numpy() for lev in levels]


def _estimate(rows: list[Row], name: str, estimand: str, h: float) -> Row | None:
    for r in rows:
        if r["subgroup"] == name and r["estimand"] == estimand and (
                r["horizon"] == h or (np.isnan(h) and np.isnan(r["horizon"]))):
            return r
    return None


def _survival_heterogeneity(rows: list[Row], infl: Influence, layout: _Layout, alpha: float) -> pd.DataFrame:
    """Joint tests and adjusted p-values over the levels of each ``by`` column (and the interactions)."""
    from impact.effects._heterogeneity import HETEROGENEITY_COLUMNS, heterogeneity_rows
    from impact.effects._means import cluster_cov
    out: list[Row] = []
    families: list[tuple[str, str, list[str]]] = [(col, "level", names) for col, names in layout.levels.items()]
    if layout.pairs:
        families.append((list(layout.levels)[1], "interaction", list(layout.pairs)))
    keys = sorted({(k[1], k[2]) for k in infl if k[1] in ("share_diff", "rmst_diff")}, key=lambda k: (k[0], k[1]))
    for col, kind, names in families:
        if len(names) < 2:
            continue
        for estimand, h in keys:
            if kind == "interaction":
                found = []
                for lev2 in names:
                    ca, cb = layout.pairs[lev2]
                    if (ca, estimand, h) in infl and (cb, estimand, h) in infl:
                        (va, cla), (vb, clb) = infl[(ca, estimand, h)], infl[(cb, estimand, h)]
                        found.append((lev2, np.r_[va, -vb], np.r_[cla, clb]))
            else:
                found = [(n, *infl[(n, estimand, h)]) for n in names if (n, estimand, h) in infl]
            if len(found) < 2:
                continue
            V = _codes_cov([f[1] for f in found], [f[2] for f in found], cluster_cov)
            b, se, p = [], [], []
            for lev, _, _ in found:
                label = lev if kind == "level" else f"{lev}: " + " - ".join(
                    c.split(", ")[0] for c in layout.pairs[lev])
                r = _estimate(rows, label, estimand, h)
                b.append(np.nan if r is None else r["estimate"])
                se.append(np.nan if r is None else r["se"])
                p.append(np.nan if r is None else r["p_value"])
            labels = [f[0] for f in found]
            out += heterogeneity_rows(col, estimand, h, labels, np.array(b), np.array(se), np.array(p), V,
                                      alpha, "influence functions summed within matched sets", kind)
        if kind == "level":
            for estimand in _RATIOS:
                fits: list[tuple[str, Row]] = []
                for n in names:
                    r = _estimate(rows, n, estimand, np.nan)
                    if r is not None and np.isfinite(r["estimate"]):
                        fits.append((n, r))
                if len(fits) < 2:
                    continue
                lb = np.log(np.array([r["estimate"] for _, r in fits], float))
                lse = np.array([r["se"] for _, r in fits], float)
                out += heterogeneity_rows(col, estimand, np.nan, [n for n, _ in fits], lb, lse,
                                          np.array([r["p_value"] for _, r in fits], float), np.diag(lse ** 2),
                                          alpha, "separate fits taken as independent (log scale)")
    if not out:
        return pd.DataFrame(columns=HETEROGENEITY_COLUMNS)
    return pd.DataFrame(out)[HETEROGENEITY_COLUMNS]


def _estimate_means(data: pd.DataFrame, outcome: str, treatment: str, by_cols: list[str],
                    weights: str | None, cluster: str | None, conf_level: float, vcov: str, missing: str,
                    replaced: bool, se_method: str, adjust: list[str] | None = None) -> EffectsResult:
    """``estimate_effects(..., outcome=...)``: mean differences by weighted least squares."""
    from impact.effects._heterogeneity import HETEROGENEITY_COLUMNS, heterogeneity_rows
    from impact.effects._means import SE_CL_HC1, SE_HC1, SE_HC3, mean_difference_row, mean_effects
    from impact.effects._means import joint_effect_cov
    if se_method == "bootstrap":
        raise ParameterError("se_method='bootstrap' is for time-to-event outcomes; mean differences use "
                             "the sandwich (vcov='HC1' or 'HC3').")
    check_columns(data, [outcome, treatment] + by_cols)
    notes: list[str] = []
    y = data[outcome]
    if not (pd.api.types.is_numeric_dtype(y) or pd.api.types.is_bool_dtype(y)):
        raise data_error(outcome, "the outcome must be numeric (a continuous or count outcome)",
                         pd.to_numeric(y, errors="coerce").isna().to_numpy() & y.notna().to_numpy(),
                         "Convert it (pd.to_numeric) or pick a numeric column.")
    miss = y.isna().to_numpy()
    n_dropped = int(miss.sum())
    if n_dropped:
        if missing == "error":
            raise data_error(outcome, "missing outcome values", miss,
                             "Fill them, or pass missing='drop' to estimate on the rows that have one.")
        data = data.loc[~miss]
        notes.append(f"{n_dropped} row(s) with a missing '{outcome}' dropped (missing='drop'); their matched "
                     "sets keep their other members.")
    w_col = weights if weights and weights in data.columns else None
    c_col = cluster if cluster and cluster in data.columns else None
    if weights and w_col is None:
        notes.append(f"No '{weights}' column: every row has weight 1.")
    check_treatment(data[treatment], treatment)
    if w_col is not None:
        check_weights(data[w_col].to_numpy(), len(data), w_col)
        if (data[w_col] == 0).any():
            notes.append(f"{int((data[w_col] == 0).sum())} row(s) with weight 0 left out (as match.data does).")
    has_missing_sets = c_col is not None and bool(data[c_col].isna().any())
    hc3 = vcov == "HC3" or (vcov == "auto" and (replaced or has_missing_sets))
    if not hc3 and has_missing_sets:
        raise data_error(c_col or "", "missing matched-set ids (a control used in several sets under "
                         "replacement has no single set)", data[c_col].isna().to_numpy(),
                         "Use vcov='HC3' (or 'auto'), or pass cluster=None to treat rows as independent.")
    if hc3:
        notes.append("Mean differences: HC3 sandwich, rows independent (matching with replacement: a control "
                     "may sit in several sets, so sets are not clustered on; MatchIt's vignette recommends "
                     "robust HC3 errors there).")
    elif c_col:
        notes.append(f"Mean differences: sandwich clustered on '{c_col}' (HC1, G/(G-1) (n-1)/(n-k)), as "
                     "R's sandwich::vcovCL(lm(y ~ treat, weights = weights), cluster = ~subclass).")
    else:
        if cluster:
            notes.append(f"No '{cluster}' column: each row is its own cluster (independent units).")
        notes.append("Mean differences: HC1 sandwich, each row its own cluster.")
    method = SE_HC3 if hc3 else (SE_CL_HC1 if c_col else SE_HC1)
    z = float(stats.norm.ppf(0.5 + conf_level / 2))
    layout = _groups(data, by_cols, treatment, notes)
    rows, pieces = mean_effects(data, outcome, treatment, layout.groups, w_col, c_col, hc3, z, adjust, notes)
    by = by_cols[0] if by_cols else None
    first = layout.levels.get(by, []) if by else []
    if len(first) == 2:
        rows.append(mean_difference_row(pieces, first[0], first[1], z, method))
        for lev2, (ca, cb) in layout.pairs.items():
            rows.append(dict(mean_difference_row(pieces, ca, cb, z, method),
                             subgroup=f"{lev2}: {first[0]} - {first[1]}"))
    het: list[Row] = []
    alpha = 1 - conf_level
    cov_text = "stacked regressions (the interacted model's " + ("HC3" if hc3 else "clustered HC1") + " covariance)"
    for col, names in layout.levels.items():
        if len(names) >= 2:
            V = joint_effect_cov([pieces[n] for n in names])
            r = [_estimate(rows, n, "mean_diff", np.nan) for n in names]
            het += heterogeneity_rows(col, "mean_diff", np.nan, names, np.array([x["estimate"] for x in r if x]),
                                      np.array([x["se"] for x in r if x]), np.array([x["p_value"] for x in r if x]),
                                      V, alpha, cov_text)
    if layout.pairs:
        col2 = by_cols[1]
        levs = list(layout.pairs)
        # interaction of cell a - cell b per level: contrast of the stacked cell estimates
        cells = [c for lev in levs for c in layout.pairs[lev]]
        Vc = joint_effect_cov([pieces[c] for c in cells])
        C = np.zeros((len(levs), len(cells)))
        for i in range(len(levs)):
            C[i, 2 * i], C[i, 2 * i + 1] = 1.0, -1.0
        Vi = C @ Vc @ C.T
        labels = [f"{lev}: {first[0]} - {first[1]}" for lev in levs]
        r = [_estimate(rows, lab, "mean_diff", np.nan) for lab in labels]
        het += heterogeneity_rows(col2, "mean_diff", np.nan, levs, np.array([x["estimate"] for x in r if x]),
                                  np.array([x["se"] for x in r if x]), np.array([x["p_value"] for x in r if x]),
                                  Vi, alpha, cov_text, kind="interaction")
    table = pd.DataFrame(rows)
    lead = SUMMARY_COLUMNS + ["se_method"]
    table = table[lead + [c for c in table.columns if c not in lead]]
    settings: dict[str, Any] = dict(outcome=outcome, treatment=treatment, by=by_cols[0] if len(by_cols) == 1
                                    else (tuple(by_cols) or None), weights=w_col, cluster=None if hc3 else c_col,
                                    conf_level=conf_level, se_method=method, vcov="HC3" if hc3 else "HC1",
                                    n_dropped_missing=n_dropped, adjust=tuple(adjust or ()))
    notes.insert(0, f"Mean of '{outcome}' in each arm (weighted) and the difference participants minus "
                    "controls (estimand mean_diff), as the coefficient of a weighted regression on treatment.")
    het_df = pd.DataFrame(het)[HETEROGENEITY_COLUMNS] if het else pd.DataFrame(columns=HETEROGENEITY_COLUMNS)
    return EffectsResult(table=table, curves=pd.DataFrame(columns=["subgroup", "arm", "time", "estimate", "se",
                                                                   "ci_low", "ci_high", "n_at_risk"]),
                         conf_level=conf_level, settings=settings, notes=tuple(dict.fromkeys(notes)),
                         heterogeneity=het_df)


def _check_inputs(data: pd.DataFrame, duration: str, event: str, treatment: str, w_col: str | None) -> None:
    d = pd.to_numeric(data[duration], errors="coerce")
    if d.isna().any():
        raise data_error(duration, "missing or non-numeric durations", d.isna().to_numpy())
    check_duration(d.to_numpy(), duration)
    e = data[event]
    if e.isna().any():
        raise data_error(event, "missing event codes", e.isna().to_numpy())
    if not pd.api.types.is_numeric_dtype(e):
        raise data_error(event, "event codes must be integers (0 censored, 1 event, 2 competing)",
                         np.ones(len(e), bool))
    undeclared = ~e.isin([CENSORED, EVENT, COMPETING]).to_numpy()
    if undeclared.any():
        codes = ", ".join(map(str, sorted(pd.unique(e[undeclared]))[:5]))
        raise data_error(event, f"undeclared event codes {codes} (expected 0 censored, 1 work or studies, "
                         "2 other exit)", undeclared, "Recode with impact.time_to_event, or map them first.")
    check_treatment(data[treatment], treatment)
    if w_col is not None:
        check_weights(data[w_col].to_numpy(), len(data), w_col)


def _adjustment_matrix(sub: pd.DataFrame, adjust: list[str]) -> np.ndarray | None:
    """The adjustment covariates of one subgroup, expanded; a level absent from it has no column."""
    if not adjust:
        return None
    from impact.data import expand_covariates
    X, _ = expand_covariates(sub, adjust)
    X = np.asarray(X, dtype=float)
    return X[:, X.std(axis=0) > 0]


def _model_frame(dur: np.ndarray, ev1: np.ndarray, t: np.ndarray, w: np.ndarray, X: np.ndarray | None,
                 cl: np.ndarray | None = None) -> tuple[pd.DataFrame, list[str]]:
    cols: dict[str, Any] = {"duration": dur, "event": ev1.astype(int), "treated": t.astype(float), "w": w}
    if cl is not None:
        cols["cluster"] = cl
    terms = ["treated"]
    if X is not None:
        for j in range(X.shape[1]):
            cols[f"adj:{j}"] = X[:, j]
            terms.append(f"adj:{j}")
    return pd.DataFrame(cols), terms


def _subgroup_effects(sub: pd.DataFrame, name: str, duration: str, event: str, treatment: str,
                      w_col: str | None, c_col: str | None, horizons: tuple[float, ...], z: float,
                      notes: list[str], X: np.ndarray | None = None, subdistribution: bool = True,
                      sandwich: str = SE_SANDWICH, codes: np.ndarray | None = None,
                      persons: np.ndarray | None = None) -> tuple[list[Row], pd.DataFrame, Influence]:
    """The effect rows of one subgroup. ``codes``: the rows' matched sets as integer codes >= 0
    shared by all subgroups (by default factorised from ``c_col`` here, or one per row);
    ``persons``: the rows' persons as integer codes (None: each row a person)."""
    from impact.survival import AFT, CoxPH, aalen_johansen, fine_gray

    dur = sub[duration].to_numpy(float)
    ev = sub[event].to_numpy()
    cause = np.where(ev == CENSORED, 0, np.where(ev == EVENT, 1, 2))
    t = sub[treatment].to_numpy() == 1
    w = sub[w_col].to_numpy(float) if w_col else np.ones(len(sub))
    if codes is None:
        codes = (pd.factorize(sub[c_col], sort=False)[0].astype(np.int64, copy=False) if c_col
                 else np.arange(len(sub), dtype=np.int64))
    cl = codes
    counts = dict(n_treated=int(t.sum()), n_control=int((~t).sum()),
                  events_treated=int(((cause == 1) & t).sum()), events_control=int(((cause == 1) & ~t).sum()))
    rows: list[Row] = []
    curves_out: list[pd.DataFrame] = []
    infl: Influence = {}

    def row(estimand: str, horizon: float, estimate: float, se: float, p_value: float, method: str) -> Row:
        return dict(subgroup=name, estimand=estimand, horizon=horizon, estimate=estimate, se=se,
                    ci_low=estimate - z * se, ci_high=estimate + z * se, p_value=p_value, se_method=method,
                    **counts)

    # per arm, for every horizon at once: share (cumulative incidence), its influence, and the
    # restricted mean days not yet in work or studies (horizon minus the area under the
    # cumulative incidence: AalenJohansen.rmtl, O(n) per horizon) with its influence
    hs = list(horizons)
    arms: dict[str, dict[str, Any]] = {}
    for arm, m in (("treated", t), ("control", ~t)):
        # without matched sets every row is its own cluster: the curve's own (unclustered) IJ variance
        aj = aalen_johansen(dur[m], cause[m], weights=w[m], cluster=cl[m] if c_col else None, causes=[1, 2])
        grid = np.unique(np.r_[0.0, dur[m][cause[m] == 1]])
        both = aj.cif(1, np.r_[grid, hs])            # the curve and the shares: one variance pass
        curves_out.append(both.iloc[:grid.size].assign(subgroup=name, arm=arm, n_at_risk=n_at_risk(dur[m], grid, None if persons is None else persons[m])))
        arms[arm] = dict(mask=m, cl=cl[m], last=float(dur[m].max()),
                         share=both["estimate"].to_numpy()[grid.size:], share_infl=aj.influence(1, hs),
                         rmst=np.asarray(hs) - aj.rmtl(1, hs)["estimate"].to_numpy(),
                         rmst_infl=-aj.rmtl_influence(1, hs))
    diff_cl = np.r_[arms["treated"]["cl"], arms["control"]["cl"]]
    own = c_col is None   # each row its own cluster: the sum of squared influences
    for i, h in enumerate(horizons):
        if any(h > a["last"] for a in arms.values()):
            notes.append(f"{name}: horizon {h:g} days is beyond the follow-up of one arm; not estimated.")
            for est_name in ("share_treated", "share_control", "share_diff",
                             "rmst_treated", "rmst_control", "rmst_diff"):
                rows.append(row(est_name, h, np.nan, np.nan, np.nan, SE_INFLUENCE))
            continue
        for est_name in ("share", "rmst"):
            est = {arm: float(a[est_name][i]) for arm, a in arms.items()}
            vals = {arm: a[f"{est_name}_infl"][:, i] for arm, a in arms.items()}
            for arm in ("treated", "control"):
                rows.append(row(f"{est_name}_{arm}", h, est[arm], _cluster_se(vals[arm], arms[arm]["cl"], own),
                                np.nan, SE_INFLUENCE))
            # the difference: treated influence minus control influence, summed within matched sets
            diff_infl = np.r_[vals["treated"], -vals["control"]]
            d = est["treated"] - est["control"]
            se = _cluster_se(diff_infl, diff_cl, own)
            rows.append(row(f"{est_name}_diff", h, d, se, _p(d, se), SE_INFLUENCE))
            infl[(name, f"{est_name}_diff", h)] = (diff_infl, diff_cl)

    if counts["events_treated"] == 0 or counts["events_control"] == 0:
        notes.append(f"{name}: no exits to work or studies in one arm; hazard ratio not estimable.")
        for estimand in ("hazard_ratio", "time_ratio") + (("subdistribution_hazard_ratio",) if subdistribution else ()):
            rows.append(row(estimand, np.nan, np.nan, np.nan, np.nan, sandwich))
        return rows, pd.concat(curves_out, ignore_index=True), infl
    # without matched sets each row is its own cluster: the models' robust variance (R's
    # robust=TRUE), without factorising a cluster column of distinct values
    model_df, terms = _model_frame(dur, cause == 1, t, w, X, cl if c_col else None)
    robust, mcl = (None, "cluster") if c_col else (True, None)
    fits: dict[str, Any] = {
        "hazard_ratio": CoxPH(ties="efron", robust=robust).fit(
            model_df, duration="duration", event="event", covariates=terms, weights="w", cluster=mcl)}
    # subdistribution hazard of work or studies (Fine-Gray): other exits stay in the risk set
    if subdistribution:
        fits["subdistribution_hazard_ratio"] = fine_gray(
            model_df.assign(cause=cause, cluster=cl), "duration", "cause", 1, covariates=terms,
            weights="w", cluster="cluster", causes=[1, 2])
    # accelerated failure time (Weibull): time to work or studies, other exits censoring it
    fits["time_ratio"] = AFT(dist="weibull", robust=robust).fit(
        model_df, duration="duration", event="event", covariates=terms, weights="w", cluster=mcl)
    for estimand, f in fits.items():
        s = f.summary().set_index("term").loc["treated"]
        b, se = float(s["estimate"]), float(s["se"])
        rows.append(dict(row(estimand, np.nan, float(np.exp(b)), se, _p(b, se), sandwich),
                         ci_low=float(np.exp(b - z * se)), ci_high=float(np.exp(b + z * se))))
        infl[(name, f"log_{estimand}", np.nan)] = (np.array([b]), np.array([se]))
    return rows, pd.concat(curves_out, ignore_index=True), infl


def _days_not_in(times: np.ndarray, cif: np.ndarray, h: float) -> float:
    """Restricted mean days not yet in work or studies up to ``h``: ``h`` minus the area under
    the step function ``cif`` that jumps at ``times <= h`` (point estimate only)."""
    widths = np.diff(np.r_[times, h])
    return h - float(cif @ widths)


def _codes_cov(influences: list[np.ndarray], clusters: list[np.ndarray], general: Any) -> np.ndarray:
    """``cluster_cov`` (influences summed within clusters, cross-product) for clusters given as
    integer codes >= 0 shared by all the influences: one bincount each, no factorising of the
    concatenated labels; other labels go to ``general`` (``impact.effects._means.cluster_cov``)."""
    if not all(c.dtype.kind in "iu" for c in clusters) or any(c.size and int(c.min()) < 0 for c in clusters):
        return np.asarray(general(influences, clusters))
    n_cl = max((int(c.max()) + 1 for c in clusters if c.size), default=0)
    sums = np.zeros((n_cl, len(influences)))
    for j, (v, c) in enumerate(zip(influences, clusters)):
        sums[:, j] = np.bincount(c, weights=np.asarray(v, float), minlength=n_cl)
    return sums.T @ sums


def n_at_risk(durations: np.ndarray, times: np.ndarray, persons: np.ndarray | None = None) -> np.ndarray:
    """The people still under observation just before each time (duration ``>= t``), unweighted,
    as lifelines' ``event_table`` ``at_risk``: what the publication cuts a curve on
    (:func:`impact.publish.curves_published`). ``persons``: integer person codes of the rows (one
    person in several rows is at risk while its longest row is); None: each row a person."""
    if persons is not None and durations.size:
        durations = last_exit(durations, persons)
    return (durations.size - np.searchsorted(np.sort(durations), times, side="left")).astype(np.int64)


def last_exit(stops: np.ndarray, persons: np.ndarray) -> np.ndarray:
    """Each person's longest follow-up among its rows (one value per person that has rows)."""
    top = np.full(int(persons.max()) + 1, -np.inf)
    np.maximum.at(top, persons, stops)
    return top[np.isfinite(top)]


def person_codes(data: pd.DataFrame, persons: str | None) -> np.ndarray | None:
    """The ``persons`` column as integer codes (None without it); missing identifiers raise."""
    if persons is None:
        return None
    check_columns(data, [persons], role="person identifier")
    col = data[persons]
    if col.isna().any():
        raise data_error(persons, "person identifiers must not be missing", col.isna().to_numpy(),
                         "Give every row its person's identifier, or pass persons=None.")
    return pd.factorize(col, sort=False)[0].astype(np.int64, copy=False)


def _cluster_se(influence: np.ndarray, clusters: np.ndarray, own: bool = False) -> float:
    """``sqrt(sum_g (sum_{i in g} influence_i)^2)``; ``clusters``: integer codes >= 0 (not
    necessarily dense) or any labels; ``own``: every row in a cluster of its own (no sums)."""
    if own:
        return float(np.sqrt(np.dot(influence, influence)))
    if clusters.dtype.kind in "iu" and (clusters.size == 0 or int(clusters.min()) >= 0):
        codes = clusters
    else:
        codes = pd.factorize(pd.Series(clusters), sort=False)[0]
    sums = np.bincount(codes, weights=influence)
    return float(np.sqrt(np.sum(sums ** 2)))


def _p(est: float, se: float) -> float:
    if not np.isfinite(se) or se <= 0:
        return np.nan
    return float(2 * stats.norm.sf(abs(est / se)))


def _difference_tests(rows: list[Row], infl: Influence, a: str, b: str, z: float,
                      sandwich: str = SE_SANDWICH) -> list[Row]:
    """Test of whether the effect differs between subgroups ``a`` and ``b``.

    Share differences: the influence functions of the two subgroup estimates are summed within
    matched sets, so sets that span both subgroups are handled. Hazard ratios come from
    separate fits; they are treated as independent, which holds when matching was exact on the
    subgroup (no matched set spans both).
    """
    out: list[Row] = []
    label = f"{a} - {b}"
    for (name, estimand, h), (vals, cl) in list(infl.items()):
        if name != a or estimand not in ("share_diff", "rmst_diff") or (b, estimand, h) not in infl:
            continue
        vb, cb = infl[(b, estimand, h)]
        ea = next(r["estimate"] for r in rows if r["subgroup"] == a and r["estimand"] == estimand and r["horizon"] == h)
        eb = next(r["estimate"] for r in rows if r["subgroup"] == b and r["estimand"] == estimand and r["horizon"] == h)
        d = ea - eb
        se = _cluster_se(np.r_[vals, -vb], np.r_[cl, cb])
        out.append(dict(subgroup=label, estimand=estimand, horizon=h, estimate=d, se=se,
                        ci_low=d - z * se, ci_high=d + z * se, p_value=_p(d, se), se_method=SE_INFLUENCE))
    for estimand in _RATIOS:
        la = next((v for k, v in infl.items() if k[0] == a and k[1] == f"log_{estimand}"), None)
        lb = next((v for k, v in infl.items() if k[0] == b and k[1] == f"log_{estimand}"), None)
        if la is None or lb is None:
            continue
        diff = float(la[0][0] - lb[0][0])
        se = float(np.hypot(la[1][0], lb[1][0]))
        out.append(dict(subgroup=label, estimand=estimand, horizon=np.nan, estimate=float(np.exp(diff)),
                        se=se, ci_low=float(np.exp(diff - z * se)), ci_high=float(np.exp(diff + z * se)),
                        p_value=_p(diff, se), se_method=sandwich))
    return out


# ---- bootstrap over matched sets ------------------------------------------------------------

Groups = list[tuple[str, np.ndarray, np.ndarray | None]]   # name, row mask, adjustment matrix of its rows


def _arrays(data: pd.DataFrame, duration: str, event: str, treatment: str, w_col: str | None,
            c_col: str | None) -> dict[str, np.ndarray]:
    ev = data[event].to_numpy()
    cl = data[c_col].to_numpy() if c_col else np.arange(len(data))
    return dict(dur=data[duration].to_numpy(float),
                cause=np.where(ev == CENSORED, 0, np.where(ev == EVENT, 1, 2)),
                t=data[treatment].to_numpy() == 1,
                w=data[w_col].to_numpy(float) if w_col else np.ones(len(data)),
                cl=pd.factorize(pd.Series(cl), sort=True)[0])


_NO_HORIZON = -1.0  # horizon key of estimands without a horizon (NaN keys do not survive pickling)


def _log_ratios(a: dict[str, np.ndarray], w: np.ndarray, mask: np.ndarray,
                X: np.ndarray | None) -> dict[str, float]:
    """Log hazard ratio (Cox, Efron) and log time ratio (Weibull AFT) of treatment, for the rows
    of ``mask`` with weight > 0; NaN when a model cannot be fitted on them."""
    from impact.survival import AFT, CoxPH
    out = {"hazard_ratio": np.nan, "time_ratio": np.nan}
    keep = w[mask] > 0
    dur, ev1, t, ww = a["dur"][mask][keep], a["cause"][mask][keep] == 1, a["t"][mask][keep], w[mask][keep]
    if not ((ev1 & t).any() and (ev1 & ~t).any()):
        return out
    df, terms = _model_frame(dur, ev1, t, ww, None if X is None else X[keep])
    for estimand, model in (("hazard_ratio", CoxPH(ties="efron")), ("time_ratio", AFT(dist="weibull"))):
        try:
            fit = model.fit(df, duration="duration", event="event", covariates=terms, weights="w")
        except (EstimationError, DataError):   # e.g. an adjustment level absent from this replicate
            continue
        out[estimand] = float(fit.params_["treated"])
    return out


def _point_estimates(a: dict[str, np.ndarray], w: np.ndarray, groups: Groups,
                     horizons: tuple[float, ...]) -> dict[tuple[str, str, float], float]:
    """Point estimates only (no standard errors), on the working scale (log for ratios)."""
    from impact.survival import aalen_johansen
    out: dict[tuple[str, str, float], float] = {}
    for name, mask, X in groups:
        per_arm: dict[str, tuple[np.ndarray, np.ndarray, float] | None] = {}
        for arm, m in (("treated", a["t"]), ("control", ~a["t"])):
            keep = mask & m & (w > 0)
            if not keep.any() or not (a["cause"][keep] > 0).any():
                per_arm[arm] = None
                continue
            aj = aalen_johansen(a["dur"][keep], a["cause"][keep], weights=w[keep], causes=[1, 2])
            per_arm[arm] = (aj.table["time"].to_numpy(), aj.table["cif_1"].to_numpy(), aj.last_time)
        for h in horizons:
            vals: dict[str, tuple[float, float]] = {}
            for arm, tab in per_arm.items():
                if tab is None or h > tab[2]:
                    vals[arm] = (np.nan, np.nan)
                    continue
                times, F, _ = tab
                upto = times <= h
                share = float(F[upto][-1]) if upto.any() else 0.0
                vals[arm] = (share, _days_not_in(times[upto], F[upto], h))
            for i, est in enumerate(("share", "rmst")):
                out[(name, f"{est}_treated", h)] = vals["treated"][i]
                out[(name, f"{est}_control", h)] = vals["control"][i]
                out[(name, f"{est}_diff", h)] = vals["treated"][i] - vals["control"][i]
        for estimand, b in _log_ratios(a, w, mask, X).items():
            out[(name, estimand, _NO_HORIZON)] = b
    if len(groups) == 3:
        ga, gb = groups[1][0], groups[2][0]
        for (name, est, h), v in list(out.items()):
            if name == ga and est in ("share_diff", "rmst_diff", "hazard_ratio", "time_ratio"):
                out[(f"{ga} - {gb}", est, h)] = v - out[(gb, est, h)]
    return out


def _replicates(a: dict[str, np.ndarray], groups: Groups, horizons: tuple[float, ...],
                seeds: Sequence[np.random.SeedSequence], keys: list[tuple[str, str, float]]) -> np.ndarray:
    n_cl = int(a["cl"].max()) + 1
    res = np.empty((len(seeds), len(keys)))
    for i, ss in enumerate(seeds):
        rng = np.random.default_rng(ss)
        counts = np.bincount(rng.integers(0, n_cl, n_cl), minlength=n_cl)
        est = _point_estimates(a, a["w"] * counts[a["cl"]], groups, horizons)
        res[i] = [est.get(k, np.nan) for k in keys]
    return res


def _bootstrap(a: dict[str, np.ndarray], groups: Groups, horizons: tuple[float, ...], n_boot: int,
               random_state: int | np.random.Generator | None, n_jobs: int,
               progress: bool) -> tuple[list[tuple[str, str, float]], np.ndarray]:
    from joblib import Parallel, delayed
    from impact._progress import progress_class
    tqdm = progress_class()
    keys = list(_point_estimates(a, a["w"], groups, horizons))
    seeds = spawn_seeds(random_state, n_boot)   # replicate b uses child b, whatever n_jobs is
    chunk = 10
    chunks = [seeds[i:i + chunk] for i in range(0, n_boot, chunk)]
    jobs = (delayed(_replicates)(a, groups, horizons, c, keys) for c in chunks)
    parts = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    bar = tqdm(parts, total=len(chunks), disable=not progress, desc="bootstrap", unit=f"x{chunk}")
    return keys, np.vstack(list(bar))


def _apply_bootstrap(table: pd.DataFrame, boot: tuple[list[tuple[str, str, float]], np.ndarray],
                     conf_level: float) -> tuple[pd.DataFrame, list[str]]:
    """Bootstrap SEs and percentile intervals for every re-estimated row; the rows that kept their
    first SE for want of usable replicates are named in the second return value."""
    keys, reps = boot
    alpha = 1 - conf_level
    table = table.copy()
    index = {key: i for i, key in enumerate(keys)}
    kept: list[str] = []
    for r in table.itertuples():
        k = (str(r.subgroup), str(r.estimand), float(r.horizon) if np.isfinite(r.horizon) else _NO_HORIZON)
        if k not in index:
            continue
        if not np.isfinite(r.estimate):
            table.loc[r.Index, "se_method"] = SE_BOOTSTRAP   # not estimable: nothing to resample
            continue
        x = reps[:, index[k]]
        x = x[np.isfinite(x)]
        if x.size < 10:
            kept.append(f"{k[0]} {k[1]}" + (f" {k[2]:g}d" if k[2] != _NO_HORIZON else ""))
            continue
        lo, hi = np.quantile(x, [alpha / 2, 1 - alpha / 2])
        se = float(np.std(x, ddof=1))
        log_scale = str(r.estimand).endswith("_ratio")
        est_w = np.log(r.estimate) if log_scale else r.estimate
        table.loc[r.Index, ["se", "ci_low", "ci_high"]] = [se, np.exp(lo) if log_scale else lo,
                                                           np.exp(hi) if log_scale else hi]
        table.loc[r.Index, "se_method"] = SE_BOOTSTRAP
        if not np.isnan(r.p_value) or str(r.estimand).endswith("diff") or log_scale:
            table.loc[r.Index, "p_value"] = _p(est_w, se)
    return table, kept
