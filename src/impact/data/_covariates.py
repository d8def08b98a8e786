"""The covariate builders: model matrices from DataFrame columns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from impact._errors import DataError, data_error


def is_categorical(s: pd.Series) -> bool:
    """Object, string and category columns are expanded into dummies; numbers and bools are not."""
    return bool(isinstance(s.dtype, pd.CategoricalDtype) or pd.api.types.is_object_dtype(s)
                or pd.api.types.is_string_dtype(s))


def _levels(s: pd.Series) -> list[Any]:
    if isinstance(s.dtype, pd.CategoricalDtype):
        present = set(s.dropna().unique())
        return [c for c in s.cat.categories if c in present]
    vals = s.dropna().unique().tolist()
    try:
        return sorted(vals)
    except TypeError:
        return sorted(vals, key=str)


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
    """
    cols: list[np.ndarray] = []
    names: list[str] = []
    for c in covariates:
        s = data[c]
        if is_categorical(s):
            levels = _levels(s)
            vals = s.to_numpy()
            for lev in (levels[1:] if reference else levels):
                cols.append((vals == lev).astype(float))
                names.append(f"{c}[{lev}]")
        else:
            cols.append(s.to_numpy(dtype=float))
            names.append(str(c))
    X = np.column_stack(cols) if cols else np.empty((len(data), 0))
    return X, names


def covariate_matrix(df: pd.DataFrame, covariates: Any, skip: Any, func: str) -> tuple[list[str], np.ndarray, bool]:
    """Numeric covariates as an ``(n, p)`` float array; the names, and whether they were defaulted.

    ``covariates=None`` takes every other numeric or boolean column (those in ``skip`` excluded).
    Non-numeric columns and missing or infinite values raise a :class:`DataError` naming the column
    and the rows.
    """
    from impact._validation import check_columns

    if covariates is None:
        skip = set(skip)
        names = [c for c in df.columns if c not in skip and
                 (pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c]))]
        default = True
    else:
        names = [covariates] if isinstance(covariates, str) else list(covariates)
        check_columns(df, names, role="covariate")
        default = False
    X = np.empty((len(df), len(names)))
    for c, name in enumerate(names):
        col = df[name]
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            raise DataError(
                f"Column '{name}': covariates must be numeric ({func}); got dtype {col.dtype}. "
                f"Encode it first, e.g. pd.get_dummies(df, columns=['{name}'], drop_first=True).",
                column=name, rule="numeric")
        X[:, c] = col.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(X[:, c])
        if bad.any():
            raise data_error(name, "covariates must not be missing (NaN) or infinite", bad,
                             f"Drop or impute those rows first, e.g. df.dropna(subset=['{name}']).")
    return names, X, default
