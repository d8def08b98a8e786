"""The covariate builder: one model matrix from DataFrame columns, with one rule for every caller.

The rule (matching, balance tables and every regression model alike):

* numeric and boolean columns are used as they are (as float);
* object, string and category columns are expanded into 0/1 dummies as a model formula would,
  named ``column[level]``: with ``reference=True`` (models) the first level (sorted, or the category
  order of a pandas Categorical) is the reference and gets no column (R's treatment contrasts);
  with ``reference=False`` (balance tables, as MatchIt and cobalt show them) every level gets one;
* any other column (dates, durations, ...) and any missing or infinite value raise a
  :class:`~impact.DataError` naming the column and the row positions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from impact._errors import DataError, data_error

__all__ = ["covariate_matrix", "expand_covariates", "is_categorical", "is_numeric"]


def is_categorical(s: pd.Series) -> bool:
    """Object, string and category columns are expanded into dummies; numbers and bools are not."""
    return bool(isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(s)
                or pd.api.types.is_string_dtype(s))


def is_numeric(s: pd.Series) -> bool:
    """Numeric and boolean columns enter a model matrix as they are."""
    return bool(pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s))


def _levels(s: pd.Series) -> list[Any]:
    if isinstance(s.dtype, pd.CategoricalDtype):
        present = set(s.dropna().unique())
        return [c for c in s.cat.categories if c in present]
    vals = s.dropna().unique().tolist()
    try:
        return sorted(vals)
    except TypeError:
        return sorted(vals, key=str)


def _build(data: pd.DataFrame, names: Sequence[str], reference: bool,
           func: str | None) -> tuple[np.ndarray, list[str]]:
    """The one builder behind :func:`expand_covariates` and :func:`covariate_matrix`."""
    where = f" ({func})" if func else ""
    cols: list[np.ndarray] = []
    out: list[str] = []
    for c in names:
        s = data[c]
        dt = s.dtype
        if isinstance(dt, np.dtype) and dt.kind in "biuf":
            # a plain numpy column (the common case): no pandas missing-value machinery, the
            # values as they are (NaN and inf are caught by the finiteness check below)
            x = s.to_numpy(dtype=np.float64)
            if dt.kind == "f" and not np.isfinite(x).all():
                raise data_error(c, "covariates must not be missing (NaN) or infinite", ~np.isfinite(x),
                                 f"Drop or impute those rows first, e.g. df.dropna(subset=['{c}']).")
            cols.append(x)
            out.append(str(c))
            continue
        miss = s.isna().to_numpy()
        if is_categorical(s):
            if miss.any():
                raise data_error(c, "covariates must not be missing", miss,
                                 f"Drop or impute those rows first, e.g. df.dropna(subset=['{c}']).")
            levels = _levels(s)
            vals = s.to_numpy()
            for lev in (levels[1:] if reference else levels):
                cols.append((vals == lev).astype(np.float64))
                out.append(f"{c}[{lev}]")
            continue
        if not is_numeric(s):
            raise DataError(
                f"Column '{c}': covariates must be numbers, booleans or categories{where}; got dtype "
                f"{s.dtype}. Convert it first, e.g. a date to days since a start date.",
                column=str(c), rule="numeric or categorical")
        x = s.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(x)
        if bad.any():
            raise data_error(c, "covariates must not be missing (NaN) or infinite", bad,
                             f"Drop or impute those rows first, e.g. df.dropna(subset=['{c}']).")
        cols.append(x)
        out.append(str(c))
    X = np.column_stack(cols) if cols else np.empty((len(data), 0))
    return X, out


def expand_covariates(data: pd.DataFrame, covariates: Sequence[str], *,
                      reference: bool = True) -> tuple[np.ndarray, list[str]]:
    """Numeric matrix of the covariates, categorical ones expanded as a model formula would.

    Parameters
    ----------
    data : DataFrame
    covariates : sequence of str
    reference : bool
        ``True`` (for models): treatment coding, the first level (sorted, or the category order
        of a pandas Categorical) is the reference and gets no column. ``False`` (for balance
        tables, as MatchIt and cobalt show them): one column for every level.

    Returns
    -------
    X : ndarray of float, shape (n, p)
    names : list of str
        ``age`` for a numeric column, ``race[hispan]`` for the level ``hispan`` of ``race``.

    Raises
    ------
    DataError
        A column that is neither numeric, boolean nor categorical, or missing or infinite values
        (the message names the column and the rows).

    Examples
    --------
    >>> import pandas as pd
    >>> X, names = expand_covariates(pd.DataFrame({"age": [30, 41, 25], "region": ["s", "n", "s"]}),
    ...                              ["age", "region"])
    >>> names, X[:, 1].tolist()
    (['age', 'region[s]'], [1.0, 0.0, 1.0])
    """
    return _build(data, list(covariates), reference, None)


def _default_covariates(data: pd.DataFrame, skip: Iterable[Any]) -> list[str]:
    """Every numeric or boolean column not in ``skip`` (what a model uses when no covariates are named).

    String and category columns are used only when named: an identifier or a free-text column
    would otherwise become hundreds of dummies.
    """
    skipped = set(skip)
    return [c for c in data.columns if c not in skipped and is_numeric(data[c])]


def covariate_matrix(df: pd.DataFrame, covariates: Any, skip: Any, func: str) -> tuple[list[str], np.ndarray, bool]:
    """The covariates of a regression model as an ``(n, p)`` float array; the names, and whether defaulted.

    ``covariates=None`` takes every other numeric or boolean column (those in ``skip`` excluded,
    see ``_default_covariates``). Named columns follow the rule of :func:`expand_covariates`
    (categorical ones expanded into dummies, the first level the reference).
    """
    from impact._validation import check_columns

    if covariates is None:
        check_columns(df, [])
        names = _default_covariates(df, skip)
        default = True
    else:
        names = [covariates] if isinstance(covariates, str) else list(covariates)
        check_columns(df, names, role="covariate")
        default = False
    X, terms = _build(df, names, True, func)
    return terms, X, default
