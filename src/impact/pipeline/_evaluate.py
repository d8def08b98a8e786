"""The whole evaluation in one call: validate, match, check balance, outcomes, effects, goals and
monitoring.

Each step is an ordinary public function (:func:`impact.validate`, :func:`impact.match`,
:func:`impact.time_to_event`, :func:`impact.estimate_effects`, :func:`impact.goal_fulfilment`,
:func:`monitoring_tables`); :func:`evaluate` only chains them and keeps the flow table, so what it
does can be repeated step by step in a notebook. :func:`run` does the same from an evaluation file
(TOML) and writes the report, exactly as ``impact run evaluation.toml`` does.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from impact._validation import check_columns, check_option
from impact._errors import ParameterError
from impact.data import Flow
from impact.data import data_fingerprint
from impact.data import Roles, Validated, require_subgroup_levels, validate
from impact.effects import EffectsResult, estimate_effects
from impact.labels import LANGS
from impact.outcomes import time_to_event

__all__ = ["Evaluation", "evaluate", "monitoring_tables", "run", "MONITORING_INPUTS"]

_PERIODS = {"month": "M", "quarter": "Q", "year": "Y"}

#: the monitoring inputs :func:`monitoring_tables` understands (the tables of
#: :class:`impact.synthetic.MonitoringRecords`)
MONITORING_INPUTS: tuple[str, ...] = ("participants", "employments", "households", "household_exits")

#: identifier columns of the monitoring records, left out of fingerprints and never published
_MONITORING_IDS = ("person_id", "employment_id", "household_id")


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

    @property
    def roles(self) -> Roles:
        """The column roles the evaluation ran with."""
        return self.validated.roles

    def balance(self) -> Any:
        """The balance table of the matched groups (see :meth:`impact.MatchResult.balance`)."""
        return self.matching.balance()

    def summary(self) -> pd.DataFrame:
        """The tidy effect table (see :meth:`impact.effects.EffectsResult.summary`)."""
        return self.effects.summary()

    def __repr__(self) -> str:
        t = self.analysed[self.roles.treatment]
        extra = ""
        if self.goals is not None:
            extra += f"; {len(self.goals.table)} goals"
        if self.monitoring:
            extra += f"; monitoring: {', '.join(self.monitoring)}"
        return (f"Evaluation({int((t == 1).sum())} participants and {int((t == 0).sum())} matched "
                f"controls analysed; {len(self.effects.table)} estimates{extra})")


def _records(monitoring: Any) -> dict[str, pd.DataFrame]:
    """Monitoring inputs from a MonitoringRecords object or a mapping, checked by name."""
    if monitoring is None:
        return {}
    if isinstance(monitoring, Mapping):
        items = dict(monitoring)
    else:
        items = {k: getattr(monitoring, k) for k in MONITORING_INPUTS if hasattr(monitoring, k)}
        if not items:
            raise ParameterError("The 'monitoring' parameter must be a MonitoringRecords object or a mapping "
                                 f"of {', '.join(MONITORING_INPUTS)} to DataFrames. "
                                 f"Got {type(monitoring).__name__}.")
    from impact._validation import suggest
    for key, value in items.items():
        if key not in MONITORING_INPUTS:
            raise ParameterError(f"Unknown monitoring input {key!r}.{suggest(key, MONITORING_INPUTS)} "
                                 f"Known inputs: {', '.join(MONITORING_INPUTS)}.")
        if not isinstance(value, pd.DataFrame):
            raise ParameterError(f"The monitoring input {key!r} must be a DataFrame. Got {type(value).__name__}.")
    return items


def monitoring_tables(monitoring: Any, *, start: Any = None, end: Any = None,
                      lang: Literal["en", "sv"] = "en") -> dict[str, Any]:
    """The monthly monitoring tables from individual-level records.

    Each table is made from the input it needs, when that input is given:

    ==========================  ====================  ==================================================
    name                        input                 table
    ==========================  ====================  ==================================================
    ``to_work_or_studies``      ``participants``      people to work or studies per month, by gender
    ``outcomes_after_employment`` ``employments``     results 90 days after an ended employment
    ``hires_by_subsidy``        ``employments``       new hires by employment-subsidy type, by gender
    ``households``              ``households``        unique households on economic assistance per month
                                                      and the change against one and two years earlier
    ``household_exits``         ``household_exits``   households leaving assistance for work or studies
    ==========================  ====================  ==================================================

    Parameters
    ----------
    monitoring : MonitoringRecords or mapping of str to DataFrame
        Keys among ``participants``, ``employments``, ``households``, ``household_exits``, with the
        columns :func:`impact.synthetic.simulate_monitoring` describes.
    start, end : date-like, optional
        The period of the monitoring tables (the household series uses ``end`` only, so that the
        months of the earlier years it compares with stay in).
    lang : {"en", "sv"}
        Language of the results' notebook display.

    Returns
    -------
    dict of str -> result
        Each result has ``.table``, ``.published(lang, threshold)`` and ``.plot(ax=None)``.

    Examples
    --------
    >>> from impact.synthetic import simulate_monitoring
    >>> rec = simulate_monitoring(random_state=0)
    >>> tabs = monitoring_tables(rec, start="2022-01-01", end="2022-10-31")
    >>> list(tabs)
    ['to_work_or_studies', 'outcomes_after_employment', 'hires_by_subsidy', 'households', 'household_exits']
    >>> tabs["households"].table.index.max()
    Period('2022-10', 'M')
    """
    check_option("lang", lang, LANGS, "monitoring_tables")
    import impact.monitor as monitor
    rec = _records(monitoring)
    out: dict[str, Any] = {}
    if "participants" in rec:
        out["to_work_or_studies"] = monitor.to_work_or_studies_by_month(rec["participants"], start=start, end=end,
                                                                        lang=lang)
    if "employments" in rec:
        out["outcomes_after_employment"] = monitor.outcomes_after_employment(rec["employments"], start=start,
                                                                             end=end, lang=lang)
        out["hires_by_subsidy"] = monitor.hires_by_subsidy(rec["employments"], start=start, end=end, lang=lang)
    if "households" in rec:
        out["households"] = monitor.households_on_assistance(rec["households"], end=end, lang=lang)
    if "household_exits" in rec:
        out["household_exits"] = monitor.to_work_or_studies_by_month(
            rec["household_exits"], date="exit_date", outcome="reason", gender=None, id="household_id",
            codes=("to_work", "to_studies", "other"), start=start, end=end, lang=lang)
    return out


class _Progress:
    """A tqdm bar over the named steps of an evaluation (on stderr; silent when disabled)."""

    def __init__(self, enabled: bool, steps: Sequence[str]) -> None:
        from tqdm.auto import tqdm
        # disable=None: shown on a terminal, silent in logs and pipes
        self.bar = tqdm(total=len(steps), disable=None if enabled else True, unit="step", file=sys.stderr,
                        bar_format="{desc:<32}{bar:20} {n_fmt}/{total_fmt} [{elapsed}]")

    def start(self, name: str) -> None:
        self.bar.set_description_str(name)

    def done(self) -> None:
        self.bar.update(1)

    def close(self) -> None:
        self.bar.set_description_str("done")
        self.bar.close()


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


def evaluate(data: pd.DataFrame, roles: Roles, *, method: str = "nearest", caliper: float | None = 0.2,
             exact: Sequence[str] | None = None, ratio: int = 1, replace: bool = False,
             start_period: Literal["month", "quarter", "year"] | None = "quarter",
             horizons: Sequence[float] = (90, 180, 365), missing: Literal["error", "drop"] = "error",
             clock: Literal["own", "matched"] = "own", random_state: int = 0,
             truth: pd.DataFrame | None = None, date_format: str | None = None,
             subgroups: Sequence[str] = (), se_method: Literal["influence", "bootstrap"] = "influence",
             n_boot: int = 500, conf_level: float = 0.95, goals: Any = None, monitoring: Any = None,
             monitoring_start: Any = None, monitoring_end: Any = None,
             lang: Literal["en", "sv"] = "en", progress: bool = False,
             config: dict | None = None) -> Evaluation:
    """Run a whole evaluation from register data (and, optionally, goal fulfilment and monitoring).

    Parameters
    ----------
    data : DataFrame
        One row per person, participants and potential controls.
    roles : Roles
        Column roles; ``roles.covariates`` are matched on, ``roles.subgroup`` (e.g. gender) gives
        the effects for women and men.
    method, caliper, ratio, replace : see :func:`impact.match`
        Caliper in standard deviations of the propensity score, as in MatchIt.
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
    random_state : int
        Seed for every random step.
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
        Period of the monitoring tables.
    lang : {"en", "sv"}
        Language of the report.
    progress : bool
        Show a progress bar over the steps (on stderr).
    config : dict, optional
        The evaluation file this run came from, kept for the report's footer.

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
    if start_period is not None:
        check_option("start_period", start_period, list(_PERIODS), "evaluate")
    check_option("lang", lang, LANGS, "evaluate")
    if isinstance(subgroups, str):
        subgroups = [subgroups]
    subgroups = list(subgroups)
    if subgroups:
        check_columns(data, subgroups, role="subgroup column")
    records = _records(monitoring)
    if goals is not None and "participants" not in records:
        raise ParameterError("Goals are judged on the monitoring records' participants: pass "
                             "monitoring={'participants': df, ...} (or simulate_monitoring()) with goals=.")
    steps = ["validate", "match", "outcomes", "effects", "naive comparison"]
    steps += [f"effects by {s}" for s in subgroups]
    steps += ["goal fulfilment"] * (goals is not None) + ["monitoring tables"] * bool(records)
    bar = _Progress(progress, steps)
    try:
        bar.start("validate")
        validated = validate(data, roles, missing=missing, date_format=date_format)
        df = validated.data
        bar.done()
        exact_cols = list(exact) if exact is not None else ([roles.subgroup] if roles.subgroup else [])
        if start_period is not None:
            df = df.assign(start_period=df[roles.start].dt.to_period(_PERIODS[start_period]).astype(str))
            exact_cols.append("start_period")

        bar.start("match")
        from impact.design import match
        matching = match(df, treatment=roles.treatment, covariates=list(roles.covariates), method=method,
                         caliper=caliper, exact=exact_cols or None, ratio=ratio, replace=replace,
                         random_state=random_state, id=roles.id)
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
        eff_kw = dict(treatment=roles.treatment, horizons=horizons, conf_level=conf_level, se_method=se_method,
                      n_boot=n_boot, random_state=random_state, cluster=cluster)
        bar.start("effects")
        effects = estimate_effects(analysed, by=roles.subgroup, **eff_kw)
        bar.done()
        bar.start("naive comparison")
        naive_data = time_to_event(df, roles, clock="own")
        naive = estimate_effects(naive_data, treatment=roles.treatment, by=roles.subgroup, horizons=horizons,
                                 weights=None, cluster=None, conf_level=conf_level, subdistribution=False)
        bar.done()
        by_sub: dict[str, EffectsResult] = {}
        for col in subgroups:
            bar.start(f"effects by {col}")
            level_col = f"_level_{col}"
            by_sub[col] = estimate_effects(analysed.assign(**{level_col: _set_level(analysed, col, roles.treatment)}),
                                           by=level_col, **eff_kw)
            bar.done()
        goal_result = None
        if goals is not None:
            bar.start("goal fulfilment")
            from impact.monitor import goal_fulfilment
            goal_result = goal_fulfilment(records["participants"], goals, lang=lang)
            bar.done()
        tables: dict[str, Any] = {}
        if records:
            bar.start("monitoring tables")
            tables = monitoring_tables(records, start=monitoring_start, end=monitoring_end, lang=lang)
            bar.done()
    finally:
        bar.close()
    fingerprints = {"data": data_fingerprint(data, exclude=[roles.id])}
    fingerprints.update({k: data_fingerprint(v, exclude=_MONITORING_IDS) for k, v in records.items()})
    settings = dict(method=method, caliper=caliper, exact=exact_cols, ratio=ratio, replace=replace,
                    start_period=start_period, horizons=tuple(horizons), missing=missing, clock=clock,
                    random_state=random_state, covariates=list(roles.covariates), subgroup=roles.subgroup,
                    subgroups=subgroups, se_method=se_method, conf_level=conf_level,
                    n_boot=n_boot if se_method == "bootstrap" else None,
                    monitoring_start=None if monitoring_start is None else str(monitoring_start),
                    monitoring_end=None if monitoring_end is None else str(monitoring_end),
                    lang=lang, fingerprints=fingerprints)
    return Evaluation(validated=validated, matching=matching, analysed=analysed, effects=effects,
                      naive=naive, flow=flow, settings=settings, truth=truth, subgroup_effects=by_sub,
                      goals=goal_result, monitoring=tables, lang=lang, config=config)


