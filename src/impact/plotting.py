"""Shared matplotlib helpers. Every function takes ``ax=None`` and returns the Axes it drew on
(an array of Axes when it made several panels)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from impact._validation import InstanceOf, Options, validate_params
from impact.labels import LANGS, Lang, label

__all__ = ["plot_effect_curves", "plot_forest", "new_axes"]

ARM_COLOURS = {"treated": "#1b6ca8", "control": "#d1495b"}


def new_axes(ax: Any = None, ncols: int = 1, figsize: tuple[float, float] | None = None,
             sharey: bool = True) -> Any:
    """Return ``ax`` if given, else new Axes (an array of them when ``ncols > 1``).

    Examples
    --------
    >>> axes = new_axes(ncols=3)
    >>> len(axes), new_axes(axes[0]) is axes[0]
    (3, True)
    """
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, ncols, figsize=figsize or (4.2 * ncols, 3.4), squeeze=False,
                             sharey=sharey, constrained_layout=True)
    return axes[0] if ncols > 1 else axes[0, 0]


_TEXT = {
    "en": {"share": "Share in work or studies", "days": "days since start", "treated": "participants",
           "control": "matched controls"},
    "sv": {"share": "Andel i arbete eller studier", "days": "dagar sedan start", "treated": "deltagare",
           "control": "matchade kontrollpersoner"},
}


def _title(axes: list[Any], given: Any, text: str) -> None:
    """Say what the chart shows: a figure title when the function made the figure, else the title
    of the one Axes it was given (unless that has one already)."""
    if given is None:
        axes[0].figure.suptitle(text)
    elif len(axes) == 1 and not axes[0].get_title():
        axes[0].set_title(text)


def _name(key: Any, lang: Lang) -> str:
    from impact.labels import subgroup_label
    return subgroup_label(key, lang)


_FRAME = InstanceOf(pd.DataFrame, "a pandas DataFrame")


@validate_params({"curves": [_FRAME], "title": [InstanceOf(str, "a str"), None], "lang": [Options(LANGS)]})
def plot_effect_curves(curves: pd.DataFrame, ax: Any = None, title: str | None = None,
                       lang: Lang = "en") -> Any:
    """Cumulative incidence of work or studies by arm, one panel per subgroup, titled for what it shows.

    Parameters
    ----------
    curves : DataFrame
        Columns ``subgroup, arm, time, estimate`` and optionally ``ci_low, ci_high`` (as
        :attr:`impact.effects.EffectsResult.curves`); ``arm`` is ``"treated"`` or ``"control"``.
    ax : Axes, optional
        With ``ax=None`` a figure with one panel per subgroup is made and the array of Axes
        returned; with one Axes given, every subgroup is drawn on it (line style by subgroup).
    title : str, optional
        The y-axis label (default: "Share in work or studies" in ``lang``).
    lang : {"en", "sv"}
        Language of labels, legends and panel titles.

    Returns
    -------
    Axes or array of Axes

    Examples
    --------
    >>> import pandas as pd
    >>> curves = pd.DataFrame({"subgroup": "all", "arm": ["treated", "treated", "control", "control"],
    ...                        "time": [0, 100, 0, 100], "estimate": [0, 0.3, 0, 0.2]})
    >>> ax = plot_effect_curves(curves, lang="sv")
    >>> ax.get_xlabel(), ax.figure.get_suptitle()
    ('dagar sedan start', 'Andel i arbete eller studier, deltagare och matchade kontrollpersoner')
    """
    text = _TEXT[lang]
    title = title or text["share"]
    subgroups = list(dict.fromkeys(curves["subgroup"]))
    axes = new_axes(ax, ncols=len(subgroups))
    axes_list = list(np.atleast_1d(axes))
    styles = ["-", "--", ":", "-."]
    for i, sg in enumerate(subgroups):
        a = axes_list[i] if len(axes_list) > 1 else axes_list[0]
        for arm, grp in curves[curves["subgroup"] == sg].groupby("arm", sort=False):
            grp = grp.sort_values("time")
            ls = "-" if len(axes_list) > 1 else styles[i % len(styles)]
            arm_name = text.get(arm, str(arm))
            line_label = arm_name if len(axes_list) > 1 else f"{_name(sg, lang)}: {arm_name}"
            a.step(grp["time"], grp["estimate"], where="post", color=ARM_COLOURS.get(arm), ls=ls, label=line_label)
            if {"ci_low", "ci_high"} <= set(grp.columns):
                a.fill_between(grp["time"], grp["ci_low"], grp["ci_high"], step="post",
                               color=ARM_COLOURS.get(arm), alpha=0.15, lw=0)
        if len(axes_list) > 1:
            a.set_title(_name(sg, lang))
        a.set_xlabel(text["days"])
        a.grid(alpha=0.3)
    axes_list[0].set_ylabel(title)
    axes_list[0].legend(loc="upper left", frameon=False)
    _title(axes_list, ax, label("title_effect_curves", lang))
    return axes


@validate_params({"table": [_FRAME], "estimands": ["columns"], "lang": [Options(LANGS)]})
def plot_forest(table: pd.DataFrame, ax: Any = None, estimands: tuple[str, ...] = ("share_diff", "hazard_ratio"),
                lang: Lang = "en") -> Any:
    """Forest plot of estimates with intervals, one panel per estimand, one row per subgroup and horizon
    (the figure titled "Effects with confidence intervals" in ``lang``).

    Parameters
    ----------
    table : DataFrame
        An effect table (``subgroup, estimand, horizon, estimate, ci_low, ci_high``).
    ax : Axes or array of Axes, optional
        One Axes per estimand (a single Axes when one estimand is drawn); new ones when ``None``.
    estimands : tuple of str
        Which estimands to draw (a panel each); the reference line is at 1 for ratios
        (``*_ratio``) and at 0 for differences.
    lang : {"en", "sv"}
        Language of subgroup names and panel titles.

    Returns
    -------
    Axes or array of Axes

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"subgroup": ["all", "female"], "estimand": "hazard_ratio", "horizon": float("nan"),
    ...                   "estimate": [1.2, 1.3], "ci_low": [1.1, 1.1], "ci_high": [1.3, 1.5]})
    >>> ax = plot_forest(t, lang="sv")
    >>> ax.get_title(), [t.get_text() for t in ax.get_yticklabels()]
    ('hazardkvot', ['Samtliga', 'Kvinnor'])
    """
    estimands = (estimands,) if isinstance(estimands, str) else tuple(estimands)
    rows = table[table["estimand"].isin(estimands)].reset_index(drop=True)
    n_panels = rows["estimand"].nunique()
    if ax is not None and len(np.atleast_1d(ax)) < n_panels:
        from impact._errors import ParameterError
        raise ParameterError(f"plot_forest draws one panel per estimand ({n_panels} here: "
                             f"{', '.join(map(str, dict.fromkeys(rows['estimand'])))}); give as many Axes "
                             "in 'ax', or fewer 'estimands'.")
    axes = new_axes(ax, ncols=max(n_panels, 1), figsize=(4.8 * max(n_panels, 1), 0.3 * len(rows) + 1.5),
                    sharey=False)
    axes_list = list(np.atleast_1d(axes))
    for a, (est, grp) in zip(axes_list, rows.groupby("estimand", sort=False)):
        days = "d" if lang != "sv" else " dgr"
        labels = [_name(s, lang) + (f" {h:g}{days}" if np.isfinite(h) else "")
                  for s, h in zip(grp["subgroup"], grp["horizon"])]
        y = np.arange(len(grp))[::-1]
        est_v, lo, hi = (grp[c].to_numpy(dtype=float) for c in ("estimate", "ci_low", "ci_high"))
        ok = np.isfinite(est_v)   # hidden (small groups) or not estimable: no point drawn
        if ok.any():
            a.errorbar(est_v[ok], y[ok], xerr=[(est_v - lo)[ok], (hi - est_v)[ok]], fmt="o", color="#333333",
                       capsize=3)
        a.axvline(1.0 if str(est).endswith("_ratio") else 0.0, color="grey", lw=1, ls="--")
        a.set_yticks(y, labels)
        a.set_title(_name(est, lang))
        a.grid(axis="x", alpha=0.3)
    _title(axes_list, ax, label("title_forest", lang))
    return axes
