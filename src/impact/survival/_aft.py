"""Weibull and log-normal accelerated failure time (AFT) models, agreeing with R's ``survreg``.

The model is ``log T = x'beta + sigma * W`` with ``W`` standard extreme-value (Weibull) or standard
normal (log-normal). ``exp(beta_j)`` is a *time ratio*: a time ratio of 0.8 for a programme means
20% shorter expected (and median, and every quantile) time to the event, other covariates equal.

The parameters ``(beta, log sigma)`` maximise the weighted log-likelihood (R's case weights) by
Newton-Raphson with analytic first and second derivatives and step halving. With
``z_i = (log t_i - x_i'beta) / sigma``, a row's contribution is ``delta_i (log f0(z_i) - log sigma)
+ (1 - delta_i) log S0(z_i)``; with ``g = dl/dz`` and ``h = dg/dz``::

    dl/dbeta  = -g/sigma x                 dl/dlog(sigma) = -g z - delta
    d2l/dbeta2 = h/sigma^2 x x'            d2l/dbeta dlog(sigma) = (h z + g)/sigma x
    d2l/dlog(sigma)^2 = h z^2 + g z

The model-based variance is the inverse of the observed information (R's ``naive.var``); the robust
variance is ``D'D`` with ``D`` the weighted score residuals summed within clusters times the
model-based variance (R's ``residuals(fit, "dfbeta", collapse=cluster, weighted=TRUE)``), which is
what ``survreg(..., cluster=)`` and ``robust=TRUE`` report. Both include ``Log(scale)``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd
from scipy import linalg
from scipy.special import log_ndtr

from impact._compat import renamed_parameters
from impact._errors import EstimationError, ImpactWarning
from impact._validation import InstanceOf, Options, validate_params
from impact.survival._base import FIT_COLUMNS, SETTINGS, RegressionModel
from impact.survival._partial import distinct_rows

__all__ = ["AFT"]

Dist = Literal["weibull", "lognormal"]
_LOG_SQRT_2PI = 0.5 * np.log(2.0 * np.pi)


def _row_terms(z: np.ndarray, d: np.ndarray, dist: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-row ``log f0`` or ``log S0`` at ``z``, ``g = dl/dz`` and ``h = d2l/dz2``."""
    if dist == "weibull":
        ez = np.exp(np.minimum(z, 700.0))
        ll = d * z - ez
        g = d - ez
        h = -ez
        return ll, g, h
    # log-normal: standard normal on the log scale
    logsf = log_ndtr(-z)
    lam = np.exp(-0.5 * z * z - _LOG_SQRT_2PI - logsf)  # normal hazard phi(z) / (1 - Phi(z))
    ev = d > 0
    ll = np.where(ev, -0.5 * z * z - _LOG_SQRT_2PI, logsf)
    g = np.where(ev, -z, -lam)
    h = np.where(ev, -1.0, -lam * (lam - z))
    return ll, g, h


class _Eval:
    __slots__ = ("g", "hess", "loglik", "score", "z")

    def __init__(self, theta: np.ndarray, X: np.ndarray, y: np.ndarray, d: np.ndarray,
                 w: np.ndarray, dist: str, need_hess: bool = True) -> None:
        p = X.shape[1]
        beta, logs = theta[:p], theta[p]
        sigma = np.exp(logs)
        z = (y - X @ beta) / sigma
        ll, g, h = _row_terms(z, d, dist)
        self.z = z
        self.g = g
        self.loglik = float(np.dot(w, ll - d * logs))
        self.score = np.empty(p + 1)
        wg = w * g
        self.score[:p] = -(X.T @ wg) / sigma
        self.score[p] = -np.dot(wg, z) - np.dot(w, d)
        if need_hess:
            H = np.empty((p + 1, p + 1))
            H[:p, :p] = (X.T * (w * h)) @ X / sigma**2
            H[:p, p] = H[p, :p] = X.T @ (w * (h * z + g)) / sigma
            H[p, p] = np.dot(w, h * z * z + g * z)
            self.hess = H


