"""impact.survival.AFT: Weibull and log-normal accelerated failure time models.

Oracles, named per test: R fixtures (tests/reference/survival_models.R, survreg in survival 3.5-3;
tolerance 1e-6 relative on coefficients, log(scale) and variances), metamorphic checks (integer
weights equal duplicated rows, row shuffle, constant weights), and lifelines as a cross-check.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from impact import DataError, EstimationError, ParameterError
from impact.survival import AFT

FIX = Path(__file__).parent / "reference" / "fixtures"
COVS = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
TOL_REL = 1e-6  # iterative fit, same likelihood as R

MODELS = {
    "plain": ({}, False, COVS),
    "weighted": ({"weights": "w"}, False, COVS),
    "robust": ({}, True, COVS),
    "cluster": ({"cluster": "clus"}, None, COVS),
    "weighted_cluster": ({"weights": "w", "cluster": "clus"}, None, COVS),
    "fin_only": ({"weights": "w", "cluster": "clus"}, None, ["fin"]),
}


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(FIX / name, comment="#")


@pytest.fixture(scope="module")
def rossi() -> pd.DataFrame:
    return _read("rossi.csv")


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


@pytest.mark.parametrize("dist", ["weibull", "lognormal"])
@pytest.mark.parametrize("model", list(MODELS))
def test_aft_matches_survreg(rossi: pd.DataFrame, dist: str, model: str) -> None:
    """Oracle: R survreg (coefficients, Log(scale), naive variance, robust variance, loglik)."""
    kw, robust, covs = MODELS[model]
    aft = AFT(dist=dist, robust=robust).fit(rossi, "week", "arrest", covariates=covs, **kw)
    co = _read("survival_aft_coef.csv")
    co = co[(co["dist"] == dist) & (co["model"] == model)]
    vc = _read("survival_aft_vcov.csv")
    vc = vc[(vc["dist"] == dist) & (vc["model"] == model)]
    terms = list(co["term"])
    assert terms == list(aft.params_.index) + ["Log(scale)"]
    est = np.r_[aft.params_.to_numpy(), aft.log_scale_]
    assert _rel(est, co["estimate"].to_numpy()) < TOL_REL
    k = len(terms)
    naive = vc["naive_var"].to_numpy().reshape(k, k, order="F")
    # robust: the sandwich from R's weighted dfbeta residuals (equal to survreg's var unweighted)
    var = vc["var_weighted"].to_numpy().reshape(k, k, order="F")
    assert _rel(aft.naive_cov_full_.to_numpy(), naive) < TOL_REL
    assert _rel(aft.cov_full_.to_numpy(), var) < TOL_REL
    if "weights" not in kw:
        assert _rel(aft.cov_full_.to_numpy(), vc["var"].to_numpy().reshape(k, k, order="F")) < TOL_REL
    assert aft.loglik_ == pytest.approx(co["loglik"].iloc[0], rel=1e-9)
    assert aft.cov_type_ == {"plain": "naive", "weighted": "naive", "robust": "robust"}.get(model, "cluster")
    assert aft.scale_ == pytest.approx(np.exp(co["estimate"].iloc[-1]), rel=TOL_REL)


def test_summary_columns_and_time_ratio_scale(rossi: pd.DataFrame) -> None:
    aft = AFT(dist="lognormal", conf_level=0.9).fit(rossi, "week", "arrest", covariates=["fin", "age"],
                                                     weights="w", cluster="clus")
    s = aft.summary()
    assert list(s.columns) == ["term", "estimate", "se", "time_ratio", "ci_low", "ci_high", "p_value"]
    assert list(s["term"]) == ["(Intercept)", "fin", "age"]
    np.testing.assert_allclose(s["time_ratio"], np.exp(s["estimate"]))
    z = 1.6448536269514722
    np.testing.assert_allclose(s["ci_low"], np.exp(s["estimate"] - z * s["se"]))
    np.testing.assert_allclose(s["se"], np.sqrt(np.diag(aft.cov_)))
    assert s.attrs == {"conf_level": 0.9, "cov_type": "cluster", "dist": "lognormal"}
    assert "AFT(dist='lognormal'" in repr(aft) and "<table" in aft._repr_html_()


@pytest.mark.parametrize("dist", ["weibull", "lognormal"])
def test_integer_weights_equal_duplicated_rows(rossi: pd.DataFrame, dist: str) -> None:
    """Metamorphic: weight 2 equals the row twice (estimates, naive and person-clustered variance)."""
    r = rossi.copy()
    r["k"] = 1 + (np.arange(len(r)) % 3 == 0)
    dup = r.loc[r.index.repeat(r["k"])].reset_index(drop=True)
    a = AFT(dist=dist, robust=False).fit(r, "week", "arrest", COVS, weights="k")
    b = AFT(dist=dist, robust=False).fit(dup, "week", "arrest", COVS)
    np.testing.assert_allclose(a.params_, b.params_, rtol=1e-9)
    np.testing.assert_allclose(a.naive_cov_full_, b.naive_cov_full_, rtol=1e-8)
    a = AFT(dist=dist).fit(r, "week", "arrest", COVS, weights="k", cluster="id")
    b = AFT(dist=dist).fit(dup, "week", "arrest", COVS, cluster="id")
    np.testing.assert_allclose(a.cov_full_, b.cov_full_, rtol=1e-8)


def test_constant_weights_leave_robust_variance_unchanged(rossi: pd.DataFrame) -> None:
    """Metamorphic: sampling weights of 5 for everyone change nothing in the sandwich."""
    r = rossi.assign(five=5.0)
    a = AFT(robust=True).fit(r, "week", "arrest", COVS)
    b = AFT(robust=True).fit(r, "week", "arrest", COVS, weights="five")
    np.testing.assert_allclose(a.params_, b.params_, rtol=1e-9)
    np.testing.assert_allclose(a.cov_, b.cov_, rtol=1e-8)


def test_row_shuffle_and_relabelled_clusters(rossi: pd.DataFrame) -> None:
    """Metamorphic: row order and cluster labels do not matter."""
    a = AFT().fit(rossi, "week", "arrest", COVS, weights="w", cluster="clus")
    r = rossi.sample(frac=1, random_state=3).assign(clus=lambda d: "set" + (1000 - d["clus"]).astype(str))
    b = AFT().fit(r, "week", "arrest", COVS, weights="w", cluster="clus")
    np.testing.assert_allclose(a.params_, b.params_, rtol=1e-10)
    np.testing.assert_allclose(a.cov_, b.cov_, rtol=1e-9)


def test_default_robust_follows_weights(rossi: pd.DataFrame) -> None:
    a = AFT().fit(rossi, "week", "arrest", COVS, weights="w")
    assert a.cov_type_ == "robust" and any("whole numbers" in n for n in a.notes_)
    assert AFT().fit(rossi, "week", "arrest", COVS).cov_type_ == "naive"


def test_weibull_matches_lifelines_unweighted(rossi: pd.DataFrame) -> None:
    """Cross-check: lifelines' WeibullAFTFitter (same likelihood, unweighted)."""
    lifelines = pytest.importorskip("lifelines")
    lf = lifelines.WeibullAFTFitter().fit(rossi[["week", "arrest"] + COVS], "week", "arrest")
    aft = AFT().fit(rossi, "week", "arrest", COVS)
    lam = lf.params_.loc["lambda_"]
    np.testing.assert_allclose(lam.loc[COVS], aft.params_.loc[COVS], rtol=1e-4)
    # lifelines' rho_ is 1/scale
    assert np.exp(lf.params_.loc[("rho_", "Intercept")]) == pytest.approx(1 / aft.scale_, rel=1e-4)


