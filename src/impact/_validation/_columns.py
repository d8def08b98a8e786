"""The one set of column checks: treatment, dates, durations, events, weights, clusters.

Each check names the column, the rule and the row positions (never identifiers), and says how to fix it.
"""

from __future__ import annotations

import calendar
import datetime
import re
import warnings
from typing import Any

import numpy as np
import pandas as pd

from impact._errors import DataError, ParameterError, data_error


def looks_like_date(value: str) -> bool:
    """True when ``value`` is shaped like a date (``2022-10-31``, ``01/10/2022``, ``2022-13-01``), valid or not.

    A cut-off or other role given as such a string is a date, never a column name: a mistyped date
    gets a date error, not "column not in the data".

    Examples
    --------
    >>> looks_like_date("2022-10-31"), looks_like_date("2022-13-01"), looks_like_date("cutoff_date")
    (True, True, False)
    """
    if not isinstance(value, str):
        return False
    if _ISO_SHAPE.match(value) or _DMY_SHAPE.match(value) or _COMPACT_SHAPE.match(value):
        return True
    try:
        pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        return False
    return True


#: a date written year first (ISO 8601), with any time and offset after it
_ISO_SHAPE = re.compile(r"^\s*([+-]?\d{4,})-(\d{1,2})-(\d{1,2})(?:[T ][\d:.,]*\s*(?:Z|[+-]\d{2}(?::?\d{2})?)?)?\s*$")
#: a date written day or month first: 01/10/2022, 1.10.22, 01-10-2022
_DMY_SHAPE = re.compile(r"^\s*(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})(?:[T ][\d:.]*)?\s*$")
_COMPACT_SHAPE = re.compile(r"^\s*(\d{4})(\d{2})(\d{2})\s*$")
#: a UTC offset after a time of day ("...T00:30:00+01:00", "...12:00Z"): the wall time is kept
_OFFSET = re.compile(r"^(.*\d{2}:\d{2}(?::\d{2}(?:[.,]\d*)?)?)\s*(?:Z|UTC|[+-]\d{2}(?::?\d{2})?)$")
_FIRST_DAY = "1677-09-22"
_LAST_DAY = "2262-04-11"


def _wall_time(values: pd.Series) -> pd.Series:
    """Values with mixed UTC offsets as naive wall times (each value's own local date and time)."""
    def wall(v: Any) -> Any:
        if isinstance(v, datetime.datetime) and v.tzinfo is not None:
            return v.replace(tzinfo=None)
        if isinstance(v, str):
            return _OFFSET.sub(r"\1", v.strip())
        return v
    return values.map(wall)


