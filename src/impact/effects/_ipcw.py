"""Inverse probability of censoring weighting (IPCW) for artificial censoring of controls.

In a risk-set design with the estimand ``join_vs_never`` a control is censored on the day it
joins the programme itself (the artificial censoring of target-trial emulation, Hernán and
Robins; the "sequential trials" of Danaei et al. 2013). Who joins depends on covariates that
also drive the hazard of work (economic assistance, birth abroad, education, elapsed time), so
the censoring is informative: the controls still followed late are those least likely to join,
and the controls' cumulative incidence is biased (in the bundled design: upwards, which
attenuates the effect). Weighting each control at each time by the inverse of its probability of
not yet being censored, given what was known on the index date, removes that bias when those
covariates explain the joining (no unmeasured causes of both joining and work).

Two steps, each a public function:

* :func:`censoring_weights`: a piecewise-exponential (Poisson) model of each control's hazard of
  joining after the index date, from the covariates as of the index date, the time since the
  index date (pieces of ``width`` days) and the elapsed time in the spell at each piece; the
  stabilised weight of each piece is ``P(not censored | time, stratum) / P(not censored |
  covariates, time)`` at its middle, truncated at the ``truncate`` percentiles;
* :func:`ipcw_effects`: on the (start, stop] pieces with these weights, the weighted
  Aalen-Johansen cumulative incidence with delayed entry (infinitesimal-jackknife standard errors
  summed within matched sets, the weights taken as known) and the Cox hazard ratio
  (:class:`impact.survival.CoxPH` with ``entry=``, ``weights=``, clustered on the set), by
  subgroup, with the test of the difference between two subgroups.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from impact._errors import ParameterError, data_error
from impact._validation import InstanceOf, Interval, check_columns, validate_params
from impact.effects._effects import (SE_INFLUENCE, SE_SANDWICH, SUMMARY_COLUMNS, EffectsResult, _cluster_se,
                                     _difference_tests, _groups, _Horizons, _p, _survival_heterogeneity,
                                     n_at_risk, person_codes)
from impact.outcomes import CENSORED, EVENT

__all__ = ["CensoringWeights", "censoring_weights", "ipcw_effects", "aalen_johansen_entry"]

_ELAPSED_BAND = 90.0      # days per band of elapsed time at a piece (the censoring model's clock)
_ELAPSED_TOP = 8          # bands 0..8, the last open-ended (720+ days)
_TIME_TOP = 12            # pieces since the index date 0..12, the last open-ended


@dataclass(frozen=True)
class CensoringWeights:
    """Time-varying weights of each row, one per (start, stop] piece of its follow-up.

    Made by :func:`censoring_weights`.

    Attributes
    ----------
    pieces : DataFrame
        ``row`` (position of the row in the data), ``start``, ``stop`` (days from the row's index
        date; the pieces of a row tile ``(0, duration]``), ``weight`` (the matching weight times
        the stabilised, truncated inverse probability of not yet being censored), ``last`` (the
        row's last piece, which carries its exit).
    coefficients : DataFrame
        The censoring model (``term``, ``estimate``: log hazard per day of joining).
    summary : dict
        ``rows``, ``controls``, ``censored`` (control rows censored at their own entry),
        ``pieces``, weight quantiles (``min``, ``p01``, ``median``, ``mean``, ``p99``, ``max``
        before truncation), ``truncated`` (pieces whose weight was truncated), ``bounds``.
    notes : tuple of str
    settings : dict
    """

    pieces: pd.DataFrame
    coefficients: pd.DataFrame
    summary: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        s = self.summary
        return (f"CensoringWeights({s.get('controls')} controls, {s.get('censored')} censored at their own entry, "
                f"{s.get('pieces')} pieces, weights {s.get('p01', float('nan')):.2f} to "
                f"{s.get('p99', float('nan')):.2f} (1st to 99th percentile))")


# ---- the censoring model --------------------------------------------------------------------

def _poisson(X: np.ndarray, y: np.ndarray, exposure: np.ndarray, ridge: float = 1e-6) -> np.ndarray:
    """Poisson regression with log-exposure offset by Newton's method (the first column is the
    intercept; a tiny ridge on the others keeps levels without any event finite)."""
    n, p = X.shape
    off = np.log(exposure)
    beta = np.zeros(p)
    rate = max(y.sum(), 0.5) / exposure.sum()
    beta[0] = np.log(rate)
    pen = np.full(p, ridge * max(y.sum(), 1.0))
    pen[0] = 0.0
    dev_old = np.inf
    for _ in range(100):
        eta = np.clip(X @ beta + off, -700, 700)
        mu = np.exp(eta)
        grad = X.T @ (y - mu) - pen * beta
        H = (X * mu[:, None]).T @ X + np.diag(pen)
        step = np.linalg.solve(H + 1e-12 * np.eye(p), grad)
        t = 1.0
        while True:
            nb = beta + t * step
            e2 = np.clip(X @ nb + off, -700, 700)
            dev = float(np.sum(np.exp(e2) - y * e2) + 0.5 * np.sum(pen * nb ** 2))
            if dev <= dev_old + 1e-12 or t < 1e-4:
                break
            t /= 2
        beta = nb
        if abs(dev_old - dev) < 1e-10 * (1 + abs(dev)):
            break
        dev_old = dev
    return beta


def _dummies(codes: np.ndarray, top: int, prefix: str) -> tuple[np.ndarray, list[str]]:
    """Treatment-coded dummies of the levels 1..top (level 0 is the reference) that occur."""
    levels = [k for k in range(1, top + 1) if (codes == k).any()]
    if not levels:
        return np.zeros((codes.size, 0)), []
    return (codes[:, None] == np.asarray(levels)[None, :]).astype(np.float64), [f"{prefix}[{k}]" for k in levels]


_WEIGHT_PARAMS: dict[str, list[Any]] = {
    "data": [InstanceOf(pd.DataFrame, "a pandas DataFrame")],
    "duration": ["column"], "censored": ["column"], "treatment": ["column"],
    "covariates": ["columns"], "at_risk_from": ["column", None], "censor_until": ["column", None],
    "elapsed": ["column", None], "stabilize": ["column", None], "weights": ["column", None],
    "width": [Interval(Real, 1, None, closed="left")],
    "truncate": [Interval(Real, 0.5, 1, closed="right"), None],
}


@validate_params(_WEIGHT_PARAMS)
def censoring_weights(data: pd.DataFrame, *, duration: str = "duration", censored: str = "censored",
                      treatment: str = "entering", covariates: Sequence[str] = (),
                      at_risk_from: str | None = None, censor_until: str | None = None,
                      elapsed: str | None = None, stabilize: str | None = None,
                      weights: str | None = "weights", width: float = 30.0,
                      truncate: float | None = 0.99) -> CensoringWeights:
    """Inverse probability of censoring weights for controls censored at their own programme entry.

    Parameters
    ----------
    data : DataFrame
        One row per set membership (e.g. ``Evaluation.analysed``): the follow-up ``(0, duration]``
        from the index date, the treatment and the covariates as of the index date.
    duration : str
        Days from the index date to the exit or censoring (> 0).
    censored : str
        1 (or True) where the row's follow-up ends because the person joined the programme
        (the artificial censoring), 0 otherwise. Only rows with ``treatment == 0`` can have it.
    treatment : str
        Rows with 1 (participants) are never censored this way: one piece, their matching weight.
    covariates : sequence of str
        Covariates of the censoring model, as of the index date (categorical ones expanded).
    at_risk_from : str, optional
        Days from the index date before which a row cannot join (e.g. the rest of the index
        period, in which a control by construction did not start). Default 0.
    censor_until : str, optional
        Days from the index date after which a row can no longer join (e.g. the last programme
        start); no hazard of joining is modelled after it. Default: no limit.
    elapsed : str, optional
        Elapsed days in the spell on the index date: the model then also has bands of 90 days of
        the elapsed time at each piece (the hazard of joining may change with unemployment
        duration after the index date).
    stabilize : str, optional
        A column (e.g. gender) on which the numerator model, besides time, conditions; estimate
        effects within its levels.
    weights : str, optional
        Matching weights (multiplied in); absent or ``None``: 1.
    width : float
        Days per piece (default 30: about a month, the period of the risk sets).
    truncate : float or None
        Truncate the stabilised weights at this percentile and at one minus it (default 0.99:
        the 1st and 99th percentiles of the control pieces, Cole and Hernán 2008); ``None``:
        no truncation.

    Returns
    -------
    CensoringWeights

    Notes
    -----
    The model is a piecewise-exponential hazard of joining (a Poisson regression of the joins on
    the exposure days of each piece), with the covariates, dummies of the piece since the index
    date (12 pieces, then one open-ended) and, with ``elapsed``, of the elapsed-time band at the
    piece. ``P(not censored by t) = exp(-cumulative hazard)`` is taken at each piece's middle
    (second-order accurate within a piece). The numerator has the pieces (and ``stabilize``) only.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"duration": [50.0, 40.0, 70.0, 90.0], "censored": [0, 1, 0, 0],
    ...                   "entering": [1, 0, 0, 0], "x": [0.0, 1.0, 0.0, 1.0]})
    >>> cw = censoring_weights(d, covariates=["x"], truncate=None)
    >>> cw.summary["censored"], cw.pieces.groupby("row").size().tolist()
    (1, [1, 2, 3, 3])
    """
    check_columns(data, [duration, censored, treatment, *covariates]
                  + [c for c in (at_risk_from, censor_until, elapsed, stabilize) if c])
    n = len(data)
    dur = pd.to_numeric(data[duration], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(dur) | (dur <= 0)
    if bad.any():
        raise data_error(duration, "durations must be finite and > 0", bad)
    cens = data[censored].fillna(0).to_numpy(dtype=np.float64) > 0
    treated = data[treatment].to_numpy() == 1
    if (cens & treated).any():
        raise data_error(censored, "participants (treatment 1) are never censored at their own entry",
                         cens & treated)
    w0 = (data[weights].to_numpy(dtype=np.float64) if weights and weights in data.columns else np.ones(n))
    lo = data[at_risk_from].to_numpy(dtype=np.float64) if at_risk_from else np.zeros(n)
    hi = data[censor_until].to_numpy(dtype=np.float64) if censor_until else np.full(n, np.inf)
    lo = np.where(np.isfinite(lo), np.maximum(lo, 0.0), 0.0)
    hi = np.where(np.isnan(hi), np.inf, hi)

    # pieces of (0, duration]: participants one, controls one per `width` days
    n_pieces = np.where(treated, 1, np.ceil(dur / width).astype(np.int64))
    row = np.repeat(np.arange(n), n_pieces)
    k = np.arange(row.size) - np.repeat(np.cumsum(n_pieces) - n_pieces, n_pieces)
    start = np.where(treated[row], 0.0, k * width)
    stop = np.where(treated[row], dur[row], np.minimum((k + 1) * width, dur[row]))
    last = np.r_[row[1:] != row[:-1], True]
    ctrl = ~treated[row]

    # exposure to the hazard of joining within each control piece, and its midpoint exposure
    def exposed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.clip(np.minimum(b, hi[row]) - np.maximum(a, lo[row]), 0.0, None)

    expo = np.where(ctrl, exposed(start, stop), 0.0)
    mid = 0.5 * (start + stop)
    expo_mid = np.where(ctrl, exposed(start, mid), 0.0)
    joined = (ctrl & last & cens[row]).astype(np.float64)
    if (joined > 0).any() and (expo[joined > 0] <= 0).any():
        bad_rows = np.zeros(n, bool)
        bad_rows[row[(joined > 0) & (expo <= 0)]] = True
        raise data_error(censored, "a row censored at its own entry outside the window in which it can join "
                         f"('{at_risk_from}' to '{censor_until}')", bad_rows)

    # design: covariates as of the index date, piece since the index date, elapsed band at the piece
    from impact.data import expand_covariates
    parts: list[np.ndarray] = [np.ones((row.size, 1))]
    names = ["(intercept)"]
    if covariates:
        Xb, nb = expand_covariates(data, list(covariates))
        Xb = np.asarray(Xb, dtype=np.float64)
        sd = Xb[~treated].std(axis=0) if (~treated).any() else Xb.std(axis=0)
        keep = sd > 0
        center = Xb[:, keep].mean(axis=0)
        parts.append(((Xb[:, keep] - center) / sd[keep])[row])
        names += [f"{x} (standardised)" for x, kk in zip(nb, keep) if kk]
    tcode = np.minimum(k, _TIME_TOP)
    T, tn = _dummies(tcode, _TIME_TOP, "piece")
    parts.append(T)
    names += tn
    if elapsed:
        el = data[elapsed].to_numpy(dtype=np.float64)[row] + mid
        E, en = _dummies(np.minimum(el // _ELAPSED_BAND, _ELAPSED_TOP).astype(np.int64), _ELAPSED_TOP, "elapsed_band")
        parts.append(E)
        names += en
    X = np.hstack(parts)
    num_parts = [np.ones((row.size, 1)), T]
    if stabilize:
        sv = pd.factorize(data[stabilize])[0][row]
        S_, _ = _dummies(sv, int(sv.max()) if sv.size else 0, "s")
        num_parts.append(S_)
    Xn = np.hstack(num_parts)

    fit = ctrl & (expo > 0)
    if not (joined[fit] > 0).any():
        sw = np.ones(row.size)
        beta = np.zeros(X.shape[1])
        notes = ["No control was censored at its own entry: every weight is 1."]
    else:
        beta = _poisson(X[fit], joined[fit], expo[fit])
        beta_n = _poisson(Xn[fit], joined[fit], expo[fit])
        rate_d = np.exp(np.clip(X @ beta, -700, 50))
        rate_n = np.exp(np.clip(Xn @ beta_n, -700, 50))
        # cumulative hazard before each piece (within the row) plus up to the piece's middle
        def cum_to_mid(rate: np.ndarray) -> np.ndarray:
            full = rate * expo
            before = np.cumsum(full) - full
            first = np.cumsum(n_pieces) - n_pieces
            before = before - np.repeat(before[first], n_pieces)
            return before + rate * expo_mid
        log_sw = cum_to_mid(rate_d) - cum_to_mid(rate_n)   # log(G_num / G_den) = H_den - H_num
        sw = np.where(ctrl, np.exp(log_sw), 1.0)
        notes = []
    raw = sw[ctrl] if ctrl.any() else np.ones(1)
    q = np.quantile(raw, [0.0, 0.01, 0.5, 0.99, 1.0])
    bounds = (float(np.quantile(raw, 1 - truncate)), float(np.quantile(raw, truncate))) if truncate else (0.0, np.inf)
    clipped = ctrl & ((sw < bounds[0]) | (sw > bounds[1]))
    sw = np.where(ctrl, np.clip(sw, *bounds), sw)
    pieces = pd.DataFrame({"row": row, "start": start, "stop": stop, "weight": w0[row] * sw, "last": last})
    summary = dict(rows=n, controls=int((~treated).sum()), censored=int(cens.sum()), pieces=int(row.size),
                   min=float(q[0]), p01=float(q[1]), median=float(q[2]), mean=float(raw.mean()), p99=float(q[3]),
                   max=float(q[4]), truncated=int(clipped.sum()), bounds=bounds)
    notes.append(
        f"Censoring at a control's own entry ({summary['censored']} of {summary['controls']} control rows) "
        "is weighted out (IPCW): a piecewise-exponential model of the hazard of joining after the index date, "
        f"on {len(covariates)} covariates as of the index date, {width:g}-day pieces since it"
        + (" and 90-day bands of elapsed time" if elapsed else "")
        + "; stabilised weights (numerator: time" + (f" and {stabilize}" if stabilize else "") + ")"
        + (f", truncated at the {1 - truncate:.0%} and {truncate:.0%} percentiles "
           f"({bounds[0]:.2f} and {bounds[1]:.2f}; {summary['truncated']} pieces)" if truncate else "")
        + f"; mean weight {summary['mean']:.3f}, maximum {summary['max']:.2f} before truncation.")
    coef = pd.DataFrame({"term": names, "estimate": beta})
    settings = dict(duration=duration, censored=censored, treatment=treatment, covariates=tuple(covariates),
                    at_risk_from=at_risk_from, censor_until=censor_until, elapsed=elapsed, stabilize=stabilize,
                    weights=weights, width=float(width), truncate=truncate)
    return CensoringWeights(pieces=pieces, coefficients=coef, summary=summary, notes=tuple(notes),
                            settings=settings)


# ---- the weighted Aalen-Johansen estimator with delayed entry -------------------------------

def aalen_johansen_entry(start: Any, stop: Any, cause: Any, weights: Any = None, times: Any = (),
                         cluster: Any = None, influence: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Weighted Aalen-Johansen cumulative incidence of cause 1 on (start, stop] rows.

    A row is at risk at ``t`` when ``start < t <= stop`` and exits at ``stop`` with ``cause``
    (0 censored, 1 the cause of interest, any other value a competing cause). This is
    :func:`impact.survival.aalen_johansen` with ``entry=start`` (with ``start = 0`` the plain
    estimator); with time-varying weights each row is one piece of a person's follow-up.

    Returns
    -------
    estimate : ndarray (len(times),)
        Times after the last ``stop`` get the estimate at the last one (the curve is flat there).
    se : ndarray (len(times),)
        Infinitesimal-jackknife standard errors, the per-row influences summed within ``cluster``
        (default: each row its own cluster), the weights taken as known.
    influence : ndarray (n, len(times))
        Per-row influence (weight times the derivative of the estimate in the row's weight).
        With ``influence=False`` only the estimates are computed (``se`` is NaN, the influence
        has no columns): O(n) whatever the number of times.

    Raises
    ------
    ParameterError
        ``start``, ``stop``, ``cause`` and ``weights`` of different lengths.
    DataError
        ``stop <= 0``, ``start < 0`` or ``start >= stop`` (the message names the rows), weights
        negative or all zero.

    Examples
    --------
    >>> est, se, _ = aalen_johansen_entry([0, 0, 1], [2, 3, 4], [1, 2, 1], times=[2, 4])
    >>> est.round(4).tolist()   # t=2: 1 of 3 at risk; t=3: a competing exit; t=4: the last one
    [0.3333, 0.6667]
    """
    from impact._validation import check_cluster_unordered
    from impact.survival import aalen_johansen

    a = np.asarray(start, dtype=np.float64)
    b = np.asarray(stop, dtype=np.float64)
    c = np.asarray(cause)
    w = np.ones(a.size) if weights is None else np.asarray(weights, dtype=np.float64)
    ts = np.atleast_1d(np.asarray(times, dtype=np.float64))
    if not (a.size == b.size == c.size == w.size):
        raise ParameterError("aalen_johansen_entry: start, stop, cause and weights must have the same length.")
    M = ts.size
    code = np.where(c == 0, 0, np.where(c == 1, 1, 2))
    if not code.any():
        return np.zeros(M), (np.zeros(M) if influence else np.full(M, np.nan)), np.zeros((a.size, M if influence else 0))
    aj = aalen_johansen(b, code, weights=w, causes=[1, 2], entry=a,
                        cluster=None if cluster is None else np.asarray(cluster))
    grid = aj.table["time"].to_numpy()
    F0 = np.r_[0.0, aj.table["cif_1"].to_numpy()]
    est = F0[np.searchsorted(grid, ts, side="right")]
    if not influence:
        return est, np.full(M, np.nan), np.zeros((a.size, 0))
    # after the last stop the curve and the influences are those at the last stop
    U = aj.influence(1, np.clip(ts, 0.0, aj.last_time))
    codes, n_codes = check_cluster_unordered(cluster, a.size)
    se = np.empty(M)
    for k in range(M):
        sums = U[:, k] if cluster is None else np.bincount(codes, weights=U[:, k], minlength=n_codes)
        se[k] = np.sqrt(np.dot(sums, sums))
    return est, se, U


