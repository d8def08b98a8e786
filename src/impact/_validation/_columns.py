"""The one set of column checks: treatment, dates, durations, events, weights, clusters.

Each check names the column, the rule and the row positions (never identifiers), and says how to fix it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from impact._errors import DataError, ParameterError, data_error


def looks_like_date(value: str) -> bool:
    try:
        pd.Timestamp(value)
    except (ValueError, TypeError):
        return False
    return True


def parse_dates(values: pd.Series, column: str, *, allow_missing: bool = False,
                date_format: str | None = None) -> pd.Series:
    """Parse a column of dates; unparseable values raise a :class:`DataError` naming the rows.

    Examples
    --------
    >>> parse_dates(pd.Series(["2022-01-03", "2022-02-30"]), "start_date")
    Traceback (most recent call last):
    ...
    impact._errors.DataError: Column 'start_date': values that are not dates (expected YYYY-MM-DD); 1 row (position 1). ...
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        fmt = date_format or "ISO8601"
        parsed = pd.to_datetime(values, errors="coerce", format=fmt)
        bad = values.notna().to_numpy() & parsed.isna().to_numpy()
        if bad.any():
            raise data_error(column, "values that are not dates (expected YYYY-MM-DD)", bad,
                             f"Fix with pd.to_datetime(df[{column!r}], format=...) before calling.")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    parsed = parsed.dt.normalize()
    if not allow_missing and parsed.isna().any():
        raise data_error(column, "missing dates", parsed.isna().to_numpy(),
                         f"Find them with df[df[{column!r}].isna()].")
    return parsed


def check_treatment(values: pd.Series, column: str) -> pd.Series:
    """Return the treatment as int 0/1, or raise naming the offending rows."""
    miss = values.isna().to_numpy()
    if miss.any():
        raise data_error(column, "missing treatment values", miss,
                         "Every row must be 1 (participant) or 0 (potential control).")
    if pd.api.types.is_bool_dtype(values):
        return values.astype(np.int8)
    ok = values.isin([0, 1]).to_numpy() if not pd.api.types.is_string_dtype(values) else np.zeros(len(values), bool)
    if not ok.all():
        shown = ", ".join(repr(v) for v in pd.unique(values[~ok])[:5])
        raise data_error(column, f"treatment must be 0/1 or boolean, found {shown}", ~ok,
                         f"Recode, e.g. df[{column!r}] = (df[{column!r}] == 'yes').astype(int).")
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


def check_duration(duration: Any, name: str = "duration") -> np.ndarray:
    """Durations as float64; NaN, infinite, zero or negative values raise a :class:`DataError`."""
    arr = as_1d(duration, name)
    if arr.dtype == bool or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == object):
        raise DataError(f"Column '{name}': durations must be numbers (days, weeks, ...); "
                        f"got dtype {arr.dtype}. Compute them from dates first, e.g. "
                        "(df['exit'] - df['start']).dt.days.", column=name, rule="numeric")
    try:
        arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise DataError(f"Column '{name}': durations must be numbers; some values are not.",
                        column=name, rule="numeric") from None
    if arr.size == 0:
        raise DataError(f"Column '{name}': there are no rows.", column=name, rule="non-empty")
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


def check_event(event: Any, n: int, name: str = "event") -> np.ndarray:
    """Event indicators as float64 0/1; anything other than 0/1/True/False raises."""
    arr = as_1d(event, name)
    check_length(arr, n, name)
    if arr.dtype == bool:
        return arr.astype(np.float64)
    try:
        num = pd.to_numeric(pd.Series(arr), errors="coerce").to_numpy(dtype=np.float64)
    except (TypeError, ValueError):  # pragma: no cover - to_numeric coerces
        num = np.full(n, np.nan)
    bad = ~np.isin(num, (0.0, 1.0))
    if bad.any():
        raise data_error(name, "event must be 0 (censored) or 1 (event), or True/False", bad,
                         "For several exit types use aalen_johansen(duration, cause) instead; "
                         f"for a single one, e.g. df['{name}'] = (df['exit_type'] == 'work').astype(int).")
    return num


def check_weights(weights: Any, n: int, name: str = "weights") -> np.ndarray:
    if weights is None:
        return np.ones(n)
    arr = as_1d(weights, name)
    check_length(arr, n, name)
    try:
        arr = arr.astype(np.float64)
    except (TypeError, ValueError):
        raise DataError(f"Column '{name}': weights must be numbers.", column=name,
                        rule="numeric") from None
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
        if hi - lo <= 4 * n + 1024:
            return (arr - lo if lo else arr).astype(np.int64, copy=False), hi - lo + 1
    codes, uniques = pd.factorize(pd.Series(arr), sort=False)
    bad = codes < 0
    if bad.any():
        raise data_error(name, "cluster labels must not be missing", bad,
                         "Give every row a matched-set label (unmatched rows their own label).")
    return codes.astype(np.int64, copy=False), len(uniques)