def _to_datetime(values: pd.Series, fmt: str) -> pd.Series:
    """``pd.to_datetime(values, format=fmt, errors="coerce")``; mixed UTC offsets keep each value's wall time."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # pandas: "mixed time zones ... utc=True"
            parsed = pd.to_datetime(values, errors="coerce", format=fmt)
    except (ValueError, TypeError, OverflowError):
        parsed = None
    if parsed is None or not pd.api.types.is_datetime64_any_dtype(parsed) or \
            (parsed.isna().to_numpy() & values.notna().to_numpy()).any():
        # mixed offsets (+01:00 in winter, +02:00 in summer) or mixed time zones: each value's local
        # calendar date is the date meant; converting to UTC would move midnight dates a day back
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            parsed = pd.to_datetime(_wall_time(values), errors="coerce", format=fmt)
    return parsed


def _date_kind(value: Any) -> str:
    """Why a value did not parse as an ISO date: "range", "calendar", "order" or "other"."""
    text = str(value).strip()
    m = _ISO_SHAPE.match(text) or _COMPACT_SHAPE.match(text)
    if m:
        year, month, day = (int(g) for g in m.groups()[:3])
        if 1 <= month <= 12 and 1 <= day <= calendar.monthrange(min(max(year, 1), 9999), month)[1]:
            return "range"
        return "calendar"
    if _DMY_SHAPE.match(text):
        return "order"
    return "other"


def _order_hint(examples: list[str]) -> tuple[str, str]:
    """Rule and fix for dates written day or month first (``01/10/2022``)."""
    parts = [m.groups() for m in map(_DMY_SHAPE.match, examples) if m]
    a, sep, b, y = parts[0]
    year = "%Y" if len(y) == 4 else "%y"
    day_first, month_first = f"%d{sep}%m{sep}{year}", f"%m{sep}%d{sep}{year}"
    first_is_day = any(int(p[0]) > 12 for p in parts)
    second_is_day = any(int(p[2]) > 12 for p in parts)
    shown = examples[0].strip()
    yy = int(y) if len(y) == 4 else 2000 + int(y)
    if first_is_day and not second_is_day:
        rule = (f"dates must be ISO 8601 (YYYY-MM-DD); these are written day first, e.g. '{shown}'")
        fmt = day_first
    elif second_is_day and not first_is_day:
        rule = (f"dates must be ISO 8601 (YYYY-MM-DD); these are written month first, e.g. '{shown}'")
        fmt = month_first
    else:
        def name(d: int, m: int) -> str:
            try:
                return datetime.date(yy, m, d).strftime("%d %B %Y").lstrip("0")
            except ValueError:
                return "no such date"
        rule = (f"dates must be ISO 8601 (YYYY-MM-DD); '{shown}' is ambiguous: day first it is "
                f"{name(int(a), int(b))}, month first {name(int(b), int(a))}")
        fmt = day_first
    fix = (f"Write the dates as YYYY-MM-DD, or say how they are written: date_format='{fmt}'"
           + ("" if fmt == month_first else f" (day first; month first is '{month_first}')")
           + f"; in the TOML file: [data] date_format = \"{fmt}\".")
    return rule, fix


def _date_problem(values: pd.Series, column: str, bad: np.ndarray, date_format: str | None) -> DataError:
    """The error for the values of ``values`` at ``bad`` that did not parse: what is wrong with them and the fix."""
    shown = values[bad]
    if date_format is not None:
        ex = str(shown.iloc[0])
        return column_error(column, f"values that do not match date_format {date_format!r}, e.g. {ex!r}", bad,
                            "Check the format (strftime codes, e.g. '%d/%m/%Y'), or fix those values.")
    kinds = shown.map(_date_kind)
    kind = kinds.value_counts().index[0]
    examples = [str(v) for v in shown[(kinds == kind).to_numpy()].iloc[:20]]
    ex = examples[0].strip()
    others = int((kinds != kind).sum())
    tail = f" (and {others} other values that are not dates)" if others else ""
    if kind == "range":
        rule = (f"dates out of range: pandas holds dates from {_FIRST_DAY} to {_LAST_DAY}, e.g. '{ex}'"
                f"{tail}")
        fix = ("A date such as 9999-12-31 usually stands for 'no end date': make it missing, e.g. "
               f"df.loc[df[{column!r}].astype(str).str[:4] > '2262', {column!r}] = None; "
               "a missing exit date (with a missing exit type) means still registered at the cut-off.")
    elif kind == "calendar":
        rule = (f"values that are not dates: in the form YYYY-MM-DD but the month or day does not exist, "
                f"e.g. '{ex}'{tail}")
        fix = "Dates are read as year-month-day; check the month (01-12) and the day of those rows."
    elif kind == "order":
        rule, fix = _order_hint(examples)
        rule += tail
    else:
        rule = "values that are not dates (expected YYYY-MM-DD)"
        fix = (f"Fix with pd.to_datetime(df[{column!r}], format=...) before calling, or pass "
               "date_format=... (in the TOML file: [data] date_format = \"...\").")
    return column_error(column, rule, bad, fix)


def parse_dates(values: pd.Series, column: str, *, allow_missing: bool = False,
                date_format: str | None = None) -> pd.Series:
    """Parse a column of dates; unparseable values raise a :class:`DataError` naming the rows.

    Strings must be ISO 8601 (``YYYY-MM-DD``, optionally with a time) unless ``date_format`` says
    otherwise: ``01/10/2022`` is never guessed (day first it is 1 October, month first 10 January),
    the error names the column and the ``date_format`` to pass. Dates beyond what pandas holds
    (after 2262-04-11, e.g. 9999-12-31 for "no end date") get their own error. Time-zone-aware
    values, also with mixed offsets (``+01:00`` in winter, ``+02:00`` in summer), keep each value's
    own local date. Row positions are positions in ``values``.

    Examples
    --------
    >>> parse_dates(pd.Series(["2022-01-03", "2022-02-30"]), "start_date")
    Traceback (most recent call last):
    ...
    impact._errors.DataError: Column 'start_date': values that are not dates: in the form YYYY-MM-DD but the month or day does not exist, e.g. '2022-02-30'; 1 row (position 1). ...
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        parsed = _to_datetime(values, date_format or "ISO8601")
        bad = values.notna().to_numpy() & parsed.isna().to_numpy()
        if bad.any():
            raise _date_problem(values, column, bad, date_format)
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    parsed = parsed.dt.normalize()
    if not allow_missing and parsed.isna().any():
        raise column_error(column, "missing dates", parsed.isna().to_numpy(),
                           f"Find them with df[df[{column!r}].isna()].")
    return parsed


