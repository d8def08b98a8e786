"""One publication step for a whole report: every statistic with the people it rests on, the rules
applied to the whole set at once.

* :func:`share_numerators` -- the people behind each share: per subgroup, arm and horizon, how
  many were followed (``n``) and how many had the event by the horizon (``events``);
* :func:`effects_withheld` -- an effect table as it may be shown: a group with fewer than
  ``min_effect_n`` people in an arm has no estimate; a share whose numerator (or its complement)
  is under ``threshold`` is withheld, with the difference built on it; a value that the others
  would give back by subtraction (``all`` minus the other groups) is withheld too (secondary);
  every difference between groups and its test involving a withheld value is withheld. The
  column ``withheld`` says why;
* :func:`curves_published` -- the curves of the groups whose shares are all shown, nothing else,
  each ending at the last time at which every arm of its group still has ``max(threshold,
  MIN_AT_RISK)`` people at risk (the numbers at risk themselves are not published);
* :func:`balance_rounded` -- balance with means of binary covariates at a precision that hides
  single people (whole percent, and only when one percent is ``threshold`` people or more);
* :func:`flow_published` -- the flow from eligible to analysed, treated as a chain (each step's
  drop is the difference of two published counts), suppressed so that no small count and no
  small drop can be recalculated, audited by linear programming;
* :func:`notes_published` -- technical notes: a note that mentions a count of 1 to
  ``threshold - 1`` people is replaced by a generic one (no garbled text, no half-hidden sums);
* :func:`publish` -- all of it at once, as a frozen :class:`Publication`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd
from scipy.optimize import linprog

from impact._errors import ParameterError
from impact._validation import InstanceOf, Interval, Options, validate_params
from impact.publish._cellkey import DISCLOSURES, MAX_NOISE
from impact.publish._suppress import MARK

__all__ = ["Publication", "publish", "share_numerators", "effects_withheld", "curves_published",
           "balance_rounded", "flow_published", "notes_published", "withheld_note", "disclosure_note",
           "MIN_EFFECT_N", "MIN_AT_RISK"]

#: the default smallest number of people per arm for an effect estimate to be published at all
MIN_EFFECT_N = 20

#: the default smallest number of people still at risk in each arm at the last published time of a
#: curve. 20 as ``MIN_EFFECT_N``: a group too small for an estimate is too small for the end of a
#: curve. With 20 at risk one exit moves the Kaplan-Meier / Aalen-Johansen curve by at most 1/20 of
#: the remaining share (no single exit is a large jump), the standard error added over the remaining
#: time is at most that of a share among 20 people (sqrt(0.25 / 20) = 0.11), and a step is not one or
#: two identifiable people's exit dates read off the tail (where, with the flow table, the few left
#: could be recognised). A fixed number, not a share of the start: the disclosure risk lies in how
#: few people remain, whatever the size of the group was at the start.
MIN_AT_RISK = 20

_FRAME = [InstanceOf(pd.DataFrame, "a pandas DataFrame")]
_THRESHOLD = [Interval(Integral, 1, None)]
_ESTIMATES = ["estimate", "se", "ci_low", "ci_high", "p_value"]
_SHARE_ARMS = {"share_treated": "treated", "share_control": "control"}


_LANG = [Options(("en", "sv"))]

#: the replacement of a withheld technical note, by language
_WITHHELD_NOTE = {
    "en": ("A technical note is not shown because it mentions a group of fewer than {threshold} people "
           "(the full note is in the result object, which is not for publication)."),
    "sv": ("En teknisk anmärkning visas inte eftersom den nämner en grupp med färre än {threshold} personer "
           "(hela anmärkningen finns i resultatobjektet, som inte är för publicering)."),
}

#: what the monitoring tables' disclosure control is, by mode and language
_DISCLOSURE_NOTE = {
    ("threshold", "en"): "{mark}: fewer than {threshold} people, or hidden so that a smaller count cannot be "
                         "calculated from the totals.",
    ("threshold", "sv"): "{mark}: färre än {threshold} personer, eller dolt så att ett mindre antal inte kan "
                         "räknas fram ur summorna.",
    ("cellkey", "en"): "The counts in these tables have a small random deviation (at most ±{noise}) by the "
                       "cell-key method of Statistics Sweden: the same group of people always gets the same "
                       "deviation, in every table and every month; totals are the sums of the published "
                       "counts; shares and changes are computed from the published counts.",
    ("cellkey", "sv"): "Antalen i tabellerna har en liten slumpmässig avvikelse (högst ±{noise}) enligt SCB:s "
                       "cellnyckelmetod: samma grupp personer får alltid samma avvikelse, i varje tabell och "
                       "varje månad; summor är summan av de publicerade antalen; andelar och förändringar räknas "
                       "från de publicerade antalen.",
}


@validate_params({"threshold": _THRESHOLD, "lang": _LANG})
def withheld_note(threshold: int = 5, lang: str = "en") -> str:
    """The text that replaces a technical note which mentions a small group, in ``lang``.

    Examples
    --------
    >>> withheld_note(5)[:60]
    'A technical note is not shown because it mentions a group of'
    >>> withheld_note(5, lang="sv")[:45]
    'En teknisk anmärkning visas inte eftersom den'
    """
    return _WITHHELD_NOTE[lang].format(threshold=threshold)


@validate_params({"disclosure": [Options(DISCLOSURES)], "threshold": _THRESHOLD, "lang": _LANG,
                  "mark": [InstanceOf(str, "a str")]})
def disclosure_note(disclosure: str = "threshold", threshold: int = 5, lang: str = "en", mark: str = MARK) -> str:
    """The note under published monitoring tables: what the mode of disclosure control did to them.

    Examples
    --------
    >>> disclosure_note("cellkey", lang="sv")[:40]
    'Antalen i tabellerna har en liten slumpm'
    >>> disclosure_note("threshold")
    '..: fewer than 5 people, or hidden so that a smaller count cannot be calculated from the totals.'
    """
    return _DISCLOSURE_NOTE[(disclosure, lang)].format(mark=mark, threshold=threshold, noise=MAX_NOISE)


# -- the people behind each share -------------------------------------------------------------------

@validate_params({"data": _FRAME, "settings": [InstanceOf(Mapping, "the settings of an EffectsResult")]})
def share_numerators(data: pd.DataFrame, settings: Mapping[str, Any]) -> pd.DataFrame:
    """How many people each share rests on: ``subgroup, arm, horizon, n, events``.

    Parameters
    ----------
    data : DataFrame
        The analysed sample (one row per person), with the columns named in ``settings``.
    settings : mapping
        :attr:`impact.effects.EffectsResult.settings` (``duration``, ``event``, ``treatment``,
        ``by``, ``horizons``): the event of interest is ``event == 1``.

    Returns
    -------
    DataFrame
        People are counted, not weights: ``events`` is the number with the event by the horizon.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [1, 1, 0, 0], "dur": [10, 50, 20, 90], "ev": [1, 1, 0, 1], "g": list("abab")})
    >>> share_numerators(d, {"duration": "dur", "event": "ev", "treatment": "t", "by": None, "horizons": [30]})
      subgroup      arm  horizon  n  events
    0      all  treated     30.0  2       1
    1      all  control     30.0  2       0
    """
    dur, ev, tr = settings["duration"], settings["event"], settings["treatment"]
    by = settings.get("by")
    groups: list[tuple[str, pd.DataFrame]] = [("all", data)]
    if by:
        groups += [(str(k), d) for k, d in data.groupby(by, observed=True, sort=False)]
    rows = []
    for name, d in groups:
        for arm, code in (("treated", 1), ("control", 0)):
            x = d[d[tr] == code]
            for h in settings.get("horizons", ()):
                k = int(((x[ev] == 1) & (x[dur] <= h)).sum())
                rows.append((name, arm, float(h), len(x), k))
    return pd.DataFrame(rows, columns=["subgroup", "arm", "horizon", "n", "events"])


# -- effects ----------------------------------------------------------------------------------------

def _difference_parts(name: str, levels: Sequence[str]) -> tuple[str, str] | None:
    for a in levels:
        for b in levels:
            if a != b and name == f"{a} - {b}":
                return a, b
    return None


def _key(h: Any) -> float:
    return -1.0 if pd.isna(h) else float(h)


@validate_params({"summary": _FRAME, "numerators": [InstanceOf(pd.DataFrame, "a pandas DataFrame"), None],
                  "threshold": _THRESHOLD, "min_effect_n": _THRESHOLD})
def effects_withheld(summary: pd.DataFrame, numerators: pd.DataFrame | None = None, *, threshold: int = 5,
                     min_effect_n: int = MIN_EFFECT_N) -> pd.DataFrame:
    """The tidy effect table as it may be published, with the reason of each withheld row.

    Parameters
    ----------
    summary : DataFrame
        :meth:`impact.effects.EffectsResult.summary` (``subgroup, estimand, horizon, estimate, ...,
        n_treated, n_control``); rows of differences between groups have no counts.
    numerators : DataFrame, optional
        :func:`share_numerators` of the analysed sample. Without it the numerator of a share is
        taken as ``round(estimate * n)``.
    threshold : int, default 5
        Smallest number of people a published share may rest on (and its complement).
    min_effect_n : int, default 20
        Smallest number of people per arm for any estimate of a group.

    Returns
    -------
    DataFrame
        Without the count columns; withheld rows have NaN estimates and a reason in ``withheld``
        (``group_size``, ``numerator``, ``complement``, ``difference``; empty when shown).

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"subgroup": ["all", "women", "men", "women - men"], "estimand": "hazard_ratio",
    ...                   "horizon": float("nan"), "estimate": [1.2, 1.5, 1.1, 1.36],
    ...                   "n_treated": [60, 8, 52, None], "n_control": [60, 8, 52, None]})
    >>> effects_withheld(s)["withheld"].tolist()
    ['', 'group_size', 'complement', 'difference']
    """
    s = summary.reset_index(drop=True)
    reason = pd.Series("", index=s.index, dtype=object)
    is_diff = s["n_treated"].isna() if "n_treated" in s.columns else pd.Series(False, index=s.index)
    levels = [g for g in dict.fromkeys(s.loc[~is_diff, "subgroup"].astype(str)) if g != "all"]
    n_t = s.get("n_treated", pd.Series(np.inf, index=s.index)).astype(float)
    n_c = s.get("n_control", pd.Series(np.inf, index=s.index)).astype(float)
    small_group = ~is_diff & ((n_t < max(min_effect_n, threshold)) | (n_c < max(min_effect_n, threshold)))
    reason[small_group] = "group_size"
    # shares with small numerators (or complements), and the difference built on them
    num = {}
    if numerators is not None:
        num = {(str(r.subgroup), str(r.arm), float(r.horizon)): (int(r.n), int(r.events))
               for r in numerators.itertuples()}
    for i, r in s.iterrows():
        if reason[i] or is_diff[i] or r["estimand"] not in _SHARE_ARMS:
            continue
        arm = _SHARE_ARMS[r["estimand"]]
        n = n_t[i] if arm == "treated" else n_c[i]
        got = num.get((str(r["subgroup"]), arm, _key(r["horizon"])))
        if got is not None:
            n, k = got
        elif np.isfinite(r["estimate"]) and np.isfinite(n):
            k = int(round(float(r["estimate"]) * n))
        else:
            continue
        if 0 < k < threshold or 0 < n - k < threshold:
            reason[i] = "numerator"
    cell = {(str(r.subgroup), str(r.estimand), _key(r.horizon)): i for i, r in zip(s.index, s.itertuples())}
    for (g, est, h), i in list(cell.items()):
        if est == "share_diff" and not reason[i]:
            arms = [cell.get((g, e, h)) for e in _SHARE_ARMS]
            if any(p is not None and reason[p] for p in arms):
                reason[i] = "difference"
    # secondary: 'all' minus the other groups must not give a withheld group back
    for (est, h) in {(e, hh) for (_, e, hh) in cell}:
        idx = {g: cell[(g, est, h)] for g in levels if (g, est, h) in cell}
        withheld = [g for g, i in idx.items() if reason[i]]
        total = cell.get(("all", est, h))
        if len(withheld) == 1 and len(idx) >= 2 and total is not None and not reason[total]:
            others = [g for g in idx if g not in withheld]
            smallest = min(others, key=lambda g: n_t[idx[g]] + n_c[idx[g]])
            reason[idx[smallest]] = "complement"
    # differences between groups (and their tests)
    for i in s.index[is_diff]:
        parts = _difference_parts(str(s.at[i, "subgroup"]), levels)
        est, h = str(s.at[i, "estimand"]), _key(s.at[i, "horizon"])
        if parts is None:
            reason[i] = "difference"  # a difference whose groups are not known: not shown
            continue
        rows = [cell.get((p, est, h)) for p in parts]
        if any(r is None or reason[r] for r in rows) or any(reason[cell[k]] == "group_size"
                                                           for k in cell if k[0] in parts):
            reason[i] = "difference"
    out = s.drop(columns=[c for c in s.columns if str(c).startswith(("n_", "events_"))])
    cols = [c for c in _ESTIMATES if c in out.columns]
    out.loc[(reason != "").to_numpy(), cols] = np.nan
    out["withheld"] = reason.to_numpy()
    return out


@validate_params({"curves": _FRAME, "effects": _FRAME, "threshold": _THRESHOLD, "min_at_risk": _THRESHOLD})
def curves_published(curves: pd.DataFrame, effects: pd.DataFrame, *, threshold: int = 5,
                     min_at_risk: int = MIN_AT_RISK) -> pd.DataFrame:
    """The curves that may be drawn: of the groups none of whose shares is withheld (a curve is the
    share at every time), each ending where an arm has few people left at risk.

    A group's curves end at the last time at which every arm of the group still has at least
    ``max(threshold, min_at_risk)`` people at risk (under observation just before that time): the
    rows after it are dropped, so no published step rests on fewer people. Beyond that point the
    estimate is unstable, and a step is one or two people's exit dates. The numbers at risk are
    used only to cut and are not in the result.

    Parameters
    ----------
    curves : DataFrame
        :attr:`impact.effects.EffectsResult.curves` (``subgroup``, ``arm``, ``time``, ``estimate``,
        ``n_at_risk``...; one row per subgroup, arm and time) or
        :attr:`impact.effects.EffectCurveResult.table` (``subgroup``, ``time``, ``estimate``...,
        ``n_at_risk_treated``, ``n_at_risk_control``; one row per subgroup and time).
    effects : DataFrame
        The same result's :func:`effects_withheld` table.
    threshold : int, default 5
        Smallest count of people shown.
    min_at_risk : int, default MIN_AT_RISK (20)
        Smallest number of people at risk in each arm at the last time shown.

    Returns
    -------
    DataFrame
        Only the rows of groups that may be drawn (possibly none), up to each group's last time,
        without the ``n_at_risk*`` columns.

    Raises
    ------
    ParameterError
        When ``curves`` has rows but no numbers at risk (a curve that cannot be cut is not published).

    Examples
    --------
    >>> import pandas as pd
    >>> c = pd.DataFrame({"subgroup": ["all", "all", "all", "women"], "arm": "treated",
    ...                   "time": [0.0, 10.0, 20.0, 0.0], "estimate": [0.0, 0.2, 0.5, 0.0],
    ...                   "n_at_risk": [60, 30, 12, 40]})
    >>> e = pd.DataFrame({"subgroup": ["all", "women"], "estimand": "share_treated", "withheld": ["", "group_size"]})
    >>> curves_published(c, e)[["subgroup", "time"]].values.tolist()
    [['all', 0.0], ['all', 10.0]]
    """
    shares = effects[effects["estimand"].isin(list(_SHARE_ARMS) + ["share_diff"])]
    hidden = set(effects.loc[effects["withheld"] == "group_size", "subgroup"].astype(str))
    hidden |= set(shares.loc[shares["withheld"] != "", "subgroup"].astype(str))
    keep = ~curves["subgroup"].astype(str).isin(hidden).to_numpy()
    risk_cols = [c for c in ("n_at_risk", "n_at_risk_treated", "n_at_risk_control") if c in curves.columns]
    if len(curves) and not risk_cols:
        raise ParameterError("curves_published: the curves have no numbers at risk ('n_at_risk', or "
                             "'n_at_risk_treated' and 'n_at_risk_control'); re-estimate them with this "
                             "version of impact.estimate_effects or impact.effect_curve.")
    ends = _curve_ends(curves, threshold=threshold, min_at_risk=min_at_risk)
    last = curves["subgroup"].astype(str).map(ends).to_numpy(float)
    keep &= curves["time"].to_numpy(float) <= last     # NaN (no time with enough people): nothing
    return curves[keep].drop(columns=risk_cols).reset_index(drop=True)


def _curve_ends(curves: pd.DataFrame, *, threshold: int = 5, min_at_risk: int = MIN_AT_RISK) -> dict[str, float]:
    """Per subgroup, the last time of ``curves`` at which every arm has at least ``max(threshold,
    min_at_risk)`` people at risk (NaN when there is none); see :func:`curves_published`.

    With one row per arm (``arm``, ``n_at_risk``) each arm has its own times: the group ends at
    the earliest of the arms' last times with enough people (the number at risk only falls, so
    every earlier row of either arm rests on at least as many).
    """
    need = max(int(threshold), int(min_at_risk))
    sub = curves["subgroup"].astype(str)
    time = curves["time"].to_numpy(float)
    if "n_at_risk" in curves.columns:
        n = pd.to_numeric(curves["n_at_risk"]).to_numpy(float)
        arms = curves["arm"].astype(str).to_numpy() if "arm" in curves.columns else np.full(len(curves), "")
        enough = pd.DataFrame({"subgroup": sub.to_numpy(), "arm": arms, "time": np.where(n >= need, time, np.nan)})
        per_arm = enough.groupby(["subgroup", "arm"], sort=False)["time"].max()
        # an arm with no time of enough people gives NaN, and so the group
        out = per_arm.groupby(level="subgroup", sort=False).agg(lambda x: x.min(skipna=False))
        return {str(k): float(v) for k, v in out.items()}
    both = np.ones(len(curves), dtype=bool)
    for c in ("n_at_risk_treated", "n_at_risk_control"):
        both &= pd.to_numeric(curves[c]).to_numpy(float) >= need
    t = pd.Series(np.where(both, time, np.nan), index=curves.index)
    out = t.groupby(sub, sort=False).max()
    return {str(k): float(v) for k, v in out.items()}


# -- balance ----------------------------------------------------------------------------------------

@validate_params({"table": _FRAME, "sizes": [InstanceOf(Mapping, "a mapping of (arm, when) to a count")],
                  "threshold": _THRESHOLD})
def balance_rounded(table: pd.DataFrame, sizes: Mapping[tuple[str, str], int], threshold: int = 5) -> pd.DataFrame:
    """Balance statistics at a precision that hides single people.

    A mean of a binary covariate is a share of people; shown to the last digit, ``mean * n`` is an
    exact count. So it is shown as a whole percent, and only when one percent of that arm is at
    least ``threshold`` people (``n >= 100 * threshold``), so that the rounding interval of the count
    is at least ``threshold`` wide; otherwise it is :data:`MARK` and only the SMD is shown. For a
    binary covariate the eCDF statistics equal the difference of the means, so they follow the same
    rule; its SMD is shown to two decimals. Continuous covariates are not counts and are kept.

    Parameters
    ----------
    table : DataFrame
        A balance summary (``type``, ``mean_treated_before``, ..., ``smd_after``, ``ecdf_*``),
        indexed by covariate or with a ``covariate`` column.
    sizes : mapping
        The number of people behind each mean, keyed ``(arm, "before" | "after")``.
    threshold : int, default 5

    Returns
    -------
    DataFrame
        One row per covariate, ``sd_denominator`` left out.

    Examples
    --------
    >>> import pandas as pd
    >>> bal = pd.DataFrame({"covariate": ["born_abroad"], "type": ["binary"], "mean_treated_after": [0.1234],
    ...                     "mean_control_after": [0.5678], "smd_after": [-0.9876], "ecdf_max_after": [0.4444]})
    >>> balance_rounded(bal, {("treated", "after"): 40, ("control", "after"): 900}, 5).iloc[0, 2:].astype(str).tolist()
    ['..', '0.57', '-0.99', '..']
    """
    df = table.reset_index().rename(columns={"index": "covariate"}) if table.index.name else table.reset_index(drop=True)
    df = df.drop(columns=[c for c in ("sd_denominator",) if c in df.columns])
    binary = df.get("type", pd.Series("", index=df.index)).eq("binary").to_numpy()
    if not binary.any():
        return df
    for when in ("before", "after"):
        fine = []
        for arm in ("treated", "control"):
            col = f"mean_{arm}_{when}"
            if col not in df.columns:
                continue
            size = sizes.get((arm, when), 0)
            ok = size >= 100 * threshold
            fine.append(ok)
            values = df[col].astype(object)
            values[binary] = [round(float(v), 2) if ok and np.isfinite(v) else MARK for v in df.loc[binary, col]]
            df[col] = values
        for col in (f"ecdf_mean_{when}", f"ecdf_max_{when}"):
            if col in df.columns:
                values = df[col].astype(object)
                values[binary] = [round(float(v), 2) if all(fine) and np.isfinite(v) else MARK
                                  for v in df.loc[binary, col]]
                df[col] = values
        col = f"smd_{when}"
        if col in df.columns:
            values = df[col].astype(float)
            values[binary] = np.round(values[binary], 2)
            df[col] = values
    return df


# -- flow -------------------------------------------------------------------------------------------

def _flow_interval(n: np.ndarray, hidden: np.ndarray, cols: list[int], all_col: int | None,
                   target: np.ndarray) -> tuple[float, float]:
    """Bounds of ``target @ x`` over every flow consistent with the published cells."""
    rows, k = n.shape
    nv = rows * k
    idx = lambda i, j: i * k + j  # noqa: E731
    a_eq, b_eq, a_ub, b_ub = [], [], [], []
    for i in range(rows):
        for j in range(k):
            if not hidden[i, j]:
                e = np.zeros(nv)
                e[idx(i, j)] = 1
                a_eq.append(e)
                b_eq.append(n[i, j])
        if all_col is not None:
            e = np.zeros(nv)
            e[idx(i, all_col)] = 1
            for j in cols:
                e[idx(i, j)] -= 1
            a_eq.append(e)
            b_eq.append(0.0)
    for i in range(1, rows):  # a chain: no step adds people
        for j in range(k):
            e = np.zeros(nv)
            e[idx(i, j)] = 1
            e[idx(i - 1, j)] = -1
            a_ub.append(e)
            b_ub.append(0.0)
    bounds = [(0, None)] * nv
    kw: dict[str, Any] = dict(A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=bounds, method="highs")
    if a_ub:
        kw.update(A_ub=np.array(a_ub), b_ub=np.array(b_ub))
    lo = linprog(target, **kw)
    hi = linprog(-target, **kw)
    low = lo.fun if lo.status == 0 else -np.inf
    high = -hi.fun if hi.status == 0 else np.inf
    return float(low), float(high)


def _flow_sensitive(n: np.ndarray, threshold: int) -> list[np.ndarray]:
    rows, k = n.shape
    out = []
    for i in range(rows):
        for j in range(k):
            if 0 < n[i, j] < threshold:
                e = np.zeros(rows * k)
                e[i * k + j] = 1
                out.append(e)
            if i and 0 < n[i - 1, j] - n[i, j] < threshold:
                e = np.zeros(rows * k)
                e[i * k + j] = -1
                e[(i - 1) * k + j] = 1
                out.append(e)
    return out


@validate_params({"table": _FRAME, "threshold": _THRESHOLD})
def flow_published(table: pd.DataFrame, threshold: int = 5, mark: str = MARK) -> pd.DataFrame:
    """The flow table of counts as it may be published: no small count and no small drop between
    consecutive steps can be recalculated.

    The table is a chain: each row is a step, each column an arm (``all`` is the sum of the
    other columns when present). A reader knows that no step adds people and that ``all`` is the
    sum of the arms; the drop of a step is the difference of two published counts. Cells are
    hidden (later steps first, then ``all``) until, for every count and every drop of 1 to
    ``threshold - 1`` people, the linear program of the reader leaves an interval at least
    ``threshold`` wide, or as wide as it can be with every hideable cell hidden. The first row
    (everyone eligible) and the last (everyone analysed) are kept when that is safe.

    Parameters
    ----------
    table : DataFrame
        Counts, one row per step, numeric columns only (e.g. ``all``, ``treated``, ``control``).
    threshold : int, default 5
    mark : str, default ".."

    Returns
    -------
    DataFrame of object
        Counts as int, hidden cells as ``mark``.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"all": [300, 279, 57, 56], "treated": [50, 29, 29, 28], "control": [250, 250, 28, 28]},
    ...                  index=["eligible", "caliper", "selected", "matched"])
    >>> flow_published(f)
              all treated control
    eligible  300      50     250
    caliper    ..      ..     250
    selected   ..      ..      28
    matched    56      28      28
    """
    n = table.to_numpy(dtype=float)
    rows, k = n.shape
    cols = [j for j, c in enumerate(table.columns) if c != "all"]
    all_col = list(table.columns).index("all") if "all" in table.columns and len(cols) >= 1 else None
    hidden = np.zeros_like(n, dtype=bool)
    sens = _flow_sensitive(n, threshold)
    if not sens:
        return table.astype(object)
    everything = np.ones_like(hidden)
    need = []
    for t in sens:
        lo, hi = _flow_interval(n, everything, cols, all_col, t)
        need.append(min(float(threshold), hi - lo))
    primary = np.zeros_like(hidden)
    for t in sens:  # primary: small counts themselves (a drop is protected by the cells around it)
        nz = np.flatnonzero(t)
        if len(nz) == 1:
            primary[np.unravel_index(nz[0], n.shape)] = True
    hidden |= primary

    def worst() -> float:
        gaps = []
        for t, w in zip(sens, need, strict=True):
            lo, hi = _flow_interval(n, hidden, cols, all_col, t)
            gaps.append(hi - lo - w)
        return min(gaps)

    def total_gap() -> float:
        gaps = []
        for t, w in zip(sens, need, strict=True):
            lo, hi = _flow_interval(n, hidden, cols, all_col, t)
            gaps.append(min(hi - lo - w, 0.0))
        return sum(gaps)

    # candidates: one cell, or two cells of one step (all = treated + control: one hidden cell of a
    # step is given back by the other two); middle steps first, the first and last only if they must
    def moves(steps: list[int]) -> list[list[tuple[int, int]]]:
        out = [[(i, j)] for i in steps for j in range(k)]
        out += [[(i, a), (i, b)] for i in steps for a in range(k) for b in range(a + 1, k)]
        return out
    middle = moves(list(range(rows - 2, 0, -1)))
    ends = moves([rows - 1, 0])
    gap = worst()
    for order in (middle, middle + ends):
        while gap < -1e-7:
            best, best_score = None, (worst(), total_gap())
            for move in order:
                new = [c for c in move if not hidden[c]]
                if len(new) < len(move):
                    continue
                for c in new:
                    hidden[c] = True
                score = (worst(), total_gap())
                for c in new:
                    hidden[c] = False
                if score[0] > best_score[0] + 1e-9 or (abs(score[0] - best_score[0]) <= 1e-9 and
                                                       score[1] > best_score[1] + 1e-9):
                    best, best_score = move, score
            if best is None:
                break
            for c in best:
                hidden[c] = True
            gap = best_score[0]
    if gap >= -1e-7:  # prune: show again every secondary cell that is not needed
        for i, j in reversed(list(zip(*np.nonzero(hidden & ~primary), strict=True))):
            hidden[i, j] = False
            if worst() < -1e-7:
                hidden[i, j] = True
    out = table.astype(object).copy()
    for i, j in zip(*np.nonzero(hidden), strict=True):
        out.iat[i, j] = mark
    for i, j in zip(*np.nonzero(~hidden), strict=True):
        out.iat[i, j] = int(n[i, j])
    return out


# -- notes ------------------------------------------------------------------------------------------

# a whole number that stands alone: not part of a date (2022-01-01), a decimal (0.2), a ratio (1:1),
# a formula or name (n-1, x2, 1e-5), a setting (caliper=2) or a bracketed interval ([1/2.0, 2.0])
_COUNT = re.compile(r"(?<![\w.,:/=\[\-+−^*])(\d+)(?![\w.,:/\]\-+−^*%]|[.,]\d)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _small_counts(note: str, threshold: int) -> list[int]:
    text = _DATE.sub(" ", note)
    out = []
    for m in _COUNT.finditer(text):
        before = text[:m.start()].rstrip()
        if before.endswith(("=", "≥", "≤", "<", ">")):
            continue
        v = int(m.group(1))
        if 0 < v < threshold:
            out.append(v)
    return out


@validate_params({"notes": [InstanceOf((list, tuple), "a list of str")], "threshold": _THRESHOLD, "lang": _LANG})
def notes_published(notes: Sequence[Any], threshold: int = 5, lang: str = "en") -> tuple[str, ...]:
    """Technical notes as they may be shown: each note that mentions a count of 1 to
    ``threshold - 1`` is replaced by :func:`withheld_note` in ``lang`` (once); the others are kept
    as written.

    Numbers that are not counts of people are told apart by their context: dates
    (``2022-01-01``), decimals, ratios (``1:1``), formulas and names (``n-1``), settings
    (``caliper=2``) and intervals are never taken for counts, and never changed.

    Examples
    --------
    >>> notes_published(["n-1 denominator, from 2022-01-01", "22 unmatched (no control within the caliper: 4)"])
    ('n-1 denominator, from 2022-01-01', 'A technical note is not shown because it mentions a group of fewer than 5 people (the full note is in the result object, which is not for publication).')
    """
    out: list[str] = []
    for note in dict.fromkeys(str(n) for n in notes):
        text = withheld_note(threshold, lang) if _small_counts(note, threshold) else note
        if text not in out:
            out.append(text)
    return tuple(out)


# -- everything at once -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Publication:
    """What a report may show, decided for all its tables at once (see :func:`publish`).

    Attributes
    ----------
    effects : dict of str to DataFrame
        Each effect table (``"effects"``, ``"naive_effects"``, ``"effects_by_<column>"``) as
        :func:`effects_withheld` publishes it.
    curves : DataFrame
        The curves that may be drawn (:func:`curves_published`).
    flow : DataFrame
        The flow (:func:`flow_published`), with its ``step`` and ``reason`` columns.
    balance : DataFrame
        :func:`balance_rounded`.
    notes : tuple of str
        :func:`notes_published`.
    threshold, min_effect_n : int
        The rules' settings (stated in the methods text).
    min_at_risk : int
        The curves end where an arm has fewer than ``max(threshold, min_at_risk)`` people at risk.
    """

    effects: dict[str, pd.DataFrame]
    curves: pd.DataFrame
    flow: pd.DataFrame
    balance: pd.DataFrame
    notes: tuple[str, ...]
    threshold: int
    min_effect_n: int
    withheld: pd.DataFrame = field(repr=False, default_factory=pd.DataFrame)
    min_at_risk: int = MIN_AT_RISK

    def __repr__(self) -> str:
        n = sum(int((t["withheld"] != "").sum()) for t in self.effects.values())
        return (f"Publication({len(self.effects)} effect tables, {n} estimates withheld, threshold "
                f"{self.threshold}, min_effect_n {self.min_effect_n})")


@validate_params({"effects": [InstanceOf(Mapping, "a mapping of name to (summary, numerators or None)")],
                  "curves": _FRAME, "flow": _FRAME, "balance": _FRAME,
                  "sizes": [InstanceOf(Mapping, "a mapping of (arm, when) to a count")],
                  "notes": [InstanceOf((list, tuple), "a list of str")],
                  "threshold": _THRESHOLD, "min_effect_n": _THRESHOLD, "lang": _LANG,
                  "min_at_risk": _THRESHOLD})
def publish(effects: Mapping[str, tuple[pd.DataFrame, pd.DataFrame | None]], curves: pd.DataFrame,
            flow: pd.DataFrame, balance: pd.DataFrame, sizes: Mapping[tuple[str, str], int],
            notes: Sequence[str] = (), *, threshold: int = 5, min_effect_n: int = MIN_EFFECT_N,
            lang: str = "en", min_at_risk: int = MIN_AT_RISK) -> Publication:
    """Apply every rule to every table of a report at once.

    Parameters
    ----------
    effects : mapping
        name -> ``(summary, numerators)``: an effect table (:meth:`~impact.effects.EffectsResult.summary`)
        and the people behind its shares (:func:`share_numerators`, or None). The first one's
        curves are ``curves``.
    curves : DataFrame
        :attr:`~impact.effects.EffectsResult.curves` of the first effect table.
    flow : DataFrame
        :meth:`impact.data.Flow.table` (``step`` as index or column, ``reason``, the counts).
    balance : DataFrame
        The balance summary; ``sizes`` the people behind its means.
    notes : sequence of str
        Technical notes from every step.
    threshold : int, default 5
        Smallest count of people shown, and smallest numerator of a share.
    min_effect_n : int, default 20
        Smallest number of people per arm for an effect estimate of a group.
    lang : {"en", "sv"}, default "en"
        Language of the text that replaces a withheld note.
    min_at_risk : int, default MIN_AT_RISK (20)
        The curves end at the last time at which each arm of a group has at least
        ``max(threshold, min_at_risk)`` people at risk (:func:`curves_published`).

    Returns
    -------
    Publication

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"subgroup": ["all", "women", "men", "women - men"], "estimand": "hazard_ratio",
    ...                   "horizon": float("nan"), "estimate": [1.2, 1.5, 1.1, 1.36],
    ...                   "n_treated": [60, 8, 52, None], "n_control": [60, 8, 52, None]})
    >>> flow = pd.DataFrame({"step": ["eligible", "analysed"], "reason": ["", ""], "all": [300, 120],
    ...                      "treated": [60, 60], "control": [240, 60]})
    >>> bal = pd.DataFrame({"covariate": ["age"], "type": ["continuous"], "smd_after": [0.01]})
    >>> pub = publish({"effects": (s, None)}, pd.DataFrame(), flow, bal, {}, ["2 people had no match"])
    >>> pub
    Publication(1 effect tables, 3 estimates withheld, threshold 5, min_effect_n 20)
    >>> pub.flow["treated"].tolist(), pub.notes[0][:30]
    ([60, 60], 'A technical note is not shown ')
    """
    pub = {name: effects_withheld(summary, num, threshold=threshold, min_effect_n=min_effect_n)
           for name, (summary, num) in effects.items()}
    first = next(iter(pub.values())) if pub else pd.DataFrame({"subgroup": [], "estimand": [], "withheld": []})
    shown_curves = (curves_published(curves, first, threshold=threshold, min_at_risk=min_at_risk) if len(curves)
                    else curves.drop(columns=[c for c in curves.columns if str(c).startswith("n_at_risk")]))
    fl = flow.reset_index() if "step" not in flow.columns else flow.copy()
    counts = [c for c in ("all", "treated", "control") if c in fl.columns]
    published_counts = flow_published(fl[counts].set_axis(fl["step"]), threshold)
    fl_out = fl.drop(columns=[c for c in ("dropped",) if c in fl.columns]).copy()
    for c in counts:
        fl_out[c] = published_counts[c].to_numpy()
    rows = [(name, r.subgroup, r.estimand, r.horizon, r.withheld) for name, t in pub.items()
            for r in t.itertuples() if r.withheld]
    withheld = pd.DataFrame(rows, columns=["table", "subgroup", "estimand", "horizon", "reason"])
    return Publication(effects=pub, curves=shown_curves, flow=fl_out,
                       balance=balance_rounded(balance, sizes, threshold),
                       notes=notes_published(list(notes), threshold, lang), threshold=threshold,
                       min_effect_n=min_effect_n, withheld=withheld, min_at_risk=min_at_risk)
