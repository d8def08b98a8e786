"""Time in states after an index date, from the register: days in work or studies, months with a benefit.

The register does not record work; it records the end of a registration spell and its reason. A
person deregistered with a code whose role is ``"event"`` (work or studies, see
:class:`impact.registers.ExitCodes`) is counted *in work or studies* from the day of the
deregistration until the day before the person registers again, or through the cut-off day when
the person never comes back. These registration gaps are the only days counted: a gap after a
competing or censoring exit (moved, unknown reason, ...) is not work.

Everything is integer days, sorted once by (person, date): each row is two ``searchsorted`` look-ups
of a cumulative sum, never a loop over persons.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd

from impact._errors import ParameterError
from impact._validation import (
    Constraint,
    InstanceOf,
    Interval,
    Options,
    validate_params,
)
from impact.registers._codes import ExitCodes
from impact.registers._extract import (
    MMULT,
    MULT,
    OPEN,
    Prepared,
    RegisterExtract,
    index_rows,
    month_index,
    register_error,
)

__all__ = ["time_in_states", "work_column", "benefit_column"]


def work_column(horizon: int) -> str:
    """The column of days in work or studies within ``horizon`` days (``days_in_work_365``)."""
    return f"days_in_work_{int(horizon)}"


def benefit_column(name: str, months: int) -> str:
    """The column of months with benefit ``name`` in the ``months`` months after the index month."""
    return f"{name}_months_after_{int(months)}m"


class _WholeDays(Constraint):
    """A whole number of days >= 1, or a non-empty sequence of them."""

    def is_satisfied_by(self, value: Any) -> bool:
        vals = [value] if isinstance(value, Integral) else value
        if isinstance(vals, (str, bytes)) or not isinstance(vals, (Sequence, np.ndarray, pd.Series)):
            return False
        vals = list(vals)
        return len(vals) > 0 and all(isinstance(v, Integral) and not isinstance(v, bool) and int(v) >= 1
                                     for v in vals)

    def describe(self) -> str:
        return "a whole number of days >= 1 or a non-empty list of them"

    def invalid(self) -> list[Any]:
        return [0, -365, [], [365.5], ["365"], True]


def _horizons(value: Any) -> list[int]:
    vals = [value] if isinstance(value, Integral) else list(value)
    return sorted({int(v) for v in vals})


def _work_gaps(prep: Prepared, codes: ExitCodes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The gaps in work or studies, sorted by (person, start): person, start, end (exclusive), cumulative days."""
    ended = prep.sp_dereg != OPEN
    role = np.full(len(prep.sp_p), None, dtype=object)
    if ended.any():
        role[ended] = codes.role_of(prep.sp_code[ended])
    unknown = ended & pd.isna(role)
    if unknown.any():
        raise register_error("spells", prep.extract.columns.code, "deregistration codes that the codes table does "
                             "not know", prep.sp_pos[unknown], "Add them with codes.with_roles({...}).")
    is_gap = ended & (role == "event")
    n = len(prep.sp_p)
    nxt_same = np.zeros(n, dtype=bool)
    if n > 1:
        nxt_same[:-1] = prep.sp_p[1:] == prep.sp_p[:-1]
    nxt_reg = np.empty(n, dtype=np.int64)
    if n:
        nxt_reg[:-1] = prep.sp_reg[1:]
        nxt_reg[-1] = OPEN
    end_all = np.where(nxt_same, nxt_reg, prep.cutoff + 1)   # the cut-off day is covered
    g_p = prep.sp_p[is_gap].astype(np.int64)
    g_start = prep.sp_dereg[is_gap].astype(np.int64)
    g_end = end_all[is_gap].astype(np.int64)
    length = g_end - g_start
    cum = np.concatenate([[0], np.cumsum(length)]).astype(np.int64)
    # days in the person's earlier gaps: the running sum minus the sum before the person's first gap
    first = np.searchsorted(g_p, g_p, side="left")
    cumprev = cum[:-1] - cum[first]
    return g_p, g_start, g_end, cumprev


