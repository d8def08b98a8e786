"""Beyond time to the first exit, in the main flow: time in states, the effect curve, AIPTW shares and
sensitivity to hidden bias (issue 12), each an ordinary public function applied to the matched data.

* :func:`state_outcomes`: :func:`impact.registers.time_in_states` on the analysed set memberships
  (days in work or studies within each horizon, months with each benefit after the start month);
* :func:`follow_up_samples`: for each such outcome, the matched sets whose window ends by the
  cut-off, nested (each step keeps the sets of the previous one), with the flow steps that count
  the drop;
* :func:`mean_effects`: :func:`impact.estimate_effects` with ``outcome=`` (mean differences by
  gender, SEs clustered on matched sets);
* :func:`curve_of`, :func:`aiptw_of`, :func:`rosenbaum_of`, :func:`placebo_of`, :func:`evalues_of`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd

from impact._errors import EstimationError, ParameterError
from impact._validation import Constraint
from impact.data import Flow
from impact.effects import EffectsResult, ate_competing, effect_curve, estimate_effects
from impact.registers import RegisterExtract, benefit_column, time_in_states, work_column

__all__ = ["NumberList", "check_benefits", "state_outcomes", "follow_up_samples", "mean_effects", "curve_of",
           "aiptw_of", "rosenbaum_of", "check_placebo", "placebo_of", "evalues_of", "outcome_summary",
           "TIME_TO_EVENT", "ESTIMATORS", "AFTER_INDEX"]

#: the name of the time-to-event outcome in a combined summary
TIME_TO_EVENT = "time_to_work_or_studies"
#: the estimators of ate_competing, in the order they are reported
ESTIMATORS = ("gformula", "iptw", "aiptw")
#: columns of the analysed data measured on or after the index date (never placebo outcomes)
AFTER_INDEX = ("duration", "event", "work_or_studies", "role", "cause", "code", "exit_date", "end", "censor_at",
               "index_date", "entering", "subclass", "weights", "distance", "times_used", "entry")


class NumberList(Constraint):
    """A sequence (possibly empty) of numbers ``>= low`` (whole numbers with ``integer=True``)."""

    def __init__(self, low: float, integer: bool, text: str, empty: bool = True) -> None:
        self.low, self.integer, self.text, self.empty = low, integer, text, empty

    def is_satisfied_by(self, value: Any) -> bool:
        if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray, pd.Series)):
            return False
        vals = list(value)
        kind = Integral if self.integer else Real
        return (self.empty or len(vals) > 0) and all(
            isinstance(v, kind) and not isinstance(v, bool) and np.isfinite(float(v)) and float(v) >= self.low
            for v in vals)

    def describe(self) -> str:
        return self.text

    def invalid(self) -> list[Any]:
        return [7, [self.low - 1], ["x"]] + ([[1.5]] if self.integer else [])


def check_benefits(extract: RegisterExtract, benefit_months: int | None, benefits: Sequence[str] | None) -> None:
    """Before any work: the benefit registers asked for are in the extract."""
    if benefit_months is not None and not extract.benefits:
        raise ParameterError("The 'benefit_months' parameter of evaluate needs a benefit register in the extract "
                             "(RegisterExtract(benefits={'economic_assistance': ...})); this extract has none.")
    if benefits is not None:
        unknown = [b for b in benefits if b not in extract.benefits]
        if unknown:
            raise ParameterError(f"The 'benefits' parameter of evaluate names registers the extract does not have: "
                                 f"{', '.join(unknown)}. Valid: {', '.join(extract.benefits) or 'none'}.")


def state_outcomes(extract: RegisterExtract, analysed: pd.DataFrame, *, time_in_work: Sequence[int],
                   benefit_months: int | None, benefits: Sequence[str] | None) -> tuple[pd.DataFrame, list[str]]:
    """The analysed rows with the time-in-states columns, and those columns' names (in the order asked)."""
    hs = sorted({int(h) for h in time_in_work})
    if not hs and benefit_months is None:
        return analysed, []
    check_benefits(extract, benefit_months, benefits)
    names = list(extract.benefits) if benefits is None else list(benefits)
    start = pd.to_datetime(analysed["index_date"])
    longest = int((extract.cutoff - start.min()).days) + 1 if len(analysed) else 0
    too_long = [h for h in hs if h > longest]
    if too_long:
        raise ParameterError(f"The 'time_in_work' parameter of evaluate has a horizon beyond follow-up: "
                             f"{too_long[0]} days; the earliest programme start analysed is followed for "
                             f"{longest} days to the cut-off {extract.cutoff.date()}. Use shorter horizons.")
    if benefit_months is not None and len(analysed):
        first = start.min()
        cut = extract.cutoff
        full = cut.year * 12 + cut.month - 1 - (0 if (cut + pd.Timedelta(days=1)).month != cut.month else 1)
        most = full - (first.year * 12 + first.month - 1)
        if benefit_months > most:
            raise ParameterError(f"The 'benefit_months' parameter of evaluate is beyond follow-up: {benefit_months} "
                                 f"months after the start month; at most {max(most, 0)} whole months are observed "
                                 f"after the earliest start before the cut-off {cut.date()}.")
    st = time_in_states(extract, analysed, horizons=hs or None, months=benefit_months, benefits=names)
    cols = [work_column(h) for h in hs] + ([benefit_column(b, benefit_months) for b in names]
                                           if benefit_months is not None else [])
    clash = [c for c in [*cols, "follow_up_days", "follow_up_months"] if c in analysed.columns]
    out = pd.concat([analysed.drop(columns=clash), st], axis=1)
    return out, cols


