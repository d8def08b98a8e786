"""Deregistration codes: which exits count as the event, which compete, which censor, and their causes.

Which codes count as "work or studies" is the evaluator's decision and is stated in the report. The
default table below is an *illustrative* coding (two-digit codes in the style of the employment
service's deregistration reasons); replace or override it with the codebook of your own extract.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from impact._errors import ParameterError
from impact._validation import InstanceOf, Options, validate_params

__all__ = ["CAUSES", "DEFAULT_CODES", "ROLES", "ExitCodes", "normalise_codes", "recode_unknown"]

#: what an exit means for the outcome "time to work or studies"
ROLES: tuple[str, ...] = ("event", "competing", "censored")

#: the named causes of the default table (any other non-empty name may be used)
CAUSES: tuple[str, ...] = ("work_unsubsidised", "nystartsjobb", "introduktionsjobb", "lonebidrag", "extratjanst",
                           "studies", "other", "unknown")


def normalise_codes(values: Any) -> pd.Series:
    """Codes as strings: ``11``, ``11.0`` and ``"11"`` are all ``"11"``; missing stays missing.

    Examples
    --------
    >>> normalise_codes(pd.Series([11, None, 31])).tolist()
    ['11', nan, '31']
    """
    s = pd.Series(values)
    if pd.api.types.is_bool_dtype(s):
        raise ParameterError("Deregistration codes must be strings or whole numbers, not booleans.")
    if pd.api.types.is_numeric_dtype(s):
        num = s.astype("float64")
        whole = num.dropna()
        if (whole != np.round(whole)).any():
            raise ParameterError("Numeric deregistration codes must be whole numbers (e.g. 11), "
                                 "or give them as strings.")
        out = pd.Series(np.where(num.isna(), None, num.fillna(0).astype(np.int64).astype(str)), index=s.index,
                        dtype=object)
        return out.where(num.notna(), np.nan)
    codes, uniques = pd.factorize(s)               # normalise each distinct value once
    norm = np.array([str(v).strip() for v in uniques] + [np.nan], dtype=object)
    return pd.Series(norm[codes], index=s.index, dtype=object)


class ExitCodes:
    """A deregistration-code table: each code has a role (event, competing, censored) and a cause.

    Immutable: :meth:`with_roles` and :meth:`unknown_as` return a new table.

    Parameters
    ----------
    roles : mapping
        ``{code: role}`` with role one of ``"event"`` (work or studies), ``"competing"``,
        ``"censored"``. Codes are compared as strings (``11`` and ``"11"`` are one code).
    causes : mapping, optional
        ``{code: cause}``, e.g. ``"nystartsjobb"``; codes without a cause get ``"other"``.

    Examples
    --------
    >>> codes = ExitCodes({"11": "event", "31": "event", "90": "competing"},
    ...                   causes={"11": "work_unsubsidised", "31": "studies", "90": "unknown"})
    >>> codes.role_of(["11", 90]).tolist()
    ['event', 'competing']
    >>> codes.unknown_as("censored").role_of(["90"]).tolist()
    ['censored']
    """

    __slots__ = ("_table",)
    _table: tuple[tuple[str, str, str], ...]

    def __init__(self, roles: Mapping[Any, str], causes: Mapping[Any, str] | None = None) -> None:
        if not isinstance(roles, Mapping) or not roles:
            raise ParameterError("The 'roles' parameter of ExitCodes must be a non-empty mapping "
                                 "{code: 'event' | 'competing' | 'censored'}.")
        causes = dict(causes or {})
        keys = [str(k).strip() for k in roles]
        cause_keys = {str(k).strip(): v for k, v in causes.items()}
        extra = sorted(set(cause_keys) - set(keys))
        if extra:
            raise ParameterError(f"ExitCodes: causes given for codes without a role: {', '.join(extra)}.")
        table = []
        for key, role in zip(keys, roles.values()):
            if role not in ROLES:
                raise ParameterError(f"The role of code '{key}' must be one of 'event', 'competing', 'censored'. "
                                     f"Got {role!r}.")
            cause = cause_keys.get(key, "other")
            if not isinstance(cause, str) or not cause:
                raise ParameterError(f"The cause of code '{key}' must be a non-empty string. Got {cause!r}.")
            table.append((key, role, cause))
        object.__setattr__(self, "_table", tuple(sorted(table)))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("ExitCodes is immutable; use with_roles(...) or unknown_as(...)")

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes, sorted."""
        return tuple(c for c, _, _ in self._table)

    @property
    def roles(self) -> dict[str, str]:
        """``{code: role}`` (a new dict)."""
        return {c: r for c, r, _ in self._table}

    @property
    def causes(self) -> dict[str, str]:
        """``{code: cause}`` (a new dict)."""
        return {c: k for c, _, k in self._table}

    def with_roles(self, roles: Mapping[Any, str], causes: Mapping[Any, str] | None = None) -> ExitCodes:
        """A new table with these roles (and causes) overriding this one; new codes are added.

        This is what ``[outcomes.codes] "11" = "event"`` in an evaluation file does.

        Examples
        --------
        >>> DEFAULT_CODES.with_roles({"90": "censored", "99": "censored"}).role_of(["90", "99"]).tolist()
        ['censored', 'censored']
        """
        new_roles = {**self.roles, **{str(k).strip(): v for k, v in roles.items()}}
        new_causes = {**self.causes, **{str(k).strip(): v for k, v in (causes or {}).items()}}
        return ExitCodes(new_roles, {k: v for k, v in new_causes.items() if k in new_roles})

    def unknown_as(self, role: str) -> ExitCodes:
        """A new table in which every code whose cause is ``"unknown"`` has ``role`` (sensitivity analysis).

        Examples
        --------
        >>> DEFAULT_CODES.unknown_as("event").role_of(["90"]).tolist()
        ['event']
        """
        if role not in ROLES:
            raise ParameterError(f"The 'role' parameter of unknown_as must be one of 'event', 'competing', "
                                 f"'censored'. Got {role!r}.")
        return ExitCodes({c: (role if k == "unknown" else r) for c, r, k in self._table}, self.causes)

    def _lookup(self, values: Iterable[Any], which: int) -> np.ndarray:
        s = normalise_codes(pd.Series(list(values) if not isinstance(values, pd.Series) else values))
        table = {c: (r, k)[which] for c, r, k in self._table}
        return s.map(table).to_numpy(dtype=object)

    def role_of(self, codes: Iterable[Any]) -> np.ndarray:
        """The role of each code (missing for codes not in the table)."""
        return self._lookup(codes, 0)

    def cause_of(self, codes: Iterable[Any]) -> np.ndarray:
        """The cause of each code (missing for codes not in the table)."""
        return self._lookup(codes, 1)

    def to_frame(self) -> pd.DataFrame:
        """The table as a DataFrame: ``code``, ``role``, ``cause`` (for the report).

        Examples
        --------
        >>> DEFAULT_CODES.to_frame().head(2).to_numpy().tolist()
        [['11', 'event', 'work_unsubsidised'], ['12', 'event', 'nystartsjobb']]
        """
        return pd.DataFrame(list(self._table), columns=["code", "role", "cause"])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ExitCodes) and self._table == other._table

    def __hash__(self) -> int:
        return hash(self._table)

    def __repr__(self) -> str:
        parts = ", ".join(f"{c}={r}" for c, r, _ in self._table)
        return f"ExitCodes({parts})"


