"""The whole evaluation in one call: validate, match, check balance, outcomes, effects, goals and
monitoring.

Each step is an ordinary public function (:func:`impact.validate`, :func:`impact.match`,
:func:`impact.time_to_event`, :func:`impact.estimate_effects`, :func:`impact.goal_fulfilment`,
:func:`impact.pipeline.monitoring_tables`); :func:`evaluate` only chains them and keeps the flow
table, so what it does can be repeated step by step in a notebook.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from impact._errors import ParameterError
from impact._validation import (InstanceOf, Interval, Options, check_columns, check_random_state,
                                validate_params)
from impact.data import Flow, Roles, Validated, require_subgroup_levels, validate
from impact.effects import EffectsResult, estimate_effects
from impact.labels import LANGS, Lang
from impact.outcomes import time_to_event
from impact.pipeline._monitoring import default_period, fingerprints, monitoring_tables, records_of
from impact.pipeline._outcomes import (NumberList, aiptw_of, check_benefits, check_placebo, curve_of, evalues_of,
                                       follow_up_samples, mean_effects, outcome_summary, placebo_of, rosenbaum_of,
                                       state_outcomes)
from impact.pipeline._registers import _default_covariates
from impact.pipeline._registers import (ESTIMAND_NOTES, IPCW_NOTE, TREATMENT, cause_shares, effects_of,
                                        extract_fingerprints, flow_details, naive_registers, registers_flow,
                                        registers_roles, run_registers, truth_for, unknown_sensitivity,
                                        validated_of, with_notes)
from impact.pipeline._progress import Progress
from impact.registers import RegisterExtract

__all__ = ["Evaluation", "evaluate"]

_PERIODS = {"month": "M", "quarter": "Q", "year": "Y"}
Method = Literal["nearest", "optimal", "cem", "exact", "subclass", "ipw", "riskset"]


@dataclass(frozen=True)
class Evaluation:
    """Everything an evaluation produced, step by step.

    Attributes
    ----------
    validated : Validated
        The checked input (``.data``) and the first steps of the flow.
    matching : MatchResult
        The design: ``.matched_data``, ``.balance()``, ``.notes``.
    analysed : DataFrame
        The matched sample with ``duration``, ``event`` and ``exit_cause``.
    effects : EffectsResult
        Effects for all and by ``roles.subgroup`` (e.g. women and men).
    naive : EffectsResult
        The same estimands without matching, for comparison.
    flow : Flow
        Counts from everyone eligible to everyone analysed.
    settings : dict
        Every setting the evaluation ran with (shown in the report's methods and footer).
    truth : DataFrame or None
        Known true effects (synthetic data only).
    subgroup_effects : dict of str -> EffectsResult
        Effects by each further subgroup column (a matched set belongs to its participant's level).
    goals : GoalFulfilment or None
        The goal-fulfilment table, when goals were given.
    monitoring : dict of str -> result
        Monitoring tables by name (see :func:`monitoring_tables`).
    lang : {"en", "sv"}
        Language of the report.
    config : dict or None
        The evaluation file as read, when the evaluation came from one.
    report_path : Path or None
        The ``report.html`` that :func:`run` wrote (None from :func:`evaluate`).
    design : {"riskset", "cross-sectional"}
        Which design ran: the dynamic (risk-set) design of a register extract, or the
        cross-sectional match of one row per person.
    flow_details : dict of str -> DataFrame
        Risk-set design only: ``periods`` (registered, at risk, starting, treated and controls per
        period), ``steps`` (persons and person-periods from the extract to the treated rows),
        ``unmatched`` (participants left unmatched, by period and reason) and ``contamination``
        (controls who later joined the programme, and how many were censored for it); with
        time-in-states outcomes also ``follow_up``: a flow (set memberships) from the analysed
        sample to the matched sets with complete follow-up for each outcome, with the reason.
    sensitivity_unknown : DataFrame or None
        Risk-set design only: the headline rerun with unknown-reason exits as censored, as
        competing and as work (``unknown_as``; ``headline`` marks the coding of the main result).
    cause_shares : DataFrame or None
        Risk-set design only: shares in work (all work, unsubsidised, subsidised) and in studies
        at each horizon, each cause as the event and every other exit competing.
    outcome_effects : dict of str -> EffectsResult
        Risk-set design only: the mean differences (estimand ``mean_diff``, for all, women, men and
        women minus men) of each time-in-states outcome (``days_in_work_<h>``,
        ``<benefit>_months_after_<m>m``), each on its matched sets with complete follow-up.
    effect_curve : EffectCurveResult or None
        Risk-set design only (``curve=True``): the difference in the share in work or studies over
        days since start, with pointwise intervals and a simultaneous band.
    aiptw : DataFrame or None
        Risk-set design only (``aiptw=True``): G-formula, IPTW and AIPTW shares at each horizon
        (estimands ``<estimator>_share_treated``, ``_share_control``, ``_share_diff``).
    evalues : EValueResult or None
        ``evalue=True``: E-values of the hazard ratio and of the share ratio and difference.
    rosenbaum : DataFrame or None
        ``rosenbaum=True``: Rosenbaum bounds on "in work or studies by day h" for each Gamma.
    placebo : PlaceboResult or None
        ``placebo=[...]``: mean differences on columns fixed before the start, with a verdict.

    An Evaluation is never changed after it is made: :func:`run` returns a new one with
    ``report_path`` set (``dataclasses.replace``).
    """

    validated: Validated
    matching: Any
    analysed: pd.DataFrame
    effects: EffectsResult
    naive: EffectsResult
    flow: Flow
    settings: dict = field(default_factory=dict)
    truth: pd.DataFrame | None = None
    subgroup_effects: dict = field(default_factory=dict)
    goals: Any = None
    monitoring: dict = field(default_factory=dict)
    lang: str = "en"
    config: dict | None = None
    report_path: Path | None = None
    design: str = "cross-sectional"
    flow_details: dict = field(default_factory=dict)
    sensitivity_unknown: pd.DataFrame | None = None
    cause_shares: pd.DataFrame | None = None
    outcome_effects: dict = field(default_factory=dict)
    effect_curve: Any = None
    aiptw: pd.DataFrame | None = None
    evalues: Any = None
    rosenbaum: pd.DataFrame | None = None
    placebo: Any = None

    @property
    def roles(self) -> Roles:
        """The column roles the evaluation ran with."""
        return self.validated.roles

    def balance(self) -> Any:
        """The balance table of the matched groups (see :meth:`impact.MatchResult.balance`)."""
        return self.matching.balance()

    def summary(self) -> pd.DataFrame:
        """The tidy effect table (see :meth:`impact.effects.EffectsResult.summary`).

        With time-in-states outcomes or AIPTW shares, one table with an ``outcome`` column:
        ``"time_to_work_or_studies"`` for the time-to-event rows (and the AIPTW shares,
        estimands ``aiptw_share_diff`` ...), the outcome column for the ``mean_diff`` rows
        (``horizon`` is the window of ``days_in_work_<h>``).
        """
        return outcome_summary(self.effects, self.outcome_effects, self.aiptw)

    def __repr__(self) -> str:
        t = self.analysed[self.roles.treatment]
        extra = ""
        if self.goals is not None:
            extra += f"; {len(self.goals.table)} goals"
        if self.monitoring:
            extra += f"; monitoring: {', '.join(self.monitoring)}"
        what = "matched control set memberships" if self.design == "riskset" else "matched controls"
        return (f"Evaluation({int((t == 1).sum())} participants and {int((t == 0).sum())} {what} "
                f"analysed; {len(self.effects.table)} estimates{extra})")

    def _repr_html_(self) -> str:
        from impact._display import frame_html, notes_html, pairs_html, title_html

        t = self.analysed[self.roles.treatment]
        design = "risk-set (dynamic)" if self.design == "riskset" else "cross-sectional"
        head = [("design", design), ("estimand", self.settings.get("estimand", "ATT")),
                ("participants analysed", int((t == 1).sum())), ("controls analysed", int((t == 0).sum())),
                ("estimates", len(self.effects.table))]
        if self.goals is not None:
            head.append(("goals", len(self.goals.table)))
        counts = [c for c in self.effects.table.columns if c.startswith(("n_", "events_"))]
        return (f"<div>{title_html('impact.Evaluation')}{pairs_html(head)}"
                f"<p>Flow</p>{frame_html(self.flow.table())}"
                f"<p>Effects</p>{frame_html(self.effects.table, index=False, count_columns=counts)}"
                f"{notes_html(self.effects.notes)}</div>")



def _goals_and_monitoring(bar: Progress, records: dict, goals: Any, start: Any, end: Any,
                          lang: Lang) -> tuple[Any, dict[str, Any]]:
    goal_result = None
    if goals is not None:
        bar.start("goal fulfilment")
        from impact.monitor import goal_fulfilment
        goal_result = goal_fulfilment(records["participants"], goals, lang=lang)
        bar.done()
    tables: dict[str, Any] = {}
    if records:
        bar.start("monitoring tables")
        tables = monitoring_tables(records, start=start, end=end, lang=lang)
        bar.done()
    return goal_result, tables


def _period_labels(dates: pd.Series, freq: str) -> pd.Series:
    """``dates.dt.to_period(freq).astype(str)``, formatting each distinct period once."""
    periods = dates.dt.to_period(freq)
    codes, uniques = pd.factorize(periods)
    if (codes < 0).any():
        return periods.astype(str)
    return pd.Series(np.asarray(uniques.astype(str), dtype=object)[codes], index=dates.index, name=dates.name)


def _set_level(analysed: pd.DataFrame, column: str, treatment: str) -> pd.Series:
    """Each row's subgroup level, taken from the participant of its matched set.

    A control then counts in its participant's subgroup, so every matched set stays whole; without
    matched sets (weighting) each row keeps its own level.
    """
    own = analysed[column]
    own = own.where(own.notna(), "missing").astype(str)
    if "subclass" not in analysed.columns or analysed["subclass"].isna().any():
        return own
    treated = analysed[treatment] == 1
    level = own[treated].groupby(analysed.loc[treated, "subclass"]).first()
    return analysed["subclass"].map(level).fillna(own)


def _monitoring_inputs(monitoring: Any, start: Any, end: Any, goals: Any) -> tuple[dict[str, pd.DataFrame], Any, Any]:
    """The monitoring records and their period (the records' own when none is given), checked for goals."""
    records = records_of(monitoring)
    if start is None and end is None:
        start, end = default_period(monitoring)
    if goals is not None and "participants" not in records:
        raise ParameterError("Goals are judged on the monitoring records' participants: pass "
                             "monitoring={'participants': df, ...} (or simulate_monitoring()) with goals=.")
    return records, start, end


@validate_params({"data": [InstanceOf((pd.DataFrame, RegisterExtract),
                                      "a register extract (impact.RegisterExtract) or a pandas DataFrame")],
                  "roles": [InstanceOf(Roles, "a Roles (impact.Roles)"), None],
                  "method": [Options(["nearest", "optimal", "cem", "exact", "subclass", "ipw", "riskset"]), None],
                  "estimand": [Options(["join_vs_never", "join_vs_wait"])],
                  "covariates": ["columns", None],
                  "elapsed_band": [Interval(Integral, 1, None), None],
                  "elapsed_bands": [Interval(Integral, 2, None)],
                  "period": [Options(["month", "quarter"])],
                  "reuse": [Options(["across_periods", "never"])],
                  "sensitivity": ["boolean"],
                  "time_in_work": [NumberList(1, True, "a list of whole days >= 1")],
                  "benefit_months": [Interval(Integral, 1, None), None],
                  "benefits": ["columns", None],
                  "curve": ["boolean"],
                  "aiptw": ["boolean"],
                  "evalue": ["boolean"],
                  "rosenbaum": ["boolean"],
                  "gammas": [NumberList(1, False, "a non-empty list of numbers >= 1 (Gamma)", empty=False)],
                  "placebo": ["columns"],
                  "ipcw": ["boolean"],
                  "n_jobs": [Interval(Integral, 1, None), Interval(Integral, None, -1)],
                  "adjust_means": ["boolean"],
                  "caliper": [Interval(Real, 0, None, closed="neither"), None],
                  "exact": ["columns", None],
                  "ratio": [Interval(Integral, 1, None)],
                  "replace": ["boolean"],
                  "start_period": [Options(list(_PERIODS)), None],
                  "missing": [Options(["error", "drop"])],
                  "clock": [Options(["own", "matched"])],
                  "random_state": ["random_state"],
                  "truth": [InstanceOf(pd.DataFrame, "a pandas DataFrame"), None],
                  "date_format": [InstanceOf(str, "a str"), None],
                  "subgroups": ["columns"],
                  "se_method": [Options(["influence", "bootstrap"])],
                  "n_boot": [Interval(Integral, 1, None)],
                  "conf_level": [Interval(Real, 0, 1, closed="neither")],
                  "lang": [Options(LANGS)],
                  "progress": ["boolean"],
                  "config": [InstanceOf(Mapping, "a mapping (the evaluation file as read)"), None]})
def evaluate(data: pd.DataFrame | RegisterExtract, roles: Roles | None = None, *, method: Method | None = None,
             caliper: float | None = 0.2,
             exact: Sequence[str] | None = None, ratio: int = 1, replace: bool = False,
             start_period: Literal["month", "quarter", "year"] | None = "quarter",
             horizons: Sequence[float] = (90, 180, 365), missing: Literal["error", "drop"] = "error",
             clock: Literal["own", "matched"] = "own", random_state: int | np.random.Generator | None = 0,
             truth: pd.DataFrame | None = None, date_format: str | None = None,
             subgroups: Sequence[str] = (), se_method: Literal["influence", "bootstrap"] = "influence",
             n_boot: int = 500, conf_level: float = 0.95, goals: Any = None, monitoring: Any = None,
             monitoring_start: Any = None, monitoring_end: Any = None,
             lang: Lang = "en", progress: bool = False,
             config: dict | None = None, estimand: str = "join_vs_never",
             covariates: Sequence[str] | None = None, elapsed_band: int | None = 60, elapsed_bands: int = 8,
             period: str = "month", reuse: str = "across_periods", sensitivity: bool = True,
             time_in_work: Sequence[int] = (), benefit_months: int | None = None,
             benefits: Sequence[str] | None = None, curve: bool = False, aiptw: bool = False,
             evalue: bool = False, rosenbaum: bool = False, gammas: Sequence[float] = (1, 1.25, 1.5, 2, 3),
             placebo: Sequence[str] | str = (), ipcw: bool = True, n_jobs: int = 1,
             adjust_means: bool = True) -> Evaluation:
    """Run a whole evaluation from register data (and, optionally, goal fulfilment and monitoring).

    Two designs, chosen by the type of ``data``:

    * a :class:`impact.RegisterExtract` (persons, registration spells, programme starts, benefit
      months) runs the **dynamic (risk-set) design**, the main flow: for each calendar month the
      people registered and not yet in the programme on its first day are at risk; each
      participant is matched, exactly on the month, gender and 60-day bands of elapsed time in the
      open spell, greedy nearest neighbour on the propensity score of entering then (from the
      covariates as known on that day) within ``caliper`` SDs, to one such person; the control's
      clock starts on the participant's start date and both outcomes come from the spell open on
      that date (see ``docs/registers.md``). ``roles`` is not used.
    * a DataFrame of one row per person with ``roles`` runs the cross-sectional match
      (:func:`impact.match`): for data that are already one row per person.

    Parameters
    ----------
    data : RegisterExtract or DataFrame
        The register extract, or one row per person, participants and potential controls.
    roles : Roles, optional
        Column roles (DataFrame data only); ``roles.covariates`` are matched on,
        ``roles.subgroup`` (e.g. gender) gives the effects for women and men.
    method : str, optional
        ``"riskset"`` for an extract (the default and only choice there); for a DataFrame one of
        :func:`impact.match`'s methods (default ``"nearest"``).
    caliper, ratio, replace : see :func:`impact.match`
        Caliper in standard deviations of the propensity score, as in MatchIt (``replace``:
        DataFrame data only; in the risk-set design a control may serve in several periods,
        see ``reuse``).
    exact : sequence of str, optional
        Columns to match exactly on; by default the subgroup (e.g. gender), so that effects for
        women and men compare women with women and men with men.
    start_period : {"month", "quarter", "year"} or None
        Also match exactly on the calendar period of the start date, so that participants are
        compared with people in the same labour market. ``None`` turns this off.
    horizons : sequence of float
        Days at which shares in work or studies are compared.
    missing : {"error", "drop"}
        Missing covariate values: error (default) or drop and count.
    clock : {"own", "matched"}
        Where a control's clock starts; see :func:`impact.time_to_event`.
    random_state : int, numpy Generator or None
        Seed for every random step (matching ties, bootstrap). A Generator or None is turned into
        one int seed first, which every step then uses and ``settings["random_state"]`` records.
    truth : DataFrame, optional
        Known true effects (synthetic data), carried to the report.
    date_format : str, optional
        strftime format of string date columns (ISO 8601 by default).
    subgroups : sequence of str
        Further columns to report effects by (e.g. ``"region_of_birth"``). A matched set belongs to
        its participant's level, so a pair is never split.
    se_method : {"influence", "bootstrap"}
        Standard errors: influence functions clustered on matched sets, or a bootstrap over sets.
    n_boot : int
        Bootstrap replicates (``se_method="bootstrap"`` only).
    conf_level : float
        Level of the confidence intervals.
    goals : sequence of goals or goal config, optional
        Goals judged on ``monitoring["participants"]`` (see :func:`impact.monitor.goals_from_config`).
    monitoring : MonitoringRecords or mapping, optional
        Monitoring records; see :func:`monitoring_tables`.
    monitoring_start, monitoring_end : date-like, optional
        Period of the monitoring tables; by default the records' own period, when they carry one
        (see :func:`monitoring_tables`).
    lang : {"en", "sv"}
        Language of the report.
    progress : bool
        Show a progress bar over the steps (on stderr).
    config : dict, optional
        The evaluation file this run came from, kept for the report's footer.
    estimand : {"join_vs_never", "join_vs_wait"}
        Extract only. ``"join_vs_never"`` (default): joining versus never joining; a control who
        later joins is censored on the day it starts (MatchTime's ``censor_at_treat``).
        ``"join_vs_wait"``: joining now versus waiting (Sianesi); no censoring.
    covariates : sequence of str, optional
        Extract only: the propensity-score covariates. Default: the history covariates (age,
        elapsed days, days registered in the past 24 months, earlier spells, months with each
        benefit in the past 12 months and whether any), plus every fixed person column except the
        id, the birth year and gender (gender is matched exactly).
    elapsed_band, elapsed_bands : int
        Extract only: exact matching on bands of ``elapsed_band`` days of elapsed time in the
        open spell, the last of ``elapsed_bands`` bands open-ended (60 and 8: 0-59, ..., 420+
        days). ``None`` turns it off (the propensity score alone then leaves participants with
        longer spells than their controls, which attenuates the effect when the chance of work
        falls with elapsed time).
    period : {"month", "quarter"}
        Extract only: the risk-set period.
    reuse : {"across_periods", "never"}
        Extract only: see :func:`impact.design.match_riskset`.
    sensitivity : bool
        Extract only: also rerun the headline with unknown exits as censored, competing and
        work (``Evaluation.sensitivity_unknown``) and give shares by cause
        (``Evaluation.cause_shares``).
    time_in_work : sequence of int
        Extract only: windows ``h`` in days; for each, the days in work or studies within ``h``
        days of the start (:func:`impact.registers.time_in_states`) is an outcome, estimated as
        a mean difference (``Evaluation.outcome_effects``, estimand ``mean_diff``) on the
        matched sets whose window ends by the cut-off (the others are a counted drop in
        ``Evaluation.flow_details["follow_up"]``).
    benefit_months : int, optional
        Extract only: months with each benefit (``benefits``, default every register of the
        extract) in this many calendar months after the start month (the start month not
        counted), estimated like ``time_in_work``.
    benefits : sequence of str, optional
        Extract only: the benefit registers counted by ``benefit_months``.
    curve : bool
        Extract only: the effect over time (``Evaluation.effect_curve``).
    aiptw : bool
        Extract only: doubly robust shares (G-formula, IPTW and AIPTW with censoring weights, as
        ``riskRegression::ate``) at each horizon on the matched sample, adjusted for the
        covariates (``Evaluation.aiptw``).
    evalue, rosenbaum : bool
        Extract only: E-values of the headline (``Evaluation.evalues``) and Rosenbaum bounds on
        "in work or studies by day h" at each horizon for each of ``gammas``
        (``Evaluation.rosenbaum``).
    gammas : sequence of float
        The Gammas (>= 1) of the Rosenbaum bounds.
    placebo : str or sequence of str
        Extract only: placebo outcomes, numeric columns fixed before the start and not matched
        on, estimated like a mean outcome (``Evaluation.placebo``).
    ipcw : bool
        Extract and ``join_vs_never`` only (default ``True``): weight each control by the inverse
        probability of not yet having joined the programme, given the covariates as of the index
        date (:func:`impact.effects.censoring_weights`), because censoring at own entry is
        informative; ``False``: the unweighted analysis.
    adjust_means : bool
        Extract only (default ``True``): estimate ``time_in_work`` and ``benefit_months`` by
        regression adjustment on the matched sample, ``lm(y ~ treat * (matching covariates
        centred at the participants' means))`` with SEs clustered on matched sets, as MatchIt
        advises (see :func:`impact.estimate_effects`, ``adjust=``); ``False``: the plain
        difference of means.
    n_jobs : int
        Workers for bootstrap replicates and (extract only) for the per-period matching (``reuse="across_periods"``) and for
        bootstrap replicates, through ``joblib.Parallel``, so ``joblib.parallel_config(backend=
        "dask")`` spreads them over a Dask cluster; the answer is the same for every ``n_jobs``
        and backend. ``-1``: every core.

    Returns
    -------
    Evaluation

    Examples
    --------
    >>> import impact
    >>> from impact.synthetic import simulate_monitoring
    >>> sim = impact.simulate(n_pool=3000, random_state=4)
    >>> ev = evaluate(sim.registers, sim.roles)
    >>> ev.flow.table().index[0]
    'eligible'
    >>> ev = evaluate(sim.registers, sim.roles, monitoring=simulate_monitoring(0),
    ...               goals=[{"kind": "count", "name": "participants", "target": 4000}],
    ...               monitoring_start="2022-01-01", monitoring_end="2022-10-31", lang="sv")
    >>> ev.goals.table.loc[0, "judgement"], sorted(ev.monitoring)[0]
    ('achieved', 'hires_by_subsidy')
    """
    seed = int(random_state) if isinstance(random_state, Integral) else \
        int(check_random_state(random_state).integers(2**32))
    if isinstance(data, RegisterExtract):
        if method not in (None, "riskset"):
            raise ParameterError(f"A register extract is evaluated with the risk-set design (method='riskset'). "
                                 f"Got method={method!r}; for a cross-sectional match pass one row per person "
                                 "(a DataFrame) and roles.")
        return _evaluate_extract(data, estimand=estimand, covariates=covariates, exact=exact,
                                 elapsed_band=elapsed_band, elapsed_bands=elapsed_bands, caliper=caliper,
                                 ratio=ratio, reuse=reuse, period=period, horizons=horizons, seed=seed,
                                 truth=truth, se_method=se_method, n_boot=n_boot, conf_level=conf_level,
                                 goals=goals, monitoring=monitoring, monitoring_start=monitoring_start,
                                 monitoring_end=monitoring_end, lang=lang, progress=progress, config=config,
                                 sensitivity=sensitivity, ipcw=ipcw, n_jobs=n_jobs,
                                 extra=dict(time_in_work=tuple(time_in_work), benefit_months=benefit_months,
                                            benefits=None if benefits is None else
                                            ([benefits] if isinstance(benefits, str) else list(benefits)),
                                            curve=curve, aiptw=aiptw, evalue=evalue, rosenbaum=rosenbaum,
                                            adjust_means=adjust_means,
                                            gammas=tuple(float(g) for g in gammas),
                                            placebo=[placebo] if isinstance(placebo, str) else list(placebo)))
    if roles is None:
        raise ParameterError("evaluate: one row per person (a DataFrame) needs roles=impact.Roles(...); "
                             "a register extract (impact.RegisterExtract) does not.")
    asked = [name for name, on in (("time_in_work", bool(time_in_work)), ("benefit_months", benefit_months is not None),
                                   ("benefits", benefits is not None), ("curve", curve), ("aiptw", aiptw),
                                   ("evalue", evalue), ("rosenbaum", rosenbaum), ("placebo", bool(placebo))) if on]
    if asked:
        raise ParameterError(f"The '{asked[0]}' parameter of evaluate is for a register extract "
                             "(impact.RegisterExtract, the risk-set design); with one row per person "
                             "estimate it step by step (impact.estimate_effects(outcome=...), "
                             "impact.effects.effect_curve, impact.sensitivity).")
    if method is None:
        method = "nearest"
    if method == "riskset":
        raise ParameterError("method='riskset' needs a register extract (impact.RegisterExtract); "
                             "for one row per person use method='nearest' (or another impact.match method).")
    if isinstance(subgroups, str):
        subgroups = [subgroups]
    subgroups = list(subgroups)
    if subgroups:
        check_columns(data, subgroups, role="subgroup column")
    records, monitoring_start, monitoring_end = _monitoring_inputs(monitoring, monitoring_start, monitoring_end,
                                                                   goals)
    steps = ["validate", "match", "outcomes", "effects", "naive comparison"]
    steps += [f"effects by {s}" for s in subgroups]
    steps += ["goal fulfilment"] * (goals is not None) + ["monitoring tables"] * bool(records)
    bar = Progress(progress, steps)
    try:
        bar.start("validate")
        validated = validate(data, roles, missing=missing, date_format=date_format)
        df = validated.data
        bar.done()
        exact_cols = list(exact) if exact is not None else ([roles.subgroup] if roles.subgroup else [])
        if start_period is not None:
            # a shallow copy with one more column: validated.data keeps its columns, nothing is copied
            df = df.copy(deep=False)
            df["start_period"] = _period_labels(df[roles.start], _PERIODS[start_period])
            exact_cols.append("start_period")

        bar.start("match")
        from impact.design import match
        matching = match(df, treatment=roles.treatment, covariates=list(roles.covariates), method=method,
                         caliper=caliper, exact=exact_cols or None, ratio=ratio, replace=replace,
                         random_state=seed, id=roles.id)
        pairs = getattr(matching, "matched_pairs", None)
        if replace and pairs is not None and not pairs.empty:
            # with replacement a control may stand in several matched sets: one row per set
            # membership (MatchIt's get_matches()), so that every set stays whole for the SEs
            matched = matching.get_matches()
        else:
            matched = matching.matched_data
        if roles.subgroup:
            require_subgroup_levels(matched, roles.subgroup, roles.treatment)
        bar.done()
        bar.start("outcomes")
        analysed = time_to_event(matched, roles, clock=clock)
        flow = validated.flow.extend(matching.flow)
        people = analysed.drop_duplicates(roles.id)   # people, not set memberships
        flow = flow.add("analysed", "matched and followed up", people, people,
                        treatment=roles.treatment, subgroup=roles.subgroup)
        bar.done()
        # weighting has no matched sets: each row is its own cluster (robust SEs)
        cluster = "subclass" if "subclass" in analysed and analysed["subclass"].notna().all() else None
        def effects_of(sample: pd.DataFrame, by: str | None) -> EffectsResult:
            return estimate_effects(sample, treatment=roles.treatment, by=by, horizons=horizons,
                                    conf_level=conf_level, se_method=se_method, n_boot=n_boot,
                                    random_state=seed, cluster=cluster, n_jobs=n_jobs)
        bar.start("effects")
        effects = effects_of(analysed, roles.subgroup)
        bar.done()
        bar.start("naive comparison")
        # the columns the naive estimates read (not a copy of every covariate)
        naive_cols = [c for c in dict.fromkeys([roles.treatment, roles.start, roles.exit_date, roles.exit_type,
                                                roles.subgroup, roles.cutoff if roles.cutoff_is_column(df) else None])
                      if c is not None]
        naive_data = time_to_event(df[naive_cols], roles, clock="own")
        naive = estimate_effects(naive_data, treatment=roles.treatment, by=roles.subgroup, horizons=horizons,
                                 weights=None, cluster=None, conf_level=conf_level, subdistribution=False)
        bar.done()
        by_sub: dict[str, EffectsResult] = {}
        for col in subgroups:
            bar.start(f"effects by {col}")
            level_col = f"_level_{col}"
            by_sub[col] = effects_of(analysed.assign(**{level_col: _set_level(analysed, col, roles.treatment)}),
                                     level_col)
            bar.done()
        goal_result, tables = _goals_and_monitoring(bar, records, goals, monitoring_start, monitoring_end, lang)
    finally:
        bar.close()
    settings = dict(method=method, caliper=caliper, exact=exact_cols, ratio=ratio, replace=replace,
                    start_period=start_period, horizons=tuple(horizons), missing=missing, clock=clock,
                    random_state=seed, covariates=list(roles.covariates), subgroup=roles.subgroup,
                    subgroups=subgroups, se_method=se_method, conf_level=conf_level,
                    n_boot=n_boot if se_method == "bootstrap" else None,
                    monitoring_start=None if monitoring_start is None else str(monitoring_start),
                    monitoring_end=None if monitoring_end is None else str(monitoring_end),
                    lang=lang, fingerprints=fingerprints(data, roles.id, records))
    return Evaluation(validated=validated, matching=matching, analysed=analysed, effects=effects,
                      naive=naive, flow=flow, settings=settings, truth=truth, subgroup_effects=by_sub,
                      goals=goal_result, monitoring=tables, lang=lang, config=None if config is None else dict(config))


def _evaluate_extract(extract: RegisterExtract, *, estimand: str, covariates: Sequence[str] | None,
                      exact: Sequence[str] | None, elapsed_band: int | None, elapsed_bands: int,
                      caliper: float | None, ratio: int, reuse: str, period: str, horizons: Sequence[float],
                      seed: int, truth: pd.DataFrame | None, se_method: str, n_boot: int, conf_level: float,
                      goals: Any, monitoring: Any, monitoring_start: Any, monitoring_end: Any, lang: Lang,
                      progress: bool, config: dict | None, sensitivity: bool, extra: dict[str, Any],
                      ipcw: bool = True, n_jobs: int = 1) -> Evaluation:
    """The dynamic (risk-set) design of a register extract; see :func:`evaluate`."""
    records, monitoring_start, monitoring_end = _monitoring_inputs(monitoring, monitoring_start, monitoring_end,
                                                                   goals)
    check_benefits(extract, extra["benefit_months"], extra["benefits"])
    if extra["placebo"]:   # before the matching: a placebo column fixed before the start, not matched on
        check_placebo(extra["placebo"], [*(covariates if covariates is not None else _default_covariates(extract)),
                                         extract.columns.gender])
    steps = ["risk sets and matching", "effects", "naive comparison"]
    steps += ["unknown exits and causes"] * sensitivity
    steps += ["time in states"] * bool(extra["time_in_work"] or extra["benefit_months"] is not None)
    steps += ["effect curve"] * extra["curve"] + ["doubly robust shares"] * extra["aiptw"]
    steps += ["sensitivity to hidden bias"] * bool(extra["evalue"] or extra["rosenbaum"] or extra["placebo"])
    steps += ["goal fulfilment"] * (goals is not None) + ["monitoring tables"] * bool(records)
    bar = Progress(progress, steps)
    gender = extract.columns.gender
    try:
        bar.start("risk sets and matching")
        parts = run_registers(extract, estimand=estimand, covariates=covariates, exact=exact,
                                elapsed_band=elapsed_band, elapsed_bands=elapsed_bands, caliper=caliper,
                                ratio=ratio, reuse=reuse, period=period, random_state=seed, ipcw=ipcw,
                                n_jobs=n_jobs)
        extract = parts["extract"]
        analysed = parts["analysed"]
        require_subgroup_levels(analysed, gender, TREATMENT)
        flow = registers_flow(extract, parts["panel"], parts["matched"], analysed)
        details = flow_details(extract, parts["rs"], parts["matching"], parts["matched"], analysed, estimand)
        bar.done()
        bar.start("effects")
        kw: dict[str, Any] = dict(horizons=horizons, conf_level=conf_level, random_state=seed)
        boot_jobs = {"n_jobs": n_jobs} if se_method == "bootstrap" and parts["censoring"] is None else {}
        effects = effects_of(analysed, gender, parts["censoring"], persons=extract.columns.id,
                             se_method=se_method, n_boot=n_boot, **kw,
                             **boot_jobs)
        bar.done()
        bar.start("naive comparison")
        naive_data = naive_registers(extract)
        naive = estimate_effects(naive_data, treatment=TREATMENT, by=gender, horizons=horizons, weights=None,
                                 cluster=None, conf_level=conf_level, subdistribution=False)
        bar.done()
        sens = causes = None
        if sensitivity:
            bar.start("unknown exits and causes")
            unknown_roles = {r for r, k in zip(extract.codes.roles.values(), extract.codes.causes.values())
                             if k == "unknown"}
            base = unknown_roles.pop() if len(unknown_roles) == 1 else "competing"
            sens = unknown_sensitivity(analysed, gender=gender, base_role=base, censoring=parts["censoring"], **kw)
            causes = cause_shares(analysed, gender=gender, censoring=parts["censoring"], **kw)
            bar.done()
        more = _beyond_first_exit(bar, extract, analysed, parts["covariates"], extra, horizons=horizons,
                                  conf_level=conf_level, seed=seed, effects=effects)
        if "follow_up" in more:
            details = {**details, "follow_up": more.pop("follow_up")}
        goal_result, tables = _goals_and_monitoring(bar, records, goals, monitoring_start, monitoring_end, lang)
    finally:
        bar.close()
    con = details["contamination"].set_index("measure")["count"]
    notes = [ESTIMAND_NOTES[estimand],
             "Risk-set design: for each calendar "
             f"{period}, the people registered at the employment service on its first day who had not "
             "started the programme are at risk; covariates are as known on that day. Each control's "
             "clock starts on its participant's start date; outcomes come from the registration spell "
             "open on that date (time to its deregistration; the code gives work or studies, a "
             "competing exit or censoring).",
             f"Exact matching on the {period}, gender"
             + (f" and {elapsed_band}-day bands of elapsed time in the open spell (the last from "
                f"{elapsed_band * (elapsed_bands - 1)} days)" if elapsed_band is not None else "")
             + "; a control may serve in several periods (the flow counts set memberships and persons).",
             f"Contamination: {int(con.iloc[3])} of the {int(con.iloc[1])} control persons later joined the "
             f"programme; {int(con.iloc[4])} control set memberships were censored on the day they joined."
             if estimand == "join_vs_never" else
             f"Contamination: {int(con.iloc[3])} of the {int(con.iloc[1])} control persons later joined the "
             "programme and keep their follow-up (join_vs_wait)."]
    if parts["censoring"] is not None:
        notes += [IPCW_NOTE, *parts["censoring"].notes]
    if sens is not None:
        notes.append("Unknown-reason exits: the headline is rerun with them as censored, as competing and as "
                     "work (Evaluation.sensitivity_unknown).")
    notes += more.pop("notes")
    matching = with_notes(parts["matching"], notes)
    roles = registers_roles(extract, parts["covariates"])
    validated = validated_of(parts["panel"], roles, flow)
    if truth is not None:
        truth = truth_for(truth, estimand)   # shares of this estimand (hazard ratios: conditional)
    settings = dict(design="riskset", method="riskset", estimand=estimand,
                    estimand_reason=ESTIMAND_NOTES[estimand], period=period, caliper=caliper,
                    exact=parts["exact"], elapsed_band=elapsed_band, elapsed_bands=elapsed_bands, ratio=ratio,
                    reuse=reuse, horizons=tuple(horizons), clock="matched", random_state=seed,
                    ipcw=parts["censoring"] is not None,
                    covariates=list(parts["covariates"]), subgroup=gender, subgroups=[], se_method=se_method,
                    conf_level=conf_level, n_boot=n_boot if se_method == "bootstrap" else None,
                    cutoff=str(extract.cutoff.date()), codes=extract.codes.roles,
                    time_in_work=list(extra["time_in_work"]), benefit_months=extra["benefit_months"],
                    benefits=extra["benefits"] if extra["benefit_months"] is not None else None,
                    curve=extra["curve"], aiptw=extra["aiptw"], evalue=extra["evalue"],
                    rosenbaum=extra["rosenbaum"], gammas=list(extra["gammas"]) if extra["rosenbaum"] else None,
                    placebo=list(extra["placebo"]),
                    monitoring_start=None if monitoring_start is None else str(monitoring_start),
                    monitoring_end=None if monitoring_end is None else str(monitoring_end), lang=lang,
                    fingerprints={**extract_fingerprints(extract),
                                  **fingerprints(extract.persons, extract.columns.id, records)})
    return Evaluation(validated=validated, matching=matching, analysed=analysed, effects=effects, naive=naive,
                      flow=flow, settings=settings, truth=truth, subgroup_effects={}, goals=goal_result,
                      monitoring=tables, lang=lang, config=None if config is None else dict(config),
                      design="riskset", flow_details=details, sensitivity_unknown=sens, cause_shares=causes,
                      **more)


def _beyond_first_exit(bar: Progress, extract: RegisterExtract, analysed: pd.DataFrame,
                       covariates: Sequence[str], extra: Mapping[str, Any], *, horizons: Sequence[float],
                       conf_level: float, seed: int, effects: EffectsResult) -> dict[str, Any]:
    """Time in states, the effect curve, AIPTW shares and sensitivity to hidden bias (issue 12)."""
    gender = extract.columns.gender
    out: dict[str, Any] = {"notes": []}
    if extra["time_in_work"] or extra["benefit_months"] is not None:
        bar.start("time in states")
        rows, cols = state_outcomes(extract, analysed, time_in_work=extra["time_in_work"],
                                    benefit_months=extra["benefit_months"], benefits=extra["benefits"])
        samples, follow = follow_up_samples(rows, cols, treatment=TREATMENT)
        out["follow_up"] = follow.table()
        adjust = [c for c in covariates if c != gender] if extra["adjust_means"] else []
        out["outcome_effects"] = mean_effects(samples, treatment=TREATMENT, gender=gender, conf_level=conf_level,
                                              adjust=adjust)
        out["notes"].append("Time in states: days in work or studies are the days after a deregistration to work "
                            "or studies (codes with role 'event') until the person registers again or the "
                            "cut-off; benefit months are the calendar months after the start month (the start "
                            "month itself not counted). Each outcome is estimated on the matched sets whose "
                            "window ends by the cut-off (Evaluation.flow_details['follow_up'] counts the rest), "
                            "as a mean difference with "
                            "standard errors clustered on matched sets; a control who later joins the programme "
                            "keeps its whole window (no censoring at entry for a count of days).")
        bar.done()
    if extra["curve"]:
        bar.start("effect curve")
        out["effect_curve"] = curve_of(analysed, treatment=TREATMENT, gender=gender, conf_level=conf_level,
                                       seed=seed, persons=extract.columns.id)
        bar.done()
    if extra["aiptw"]:
        bar.start("doubly robust shares")
        person = extract.columns.id if extract.columns.id in analysed.columns else None
        table, notes = aiptw_of(analysed, treatment=TREATMENT, gender=gender, covariates=covariates,
                                horizons=horizons, conf_level=conf_level, cluster=person)
        out["aiptw"] = table
        out["notes"] += notes
        bar.done()
    if extra["evalue"] or extra["rosenbaum"] or extra["placebo"]:
        bar.start("sensitivity to hidden bias")
        if extra["evalue"]:
            out["evalues"] = evalues_of(effects)
        if extra["rosenbaum"]:
            table, notes = rosenbaum_of(analysed, treatment=TREATMENT, gender=gender, horizons=horizons,
                                        gammas=extra["gammas"])
            out["rosenbaum"] = table
            out["notes"] += notes
        if extra["placebo"]:
            out["placebo"] = placebo_of(analysed, extra["placebo"], treatment=TREATMENT, gender=gender,
                                        covariates=covariates, outcomes=[], conf_level=conf_level)
        bar.done()
    return out