def column_error(column: str, rule: str, mask_or_positions: Any, fix: str | None = None) -> DataError:
    """:func:`impact._errors.data_error`, with the number of rows and the fix kept on the error
    (``n_rows``, ``fix``) so that :func:`impact.validate` can list every problem in one table."""
    arr = np.asarray(mask_or_positions)
    err = data_error(column, rule, mask_or_positions, fix)
    setattr(err, "n_rows", int(arr.sum()) if arr.dtype == bool else int(arr.size))  # noqa: B010 - DataError has no such field yet
    setattr(err, "fix", fix)  # noqa: B010
    return err


#: treatment codes that have an obvious 1 and 0, for the fix hint
_YES_NO = {"ja": ("ja", "nej"), "nej": ("ja", "nej"), "yes": ("yes", "no"), "no": ("yes", "no"),
           "true": ("true", "false"), "false": ("true", "false")}


_MAX_SHOWN_CODES = 10  # distinct bad values shown in a message; more may be identifiers


def check_treatment(values: pd.Series, column: str) -> pd.Series:
    """Return the treatment as int 0/1, or raise naming the offending rows.

    Text codes such as ``ja``/``nej`` are not guessed; the error gives the TOML recoding
    (``[columns.values]``) and the pandas one-liner.
    """
    miss = values.isna().to_numpy()
    if miss.any():
        raise column_error(column, "missing treatment values", miss,
                           "Every row must be 1 (participant) or 0 (potential control).")
    if pd.api.types.is_bool_dtype(values):
        return values.astype(np.int8)
    ok = values.isin([0, 1]).to_numpy() if not pd.api.types.is_string_dtype(values) else np.zeros(len(values), bool)
    if not ok.all():
        found = pd.unique(values[~ok])
        # a column with many distinct values may be an identifier (a personal number): never print those
        shown = (", ".join(repr(v.item() if isinstance(v, np.generic) else v) for v in found[:5])
                 if len(found) <= _MAX_SHOWN_CODES
                 else f"{len(found)} distinct values (not shown: a column with this many values may hold identifiers)")
        texts = [str(v).strip().lower() for v in found if isinstance(v, str)]
        pair = next((_YES_NO[t] for t in texts if t in _YES_NO), None)
        if pair is not None:
            yes, no = (next((str(v) for v in found if isinstance(v, str) and str(v).strip().lower() == c), c)
                       for c in pair)
            fix = (f"Recode: in the TOML file [columns.values] {column} = {{{yes} = 1, {no} = 0}}; in pandas "
                   f"df[{column!r}] = df[{column!r}].map({{{yes!r}: 1, {no!r}: 0}}).")
        else:
            fix = f"Recode, e.g. df[{column!r}] = (df[{column!r}] == 'yes').astype(int)."
        raise column_error(column, f"treatment must be 0/1 or boolean, found {shown}", ~ok, fix)
    return values.astype(np.int8)


def as_1d(values: Any, name: str) -> np.ndarray:
    if isinstance(values, pd.DataFrame):
        raise ParameterError(f"The '{name}' parameter must be one column (a Series or 1-D array). "
                             f"Got a DataFrame with {values.shape[1]} columns.")
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ParameterError(f"The '{name}' parameter must be 1-D. Got an array of shape {arr.shape}.")
    return arr


def check_length(arr: np.ndarray, n: int, name: str) -> None:
    if arr.shape[0] != n:
        raise ParameterError(
            f"The '{name}' parameter must have one value per row of 'duration' ({n}). Got {arr.shape[0]}."
        )


def _as_float(arr: np.ndarray, copy: bool) -> np.ndarray:
    """The values as float64; with ``copy=False`` without a copy where they already are, and
    then as a read-only view, so that no later step can write into the caller's data. Only for
    callers that do not keep the array (a result that keeps it must own a copy, or a change to
    the caller's data afterwards would change it)."""
    if copy:
        return arr.astype(np.float64)
    out = np.asarray(arr, dtype=np.float64)
    if out is arr or np.may_share_memory(out, arr):
        out = out.view()
        out.flags.writeable = False
    return out