# ---- effects on the weighted pieces ---------------------------------------------------------

_EFFECT_PARAMS: dict[str, list[Any]] = {
    "data": [InstanceOf(pd.DataFrame, "a pandas DataFrame")],
    "censoring": [InstanceOf(CensoringWeights, "a CensoringWeights (the result of censoring_weights)")],
    "duration": ["column"], "event": ["column"], "treatment": ["column"], "by": ["column", None],
    "horizons": [_Horizons()], "cluster": ["column", None], "conf_level": [Interval(Real, 0, 1, closed="neither")],
    "persons": ["column", None],
}


@validate_params(_EFFECT_PARAMS)
def ipcw_effects(data: pd.DataFrame, censoring: CensoringWeights, *, duration: str = "duration",
                 event: str = "event", treatment: str = "entering", by: str | None = "gender",
                 horizons: Sequence[float] = (90, 180, 365), cluster: str | None = "subclass",
                 conf_level: float = 0.95, persons: str | None = None) -> EffectsResult:
    """Shares in work or studies and the hazard ratio, weighted by :func:`censoring_weights`.

    ``data`` must be the rows the weights were made from (same order); ``event`` may be recoded
    (e.g. unknown exits as work) without refitting the weights, which depend only on the
    censoring. For everyone and each level of ``by``: ``share_treated``, ``share_control`` and
    ``share_diff`` at each horizon (weighted Aalen-Johansen on the pieces, influence-function
    standard errors summed within matched sets) and ``hazard_ratio`` (Cox model with delayed
    entry and case weights, Efron ties, cluster-robust sandwich); with two levels, their
    difference (``"female - male"``). ``persons``: the column of person identifiers, where a
    person is in several rows (one matched set per period it serves): the curves' numbers at
    risk then count persons (see :func:`impact.estimate_effects`).

    Returns
    -------
    EffectsResult
        Its table has the columns of :func:`impact.estimate_effects`; restricted means, time
        ratios and subdistribution hazard ratios are not estimated with time-varying weights.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"duration": [50.0, 40.0, 70.0, 90.0, 30.0, 60.0], "event": [1, 0, 1, 2, 1, 0],
    ...                   "censored": [0, 1, 0, 0, 0, 0], "entering": [1, 0, 1, 0, 1, 0],
    ...                   "x": [0.0, 1.0, 0.0, 1.0, 1.0, 0.0], "subclass": [1, 1, 2, 2, 3, 3]})
    >>> cw = censoring_weights(d, covariates=["x"], truncate=None)
    >>> r = ipcw_effects(d, cw, by=None, horizons=[60])
    >>> r.summary().query("estimand == 'share_treated'")["estimate"].round(3).tolist()
    [0.667]
    """
    from impact.survival import CoxPH
    check_columns(data, [duration, event, treatment] + [c for c in (by, cluster) if c])
    pieces = censoring.pieces
    if len(pieces) and int(pieces["row"].max()) + 1 != len(data):
        raise ParameterError("ipcw_effects: the censoring weights were made from other rows (their number differs).")
    hs = tuple(float(h) for h in horizons)
    z = float(stats.norm.ppf(0.5 + conf_level / 2))
    row = pieces["row"].to_numpy()
    ev_row = data[event].to_numpy()
    cause_row = np.where(ev_row == CENSORED, 0, np.where(ev_row == EVENT, 1, 2))
    last = pieces["last"].to_numpy(dtype=bool)
    cause = np.where(last, cause_row[row], 0)
    a, b = pieces["start"].to_numpy(), pieces["stop"].to_numpy()
    w = pieces["weight"].to_numpy()
    t_row = data[treatment].to_numpy() == 1
    t = t_row[row]
    cl = (data[cluster].to_numpy() if cluster else np.arange(len(data)))[row]
    # at risk at t: a row's pieces run from 0 to its end without overlap, so a row is at risk while
    # its last piece has not ended, and a person while its longest row is (each piece's person
    # code; without persons every row its own)
    pcodes = person_codes(data, persons)
    person_of = row if pcodes is None else pcodes[row]
    notes: list[str] = list(censoring.notes)
    layout = _groups(data, [by] if by else [], treatment, notes)
    rows: list[dict[str, Any]] = []
    curves: list[pd.DataFrame] = []
    infl: dict[tuple[str, str, float], tuple[np.ndarray, np.ndarray]] = {}
    for name, mask_row in layout.groups:
        m = mask_row[row]
        counts = dict(n_treated=int((mask_row & t_row).sum()), n_control=int((mask_row & ~t_row).sum()),
                      events_treated=int(((cause == 1) & m & t).sum()),
                      events_control=int(((cause == 1) & m & ~t).sum()))

        def put(estimand: str, h: float, est: float, se: float, p: float, method: str, **kw: Any) -> None:
            r = dict(subgroup=name, estimand=estimand, horizon=h, estimate=est, se=se, ci_low=est - z * se,
                     ci_high=est + z * se, p_value=p, se_method=method, **counts)
            r.update(kw)
            rows.append(r)

        arm: dict[str, Any] = {}
        for label, sel in (("treated", m & t), ("control", m & ~t)):
            grid = np.unique(np.r_[0.0, b[sel & (cause == 1)]])
            est, se, U = aalen_johansen_entry(a[sel], b[sel], cause[sel], w[sel], list(hs), cl[sel])
            # the curve: exact estimates at every time; standard errors at (at most) 60 of them,
            # interpolated between (the IJ costs O(rows) per time)
            cest, _, _ = aalen_johansen_entry(a[sel], b[sel], cause[sel], w[sel], grid, influence=False)
            at = np.unique(np.linspace(0, grid.size - 1, min(grid.size, 60)).round().astype(np.int64))
            _, sse, _ = aalen_johansen_entry(a[sel], b[sel], cause[sel], w[sel], grid[at], cl[sel])
            cse = np.interp(grid, grid[at], sse)
            lo_ = np.exp(np.log(np.maximum(cest, 1e-300)) - z * np.where(cest > 0, cse / np.maximum(cest, 1e-300), 0))
            hi_ = np.exp(np.log(np.maximum(cest, 1e-300)) + z * np.where(cest > 0, cse / np.maximum(cest, 1e-300), 0))
            # the (unweighted) persons under observation just before each time
            at_risk = n_at_risk(b[sel], grid, person_of[sel])
            curves.append(pd.DataFrame({"time": grid, "estimate": cest, "se": cse,
                                        "ci_low": np.where(cest > 0, lo_, 0.0), "ci_high": np.minimum(hi_, 1.0),
                                        "beyond_follow_up": grid > b[sel].max(), "subgroup": name, "arm": label,
                                        "n_at_risk": at_risk.astype(np.int64)}))
            arm[label] = dict(est=est, se=se, U=U, cl=cl[sel], last=float(b[sel].max()))
        for i, h in enumerate(hs):
            if any(h > x["last"] for x in arm.values()):
                notes.append(f"{name}: horizon {h:g} days is beyond the follow-up of one arm; not estimated.")
                for e_name in ("share_treated", "share_control", "share_diff"):
                    put(e_name, h, np.nan, np.nan, np.nan, SE_INFLUENCE)
                continue
            for label in ("treated", "control"):
                put(f"share_{label}", h, float(arm[label]["est"][i]), float(arm[label]["se"][i]), np.nan,
                    SE_INFLUENCE)
            d = float(arm["treated"]["est"][i] - arm["control"]["est"][i])
            dU = np.r_[arm["treated"]["U"][:, i], -arm["control"]["U"][:, i]]
            dcl = np.r_[arm["treated"]["cl"], arm["control"]["cl"]]
            d_se = _cluster_se(dU, dcl)
            put("share_diff", h, d, d_se, _p(d, d_se), SE_INFLUENCE)
            infl[(name, "share_diff", h)] = (dU, dcl)
        if counts["events_treated"] == 0 or counts["events_control"] == 0:
            notes.append(f"{name}: no exits to work or studies in one arm; hazard ratio not estimable.")
            put("hazard_ratio", np.nan, np.nan, np.nan, np.nan, SE_SANDWICH)
            continue
        df = pd.DataFrame({"start": a[m], "stop": b[m], "event": (cause[m] == 1).astype(int),
                           "treated": t[m].astype(float), "w": w[m], "cluster": cl[m]})
        fit = CoxPH(ties="efron").fit(df, duration="stop", event="event", covariates=["treated"], weights="w",
                                      cluster="cluster", entry="start")
        s = fit.summary().set_index("term").loc["treated"]
        lb, lse = float(s["estimate"]), float(s["se"])
        put("hazard_ratio", np.nan, float(np.exp(lb)), lse, _p(lb, lse), SE_SANDWICH,
            ci_low=float(np.exp(lb - z * lse)), ci_high=float(np.exp(lb + z * lse)))
        infl[(name, "log_hazard_ratio", np.nan)] = (np.array([lb]), np.array([lse]))
    first = layout.levels.get(by, []) if by else []
    if by and len(first) == 2:
        rows += _difference_tests(rows, infl, first[0], first[1], z, SE_SANDWICH)
    het = _survival_heterogeneity(rows, infl, layout, 1 - conf_level)
    table = pd.DataFrame(rows)
    lead = SUMMARY_COLUMNS + ["se_method"]
    table = table[lead + [c for c in table.columns if c not in lead]]
    notes.insert(0, "Share in work or studies: Aalen-Johansen cumulative incidence weighted by the inverse "
                    "probability of not yet being censored at own entry (pieces with delayed entry), other exits "
                    "competing; hazard ratio: Cox model of the cause-specific hazard on the same weighted pieces "
                    "(Efron ties, delayed entry).")
    notes.append(f"Standard errors: {SE_INFLUENCE} (infinitesimal jackknife, weights taken as known) for shares, "
                 f"{SE_SANDWICH} for hazard ratios, summed within matched sets; restricted means, time ratios "
                 "and subdistribution hazard ratios are not estimated with the time-varying weights.")
    settings: dict[str, Any] = dict(duration=duration, event=event, treatment=treatment, by=by, horizons=hs,
                                    weights="ipcw", cluster=cluster, conf_level=conf_level,
                                    se_method="infinitesimal jackknife clustered on " + (cluster or "rows"),
                                    n_boot=None, random_state=None, adjust=(), ipcw=dict(censoring.summary))
    return EffectsResult(table=table, curves=pd.concat(curves, ignore_index=True), conf_level=conf_level,
                         settings=settings, notes=tuple(dict.fromkeys(notes)), heterogeneity=het)
