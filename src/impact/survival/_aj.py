"""Weighted Aalen-Johansen cumulative incidence for competing exits, ties handled exactly."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from impact._errors import DataError, ParameterError, data_error
from impact._validation import (
    as_1d,
    check_cluster_unordered,
    check_duration,
    check_entry,
    check_length,
    check_times,
    check_weights,
    suggest,
    validate_params,
)
from impact.survival._common import (
    ARRAY,
    CAUSES,
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

__all__ = ["AalenJohansen", "aalen_johansen"]



@dataclass(frozen=True)
class _Curve:
    """The curve of one cause (or a sum of causes) and its influence tables, O(K)."""

    F: np.ndarray     # (K,) cumulative incidence
    R: np.ndarray     # (K,) influence of a row still at risk
    p0: np.ndarray    # (K, m+1) by time and cause: influence coefficients once the row has left
    p1: np.ndarray
    B0: np.ndarray    # (K+1,) the at-risk parts accrued before grid index l: -G + F_t C - D
    C0: np.ndarray
    K: int


@dataclass(frozen=True, repr=False)
class AalenJohansen:
    """Cumulative incidence of competing causes, with infinitesimal-jackknife standard errors.

    Made by :func:`aalen_johansen`. ``cif(cause, times)`` gives the cumulative incidence of one
    cause, or of several summed (e.g. ``["work", "studies"]``), with standard errors clustered
    as asked; ``influence(cause, times)`` gives the per-row influence (R's convention).

    Attributes
    ----------
    causes : tuple
        The competing causes (censoring excluded), in sorted order.
    table : pandas.DataFrame
        One row per distinct time: ``time, n_risk, n_censor``, then ``n_event_<cause>`` and
        ``cif_<cause>`` for each cause, and ``survival`` (no exit of any kind).
    conf_level, cov_type, n, n_clusters, last_time, notes
        As for :class:`impact.survival.KaplanMeier`.
    """

    causes: tuple[Any, ...]
    table: pd.DataFrame
    conf_level: float
    cov_type: str
    n: int
    last_time: float
    notes: tuple[str, ...]
    _ti: TimeIndex = field(repr=False)
    _w: np.ndarray = field(repr=False)
    _x: np.ndarray = field(repr=False)  # row key: time slot * (m+1) + cause code (0 censored)
    _lo: np.ndarray | None = field(repr=False)  # entry index (delayed entry), None: from time 0
    _codes_cluster: np.ndarray | None = field(repr=False)
    _n_codes: int = field(repr=False)
    _n_risk: np.ndarray = field(repr=False)
    _n_event: np.ndarray = field(repr=False)  # (K, m)
    _memo: Memo = field(default_factory=Memo, init=False, repr=False, compare=False)

    @property
    def n_clusters(self) -> int:
        """Number of clusters (rows, without ``cluster``)."""
        return self._memo.get("n_clusters",
                              lambda: cluster_count(self._codes_cluster, self._n_codes, self.n))

    # -- internals ----------------------------------------------------------------------------
    def _cause_codes(self, cause: Any) -> np.ndarray:
        many = isinstance(cause, (list, tuple, set, np.ndarray, pd.Index))
        wanted = list(cause) if many else [cause]
        if not wanted:
            raise ParameterError("The 'cause' parameter must name at least one cause.")
        out = []
        for c in wanted:
            hits = [i for i, k in enumerate(self.causes) if k == c or str(k) == str(c)]
            if not hits:
                raise ParameterError(
                    f"The 'cause' parameter must be one of {list(self.causes)} (or a list of them). "
                    f"Got {c!r}.{suggest(str(c), [str(k) for k in self.causes])}"
                )
            out.append(hits[0] + 1)
        return np.unique(np.asarray(out))

    def _curve(self, cause: Any) -> _Curve:
        """The curve of ``cause`` and the tables of the rows' influence coefficients by row key
        (a row's influence depends only on its time, its cause and, with entry, its entry)."""
        sel = self._cause_codes(cause)
        n_risk = self._n_risk
        K, m = self._n_event.shape
        d_all = self._n_event.sum(axis=1)
        d_k = self._n_event[:, sel - 1].sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            h = np.where(n_risk > 0, d_all / n_risk, 0.0)
            hk = np.where(n_risk > 0, d_k / n_risk, 0.0)
            left = n_risk - d_all
            a = np.where(left > 1e-12 * np.maximum(n_risk, 1.0), 1.0 / left, 0.0)
            g_ = np.where(n_risk > 0, 1.0 / n_risk, 0.0)
        S = np.cumprod(1.0 - h)
        S[np.abs(S) < 1e-15] = 0.0
        S_prev = np.r_[1.0, S[:-1]]
        F = np.cumsum(S_prev * hk)
        g = S_prev * g_
        G = np.cumsum(g * hk)
        C = np.cumsum(a * h)
        D = np.cumsum(a * h * F)
        is_k = np.isin(np.arange(m + 1), sel).astype(np.float64)[None, :]
        is_any = (np.arange(m + 1) > 0).astype(np.float64)[None, :]
        col = (slice(None), None)
        p0 = is_k * g[col] - G[col] + is_any * a[col] * F[col] - D[col]
        p1 = is_any * a[col] - C[col]
        R = -G + F * C - D
        B0 = np.r_[0.0, -G] - np.r_[0.0, D]  # without the F_t C part (added per time)
        return _Curve(F=F, R=R, p0=p0, p1=p1, B0=B0, C0=np.r_[0.0, C], K=K)

    def _tabs(self, cv: _Curve, ks: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray] | None]:
        jt = np.arange(cv.K)[:, None]
        tabs = [self._ti.keyed(np.where(jt <= k, cv.p0 + cv.p1 * -cv.F[k], cv.R[k])) for k in ks]
        Bs = None if self._lo is None else [cv.B0 + cv.F[k] * cv.C0 for k in ks]
        return tabs, Bs

    def _P(self, cv: _Curve) -> np.ndarray:
        return np.column_stack([np.take(self._ti.keyed(cv.p0), self._x),
                                np.take(self._ti.keyed(cv.p1), self._x)])

    def _se_at(self, cv: _Curve, ks: np.ndarray) -> np.ndarray:
        """Standard error at grid positions ``ks`` (each >= 0): O(n) per time."""
        out = np.empty(ks.size)
        for s in range(0, ks.size, FEW_TIMES):
            kb = ks[s:s + FEW_TIMES]
            tabs, Bs = self._tabs(cv, kb)
            out[s:s + FEW_TIMES] = var_at(self._x, self._w, self._codes_cluster, self._n_codes, tabs,
                                          self._lo, Bs, [int(k) for k in kb])
        return np.sqrt(np.maximum(out, 0.0))

    def _se_all(self, cv: _Curve) -> np.ndarray:
        """Standard error at every distinct time (one quadratic form; per time with entry)."""
        if self._lo is not None:
            return self._se_at(cv, np.arange(cv.K))
        ci = None if self._codes_cluster is None else self._memo.get(
            "ci", lambda: cluster_index(self._codes_cluster, self._n_codes, self._ti))  # type: ignore[arg-type]  # not None here
        Q = ij_quadratic(self._ti, self._w, self._P(cv), ci)
        f = np.column_stack([np.ones_like(cv.F), -cv.F])
        return np.sqrt(np.maximum(quad_form(Q, np.column_stack([f, cv.R])), 0.0))

    def _no_entry(self, what: str) -> None:
        if self._lo is not None:
            raise ParameterError(f"AalenJohansen.{what} is not available for curves with delayed entry "
                                 "(entry=): the restricted mean of a left-truncated curve is not estimated.")

    # -- public -------------------------------------------------------------------------------
    def cif(self, cause: Any, times: Any = None) -> pd.DataFrame:
        """Cumulative incidence of ``cause`` (or of a list of causes, summed) at ``times``.

        Returns a DataFrame ``time, estimate, se, ci_low, ci_high, beyond_follow_up``
        (log-transform intervals as R's default). ``times=None`` gives every distinct observed
        time. Times after the last observed time are flagged and get NaN (no extrapolation).
        """
        cv = self._curve(cause)
        grid = self._ti.times
        t = grid if times is None else check_times(times)
        k = step_index(grid, t)
        kk = np.maximum(k, 0)
        beyond = t > self.last_time
        est = np.where(k >= 0, cv.F[kk], 0.0)
        ok = (k >= 0) & ~beyond
        uk, inv = np.unique(k[ok], return_inverse=True)
        few = uk.size <= FEW_TIMES or (self._lo is not None and times is not None)
        se_k = self._se_at(cv, uk) if few else self._se_all(cv)[uk]
        se = np.zeros(t.size)
        se[ok] = se_k[inv.reshape(-1)]
        low, high = log_ci(est, se, z_value(self.conf_level))
        out = pd.DataFrame({"time": t, "estimate": est, "se": se, "ci_low": low, "ci_high": high,
                            "beyond_follow_up": beyond})
        out.loc[beyond, ["estimate", "se", "ci_low", "ci_high"]] = np.nan
        return out

    def influence(self, cause: Any, times: Any) -> np.ndarray:
        """Per-row IJ influence on the cumulative incidence, shape ``(n_rows, len(times))``.

        ``se(t)**2 == sum over clusters of (sum of the rows' influences)**2`` (R's convention).
        Columns for times beyond follow-up are NaN.
        """
        cv = self._curve(cause)
        t = check_times(times)
        k = step_index(self._ti.times, t)
        out = np.zeros((self.n, t.size))
        for c, kk in enumerate(k):
            if t[c] > self.last_time:
                out[:, c] = np.nan
            elif kk >= 0:
                tabs, Bs = self._tabs(cv, np.array([kk]))
                out[:, c] = influence_at(self._x, self._w, tabs[0], self._lo,
                                         None if Bs is None else Bs[0], int(kk))
        return out

    def rmtl(self, cause: Any, horizon: Any) -> pd.DataFrame:
        """Restricted mean time lost to ``cause`` (or to a list of causes) up to ``horizon``.

        The area under the cumulative incidence on ``[0, horizon]``: ``horizon`` minus it is
        the expected time *not yet* exited to that cause. Returns ``horizon, estimate, se,
        ci_low, ci_high, beyond_follow_up``, with the IJ standard error clustered like the
        curve. Horizons after the last observed time are flagged and get NaN.
        """
        from impact.survival._rmst import (
            area_and_influence,
            check_horizons,
            clustered_se,
            rmst_table,
        )

        self._no_entry("rmtl")
        cv = self._curve(cause)
        P = self._P(cv)
        f = np.column_stack([np.ones_like(cv.F), -cv.F])
        hs = check_horizons(horizon)
        est, ses = [], []
        for h in hs:
            if h > self.last_time:
                est.append(np.nan)
                ses.append(np.nan)
                continue
            area, infl = area_and_influence(self._ti, self._w, P, f, cv.R, cv.F, 0.0, float(h))
            est.append(area)
            ses.append(clustered_se(infl, self._codes_cluster, self._n_codes))
        return rmst_table(hs, est, ses, self.last_time, self.conf_level)

    def rmtl_influence(self, cause: Any, horizon: Any) -> np.ndarray:
        """Per-row IJ influence on :meth:`rmtl`, ``(n_rows, len(horizon))``."""
        from impact.survival._rmst import area_and_influence, check_horizons

        self._no_entry("rmtl_influence")
        cv = self._curve(cause)
        P = self._P(cv)
        f = np.column_stack([np.ones_like(cv.F), -cv.F])
        hs = check_horizons(horizon)
        out = np.full((self.n, hs.size), np.nan)
        for c, h in enumerate(hs):
            if h <= self.last_time:
                out[:, c] = area_and_influence(self._ti, self._w, P, f, cv.R, cv.F, 0.0, float(h))[1]
        return out

    def summary(self, times: Any = None) -> pd.DataFrame:
        """Long table ``cause, time, estimate, se, ci_low, ci_high`` for every cause."""
        frames = []
        for c in self.causes:
            df = self.cif(c, times)
            df.insert(0, "cause", c)
            frames.append(df)
        return pd.concat(frames, ignore_index=True)

    def plot(self, ax: Any = None, causes: Any = None, **kwargs: Any) -> Any:
        """Cumulative incidence curves; returns the Axes. See :func:`impact.survival.plot_cif`.

        (The old order ``plot(causes, ax)`` still works this version, with a FutureWarning.)
        """
        from impact.survival._plot import old_positional, plot_cif

        ax, causes = old_positional(ax, causes, "causes", "AalenJohansen.plot")
        return plot_cif(self, ax=ax, causes=causes, **kwargs)

    def __repr__(self) -> str:
        return (f"AalenJohansen(n={self.n}, clusters={self.n_clusters}, causes={list(self.causes)}, "
                f"cov_type='{self.cov_type}', conf_level={self.conf_level})")

    def _repr_html_(self) -> str:
        head = (f"<p><b>Aalen-Johansen cumulative incidence</b> (weighted, IJ standard errors: "
                f"{self.cov_type}); n = {self.n}, clusters = {self.n_clusters}, causes: "
                f"{', '.join(map(str, self.causes))}</p>")
        return head + self.table.to_html(index=False, max_rows=30)


def cause_codes(cause: Any, n: int, causes: Sequence[Any] | None) -> tuple[np.ndarray, tuple]:
    """Each row's cause as 0 (censored) or 1..m (the declared causes, in order), and the causes.

    Integer codes are read by counting (no hashing), other labels by one hash factorize; the
    row codes are one lookup from the distinct values.
    """
    arr = as_1d(cause, "cause")
    check_length(arr, n, "cause")
    uniq: Any
    off: np.ndarray | None = None
    codes_u: np.ndarray | None = None
    if arr.dtype.kind in "iu" and arr.size and int(arr.max()) - int(arr.min()) <= 4 * n + 1024:
        # integer codes: the distinct values by counting (no hashing)
        lo = int(arr.min())
        off = (arr - lo if lo else arr).astype(np.intp, copy=False)
        present = np.bincount(off) > 0
        pos = np.flatnonzero(present)
        uniq = (pos + lo).tolist()
    else:
        codes_u, uniq = pd.factorize(pd.Series(arr), use_na_sentinel=True)

    def _is_censor(v: Any) -> bool:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return True
        if isinstance(v, str):
            return v.strip().lower() in ("0", "censored", "censor")
        try:
            return bool(v == 0)
        except (TypeError, ValueError):  # pragma: no cover - exotic objects
            return False

    def by_row(per_unique: np.ndarray, missing: Any) -> np.ndarray:
        """A value per distinct label to a value per row (missing labels: ``missing``)."""
        if off is not None:
            full = np.zeros(present.size, dtype=per_unique.dtype)
            full[pos] = per_unique
            return np.take(full, off)
        assert codes_u is not None
        return np.take(np.r_[per_unique, np.array([missing], dtype=per_unique.dtype)], codes_u)

    cens_u = np.array([_is_censor(v) for v in uniq], dtype=bool)
    if causes is None:
        observed = [v for v, c in zip(uniq, cens_u) if not c]
        try:
            declared = tuple(sorted(observed))
        except TypeError:
            declared = tuple(sorted(observed, key=str))
        if not declared:
            raise DataError("Column 'cause': every row is censored (0/None/'censored'); there is "
                            "no event of any cause to estimate from.", column="cause",
                            rule="at least one event")
    else:
        declared = tuple(causes)
        if not declared:
            raise ParameterError("The 'causes' parameter must list at least one cause.")
        known_u = cens_u | np.array([v in declared or str(v) in map(str, declared) for v in uniq],
                                    dtype=bool)
        if not known_u.all():
            bad_vals = sorted(str(v) for v, k in zip(uniq, known_u) if not k)[:5]
            raise data_error("cause", f"cause codes must be censoring (0, None, 'censored') or one "
                             f"of the declared causes {list(declared)}; found {bad_vals}",
                             by_row(~known_u, False),
                             "Declare every exit type in 'causes', or recode the others, e.g. "
                             "df['cause'] = df['cause'].where(df['cause'].isin(causes), 'other').")
    lookup = np.zeros(len(uniq), dtype=np.int64)
    for u, v in enumerate(uniq):
        if cens_u[u]:
            continue
        for i, c in enumerate(declared):
            if v == c or str(v) == str(c):
                lookup[u] = i + 1
                break
    return by_row(lookup, 0), declared


@validate_params({"duration": [ARRAY], "cause": [ARRAY], "weights": [ARRAY, None], "cluster": [ARRAY, None],
                  "causes": [CAUSES, None], "conf_level": [CONF_LEVEL], "entry": [ARRAY, None]})
def aalen_johansen(duration: Any, cause: Any, weights: Any = None, cluster: Any = None,
                   causes: Sequence[Any] | None = None,
                   conf_level: float = 0.95, entry: Any = None) -> AalenJohansen:
    """Weighted Aalen-Johansen cumulative incidence of competing causes.

    Exits to work, to studies and to other destinations compete: each cause's cumulative
    incidence ``F_k(t) = sum_{t_j <= t} S(t_j-) d_kj / n_j`` uses the all-cause Kaplan-Meier
    ``S``. Tied times are handled exactly (no jitter), so the same data always give the same
    numbers. Standard errors are infinitesimal-jackknife, clustered on ``cluster`` and right for
    non-integer weights; they equal R's ``survfit(Surv(duration, factor(cause)) ~ 1, id=,
    weights=, cluster=)``.

    Parameters
    ----------
    duration : array-like
        Follow-up time, > 0.
    cause : array-like
        0, None, NaN or ``"censored"`` for censoring; any other value (int or str) names the
        cause of exit.
    weights : array-like, optional
        Case weights >= 0, not all zero.
    cluster : array-like, optional
        Cluster labels (matched set). Default: each row its own cluster.
    causes : sequence, optional
        The declared causes. Values of ``cause`` that are neither censoring nor declared raise
        a :class:`DataError`. Default: every non-censoring value observed.
    conf_level : float, default 0.95
    entry : array-like, optional
        Delayed entry (left truncation, or (start, stop] pieces of a person's follow-up with
        time-varying weights): the row is at risk on ``(entry, duration]``, as R's
        ``Surv(entry, duration, cause)``; ``0 <= entry < duration``. Default: at risk from 0.
        The standard errors at many times then cost O(n) per time; ``rmtl`` is not available.

    Returns
    -------
    AalenJohansen

    Notes
    -----
    ``cif(cause, times)`` at a few times computes each standard error by one pass over the rows
    (a lookup of each row's influence in a table by time and cause, and a bincount by cluster);
    at many times (or ``times=None``) by one quadratic form at every time.

    Examples
    --------
    >>> import numpy as np
    >>> from lifelines.datasets import load_rossi
    >>> from impact.survival import aalen_johansen
    >>> rossi = load_rossi()
    >>> cause = np.where(rossi["arrest"] == 1, np.where(rossi["fin"] == 1, "a", "b"), "censored")
    >>> aj = aalen_johansen(rossi["week"], cause)
    >>> aj.cif(["a", "b"], [52]).round(4)[["time", "estimate", "se"]]
       time  estimate      se
    0  52.0    0.2639  0.0212
    """
    conf_level = float(conf_level)
    T = check_duration(duration, copy=False)  # not kept: only the time index is
    n = T.size
    code, declared = cause_codes(cause, n, causes)
    w = check_weights(weights, n)
    ccodes, n_codes = check_cluster_unordered(cluster, n)
    start = None if entry is None else check_entry(entry, T)
    m = len(declared)
    ti, x, counts = keyed_time_index(T, code, m + 1, w)
    n_event = np.ascontiguousarray(counts[:, 1:])
    n_exit = counts.sum(axis=1)
    n_risk, lo = risk_set(ti, n_exit, start, w)
    cols: dict[str, np.ndarray] = {"time": ti.times, "n_risk": n_risk, "n_censor": counts[:, 0].copy()}
    d_all = n_event.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        h = np.where(n_risk > 0, d_all / n_risk, 0.0)
    S = np.cumprod(1.0 - h)
    S_prev = np.r_[1.0, S[:-1]]
    for c, lab in enumerate(declared):
        cols[f"n_event_{lab}"] = n_event[:, c]
    for c, lab in enumerate(declared):
        with np.errstate(divide="ignore", invalid="ignore"):
            hk = np.where(n_risk > 0, n_event[:, c] / n_risk, 0.0)
        cols[f"cif_{lab}"] = np.cumsum(S_prev * hk)
    cols["survival"] = S
    notes = ["ties handled exactly (no jitter)",
             "standard errors by the infinitesimal jackknife (R survfit robust variance)",
             "confidence intervals on the log scale (R conf.type='log')",
             "clustered on the given clusters" if cluster is not None
             else "no cluster given: each row is its own cluster"]
    if start is not None:
        notes.append("delayed entry: each row at risk on (entry, duration]")
    return AalenJohansen(
        causes=tuple(declared), table=pd.DataFrame(cols), conf_level=conf_level,
        cov_type="ij_cluster" if cluster is not None else "ij", n=n,
        last_time=float(ti.times[-1]), notes=tuple(notes), _ti=ti, _w=w, _x=x, _lo=lo,
        _codes_cluster=None if cluster is None else ccodes, _n_codes=n_codes,
        _n_risk=n_risk, _n_event=n_event,
    )