def _all_between(arr: np.ndarray, low: float, high: float, low_open: bool = False) -> bool:
    """Every value in ``[low, high)`` (``(low, high)`` with ``low_open``); NaN fails. Two
    reductions, no temporary array: the fast path before the checks that name the rows."""
    lo, hi = arr.min(), arr.max()
    return bool((lo > low if low_open else lo >= low) and hi < high)


def check_duration(duration: Any, name: str = "duration", copy: bool = True) -> np.ndarray:
    """Durations as float64; NaN, infinite, zero or negative values raise a :class:`DataError`.
    ``copy=False``: a read-only view of float64 input (for callers that do not keep it)."""
    arr = as_1d(duration, name)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == object):
        raise DataError(f"Column '{name}': durations must be numbers (days, weeks, ...); "
                        f"got dtype {arr.dtype}. Compute them from dates first, e.g. "
                        "(df['exit'] - df['start']).dt.days.", column=name, rule="numeric")
    try:
        arr = _as_float(arr, copy)
    except (TypeError, ValueError):
        raise DataError(f"Column '{name}': durations must be numbers; some values are not.",
                        column=name, rule="numeric") from None
    if arr.size == 0:
        raise DataError(f"Column '{name}': there are no rows.", column=name, rule="non-empty")
    if _all_between(arr, 0.0, np.inf, low_open=True):
        return arr
    bad = ~np.isfinite(arr)
    if bad.any():
        raise data_error(name, "durations must not be missing (NaN) or infinite", bad,
                         f"Drop or fill them first, e.g. df = df[df['{name}'].notna()].")
    bad = arr <= 0
    if bad.any():
        raise data_error(name, "durations must be > 0 (follow-up starts at time 0)", bad,
                         f"An exit on the start day usually means 0.5 day, e.g. "
                         f"df['{name}'] = df['{name}'].clip(lower=0.5); or drop those rows.")
    return arr


def check_event(event: Any, n: int, name: str = "event", codes: bool = False) -> np.ndarray:
    """Event indicators as float64 0/1 (``codes=True``: as int8, an eighth of the memory);
    anything other than 0/1/True/False raises."""
    arr = as_1d(event, name)
    check_length(arr, n, name)
    out = np.int8 if codes else np.float64
    if arr.dtype == bool:
        return arr.astype(out)
    if arr.dtype.kind in "iuf" and arr.size:  # fast path: one pass for the range, one for whole numbers
        lo, hi = arr.min(), arr.max()
        if lo >= 0 and hi <= 1 and (arr.dtype.kind != "f" or np.array_equal(arr, arr >= 0.5)):
            return arr.astype(out)
    try:
        num = pd.to_numeric(pd.Series(arr), errors="coerce").to_numpy(dtype=np.float64)
    except (TypeError, ValueError):  # pragma: no cover - to_numeric coerces
        num = np.full(n, np.nan)
    bad = ~np.isin(num, (0.0, 1.0))
    if bad.any():
        raise data_error(name, "event must be 0 (censored) or 1 (event), or True/False", bad,
                         "For several exit types use aalen_johansen(duration, cause) instead; "
                         f"for a single one, e.g. df['{name}'] = (df['exit_type'] == 'work').astype(int).")
    return num.astype(np.int8) if codes else num


def check_weights(weights: Any, n: int, name: str = "weights") -> np.ndarray:
    if weights is None:
        return np.ones(n)
    arr = as_1d(weights, name)
    check_length(arr, n, name)
    try:
        arr = _as_float(arr, copy=True)  # the curves keep their weights
    except (TypeError, ValueError):
        raise DataError(f"Column '{name}': weights must be numbers.", column=name,
                        rule="numeric") from None
    if arr.size and _all_between(arr, 0.0, np.inf) and arr.max() > 0:
        return arr
    bad = ~np.isfinite(arr)
    if bad.any():
        raise data_error(name, "weights must not be missing (NaN) or infinite", bad)
    bad = arr < 0
    if bad.any():
        raise data_error(name, "weights must be >= 0", bad,
                         "Matching and IPW weights are never negative; check how they were made.")
    if not (arr > 0).any():
        raise DataError(f"Column '{name}': weights are all zero; nothing is left to estimate from.",
                        column=name, rule="not all zero")
    return arr