def follow_up_samples(analysed: pd.DataFrame, outcomes: Sequence[str], *,
                      treatment: str) -> tuple[dict[str, pd.DataFrame], Flow]:
    """Each outcome's rows with complete follow-up, and their flow (in set memberships).

    Steps: ``"analysed (set memberships)"``, then ``"followed up: <outcome column>"`` per outcome.

    The outcomes are taken from the most to the least fully observed and each step keeps the sets of
    the previous one, so the steps are a chain from the analysed set memberships (no step adds
    people). Matched sets share their participant's start date and so stay whole.
    """
    flow = Flow().add("analysed (set memberships)", "", analysed, analysed, treatment=treatment)
    if not outcomes:
        return {}, flow
    order = sorted(outcomes, key=lambda c: -int(analysed[c].notna().sum()))
    keep = np.ones(len(analysed), dtype=bool)
    samples: dict[str, pd.DataFrame] = {}
    before = analysed
    for col in order:
        ok = analysed[col].notna().to_numpy() & keep
        whole = pd.Series(ok).groupby(analysed["subclass"].to_numpy()).transform("all").to_numpy(dtype=bool)
        keep = ok & whole
        rows = analysed[keep]
        flow = flow.add(f"followed up: {col}",
                        "the window of the outcome passes the data cut-off (not fully observed); matched sets "
                        "are kept or dropped whole", before, rows, treatment=treatment)
        before = rows
        samples[col] = rows.reset_index(drop=True)
    return {c: samples[c] for c in outcomes}, flow


def mean_effects(samples: Mapping[str, pd.DataFrame], *, treatment: str, gender: str,
                 conf_level: float, adjust: Sequence[str] = ()) -> dict[str, EffectsResult]:
    """Mean differences of each outcome on its own sample, for all and by gender (clustered on sets).

    With ``adjust`` (the matching covariates) each is regression-adjusted on the matched sample
    (``lm(y ~ treat * (covariates centred at the participants' means))``, as MatchIt advises):
    in simulation this removes the bias of 2:1 matching with scarce controls and the
    conservative SE of 1:1 matching (benchmarks/simulate_coverage.py). Where the adjustment is
    not of full rank in a group (a level no participant has), the unadjusted difference is
    given instead, and a note says so.
    """
    out: dict[str, EffectsResult] = {}
    for col, rows in samples.items():
        if not len(rows) or rows[treatment].nunique() < 2:
            raise ParameterError(f"The 'time_in_work' parameter of evaluate leaves no matched set with complete "
                                 f"follow-up for '{col}'; use a shorter horizon.")
        kw: dict[str, Any] = dict(outcome=col, treatment=treatment, by=gender, weights="weights",
                                  cluster="subclass", conf_level=conf_level)
        try:
            out[col] = estimate_effects(rows, adjust=list(adjust) or None, **kw)
        except EstimationError:
            if not adjust:
                raise
            res = estimate_effects(rows, **kw)
            note = (f"{col}: the regression adjustment is not of full rank in some group (a covariate "
                    "constant within one arm); the unadjusted mean difference is shown.")
            out[col] = replace(res, notes=(*res.notes, note))
    return out


