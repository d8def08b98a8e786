"""Column roles and input validation: every check runs first, and names column, rule and rows.

The user declares once which column plays which role (:class:`Roles`), then :func:`validate`
checks the data against every rule and returns a clean copy (dates parsed, treatment as 0/1)
together with the first steps of the flow table. Nothing is dropped silently: rows are only
removed when the user asks for it (``missing="drop"``), and then counted in the flow.

Row positions in messages are 0-based positions (``df.iloc[...]``), never identifier values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from impact._validation import InstanceOf, Options, check_columns, check_option, validate_params
from impact._errors import DataError, ParameterError, data_error
from impact._validation import check_treatment, looks_like_date, parse_dates
from impact.data._flow import Flow

__all__ = ["Roles", "Validated", "validate", "require_subgroup_levels"]

DEFAULT_EXIT_CODES: dict[str, str] = {"work": "event", "studies": "event", "other": "competing"}


@dataclass(frozen=True)
class Roles:
    """Which column plays which role in an evaluation.

    Parameters
    ----------
    id : str
        Person (or household) identifier. Used only to check uniqueness and to break ties
        stably; never printed.
    treatment : str
        1 (or True) for participants, 0 (or False) for potential controls.
    start : str
        Programme start date for participants; for potential controls the date at which their
        covariates were measured (their reference date).
    exit_date, exit_type : str, optional
        Date of leaving unemployment and where to (``exit_codes``). Both missing means still
        registered at the cut-off (censored).
    cutoff : str or date-like, optional
        Data cut-off: a column name or one date for everyone. Follow-up ends there.
    subgroup : str, optional
        Column to report effects by, e.g. ``"gender"``.
    covariates : sequence of str
        Characteristics known at the start date, used for matching and balance.
    exit_codes : dict
        Each exit type and its role: ``"event"`` (the outcome: work or studies) or
        ``"competing"`` (another exit that ends the spell).

    Examples
    --------
    >>> roles = Roles(id="person_id", treatment="participant", start="start_date",
    ...               exit_date="exit_date", exit_type="exit_type", cutoff="2022-10-31",
    ...               subgroup="gender", covariates=("age", "education"))
    >>> roles.columns()[:3]
    ['person_id', 'participant', 'start_date']
    """

    id: str
    treatment: str
    start: str
    exit_date: str | None = None
    exit_type: str | None = None
    cutoff: str | pd.Timestamp | None = None
    subgroup: str | None = None
    covariates: tuple[str, ...] = ()
    exit_codes: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_EXIT_CODES))

    def __post_init__(self) -> None:
        object.__setattr__(self, "covariates", tuple(self.covariates))
        for code, role in self.exit_codes.items():
            check_option(f"exit_codes[{code!r}]", role, ["event", "competing"], "Roles")
        if (self.exit_date is None) != (self.exit_type is None):
            raise ParameterError("Roles: give both 'exit_date' and 'exit_type', or neither.")

    def cutoff_is_column(self, data: pd.DataFrame) -> bool:
        return isinstance(self.cutoff, str) and self.cutoff in data.columns

    def columns(self, data: pd.DataFrame | None = None) -> list[str]:
        """Every column the roles refer to, in role order."""
        cols = [self.id, self.treatment, self.start]
        cols += [c for c in (self.exit_date, self.exit_type, self.subgroup) if c is not None]
        if isinstance(self.cutoff, str) and (data is None or not looks_like_date(self.cutoff)):
            cols.append(self.cutoff)
        cols += [c for c in self.covariates if c not in cols]
        return cols


@dataclass(frozen=True)
class Validated:
    """Data that passed every check, with dates parsed, and the flow so far."""

    data: pd.DataFrame
    roles: Roles
    flow: Flow

    def __repr__(self) -> str:
        t = self.data[self.roles.treatment]
        return f"Validated({len(self.data)} rows: {int(t.sum())} treated, {int((t == 0).sum())} untreated)"


@validate_params({"data": [InstanceOf(pd.DataFrame, "a pandas DataFrame")],
                  "roles": [InstanceOf(Roles, "a Roles (impact.Roles)")],
                  "missing": [Options(["error", "drop"])],
                  "date_format": [InstanceOf(str, "a str"), None]})
def validate(data: pd.DataFrame, roles: Roles, *, missing: Literal["error", "drop"] = "error",
             date_format: str | None = None) -> Validated:
    """Check ``data`` against every rule the roles imply, before anything else runs.

    Rules, each with its own error: every role column exists; no missing identifiers,
    treatments, start dates or covariates (unless ``missing="drop"``, which drops and counts
    the rows); treatment is 0/1 or boolean; identifiers are unique; dates parse; exit date and
    exit type are both present or both missing; exit types are declared in
    ``roles.exit_codes``; no exit before the start; no start after the cut-off; there are
    treated and untreated rows.

    Parameters
    ----------
    data : DataFrame
        One row per person (participants and potential controls).
    roles : Roles
        Which column plays which role.
    missing : {"error", "drop"}
        What to do with missing covariate values. ``"drop"`` removes those rows and records
        them in the flow table as "missing covariates".
    date_format : str, optional
        strftime format of the date columns when they are strings; ISO 8601 by default.

    Returns
    -------
    Validated
        ``.data`` (a copy with parsed dates, treatment as 0/1, original index kept) and
        ``.flow`` (eligible, then any rows dropped).

    Examples
    --------
    >>> import impact
    >>> sim = impact.simulate(n_pool=2000, random_state=1)
    >>> v = validate(sim.registers, sim.roles)
    >>> bool(v.flow.table().loc["eligible", "all"] == len(sim.registers))
    True
    """
    check_columns(data, roles.columns(data), role="column")
    if len(data) == 0:
        raise DataError("The data have no rows.", rule="data must not be empty")

    df = data.copy()
    sub = roles.subgroup

    # identifiers: present and unique
    ids = df[roles.id]
    if ids.isna().any():
        raise data_error(roles.id, "missing identifiers", ids.isna().to_numpy())
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        raise data_error(roles.id, "duplicate identifiers (each person must appear once)", dup,
                         f"Inspect with df[df[{roles.id!r}].duplicated(keep=False)].")

    df[roles.treatment] = check_treatment(df[roles.treatment], roles.treatment)
    df[roles.start] = parse_dates(df[roles.start], roles.start, date_format=date_format)

    if roles.exit_date is not None:
        df[roles.exit_date] = parse_dates(df[roles.exit_date], roles.exit_date, allow_missing=True,
                                          date_format=date_format)
        et = df[roles.exit_type]
        mismatch = (df[roles.exit_date].isna() != et.isna()).to_numpy()
        if mismatch.any():
            raise data_error(f"{roles.exit_date}/{roles.exit_type}",
                             "exit date and exit type must both be present or both missing "
                             "(missing both means still registered at the cut-off)", mismatch)
        unknown = et.notna().to_numpy() & ~et.isin(list(roles.exit_codes)).to_numpy()
        if unknown.any():
            codes = ", ".join(repr(v) for v in pd.unique(et[unknown])[:10])
            raise data_error(str(roles.exit_type), f"exit types not declared in exit_codes: {codes} "
                             f"(declared: {', '.join(map(repr, roles.exit_codes))})", unknown,
                             "Declare them, e.g. Roles(..., exit_codes={'work': 'event', ...}).")
        before = (df[roles.exit_date] < df[roles.start]).to_numpy()
        if before.any():
            raise data_error(roles.exit_date, f"exit before the start date ('{roles.start}')", before)

    if roles.cutoff is not None:
        cut = _cutoff_series(df, roles, date_format)
        late = (df[roles.start] > cut).to_numpy()
        if late.any():
            raise data_error(roles.start, "start date after the data cut-off", late,
                             "People who start after the cut-off cannot be followed up; "
                             "filter them out first.")
    if sub is not None:
        smiss = df[sub].isna().to_numpy()
        if smiss.any():
            raise data_error(sub, "missing subgroup values", smiss)

    flow = Flow().add("eligible", "rows in the input", df, df, treatment=roles.treatment, subgroup=sub)
    # covariates: missing values are an error unless the user asks to drop them
    cov_missing = {c: int(df[c].isna().sum()) for c in roles.covariates if df[c].isna().any()}
    if cov_missing:
        if missing == "error":
            anymiss = df[list(cov_missing)].isna().any(axis=1).to_numpy()
            detail = ", ".join(f"'{c}' ({n})" for c, n in cov_missing.items())
            raise data_error(next(iter(cov_missing)),
                             f"missing covariate values in {detail}", anymiss,
                             "Impute them, or pass missing='drop' to drop those rows "
                             "(they are then counted in the flow table).")
        keep = ~df[list(cov_missing)].isna().any(axis=1)
        before_df = df
        df = df[keep]
        flow = flow.add("complete covariates", "missing covariate values", before_df, df,
                        treatment=roles.treatment, subgroup=sub)

    t = df[roles.treatment]
    if (t == 1).sum() == 0:
        raise DataError(f"Column '{roles.treatment}': no treated rows (value 1); nothing to evaluate.",
                        column=roles.treatment, rule="needs treated rows")
    if (t == 0).sum() == 0:
        raise DataError(f"Column '{roles.treatment}': no untreated rows (value 0); no one to compare with.",
                        column=roles.treatment, rule="needs untreated rows")
    return Validated(data=df, roles=roles, flow=flow)


def _cutoff_series(df: pd.DataFrame, roles: Roles, date_format: str | None) -> pd.Series:
    if roles.cutoff_is_column(df):
        return parse_dates(df[roles.cutoff], str(roles.cutoff), date_format=date_format)
    try:
        value = pd.Timestamp(roles.cutoff)
    except (ValueError, TypeError) as exc:
        raise ParameterError(
            f"The 'cutoff' role must be a column name or a date. Got {roles.cutoff!r}."
        ) from exc
    return pd.Series(value.normalize(), index=df.index)


@validate_params({"data": [InstanceOf(pd.DataFrame, "a pandas DataFrame")], "subgroup": ["column"],
                  "treatment": ["column"], "step": [InstanceOf(str, "a str")]})
def require_subgroup_levels(data: pd.DataFrame, subgroup: str, treatment: str,
                            step: str = "after matching") -> list:
    """Raise a :class:`DataError` if some level of ``subgroup`` has no treated or no controls."""
    levels = sorted(pd.unique(data[subgroup]).tolist(), key=str)
    for lev in levels:
        rows = data[subgroup] == lev
        nt = int((data.loc[rows, treatment] == 1).sum())
        nc = int((data.loc[rows, treatment] == 0).sum())
        if nt == 0 or nc == 0:
            raise DataError(
                f"Column '{subgroup}': subgroup {lev!r} is empty {step} "
                f"({nt} treated, {nc} controls); its effect cannot be estimated. "
                "Drop the subgroup from `by`, or loosen the caliper.",
                column=subgroup, rule="subgroup must have treated and controls")
    return levels

