"""Covariate expansion and the distance (propensity score) used for matching and weighting."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from impact.data import expand_covariates
from impact._errors import EstimationError, ImpactWarning, ParameterError
from impact.design._rows import canonical_order, distinct_rows
from impact.design._stack import external_stacklevel

__all__ = ["Propensity", "fit_propensity"]

Link = Literal["logit", "linear_logit"]


@dataclass(frozen=True)
class Propensity:
    """The distance used for matching, and the model that made it.

    Attributes
    ----------
    kind : str
        ``"glm"`` (logistic regression), ``"sklearn"``, ``"user"`` (a column or array given) or
        ``"mahalanobis"``.
    score : ndarray
        The distance on the scale matching uses (probability, or its logit for
        ``link="linear_logit"``); empty for Mahalanobis.
    probability : ndarray or None
        The fitted probability of treatment, when there is one.
    coefficients : DataFrame or None
        For ``kind="glm"``: ``term``, ``estimate``, ``se``, ``z``, ``p_value`` (model-based SEs,
        ``cov_type="nonrobust"``, as R's ``summary(glm(...))``).
    """

    kind: str
    score: np.ndarray
    probability: np.ndarray | None = None
    coefficients: pd.DataFrame | None = None
    loglik: float | None = None
    description: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def _separating_columns(X: np.ndarray, names: list[str], t: np.ndarray) -> list[str]:
    """Columns that on their own separate treated from controls (completely or quasi-completely)."""
    out = []
    t1 = t == 1
    for j, name in enumerate(names):
        x = X[:, j]
        lo1, hi1, lo0, hi0 = x[t1].min(), x[t1].max(), x[~t1].min(), x[~t1].max()
        if hi1 <= lo0 or hi0 <= lo1:
            out.append(name)
    return out


# R's glm.fit: eps <- 10 * .Machine$double.eps; warns when any fitted mu > 1 - eps or mu < eps
_R_GLM_EPS = 10 * float(np.finfo(float).eps)


def _fit_glm(X: np.ndarray, names: list[str], t: np.ndarray, covariates: Sequence[str]
             ) -> tuple[np.ndarray, np.ndarray, pd.DataFrame, float, list[str]]:
    """Logistic regression as R's ``glm``; the score is computed once per distinct design row.

    The rows are fitted in a canonical order (sorted on treatment, then the design row), so the
    coefficients do not depend on the row order of the data, and ``X @ beta`` is evaluated once
    per distinct row, so identical rows get bit-identical scores (BLAS rounding of a product can
    depend on a row's position).
    """
    import statsmodels.api as sm

    Xc = np.column_stack([np.ones(len(t)), X])
    terms = ["Intercept", *names]
    notes: list[str] = []
    order = canonical_order(X, t) if X.shape[1] else np.argsort(t, kind="stable")
    Xs = Xc[order]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = t[order].astype(float)
        model = sm.GLM(y, Xs, family=sm.families.Binomial())
        try:
            # Start and stop exactly as R's glm.fit: the first IRLS step from mu = (y + 0.5) / 2,
            # then stop when |dev - dev_old| <= 1e-8 |dev| + 1e-9 (R: epsilon = 1e-8). The SEs
            # then come from the same last weighted least-squares step as R's summary.glm().
            mu = (y + 0.5) / 2
            w0 = mu * (1 - mu)
            z = np.log(mu / (1 - mu)) + (y - mu) / w0
            sw = np.sqrt(w0)
            start = np.linalg.lstsq(Xs * sw[:, None], z * sw, rcond=None)[0]
            res = model.fit(start_params=start, tol=1e-8, tol_criterion="deviance", atol=1e-9,
                            rtol=1e-8, maxiter=25)
        except Exception as exc:  # statsmodels raises on singular designs
            raise EstimationError(
                f"The propensity model (logistic regression of treatment on {', '.join(covariates)}) "
                f"could not be fitted: {exc}. Check for covariates that are constant or collinear."
            ) from exc
    params = np.asarray(res.params, dtype=float)
    urows, inv = distinct_rows(X, order if X.shape[1] else None)
    lin_u = np.column_stack([np.ones(len(urows)), urows]) @ params
    p_u = np.asarray(model.family.link.inverse(lin_u), dtype=float)
    lin, p = lin_u[inv], p_u[inv]
    sep = [str(w.message) for w in caught if "separation" in str(w.message).lower()]
    extreme = (p < _R_GLM_EPS) | (p > 1 - _R_GLM_EPS)
    if sep or extreme.any():
        culprits = _separating_columns(X, names, t)
        which = (f"covariate(s) {', '.join(repr(c) for c in culprits)} separate treated from controls"
                 if culprits else "a combination of covariates separates treated from controls")
        msg = (f"Perfect separation in the propensity model: {which}; {int(extreme.sum())} rows have "
               "a fitted probability of 0 or 1 (within 10 machine epsilons, R's glm rule) and the "
               "coefficients are not identified. Drop or coarsen those covariates, or match exactly "
               "on them with exact=[...].")
        warnings.warn(msg, ImpactWarning, stacklevel=external_stacklevel())
        notes.append(msg)
    # rank deficiency: a constant or collinear covariate
    rank = np.linalg.matrix_rank(Xc)
    if rank < Xc.shape[1]:
        const = [names[j] for j in range(X.shape[1]) if np.ptp(X[:, j]) == 0]
        raise EstimationError(
            "The propensity model's design matrix is rank deficient"
            + (f": covariate(s) {', '.join(repr(c) for c in const)} are constant" if const else
               ": some covariates are collinear")
            + ". Remove them from covariates=[...]."
        )
    bse = np.asarray(res.bse, dtype=float)
    coef = pd.DataFrame({"term": terms, "estimate": params, "se": bse,
                         "z": params / bse, "p_value": np.asarray(res.pvalues, dtype=float)})
    return p, lin, coef, float(res.llf), notes


def _is_sklearn_estimator(obj: Any) -> bool:
    return hasattr(obj, "fit") and (hasattr(obj, "predict_proba") or hasattr(obj, "decision_function"))


def fit_propensity(data: pd.DataFrame, treat: np.ndarray, covariates: Sequence[str],
                   distance: Any, link: Link, *, seed: int | None = None) -> Propensity:
    """Compute the distance for ``match``/``weight``; see :func:`impact.match` for ``distance``.

    ``seed`` seeds an unfitted scikit-learn ``distance=`` estimator: it is cloned and, when it
    has a ``random_state`` parameter left at ``None``, that parameter is set to ``seed`` (a child
    seed of the caller's ``random_state``), so the score is reproducible. The caller's estimator
    is never changed.
    """
    t = treat.astype(np.int8)
    if isinstance(distance, str) and distance in ("glm", "logit"):
        if not covariates:
            raise ParameterError("The 'covariates' parameter of match must name at least one column "
                                 "when distance='glm'.")
        X, names = expand_covariates(data, covariates)
        p, lin, coef, llf, notes = _fit_glm(X, names, t, covariates)
        score = lin if link == "linear_logit" else p
        desc = ("propensity score from a logistic regression (statsmodels GLM, binomial, logit link) "
                "of treatment on " + ", ".join(covariates)
                + "; categorical covariates in treatment coding with the first sorted level as reference")
        if link == "linear_logit":
            desc += "; matched on the linear predictor (logit of the score)"
        return Propensity("glm", score, p, coef, llf, desc, tuple(notes))
    if isinstance(distance, str) and distance == "mahalanobis":
        return Propensity("mahalanobis", np.empty(0), None, None, None,
                          "Mahalanobis distance on the covariates (pooled within-group covariance)")
    if isinstance(distance, str):
        if distance not in data.columns:
            from impact._validation import suggest
            raise ParameterError(
                "The 'distance' parameter of match must be 'glm', 'mahalanobis', a column name, an "
                f"array or a scikit-learn classifier. Got {distance!r}, which is not a column."
                + suggest(distance, [*map(str, data.columns), "glm", "mahalanobis"]))
        score = data[distance].to_numpy(dtype=float)
        return _user_score(score, link, f"user-supplied score in column '{distance}'")
    if _is_sklearn_estimator(distance):
        from sklearn.base import clone
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        X, names = expand_covariates(data, covariates)
        try:
            check_is_fitted(distance)
            est = distance
            how = "fitted scikit-learn classifier " + type(distance).__name__ + " (used as given)"
        except NotFittedError:
            est = clone(distance)
            params = est.get_params()
            if seed is not None and "random_state" in params and params["random_state"] is None:
                est.set_params(random_state=seed)
            est = est.fit(X, t)
            how = "scikit-learn classifier " + type(distance).__name__ + " fitted on the covariates"
        if hasattr(est, "predict_proba"):
            classes = list(getattr(est, "classes_", [0, 1]))
            p = est.predict_proba(X)[:, classes.index(1)]
        else:
            p = 1.0 / (1.0 + np.exp(-est.decision_function(X)))
        p = np.clip(np.asarray(p, dtype=float), 1e-12, 1 - 1e-12)
        score = np.log(p / (1 - p)) if link == "linear_logit" else p
        return Propensity("sklearn", score, p, None, None, "propensity score from a " + how)
    arr = np.asarray(distance)
    if arr.ndim == 1 and np.issubdtype(arr.dtype, np.number):
        if len(arr) != len(data):
            raise ParameterError(
                f"The 'distance' parameter of match has {len(arr)} values but the data have "
                f"{len(data)} rows.")
        return _user_score(arr.astype(float), link, "user-supplied score (array)")
    raise ParameterError(
        "The 'distance' parameter of match must be 'glm', 'mahalanobis', a column name, a 1-D "
        f"numeric array or a scikit-learn classifier. Got {type(distance).__name__}.")


def _user_score(score: np.ndarray, link: Link, desc: str) -> Propensity:
    bad = ~np.isfinite(score)
    if bad.any():
        from impact._errors import data_error
        raise data_error("distance", "the score must be finite (no NaN or inf)", bad,
                         "Fill or drop those rows first, e.g. df = df.dropna(subset=[...]).")
    prob = score if ((score >= 0) & (score <= 1)).all() else None
    if link == "linear_logit":
        if prob is None or ((score <= 0) | (score >= 1)).any():
            raise ParameterError("link='linear_logit' needs a score strictly between 0 and 1; "
                                 "pass link='logit' to match on the score as given.")
        return Propensity("user", np.log(score / (1 - score)), score, None, None,
                          desc + ", matched on its logit")
    return Propensity("user", score, prob, None, None, desc)