def check_cluster(cluster: Any, n: int, name: str = "cluster") -> tuple[np.ndarray, int]:
    """Cluster labels to integer codes 0..G-1 (each row its own cluster when ``None``)."""
    if cluster is None:
        return np.arange(n, dtype=np.int64), n
    arr = as_1d(cluster, name)
    check_length(arr, n, name)
    codes, uniques = pd.factorize(pd.Series(arr), sort=True)
    bad = codes < 0
    if bad.any():
        raise data_error(name, "cluster labels must not be missing", bad,
                         "Give every row a matched-set label (unmatched rows their own label).")
    return codes.astype(np.int64), len(uniques)


def check_conf_level(conf_level: Any, func: str) -> float:
    from impact._validation._checks import check_number

    check_number("conf_level", conf_level, func, low=0, high=1, low_inclusive=False,
                 high_inclusive=False)
    return float(conf_level)


def check_times(times: Any, name: str = "times") -> np.ndarray:
    arr = np.atleast_1d(np.asarray(times, dtype=np.float64))
    if arr.ndim != 1:
        raise ParameterError(f"The '{name}' parameter must be a number or a 1-D sequence of numbers.")
    if (~np.isfinite(arr)).any() or (arr < 0).any():
        raise ParameterError(f"The '{name}' parameter must hold finite numbers >= 0. Got {arr.tolist()}.")
    return arr


def parse_months(values: pd.Series, column: str, *, allow_missing: bool = False) -> pd.Series:
    """Parse a column of months to monthly periods; unparseable values raise a :class:`DataError` naming the rows.

    Accepts monthly (or any) periods, datetimes, and strings in ISO 8601: ``"2022-10"`` or a date
    ``"2022-10-31"`` (the month it falls in). Row positions in the message are positions in
    ``values`` (as ``df.iloc`` takes them).

    Examples
    --------
    >>> parse_months(pd.Series(["2022-10", "2022-11-30"]), "month").astype(str).tolist()
    ['2022-10', '2022-11']
    >>> parse_months(pd.Series(["2022-10", "Oct 2022"]), "month")
    Traceback (most recent call last):
    ...
    impact._errors.DataError: Column 'month': values must be months (expected YYYY-MM or a date YYYY-MM-DD); 1 row (position 1). ...
    """
    if isinstance(values.dtype, pd.PeriodDtype):
        out = values.dt.asfreq("M")
    else:
        if pd.api.types.is_datetime64_any_dtype(values):
            parsed = values
        else:
            parsed = pd.to_datetime(values, errors="coerce", format="ISO8601")
            bad = values.notna().to_numpy() & parsed.isna().to_numpy()
            if bad.any():
                raise data_error(column, "values must be months (expected YYYY-MM or a date YYYY-MM-DD)", bad,
                                 f"Fix with pd.to_datetime(df[{column!r}], format=...) before calling.")
        if getattr(parsed.dt, "tz", None) is not None:
            parsed = parsed.dt.tz_localize(None)
        out = parsed.dt.to_period("M")
    if not allow_missing and out.isna().any():
        raise data_error(column, "months must not be missing", out.isna().to_numpy(),
                         f"Find them with df[df[{column!r}].isna()].")
    return out


def check_cluster_unordered(cluster: Any, n: int, name: str = "cluster") -> tuple[np.ndarray, int]:
    """:func:`check_cluster` for large inputs, where the codes' order and density do not matter.

    The same checks and messages. Returns ``(codes, n_codes)`` with codes in ``0..n_codes-1``,
    not necessarily all used: integer labels whose range is at most a few times the number of rows
    are coded by their offset from the smallest label (O(n), no hashing, no sort); other labels by
    a hash factorize in order of first appearance (then every code is used). Count the clusters
    as the codes that occur. Use it only where the result does not depend on the codes' order
    (sums over clusters).
    """
    if cluster is None:
        return np.arange(n, dtype=np.int64), n
    arr = as_1d(cluster, name)
    check_length(arr, n, name)
    if arr.dtype.kind in "iu" and arr.size:
        lo, hi = int(arr.min()), int(arr.max())
        if hi - lo <= 4 * n + 1024:  # a new array either way: the curves keep the codes
            return (arr - lo if lo else arr.astype(np.int64)), hi - lo + 1
    codes, uniques = pd.factorize(pd.Series(arr), sort=False)
    bad = codes < 0
    if bad.any():
        raise data_error(name, "cluster labels must not be missing", bad,
                         "Give every row a matched-set label (unmatched rows their own label).")
    return codes.astype(np.int64, copy=False), len(uniques)