def run(config: str | Path, *, out: str | Path | None = None, progress: bool = False) -> Evaluation:
    """Run the evaluation an evaluation file (TOML) describes and write its report.

    This is what ``impact run evaluation.toml`` does: read the file (:func:`impact.pipeline.read_config`),
    read the data and the monitoring inputs it names (CSV, Parquet, Stata or SPSS), run
    :func:`evaluate` and write the report (:func:`impact.write_report`) to ``out`` or to the file's
    ``[report] out``.

    Parameters
    ----------
    config : str or Path
        The evaluation file.
    out : str or Path, optional
        Report folder; overrides ``[report] out``.
    progress : bool
        Show a progress bar over the steps.

    Returns
    -------
    Evaluation
        With ``settings["report"]`` the path of the written ``report.html``.

    Raises
    ------
    ConfigError
        An unknown key (with the nearest valid one), a value of the wrong type, a file that cannot
        be read.
    DataError
        A column the file names is not in the data, or the data break a rule.

    Examples
    --------
    >>> import tempfile, pathlib, impact
    >>> from impact.synthetic import write_synthetic
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_synthetic(impact.simulate(n_pool=3000, random_state=4), folder)
    >>> _ = (folder / "evaluation.toml").write_text('''
    ... seed = 1
    ... lang = "sv"
    ... [data]
    ... path = "registers.csv"
    ... [columns]
    ... id = "person_id"
    ... treatment = "participant"
    ... start = "start_date"
    ... exit_date = "exit_date"
    ... exit_type = "exit_type"
    ... cutoff = "2022-10-31"
    ... subgroup = "gender"
    ... covariates = ["age", "education", "social_assistance"]
    ... ''')
    >>> ev = run(folder / "evaluation.toml", out=folder / "report")
    >>> ev.settings["report"].name, ev.lang
    ('report.html', 'sv')
    """
    from impact.pipeline._config import read_config, read_inputs
    from impact.report import write_report
    cfg = read_config(config)
    data, records = read_inputs(cfg)
    ev = evaluate(data, cfg.roles, date_format=cfg.date_format, progress=progress, config=cfg.raw,
                  monitoring=records or None, **cfg.evaluate_kwargs)
    path = write_report(ev, out or cfg.report["out"], title=cfg.report["title"],
                        threshold=cfg.report["threshold"])
    ev.settings["report"] = path
    return ev
