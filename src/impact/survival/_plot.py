"""Plots for survival curves: every function takes ``ax=None`` and returns the Axes."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["old_positional", "plot_cif", "plot_survival"]

_NOTHING = object()


def _is_axes(ax: Any) -> bool:
    return hasattr(ax, "figure") and hasattr(ax, "step") and hasattr(ax, "set_xlim")


def old_positional(ax: Any, value: Any, name: str, func: str) -> tuple[Any, Any]:
    """``(ax, value)`` for a call in the old order, ``plot(value)``, where ``ax`` now comes first.

    When ``ax`` is given but is not a matplotlib Axes and ``value`` was not given, the caller used
    the old positional order: warn (FutureWarning) and swap.
    """
    if ax is not None and not _is_axes(ax) and value is None:
        warnings.warn(f"{func}: 'ax' is now the first parameter; pass {name}= by keyword "
                      f"({func}(ax=None, {name}=...)). The old order goes away in the next version.",
                      FutureWarning, stacklevel=3)
        return None, ax
    return ax, value


def _axes(ax: Any) -> Any:
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 4.5))
    return ax


def _legend(ax: Any) -> None:
    """A legend of the labelled curves only, and none when no curve has a label (no empty entries)."""
    handles, labels = ax.get_legend_handles_labels()
    keep = [(h, lab) for h, lab in zip(handles, labels) if str(lab).strip()]
    if keep:
        ax.legend(*zip(*keep), loc="best", frameon=False)


def _step(ax: Any, t: np.ndarray, y: np.ndarray, lo: np.ndarray | None, hi: np.ndarray | None,
          start: float, label: str, ci: bool, **kwargs: Any) -> Any:
    x = np.r_[0.0, t]
    line = ax.step(x, np.r_[start, y], where="post", label=label or None, **kwargs)[0]
    if ci and lo is not None and hi is not None:
        ax.fill_between(x, np.r_[start, lo], np.r_[start, hi], step="post", alpha=0.15,
                        color=line.get_color(), linewidth=0)
    return line


def plot_survival(curves: Any, ax: Any = None, ci: bool = True, at_risk: bool = True,
                  at_risk_times: Sequence[float] | None = None, xlabel: str = "time",
                  ylabel: str = "share without the event", title: str | None = "Kaplan-Meier estimate",
                  **kwargs: Any) -> Any:
    """Kaplan-Meier curves with confidence bands and a number-at-risk table under the plot.

    Parameters
    ----------
    curves : KaplanMeier or mapping of label -> KaplanMeier
    ax : matplotlib Axes, optional
    ci : bool, default True
        Shade the pointwise confidence band.
    at_risk : bool, default True
        Print the (weighted) number at risk at ``at_risk_times`` under the x-axis, one row per
        curve. Apply small-cell suppression before publishing these counts.
    at_risk_times : sequence of float, optional
        Default: the x-axis ticks inside the data range.
    title : str, optional
        Title of the Axes (None: leave the title as it is).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from lifelines.datasets import load_rossi
    >>> from impact.survival import kaplan_meier, plot_survival
    >>> rossi = load_rossi()
    >>> curves = {f"fin={g}": kaplan_meier(d["week"], d["arrest"]) for g, d in rossi.groupby("fin")}
    >>> ax = plot_survival(curves)
    >>> len(ax.get_lines())
    2
    """
    ax = _axes(ax)
    if not isinstance(curves, Mapping):
        curves = {"": curves}
    last = 0.0
    for label, km in curves.items():
        t = km.table
        _step(ax, t["time"].to_numpy(), t["survival"].to_numpy(), t["ci_low"].to_numpy(),
              t["ci_high"].to_numpy(), 1.0, str(label), ci, **kwargs)
        last = max(last, km.last_time)
    ax.set_xlim(0, last)
    ax.set_ylim(0, 1.02)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    _legend(ax)
    if at_risk:
        ticks = np.asarray(at_risk_times if at_risk_times is not None else
                           [x for x in ax.get_xticks() if 0 <= x <= last])
        ax.set_xticks(ticks)
        ax.annotate("At risk", xy=(0, 0), xycoords="axes fraction", xytext=(-16, -38),
                    textcoords="offset points", ha="right", va="top", fontsize=8,
                    fontweight="bold")
        for row, (label, km) in enumerate(curves.items()):
            n = km.at(ticks)["n_risk"].to_numpy()
            y_off = -50 - 11 * row
            ax.annotate(str(label) or "all", xy=(0, 0), xycoords="axes fraction",
                        xytext=(-16, y_off), textcoords="offset points", ha="right", va="top",
                        fontsize=8)
            for x, v in zip(ticks, n):
                txt = f"{v:.0f}" if abs(v - round(v)) < 1e-9 else f"{v:.1f}"
                ax.annotate(txt, xy=(x, 0), xycoords=("data", "axes fraction"),
                            xytext=(0, y_off), textcoords="offset points", ha="center",
                            va="top", fontsize=8)
        ax.xaxis.labelpad = 4
    return ax


def plot_cif(aj: Any, ax: Any = None, causes: Any = None, ci: bool = True,
             xlabel: str = "time", ylabel: str = "cumulative incidence",
             title: str | None = "Cumulative incidence (Aalen-Johansen)", **kwargs: Any) -> Any:
    """Cumulative incidence curves of an :class:`AalenJohansen` result.

    Parameters
    ----------
    aj : AalenJohansen
    ax : matplotlib Axes, optional
        Draw into this Axes (default: a new figure).
    causes : optional
        A cause, a list of causes (one curve each), or a mapping label -> cause or list of causes
        (summed, e.g. ``{"work or studies": ["work", "studies"]}``). Default: one curve per cause.
        (The old order ``plot_cif(aj, causes)`` still works this version, with a FutureWarning.)
    ci : bool, default True
        Shade the pointwise confidence band.
    title : str, optional
        Title of the Axes (None: leave the title as it is).

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from lifelines.datasets import load_rossi
    >>> from impact.survival import aalen_johansen, plot_cif
    >>> rossi = load_rossi()
    >>> cause = np.where(rossi["arrest"] == 1, np.where(rossi["fin"] == 1, "a", "b"), "censored")
    >>> ax = plot_cif(aalen_johansen(rossi["week"], cause), causes={"a": "a", "a or b": ["a", "b"]})
    >>> len(ax.get_lines())
    2
    """
    ax, causes = old_positional(ax, causes, "causes", "plot_cif")
    ax = _axes(ax)
    if causes is None:
        causes = {str(c): c for c in aj.causes}
    elif not isinstance(causes, Mapping):
        seq = causes if isinstance(causes, (list, tuple)) else [causes]
        causes = {str(c): c for c in seq}
    for label, c in causes.items():
        df = aj.cif(c)
        _step(ax, df["time"].to_numpy(), df["estimate"].to_numpy(), df["ci_low"].to_numpy(),
              df["ci_high"].to_numpy(), 0.0, str(label), ci, **kwargs)
    ax.set_xlim(0, aj.last_time)
    ax.set_ylim(0, None)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    _legend(ax)
    return ax
