"""Risk sets: for each period, the people registered and not yet in the programme on its first day.

Covariates are as known on a date: they use only information dated before it (the spell open on
the date and its registration day, earlier spells, benefit months of earlier calendar months).
The sets are built one period at a time, so national registers never hold all person-periods.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from impact._errors import ParameterError
from impact._validation import (
    InstanceOf,
    Options,
    validate_params,
)
from impact.registers._extract import (
    OPEN,
    Prepared,
    RegisterExtract,
    as_day,
    index_rows,
    from_days,
    prepare,
    to_days,
)

__all__ = ["HISTORY", "RiskSets", "covariates_at", "risk_sets"]

#: the history covariates, as of the date (benefit registers add ``<name>_months_12m``)
HISTORY: tuple[str, ...] = ("age", "elapsed_days", "days_registered_24m", "earlier_spells")

_FREQ = {"month": "M", "quarter": "Q"}
_DATE = InstanceOf((str, datetime.date, np.datetime64), "a date (str or Timestamp)")
#: dtypes of the history columns of the risk-set frames: narrow integers (the values fit with
#: room to spare: ages, days within 24 months, counts of spells; products such as age**2 too)
_DTYPES: dict[str, Any] = {"age": np.int16, "elapsed_days": np.float64, "days_registered_24m": np.int32,
                           "earlier_spells": np.int32}
_BENEFIT_DTYPE = np.int16        # months with a benefit among 12


def _narrow_int(v: np.ndarray) -> np.dtype[Any]:
    """The smallest signed integer dtype (of the column's kind) that holds every value of ``v``."""
    if not len(v):
        return v.dtype
    lo, hi = int(v.min()), int(v.max())
    for dt in (np.int8, np.int16, np.int32):
        info = np.iinfo(dt)
        if info.min <= lo and hi <= info.max:
            return np.dtype(dt)
    return v.dtype


def _period_starts(days: np.ndarray, period: str) -> np.ndarray:
    """Relative day of the first day of the period containing each relative day."""
    if not len(days):
        return np.zeros(0, np.int64)
    dates = pd.DatetimeIndex(from_days(days))
    starts = dates.to_period(_FREQ[period]).start_time
    return to_days(pd.Series(starts))


class RiskSets:
    """The risk sets of an extract, one period at a time (iterate), with their flow of people.

    Made by :func:`risk_sets`. Iterating yields one DataFrame per period (see :func:`risk_sets`);
    :meth:`to_frame` stacks them (column by column), :meth:`flow` counts people per period
    and :meth:`summary` gives the flow from everyone in the extract to the treated rows.
    """

    def __init__(self, prepared: Prepared, period: str, starts: np.ndarray, treated_covariates: str) -> None:
        self._prep = prepared
        self.period = period
        self._starts = starts            # relative first days, len(periods) + 1 (the last is the end)
        self.treated_covariates = treated_covariates
        self._entry = np.full(prepared.n_persons, OPEN, dtype=np.int64)
        has = prepared.start < OPEN
        self._entry[has] = _period_starts(prepared.start[has], period)

    @property
    def periods(self) -> pd.DatetimeIndex:
        """The first day of each period."""
        return pd.DatetimeIndex(from_days(self._starts[:-1]), name="period")

    @property
    def covariates(self) -> list[str]:
        """The covariate columns of every risk-set frame: history, benefits and the fixed person columns."""
        ext = self._prep.extract
        return [*HISTORY, *(f"{b}_months_12m" for b in ext.benefits), *ext.fixed_columns]

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __iter__(self) -> Iterator[pd.DataFrame]:
        for t in range(len(self)):
            yield self.frame(t)

    def _registered(self, d: int) -> np.ndarray:
        """Persons with a spell open on day d (each at most once: spells do not overlap)."""
        prep = self._prep
        k = np.searchsorted(prep.reg_sorted, d, side="right")
        cand = prep.reg_order[:k]
        return prep.sp_p[cand[prep.sp_dereg[cand] > d]]

    def _starting(self, d: int, d2: int) -> np.ndarray:
        start = self._prep.start
        return np.flatnonzero((start >= d) & (start < d2))

    def _at_risk(self, t: int) -> np.ndarray:
        """The persons at risk on the first day of period ``t`` (registered, not yet started), sorted."""
        prep = self._prep
        d = int(self._starts[t])
        reg = self._registered(d)
        return np.sort(reg[prep.start[reg] >= d])

    def _rows(self, t: int, at_risk: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """``(persons, treated, asof, first day)`` of the rows of period ``t``, in person order
        (``at_risk``: :meth:`_at_risk` of ``t``, when found already)."""
        prep = self._prep
        d, d2 = int(self._starts[t]), int(self._starts[t + 1])
        if at_risk is None:
            at_risk = self._at_risk(t)
        starting = prep.start[at_risk] < d2
        if self.treated_covariates == "period_start":
            p = at_risk
            treated = starting
            asof = np.full(len(p), d, dtype=np.int64)
        else:
            treated_p = self._starting(d, d2)
            controls = at_risk[~starting]
            p = np.concatenate([controls, treated_p])
            treated = np.concatenate([np.zeros(len(controls), bool), np.ones(len(treated_p), bool)])
            asof = np.concatenate([np.full(len(controls), d, np.int64), prep.start[treated_p]])
            order = np.argsort(p, kind="stable")
            p, treated, asof = p[order], treated[order], asof[order]
        return p, treated, asof, d

    def _fill(self, out: dict[str, np.ndarray], at: slice, p: np.ndarray, treated: np.ndarray,
              asof: np.ndarray, d: int) -> None:
        """Write the columns of one period's rows into ``out[name][at]`` (preallocated arrays)."""
        prep = self._prep
        c = self._prep.extract.columns
        out[c.id][at] = prep.ids[p]
        out["period"][at] = from_days(np.array([d], np.int64))[0]
        out["index_date"][at] = from_days(np.where(treated, prep.start[p], d))
        out["asof"][at] = from_days(asof)
        out["treated"][at] = treated
        out["entry"][at] = from_days(self._entry[p])
        for name, values in prep.history(p, asof).items():
            out[name][at] = values

    def _empty(self, n: int) -> dict[str, np.ndarray]:
        """The columns of ``n`` rows, uninitialised, in their (narrow) dtypes."""
        ext = self._prep.extract
        ns = "datetime64[ns]"
        out: dict[str, np.ndarray] = {ext.columns.id: np.empty(n, dtype=self._prep.ids.dtype),
                                      "period": np.empty(n, ns), "index_date": np.empty(n, ns),
                                      "asof": np.empty(n, ns), "treated": np.empty(n, np.int8),
                                      "entry": np.empty(n, ns)}
        for name in self.covariates[: len(HISTORY) + len(ext.benefits)]:
            out[name] = np.empty(n, _DTYPES.get(name, _BENEFIT_DTYPE))
        return out

    def _frame_of(self, out: dict[str, np.ndarray], p: np.ndarray) -> pd.DataFrame:
        """The DataFrame of the filled columns plus the fixed person columns of persons ``p``
        (one column at a time, nothing copied twice)."""
        persons = self._prep.extract.persons
        for col in self._prep.extract.fixed_columns:
            v = persons[col]
            if isinstance(v.dtype, np.dtype) and v.dtype.kind in "iu" and v.dtype.itemsize > 1:
                # one value per person-period: the narrowest integer type that holds the values
                out[col] = v.to_numpy().astype(_narrow_int(v.to_numpy()), copy=False).take(p)
            else:
                out[col] = v.array.take(p)
        return pd.DataFrame(out, copy=False)

    def frame(self, t: int) -> pd.DataFrame:
        """The risk set of period number ``t`` (0-based)."""
        p, treated, asof, d = self._rows(t)
        out = self._empty(len(p))
        self._fill(out, slice(0, len(p)), p, treated, asof, d)
        return self._frame_of(out, p)

    def to_frame(self) -> pd.DataFrame:
        """All periods in one DataFrame.

        Built column by column into arrays of the final length: each period's persons at risk are
        found first (kept as int32 codes: 4 bytes a row), then each period's rows are written in
        place and its persons let go, so the peak memory is the frame itself plus one period
        (no list of per-period frames is concatenated, and no period's full rows wait for the
        others: at national scale holding them, 17 bytes a row in thousands of pieces, left a
        third again of the frame's size in freed but resident memory). This is still every
        person-month at once: iterate when one period at a time will do.
        """
        if not len(self):
            return pd.DataFrame()
        prep = self._prep
        narrow = np.int32 if prep.n_persons < 2**31 else np.int64
        ars: list[np.ndarray | None] = [self._at_risk(t).astype(narrow) for t in range(len(self))]
        n = 0
        for t, ar in enumerate(ars):
            assert ar is not None
            if self.treated_covariates == "period_start":
                n += len(ar)
            else:
                d, d2 = int(self._starts[t]), int(self._starts[t + 1])
                n += int(np.count_nonzero(prep.start[ar] >= d2)) + len(self._starting(d, d2))
        if n == 0:
            return self.frame(0).iloc[:0]
        out = self._empty(n)
        p_all = np.empty(n, dtype=np.int64)
        at = 0
        for t in range(len(self)):
            ar, ars[t] = ars[t], None                    # this period's persons: let go once written
            p, treated, asof, d = self._rows(t, ar)
            del ar
            sl = slice(at, at + len(p))
            self._fill(out, sl, p, treated, asof, d)
            p_all[sl] = p
            at += len(p)
            del p, treated, asof
        assert at == n
        return self._frame_of(out, p_all)

    def flow(self) -> pd.DataFrame:
        """Counts per period, without building the covariates.

        Columns: ``period``; ``registered`` (persons with a spell open on the first day);
        ``in_programme`` (of those, already started before it: not at risk); ``at_risk``;
        ``starting`` (participants whose start falls in the period); ``treated`` (treated rows);
        ``controls`` (at-risk rows that are not treated); ``not_registered_on_first_day``
        (participants starting in the period without a row because they were not registered on
        its first day; always 0 with ``treated_covariates="start"``); ``no_one_at_risk`` (the
        period has participants but no control candidates).
        """
        prep = self._prep
        rows = []
        for t in range(len(self)):
            d, d2 = int(self._starts[t]), int(self._starts[t + 1])
            reg = self._registered(d)
            at_risk = reg[prep.start[reg] >= d]
            n_start = len(self._starting(d, d2))
            treated_at_risk = int((prep.start[at_risk] < d2).sum())
            treated = n_start if self.treated_covariates == "start" else treated_at_risk
            controls = len(at_risk) - treated_at_risk
            rows.append(dict(period=from_days(np.array([d]))[0], registered=len(reg),
                             in_programme=int(len(reg) - len(at_risk)), at_risk=len(at_risk),
                             starting=n_start, treated=treated, controls=controls,
                             not_registered_on_first_day=n_start - treated,
                             no_one_at_risk=bool(n_start > 0 and controls == 0)))
        return pd.DataFrame(rows, columns=["period", "registered", "in_programme", "at_risk", "starting",
                                           "treated", "controls", "not_registered_on_first_day",
                                           "no_one_at_risk"])

    def summary(self) -> pd.DataFrame:
        """The flow of people from the extract to the treated rows: ``step``, ``persons``, ``person_periods``."""
        prep = self._prep
        fl = self.flow()
        ever = np.zeros(prep.n_persons, bool)
        for t in range(len(self)):
            d = int(self._starts[t])
            reg = self._registered(d)
            ever[reg[prep.start[reg] >= d]] = True
        lo, hi = int(self._starts[0]), int(self._starts[-1])
        in_window = int(((prep.start >= lo) & (prep.start < hi)).sum())
        n_part = int((prep.start < OPEN).sum())
        steps = [
            ("persons in the extract", prep.n_persons, None),
            ("registered on the first day of a period", None, int(fl["registered"].sum())),
            ("at risk (registered, not yet in the programme)", int(ever.sum()), int(fl["at_risk"].sum())),
            ("participants", n_part, None),
            ("participants starting within the periods", in_window, None),
            ("treated rows", int(fl["treated"].sum()), int(fl["treated"].sum())),
            ("participants without a row: not registered on the first day of their start period",
             int(fl["not_registered_on_first_day"].sum()), None),
            ("periods with participants but no one at risk", int(fl["no_one_at_risk"].sum()), None),
        ]
        return pd.DataFrame(steps, columns=["step", "persons", "person_periods"]).astype(
            {"persons": "Int64", "person_periods": "Int64"})

    def __repr__(self) -> str:
        p = self.periods
        span = f"{p[0].date()} to {p[-1].date()}" if len(p) else "no periods"
        return f"RiskSets({len(self)} {self.period}s, {span}, treated covariates as of {self.treated_covariates})"


@validate_params({"extract": [InstanceOf(RegisterExtract, "a RegisterExtract")],
                  "period": [Options(("month", "quarter"))],
                  "first": [_DATE, None], "last": [_DATE, None],
                  "treated_covariates": [Options(("period_start", "start"))]})
def risk_sets(extract: RegisterExtract, period: str = "month", *, first: Any = None, last: Any = None,
              treated_covariates: str = "period_start") -> RiskSets:
    """The risk sets of a register extract, streamed one period at a time.

    For each period (calendar month by default, or quarter), the rows are the people registered on
    its first day ``d`` (a spell with ``registered <= d < deregistered``, or open) who have not
    started the programme before ``d``. Participants who start in the period are its treated rows.

    Parameters
    ----------
    extract : RegisterExtract
        Checked on the way in (every rule broken is a named :class:`impact.DataError`).
    period : {"month", "quarter"}
    first, last : date, optional
        The periods containing these dates are the first and last; default: the periods of the
        earliest and the latest programme start.
    treated_covariates : {"period_start", "start"}
        When the covariates of a treated row are measured. ``"period_start"`` (default): on the
        period's first day, as for its controls, so both are described by the same information
        date (a participant registered later in its start month has no row and is counted in
        :meth:`RiskSets.flow`). ``"start"``: on the participant's own start date (every participant
        has a row; its elapsed time is up to one period longer than its controls').

    Returns
    -------
    RiskSets
        Iterate for one DataFrame per period, with columns: the id; ``period`` (first day);
        ``index_date`` (the participant's start date for treated rows, the period's first day
        otherwise); ``asof`` (the date the covariates are measured on); ``treated`` (0/1);
        ``entry`` (first day of the period of the person's programme start, empty when never:
        bookkeeping for :func:`impact.design.match_riskset` and censoring, not a covariate); the
        history covariates ``age``, ``elapsed_days``, ``days_registered_24m``, ``earlier_spells``,
        ``<benefit>_months_12m`` per benefit register; and the fixed person columns.

    Notes
    -----
    Information dated on or after ``asof`` is never used: elapsed days count from the registration
    of the spell open on ``asof``; days registered in the 24 calendar months before it; spells ended
    on or before it; benefit months of the 12 calendar months before its month (the month itself is
    not complete on its first day). With a birth year, age is the year of ``asof`` minus the birth
    year; with a birth date, completed years. Each period costs O(spells registered before it) plus
    O(rows log n) for the look-ups.

    Examples
    --------
    >>> import pandas as pd
    >>> from impact.registers import RegisterExtract, risk_sets
    >>> ext = RegisterExtract(
    ...     persons=pd.DataFrame({"person_id": ["a", "b"], "gender": ["female", "male"], "birth_year": [1980, 1990]}),
    ...     spells=pd.DataFrame({"person_id": ["a", "b"], "registered": ["2021-01-10", "2021-02-01"],
    ...                          "deregistered": ["2021-06-30", None], "code": ["11", None]}),
    ...     programme=pd.DataFrame({"person_id": ["a"], "start": ["2021-04-12"]}), cutoff="2021-12-31")
    >>> rs = risk_sets(ext)
    >>> april = next(iter(rs))
    >>> april[["person_id", "treated", "index_date", "elapsed_days", "age", "gender"]].to_string(index=False)
    'person_id  treated index_date  elapsed_days  age gender\\n        a        1 2021-04-12          81.0   41 female\\n        b        0 2021-04-01          59.0   31   male'
    """
    func = "risk_sets"
    prep = prepare(extract)
    has = prep.start < OPEN
    if (first is None or last is None) and not has.any():
        raise ParameterError(f"{func}: the programme table is empty; give first= and last= (dates) to choose "
                                 "the periods.")
    lo = as_day(first, "first", func) if first is not None else int(prep.start[has].min())
    hi = as_day(last, "last", func) if last is not None else int(prep.start[has].max())
    if lo > prep.cutoff or hi > prep.cutoff:
        raise ParameterError(f"The 'first' and 'last' parameters of {func} must be on or before the cut-off "
                             f"{extract.cutoff.date()}.")
    if hi < lo:
        raise ParameterError(f"The 'last' parameter of {func} must not be before 'first'.")
    freq = _FREQ[period]
    rng = pd.period_range(pd.Timestamp(from_days(np.array([lo]))[0]), pd.Timestamp(from_days(np.array([hi]))[0]),
                          freq=freq)
    starts = to_days(pd.Series(rng.start_time))
    end = to_days(pd.Series([(rng[-1] + 1).start_time]))
    return RiskSets(prep, period, np.concatenate([starts, end]).astype(np.int64), treated_covariates)


@validate_params({"extract": [InstanceOf(RegisterExtract, "a RegisterExtract")],
                  "index": [InstanceOf(pd.DataFrame, "a pandas DataFrame")],
                  "date": ["column"]})
def covariates_at(extract: RegisterExtract, index: pd.DataFrame, *, date: str = "index_date") -> pd.DataFrame:
    """The history covariates of any (person, date) rows, as known on that date.

    The same look-ups as :func:`risk_sets`, for rows you choose (e.g. a cross-sectional design, or
    a check). ``elapsed_days`` is missing when no spell is open on the date.

    Parameters
    ----------
    extract : RegisterExtract
    index : DataFrame
        The extract's id column and ``date``.
    date : str
        Column of dates.

    Returns
    -------
    DataFrame
        Aligned with ``index``: ``registered`` (a spell is open on the date) and the history
        covariates (see :data:`HISTORY`).

    Examples
    --------
    >>> import pandas as pd
    >>> from impact.registers import RegisterExtract, covariates_at
    >>> ext = RegisterExtract(
    ...     persons=pd.DataFrame({"person_id": ["a"], "gender": ["female"], "birth_year": [1980]}),
    ...     spells=pd.DataFrame({"person_id": ["a", "a"], "registered": ["2020-01-01", "2021-01-10"],
    ...                          "deregistered": ["2020-03-01", None], "code": ["80", None]}),
    ...     programme=pd.DataFrame({"person_id": [], "start": []}), cutoff="2021-12-31")
    >>> covariates_at(ext, pd.DataFrame({"person_id": ["a"], "index_date": ["2021-02-01"]})).iloc[0].tolist()
    [True, 41, 22.0, 82, 1]
    """
    prep, p64, t = index_rows(extract, index, date)
    _, is_open = prep.spell_at(p64, t)
    out = pd.DataFrame({"registered": is_open, **prep.history(p64, t)}, index=index.index)
    return out
