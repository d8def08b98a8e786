"""Constraints and helpers shared by the sensitivity analyses."""

from __future__ import annotations

from numbers import Real
from typing import Any

import pandas as pd

from impact._validation import Constraint


class HasTable(Constraint):
    """A result object carrying a ``table`` DataFrame (an EffectsResult)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(getattr(value, "table", None), pd.DataFrame)

    def describe(self) -> str:
        return self.text

    def invalid(self) -> list[Any]:
        return [object(), "effects.csv"]


class Days(Constraint):
    """A non-empty sequence of finite numbers > 0 (days)."""

    def is_satisfied_by(self, value: Any) -> bool:
        import numpy as np
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple, np.ndarray, pd.Series)):
            return False
        vals = list(value)
        return len(vals) > 0 and all(isinstance(v, Real) and not isinstance(v, bool) and np.isfinite(float(v))
                                     and float(v) > 0 for v in vals)

    def describe(self) -> str:
        return "a non-empty sequence of days > 0"

    def invalid(self) -> list[Any]:
        return [90, [], [-1.0]]


class DataLike(Constraint):
    """A DataFrame or a match result (anything with a ``matched_data`` DataFrame)."""

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, pd.DataFrame) or isinstance(getattr(value, "matched_data", None), pd.DataFrame)

    def describe(self) -> str:
        return "a pandas DataFrame or a match result"

    def invalid(self) -> list[Any]:
        return [object(), "data.csv"]


def unwrap(data: Any, treatment: str | None, fn: str) -> tuple[pd.DataFrame, str, tuple[str, ...]]:
    """The matched rows, the treatment column and the covariates matched on (when known)."""
    from impact._errors import ParameterError
    if isinstance(data, pd.DataFrame):
        frame, covs = data, ()
    else:
        frame = data.matched_data
        treatment = treatment or getattr(data, "treatment", None)
        covs = tuple(getattr(data, "covariates", ()) or ())
    if treatment is None:
        raise ParameterError(f"{fn} needs the name of the treatment column: treatment='...'.")
    return frame, treatment, covs