#: an illustrative default coding; state the one you use in the report
DEFAULT_CODES = ExitCodes(
    {"11": "event", "12": "event", "13": "event", "14": "event", "15": "event", "31": "event",
     "80": "competing", "90": "competing"},
    causes={"11": "work_unsubsidised", "12": "nystartsjobb", "13": "introduktionsjobb", "14": "lonebidrag",
            "15": "extratjanst", "31": "studies", "80": "other", "90": "unknown"},
)

_STATUS = {"censored": 0, "event": 1, "competing": 2}


@validate_params({"outcomes": [InstanceOf(pd.DataFrame, "a pandas DataFrame")],
                  "role": [Options(ROLES)]})
def recode_unknown(outcomes: pd.DataFrame, role: str) -> pd.DataFrame:
    """Recode the exits whose cause is ``"unknown"`` as ``role``: the unknown-exit sensitivity analysis.

    Many unknown-reason exits are in fact work; the headline is usually rerun with them as censored,
    as competing and as the event.

    Parameters
    ----------
    outcomes : DataFrame
        The result of :func:`outcomes_from_spells` (columns ``cause``, ``role``, ``event``, ``status``).
    role : {"event", "competing", "censored"}

    Returns
    -------
    DataFrame
        A new frame; the rows with cause ``"unknown"`` have the new role, ``event`` and ``status``.

    Examples
    --------
    >>> out = pd.DataFrame({"duration": [10.0, 20.0], "role": ["competing", "event"],
    ...                     "cause": ["unknown", "studies"], "event": [0, 1], "status": [2, 1]})
    >>> recode_unknown(out, "event")[["role", "event", "status"]].to_numpy().tolist()
    [['event', 1, 1], ['event', 1, 1]]
    """
    for col in ("cause", "role", "event", "status"):
        if col not in outcomes.columns:
            raise ParameterError(f"recode_unknown needs the column '{col}' of outcomes_from_spells(...).")
    out = outcomes.copy()
    unknown = (out["cause"] == "unknown").to_numpy(dtype=bool)
    out.loc[unknown, "role"] = role
    out.loc[unknown, "event"] = int(role == "event")
    out.loc[unknown, "status"] = _STATUS[role]
    return out
