"""Outcomes from the spell open on the index date: time to deregistration, its role and its cause."""

from __future__ import annotations

import numpy as np
import pandas as pd

from impact._validation import (
    InstanceOf,
    Options,
    validate_params,
)
from impact.registers._codes import ExitCodes
from impact.registers._extract import (
    OPEN,
    RegisterExtract,
    from_days,
    index_rows,
    register_error,
)

__all__ = ["outcomes_from_spells"]

_STATUS = {"censored": 0, "event": 1, "competing": 2}


@validate_params({"extract": [InstanceOf(RegisterExtract, "a RegisterExtract")],
                  "index": [InstanceOf(pd.DataFrame, "a pandas DataFrame")],
                  "date": ["column"],
                  "censor_at_entry": ["boolean"],
                  "unregistered": [Options(("error", "keep"))],
                  "codes": [InstanceOf(ExitCodes, "an ExitCodes table"), None]})
def outcomes_from_spells(extract: RegisterExtract, index: pd.DataFrame, *, date: str = "index_date",
                         censor_at_entry: bool = False, unregistered: str = "error",
                         codes: ExitCodes | None = None) -> pd.DataFrame:
    """Time from each index date to the end of the spell open on it, with the exit's role and cause.

    Parameters
    ----------
    extract : RegisterExtract
    index : DataFrame
        One row per (person, index date): the extract's id column and ``date``; e.g. matched data.
    date : str
        Column of index dates (the start of each row's clock).
    censor_at_entry : bool
        Censor a row on the day its person starts the programme when that is after the index date
        and before the exit: the controls of the ``join_vs_never`` estimand (a participant's own
        row, whose index date is its start, is never censored for it).
    unregistered : {"error", "keep"}
        A row whose person has no spell open on its date is an error naming the rows (default), or
        is kept with missing duration and role ``"not registered"``.
    codes : ExitCodes, optional
        Override the extract's code table (e.g. ``extract.codes.unknown_as("event")``).

    Returns
    -------
    DataFrame
        Aligned with ``index``: ``duration`` (days from the index date to deregistration, to the
        programme start, or to the day after the cut-off: a spell open at the cut-off was followed
        through the whole cut-off day), ``event`` (1 when the role is ``"event"``), ``status``
        (0 censored, 1 event, 2 competing: for Aalen-Johansen and Fine-Gray), ``role``, ``cause``
        (missing when censored at the cut-off or at entry), ``code``, ``exit_date`` and ``end``
        (``"exit"``, ``"cutoff"`` or ``"programme"``).

    Examples
    --------
    >>> import pandas as pd
    >>> from impact.registers import RegisterExtract, outcomes_from_spells
    >>> ext = RegisterExtract(
    ...     persons=pd.DataFrame({"person_id": ["a", "b"], "gender": ["female", "male"], "birth_year": [1980, 1990]}),
    ...     spells=pd.DataFrame({"person_id": ["a", "b"], "registered": ["2021-01-10", "2021-02-01"],
    ...                          "deregistered": ["2021-06-30", None], "code": ["12", None]}),
    ...     programme=pd.DataFrame({"person_id": ["a"], "start": ["2021-04-12"]}), cutoff="2021-12-31")
    >>> idx = pd.DataFrame({"person_id": ["a", "b"], "index_date": ["2021-04-12", "2021-04-12"]})
    >>> outcomes_from_spells(ext, idx)[["duration", "role", "cause", "end"]].to_numpy().tolist()
    [[79.0, 'event', 'nystartsjobb', 'exit'], [264.0, 'censored', nan, 'cutoff']]
    """
    prep, p64, t = index_rows(extract, index, date)
    table = codes if codes is not None else extract.codes
    j, is_open = prep.spell_at(p64, t)
    if (~is_open).any() and unregistered == "error":
        raise register_error("index", date, "no registration spell of the person is open on the index date", ~is_open,
                             "Index dates must fall in a spell (registered <= date < deregistered); "
                             "use unregistered='keep' to keep these rows with a missing duration.")
    jj = np.maximum(j, 0)
    dereg = np.where(is_open, prep.sp_dereg[jj], OPEN)
    exits = is_open & (dereg < OPEN)
    end_day = np.where(exits, dereg, prep.cutoff + 1)
    code = np.full(len(t), None, dtype=object)
    code[exits] = prep.sp_code[jj[exits]]
    role = np.where(exits, table.role_of(code), "censored").astype(object)
    missing_role = exits & pd.isna(role)
    if missing_role.any():
        raise register_error("index", date, "the spell ends with a code that the codes table does not know",
                             missing_role, "Add it with codes.with_roles({...}).")
    cause = np.full(len(t), None, dtype=object)
    cause[exits] = table.cause_of(code)[exits]
    end = np.where(exits, "exit", "cutoff").astype(object)
    if censor_at_entry:
        st = prep.start[p64]
        cens = is_open & (st > t) & (st < end_day)
        end_day = np.where(cens, st, end_day)
        role[cens] = "censored"
        cause[cens] = None
        code[cens] = None
        end[cens] = "programme"
    duration = (end_day - t).astype(np.float64)
    duration[~is_open] = np.nan
    role[~is_open] = "not registered"
    end[~is_open] = None
    cause[~is_open] = None
    code[~is_open] = None
    exit_day = np.where(end == "exit", end_day, OPEN)
    status = pd.Series(role).map(_STATUS)
    out = pd.DataFrame({
        "duration": duration,
        "event": (role == "event").astype(np.int8),
        "status": status.to_numpy(dtype=np.float64) if status.isna().any() else status.to_numpy(dtype=np.int8),
        "role": role,
        "cause": pd.Series(cause).where(pd.notna(cause), np.nan).to_numpy(dtype=object),
        "code": pd.Series(code).where(pd.notna(code), np.nan).to_numpy(dtype=object),
        "exit_date": from_days(exit_day),
        "end": end,
    }, index=index.index)
    return out
