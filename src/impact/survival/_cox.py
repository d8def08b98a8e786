"""Cox proportional hazards: weights, Efron or Breslow ties, strata, (start, stop] rows, and
cluster-robust variance in O(n p^2), agreeing with R's ``coxph``.

Everything is computed from one sort by (stratum, time) and cumulative sums over the distinct
times: the partial log-likelihood, its score and information, and the score residuals from which
the robust variance ``D'D`` (``D`` = dfbeta residuals summed within clusters) is made. Tied
deaths with Efron's approximation are expanded into one "k-row" per death, so the work is
O(n p^2 + deaths p^2) per Newton step and never O(n^2) or O(times p^2) memory.

R's conventions, checked against ``coxph`` on the Rossi data:

* Efron ties use the mean weight of the tied deaths (``meanwt``), as R does;
* score residuals for tied deaths are ``x_i - mean_k xbar_k`` minus the at-risk terms, with a
  tied death's risk weight ``1 - k/d`` in the k-th term (R's ``coxscore``);
* the robust variance is ``D'D`` with ``D = rowsum(w_i * score_i %*% V, cluster)``.
"""

from __future__ import annotations

import dataclasses
import warnings
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from impact._compat import renamed_parameters
from impact._errors import EstimationError, ImpactWarning, ParameterError
from impact._validation import InstanceOf, validate_params
from impact.survival._base import (
    FIT_COLUMNS,
    SETTINGS,
    TIES,
    ModelData,
    RegressionModel,
)
from impact.survival._partial import (
    PartialLikelihoodFit,
    Prepared,
    Ties,
    cluster_score_sums,
    derivatives,
    distinct_rows,
    newton_fit,
    prepare,
    score_residuals,
)
from impact.survival._zph import CoxZPH, Transform, cox_zph

__all__ = ["CoxPH", "PartialLikelihoodModel"]


