"""E-values (VanderWeele and Ding 2017): how strong hidden confounding would have to be.

The E-value of a risk ratio ``RR >= 1`` is ``RR + sqrt(RR (RR - 1))`` (for ``RR < 1`` take
``1 / RR`` first): the minimum strength of association, on the risk-ratio scale, that an unmeasured
confounder would need with both the treatment and the outcome to move the estimate to 1. For the
confidence interval it is computed for the limit closer to 1 (1 when the interval includes 1).

Hazard ratios are first converted to risk ratios: ``RR = HR`` when the outcome is rare (under
about 15% by the end of follow-up) and ``RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR))`` when it
is common (VanderWeele 2020, as ``EValue::evalues.HR(rare = FALSE)``). A risk difference ``p1 - p0``
is converted with the control share held fixed: ``RR = (p0 + RD) / p0``, its limits ``(p0 + RD_lim)
/ p0``.
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
from impact.sensitivity._common import Days, HasTable

__all__ = ["EValueResult", "evalue", "evalues"]


def _evalue_rr(rr: float) -> float:
    if not np.isfinite(rr) or rr <= 0:
        return float("nan")
    rr = 1.0 / rr if rr < 1 else rr
    return float(rr + np.sqrt(rr * (rr - 1.0)))


def hr_to_rr(hr: float, rare: bool) -> float:
    """The risk ratio a hazard ratio stands for (VanderWeele's common-outcome conversion)."""
    if rare or not np.isfinite(hr) or hr <= 0:
        return float(hr)
    return float((1 - 0.5 ** np.sqrt(hr)) / (1 - 0.5 ** np.sqrt(1 / hr)))


def _limit_toward_one(est: float, lo: float, hi: float) -> float:
    """The confidence limit closer to 1, or 1 when the interval covers 1."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return float("nan")
    if lo <= 1 <= hi:
        return 1.0
    return float(lo) if est >= 1 else float(hi)


@dataclass(frozen=True)
class EValueResult:
    """E-values, one row per subgroup, measure and horizon.

    Attributes
    ----------
    table : DataFrame
        ``subgroup, measure, horizon, estimate, ci_low, ci_high, rr, rr_limit, evalue, evalue_ci,
        conversion``: ``rr`` is the estimate on the risk-ratio scale, ``rr_limit`` its confidence
        limit closer to 1, ``evalue`` and ``evalue_ci`` their E-values (``evalue_ci`` is 1 when
        the interval includes the null), ``conversion`` how the measure became a risk ratio.
    notes : tuple of str
        How the E-values were made.
    """

    table: pd.DataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> pd.DataFrame:
        """The table (a copy)."""
        return self.table.copy()

    def __repr__(self) -> str:
        return f"EValueResult({len(self.table)} rows)"


_MEASURES = ["RR", "HR", "RD"]


@validate_params({"estimate": [Interval(Real, None, None)], "ci_low": [Interval(Real, None, None), None],
                  "ci_high": [Interval(Real, None, None), None], "measure": [Options(_MEASURES)],
                  "rare": ["boolean"], "baseline": [Interval(Real, 0, 1, closed="neither"), None]})
def evalue(estimate: float, ci_low: float | None = None, ci_high: float | None = None, *,
           measure: Literal["RR", "HR", "RD"] = "RR", rare: bool = True,
           baseline: float | None = None) -> EValueResult:
    """E-value of one estimate and of its confidence limit closer to 1.

    Parameters
    ----------
    estimate : float
        A risk ratio (``measure="RR"``), hazard ratio (``"HR"``) or risk difference (``"RD"``).
    ci_low, ci_high : float, optional
        Its confidence limits.
    measure : {"RR", "HR", "RD"}
        What ``estimate`` is.
    rare : bool
        For a hazard ratio: the outcome is rare (< 15% by the end of follow-up), so ``RR = HR``;
        with ``False`` the common-outcome conversion is used.
    baseline : float, optional
        For a risk difference: the control share ``p0`` (required).

    Returns
    -------
    EValueResult

    Examples
    --------
    VanderWeele and Ding (2017), breastfeeding and infant respiratory death, RR 3.9 (1.8 to 8.7):

    >>> r = evalue(3.9, 1.8, 8.7)
    >>> r.table[["evalue", "evalue_ci"]].round(2).values.tolist()
    [[7.26, 3.0]]
    """
    lo = float("nan") if ci_low is None else float(ci_low)
    hi = float("nan") if ci_high is None else float(ci_high)
    if np.isfinite(lo) and np.isfinite(hi) and not lo <= estimate <= hi:
        raise ParameterError(f"evalue needs ci_low <= estimate <= ci_high. Got {lo}, {estimate}, {hi}.")
    row = _row("", measure, float("nan"), float(estimate), lo, hi, rare, baseline)
    return EValueResult(table=pd.DataFrame([row]), notes=(_NOTE,))


_NOTE = ("E-values (VanderWeele and Ding 2017): the minimum risk ratio an unmeasured confounder would need "
         "with both participation and the outcome to explain the estimate away (evalue) or to move the "
         "confidence limit closer to 1 to 1 (evalue_ci).")


def _row(subgroup: str, measure: str, horizon: float, est: float, lo: float, hi: float, rare: bool,
         baseline: float | None) -> dict[str, Any]:
    if measure == "RR":
        rr, rlo, rhi, conv = est, lo, hi, "none (risk ratio)"
    elif measure == "HR":
        rr, rlo, rhi = (hr_to_rr(x, rare) for x in (est, lo, hi))
        conv = "RR = HR (rare outcome)" if rare else "RR = (1 - 0.5^sqrt(HR)) / (1 - 0.5^sqrt(1/HR)) (common outcome)"
    else:
        if baseline is None:
            raise ParameterError("evalue(measure='RD') needs baseline=, the control share p0.")
        rr, rlo, rhi = ((baseline + x) / baseline for x in (est, lo, hi))
        conv = f"RR = (p0 + RD) / p0 with p0 = {baseline:.4g} held fixed"
    limit = _limit_toward_one(rr, rlo, rhi)
    return dict(subgroup=subgroup, measure=measure, horizon=horizon, estimate=est, ci_low=lo, ci_high=hi,
                rr=rr, rr_limit=limit, evalue=_evalue_rr(rr),
                evalue_ci=(1.0 if limit == 1.0 else _evalue_rr(limit)), conversion=conv)


@validate_params({"effects": [HasTable("an EffectsResult")], "rare": ["boolean", None],
                  "common_threshold": [Interval(Real, 0, 1, closed="neither")], "horizons": [Days(), None]})
def evalues(effects: Any, *, rare: bool | None = None, common_threshold: float = 0.15,
            horizons: Sequence[float] | None = None) -> EValueResult:
    """E-values for every subgroup of an effects result: hazard ratio, risk ratio and risk difference.

    Parameters
    ----------
    effects : EffectsResult
        From :func:`impact.estimate_effects` on a time-to-event outcome (rows ``hazard_ratio``,
        ``share_treated``, ``share_control``, ``share_diff``).
    rare : bool or None
        Whether the outcome (work or studies) is rare, for the hazard-ratio conversion. ``None``:
        rare when the control share at the last horizon is below ``common_threshold``.
    common_threshold : float
        Share above which the outcome counts as common (VanderWeele: 15%).
    horizons : sequence of float, optional
        Horizons for the risk ratio and difference (default: all in the table).

    Returns
    -------
    EValueResult
        ``measure`` is ``"HR"`` (hazard ratio), ``"RR"`` (ratio of the shares in work or
        studies at the horizon; log-scale interval from the two arms' SEs, their covariance
        ignored) or ``"RD"`` (the share difference with its clustered interval, converted with
        the control share held fixed).

    Examples
    --------
    >>> import pandas as pd
    >>> from types import SimpleNamespace
    >>> tab = pd.DataFrame({"subgroup": ["all"] * 4, "horizon": [float("nan"), 90, 90, 90],
    ...     "estimand": ["hazard_ratio", "share_treated", "share_control", "share_diff"],
    ...     "estimate": [1.5, 0.3, 0.2, 0.1], "se": [0.1, 0.02, 0.02, 0.025],
    ...     "ci_low": [1.2, 0.26, 0.16, 0.051], "ci_high": [1.8, 0.34, 0.24, 0.149]})
    >>> evalues(SimpleNamespace(table=tab)).table["measure"].tolist()
    ['HR', 'RR', 'RD']
    """
    t = getattr(effects, "table", None)
    if not isinstance(t, pd.DataFrame) or "estimand" not in t.columns:
        raise ParameterError("evalues needs an EffectsResult (from estimate_effects on a time-to-event outcome).")
    have = sorted(set(t.loc[t["estimand"] == "share_diff", "horizon"].dropna()))
    hs = have if horizons is None else [float(h) for h in horizons]
    missing = [h for h in hs if h not in have]
    if missing:
        raise ParameterError(f"evalues: horizon(s) {missing} are not in the effects table (it has {have}); "
                             "estimate them first with estimate_effects(horizons=...).")
    notes = [_NOTE]
    rows = []
    for sub in dict.fromkeys(t["subgroup"]):
        if " - " in str(sub):
            continue   # differences between subgroups are not effects
        s = t[t["subgroup"] == sub]
        share_c = s[(s["estimand"] == "share_control")].sort_values("horizon")
        if rare is None:
            last = share_c["estimate"].dropna()
            is_rare = bool(last.iloc[-1] < common_threshold) if len(last) else True
        else:
            is_rare = rare
        hr = s[s["estimand"] == "hazard_ratio"]
        if len(hr):
            r = hr.iloc[0]
            rows.append(_row(str(sub), "HR", float("nan"), r.estimate, r.ci_low, r.ci_high, is_rare, None))
        for h in hs:
            get = {e: s[(s["estimand"] == e) & (s["horizon"] == h)] for e in ("share_treated", "share_control",
                                                                                  "share_diff")}
            if any(len(v) == 0 for v in get.values()):
                continue
            p1, p0 = get["share_treated"].iloc[0], get["share_control"].iloc[0]
            if p0.estimate > 0 and p1.estimate > 0:
                z = (p1.ci_high - p1.estimate) / p1.se if p1.se > 0 else 1.959963984540054
                lrr = np.log(p1.estimate / p0.estimate)
                se = np.hypot(p1.se / p1.estimate, p0.se / p0.estimate)
                rows.append(_row(str(sub), "RR", h, float(np.exp(lrr)), float(np.exp(lrr - z * se)),
                                 float(np.exp(lrr + z * se)), True, None))
                d = get["share_diff"].iloc[0]
                rows.append(_row(str(sub), "RD", h, d.estimate, d.ci_low, d.ci_high, True, float(p0.estimate)))
    if rows and rare is None:
        notes.append(f"Hazard ratios converted as for a common outcome where the control share at the last "
                     f"horizon is {common_threshold:.0%} or more (column conversion).")
    notes.append("Risk ratio: ratio of the shares in work or studies at the horizon; its interval ignores the "
                 "covariance between the arms (conservative when matched pairs are positively correlated).")
    return EValueResult(table=pd.DataFrame(rows), notes=tuple(notes))
