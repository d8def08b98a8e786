"""Weighted Kaplan-Meier with infinitesimal-jackknife standard errors clustered on matched sets."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from impact._errors import ParameterError
from impact._validation import (
    Options,
    check_cluster_unordered,
    check_duration,
    check_entry,
    check_event,
    check_params,
    check_times,
    check_weights,
    validate_params,
)
from impact.survival._common import (
    ARRAY,
    CONF_LEVEL,
    FEW_TIMES,
    Memo,
    TimeIndex,
    cluster_count,
    cluster_index,
    ij_quadratic,
    influence_at,
    risk_set,
    keyed_time_index,
    log_ci,
    quad_form,
    step_index,
    var_at,
    z_value,
)

__all__ = ["KaplanMeier", "kaplan_meier"]


@dataclass(frozen=True, repr=False)
class KaplanMeier:
    """A weighted Kaplan-Meier curve with infinitesimal-jackknife (IJ) standard errors.

    Made by :func:`kaplan_meier`; do not build it directly.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per distinct observed time: ``time, n_risk, n_event, n_censor, survival, se,
        ci_low, ci_high`` (counts are sums of case weights, as in R). Built on first use: the
        standard error at every time is one O(n) pass (``at()`` at a few times does not need it).
    conf_level : float
        Confidence level of ``ci_low``/``ci_high`` (log transform, R's default ``conf.type="log"``).
    cov_type : str
        ``"ij_cluster"`` (clustered on ``cluster``) or ``"ij"`` (each row its own cluster).
    n : int
        Number of rows. ``n_clusters``: number of clusters.
    last_time : float
        Largest observed time; estimates beyond it are refused (NaN and flagged).
    notes : tuple of str
        Defaults that were assumed.
    """

    conf_level: float
    cov_type: str
    n: int
    last_time: float
    notes: tuple[str, ...]
    _ti: TimeIndex = field(repr=False)
    _w: np.ndarray = field(repr=False)
    _x: np.ndarray = field(repr=False)  # row key: time slot * 2 + event (TimeIndex.keyed)
    _lo: np.ndarray | None = field(repr=False)  # entry index (delayed entry), None: from time 0
    _S: np.ndarray = field(repr=False)
    _C: np.ndarray = field(repr=False)
    _a: np.ndarray = field(repr=False)
    _n_risk: np.ndarray = field(repr=False)
    _n_event: np.ndarray = field(repr=False)
    _n_censor: np.ndarray = field(repr=False)
    _cluster: np.ndarray | None = field(repr=False)
    _n_codes: int = field(repr=False)
    _memo: Memo = field(default_factory=Memo, init=False, repr=False, compare=False)

    # -- derived on first use -------------------------------------------------------------------
    @property
    def n_clusters(self) -> int:
        """Number of clusters (rows, without ``cluster``)."""
        return self._memo.get("n_clusters", lambda: cluster_count(self._cluster, self._n_codes, self.n))

    @property
    def table(self) -> pd.DataFrame:
        return self._memo.get("table", self._make_table).copy()

    @property
    def _P(self) -> np.ndarray:
        """Coefficient of each row's influence once it has left, ``(n, 1)``."""
        def make() -> np.ndarray:
            P = np.take(self._ti.keyed(self._ptab()), self._x)[:, None]
            if self._lo is not None:
                P += np.take(np.r_[0.0, self._C], self._lo)[:, None]
            return P
        return self._memo.get("P", make)

    def _ptab(self) -> np.ndarray:
        """``d a_j - C_j`` by distinct time and event ``(K, 2)``."""
        a, C = self._a, self._C
        return np.column_stack([a * 0.0 - C, a * 1.0 - C])

    def _tabs(self, ks: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
        """Per-key influence tables at grid positions ``ks`` (and the entry corrections)."""
        jt = np.arange(self._S.size)[:, None]
        ptab = self._ptab()
        S, C = self._S, self._C
        tabs = [self._ti.keyed(np.where(jt <= k, ptab * -S[k], S[k] * C[k])) for k in ks]
        Bs = None if self._lo is None else [S[k] * np.r_[0.0, C] for k in ks]
        return tabs, Bs

    def _se_at(self, ks: np.ndarray) -> np.ndarray:
        """Standard error at grid positions ``ks`` (each >= 0): O(n) per time."""
        out = np.empty(ks.size)
        for s in range(0, ks.size, FEW_TIMES):
            kb = ks[s:s + FEW_TIMES]
            tabs, Bs = self._tabs(kb)
            out[s:s + FEW_TIMES] = var_at(self._x, self._w, self._cluster, self._n_codes, tabs, self._lo,
                                          Bs, [int(k) for k in kb])
        return np.sqrt(np.maximum(out, 0.0))

    def _se_all(self) -> np.ndarray:
        """Standard error at every distinct time (one quadratic form; per time with entry)."""
        def make() -> np.ndarray:
            if self._lo is not None:
                return self._se_at(np.arange(self._S.size))
            ci = None if self._cluster is None else cluster_index(self._cluster, self._n_codes, self._ti)
            Q = ij_quadratic(self._ti, self._w, self._P, ci)
            z = np.column_stack([-self._S, self._S * self._C])
            return np.sqrt(np.maximum(quad_form(Q, z), 0.0))
        return self._memo.get("se_all", make)

    def _make_table(self) -> pd.DataFrame:
        se = self._se_all()
        low, high = log_ci(self._S, se, z_value(self.conf_level))
        return pd.DataFrame({
            "time": self._ti.times, "n_risk": self._n_risk, "n_event": self._n_event,
            "n_censor": self._n_censor, "survival": self._S, "se": se, "ci_low": low, "ci_high": high,
        })

    # -- evaluation ------------------------------------------------------------------------
    def at(self, times: Any) -> pd.DataFrame:
        """The curve at given times (a step function; right-continuous).

        Returns a DataFrame with ``time, n_risk, survival, se, ci_low, ci_high,
        beyond_follow_up``. Times after the last observed time are flagged and get NaN: the
        curve is never extrapolated. ``n_risk`` is the (weighted) number at risk at ``time``.
        """
        t = check_times(times)
        k = step_index(self._ti.times, t)
        beyond = t > self.last_time
        S = np.where(k >= 0, self._S[np.maximum(k, 0)], 1.0)
        ok = (k >= 0) & ~beyond
        uk, inv = np.unique(k[ok], return_inverse=True)
        few = uk.size <= FEW_TIMES or self._lo is not None  # with entry: per time, only where asked
        se_k = self._se_at(uk) if few else self._se_all()[uk]
        se = np.zeros(t.size)
        se[ok] = se_k[inv.reshape(-1)]
        low, high = log_ci(S, se, z_value(self.conf_level))
        low = np.where(k >= 0, low, 1.0)
        high = np.where(k >= 0, high, 1.0)
        # number at risk at t: rows with T >= t
        kr = np.searchsorted(self._ti.times, t, side="left")
        n_risk = np.where(kr < self._n_risk.size, self._n_risk[np.minimum(kr, self._n_risk.size - 1)], 0.0)
        out = pd.DataFrame({
            "time": t, "n_risk": n_risk, "survival": S, "se": se, "ci_low": low, "ci_high": high,
            "beyond_follow_up": beyond,
        })
        cols = ["survival", "se", "ci_low", "ci_high"]
        out.loc[beyond, cols] = np.nan
        return out

    def influence(self, times: Any) -> np.ndarray:
        """Per-row IJ influence on S(t), shape ``(n_rows, len(times))``, in input row order.

        R's convention: ``se(t)**2 == sum over clusters of (sum of the rows' influences)**2``,
        and a row's influence is its weight times the derivative of S(t) with respect to that
        weight. Columns for times beyond follow-up are NaN.
        """
        t = check_times(times)
        k = step_index(self._ti.times, t)
        out = np.zeros((self.n, t.size))
        for c, kk in enumerate(k):
            if t[c] > self.last_time:
                out[:, c] = np.nan
            elif kk >= 0:
                tabs, Bs = self._tabs(np.array([kk]))
                out[:, c] = influence_at(self._x, self._w, tabs[0], self._lo,
                                         None if Bs is None else Bs[0], int(kk))
        return out

    def rmst(self, horizon: Any, variance: Literal["ij", "greenwood"] = "ij") -> pd.DataFrame:
        """Restricted mean survival time: the area under the curve on ``[0, horizon]``.

        With survival to "work or studies", this is the expected time *without* work or
        studies during the first ``horizon`` days. Returns ``horizon, estimate, se, ci_low,
        ci_high, beyond_follow_up`` (Wald intervals). ``variance="ij"`` (default) is the
        infinitesimal-jackknife variance of the estimator, clustered like the curve and right
        for non-integer weights; ``"greenwood"`` reproduces the standard error R prints with
        ``print(survfit, rmean=horizon)``. A horizon after the last observed time is flagged and
        gets NaN (never extrapolated).
        """
        from impact.survival._rmst import (
            area_and_influence,
            check_horizons,
            clustered_se,
            greenwood_rmst_se,
            rmst_table,
        )

        check_params("rmst", {"variance": [Options(["ij", "greenwood"])]}, {"variance": variance})
        self._no_entry("rmst")
        hs = check_horizons(horizon)
        est, ses = [], []
        for h in hs:
            if h > self.last_time:
                est.append(np.nan)
                ses.append(np.nan)
                continue
            area, infl = area_and_influence(self._ti, self._w, self._P, -self._S[:, None],
                                            self._S * self._C, self._S, 1.0, float(h))
            est.append(area)
            if variance == "ij":
                ses.append(clustered_se(infl, self._cluster, self._n_codes))
            else:
                ses.append(greenwood_rmst_se(self._ti.times, self._S, self._n_risk, self._n_event,
                                             float(h)))
        out = rmst_table(hs, est, ses, self.last_time, self.conf_level)
        out.attrs["variance"] = variance
        return out

    def rmst_influence(self, horizon: Any) -> np.ndarray:
        """Per-row IJ influence on the RMST at each horizon, ``(n_rows, len(horizon))``.

        Same convention as :meth:`influence`: sum within clusters, square, add. To cluster a
        difference between two curves on matched sets, put both groups' influences in one
        vector (the second with a minus sign) and sum it within matched sets.
        """
        from impact.survival._rmst import area_and_influence, check_horizons

        self._no_entry("rmst_influence")
        hs = check_horizons(horizon)
        out = np.full((self.n, hs.size), np.nan)
        for c, h in enumerate(hs):
            if h <= self.last_time:
                out[:, c] = area_and_influence(self._ti, self._w, self._P, -self._S[:, None],
                                               self._S * self._C, self._S, 1.0, float(h))[1]
        return out

    def _no_entry(self, what: str) -> None:
        if self._lo is not None:
            raise ParameterError(f"KaplanMeier.{what} is not available for a curve with delayed entry "
                                 "(entry=): the restricted mean of a left-truncated curve is not estimated.")

    def summary(self) -> pd.DataFrame:
        """The table with the survival column named ``estimate`` (stable snake_case columns)."""
        return self.table.rename(columns={"survival": "estimate"})

    def plot(self, ax: Any = None, **kwargs: Any) -> Any:
        """Draw the curve with its confidence band; see :func:`impact.survival.plot_survival`."""
        from impact.survival._plot import plot_survival

        return plot_survival({"": self}, ax=ax, **kwargs)

    def __repr__(self) -> str:
        return (f"KaplanMeier(n={self.n}, clusters={self.n_clusters}, times={self._S.size}, "
                f"cov_type='{self.cov_type}', conf_level={self.conf_level})")

    def _repr_html_(self) -> str:
        head = (f"<p><b>Kaplan-Meier</b> (weighted, IJ standard errors: {self.cov_type}); "
                f"n = {self.n}, clusters = {self.n_clusters}, "
                f"confidence level {self.conf_level:.0%}, log transform</p>")
        return head + self.summary().to_html(index=False, max_rows=30)


@validate_params({"duration": [ARRAY], "event": [ARRAY], "weights": [ARRAY, None], "cluster": [ARRAY, None],
                  "conf_level": [CONF_LEVEL], "entry": [ARRAY, None]})
def kaplan_meier(duration: Any, event: Any, weights: Any = None, cluster: Any = None,
                 conf_level: float = 0.95, entry: Any = None) -> KaplanMeier:
    """Weighted Kaplan-Meier curve with clustered infinitesimal-jackknife standard errors.

    The standard errors are right for non-integer case weights (matching or IPW weights) and
    clustered on matched sets: they equal R's
    ``survfit(Surv(duration, event) ~ 1, weights=weights, cluster=cluster)`` (robust variance;
    with ``cluster=None`` each row is its own cluster, R's ``robust=TRUE``). Confidence
    intervals use R's default log transform.

    Parameters
    ----------
    duration : array-like
        Follow-up time, > 0 (time from programme start to exit or censoring).
    event : array-like
        1 (or True) for an event, 0 (or False) for censoring.
    weights : array-like, optional
        Case weights >= 0, not all zero. Default: all 1.
    cluster : array-like, optional
        Cluster labels, e.g. the matched set (``subclass``). Default: each row its own cluster.
    conf_level : float, default 0.95
        Confidence level of the pointwise intervals.
    entry : array-like, optional
        Delayed entry (left truncation): the row is at risk on ``(entry, duration]``, as R's
        ``Surv(entry, duration, event)``; ``0 <= entry < duration``. Default: at risk from 0.
        The standard error at every time (``.table``) then costs O(n) per time; ``rmst`` is
        not available.

    Returns
    -------
    KaplanMeier
        ``.table``, ``.at(times)``, ``.influence(times)``, ``.summary()``, ``.plot()``.

    Raises
    ------
    DataError
        Durations NaN or <= 0, event codes other than 0/1, negative or all-zero weights,
        missing cluster labels, entry times < 0 or >= duration (the message names the rows).

    Notes
    -----
    Whole-number durations (days) are indexed by counting, without a sort. ``at()`` at a few
    times computes each standard error by one pass over the rows (a table lookup of each row's
    influence and a bincount by cluster); ``.table`` computes it at every time at once.

    Examples
    --------
    >>> from lifelines.datasets import load_rossi
    >>> from impact.survival import kaplan_meier
    >>> rossi = load_rossi()
    >>> km = kaplan_meier(rossi["week"], rossi["arrest"])
    >>> km.at([26, 52]).round(4)[["time", "survival", "se"]]
       time  survival      se
    0  26.0    0.8750  0.0159
    1  52.0    0.7361  0.0212
    >>> km.at([60])["beyond_follow_up"].item()
    True
    """
    conf_level = float(conf_level)
    T = check_duration(duration, copy=False)  # not kept: only the time index is
    n = T.size
    d = check_event(event, n, codes=True)
    w = check_weights(weights, n)
    codes, n_codes = check_cluster_unordered(cluster, n)
    start = None if entry is None else check_entry(entry, T)

    ti, x, counts = keyed_time_index(T, d, 2, w)
    n_event = counts[:, 1].copy()
    n_censor = counts[:, 0].copy()
    n_exit = n_censor + n_event
    n_risk, lo = risk_set(ti, n_exit, start, w)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(n_risk > 0, n_event / n_risk, 0.0)
        left = n_risk - n_event
        # exact derivative of the product limit: d log(1 - h) = -dh / (1 - h)
        a = np.where(left > 1e-12 * np.maximum(n_risk, 1.0), 1.0 / left, 0.0)
    S = np.cumprod(1.0 - h)
    S[np.abs(S) < 1e-15] = 0.0
    C = np.cumsum(h * a)
    notes = ["standard errors by the infinitesimal jackknife (R survfit robust variance)",
             "confidence intervals on the log scale (R conf.type='log')"]
    notes.append("clustered on the given clusters" if cluster is not None
                 else "no cluster given: each row is its own cluster")
    if weights is None:
        notes.append("no weights given: all rows weigh 1")
    if start is not None:
        notes.append("delayed entry: each row at risk on (entry, duration]")
    return KaplanMeier(
        conf_level=conf_level, cov_type="ij_cluster" if cluster is not None else "ij", n=n,
        last_time=float(ti.times[-1]), notes=tuple(notes), _ti=ti, _w=w, _x=x, _lo=lo, _S=S, _C=C,
        _a=a, _n_risk=n_risk, _n_event=n_event, _n_censor=n_censor,
        _cluster=None if cluster is None else codes, _n_codes=n_codes,
    )