# ----------------------------------------------------------------------------------------------
# public estimator
# ----------------------------------------------------------------------------------------------
class PartialLikelihoodModel(RegressionModel):
    """A Cox-type model fitted by the partial likelihood: :class:`CoxPH` and :class:`FineGray`.

    Holds the fit from checked inputs, the fitted attributes, :meth:`dfbeta` and :meth:`zph`; the
    subclasses hold their settings and their own ``fit``.
    """

    _title = "Cox proportional hazards"
    _ratio = "hazard_ratio"
    _model = "a Cox model"

    ties: Ties
    max_iter: int
    tol: float
    loglik_: float
    loglik_null_: float
    strata_: list[str]
    _pl: PartialLikelihoodFit
    _pl_rows: tuple[ModelData, Ties] | None

    def _fit_partial(self, md: ModelData, *, ties: Ties, robust: bool | None, weighted: bool, conf_level: float,
                     cluster_col: str | None, duration_col: str, event_col: str,
                     notes: Sequence[str], tail: Callable[[Prepared], Prepared] | None = None) -> None:
        """Fit the partial likelihood to checked inputs and set every fitted attribute (once).

        ``tail`` adds rows kept at risk after they leave (Fine-Gray) to the prepared rows.
        """
        func = type(self).__name__
        covariates = md.terms
        if not covariates:
            raise ParameterError(f"{func} needs at least one covariate; none given and no other "
                                 "numeric column in the data.")
        p = len(covariates)
        if md.n_events < p + 1:
            raise EstimationError(
                f"Too few events for the Cox model: {md.n_events} event(s) for {p} covariate(s); "
                "at least one more event than covariates is needed (10 per covariate is a common "
                "rule). Use fewer covariates.")
        self._check_not_constant(md)
        n = md.n
        # without clusters, delayed entry or a tail, rows alike in (time, event, weight, stratum,
        # covariates) enter the partial likelihood alike: fit on the distinct rows with their counts
        rep = None
        if md.clusters is None and md.entry is None and tail is None:
            rep = distinct_rows([md.T, md.d, md.w, md.strata_codes, *(md.X[:, j] for j in range(p))])
        if rep is None:
            X = np.asfortranarray(md.X)  # covariates as rows in memory: the layout the core works in
            pp = prepare(md.T, md.d, X, md.w, md.strata_codes, ties, md.entry)
        else:
            first, count = rep
            pp = prepare(md.T[first], md.d[first], np.asfortranarray(md.X[first]), md.w[first] * count,
                         md.strata_codes[first], ties, None, count=count)
        if tail is not None:
            pp = tail(pp)
        fit = newton_fit(pp, int(self.max_iter), float(self.tol), covariates)
        if not fit.converged:
            warnings.warn(f"{func} did not converge in {self.max_iter} iterations; estimates may "
                          "be unreliable (a covariate may perfectly predict the events).",
                          ImpactWarning, stacklevel=5)
        sq = (np.einsum("ij,ij->i", pp.XT, pp.XT) if rep is None
              else np.einsum("ij,ij,j->i", pp.XT, pp.XT, rep[1][pp.order]))
        big = np.abs(fit.beta) * np.sqrt(sq / n) > 25
        if big.any():
            warnings.warn(f"{func}: very large coefficient(s) for "
                          f"{', '.join(covariates[i] for i in np.flatnonzero(big))}: the likelihood "
                          "may be monotone (e.g. no events in one group).", ImpactWarning,
                          stacklevel=5)

        use_robust, auto_robust = self._robust(robust, md, weighted)
        cov_type = "naive"
        cov = fit.naive_cov
        if md.clusters is not None or use_robust:
            if md.clusters is not None:
                S = cluster_score_sums(pp, fit.ev, md.clusters[pp.order], md.n_clusters)
            elif rep is None:
                S = (score_residuals(pp, fit.ev) * pp.w).T
            else:   # a distinct row's residual is each of its rows': count times its square
                c = rep[1][pp.order]
                S = (score_residuals(pp, fit.ev) * (md.w[rep[0]][pp.order] * np.sqrt(c))).T
            cov = self._sandwich(S, fit.naive_cov)
            cov_type = "cluster" if md.clusters is not None else "robust"

        self.params_ = pd.Series(fit.beta, index=covariates, name="coef")
        self.cov_ = pd.DataFrame(cov, index=covariates, columns=covariates)
        self.naive_cov_ = pd.DataFrame(fit.naive_cov, index=covariates, columns=covariates)
        self.cov_type_ = cov_type
        self.loglik_ = fit.loglik
        self.loglik_null_ = fit.loglik0
        self.n_ = n
        self.n_events_ = md.n_events
        self.n_clusters_ = md.n_clusters if md.clusters is not None else n
        self.n_iter_ = fit.n_iter
        self.converged_ = fit.converged
        self.conf_level_ = conf_level
        self.covariates_ = list(covariates)
        self.strata_ = md.strata
        self.duration_col_ = duration_col
        self.event_col_ = event_col
        out = [f"ties: {ties}"]
        if md.default_covariates:
            out.append("covariates: every other numeric column (" + ", ".join(covariates) + ")")
        out.append(self._variance_note(cov_type, cluster_col))
        if auto_robust and md.clusters is None:
            out.append("robust variance because the weights are not whole numbers (as R)")
        self.notes_ = tuple(out) + tuple(notes)
        self._pl_rows = None if rep is None else (md, ties)
        self._pl = fit

    @property
    def partial_likelihood_(self) -> PartialLikelihoodFit:
        """The fitted partial likelihood over every row (what :func:`cox_zph` and :meth:`dfbeta` read).

        A fit made on distinct rows builds it over every row at the estimate on first use.
        """
        rows = getattr(self, "_pl_rows", None)
        if rows is not None:
            md, ties = rows
            fit = self._pl
            pp = prepare(md.T, md.d, np.asfortranarray(md.X), md.w, md.strata_codes, ties, None)
            self._pl = dataclasses.replace(fit, pp=pp, ev=derivatives(pp, fit.beta))
            self._pl_rows = None
        try:
            return self._pl
        except AttributeError:
            raise AttributeError("partial_likelihood_") from None

    @partial_likelihood_.setter
    def partial_likelihood_(self, fit: PartialLikelihoodFit) -> None:
        self._pl = fit
        self._pl_rows = None

    # ------------------------------------------------------------------------------------------
    def dfbeta(self) -> np.ndarray:
        """Weighted dfbeta residuals ``w_i * score_i @ naive_cov`` (n_rows, p), input row order.

        R's ``residuals(fit, type="dfbeta", weighted=TRUE)``; summed within clusters, their
        cross-product is the robust variance.
        """
        self._check_fitted()
        fit = self.partial_likelihood_
        L = (score_residuals(fit.pp, fit.ev) * fit.pp.w).T
        out = np.empty_like(L)
        out[fit.pp.order] = L @ fit.naive_cov
        return out

    def zph(self, transform: Transform = "km") -> CoxZPH:
        """Proportional-hazards check of this fit: :func:`impact.survival.cox_zph` (R's ``cox.zph``).

        Returns a :class:`impact.survival.CoxZPH` with the test table, the scaled Schoenfeld
        residuals and ``.plot(ax=None, term=...)``.
        """
        return cox_zph(self, transform)

    def _repr_settings(self) -> str:
        return f"ties='{self.ties}'"

    def _html_head(self) -> str:
        return (f"<b>{self._title}</b> (ties: {self.ties}; variance: {self.cov_type_}); n = {self.n_}, "
                f"events = {self.n_events_}" + (f", strata: {', '.join(self.strata_)}" if self.strata_ else ""))