def parse_date(value: Any, name: str, func: str = "Roles") -> pd.Timestamp:
    """One date given as a parameter (e.g. the data cut-off): ISO 8601 (``YYYY-MM-DD``), a Timestamp or a date.

    ``01/10/2022`` is refused with the two readings it could have; ``2022-13-01`` and
    ``9999-12-31`` get errors that say what is wrong with them. Raises :class:`ParameterError`.

    Examples
    --------
    >>> parse_date("2022-10-31", "cutoff")
    Timestamp('2022-10-31 00:00:00')
    >>> parse_date("01/10/2022", "cutoff")
    Traceback (most recent call last):
    ...
    impact._errors.ParameterError: The 'cutoff' parameter of Roles must be a date YYYY-MM-DD (ISO 8601). Got '01/10/2022': dates must be ISO 8601 (YYYY-MM-DD); '01/10/2022' is ambiguous: day first it is 1 October 2022, month first 10 January 2022.
    """
    if isinstance(value, (pd.Timestamp, datetime.date, np.datetime64)):
        ts = pd.Timestamp(value)
        if pd.isna(ts):
            raise ParameterError(f"The '{name}' parameter of {func} must be a date. Got {value!r}.")
        return (ts.tz_localize(None) if ts.tzinfo is not None else ts).normalize()
    if not isinstance(value, str):
        raise ParameterError(f"The '{name}' parameter of {func} must be a date YYYY-MM-DD (ISO 8601). Got {value!r}.")
    parsed = _to_datetime(pd.Series([value]), "ISO8601")
    if parsed.isna().iloc[0]:
        kind = _date_kind(value)
        if kind == "order":
            why, _ = _order_hint([value])
        elif kind == "range":
            why = f"pandas holds dates from {_FIRST_DAY} to {_LAST_DAY} only"
        elif kind == "calendar":
            why = "the month or day does not exist (dates are year-month-day)"
        else:
            why = "not a date"
        raise ParameterError(f"The '{name}' parameter of {func} must be a date YYYY-MM-DD (ISO 8601). "
                             f"Got {value!r}: {why}.")
    ts = parsed.iloc[0]
    return (ts.tz_localize(None) if ts.tzinfo is not None else ts).normalize()


def check_entry(entry: Any, duration: np.ndarray, name: str = "entry",
                duration_name: str = "duration") -> np.ndarray:
    """Delayed-entry times as float64, checked against the durations (already checked).

    A row is at risk on ``(entry, duration]``: ``entry`` must be a finite number ``>= 0`` and
    ``< duration`` (an empty interval has no time at risk; R's ``Surv(start, stop)`` refuses it
    too). Raises a :class:`DataError` naming the column, the rule and the row positions.

    Examples
    --------
    >>> check_entry([0, 2.5], np.array([3.0, 4.0])).tolist()
    [0.0, 2.5]
    >>> check_entry([0, 4], np.array([3.0, 4.0]))
    Traceback (most recent call last):
    ...
    impact._errors.DataError: Column 'entry': entry times must be < 'duration' (a row is at risk on (entry, duration]); 1 row (position 1). ...
    """
    arr = as_1d(entry, name)
    check_length(arr, duration.shape[0], name)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == object):
        raise DataError(f"Column '{name}': entry times must be numbers; got dtype {arr.dtype}.",
                        column=name, rule="numeric")
    try:
        arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise DataError(f"Column '{name}': entry times must be numbers; some values are not.",
                        column=name, rule="numeric") from None
    bad = ~np.isfinite(arr)
    if bad.any():
        raise data_error(name, "entry times must not be missing (NaN) or infinite", bad,
                         f"Rows followed from the start have entry 0, e.g. df['{name}'] = df['{name}'].fillna(0).")
    bad = arr < 0
    if bad.any():
        raise data_error(name, "entry times must be >= 0", bad,
                         "Entry is the time (on the duration's clock) from which a row is at risk.")
    bad = arr >= duration
    if bad.any():
        raise data_error(name, f"entry times must be < '{duration_name}' (a row is at risk on "
                         f"(entry, {duration_name}])", bad,
                         f"Drop rows with no time at risk, e.g. df = df[df['{name}'] < df['{duration_name}']].")
    return arr
