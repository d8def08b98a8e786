"""The result of :func:`impact.match`: matched data, weights, pairs, flow and balance."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from impact.data import Flow
from impact.design._propensity import Propensity
from impact.labels import Lang

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

    from impact.diagnostics import BalanceResult

__all__ = ["MatchResult"]

_METHOD_TEXT = {
    "nearest": "nearest neighbour matching",
    "optimal": "optimal pair matching",
    "cem": "coarsened exact matching",
    "exact": "exact matching",
    "subclass": "subclassification on the distance",
    "ipw": "inverse probability weighting",
    "riskset": "risk-set matching",
}


@dataclass(frozen=True, repr=False)
class MatchResult:
    """What a matching or weighting design kept, with the weights to use downstream.

    Attributes
    ----------
    matched_data : DataFrame
        The input columns of the kept rows (original index labels), plus ``distance`` (the score
        matched on; NaN for Mahalanobis), ``weights`` (MatchIt's: treated 1, controls so that their
        weights sum to the number of matched controls; for a control used in several sets under
        replacement, the sum over its sets, as MatchIt's ``match.data``) and ``subclass`` (matched
        set id, 1, 2, ..., numbered in the order of the treated units' tie-break key, so it does not
        depend on row order; nullable and missing for a control used in several sets, see
        :meth:`get_matches`).
    matched_pairs : DataFrame
        Long form, one row per treated-control pair: ``subclass``, ``treated`` and ``control``
        (index labels), ``treated_pos`` and ``control_pos`` (0-based row positions in the input
        data), ``round`` (1 for the first control of a set, 2 for the second, ...) and
        ``distance_diff`` (absolute difference in the score). Empty for weighting and
        subclassification.
    flow : Flow
        Counts at each step that drops people: complete cases, common support, then for pair
        matching ``exact stratum`` and ``caliper`` (treated units without any candidate there),
        ``controls not selected`` (candidates nobody chose: not needed, not a loss) and
        ``matched`` (treated units whose candidates were all taken by others).
    sample_sizes : DataFrame
        MatchIt's table: rows ``all``, ``matched_ess``, ``matched``, ``unmatched``, ``discarded``;
        columns ``control``, ``treated``.
    propensity : Propensity or None
        The score and, for the default logistic model, its coefficients and SEs.
    settings : mapping
        Method, estimand, ratio, replace, caliper (given and on the score scale), exact, m_order,
        id, link, distance.
    notes : tuple of str
        Each default that was assumed, said once.
    unmatched : DataFrame
        One row per focal unit (treated for the ATT) left without a match: ``position`` (0-based
        row position in the input data) and ``reason``: no control in its exact stratum, no
        control within the caliper (used or not), or every control within the caliper already
        used by units that chose before it. The same counts are steps of :attr:`flow`.
    """

    method: str
    estimand: str
    treatment: str
    covariates: tuple[str, ...]
    data: pd.DataFrame
    positions: np.ndarray
    weights: np.ndarray
    subclass: np.ndarray
    distance: np.ndarray
    discarded: np.ndarray
    matched_pairs: pd.DataFrame
    flow: Flow
    sample_sizes: pd.DataFrame
    propensity: Propensity | None
    settings: Mapping[str, Any]
    notes: tuple[str, ...] = field(default_factory=tuple)
    matched_data: pd.DataFrame = field(default_factory=pd.DataFrame)
    unmatched: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {"position": pd.Series(dtype=np.int64), "reason": pd.Series(dtype=object)}))

    # -- counts ---------------------------------------------------------------------------------
    @property
    def treated_mask(self) -> np.ndarray:
        return self.data[self.treatment].to_numpy().astype(bool)

    @property
    def n_unmatched(self) -> int:
        """Focal units (treated for the ATT) that were not discarded and found no match."""
        focal = self.treated_mask if self.estimand != "ATC" else ~self.treated_mask
        return int((focal & (self.weights == 0) & ~self.discarded).sum())

    @property
    def unmatched_positions(self) -> np.ndarray:
        """0-based row positions (in the input data) of the focal units left without a match."""
        focal = self.treated_mask if self.estimand != "ATC" else ~self.treated_mask
        return self.positions[focal & (self.weights == 0) & ~self.discarded]

    # -- long form ------------------------------------------------------------------------------
    def get_matches(self) -> pd.DataFrame:
        """One row per unit per matched set (MatchIt's ``get_matches()``).

        A control used in several sets appears once per set, each time with its set's
        ``subclass`` and the weight it has in that set (treated 1, each control 1 / number of
        controls in the set). The original index label is in the column ``unit``.

        Examples
        --------
        >>> import impact
        >>> from impact.datasets import load_lalonde
        >>> df = load_lalonde()
        >>> m = impact.match(df, treatment="treat", covariates=["age", "educ", "re74"],
        ...                  replace=True, id="id")
        >>> gm = m.get_matches()
        >>> len(gm) == 2 * len(m.matched_pairs)
        True
        """
        p = self.matched_pairs
        if p.empty:
            raise ValueError(f"get_matches() needs matched sets; method={self.method!r} has none. "
                             "Use result.matched_data.")
        size = p.groupby("subclass")["control_pos"].transform("size").to_numpy()
        tset = p.drop_duplicates("subclass")
        base = self.data.copy()
        base["distance"] = self.distance
        by_pos = pd.Series(np.arange(len(self.positions)), index=self.positions)
        t_rows = base.iloc[by_pos.loc[tset["treated_pos"]].to_numpy()].copy()
        t_rows["subclass"] = tset["subclass"].to_numpy()
        t_rows["weights"] = 1.0
        c_rows = base.iloc[by_pos.loc[p["control_pos"]].to_numpy()].copy()
        c_rows["subclass"] = p["subclass"].to_numpy()
        c_rows["weights"] = 1.0 / size
        out = pd.concat([t_rows, c_rows])
        out.index.name = out.index.name or "unit"
        out = out.reset_index().rename(columns={out.index.name: "unit"})
        out = out.sort_values(["subclass", self.treatment], ascending=[True, False], kind="stable")
        return out.reset_index(drop=True)

    # -- balance --------------------------------------------------------------------------------
    def balance(self, *, squares: bool = False, interactions: bool = False,
                thresholds: Mapping[str, float] | None = None) -> "BalanceResult":
        """Balance before and after, with MatchIt's conventions for this estimand.

        The ``distance`` row comes first (when matching was on a score), then every covariate
        (categorical ones one row per level). See :func:`impact.balance`.
        """
        from impact.diagnostics import balance

        extra = None if np.isnan(self.distance).all() else {"distance": self.distance}
        est = "ATE" if self.estimand in ("ATE", "ATO") else self.estimand
        keep = ~self.discarded
        data = self.data if keep.all() else self.data.loc[keep]
        w = self.weights[keep]
        if extra is not None and not keep.all():
            extra = {"distance": self.distance[keep]}
        return balance(data, self.treatment, list(self.covariates), w, estimand=est,  # type: ignore[arg-type]  # est is "ATT", "ATC" or "ATE" (ATO mapped above)
                       squares=squares, interactions=interactions, thresholds=thresholds,
                       extra=extra)

    # -- display --------------------------------------------------------------------------------
    def design_rows(self) -> list[tuple[str, str]]:
        """The MatchIt-style header as ``(setting, value)`` pairs: method, distance, estimand,
        calipers, exact variables and the number of observations (shown in notebooks and reports)."""
        s = self.settings
        m = _METHOD_TEXT.get(self.method, self.method)
        if self.method in ("nearest", "optimal"):
            m = f"{s['ratio']}:1 {m} " + ("with" if s.get("replace") else "without") + " replacement"
        rows = [("method", m), ("distance", str(s.get("distance_text", ""))),
                ("estimand", self.estimand)]
        if s.get("caliper_width") is not None:
            cal = s["caliper"]["distance"] if isinstance(s.get("caliper"), Mapping) else s["caliper"]
            rows.append(("caliper", f"{cal} ({'SD of the distance' if s.get('std_caliper') else 'raw units'}; "
                                    f"width {s['caliper_width']:.4g})"))
        for c, w in (s.get("covariate_caliper_width") or {}).items():
            rows.append((f"caliper on {c}", f"width {w:.4g} (units of {c})"))
        if s.get("exact"):
            rows.append(("exact", ", ".join(s["exact"])))
        n = self.sample_sizes
        rows.append(("number of obs.", f"{int(n.loc['all'].sum())} (original), "
                                       f"{int(n.loc['matched'].sum())} (matched)"))
        return rows

    def summary(self) -> pd.DataFrame:
        """The sample-size table joined with the balance table's key columns, as tidy frames.

        Returns the balance summary (one row per covariate); the sample sizes are in
        :attr:`sample_sizes`.
        """
        return self.balance().summary()

    def __repr__(self) -> str:
        n = self.sample_sizes
        cal = "" if self.settings.get("caliper") is None else f", caliper={self.settings['caliper']}"
        return (f"MatchResult(method={self.method!r}, estimand={self.estimand}{cal}, "
                f"treated {int(n.loc['matched', 'treated'])}/{int(n.loc['all', 'treated'])} matched, "
                f"controls {int(n.loc['matched', 'control'])}/{int(n.loc['all', 'control'])} used, "
                f"{self.n_unmatched} unmatched)")

    def _repr_html_(self) -> str:
        from impact._display import frame_html, notes_html, pairs_html, title_html

        bal = self.balance()
        return (f"<div>{title_html('impact.MatchResult', repr(self))}{pairs_html(self.design_rows())}"
                f"<p>Sample sizes</p>{frame_html(self.sample_sizes, digits=5)}"
                f"<p>Balance</p>{frame_html(bal.summary(), digits=3)}"
                f"{notes_html((*self.notes, *bal.notes))}</div>")

    def plot(self, ax: "Axes | None" = None, *, kind: Literal["love", "overlap"] = "love",
             lang: Lang = "en") -> "Axes":
        """Love plot of SMDs before/after (``kind="love"``) or a mirrored histogram of the score.

        ``lang`` ("en" or "sv") is the language of the axes and legend. Returns the matplotlib Axes.
        """
        if kind == "love":
            return self.balance().plot(ax=ax, lang=lang)
        import matplotlib.pyplot as plt

        from impact.labels import label

        def name(key: str) -> str:
            return label(key, lang)

        if np.isnan(self.distance).all():
            raise ValueError("kind='overlap' needs a score; this design matched on Mahalanobis distance.")
        if ax is None:
            _, ax = plt.subplots(figsize=(6, 4))
        t = self.treated_mask
        bins = np.histogram_bin_edges(self.distance, bins=30)
        for grp, sign, col, lab in ((t, 1, "C0", name("treated")), (~t, -1, "C3", name("control"))):
            for w, alpha, suffix in ((None, 0.3, f" ({name('legend_all')})"), (self.weights, 0.9,
                                                                              f" ({name('legend_matched')})")):
                h, _ = np.histogram(self.distance[grp], bins=bins,
                                    weights=None if w is None else w[grp])
                ax.bar(bins[:-1], sign * h, width=np.diff(bins), align="edge", color=col,
                       alpha=alpha, label=lab + suffix)
        ax.axhline(0, color="black", lw=0.5)
        ax.set_xlabel(name("axis_distance_score"))
        ax.set_ylabel(name("axis_count_controls_below"))
        ax.legend(frameon=False, fontsize="small")
        return ax