BAD = [
    (lambda d: d.assign(week=d["week"].where(d.index != 4, 0)), DataError, r"'week'.*> 0.*position 4"),
    (lambda d: d.assign(arrest=d["arrest"].where(d.index != 2, 2)), DataError, r"'arrest'.*0 \(censored\)"),
    (lambda d: d.assign(w=d["w"].where(d.index != 1, -1.0)), DataError, r"'w'.*>= 0"),
    (lambda d: d.assign(w=0.0), DataError, r"'w'.*all zero"),
    (lambda d: d.assign(age=d["age"].where(d.index != 7)), DataError, r"'age'.*missing.*position 7"),
    (lambda d: d.assign(arrest=0), EstimationError, r"no events"),
    (lambda d: d.assign(fin=1), DataError, r"'fin'.*constant"),
    (lambda d: d.assign(fin=pd.Timestamp("2020-01-01") + pd.to_timedelta(d["fin"], "D")), DataError,
     r"'fin'.*numbers, booleans or categories"),
    (lambda d: d.head(6), EstimationError, r"Too few events"),
]


@pytest.mark.parametrize("case", BAD, ids=[b[2] for b in BAD])
def test_bad_inputs(rossi: pd.DataFrame, case: tuple) -> None:
    mutate, exc, pattern = case
    with pytest.raises(exc, match=pattern):
        AFT().fit(mutate(rossi), "week", "arrest", COVS, weights="w")


def test_bad_parameters(rossi: pd.DataFrame) -> None:
    with pytest.raises(ParameterError, match=r"'dist' parameter of AFT must be one of .*'weibull'"):
        AFT(dist="weibul").fit(rossi, "week", "arrest", COVS)
    with pytest.raises(ParameterError, match="not fitted"):
        AFT().summary()
    with pytest.raises(DataError, match="nope"):
        AFT().fit(rossi, "week", "arrest", ["nope"])
