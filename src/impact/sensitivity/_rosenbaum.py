"""Rosenbaum bounds for a binary outcome in matched pairs and 1:k matched sets.

Within matched set ``s`` of ``n_s`` members (one participant, ``n_s - 1`` controls) of whom
``c_s`` had the outcome, the chance that the participant is one of those ``c_s`` is
``c_s / n_s`` without hidden bias. If an unobserved covariate can multiply the odds of
participation by at most ``Gamma`` (Rosenbaum 2002, *Observational Studies*, ch. 4), that chance
is at most ``p_s+ = Gamma c_s / (Gamma c_s + n_s - c_s)`` (and at least
``c_s / (c_s + Gamma (n_s - c_s))``), the extreme being reached by the same unobserved covariate
(the outcome itself) in every set. The upper bound of the one-sided p-value is then the upper
tail of a sum of independent Bernoulli(``p_s+``) at the observed number of participants with the
outcome (computed exactly by convolution); sets where everybody or nobody had the outcome carry
no information. For pairs this is McNemar's test: among discordant pairs, the count where the
participant had the outcome, against Binomial(D, Gamma / (1 + Gamma)).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize

from impact._errors import DataError, ParameterError, data_error
from impact._validation import Constraint, Interval, Options, check_columns, check_treatment, validate_params
from impact.sensitivity._common import DataLike, unwrap

__all__ = ["RosenbaumResult", "rosenbaum_bounds", "rosenbaum_binary"]


@dataclass(frozen=True)
class RosenbaumResult:
    """Bounds on the one-sided p-value of a matched comparison under hidden bias ``Gamma``.

    Attributes
    ----------
    table : DataFrame
        One row per Gamma: ``gamma, p_upper, p_lower``.
    gamma_critical : float
        The smallest Gamma at which the upper bound reaches ``alpha`` (significance lost);
        1.0 when the comparison is not significant even without hidden bias; ``inf`` when it
        stays significant for every Gamma.
    statistic : int
        Participants with the outcome in the informative sets (``alternative="greater"``; for
        ``"less"`` the participants without it).
    n_sets, n_informative : int
        Matched sets used, and those with both outcomes present (discordant pairs).
    alpha : float
        Level at which significance is judged.
    alternative : str
        ``"greater"``: participants have the outcome more often; ``"less"``: less often.
    settings : dict
    notes : tuple of str
        Sets dropped and why.
    """

    table: pd.DataFrame
    gamma_critical: float
    statistic: int
    n_sets: int
    n_informative: int
    alpha: float
    alternative: str
    settings: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> pd.DataFrame:
        """The table of bounds (a copy) with the critical Gamma in its attrs."""
        out = self.table.copy()
        out.attrs["gamma_critical"] = self.gamma_critical
        return out

    def __repr__(self) -> str:
        return (f"RosenbaumResult({self.n_informative} informative of {self.n_sets} sets; significance at "
                f"{self.alpha:g} lost at Gamma = {self.gamma_critical:.3g})")


def _poisson_binomial_sf(p: np.ndarray, t: int) -> float:
    """P(sum of independent Bernoulli(p) >= t), exactly by convolution."""
    dist = np.zeros(len(p) + 1)
    dist[0] = 1.0
    for k, q in enumerate(p, start=1):
        dist[1:k + 1] = dist[1:k + 1] * (1 - q) + dist[0:k] * q
        dist[0] *= 1 - q
    return float(min(1.0, max(0.0, dist[t:].sum())))


def _bounds(c: np.ndarray, n: np.ndarray, t: int, gamma: float) -> tuple[float, float]:
    up = gamma * c / (gamma * c + n - c)
    lo = c / (c + gamma * (n - c))
    return _poisson_binomial_sf(up, t), _poisson_binomial_sf(lo, t)


class _Gammas(Constraint):
    """A non-empty sequence of numbers >= 1."""

    def is_satisfied_by(self, value: Any) -> bool:
        if isinstance(value, (str, bytes)) or not isinstance(value, (Sequence, np.ndarray)):
            return False
        vals = list(value)
        return len(vals) > 0 and all(isinstance(v, Real) and not isinstance(v, bool) and np.isfinite(float(v))
                                     and float(v) >= 1 for v in vals)

    def describe(self) -> str:
        return "a non-empty sequence of numbers >= 1"

    def invalid(self) -> list[Any]:
        return [2, [], [0.5, 2], [1, float("nan")]]


_GAMMA_DEFAULT = (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 5.0)


def _from_sets(c: np.ndarray, n: np.ndarray, t: int, gamma: Sequence[float], alpha: float, alternative: str,
               n_sets: int, settings: dict[str, Any], notes: list[str]) -> RosenbaumResult:
    rows = []
    for g in gamma:
        up, lo = _bounds(c, n, t, float(g))
        rows.append(dict(gamma=float(g), p_upper=up, p_lower=lo))
    f = lambda g: _bounds(c, n, t, g)[0] - alpha  # noqa: E731
    if len(c) == 0 or f(1.0) >= 0:
        crit = 1.0
    elif f(1e6) < 0:
        crit = float("inf")
    else:
        hi = 2.0
        while f(hi) < 0:
            hi *= 2
        crit = float(optimize.brentq(f, 1.0, hi, xtol=1e-10))
    return RosenbaumResult(table=pd.DataFrame(rows), gamma_critical=crit, statistic=int(t), n_sets=n_sets,
                           n_informative=int(len(c)), alpha=alpha, alternative=alternative, settings=settings,
                           notes=tuple(notes))


@validate_params({"discordant_treated": [Interval(Real, 0, None)], "discordant_control": [Interval(Real, 0, None)],
                  "gamma": [_Gammas()], "alpha": [Interval(Real, 0, 1, closed="neither")]})
def rosenbaum_binary(discordant_treated: int, discordant_control: int, *,
                     gamma: Sequence[float] = _GAMMA_DEFAULT, alpha: float = 0.05) -> RosenbaumResult:
    """Rosenbaum bounds for McNemar's test from the two counts of discordant pairs.

    Parameters
    ----------
    discordant_treated : int
        Pairs in which only the participant had the outcome.
    discordant_control : int
        Pairs in which only the control had it.
    gamma : sequence of float
        Values of Gamma (>= 1) for the table.
    alpha : float
        Level at which the critical Gamma is found.

    Returns
    -------
    RosenbaumResult

    Examples
    --------
    Hammond's smoking and lung-cancer pairs (Rosenbaum 2002, p. 112; the example of
    ``rbounds::binarysens(12, 110)``): 110 discordant pairs with the smoker dead of lung cancer,
    12 with the non-smoker.

    >>> r = rosenbaum_binary(110, 12, gamma=[1, 5])
    >>> round(r.table["p_upper"].iloc[1], 4) < 0.05 < round(r.gamma_critical, 1)
    True
    """
    a, b = int(discordant_treated), int(discordant_control)
    if a != discordant_treated or b != discordant_control:
        raise ParameterError("rosenbaum_binary takes whole counts of discordant pairs.")
    c = np.ones(a + b)
    n = np.full(a + b, 2.0)
    return _from_sets(c, n, a, gamma, alpha, "greater", a + b, {"pairs": True}, [])


_PARAMS: dict[str, list[Any]] = {
    "data": [DataLike()],
    "outcome": ["column", None],
    "treatment": ["column", None],
    "cluster": ["column"],
    "duration": ["column"],
    "event": ["column"],
    "horizon": [Interval(Real, 0, None, closed="neither"), None],
    "gamma": [_Gammas()],
    "alpha": [Interval(Real, 0, 1, closed="neither")],
    "alternative": [Options(["auto", "greater", "less"])],
}


@validate_params(_PARAMS)
def rosenbaum_bounds(data: Any, outcome: str | None = None, *, treatment: str | None = None,
                     cluster: str = "subclass", duration: str = "duration", event: str = "event",
                     horizon: float | None = None, gamma: Sequence[float] = _GAMMA_DEFAULT,
                     alpha: float = 0.05,
                     alternative: Literal["auto", "greater", "less"] = "auto") -> RosenbaumResult:
    """Rosenbaum bounds for a binary outcome in matched pairs or 1:k sets.

    Parameters
    ----------
    data : DataFrame or match result
        Matched rows with a matched-set column (one participant per set).
    outcome : str, optional
        A 0/1 outcome column. Without it, the outcome is "in work or studies by day ``horizon``":
        ``event == 1`` and ``duration <= horizon``; a person censored before ``horizon`` has an
        unknown status, so their set is left out (counted in ``notes``).
    treatment : str
        Treatment column (taken from a match result).
    cluster : str
        Matched-set column.
    duration, event : str
        Time-to-event columns (with ``horizon``).
    horizon : float, optional
        Day at which the binary outcome is read; must not exceed the follow-up.
    gamma : sequence of float
        Gammas (>= 1) for the table.
    alpha : float
        Level at which significance is judged (``gamma_critical``).
    alternative : {"auto", "greater", "less"}
        Direction of the one-sided test; ``"auto"`` takes the direction of the observed
        difference (lock-in shows as ``"less"``).

    Returns
    -------
    RosenbaumResult

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"subclass": [1, 1, 2, 2, 3, 3, 4, 4], "treat": [1, 0] * 4,
    ...                   "work": [1, 0, 1, 0, 1, 1, 0, 1]})
    >>> r = rosenbaum_bounds(d, "work", treatment="treat", gamma=[1, 2])
    >>> r.n_informative, r.statistic, round(r.table["p_upper"].iloc[0], 4)
    (3, 2, 0.5)
    """
    frame, treatment, _ = unwrap(data, treatment, "rosenbaum_bounds")
    notes: list[str] = []
    if outcome is None:
        if horizon is None:
            raise ParameterError("rosenbaum_bounds needs outcome='column' (0/1) or horizon= (days) with "
                                 "the duration and event columns.")
        check_columns(frame, [treatment, cluster, duration, event])
        dur = pd.to_numeric(frame[duration], errors="coerce").to_numpy(float)
        if np.isnan(dur).any():
            raise data_error(duration, "missing or non-numeric durations", np.isnan(dur))
        if horizon > np.nanmax(dur):
            raise ParameterError(f"The horizon {horizon:g} days is beyond the follow-up (the longest duration "
                                 f"is {np.nanmax(dur):g} days); choose a horizon within it.")
        ev = frame[event].to_numpy()
        y = ((ev == 1) & (dur <= horizon)).astype(float)
        unknown = (ev == 0) & (dur < horizon)
        y[unknown] = np.nan
        label = f"in work or studies by day {horizon:g}"
    else:
        check_columns(frame, [treatment, cluster, outcome])
        col = frame[outcome]
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            raise data_error(outcome, "the outcome must be binary 0/1", np.ones(len(col), bool))
        y = col.to_numpy(float)
        bad = ~np.isnan(y) & ~np.isin(y, [0.0, 1.0])
        if bad.any():
            raise data_error(outcome, "the outcome must be binary 0/1", bad)
        if np.isnan(y).any():
            raise data_error(outcome, "missing outcome values", np.isnan(y), "Drop the sets with missing outcomes.")
        label = outcome
    check_treatment(frame[treatment], treatment)
    t = frame[treatment].to_numpy() == 1
    sets = frame[cluster]
    if sets.isna().any():
        raise data_error(cluster, "missing matched-set ids (matching with replacement has no single set "
                         "per control)", sets.isna().to_numpy(), "Use result.get_matches(), one row per membership.")
    codes = pd.factorize(sets)[0]
    n_t = np.bincount(codes, weights=t.astype(float))
    if (n_t != 1).any():
        first = np.flatnonzero(np.isin(codes, np.flatnonzero(n_t != 1)))
        raise DataError(f"Column '{cluster}': every matched set needs exactly one participant; "
                        f"{int((n_t != 1).sum())} set(s) do not (e.g. rows at positions {first[:5].tolist()}). "
                        "Rosenbaum bounds here are for pair and 1:k matching.", column=cluster,
                        rule="one participant per set", positions=first[:20].tolist())
    known = np.bincount(codes, weights=np.isnan(y).astype(float)) == 0
    if (~known).any():
        notes.append(f"{int((~known).sum())} matched set(s) left out: a member was censored before day "
                     f"{horizon:g}, so the outcome is unknown.")
    yy = np.nan_to_num(y)
    n_s = np.bincount(codes).astype(float)[known]
    c_all = np.bincount(codes, weights=yy)[known]
    t_all = np.bincount(codes, weights=yy * t)[known]
    if alternative == "auto":
        alternative = "greater" if t_all.sum() >= (c_all / n_s).sum() else "less"
    if alternative == "less":   # participants without the outcome
        c_all = n_s - c_all
        t_all = np.bincount(codes, weights=(1 - yy) * t)[known]
    info = (c_all > 0) & (c_all < n_s)
    settings = dict(outcome=label, treatment=treatment, cluster=cluster, horizon=horizon)
    return _from_sets(c_all[info], n_s[info], int(round(t_all[info].sum())), gamma, alpha, alternative,
                      int(known.sum()), settings, notes)