class CoxPH(PartialLikelihoodModel):
    """Cox proportional hazards with case weights, Efron ties, strata and cluster-robust SEs.

    Agrees with R's ``coxph(Surv(time, event) ~ x + strata(s), weights=w, cluster=id,
    ties="efron")``. The robust (sandwich) variance is computed from score residuals exactly
    as R's ``residuals(fit, "dfbeta")`` with Efron ties, in O(n p^2): one sort and cumulative
    sums, so a million rows take seconds.

    Parameters
    ----------
    ties : {"efron", "breslow"}, default "efron"
        Handling of tied event times (R's default is Efron).
    robust : bool or None, default None
        Robust (sandwich) variance without ``cluster_col`` (each row its own cluster, R's
        ``robust=TRUE``). ``None`` follows R: robust when the weights are not whole numbers
        (matching or IPW weights), model-based otherwise. With ``cluster_col`` the variance is
        always cluster-robust.
    conf_level : float, default 0.95
        Confidence level of the intervals in :meth:`summary`.
    max_iter : int, default 50
        Newton-Raphson iterations (with step halving).
    tol : float, default 1e-10
        Convergence: largest coefficient step below ``tol * (1 + max|beta|)``.

    Attributes
    ----------
    params_ : pandas.Series
        Log hazard ratios. A categorical covariate ``region`` appears as one term per level but
        the first, ``region[north]`` (treatment contrasts, as R's ``factor(region)``).
    cov_ : pandas.DataFrame
        Variance of ``params_``: robust when clustered or ``robust=True``, else model-based.
    naive_cov_ : pandas.DataFrame
        Model-based variance (inverse information).
    cov_type_ : str
        ``"cluster"``, ``"robust"`` or ``"naive"``.
    loglik_, loglik_null_ : float
        Partial log-likelihood at the estimate and at zero.
    n_, n_events_, n_clusters_, n_iter_ : int
    partial_likelihood_ : PartialLikelihoodFit
        The fitted partial likelihood (what :func:`cox_zph` and :meth:`dfbeta` read).
    notes_ : tuple of str

    Examples
    --------
    >>> from lifelines.datasets import load_rossi
    >>> from impact.survival import CoxPH
    >>> rossi = load_rossi()
    >>> cox = CoxPH().fit(rossi, duration="week", event="arrest")
    >>> cox.summary().round(3).loc[:2, ["term", "estimate", "se", "hazard_ratio"]]
       term  estimate     se  hazard_ratio
    0   fin    -0.379  0.191         0.684
    1   age    -0.057  0.022         0.944
    2  race     0.314  0.308         1.369
    """

    __impact_params__: ClassVar[dict[str, list[Any]]] = {"ties": [TIES], **SETTINGS}

    def __init__(self, ties: Ties = "efron", robust: bool | None = None, conf_level: float = 0.95,
                 max_iter: int = 50, tol: float = 1e-10) -> None:
        self.ties = ties
        self.robust = robust
        self.conf_level = conf_level
        self.max_iter = max_iter
        self.tol = tol

    # ------------------------------------------------------------------------------------------
    @renamed_parameters({"df": "data", "duration_col": "duration", "event_col": "event", "weights_col": "weights",
                         "cluster_col": "cluster", "entry_col": "entry"})
    @validate_params({"data": [InstanceOf(pd.DataFrame, "a pandas DataFrame")], **FIT_COLUMNS}, name="CoxPH.fit")
    def fit(self, data: pd.DataFrame, duration: str, event: str,
            covariates: Sequence[str] | None = None, weights: str | None = None,
            cluster: str | None = None, strata: str | Sequence[str] | None = None,
            entry: str | None = None) -> CoxPH:
        """Fit the model.

        Parameters
        ----------
        data : pandas.DataFrame
            (``df`` is its old name, still accepted with a FutureWarning.)
        duration : str
            Follow-up time (> 0); with ``entry``, the end of each (entry, duration] row.
        event : str
            1/True event, 0/False censored.
        covariates : sequence of str, optional
            Numeric, boolean or categorical (string, category) columns; a categorical one enters
            as dummies with its first level (sorted, or the category order) as the reference.
            Default: every other numeric (or boolean) column.
        weights : str, optional
            Case weights (>= 0, not all zero).
        cluster : str, optional
            Cluster (matched set) for cluster-robust variance, as R's ``cluster=``.
        strata : str or sequence of str, optional
            Stratify the baseline hazard (R's ``strata()``).
        entry : str, optional
            Start of each row's risk interval for (start, stop] data (delayed entry; R's
            ``Surv(start, stop, event)``). Default: every row at risk from 0.

        Returns
        -------
        self
        """
        conf = self._check_settings()
        md = self._data(data, duration, event, covariates, weights, cluster, entry, strata)
        self._fit_partial(md, ties=self.ties, robust=self.robust, weighted=weights is not None,
                          conf_level=conf, cluster_col=cluster, duration_col=duration,
                          event_col=event, notes=())
        return self