def outcome_summary(effects: EffectsResult, outcome_effects: Mapping[str, EffectsResult],
                    aiptw: pd.DataFrame | None) -> pd.DataFrame:
    """One tidy table: the time-to-event rows, each mean outcome's rows (``horizon`` = the window of
    ``days_in_work_<h>``) and the AIPTW shares (estimands ``<estimator>_share_diff`` ...), with an
    ``outcome`` column; without further outcomes, the time-to-event table as it is."""
    base = effects.summary()
    if not outcome_effects and (aiptw is None or not len(aiptw)):
        return base
    parts = [base.assign(outcome=TIME_TO_EVENT)]
    for col, res in outcome_effects.items():
        t = res.summary().assign(outcome=col)
        if col.startswith("days_in_work_"):
            t["horizon"] = float(col.rsplit("_", 1)[1])
        parts.append(t)
    if aiptw is not None and len(aiptw):
        parts.append(aiptw.assign(outcome=TIME_TO_EVENT).drop(columns=["estimator"]))
    out = pd.concat(parts, ignore_index=True)
    return out[["outcome", *[c for c in out.columns if c != "outcome"]]]


def curve_of(analysed: pd.DataFrame, *, treatment: str, gender: str, conf_level: float, seed: int,
             persons: str | None = None) -> Any:
    """The difference in cumulative incidence over days, with pointwise intervals and a simultaneous band
    (``persons``: numbers at risk count persons, not set memberships)."""
    return effect_curve(analysed, duration="duration", event="event", treatment=treatment, by=gender,
                        weights="weights", cluster="subclass", conf_level=conf_level, random_state=seed,
                        persons=persons)


def _groups(analysed: pd.DataFrame, gender: str) -> list[tuple[str, pd.DataFrame]]:
    return [("all", analysed)] + [(str(g), d) for g, d in analysed.groupby(gender, observed=True, sort=True)]


def aiptw_of(analysed: pd.DataFrame, *, treatment: str, gender: str, covariates: Sequence[str],
             horizons: Sequence[float], conf_level: float,
             cluster: str | None = None) -> tuple[pd.DataFrame, list[str]]:
    """G-formula, IPTW and AIPTW shares in work or studies at each horizon, other exits competing.

    On the matched sample, for all and each gender (covariates constant within a group are left
    out), with the difference between the two genders (independent groups: a person's gender is
    fixed, so no ``cluster`` spans both). With ``cluster`` (the person id in the dynamic design,
    where one person can be a control in several sets, or a control before joining) the standard
    errors sum the influence functions within each person. Returns the tidy
    table (``subgroup, estimator, estimand, horizon, estimate, se, ci_low, ci_high, p_value,
    n_treated, n_control``) and notes.
    """
    from scipy import stats
    z = float(stats.norm.ppf(0.5 + conf_level / 2))
    names = {"control": "share_control", "treated": "share_treated", "treated - control": "share_diff"}
    rows: list[pd.DataFrame] = []
    notes: list[str] = []
    levels: list[str] = []
    for g, d in _groups(analysed, gender):
        covs = [c for c in covariates if c != gender and d[c].nunique(dropna=False) > 1]
        ok = [float(h) for h in horizons if h < float(d["duration"].max())]
        if not ok or d[treatment].nunique() < 2 or not (d["event"] == 1).any():
            notes.append(f"AIPTW shares not estimated for {g}: too little follow-up or no exits to work or studies.")
            continue
        res = ate_competing(d, "duration", "event", treatment, covs, horizons=ok, estimator=ESTIMATORS,
                            conf_level=conf_level, cluster=cluster)
        t = res.summary()
        t["estimand"] = t.pop("arm").map(names)
        t.insert(0, "subgroup", g)
        t["n_treated"] = int((d[treatment] == 1).sum())
        t["n_control"] = int((d[treatment] == 0).sum())
        rows.append(t)
        if g != "all":
            levels.append(g)
        else:  # the models, once (the groups' differ only in the covariates left out)
            notes += [f"AIPTW shares (all): {n}" for n in res.notes]
    if not rows:
        return pd.DataFrame(), notes
    table = pd.concat(rows, ignore_index=True)
    if len(levels) == 2:
        a, b = levels
        diff = table[table["estimand"] == "share_diff"]
        ta, tb = (diff[diff["subgroup"] == x].set_index(["estimator", "horizon"]) for x in (a, b))
        both = ta.join(tb, lsuffix="_a", rsuffix="_b", how="inner")
        est = both["estimate_a"] - both["estimate_b"]
        se = np.sqrt(both["se_a"] ** 2 + both["se_b"] ** 2)
        d2 = pd.DataFrame({"subgroup": f"{a} - {b}", "estimand": "share_diff", "estimate": est, "se": se,
                           "ci_low": est - z * se, "ci_high": est + z * se,
                           "p_value": 2 * stats.norm.sf(np.abs(est / se))}).reset_index()
        table = pd.concat([table, d2], ignore_index=True)
    cols = ["subgroup", "estimator", "estimand", "horizon", "estimate", "se", "ci_low", "ci_high", "p_value",
            "n_treated", "n_control"]
    table["estimand"] = table["estimator"] + "_" + table["estimand"]
    order = {e: i for i, e in enumerate(ESTIMATORS)}
    table = table.assign(_o=table["estimator"].map(order)).sort_values(["_o", "horizon"], kind="stable")
    return table[cols].reset_index(drop=True), notes


