"""Restricted mean survival time (area under a curve up to a horizon), its IJ variance and
per-row influence, so that differences between groups can be clustered on matched sets."""

from __future__ import annotations

import numpy as np
import pandas as pd

from impact._validation import check_times
from impact.survival._common import TimeIndex, z_value

__all__: list[str] = []


def area_and_influence(ti: TimeIndex, w: np.ndarray, P: np.ndarray, f: np.ndarray,
                       R: np.ndarray, values: np.ndarray, start_value: float,
                       horizon: float) -> tuple[float, np.ndarray]:
    """Area under the step curve on [0, horizon] and each row's IJ influence on it.

    The curve is ``start_value`` before the first observed time and ``values[k]`` on
    ``[t_k, t_{k+1})``. A row's influence on the curve at ``t_k`` is
    ``w_i (P_i . f_k)`` once it has left (``j_i <= k``) and ``w_i R_k`` before, so its influence
    on the area is ``w_i (P_i . sum_{k >= j_i} f_k delta_k + sum_{k < j_i} R_k delta_k)``.
    """
    grid = ti.times
    m = int(np.searchsorted(grid, horizon, side="left"))  # intervals starting before horizon
    delta = np.diff(np.r_[grid[:m], horizon]) if m else np.zeros(0)
    area = start_value * min(grid[0], horizon) + float(np.sum(values[:m] * delta))
    Fdel = f[:m] * delta[:, None]
    Fs = np.zeros((m + 1, f.shape[1]))
    Fs[:m] = np.cumsum(Fdel[::-1], axis=0)[::-1]
    Rp = np.r_[0.0, np.cumsum(R[:m] * delta)]
    j = np.minimum(ti.index, m)
    infl = w * (np.einsum("ij,ij->i", P, Fs[j]) + Rp[j])
    return area, infl


def clustered_se(infl: np.ndarray, cluster: np.ndarray | None, n_clusters: int) -> float:
    if cluster is None:
        return float(np.sqrt(np.sum(infl * infl)))
    s = np.bincount(cluster, weights=infl, minlength=n_clusters)
    return float(np.sqrt(np.sum(s * s)))


def greenwood_rmst_se(times: np.ndarray, surv: np.ndarray, n_risk: np.ndarray,
                      n_event: np.ndarray, horizon: float) -> float:
    """R's ``print(survfit, rmean=)`` standard error (survmean's Greenwood-type formula)."""
    keep = times <= horizon
    t = np.r_[times[keep], horizon]
    s = np.r_[surv[keep], surv[keep][-1] if keep.any() else 1.0]
    with np.errstate(divide="ignore", invalid="ignore"):
        left = n_risk - n_event
        hh = np.where(left == 0, 0.0, n_event / (n_risk * left))
    hh = np.r_[hh[keep], 0.0]
    delta = np.diff(np.r_[0.0, t])
    rect = delta * np.r_[1.0, s[:-1]]
    var = np.sum(np.cumsum(rect[1:][::-1]) ** 2 * hh[::-1][1:])
    return float(np.sqrt(var))


def rmst_table(horizons: np.ndarray, estimates: list[float], ses: list[float],
               last_time: float, conf_level: float) -> pd.DataFrame:
    h = np.asarray(horizons, dtype=float)
    est = np.asarray(estimates, dtype=float)
    se = np.asarray(ses, dtype=float)
    z = z_value(conf_level)
    beyond = h > last_time
    out = pd.DataFrame({"horizon": h, "estimate": est, "se": se, "ci_low": est - z * se,
                        "ci_high": est + z * se, "beyond_follow_up": beyond})
    out.loc[beyond, ["estimate", "se", "ci_low", "ci_high"]] = np.nan
    return out


def check_horizons(horizons: object) -> np.ndarray:
    h = check_times(horizons, "horizon")
    return h
