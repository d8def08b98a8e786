"""The whole evaluation in one call: validate, match, check balance, outcomes, effects.

Each step is an ordinary public function (:func:`impact.validate`, :func:`impact.match`,
:func:`impact.time_to_event`, :func:`impact.estimate_effects`); :func:`evaluate` only chains
them and keeps the flow table, so what it does can be repeated step by step in a notebook.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from ._checks import check_option
from ._flow import Flow
from .data import Roles, Validated, require_subgroup_levels, validate
from .effects import EffectsResult, estimate_effects
from .outcomes import time_to_event

__all__ = ["Evaluation", "evaluate"]

_PERIODS = {"month": "M", "quarter": "Q", "year": "Y"}


@dataclass(frozen=True)
class Evaluation:
    """Everything an evaluation produced, step by step."""

    validated: Validated
    matching: Any
    analysed: pd.DataFrame
    effects: EffectsResult
    naive: EffectsResult
    flow: Flow
    settings: dict = field(default_factory=dict)
    truth: pd.DataFrame | None = None

    @property
    def roles(self) -> Roles:
        return self.validated.roles

    def balance(self) -> Any:
        return self.matching.balance()

    def summary(self) -> pd.DataFrame:
        return self.effects.summary()

    def __repr__(self) -> str:
        t = self.analysed[self.roles.treatment]
        return (f"Evaluation({int((t == 1).sum())} participants and {int((t == 0).sum())} matched "
                f"controls analysed; {len(self.effects.table)} estimates)")


def evaluate(data: pd.DataFrame, roles: Roles, *, method: str = "nearest", caliper: float | None = 0.2,
             exact: Sequence[str] | None = None, ratio: int = 1, replace: bool = False,
             start_period: Literal["month", "quarter", "year"] | None = "quarter",
             horizons: Sequence[float] = (90, 180, 365), missing: Literal["error", "drop"] = "error",
             clock: Literal["own", "matched"] = "own", random_state: int = 0,
             truth: pd.DataFrame | None = None, date_format: str | None = None) -> Evaluation:
    """Run a whole evaluation from register data.

    Parameters
    ----------
    data : DataFrame
        One row per person, participants and potential controls.
    roles : Roles
        Column roles; ``roles.covariates`` are matched on.
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

    Examples
    --------
    >>> import impact
    >>> sim = impact.simulate(n_pool=3000, random_state=4)
    >>> ev = evaluate(sim.registers, sim.roles)
    >>> ev.flow.table().index[0]
    'eligible'
    """
    if start_period is not None:
        check_option("start_period", start_period, list(_PERIODS), "evaluate")
    validated = validate(data, roles, missing=missing, date_format=date_format)
    df = validated.data
    exact_cols = list(exact) if exact is not None else ([roles.subgroup] if roles.subgroup else [])
    if start_period is not None:
        df = df.assign(start_period=df[roles.start].dt.to_period(_PERIODS[start_period]).astype(str))
        exact_cols.append("start_period")

    from .design import match
    matching = match(df, treatment=roles.treatment, covariates=list(roles.covariates), method=method,
                     caliper=caliper, exact=exact_cols or None, ratio=ratio, replace=replace,
                     random_state=random_state, id=roles.id)
    matched = matching.matched_data
    if roles.subgroup:
        require_subgroup_levels(matched, roles.subgroup, roles.treatment)
    analysed = time_to_event(matched, roles, clock=clock)
    flow = validated.flow.extend(matching.flow)
    flow = flow.add("analysed", "matched and followed up", analysed, analysed,
                    treatment=roles.treatment, subgroup=roles.subgroup)
    effects = estimate_effects(analysed, treatment=roles.treatment, by=roles.subgroup, horizons=horizons)
    naive_data = time_to_event(df, roles, clock="own")
    naive = estimate_effects(naive_data, treatment=roles.treatment, by=roles.subgroup, horizons=horizons,
                             weights=None, cluster=None)
    settings = dict(method=method, caliper=caliper, exact=exact_cols, ratio=ratio, replace=replace,
                    start_period=start_period, horizons=tuple(horizons), missing=missing, clock=clock,
                    random_state=random_state, covariates=list(roles.covariates))
    return Evaluation(validated=validated, matching=matching, analysed=analysed, effects=effects,
                      naive=naive, flow=flow, settings=settings, truth=truth)
