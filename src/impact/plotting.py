"""Shared matplotlib helpers. Every function takes ``ax=None`` and returns the Axes it drew on."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

__all__ = ["plot_effect_curves", "plot_forest", "new_axes"]

ARM_COLOURS = {"treated": "#1b6ca8", "control": "#d1495b"}


def new_axes(ax: Any = None, ncols: int = 1, figsize: tuple[float, float] | None = None,
             sharey: bool = True) -> Any:
    """Return ``ax`` if given, else new Axes (an array of them when ``ncols > 1``)."""
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, ncols, figsize=figsize or (4.2 * ncols, 3.4), squeeze=False,
                             sharey=sharey, constrained_layout=True)
    return axes[0] if ncols > 1 else axes[0, 0]


def plot_effect_curves(curves: pd.DataFrame, ax: Any = None, title: str = "Share in work or studies") -> Any:
    """Cumulative incidence of work or studies by arm, one panel per subgroup.

    ``curves`` has columns ``subgroup, arm, time, estimate, ci_low, ci_high``. With ``ax=None``
    a figure with one panel per subgroup is made and the array of Axes returned; with one Axes
    given, every subgroup is drawn on it (line style by subgroup).
    """
    subgroups = list(dict.fromkeys(curves["subgroup"]))
    axes = new_axes(ax, ncols=len(subgroups))
    axes_list = list(np.atleast_1d(axes))
    styles = ["-", "--", ":", "-."]
    for i, sg in enumerate(subgroups):
        a = axes_list[i] if len(axes_list) > 1 else axes_list[0]
        for arm, grp in curves[curves["subgroup"] == sg].groupby("arm", sort=False):
            grp = grp.sort_values("time")
            ls = "-" if len(axes_list) > 1 else styles[i % len(styles)]
            label = arm if len(axes_list) > 1 else f"{sg}: {arm}"
            a.step(grp["time"], grp["estimate"], where="post", color=ARM_COLOURS.get(arm), ls=ls, label=label)
            if {"ci_low", "ci_high"} <= set(grp.columns):
                a.fill_between(grp["time"], grp["ci_low"], grp["ci_high"], step="post",
                               color=ARM_COLOURS.get(arm), alpha=0.15, lw=0)
        if len(axes_list) > 1:
            a.set_title(str(sg))
        a.set_xlabel("days since start")
        a.grid(alpha=0.3)
    axes_list[0].set_ylabel(title)
    axes_list[0].legend(loc="upper left", frameon=False)
    return axes


def plot_forest(table: pd.DataFrame, ax: Any = None, estimands: tuple[str, ...] = ("share_diff", "hazard_ratio")) -> Any:
    """Forest plot of estimates with intervals, one row per subgroup and estimand."""
    rows = table[table["estimand"].isin(estimands)].reset_index(drop=True)
    n_panels = rows["estimand"].nunique()
    axes = new_axes(ax, ncols=max(n_panels, 1), figsize=(4.8 * max(n_panels, 1), 0.3 * len(rows) + 1.5),
                    sharey=False)
    axes_list = list(np.atleast_1d(axes))
    for a, (est, grp) in zip(axes_list, rows.groupby("estimand", sort=False)):
        labels = [f"{s}" + (f" {h:g}d" if np.isfinite(h) else "") for s, h in zip(grp["subgroup"], grp["horizon"])]
        y = np.arange(len(grp))[::-1]
        ok = np.isfinite(grp["estimate"].to_numpy())
        a.errorbar(grp["estimate"][ok], y[ok],
                   xerr=[(grp["estimate"] - grp["ci_low"])[ok], (grp["ci_high"] - grp["estimate"])[ok]],
                   fmt="o", color="#333333", capsize=3)
        a.axvline(1.0 if est == "hazard_ratio" else 0.0, color="grey", lw=1, ls="--")
        a.set_yticks(y, labels)
        a.set_title(est.replace("_", " "))
        a.grid(axis="x", alpha=0.3)
    return axes
