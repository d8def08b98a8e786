"""Placebo outcomes: characteristics fixed before the index date that matching did not use.

Participation cannot have changed them, so an estimated difference on them points to hidden bias
(or chance). Each is estimated exactly like a numeric outcome, by
:func:`impact.effects.estimate_effects` with ``outcome=`` (mean difference, the same weights, matched
sets and sandwich), and gets a verdict at ``1 - conf_level``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, Literal

import numpy as np
import pandas as pd

from impact._errors import ParameterError
from impact._validation import Interval, Options, validate_params
from impact.sensitivity._common import DataLike, unwrap

__all__ = ["PlaceboResult", "placebo_outcomes"]

VERDICT_NONE = "no difference detected at {level}"
VERDICT_BIAS = "difference detected: hidden bias likely"


@dataclass(frozen=True)
class PlaceboResult:
    """Mean differences on placebo outcomes, beside the real outcome, with a verdict.

    Attributes
    ----------
    table : DataFrame
        ``role`` (``"placebo"`` or ``"outcome"``), ``variable``, then the effect table's
        ``subgroup, estimand, estimate, se, ci_low, ci_high, p_value, se_method`` (estimand
        ``mean_diff`` only) and ``verdict`` for placebo rows.
    conf_level : float
    notes : tuple of str
    """

    table: pd.DataFrame
    conf_level: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> pd.DataFrame:
        """The table (a copy)."""
        return self.table.copy()

    @property
    def any_detected(self) -> bool:
        """Whether any placebo outcome shows a difference."""
        return bool((self.table["verdict"] == VERDICT_BIAS).any())

    def __repr__(self) -> str:
        n = int((self.table["role"] == "placebo").sum())
        return f"PlaceboResult({n} placebo rows; difference detected: {self.any_detected})"


@validate_params({"data": [DataLike()], "placebo": ["columns"], "outcome": ["column", None],
                  "treatment": ["column", None], "covariates": ["columns", None], "by": ["columns", None],
                  "weights": ["column", None], "cluster": ["column", None],
                  "conf_level": [Interval(Real, 0, 1, closed="neither")],
                  "vcov": [Options(["auto", "HC1", "HC3"])], "missing": [Options(["error", "drop"])]})
def placebo_outcomes(data: Any, placebo: Sequence[str] | str, *, outcome: str | None = None,
                     treatment: str | None = None, covariates: Sequence[str] | None = None,
                     by: str | Sequence[str] | None = None, weights: str | None = "weights",
                     cluster: str | None = "subclass", conf_level: float = 0.95,
                     vcov: Literal["auto", "HC1", "HC3"] = "auto",
                     missing: Literal["error", "drop"] = "error") -> PlaceboResult:
    """Estimate placebo outcomes like the real outcome and say whether they differ.

    Parameters
    ----------
    data : DataFrame or match result
        The matched (or weighted) rows.
    placebo : str or sequence of str
        Numeric columns measured before the index date and not matched on (e.g. earnings two
        years before). A column that was matched on is refused: it is balanced by construction.
    outcome : str, optional
        The real numeric outcome, estimated the same way and reported beside them.
    treatment : str
        Treatment column (taken from a match result).
    covariates : sequence of str, optional
        The matching covariates (taken from a match result); placebo columns may not be among them.
    by, weights, cluster, conf_level, vcov, missing
        As in :func:`impact.effects.estimate_effects`.

    Returns
    -------
    PlaceboResult

    Examples
    --------
    >>> from impact.datasets import load_lalonde
    >>> lal = load_lalonde()
    >>> r = placebo_outcomes(lal, "re74", outcome="re78", treatment="treat", weights=None, cluster=None)
    >>> r.table[["role", "variable", "verdict"]].values.tolist()[0]
    ['placebo', 're74', 'difference detected: hidden bias likely']
    """
    from impact.effects import estimate_effects
    frame, treatment, matched_on = unwrap(data, treatment, "placebo_outcomes")
    cols = [placebo] if isinstance(placebo, str) else list(placebo)
    covs = set(matched_on) | set([covariates] if isinstance(covariates, str) else (covariates or []))
    clash = [c for c in cols if c in covs]
    if clash:
        raise ParameterError(f"placebo_outcomes: {clash} were matched on, so they are balanced by construction "
                             "and cannot serve as placebo outcomes; use a pre-period column not in covariates.")
    if outcome is not None and outcome in cols:
        raise ParameterError(f"placebo_outcomes: '{outcome}' is both the outcome and a placebo outcome.")
    level = f"{1 - conf_level:.0%}"
    parts = []
    notes: list[str] = []
    for role, var in [("placebo", c) for c in cols] + ([("outcome", outcome)] if outcome else []):
        res = estimate_effects(frame, outcome=var, treatment=treatment, by=by, weights=weights, cluster=cluster,
                               conf_level=conf_level, vcov=vcov, missing=missing)
        t = res.table[res.table["estimand"] == "mean_diff"].copy()
        t.insert(0, "variable", var)
        t.insert(0, "role", role)
        if role == "placebo":
            t["verdict"] = np.where(t["p_value"] < 1 - conf_level, VERDICT_BIAS,
                                    VERDICT_NONE.format(level=level))
        else:
            t["verdict"] = ""
        notes += [n for n in res.notes if "dropped" in n or "No '" in n]
        parts.append(t)
    table = pd.concat(parts, ignore_index=True)
    keep = ["role", "variable", "subgroup", "estimand", "estimate", "se", "ci_low", "ci_high", "p_value",
            "se_method", "n_treated", "n_control", "verdict"]
    notes.insert(0, "Placebo outcomes are fixed before the index date: participation cannot change them, so a "
                    "difference points to hidden bias (or chance; no adjustment for several placebos).")
    return PlaceboResult(table=table[[c for c in keep if c in table.columns]], conf_level=conf_level,
                         notes=tuple(dict.fromkeys(notes)))
