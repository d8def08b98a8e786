"""Outcomes from dates: time from programme start to work or studies, with competing exits.

The clock starts on the start day (day 1) and stops on the day of the first exit from
unemployment. An exit to work or studies is the event (code 1); an exit to another
destination ends the spell without the event and competes with it (code 2); people still
registered at the data cut-off are censored there (code 0). Exits after the cut-off are not
yet observed and are censored at the cut-off too.

For a control, the clock can start on its own reference date (``clock="own"``, right when each
control carries its participant's start date as its own, as in risk-set matching) or on the
start date of the participant it stands for (``clock="matched"``).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from impact._errors import DataError, data_error
from impact._validation import InstanceOf, Options, check_columns, parse_dates, validate_params
from impact.data import Roles

__all__ = ["time_to_event", "EVENT", "COMPETING", "CENSORED"]

CENSORED, EVENT, COMPETING = 0, 1, 2


@validate_params({"data": [InstanceOf(pd.DataFrame, "a pandas DataFrame")],
                  "roles": [InstanceOf(Roles, "an impact.Roles")],
                  "clock": [Options(["own", "matched"])],
                  "subclass": ["column"]})
def time_to_event(data: pd.DataFrame, roles: Roles, *, clock: Literal["own", "matched"] = "own",
                  subclass: str = "subclass") -> pd.DataFrame:
    """Add ``duration``, ``event`` and ``exit_cause`` columns computed from the dates.

    Parameters
    ----------
    data : DataFrame
        Validated (or matched) data with the columns named in ``roles``.
    roles : Roles
        Needs ``start``, ``exit_date``, ``exit_type`` and ``cutoff``.
    clock : {"own", "matched"}
        ``"own"``: every row's clock starts on its own start date. ``"matched"``: a control's
        clock starts on the start date of the participant in its matched set (column
        ``subclass``); a control who left unemployment before that date is an error, since it
        could not have stood for that participant (use risk-set matching instead).
    subclass : str
        Matched-set column, for ``clock="matched"``.

    Returns
    -------
    DataFrame
        A copy with ``duration`` (days, start day = day 1), ``event`` (0 censored, 1 work or
        studies, 2 other exit) and ``exit_cause`` (the exit type, or ``"censored"``), plus
        ``analysis_start`` (the date the clock started).

    Examples
    --------
    >>> import impact
    >>> sim = impact.simulate(n_pool=1000, random_state=3)
    >>> out = time_to_event(sim.registers, sim.roles)
    >>> sorted(out["event"].unique().tolist())
    [0, 1, 2]
    >>> bool((out["duration"] >= 1).all())
    True
    """
    exit_col, type_col = roles.exit_date, roles.exit_type
    absent = [r for r in ("exit_date", "exit_type", "cutoff") if getattr(roles, r) is None]
    if absent or exit_col is None or type_col is None:
        role = absent[0] if absent else "exit_date"
        raise DataError(f"time_to_event needs the '{role}' role; declare it in Roles(...).",
                        rule=f"role {role} required")
    need = [roles.start, exit_col, type_col]
    if roles.cutoff_is_column(data):
        need.append(str(roles.cutoff))
    check_columns(data, need)
    df = data.copy()
    start = parse_dates(df[roles.start], roles.start)
    exit_date = parse_dates(df[exit_col], exit_col, allow_missing=True)
    if roles.cutoff_is_column(df):
        cutoff = parse_dates(df[str(roles.cutoff)], str(roles.cutoff))
    else:
        cutoff = pd.Series(pd.Timestamp(roles.cutoff).normalize(), index=df.index)

    if clock == "matched":
        start = _matched_start(df, start, roles.treatment, subclass)

    # whole days (the dates are normalised): int64 day numbers, NaT the smallest
    s_day = _days(start)
    x_day = _days(exit_date)
    c_day = _days(cutoff)
    has_exit = exit_date.notna().to_numpy()
    late = s_day > c_day
    if late.any():
        raise data_error(roles.start, "clock starts after the data cut-off", late)
    early_exit = has_exit & (x_day < s_day)
    if early_exit.any():
        what = ("controls who left unemployment before the participant they stand for started"
                if clock == "matched" else "exit before the start date")
        raise data_error(exit_col, what, early_exit,
                         "Use risk-set matching, where each control is still unemployed on its "
                         "participant's start date." if clock == "matched" else None)

    exit_type = df[type_col]
    unknown = exit_type.notna().to_numpy() & ~exit_type.isin(list(roles.exit_codes)).to_numpy()
    if unknown.any():
        raise data_error(type_col, "exit types not declared in exit_codes", unknown)
    observed = has_exit & (x_day <= c_day)
    end = np.where(observed, x_day, c_day)
    is_event = exit_type.isin([code for code, r in roles.exit_codes.items() if r == "event"]).to_numpy()
    event = np.where(~observed, CENSORED, np.where(is_event, EVENT, COMPETING))

    df["analysis_start"] = start
    df["duration"] = end - s_day + 1
    df["event"] = event.astype(np.int8)
    if exit_type.dtype == object:
        df["exit_cause"] = pd.Series(np.where(observed, exit_type.to_numpy(), "censored"), index=df.index,
                                     dtype=object)
    else:
        df["exit_cause"] = exit_type.where(observed, "censored").astype(object)
    return df


def _days(dates: pd.Series) -> np.ndarray:
    """Normalised dates as int64 day numbers (NaT: the smallest int64)."""
    return dates.to_numpy().astype("datetime64[D]").view(np.int64)


def _matched_start(df: pd.DataFrame, start: pd.Series, treatment: str, subclass: str) -> pd.Series:
    check_columns(df, [treatment, subclass], role="column (needed for clock='matched')")
    treated = df[treatment] == 1
    tstart = start[treated].groupby(df.loc[treated, subclass]).agg(["size", "first"])
    if (tstart["size"] > 1).any():
        raise DataError(
            f"Column '{subclass}': some matched sets hold more than one participant, so a "
            "control's clock has no single start date; use clock='own'.",
            column=subclass, rule="one participant per matched set")
    mapped = df[subclass].map(tstart["first"])
    orphan = (~treated & mapped.isna()).to_numpy()
    if orphan.any():
        raise data_error(subclass, "controls whose matched set has no participant", orphan)
    return start.where(treated, mapped).astype("datetime64[ns]")