def rosenbaum_of(analysed: pd.DataFrame, *, treatment: str, gender: str, horizons: Sequence[float],
                 gammas: Sequence[float]) -> tuple[pd.DataFrame, list[str]]:
    """Rosenbaum bounds on "in work or studies by day h", for all and each gender, at each horizon."""
    from impact.sensitivity import rosenbaum_bounds
    rows = []
    notes: list[str] = []
    for g, d in _groups(analysed, gender):
        for h in horizons:
            if h > float(d["duration"].max()):
                notes.append(f"Rosenbaum bounds: day {h:g} is beyond the follow-up of {g}.")
                continue
            r = rosenbaum_bounds(d, treatment=treatment, cluster="subclass", duration="duration", event="event",
                                 horizon=float(h), gamma=list(gammas))
            t = r.summary().assign(subgroup=g, horizon=float(h), gamma_critical=r.gamma_critical, n_sets=r.n_sets,
                                   n_informative=r.n_informative, alternative=r.alternative)
            rows.append(t)
    if not rows:
        return pd.DataFrame(), notes
    out = pd.concat(rows, ignore_index=True)
    return out[["subgroup", "horizon", "gamma", "p_upper", "p_lower", "gamma_critical", "alternative", "n_sets",
                "n_informative"]], notes


def check_placebo(placebo: Sequence[str], matched_on: Sequence[str]) -> None:
    """Before any work: a placebo outcome is fixed before the start and was not matched on."""
    after = [c for c in placebo if c in AFTER_INDEX or c.startswith(("days_in_work_", "follow_up_"))
             or "_months_after_" in c]
    if after:
        raise ParameterError(f"The 'placebo' parameter of evaluate names columns measured on or after the index "
                             f"date: {', '.join(after)}. A placebo outcome is fixed before the start (e.g. a "
                             "history column not matched on).")
    matched = [c for c in placebo if c in matched_on]
    if matched:
        raise ParameterError(f"The 'placebo' parameter of evaluate names columns that were matched on: "
                             f"{', '.join(matched)}; they are balanced by construction. Use a column fixed before "
                             "the start that is not among the covariates (or leave it out of [design] covariates).")


def placebo_of(analysed: pd.DataFrame, placebo: Sequence[str], *, treatment: str, gender: str,
               covariates: Sequence[str], outcomes: Sequence[str], conf_level: float) -> Any:
    """Placebo outcomes: columns fixed before the index date and not matched on."""
    from impact.sensitivity import placebo_outcomes
    check_placebo(placebo, [*covariates, gender])
    missing = [c for c in placebo if c not in analysed.columns]
    if missing:
        valid = [c for c in analysed.columns if c not in AFTER_INDEX and c not in outcomes and c not in covariates
                 and pd.api.types.is_numeric_dtype(analysed[c])]
        raise ParameterError(f"The 'placebo' parameter of evaluate names columns that are not in the matched data: "
                             f"{', '.join(missing)}. Valid (numeric, before the start, not matched on): "
                             f"{', '.join(valid) or 'none: every history column was matched on'}.")
    return placebo_outcomes(analysed, list(placebo), treatment=treatment, covariates=list(covariates), by=gender,
                            weights="weights", cluster="subclass", conf_level=conf_level)


def evalues_of(effects: EffectsResult) -> Any:
    """E-values of the hazard ratio, risk ratio and risk difference at each horizon."""
    from impact.sensitivity import evalues
    return evalues(effects)
