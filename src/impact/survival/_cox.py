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

import warnings
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from impact._validation import check_columns, check_option
from impact._errors import DataError, EstimationError, ImpactWarning, ParameterError, data_error
from impact._validation import (check_cluster, check_conf_level, check_duration, check_event, check_weights)
from impact.data import covariate_matrix
from impact.survival._common import z_value
from impact.survival._partial import (PartialLikelihoodFit, Ties, newton_fit, prepare,
                                      score_residuals, cluster_score_sums)

__all__ = ["CoxPH"]



# ----------------------------------------------------------------------------------------------
# public estimator
# ----------------------------------------------------------------------------------------------
class CoxPH:
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
        Log hazard ratios.
    cov_ : pandas.DataFrame
        Variance of ``params_``: robust when clustered or ``robust=True``, else model-based.
    naive_cov_ : pandas.DataFrame
        Model-based variance (inverse information).
    cov_type_ : str
        ``"cluster"``, ``"robust"`` or ``"naive"``.
    loglik_, loglik_null_ : float
        Partial log-likelihood at the estimate and at zero.
    n_, n_events_, n_clusters_, n_iter_ : int
    notes_ : tuple of str

    Examples
    --------
    >>> from lifelines.datasets import load_rossi
    >>> from impact.survival import CoxPH
    >>> rossi = load_rossi()
    >>> cox = CoxPH().fit(rossi, duration_col="week", event_col="arrest")
    >>> cox.summary().round(3).loc[:2, ["term", "estimate", "se", "hazard_ratio"]]
       term  estimate     se  hazard_ratio
    0   fin    -0.379  0.191         0.684
    1   age    -0.057  0.022         0.944
    2  race     0.314  0.308         1.369
    """

    def __init__(self, ties: Ties = "efron", robust: bool | None = None, conf_level: float = 0.95,
                 max_iter: int = 50, tol: float = 1e-10) -> None:
        self.ties = ties
        self.robust = robust
        self.conf_level = conf_level
        self.max_iter = max_iter
        self.tol = tol

    # ------------------------------------------------------------------------------------------
    def fit(self, df: pd.DataFrame, duration_col: str, event_col: str,
            covariates: Sequence[str] | None = None, weights_col: str | None = None,
            cluster_col: str | None = None, strata: str | Sequence[str] | None = None,
            entry_col: str | None = None) -> "CoxPH":
        """Fit the model.

        Parameters
        ----------
        df : pandas.DataFrame
        duration_col : str
            Follow-up time (> 0); with ``entry_col``, the end of each (entry, duration] row.
        event_col : str
            1/True event, 0/False censored.
        covariates : sequence of str, optional
            Default: every other numeric (or boolean) column.
        weights_col : str, optional
            Case weights (>= 0, not all zero).
        cluster_col : str, optional
            Cluster (matched set) for cluster-robust variance, as R's ``cluster=``.
        strata : str or sequence of str, optional
            Stratify the baseline hazard (R's ``strata()``).
        entry_col : str, optional
            Start of each row's risk interval for (start, stop] data (delayed entry; R's
            ``Surv(start, stop, event)``). Default: every row at risk from 0.

        Returns
        -------
        self
        """
        func = "CoxPH"
        check_option("ties", self.ties, ("efron", "breslow"), func)
        conf = check_conf_level(self.conf_level, func)
        if self.robust is not None and not isinstance(self.robust, (bool, np.bool_)):
            raise ParameterError(f"The 'robust' parameter of {func} must be True, False or None. "
                                 f"Got {self.robust!r}.")
        strata_cols = [] if strata is None else ([strata] if isinstance(strata, str) else list(strata))
        named = [duration_col, event_col] + [c for c in (weights_col, cluster_col, entry_col) if c]
        check_columns(df, named + strata_cols)
        covariates, X, default_cov = covariate_matrix(df, covariates, set(named) | set(strata_cols), func)
        if not covariates:
            raise ParameterError("CoxPH needs at least one covariate; none given and no other "
                                 "numeric column in the data.")
        T = check_duration(df[duration_col].to_numpy(), duration_col)
        n = T.size
        d = check_event(df[event_col].to_numpy(), n, event_col)
        w = check_weights(None if weights_col is None else df[weights_col].to_numpy(), n,
                          weights_col or "weights")
        X = np.asfortranarray(X)  # covariates as rows in memory: the layout the core works in
        entry = None
        if entry_col is not None:
            entry = df[entry_col].to_numpy(dtype=np.float64)
            bad = ~np.isfinite(entry) | (entry < 0) | (entry >= T)
            if bad.any():
                raise data_error(entry_col, f"entry times must be >= 0 and < '{duration_col}'", bad)
        if strata_cols:
            sc = df[strata_cols]
            bad = sc.isna().any(axis=1).to_numpy()
            if bad.any():
                raise data_error(strata_cols[0], "strata must not be missing", bad)
            s_codes = sc.groupby(strata_cols, sort=True).ngroup().to_numpy().astype(np.int64)
        else:
            s_codes = np.zeros(n, dtype=np.int64)
        clusters = None
        n_clusters = n
        if cluster_col is not None:
            clusters, n_clusters = check_cluster(df[cluster_col].to_numpy(), n, cluster_col)
        keep = w > 0
        n_events = int(d[keep].sum())
        p = len(covariates)
        if n_events == 0:
            raise EstimationError(f"Column '{event_col}': there are no events (all rows are "
                                  "censored); a Cox model cannot be estimated.")
        if n_events < p + 1:
            raise EstimationError(
                f"Too few events for the Cox model: {n_events} event(s) for {p} covariate(s); "
                "at least one more event than covariates is needed (10 per covariate is a common "
                "rule). Use fewer covariates.")
        Xk = X if keep.all() else X[keep]
        const = [covariates[c] for c in np.flatnonzero(Xk.max(axis=0) == Xk.min(axis=0))]
        if const:
            raise DataError(f"Covariate(s) {', '.join(repr(c) for c in const)} are constant; "
                            "a constant has no hazard ratio. Drop them from 'covariates'.",
                            column=const[0], rule="not constant")

        pp = prepare(T, d, X, w, s_codes, self.ties, entry)
        fit = newton_fit(pp, self.max_iter, self.tol, covariates)
        if not fit.converged:
            warnings.warn(f"CoxPH did not converge in {self.max_iter} iterations; estimates may "
                          "be unreliable (a covariate may perfectly predict the events).",
                          ImpactWarning, stacklevel=2)
        big = np.abs(fit.beta) * np.sqrt(np.einsum("ij,ij->i", pp.XT, pp.XT) / n) > 25
        if big.any():
            warnings.warn("CoxPH: very large coefficient(s) for "
                          f"{', '.join(covariates[i] for i in np.flatnonzero(big))}: the likelihood "
                          "may be monotone (e.g. no events in one group).", ImpactWarning,
                          stacklevel=2)

        cov_type = "naive"
        cov = fit.naive_cov
        robust = self.robust
        auto_robust = robust is None and weights_col is not None and bool(np.any(w != np.floor(w)))
        if robust is None:
            robust = auto_robust
        if clusters is not None or robust:
            if clusters is not None:
                S = cluster_score_sums(pp, fit.ev, clusters[pp.order], n_clusters)
            else:
                S = (score_residuals(pp, fit.ev) * pp.w).T
            D = S @ fit.naive_cov
            cov = D.T @ D
            cov_type = "cluster" if clusters is not None else "robust"

        self.params_ = pd.Series(fit.beta, index=covariates, name="coef")
        self.cov_ = pd.DataFrame(cov, index=covariates, columns=covariates)
        self.naive_cov_ = pd.DataFrame(fit.naive_cov, index=covariates, columns=covariates)
        self.cov_type_ = cov_type
        self.loglik_ = fit.loglik
        self.loglik_null_ = fit.loglik0
        self.n_ = n
        self.n_events_ = n_events
        self.n_clusters_ = n_clusters if clusters is not None else n
        self.n_iter_ = fit.n_iter
        self.converged_ = fit.converged
        self.conf_level_ = conf
        self.covariates_ = list(covariates)
        self.strata_ = strata_cols
        self.duration_col_ = duration_col
        self.event_col_ = event_col
        notes = [f"ties: {self.ties}"]
        if default_cov:
            notes.append("covariates: every other numeric column (" + ", ".join(covariates) + ")")
        notes.append({"cluster": f"cluster-robust variance clustered on '{cluster_col}'",
                      "robust": "robust (sandwich) variance, each row its own cluster",
                      "naive": "model-based variance (inverse information)"}[cov_type])
        if auto_robust and clusters is None:
            notes.append("robust variance because the weights are not whole numbers (as R)")
        self.notes_ = tuple(notes)
        self.partial_likelihood_: PartialLikelihoodFit = fit
        return self

    # ------------------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "params_"):
            raise ParameterError("This CoxPH instance is not fitted yet. Call fit(df, ...) first.")

    def summary(self) -> pd.DataFrame:
        """Tidy table: ``term, estimate, se, hazard_ratio, ci_low, ci_high, p_value``.

        ``estimate`` is the log hazard ratio; ``ci_low``/``ci_high`` are on the hazard-ratio
        scale (Wald, ``conf_level``); ``se`` is from ``cov_`` (``cov_type_``).
        """
        self._check_fitted()
        b = self.params_.to_numpy()
        se = np.sqrt(np.diag(self.cov_.to_numpy()))
        z = z_value(self.conf_level_)
        out = pd.DataFrame({
            "term": self.params_.index, "estimate": b, "se": se, "hazard_ratio": np.exp(b),
            "ci_low": np.exp(b - z * se), "ci_high": np.exp(b + z * se),
            "p_value": 2 * stats.norm.sf(np.abs(b / se)),
        })
        out.attrs["conf_level"] = self.conf_level_
        out.attrs["cov_type"] = self.cov_type_
        return out

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

    def zph(self, transform: Literal["km", "identity", "rank"] = "km") -> Any:
        """Proportional-hazards check of this fit: :func:`impact.survival.cox_zph` (R's ``cox.zph``).

        Returns a :class:`impact.survival.CoxZPH` with the test table, the scaled Schoenfeld
        residuals and ``.plot(term, ax=None)``.
        """
        from impact.survival._zph import cox_zph

        return cox_zph(self, transform)

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return f"CoxPH(ties='{self.ties}', robust={self.robust})"
        return (f"CoxPH(ties='{self.ties}', n={self.n_}, events={self.n_events_}, "
                f"covariates={len(self.params_)}, cov_type='{self.cov_type_}')")

    def _repr_html_(self) -> str:
        self._check_fitted()
        head = (f"<p><b>Cox proportional hazards</b> (ties: {self.ties}; variance: "
                f"{self.cov_type_}); n = {self.n_}, events = {self.n_events_}"
                + (f", strata: {', '.join(self.strata_)}" if self.strata_ else "") + "</p>")
        return head + self.summary().to_html(index=False)
