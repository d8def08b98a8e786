"""The effect over time: the difference in the share in work or studies, as a curve with bands.

At every time ``t`` of a grid, the difference ``F1(t) - F0(t)`` of the weighted Aalen-Johansen
cumulative incidences of work or studies (participants minus controls; other exits compete) with

* a pointwise interval ``d(t) +- z se(t)``, ``se(t)`` from the infinitesimal-jackknife influences of
  both arms summed within matched sets (the same as ``share_diff`` of
  :func:`impact.effects.estimate_effects` at its horizons), and
* a simultaneous band ``d(t) +- c se(t)`` that covers the whole curve at once with probability
  ``conf_level``: ``c`` is the ``conf_level`` quantile of ``max_t |sum_g xi_g S_g(t)| / se(t)`` over
  multiplier draws ``xi_g ~ N(0, 1)``, one per matched set ``g`` with influence sums ``S_g(t)`` (a
  multiplier bootstrap of the clustered influence functions; the sup-t band).

A negative difference early on is the lock-in of a programme; the curve shows when participants
catch up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Integral, Real
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from impact._errors import ParameterError
from impact._validation import (Constraint, InstanceOf, Interval, check_columns, check_random_state,
                                validate_params)
from impact.effects._effects import n_at_risk, person_codes
from impact.outcomes import CENSORED, EVENT

__all__ = ["EffectCurveResult", "effect_curve"]

CURVE_COLUMNS = ["subgroup", "time", "estimate", "se", "ci_low", "ci_high", "band_low", "band_high",
                 "share_treated", "share_control", "n_at_risk_treated", "n_at_risk_control"]


@dataclass(frozen=True)
class EffectCurveResult:
    """The share difference over days since start, with pointwise intervals and a simultaneous band.

    Attributes
    ----------
    table : DataFrame
        ``subgroup, time, estimate, se, ci_low, ci_high, band_low, band_high, share_treated,
        share_control, n_at_risk_treated, n_at_risk_control``: one row per subgroup and grid time.
        ``n_at_risk_*`` is the unweighted number of the arm's people of the subgroup still under
        observation just before ``time`` (duration ``>= time``, as lifelines' ``event_table``
        ``at_risk``); not for publication: :func:`impact.publish.curves_published` ends the curve
        where an arm has few people left, and drops these columns.
    critical_values : dict
        Per subgroup, the multiplier ``c`` of the simultaneous band (``> z``).
    conf_level : float
    settings : dict
    notes : tuple of str
    """

    table: pd.DataFrame
    critical_values: dict[str, float]
    conf_level: float
    settings: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> pd.DataFrame:
        """The table (a copy)."""
        return self.table.copy()

    def __repr__(self) -> str:
        subs = ", ".join(self.critical_values)
        return f"EffectCurveResult({len(self.table)} rows; subgroups: {subs}; {self.conf_level:.0%})"

    def plot(self, ax: Any = None, *, subgroups: Sequence[str] | None = None, title: str | None = None) -> Any:
        """Draw the curve(s) with the pointwise interval (shaded) and the band (dashed).

        Parameters
        ----------
        ax : Axes, optional
            Draw every subgroup on this Axes; with ``None`` a figure with one panel per subgroup.
        subgroups : sequence of str, optional
            Which subgroups (default all).
        title : str, optional
            Figure title.

        Returns
        -------
        Axes or array of Axes
            The Axes drawn on (an array of one per subgroup when ``ax`` is None).
        """
        import matplotlib.pyplot as plt
        subs = list(subgroups) if subgroups is not None else list(self.critical_values)
        if ax is None:
            fig, axes = plt.subplots(1, len(subs), figsize=(4.2 * len(subs), 3.4), sharey=True, squeeze=False)
            targets = list(axes[0])
            out: Any = axes[0]
        else:
            targets = [ax] * len(subs)
            out = ax
        for a, s in zip(targets, subs):
            t = self.table[self.table["subgroup"] == s]
            line = a.step(t["time"], t["estimate"], where="post", label=s)[0]
            col = line.get_color()
            a.fill_between(t["time"], t["ci_low"], t["ci_high"], step="post", alpha=0.2, color=col,
                           label=f"{self.conf_level:.0%} pointwise")
            a.step(t["time"], t["band_low"], where="post", ls="--", lw=0.8, color=col,
                   label=f"{self.conf_level:.0%} simultaneous")
            a.step(t["time"], t["band_high"], where="post", ls="--", lw=0.8, color=col)
            a.axhline(0, color="0.5", lw=0.6)
            a.set_xlabel("days since start")
            if ax is None:
                a.set_title(s)
        targets[0].set_ylabel("difference in share in work or studies")
        targets[0].legend(fontsize=7, loc="best")
        if title:
            targets[0].figure.suptitle(title)
        return out


class _Times(Constraint):
    """None or a non-empty sequence of numbers > 0."""

    def is_satisfied_by(self, value: Any) -> bool:
        if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray, pd.Series)):
            return False
        vals = list(value)
        return len(vals) > 0 and all(isinstance(v, Real) and not isinstance(v, bool) and np.isfinite(float(v)) and float(v) > 0
                                     for v in vals)

    def describe(self) -> str:
        return "a non-empty sequence of days > 0"

    def invalid(self) -> list[Any]:
        return [90, [], [-1, 5]]


@validate_params({"data": [InstanceOf(pd.DataFrame, "a pandas DataFrame")], "duration": ["column"],
                  "event": ["column"], "treatment": ["column"], "by": ["column", None],
                  "weights": ["column", None], "cluster": ["column", None], "times": [_Times(), None],
                  "conf_level": [Interval(Real, 0, 1, closed="neither")], "n_boot": [Interval(Integral, 100, None)],
                  "max_points": [Interval(Integral, 10, None)], "random_state": ["random_state"],
                  "persons": ["column", None]})
def effect_curve(data: pd.DataFrame, duration: str = "duration", event: str = "event", *,
                 treatment: str = "participant", by: str | None = "gender", weights: str | None = "weights",
                 cluster: str | None = "subclass", times: Sequence[float] | None = None,
                 conf_level: float = 0.95, n_boot: int = 2000, max_points: int = 400,
                 random_state: int | np.random.Generator | None = 0,
                 persons: str | None = None) -> EffectCurveResult:
    """The difference in the share in work or studies over days since start, with bands.

    Parameters
    ----------
    data : DataFrame
        Matched rows with outcomes from :func:`impact.time_to_event`.
    duration, event : str
        Days to exit or censoring; 0 censored, 1 work or studies, 2 another exit.
    treatment : str
        0/1 treatment column.
    by : str or None
        Subgroup column: curves for all and each level.
    weights, cluster : str or None
        Matching weights and matched sets (absent: 1 and one set per row).
    times : sequence of float, optional
        Grid of days. Default: the times of exits to work or studies up to the end of the shorter
        follow-up of the two arms, thinned to ``max_points`` quantiles.
    conf_level : float
        Level of the pointwise intervals and of the simultaneous band.
    n_boot : int
        Multiplier draws for the band's critical value.
    max_points : int
        Largest default grid.
    persons : str or None
        Column of person identifiers where a person can be in several rows (the risk-set
        design): ``n_at_risk_*`` then count persons, not rows. Default: each row a person.
    random_state : int, Generator or None
        Seed of the multiplier draws.

    Returns
    -------
    EffectCurveResult

    Examples
    --------
    >>> import impact
    >>> sim = impact.simulate(n_pool=1500, random_state=5)
    >>> v = impact.validate(sim.registers, sim.roles)
    >>> m = impact.match(v.data, treatment="participant", covariates=list(sim.roles.covariates),
    ...                  caliper=0.2, exact=["gender"], id="person_id")
    >>> d = impact.time_to_event(m.matched_data, sim.roles)
    >>> cur = effect_curve(d, times=[30, 90, 180])
    >>> cur.summary()["subgroup"].unique().tolist()
    ['all', 'female', 'male']
    >>> bool((cur.table["band_high"] >= cur.table["ci_high"]).all())
    True
    """
    from impact.survival import aalen_johansen
    check_columns(data, [duration, event, treatment] + ([by] if by else []))
    w_col = weights if weights and weights in data.columns else None
    c_col = cluster if cluster and cluster in data.columns else None
    if c_col is not None and data[c_col].isna().any():
        from impact._errors import data_error
        raise data_error(c_col, "missing matched-set ids", data[c_col].isna().to_numpy(),
                         "Use result.get_matches(), one row per set membership, or cluster=None.")
    dur = pd.to_numeric(data[duration], errors="coerce").to_numpy(float)
    ev = data[event].to_numpy()
    cause = np.where(ev == CENSORED, 0, np.where(ev == EVENT, 1, 2))
    t = data[treatment].to_numpy() == 1
    w = data[w_col].to_numpy(float) if w_col else np.ones(len(data))
    cl = data[c_col].to_numpy() if c_col else np.arange(len(data))
    pcodes = person_codes(data, persons)
    groups: list[tuple[str, np.ndarray]] = [("all", np.ones(len(data), bool))]
    if by:
        from impact.data import require_subgroup_levels
        groups += [(str(lev), (data[by] == lev).to_numpy()) for lev in require_subgroup_levels(data, by, treatment)]
    rng = check_random_state(random_state)
    z = float(stats.norm.ppf(0.5 + conf_level / 2))
    parts, crit = [], {}
    notes: list[str] = []
    for name, mask in groups:
        arms = {}
        for arm, m in (("treated", mask & t), ("control", mask & ~t)):
            arms[arm] = (aalen_johansen(dur[m], cause[m], weights=w[m], cluster=cl[m], causes=[1, 2]), m)
        end = min(a.last_time for a, _ in arms.values())
        if times is None:
            ev_times = np.unique(dur[mask & (cause == 1) & (dur <= end)])
            grid = ev_times if len(ev_times) <= max_points else np.unique(
                np.quantile(ev_times, np.linspace(0, 1, max_points)))
        else:
            grid = np.sort(np.asarray(times, float))
            if grid.max() > end:
                raise ParameterError(f"effect_curve: time {grid.max():g} is beyond the follow-up of one arm in "
                                     f"'{name}' (it ends at day {end:g}); choose times within it.")
        est = {arm: a.cif(1, grid)["estimate"].to_numpy() for arm, (a, _) in arms.items()}
        infl = np.vstack([arms["treated"][0].influence(1, grid), -arms["control"][0].influence(1, grid)])
        rows_cl = np.r_[cl[arms["treated"][1]], cl[arms["control"][1]]]
        codes = pd.factorize(pd.Series(rows_cl), sort=False)[0]
        S = np.zeros((int(codes.max()) + 1, len(grid)))
        np.add.at(S, codes, infl)
        se = np.sqrt((S ** 2).sum(axis=0))
        d = est["treated"] - est["control"]
        at_risk = {arm: n_at_risk(dur[m], grid, None if pcodes is None else pcodes[m])
                   for arm, (_, m) in arms.items()}
        ok = se > 0
        if ok.any():
            xi = rng.standard_normal((n_boot, S.shape[0]))
            sup = np.abs((xi @ S[:, ok]) / se[ok]).max(axis=1)
            c = float(np.quantile(sup, conf_level))
        else:
            c = float("nan")
        crit[name] = c
        parts.append(pd.DataFrame({"subgroup": name, "time": grid, "estimate": d, "se": se,
                                   "ci_low": d - z * se, "ci_high": d + z * se, "band_low": d - c * se,
                                   "band_high": d + c * se, "share_treated": est["treated"],
                                   "share_control": est["control"], "n_at_risk_treated": at_risk["treated"],
                                   "n_at_risk_control": at_risk["control"]}))
    notes.append("Share difference: weighted Aalen-Johansen cumulative incidence of work or studies, "
                 "participants minus controls; pointwise intervals from influence functions summed within "
                 f"{'matched sets' if c_col else 'rows'}; the simultaneous band from {n_boot} multiplier draws "
                 "(sup-t over the grid, times with a zero SE left out of the sup).")
    settings: dict[str, Any] = dict(duration=duration, event=event, treatment=treatment, by=by, weights=w_col,
                                    cluster=c_col, conf_level=conf_level, n_boot=n_boot, random_state=random_state)
    return EffectCurveResult(table=pd.concat(parts, ignore_index=True)[CURVE_COLUMNS], critical_values=crit,
                             conf_level=conf_level, settings=settings, notes=tuple(notes))