def _days_before(g_p: np.ndarray, g_start: np.ndarray, g_end: np.ndarray, cumprev: np.ndarray,
                 p: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Days of person ``p`` in its gaps before day ``x`` (days ``< x``)."""
    if not len(g_p):
        return np.zeros(len(p), np.int64)
    key = g_p * MULT + g_start
    k = np.searchsorted(key, p * MULT + x, side="left") - 1     # the last gap starting before x
    kk = np.maximum(k, 0)
    own = (k >= 0) & (g_p[kk] == p)
    part = np.minimum(x, g_end[kk]) - g_start[kk]
    return np.where(own, cumprev[kk] + part, 0).astype(np.int64)


@validate_params({"extract": [InstanceOf(RegisterExtract, "a RegisterExtract")],
                  "index": [InstanceOf(pd.DataFrame, "a pandas DataFrame")],
                  "date": ["column"],
                  "horizons": [_WholeDays(), None],
                  "months": [Interval(Integral, 1, None), None],
                  "benefits": ["columns", None],
                  "incomplete": [Options(("missing", "error"))],
                  "codes": [InstanceOf(ExitCodes, "an ExitCodes table"), None]})
def time_in_states(extract: RegisterExtract, index: pd.DataFrame, *, date: str = "index_date",
                   horizons: int | Sequence[int] | None = (365,), months: int | None = 12,
                   benefits: str | Sequence[str] | None = None, incomplete: str = "missing",
                   codes: ExitCodes | None = None) -> pd.DataFrame:
    """Days in work or studies within ``h`` days of each index date, and months with each benefit after it.

    Parameters
    ----------
    extract : RegisterExtract
    index : DataFrame
        One row per (person, index date): the extract's id column and ``date``; e.g. matched data
        (participants and their controls, each control with its participant's start date).
    date : str
        Column of index dates.
    horizons : int or sequence of int, optional
        Windows in days. For each ``h``, ``days_in_work_<h>`` counts the days of the window
        ``[index date, index date + h)`` on which the person was in work or studies: deregistered
        with a code whose role is ``"event"`` and not registered again yet. A gap in work that
        began before the index date counts from the index date; days before it never count.
        ``None``: no such columns.
    months : int, optional
        For each benefit register, ``<benefit>_months_after_<months>m`` counts the calendar months
        with the benefit among the ``months`` months *after* the index month. The index month
        itself is not counted: it is partly before the index date, and the matching covariate
        ``<benefit>_months_12m`` counts the 12 months before it, so covariate and outcome never
        share a month. ``None``: no benefit columns.
    benefits : str or list of str, optional
        The benefit registers of the extract to count (default: all of them).
    incomplete : {"missing", "error"}
        A row whose window passes the cut-off is not fully observed: its value is missing
        (default: the caller keeps the rows with complete follow-up and counts the others as a
        drop) or it is an error naming the rows.
    codes : ExitCodes, optional
        Override the extract's code table (e.g. ``extract.codes.unknown_as("event")``).

    Returns
    -------
    DataFrame
        Aligned with ``index``: ``follow_up_days`` (days observed from the index date through the
        cut-off day), ``follow_up_months`` (whole calendar months observed after the index month;
        a month counts when the cut-off is on or after its last day), then ``days_in_work_<h>`` for
        each horizon and ``<benefit>_months_after_<months>m`` for each benefit (float; missing
        when the window passes the cut-off).

    Raises
    ------
    ParameterError
        A horizon that no row can observe (longer than the time from the earliest index date to
        the cut-off), an unknown benefit name.
    DataError
        Ids not in the extract; with ``incomplete="error"``, rows whose window passes the cut-off.

    Examples
    --------
    >>> import pandas as pd
    >>> from impact.registers import RegisterExtract, time_in_states
    >>> ext = RegisterExtract(
    ...     persons=pd.DataFrame({"person_id": ["a", "b"], "gender": ["female", "male"], "birth_year": [1980, 1990]}),
    ...     spells=pd.DataFrame({"person_id": ["a", "a", "b"],
    ...                          "registered": ["2021-01-10", "2021-03-01", "2021-02-01"],
    ...                          "deregistered": ["2021-02-01", None, "2021-02-11"], "code": ["11", None, "90"]}),
    ...     programme=pd.DataFrame({"person_id": ["a"], "start": ["2021-01-11"]}), cutoff="2021-12-31",
    ...     benefits={"economic_assistance": pd.DataFrame({"person_id": ["a", "a"], "month": ["2021-01", "2021-02"]})})
    >>> idx = pd.DataFrame({"person_id": ["a", "b"], "index_date": ["2021-01-11", "2021-02-01"]})
    >>> time_in_states(ext, idx, horizons=[30, 90], months=3).drop(columns=["follow_up_days", "follow_up_months"])
       days_in_work_30  days_in_work_90  economic_assistance_months_after_3m
    0              9.0             28.0                                  1.0
    1              0.0              0.0                                  0.0
    """
    prep, p64, t = index_rows(extract, index, date)
    t = t.astype(np.int64)
    table = codes if codes is not None else extract.codes
    hs = [] if horizons is None else _horizons(horizons)
    if isinstance(benefits, str):
        benefits = [benefits]
    names = list(extract.benefits) if benefits is None else list(benefits)
    unknown = [b for b in names if b not in prep.benefit_keys]
    if unknown:
        valid = ", ".join(prep.benefit_keys) or "none: the extract has no benefit registers"
        raise ParameterError(f"The 'benefits' parameter of time_in_states names registers the extract does not "
                             f"have: {', '.join(unknown)}. Valid: {valid}.")
    if months is None:
        names = []

    follow_days = prep.cutoff + 1 - t                      # days t .. cutoff
    cut_month = int(month_index(np.array([prep.cutoff]))[0])
    last_full = cut_month if int(month_index(np.array([prep.cutoff + 1]))[0]) > cut_month else cut_month - 1
    m0 = month_index(t)
    follow_months = last_full - m0
    out: dict[str, np.ndarray] = {"follow_up_days": np.maximum(follow_days, 0).astype(np.int64),
                                  "follow_up_months": np.maximum(follow_months, 0).astype(np.int64)}
    longest = int(follow_days.max()) if len(t) else 0
    for h in hs:
        if len(t) and h > longest:
            raise ParameterError(f"The horizon {h} days of time_in_states is beyond follow-up: the longest window "
                                 f"observed before the cut-off {extract.cutoff.date()} is {max(longest, 0)} days "
                                 "(from the earliest index date). Use a shorter horizon.")
    if months is not None and names and len(t) and months > int(follow_months.max()):
        raise ParameterError(f"The 'months' parameter of time_in_states ({months}) is beyond follow-up: at most "
                             f"{max(int(follow_months.max()), 0)} whole months after the index month are observed "
                             f"before the cut-off {extract.cutoff.date()}. Use fewer months.")
    if hs:
        g_p, g_start, g_end, cumprev = _work_gaps(prep, table)
        before = _days_before(g_p, g_start, g_end, cumprev, p64, t)
        for h in hs:
            complete = t + h <= prep.cutoff + 1
            if incomplete == "error" and (~complete).any():
                raise register_error("index", date, f"the window of {h} days passes the cut-off "
                                     f"{extract.cutoff.date()} (not fully observed)", ~complete,
                                     "Keep the rows with complete follow-up, or use a shorter horizon.")
            upto = np.minimum(t + h, prep.cutoff + 1)
            days = (_days_before(g_p, g_start, g_end, cumprev, p64, upto) - before).astype(np.float64)
            days[~complete] = np.nan
            out[work_column(h)] = days
    for name in names:
        assert months is not None
        keys = prep.benefit_keys[name]
        hi = np.searchsorted(keys, p64 * MMULT + m0 + months, side="right")
        lo = np.searchsorted(keys, p64 * MMULT + m0 + 1, side="left")
        complete = m0 + months <= last_full
        if incomplete == "error" and (~complete).any():
            raise register_error("index", date, f"the {months} months after the index month pass the cut-off "
                                 f"{extract.cutoff.date()} (not fully observed)", ~complete,
                                 "Keep the rows with complete follow-up, or count fewer months.")
        counts = (hi - lo).astype(np.float64)
        counts[~complete] = np.nan
        out[benefit_column(name, months)] = counts
    return pd.DataFrame(out, index=index.index)
