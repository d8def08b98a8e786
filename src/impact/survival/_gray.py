"""Gray's test for equal cumulative incidence of one cause between groups (``cmprsk::cuminc``).

Gray (1988, Annals of Statistics 16:1141-54) compares the subdistribution hazards of the cause of
interest between ``G`` groups. Within each stratum, at each distinct time with an event, with
``n_k`` at risk, ``S_k(t-)`` the all-cause Kaplan-Meier, ``F_k(t-)`` the cumulative incidence of the
cause and ``F(t-)`` the pooled cumulative incidence, let ``h_k = n_k / S_k(t-)`` and
``q_k = h_k (1 - F_k(t-))``. The score for group ``k`` sums
``(1 - F(t-))^rho (d1_k - d1 q_k / sum q)`` over times; its variance is Gray's estimator, built from
the cause-of-interest and competing-cause jumps of each group (with the usual tie corrections)
and the accumulated weights ``c``. Scores and variances add over strata; the statistic is
``s' V^-1 s`` on the first ``G - 1`` groups, chi-square with ``G - 1`` degrees of freedom.

This is an independent implementation of the published estimator, checked against
``cmprsk::cuminc(ftime, fstatus, group, strata, rho)$Tests`` (cmprsk 2.2-11).
Unweighted only: the test has no case weights in cmprsk either.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd
from scipy import linalg, stats

from impact._errors import DataError, ParameterError, data_error
from impact._validation import (
    Interval,
    as_1d,
    check_duration,
    check_length,
    validate_params,
)
from impact.survival._aj import cause_codes
from impact.survival._common import ARRAY

__all__ = ["GrayTestResult", "gray_test"]


@dataclass(frozen=True, repr=False)
class GrayTestResult:
    """Result of :func:`gray_test`.

    Attributes
    ----------
    statistic, df, p_value : float, int, float
        Chi-square statistic, degrees of freedom (groups - 1) and p-value.
    cause : object
        The cause of interest.
    groups : tuple
        The groups compared (sorted); the score is for all but the last.
    score : numpy.ndarray
        Gray's score for the first ``G - 1`` groups (observed minus expected, weighted).
    variance : numpy.ndarray
        Its estimated variance, ``(G - 1, G - 1)``.
    rho : float
    notes : tuple of str
    """

    statistic: float
    df: int
    p_value: float
    cause: Any
    groups: tuple
    score: np.ndarray
    variance: np.ndarray
    rho: float
    notes: tuple[str, ...] = field(default=())

    def summary(self) -> pd.DataFrame:
        """One row: ``test, cause, statistic, df, p_value``."""
        return pd.DataFrame({"test": ["Gray"], "cause": [self.cause], "statistic": [self.statistic],
                             "df": [self.df], "p_value": [self.p_value]})

    def __repr__(self) -> str:
        return (f"GrayTestResult(cause={self.cause!r}, chisq={self.statistic:.4g}, df={self.df}, "
                f"p={self.p_value:.4g})")

    def _repr_html_(self) -> str:
        return (f"<p><b>Gray's test</b> for cause {self.cause!r} across {len(self.groups)} groups: "
                f"chi-square = {self.statistic:.3f}, df = {self.df}, p = {self.p_value:.4g}</p>")


def _gray_stratum(t: np.ndarray, m: np.ndarray, g: np.ndarray, G: int,
                  rho: float) -> tuple[np.ndarray, np.ndarray]:
    """Score (G,) and variance (G, G) for one stratum; ``m``: 0 censored, 1 cause, 2 other."""
    order = np.argsort(t, kind="stable")
    t, m, g = t[order], m[order], g[order]
    ut, start = np.unique(t, return_index=True)
    K = ut.size
    idx = np.repeat(np.arange(K), np.diff(np.r_[start, t.size]))
    # events of each kind per (time, group), and exits per (time, group)
    counts = np.zeros((3, K, G))
    np.add.at(counts, (m, idx, g), 1.0)
    d1_all, d2_all = counts[1], counts[2]
    exits = counts.sum(axis=0)
    at_risk = np.vstack([np.zeros((1, G)), np.cumsum(exits, axis=0)[:-1]])
    at_risk = np.bincount(g, minlength=G)[None, :] - at_risk  # n_k(t), (K, G)

    score = np.zeros(G)
    V = np.zeros((G, G))
    C = np.zeros((G, G))    # accumulated weights c
    v3 = np.zeros(G)
    v2 = np.zeros((G, G))   # v2[i, k]
    S_left = np.ones(G)     # all-cause KM before t, per group
    F_left = np.zeros(G)    # cause-of-interest CIF before t, per group
    Fp_left = 0.0           # pooled CIF before t
    for j in range(K):
        n = at_risk[j]
        d1, d2 = d1_all[j], d2_all[j]
        D1, D2 = d1.sum(), d2.sum()
        if D1 == 0 and D2 == 0:
            continue  # censoring only: the risk set shrinks, nothing else changes
        live = n > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            S_now = np.where(live, S_left * (n - d1 - d2) / np.where(live, n, 1.0), S_left)
            F_now = np.where(live, F_left + S_left * d1 / np.where(live, n, 1.0), F_left)
            h = np.where(live, n / S_left, 0.0)
        hs = h.sum()
        q = h * (1.0 - F_left)
        Fp_now = Fp_left + D1 / hs
        wt = (1.0 - Fp_left) ** rho
        # a: derivative weights of the score at this time
        A = -wt * np.outer(h, h) / hs
        A[np.diag_indices(G)] = wt * h * (1.0 - h / hs)
        C += A * (D1 / (hs * (1.0 - Fp_left)))
        score += np.where(live, wt * (d1 - D1 * q / q.sum()), 0.0)
        if D1 > 0:
            with np.errstate(divide="ignore", invalid="ignore"):
                t4 = np.where(S_now > 0, 1.0 - (1.0 - Fp_now) / S_now, 1.0)
                t5 = 1.0 - (D1 - 1.0) / (hs * S_left - 1.0) if D1 > 1 else np.ones(G)
                t3 = np.where(live, t5 * S_left * D1 / (hs * np.where(live, n, 1.0)), 0.0)
            B = A - C * t4[None, :]               # B[i, k]
            v3 += t4 * t4 * t3
            v2 += B * (t4 * t3)[None, :]
            V += (B * t3[None, :]) @ B.T
        if D2 > 0:
            ok = (S_now > 0) & (d2 > 0) & live
            if ok.any():
                with np.errstate(divide="ignore", invalid="ignore"):
                    t4 = np.where(ok, (1.0 - Fp_now) / np.where(ok, S_now, 1.0), 0.0)
                    t5 = np.where(d2 > 1, 1.0 - (d2 - 1.0) / (n - 1.0), 1.0)
                    t3 = np.where(ok, t5 * S_left**2 * d2 / np.where(ok, n, 1.0) ** 2, 0.0)
                E = C * t4[None, :]
                v3 += t4 * t4 * t3
                v2 -= E * (t4 * t3)[None, :]
                V += (E * t3[None, :]) @ E.T
        S_left, F_left, Fp_left = S_now, F_now, Fp_now
    V += (C * v3[None, :]) @ C.T + C @ v2.T + v2 @ C.T
    return score, V


@validate_params({"duration": [ARRAY], "cause": [ARRAY], "group": [ARRAY], "strata": [ARRAY, None],
                  "rho": [Interval(Real, None, None)]})
def gray_test(duration: Any, cause: Any, group: Any, cause_of_interest: Any, strata: Any = None,
              rho: float = 0.0) -> GrayTestResult:
    """Test whether the cumulative incidence of one cause differs between groups (Gray's test).

    Parameters
    ----------
    duration : array-like
        Follow-up time (> 0).
    cause : array-like
        0, None, NaN or ``"censored"`` for censoring; any other value names the exit type
        (competing causes are every other value).
    group : array-like
        Groups to compare (two or more; no missing values).
    cause_of_interest : int or str
        The cause whose cumulative incidence is compared (one of the values of ``cause``).
    strata : array-like, optional
        Stratify the test (scores and variances add over strata), as ``cuminc(strata=)``.
    rho : float, default 0
        Power of the weight ``(1 - F(t-))^rho`` (``cuminc(rho=)``); 0 weights every time alike.

    Returns
    -------
    GrayTestResult
        ``statistic``, ``df``, ``p_value``, the score and its variance.

    Notes
    -----
    R equivalent: ``cmprsk::cuminc(ftime, fstatus, group, strata, rho, cencode)$Tests``, the row
    of ``cause_of_interest``. Like cmprsk, the test takes no case weights or clusters; for a
    matched or weighted comparison use :func:`fine_gray` with ``cluster_col``.

    Examples
    --------
    >>> import numpy as np
    >>> from lifelines.datasets import load_rossi
    >>> from impact.survival import gray_test
    >>> rossi = load_rossi()
    >>> cause = np.where(rossi["arrest"] == 1, np.where(rossi["prio"] > 2, "repeat", "first"), "censored")
    >>> res = gray_test(rossi["week"], cause, rossi["fin"], cause_of_interest="repeat")
    >>> round(res.statistic, 3), res.df
    (4.215, 1)
    """
    T = check_duration(duration, "duration")
    n = T.size
    code, causes = cause_codes(cause, n, None)
    match = [i for i, c in enumerate(causes) if c == cause_of_interest or str(c) == str(cause_of_interest)]
    if not match:
        raise ParameterError(f"The 'cause_of_interest' parameter of gray_test must be one of the "
                             f"observed causes {list(causes)}. Got {cause_of_interest!r}.")
    k1 = match[0] + 1
    m = np.where(code == 0, 0, np.where(code == k1, 1, 2)).astype(np.int64)
    garr = as_1d(group, "group")
    check_length(garr, n, "group")
    gs = pd.Series(garr)
    bad = gs.isna().to_numpy()
    if bad.any():
        raise data_error("group", "group labels must not be missing", bad,
                         "Drop those rows or give them a label first.")
    gcode, glevels = pd.factorize(gs, sort=True)
    G = len(glevels)
    if G < 2:
        raise DataError("Column 'group': Gray's test needs at least two groups; found "
                        f"{G}.", column="group", rule="two or more groups")
    if strata is None:
        scode = np.zeros(n, dtype=np.int64)
    else:
        sarr = as_1d(strata, "strata")
        check_length(sarr, n, "strata")
        ss = pd.Series(sarr)
        bad = ss.isna().to_numpy()
        if bad.any():
            raise data_error("strata", "strata must not be missing", bad)
        scode = pd.factorize(ss, sort=True)[0]
    if not (m == 1).any():
        raise DataError(f"Column 'cause': no event of cause {cause_of_interest!r}; Gray's test "
                        "cannot be computed.", column="cause", rule="events of the cause")
    rho = float(rho)
    score = np.zeros(G)
    var = np.zeros((G, G))
    for s in np.unique(scode):
        rows = scode == s
        sc, v = _gray_stratum(T[rows], m[rows], gcode[rows].astype(np.int64), G, rho)
        score += sc
        var += v
    s1, v1 = score[:-1], var[:-1, :-1]
    try:
        stat = float(s1 @ linalg.solve(v1, s1, assume_a="sym"))
    except (linalg.LinAlgError, ValueError):
        stat = float(s1 @ linalg.pinv(v1) @ s1)
    df = G - 1
    notes = ["Gray's test (cmprsk::cuminc), unweighted; competing causes: "
             + ", ".join(str(c) for i, c in enumerate(causes) if i + 1 != k1)]
    if strata is not None:
        notes.append("stratified: scores and variances summed over strata")
    return GrayTestResult(statistic=stat, df=df, p_value=float(stats.chi2.sf(stat, df)),
                          cause=causes[k1 - 1], groups=tuple(glevels), score=s1, variance=v1,
                          rho=rho, notes=tuple(notes))
