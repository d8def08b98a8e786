"""The scaffold shared by the regression fitters (:class:`CoxPH`, :class:`AFT`, :class:`FineGray`).

scikit-learn conventions: ``__init__`` only stores the settings; ``fit`` checks them against the
class's constraint table (``__impact_params__``, the same table the generated bad-input tests read),
checks the data, fits and returns ``self``; fitted attributes end in ``_``.

What lives here, once:

* the input checks: columns present, durations, events, weights, clusters, (start, stop] entry
  times and strata, through :mod:`impact._validation`; the covariate matrix through the one
  covariate builder (:func:`impact.data.covariate_matrix`: categorical columns become dummies,
  the first level the reference);
* the variance bookkeeping: model-based, robust (each row its own cluster) or cluster-robust, the
  sandwich ``D'D`` with ``D`` the per-cluster score sums times the model-based variance, and the
  rule that ``robust=None`` turns robust on for weights that are not whole numbers;
* the faces of a fitted model: :meth:`summary` (a tidy table, the confidence level in ``.attrs``),
  a one-line ``repr``, ``_repr_html_`` and :meth:`plot` (a forest plot, returns the Axes).
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
from scipy import stats

from impact._errors import DataError, EstimationError, ParameterError, data_error
from impact._validation import (
    Interval,
    Options,
    check_cluster,
    check_columns,
    check_duration,
    check_entry,
    check_event,
    check_params,
    check_weights,
)
from impact.data import covariate_matrix
from impact.survival._common import CONF_LEVEL, z_value

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["FIT_COLUMNS", "SETTINGS", "ModelData", "RegressionModel"]

#: constraints of the settings every fitter shares (``__init__`` arguments, checked in ``fit``)
SETTINGS: dict[str, list[Any]] = {
    "robust": ["boolean", None],
    "conf_level": [CONF_LEVEL],
    "max_iter": [Interval(Integral, 1, None)],
    "tol": [Interval(Real, 0, None, closed="neither")],
}

#: constraints of the column arguments of every ``fit``
FIT_COLUMNS: dict[str, list[Any]] = {
    "duration": ["column"],
    "event": ["column"],
    "covariates": ["columns", None],
    "weights": ["column", None],
    "cluster": ["column", None],
    "strata": ["columns", None],
    "entry": ["column", None],
}

TIES = Options(["efron", "breslow"])


@dataclass(frozen=True)
class ModelData:
    """The checked inputs of one fit (arrays in input row order)."""

    T: np.ndarray               # (n,) durations (stop times)
    d: np.ndarray               # (n,) 0/1 events
    w: np.ndarray               # (n,) case weights
    X: np.ndarray               # (n, p) covariate matrix
    terms: list[str]            # its column names (categorical covariates expanded)
    default_covariates: bool    # covariates were not named
    clusters: np.ndarray | None  # (n,) cluster codes, None without cluster_col
    n_clusters: int
    entry: np.ndarray | None    # (n,) entry times, None without entry_col
    strata: list[str]           # the strata columns
    strata_codes: np.ndarray    # (n,) stratum codes (zeros without strata)
    n_events: int               # events among rows with weight > 0

    @property
    def n(self) -> int:
        return int(self.T.size)


class RegressionModel:
    """Base of the regression fitters: settings, input checks, variance, summary, repr and plot.

    Subclasses set ``_title`` (for the HTML face), ``_ratio`` (the exp(estimate) column of the
    summary: ``"hazard_ratio"``, ``"time_ratio"``) and ``__impact_params__`` (the settings table).
    """

    __impact_params__: ClassVar[dict[str, list[Any]]] = dict(SETTINGS)
    _title: ClassVar[str] = "Regression model"
    _ratio: ClassVar[str] = "ratio"
    _model: ClassVar[str] = "a regression model"  # for messages: "... cannot be estimated"

    # fitted attributes (set by fit)
    params_: pd.Series
    cov_: pd.DataFrame
    naive_cov_: pd.DataFrame
    cov_type_: str
    conf_level_: float
    n_: int
    n_events_: int
    n_clusters_: int
    n_iter_: int
    converged_: bool
    covariates_: list[str]
    duration_col_: str
    event_col_: str
    notes_: tuple[str, ...]

    # -- settings ---------------------------------------------------------------------------------
    def get_params(self) -> dict[str, Any]:
        """The settings given to ``__init__`` (scikit-learn's ``get_params``)."""
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {p: getattr(self, p) for p in names}

    def _check_settings(self) -> float:
        """Check the settings against the class's table; return the confidence level as float."""
        check_params(type(self).__name__, type(self).__impact_params__, self.get_params())
        return float(self.get_params()["conf_level"])

    # -- inputs -----------------------------------------------------------------------------------
    def _data(self, data: pd.DataFrame, duration_col: str, event_col: str, covariates: Sequence[str] | None,
              weights_col: str | None, cluster_col: str | None, entry_col: str | None = None,
              strata: str | Sequence[str] | None = None) -> ModelData:
        """Check the data and build the covariate matrix (the same checks, in the same order, for every model)."""
        func = type(self).__name__
        strata_cols = [] if strata is None else ([strata] if isinstance(strata, str) else list(strata))
        named = [duration_col, event_col] + [c for c in (weights_col, cluster_col, entry_col) if c]
        check_columns(data, named + strata_cols)
        terms, X, default_cov = covariate_matrix(data, covariates, set(named) | set(strata_cols), func)
        T = check_duration(data[duration_col].to_numpy(), duration_col)
        n = T.size
        d = check_event(data[event_col].to_numpy(), n, event_col)
        w = check_weights(None if weights_col is None else data[weights_col].to_numpy(), n, weights_col or "weights")
        entry = None
        if entry_col is not None:
            entry = check_entry(data[entry_col].to_numpy(), T, entry_col, duration_col)
        if strata_cols:
            sc = data[strata_cols]
            bad = sc.isna().any(axis=1).to_numpy()
            if bad.any():
                raise data_error(strata_cols[0], "strata must not be missing", bad)
            s_codes = sc.groupby(strata_cols, sort=True).ngroup().to_numpy().astype(np.int64)
        else:
            s_codes = np.zeros(n, dtype=np.int64)
        clusters = None
        n_clusters = n
        if cluster_col is not None:
            clusters, n_clusters = check_cluster(data[cluster_col].to_numpy(), n, cluster_col)
        n_events = int(d[w > 0].sum())
        if n_events == 0:
            raise EstimationError(f"Column '{event_col}': there are no events (all rows are "
                                  f"censored); {self._model} cannot be estimated.")
        return ModelData(T=T, d=d, w=w, X=X, terms=terms, default_covariates=default_cov, clusters=clusters,
                         n_clusters=n_clusters, entry=entry, strata=strata_cols, strata_codes=s_codes,
                         n_events=n_events)

    def _check_not_constant(self, md: ModelData) -> None:
        if not md.terms:
            return
        keep = md.w > 0
        Xk = md.X if keep.all() else md.X[keep]
        const = [md.terms[c] for c in np.flatnonzero(Xk.max(axis=0) == Xk.min(axis=0))]
        if const:
            ratio = self._ratio.replace("_", " ")
            raise DataError(f"Covariate(s) {', '.join(repr(c) for c in const)} are constant; "
                            f"a constant has no {ratio}. Drop them from 'covariates'.",
                            column=const[0], rule="not constant")

    # -- variance ---------------------------------------------------------------------------------
    @staticmethod
    def _robust(robust: bool | None, md: ModelData, weighted: bool) -> tuple[bool, bool]:
        """(use a robust variance, it was turned on because the weights are not whole numbers)."""
        auto = robust is None and weighted and bool(np.any(md.w != np.floor(md.w)))
        return (auto if robust is None else bool(robust)), auto

    @staticmethod
    def _sandwich(score_sums: np.ndarray, naive: np.ndarray) -> np.ndarray:
        """``D'D`` with ``D = S @ naive`` (``S``: per-cluster, or per-row, weighted score sums)."""
        D = score_sums @ naive
        return D.T @ D

    @staticmethod
    def _variance_note(cov_type: str, cluster_col: str | None) -> str:
        return {"cluster": f"cluster-robust variance clustered on '{cluster_col}'",
                "robust": "robust (sandwich) variance, each row its own cluster",
                "naive": "model-based variance (inverse information)"}[cov_type]

    # -- faces ------------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise ParameterError(f"This {type(self).__name__} instance is not fitted yet. "
                                 "Call fit(data, ...) first.")

    def _summary_attrs(self) -> dict[str, Any]:
        return {}

    def summary(self) -> pd.DataFrame:
        """Tidy table: ``term, estimate, se, <ratio>, ci_low, ci_high, p_value``.

        ``estimate`` is the coefficient (log of the ratio); ``ci_low``/``ci_high`` are on the ratio
        scale (Wald, ``conf_level``); ``se`` is from ``cov_`` (``cov_type_``). The confidence level
        and the variance type are in ``.attrs``, not in the column names.
        """
        self._check_fitted()
        b = self.params_.to_numpy()
        se = np.sqrt(np.diag(self.cov_.to_numpy()))
        z = z_value(self.conf_level_)
        out = pd.DataFrame({
            "term": self.params_.index, "estimate": b, "se": se, self._ratio: np.exp(b),
            "ci_low": np.exp(b - z * se), "ci_high": np.exp(b + z * se),
            "p_value": 2 * stats.norm.sf(np.abs(b / se)),
        })
        out.attrs["conf_level"] = self.conf_level_
        out.attrs["cov_type"] = self.cov_type_
        out.attrs.update(self._summary_attrs())
        return out

    def _repr_settings(self) -> str:
        return ""

    def _repr_fitted(self) -> str:
        return ""

    def __repr__(self) -> str:
        name = type(self).__name__
        if not hasattr(self, "params_"):
            params = self.get_params()
            robust = f", robust={params['robust']}" if "robust" in params else ""
            return f"{name}({self._repr_settings()}{robust})"
        return (f"{name}({self._repr_settings()}, n={self.n_}, events={self.n_events_}, "
                f"covariates={len(self.covariates_)}{self._repr_fitted()}, cov_type='{self.cov_type_}')")

    def _html_head(self) -> str:
        return f"<b>{self._title}</b> (variance: {self.cov_type_}); n = {self.n_}, events = {self.n_events_}"

    def _repr_html_(self) -> str:
        self._check_fitted()
        return f"<p>{self._html_head()}</p>" + self.summary().to_html(index=False)

    def plot(self, ax: Axes | None = None, *, terms: Sequence[str] | None = None, ci: bool = True,
             **kwargs: Any) -> Axes:
        """Forest plot: ``exp(estimate)`` with its confidence interval per term, on a log axis.

        Parameters
        ----------
        ax : matplotlib Axes, optional
            Draw into this Axes (default: a new figure).
        terms : sequence of str, optional
            The terms to show (default: every term but an intercept).
        ci : bool, default True
            Draw the confidence intervals.
        **kwargs
            Passed to ``Axes.errorbar``.

        Returns
        -------
        matplotlib.axes.Axes
        """
        s = self.summary()
        if terms is None:
            s = s[s["term"] != "(Intercept)"]
        else:
            terms = [terms] if isinstance(terms, str) else list(terms)
            unknown = [t for t in terms if t not in set(s["term"])]
            if unknown:
                raise ParameterError(f"The 'terms' parameter of {type(self).__name__}.plot must name terms of "
                                     f"the model ({', '.join(map(repr, s['term']))}). Got {unknown[0]!r}.")
            s = s.set_index("term").loc[terms].reset_index()
        if ax is None:
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(6, 0.6 + 0.4 * max(len(s), 1)))
        y = np.arange(len(s))[::-1]
        est = s[self._ratio].to_numpy()
        xerr = None
        if ci:
            xerr = np.vstack([est - s["ci_low"].to_numpy(), s["ci_high"].to_numpy() - est])
        kwargs.setdefault("fmt", "o")
        kwargs.setdefault("color", "C0")
        kwargs.setdefault("capsize", 3)
        ax.errorbar(est, y, xerr=xerr, **kwargs)
        ax.axvline(1.0, color="0.5", lw=1, ls="--")
        ax.set_xscale("log")
        ax.set_yticks(y)
        ax.set_yticklabels(list(s["term"]))
        ax.set_xlabel(f"{self._ratio.replace('_', ' ')} ({self.conf_level_:.0%} CI)" if ci
                      else self._ratio.replace("_", " "))
        return ax