class AFT(RegressionModel):
    """Weibull or log-normal accelerated failure time model, reported as time ratios.

    Agrees with R's ``survreg(Surv(time, event) ~ x, dist=, weights=w, cluster=id)``:
    coefficients, ``Log(scale)``, the model-based and the (cluster-)robust variance.

    Parameters
    ----------
    dist : {"weibull", "lognormal"}, default "weibull"
        Distribution of the event time (R's ``dist=``).
    robust : bool or None, default None
        Robust (sandwich) variance without ``cluster_col`` (each row its own cluster, R's
        ``robust=TRUE``). ``None``: robust when the weights are not whole numbers (matching or IPW
        weights), as :class:`CoxPH` does; R's ``survreg`` stays model-based there unless asked.
        With ``cluster_col`` the variance is always cluster-robust.
    conf_level : float, default 0.95
        Confidence level of the intervals in :meth:`summary`.
    max_iter : int, default 100
        Newton-Raphson iterations (with step halving).
    tol : float, default 1e-10
        Convergence: largest parameter step below ``tol * (1 + max|theta|)``.

    Attributes
    ----------
    params_ : pandas.Series
        ``(Intercept)`` and the covariates' coefficients: log time ratios.
    cov_, naive_cov_ : pandas.DataFrame
        Variance of ``params_`` (``cov_type_``) and the model-based variance.
    cov_full_, naive_cov_full_ : pandas.DataFrame
        The same with ``Log(scale)`` as last row and column (R's ``vcov(fit)``).
    scale_, log_scale_, log_scale_se_ : float
        R's ``fit$scale``, its log and the standard error of the log (from ``cov_full_``).
    cov_type_ : str
        ``"cluster"``, ``"robust"`` or ``"naive"``.
    loglik_ : float
        Log-likelihood on the time scale (R's ``fit$loglik[2]``).
    n_, n_events_, n_clusters_, n_iter_ : int
    notes_ : tuple of str

    See Also
    --------
    CoxPH : hazard ratios instead of time ratios.

    Notes
    -----
    A time ratio ``exp(b)`` multiplies every quantile of the time to the event; ``1 - exp(b)`` is
    "X% shorter expected time". The Weibull AFT is also a proportional-hazards model with hazard
    ratio ``exp(-b / scale)``.

    Examples
    --------
    >>> from lifelines.datasets import load_rossi
    >>> from impact.survival import AFT
    >>> rossi = load_rossi()
    >>> aft = AFT(dist="weibull").fit(rossi, duration="week", event="arrest")
    >>> aft.summary().round(3).loc[:2, ["term", "estimate", "se", "time_ratio"]]
              term  estimate     se  time_ratio
    0  (Intercept)     3.990  0.419      54.062
    1          fin     0.272  0.138       1.313
    2          age     0.041  0.016       1.042
    >>> round(aft.scale_, 4)
    0.7124
    """

    __impact_params__: ClassVar[dict[str, list[Any]]] = {"dist": [Options(["weibull", "lognormal"])], **SETTINGS}
    _title = "Accelerated failure time"
    _ratio = "time_ratio"
    _model = "an AFT model"

    cov_full_: pd.DataFrame
    naive_cov_full_: pd.DataFrame
    log_scale_: float
    scale_: float
    log_scale_se_: float
    loglik_: float

    def __init__(self, dist: Dist = "weibull", robust: bool | None = None, conf_level: float = 0.95,
                 max_iter: int = 100, tol: float = 1e-10) -> None:
        self.dist = dist
        self.robust = robust
        self.conf_level = conf_level
        self.max_iter = max_iter
        self.tol = tol

    # ------------------------------------------------------------------------------------------
    @renamed_parameters({"df": "data", "duration_col": "duration", "event_col": "event", "weights_col": "weights",
                         "cluster_col": "cluster"})
    @validate_params({"data": [InstanceOf(pd.DataFrame, "a pandas DataFrame")],
                      **{k: v for k, v in FIT_COLUMNS.items() if k not in ("strata", "entry")}}, name="AFT.fit")
    def fit(self, data: pd.DataFrame, duration: str, event: str,
            covariates: Sequence[str] | None = None, weights: str | None = None,
            cluster: str | None = None) -> AFT:
        """Fit the model by maximum likelihood.

        Parameters
        ----------
        data : pandas.DataFrame
            (``df`` is its old name, still accepted with a FutureWarning.)
        duration : str
            Follow-up time (> 0).
        event : str
            1/True event, 0/False censored.
        covariates : sequence of str, optional
            Numeric, boolean or categorical columns (categorical ones as dummies, the first level
            the reference). Default: every other numeric (or boolean) column. An intercept is
            always included.
        weights : str, optional
            Case weights (>= 0, not all zero), as R's ``weights=``.
        cluster : str, optional
            Cluster (matched set) for cluster-robust variance, as R's ``cluster=``.

        Returns
        -------
        self
        """
        conf = self._check_settings()
        md = self._data(data, duration, event, covariates, weights, cluster)
        names = md.terms
        n, d, w = md.n, md.d, md.w
        n_events = md.n_events
        p = len(names) + 1
        if n_events < p + 1:
            raise EstimationError(
                f"Too few events for the AFT model: {n_events} event(s) for {p - 1} covariate(s), "
                "an intercept and a scale; at least two more events than covariates are needed "
                "(10 per covariate is a common rule). Use fewer covariates.")
        self._check_not_constant(md)
        X = np.column_stack([np.ones(n), md.X])
        y = np.log(md.T)
        terms = ["(Intercept)"] + names

        # without clusters, rows alike in (time, event, weight, covariates) enter the likelihood
        # alike: fit on the distinct rows with their counts (the variance's meat too)
        # (keyed on the times, not their logs: the same rows, and whole days code without hashing)
        rep = None if md.clusters is not None else distinct_rows([md.T, d, w, *(md.X[:, j] for j in range(p - 1))])
        if rep is not None:
            first, count = rep
            X, y, d, w = X[first], y[first], d[first], w[first]
        theta, ev, it, converged = self._newton(X, y, d, w, None if rep is None else rep[1])
        info = -ev.hess
        try:
            naive = linalg.inv(info)
        except (linalg.LinAlgError, ValueError):
            naive = np.full(info.shape, np.nan)
        if not np.all(np.isfinite(naive)) or np.any(np.diag(naive) <= 0):
            raise EstimationError(
                "The AFT model cannot be estimated: its information matrix is singular. A "
                "covariate is collinear with others or has no events at some level "
                f"(covariates: {', '.join(names) or 'none'}). Drop or combine covariates.")
        if not converged:
            warnings.warn(f"AFT did not converge in {self.max_iter} iterations; estimates may be "
                          "unreliable (a covariate may perfectly predict the events).",
                          ImpactWarning, stacklevel=4)

        use_robust, auto_robust = self._robust(self.robust, md, weights is not None)
        cov = naive
        cov_type = "naive"
        if md.clusters is not None or use_robust:
            sigma = np.exp(theta[-1])
            U = np.empty((y.size, p + 1))  # weighted per-row scores
            U[:, :p] = X * (-(w * ev.g) / sigma)[:, None]
            U[:, p] = w * (-ev.g * ev.z - d)
            if rep is not None:   # each distinct row stands for count rows: sum of U U' over them
                U *= np.sqrt(rep[1])[:, None]
            if md.clusters is not None:
                S = np.zeros((md.n_clusters, p + 1))
                np.add.at(S, md.clusters, U)
            else:
                S = U
            cov = self._sandwich(S, naive)
            cov_type = "cluster" if md.clusters is not None else "robust"

        full = terms + ["Log(scale)"]
        self.params_ = pd.Series(theta[:p], index=terms, name="coef")
        self.cov_full_ = pd.DataFrame(cov, index=full, columns=full)
        self.naive_cov_full_ = pd.DataFrame(naive, index=full, columns=full)
        self.cov_ = self.cov_full_.iloc[:p, :p].copy()
        self.naive_cov_ = self.naive_cov_full_.iloc[:p, :p].copy()
        self.log_scale_ = float(theta[p])
        self.scale_ = float(np.exp(theta[p]))
        self.log_scale_se_ = float(np.sqrt(cov[p, p]))
        self.cov_type_ = cov_type
        self.loglik_ = ev.loglik - float(np.dot(w if rep is None else w * rep[1], d * y))
        self.n_ = n
        self.n_events_ = n_events
        self.n_clusters_ = md.n_clusters if md.clusters is not None else n
        self.n_iter_ = it
        self.converged_ = converged
        self.conf_level_ = conf
        self.covariates_ = names
        self.duration_col_ = duration
        self.event_col_ = event
        notes = [f"distribution: {self.dist} (log T = x'b + scale * "
                 + ("extreme-value error)" if self.dist == "weibull" else "normal error)"),
                 "time ratio = exp(coefficient): < 1 means a shorter time to the event"]
        if md.default_covariates:
            notes.append("covariates: every other numeric column (" + ", ".join(names) + ")")
        notes.append(self._variance_note(cov_type, cluster))
        if auto_robust and md.clusters is None:
            notes.append("robust variance because the weights are not whole numbers "
                         "(R's survreg would need robust=TRUE)")
        self.notes_ = tuple(notes)
        return self

    def _newton(self, X: np.ndarray, y: np.ndarray, d: np.ndarray, w: np.ndarray,
                count: np.ndarray | None = None) -> tuple[np.ndarray, _Eval, int, bool]:
        if count is not None:   # distinct rows: each weighs its count times its weight
            w = w * count
        # start: weighted least squares of log time on x, scale from the residuals
        sw = np.sqrt(w)
        beta0 = linalg.lstsq(X * sw[:, None], y * sw)[0]
        resid = y - X @ beta0
        s0 = np.sqrt(np.dot(w, resid**2) / w.sum())
        theta = np.r_[beta0, np.log(max(s0, 1e-3))]
        ev = _Eval(theta, X, y, d, w, self.dist)
        converged = False
        it = 0
        for it in range(1, int(self.max_iter) + 1):
            info = -ev.hess
            try:
                step = linalg.solve(info, ev.score, assume_a="pos")
            except (linalg.LinAlgError, ValueError):
                step = None
            if step is None or not np.all(np.isfinite(step)) or np.dot(step, ev.score) <= 0:
                # not a local maximum direction: a damped gradient step instead
                step = ev.score / max(1.0, np.max(np.abs(np.diag(info))))
            new = theta + step
            ev_new = _Eval(new, X, y, d, w, self.dist)
            halvings = 0
            while (not np.isfinite(ev_new.loglik) or ev_new.loglik < ev.loglik - 1e-12 * abs(ev.loglik)) \
                    and halvings < 40:
                step = step / 2.0
                new = theta + step
                ev_new = _Eval(new, X, y, d, w, self.dist)
                halvings += 1
            theta, ev = new, ev_new
            if np.max(np.abs(step)) < self.tol * (1.0 + np.max(np.abs(theta))):
                converged = True
                break
        return theta, ev, it, converged

    # ------------------------------------------------------------------------------------------
    def _summary_attrs(self) -> dict[str, Any]:
        return {"dist": self.dist}

    def _repr_settings(self) -> str:
        return f"dist='{self.dist}'"

    def _repr_fitted(self) -> str:
        return f", scale={self.scale_:.4g}"

    def _html_head(self) -> str:
        return (f"<b>{self._title}, {self.dist}</b> (variance: {self.cov_type_}); "
                f"n = {self.n_}, events = {self.n_events_}, scale = {self.scale_:.4g}")
