"""Fine-Gray subdistribution hazards, as R's ``finegray()`` followed by a weighted ``coxph``.

A subject with a competing exit at ``T_i`` stays in the risk set of the cause of interest after
``T_i`` with weight ``G(t-) / G(T_i-)``, ``G`` the Kaplan-Meier of censoring (unweighted, and a
censoring at the time of an exit counted after it, as R does). The data are expanded into
(start, stop] rows on the intervals over which that weight is constant and contain an exit of
interest, and a Cox model with delayed entry is fitted, with the variance clustered on the
subject (or on the matched set).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from impact._compat import renamed_parameters
from impact._errors import DataError
from impact._validation import (
    InstanceOf,
    check_columns,
    check_duration,
    validate_params,
)
from impact.data import covariate_matrix
from impact.survival._aj import cause_codes
from impact.survival._base import FIT_COLUMNS, SETTINGS, TIES
from impact.survival._common import CAUSES, CONF_LEVEL
from impact.survival._cox import PartialLikelihoodModel
from impact.survival._partial import Prepared, Tail, Ties, cluster_score_sums

__all__ = ["FineGray", "fine_gray"]


def _censoring_km_left(T: np.ndarray, censored: np.ndarray, at: np.ndarray) -> np.ndarray:
    """G(t-) at ``at``: KM of censoring using censorings strictly before t."""
    times, inv = np.unique(T, return_inverse=True)
    K = times.size
    n_exit = np.bincount(inv, minlength=K).astype(float)
    n_risk = np.cumsum(n_exit[::-1])[::-1]
    n_cens = np.bincount(inv, weights=censored.astype(float), minlength=K)
    # at a time with exits and censorings, the censorings come after the exits (R shifts exit
    # times by -0.2 of a step), so the exits have already left the censoring risk set
    left = n_risk - (n_exit - n_cens)
    G = np.cumprod(1.0 - np.divide(n_cens, left, out=np.zeros(K), where=left > 0))
    k = np.searchsorted(times, at, side="left") - 1  # last time strictly before t
    return np.where(k >= 0, G[np.maximum(k, 0)], 1.0)


def _expanded(base: pd.DataFrame, T: np.ndarray, comp: np.ndarray, GT: np.ndarray, u: np.ndarray,
              gu: np.ndarray, new_block: np.ndarray, b_end: np.ndarray, first_b: np.ndarray,
              weights_col: str | None) -> pd.DataFrame:
    """R's ``finegray`` expansion: (start, stop] rows over the blocks of constant G after each
    competing exit (the reference the scan is checked against)."""
    b_g = gu[new_block]
    b_prev_end = np.r_[0.0, b_end[:-1]]  # start of block = previous block's end
    nb = b_end.size
    base = base.assign(_fgstart=0.0, _fgwt=1.0)
    counts = nb - first_b
    rows = np.repeat(comp, counts)
    blocks = np.concatenate([np.arange(f, nb) for f in first_b]) if counts.sum() else np.zeros(0, int)
    Ti = T[rows]
    ext = base.iloc[rows].copy()
    ext["_fgstart"] = np.maximum(b_prev_end[blocks], Ti)
    ext["_fgstop"] = b_end[blocks]
    ext["_fgstatus"] = 0
    ext["_fgwt"] = b_g[blocks] / np.repeat(GT, counts)
    fg = pd.concat([base, ext], ignore_index=True)
    if weights_col is not None:
        fg["_fgwt"] = fg["_fgwt"] * fg[weights_col].to_numpy(dtype=float)
    return fg


_FIT: dict[str, list[Any]] = {"data": [InstanceOf(pd.DataFrame, "a pandas DataFrame")], "duration": ["column"],
        "event": ["column"], **{k: FIT_COLUMNS[k] for k in ("covariates", "weights", "cluster")},
        "causes": [CAUSES, None]}


class FineGray(PartialLikelihoodModel):
    """Fine-Gray model for the subdistribution hazard of one cause (R's ``finegray`` + ``coxph``).

    A Cox model (the partial-likelihood engine of :class:`CoxPH`) fitted on the Fine-Gray expansion of the data: competing exits stay in the
    risk set with weight ``G(t-) / G(T_i-)``, the variance clustered on the person (or on the matched
    set). ``exp(estimate)`` is the subdistribution hazard ratio. :func:`fine_gray` is the one-call
    form.

    Parameters
    ----------
    ties : {"efron", "breslow"}, default "efron"
    conf_level : float, default 0.95
    max_iter : int, default 50
    tol : float, default 1e-10
        As for :class:`CoxPH` (the variance is always cluster-robust, so there is no ``robust``).

    Attributes
    ----------
    params_, cov_, naive_cov_, cov_type_, loglik_, n_events_, n_iter_, notes_
        As for :class:`CoxPH`; ``n_`` is the number of expanded rows.
    cause_ : object
        The cause of interest. ``duration_col_`` and ``event_col_`` are the input's duration and
        cause columns.
    n_persons_, n_extension_rows_ : int
        Rows of the input, and rows added for the competing exits.
    """

    __impact_params__: ClassVar[dict[str, list[Any]]] = {
        "ties": [TIES], **{k: v for k, v in SETTINGS.items() if k != "robust"}}
    _title = "Fine-Gray subdistribution hazards"

    cause_: Any
    n_persons_: int
    n_extension_rows_: int

    def __init__(self, ties: Ties = "efron", conf_level: float = 0.95, max_iter: int = 50,
                 tol: float = 1e-10) -> None:
        self.ties = ties
        self.conf_level = conf_level
        self.max_iter = max_iter
        self.tol = tol

    @renamed_parameters({"df": "data", "duration_col": "duration", "cause_col": "event", "weights_col": "weights",
                         "cluster_col": "cluster"})
    @validate_params(_FIT, name="FineGray.fit")
    def fit(self, data: pd.DataFrame, duration: str, event: str,
            cause: Any, covariates: Sequence[str] | None = None, weights: str | None = None,
            cluster: str | None = None, causes: Sequence[Any] | None = None) -> FineGray:
        """Fit the weighted subdistribution-hazard model (R's ``finegray`` + ``coxph``, without expanding).

        Parameters are those of :func:`fine_gray`. Returns ``self``.
        """
        return self._fit(data, duration, event, cause, covariates, weights, cluster,
                         causes, expand=False)

    def _fit(self, data: pd.DataFrame, duration_col: str, cause_col: str, cause: Any,
             covariates: Sequence[str] | None, weights_col: str | None, cluster_col: str | None,
             causes: Sequence[Any] | None, expand: bool) -> FineGray:
        """The fit; ``expand=True`` is the old way (R's expanded data, a Cox model with delayed
        entry), kept as the reference the scan is tested and timed against."""
        conf = self._check_settings()
        cols = [duration_col, cause_col] + [c for c in (weights_col, cluster_col) if c]
        check_columns(data, cols)
        T = check_duration(data[duration_col].to_numpy(), duration_col)
        n = T.size
        code, declared = cause_codes(data[cause_col].to_numpy(), n, causes)
        wanted = cause if isinstance(cause, (list, tuple, set)) else [cause]
        sel = [i + 1 for i, c in enumerate(declared) if any(c == x or str(c) == str(x) for x in wanted)]
        if len(sel) != len(wanted):
            raise DataError(f"Column '{cause_col}': cause {cause!r} is not among the observed causes "
                            f"{list(declared)}.", column=cause_col, rule="cause must occur")
        is_event = np.isin(code, sel)
        is_comp = (code > 0) & ~is_event
        if not is_event.any():
            raise DataError(f"Column '{cause_col}': no exits of cause {cause!r}; a Fine-Gray model "
                            "cannot be estimated.", column=cause_col, rule="events")
        # the covariates checked on the input rows (so errors name the input's positions)
        named = None if covariates is None else ([covariates] if isinstance(covariates, str) else list(covariates))
        terms, _, defaulted = covariate_matrix(data, named, cols, "FineGray")
        covs = terms if named is None else named

        # event-of-interest times and G(u-) there; blocks of constant G(u-) (R's expansion)
        censored = code == 0
        u = np.unique(T[is_event])
        gu = _censoring_km_left(T, censored, u)
        new_block = np.r_[True, gu[1:] != gu[:-1]]
        b_end = u[np.r_[np.flatnonzero(new_block)[1:] - 1, u.size - 1]]
        comp = np.flatnonzero(is_comp)
        GT = _censoring_km_left(T, censored, T[comp])
        first_b = np.searchsorted(b_end, T[comp], side="right")  # first block ending after T_i
        n_ext = int(np.sum(b_end.size - first_b))

        base = data[covs + [c for c in (weights_col, cluster_col) if c]].copy()
        base["_fg_row"] = np.arange(n)
        base["_fgstop"] = T
        base["_fgstatus"] = is_event.astype(int)
        cluster = cluster_col if cluster_col is not None else "_fg_row"
        notes = [(f"Fine-Gray for cause {cause!r}: competing exits kept at risk with weight G(t-)/G(T-) "
                 "(censoring Kaplan-Meier, unweighted, as R finegray)")]
        if defaulted:
            notes.append("covariates: every other numeric column (" + ", ".join(covs) + ")")
        self.cause_ = cause
        self.n_persons_ = n
        self.n_extension_rows_ = n_ext
        if expand:
            fg = _expanded(base, T, comp, GT, u, gu, new_block, b_end, first_b, weights_col)
            md = self._data(fg, "_fgstop", "_fgstatus", covs, "_fgwt", cluster, "_fgstart")
            notes.append(f"{n_ext} extension rows added to {n} persons")
            self._fit_partial(md, ties=self.ties, robust=None, weighted=True, conf_level=conf,
                              cluster_col=cluster, duration_col=duration_col, event_col=cause_col,
                              notes=notes)
            return self
        md = self._data(base, "_fgstop", "_fgstatus", covs, weights_col, cluster)
        wt = md.w[comp] / GT

        def tail(pp: Prepared) -> Prepared:
            # the competing exits stay at risk after T_i with weight w_i G(u-) / G(T_i-)
            pos = np.empty(n, dtype=np.int64)
            pos[pp.order] = np.arange(n)
            rows = pos[comp]
            gfac = _censoring_km_left(T, censored, pp.gtime)
            return dataclasses.replace(pp, tail=Tail(rows=rows, wt=wt, grp=pp.grp[rows], gfac=gfac))

        notes.append(f"risk sets by a forward-backward scan (no expansion; R's expanded data would "
                     f"have {n + n_ext} rows)")
        self._fit_partial(md, ties=self.ties, robust=None, weighted=True, conf_level=conf,
                          cluster_col=cluster, duration_col=duration_col, event_col=cause_col,
                          notes=notes, tail=tail)
        # n_ stays the size of R's expanded data, as before
        self.n_ = n + n_ext
        return self

    def dfbeta(self) -> np.ndarray:
        """Weighted dfbeta residuals per person ``(n_persons, p)``, input row order.

        Each person's residuals summed over the rows R's expanded data would hold for them
        (``residuals(fit, type="dfbeta", collapse=id)``); summed within clusters, their
        cross-product is the robust variance.
        """
        self._check_fitted()
        fit = self.partial_likelihood_
        n = fit.pp.order.size
        S = cluster_score_sums(fit.pp, fit.ev, fit.pp.order, n)
        return S @ fit.naive_cov

    def _repr_fitted(self) -> str:
        return f", cause={self.cause_!r}"


@renamed_parameters({"df": "data", "duration_col": "duration", "cause_col": "event", "weights_col": "weights",
                     "cluster_col": "cluster"})
@validate_params({**_FIT, "ties": [TIES], "conf_level": [CONF_LEVEL]})
def fine_gray(data: pd.DataFrame, duration: str, event: str, cause: Any,
              covariates: Sequence[str] | None = None, weights: str | None = None,
              cluster: str | None = None, causes: Sequence[Any] | None = None,
              ties: Ties = "efron", conf_level: float = 0.95) -> FineGray:
    """Fine-Gray model for the subdistribution hazard of ``cause``.

    Equivalent to R's ``fg <- finegray(Surv(time, factor(cause)) ~ ., data, etype=cause,
    weights=w)`` and ``coxph(Surv(fgstart, fgstop, fgstatus) ~ x, weights=fgwt, data=fg,
    cluster=id)``. ``exp(estimate)`` is the subdistribution hazard ratio.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person (``df`` is its old name, still accepted with a FutureWarning).
    duration : str
        Time to the first exit of any kind or to censoring (> 0).
    event : str
        Exit type: 0/None/"censored" for censoring, else the cause.
    cause : scalar or list
        The cause of interest (a list is pooled, e.g. ``["work", "studies"]``).
    covariates : sequence of str, optional
        Numeric, boolean or categorical columns (as for :class:`CoxPH`). Default: every other
        numeric column.
    weights : str, optional
        Case weights (matching or IPW); multiplied into the Fine-Gray weights.
    cluster : str, optional
        Matched set for the robust variance; default each person is a cluster (R's
        ``cluster=id`` on the expanded data).
    causes : sequence, optional
        Declared causes (undeclared codes raise).
    ties, conf_level
        As for :class:`CoxPH`.

    Returns
    -------
    FineGray
        A Cox model fitted on the expanded data (the attributes of :class:`CoxPH`); ``summary()`` gives subdistribution hazard
        ratios. ``n_`` is the number of expanded rows; ``notes_`` records the construction.

    Examples
    --------
    >>> import numpy as np
    >>> from lifelines.datasets import load_rossi
    >>> from impact.survival import fine_gray
    >>> rossi = load_rossi()
    >>> rossi["exit"] = np.where(rossi["arrest"] == 1, np.where(rossi["prio"] > 3, "a", "b"), "censored")
    >>> fg = fine_gray(rossi, "week", "exit", "a", covariates=["fin", "age"])
    >>> fg.summary()[["term", "hazard_ratio"]].round(3)
      term  hazard_ratio
    0  fin         0.711
    1  age         0.858
    """
    return FineGray(ties=ties, conf_level=conf_level).fit(
        data, duration, event, cause, covariates=covariates, weights=weights,
        cluster=cluster, causes=causes)
