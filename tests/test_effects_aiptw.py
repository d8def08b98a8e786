"""Doubly robust competing-risks effects (impact.effects.ate_competing).

Oracles: R's riskRegression::ate (fixture written by tests/reference/aiptw.R) for the estimates and
their influence-function SEs; a simulation with a known true risk for double robustness; and
structural identities (the difference row is the difference of the arms)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _mgus import FIX, mgus_frame

from impact import DataError, ParameterError
from impact.effects import CompetingATEResult, ate_competing


@pytest.fixture(scope="module")
def mgus() -> pd.DataFrame:
    return mgus_frame()


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(FIX / "aiptw_mgus2.csv", comment="#")


SCENARIOS = {"cox_cause1": {"cause": 1, "censoring_covariates": None},
             "km_cause2": {"cause": 2, "censoring_covariates": []},
             "untied": {"cause": 1, "censoring_covariates": None}}
CASES = [("cox_cause1", "riskregression"), ("km_cause2", "riskregression"), ("untied", "riskregression"),
         ("untied", "exact")]


def _untie(df: pd.DataFrame) -> pd.DataFrame:
    """The R script's tie-breaking: etime + (i + 1) / (2 (n + 1)) by row position."""
    n = len(df)
    return df.assign(etime=df["etime"] + np.arange(1, n + 1) / (2 * (n + 1)))


@pytest.mark.parametrize(("scenario", "ties"), CASES)
def test_agrees_with_riskregression_ate(mgus, reference, scenario, ties):
    """Oracle: riskRegression::ate(CSC, glm, coxph, se = TRUE, band = FALSE, B = 0) 2022.11.28 on mgus2,
    Breslow ties. Every estimator (G-formula, IPTW with IPCW, AIPTW with AIPCW), both arms and the
    difference, three horizons: estimates, SEs, interval limits and p-values to 1e-6. On the tied
    (whole-month) data with ties="riskregression"; on the untied data with both settings."""
    data = _untie(mgus) if scenario == "untied" else mgus
    assert scenario != "untied" or not data["etime"].duplicated().any()
    res = ate_competing(data, duration="etime", event="status", treatment="male", covariates=["age", "hgb"],
                        horizons=[60, 120, 240], ties=ties, **SCENARIOS[scenario])
    ref = reference[reference["scenario"] == scenario].set_index(["estimator", "arm", "horizon"]).sort_index()
    got = res.summary().set_index(["estimator", "arm", "horizon"]).sort_index()
    assert len(ref) == 27 and got.index.equals(ref.index)
    for col in ("estimate", "se", "ci_low", "ci_high"):
        np.testing.assert_allclose(got[col], ref[col], rtol=0, atol=1e-6, err_msg=col)
    # SEs are small (~0.01): hold them to a relative tolerance too
    np.testing.assert_allclose(got["se"], ref["se"], rtol=1e-6)
    diff = ref.xs("treated - control", level="arm")
    np.testing.assert_allclose(got.xs("treated - control", level="arm")["p_value"], diff["p_value"], atol=1e-6)


def test_tie_settings_differ_only_where_documented(mgus, reference):
    """On tied data the default ties="exact" keeps the G-formula estimates, the IPTW (estimates and
    SEs) and all point estimates but the AIPTW's equal to riskRegression 2022.11.28, and departs from
    it in the AIPTW (one martingale term per distinct censoring time instead of one per person)."""
    res = ate_competing(mgus, duration="etime", event="status", treatment="male", covariates=["age", "hgb"],
                        horizons=[60, 120, 240])
    ref = reference[reference["scenario"] == "cox_cause1"].set_index(["estimator", "arm", "horizon"]).sort_index()
    got = res.summary().set_index(["estimator", "arm", "horizon"]).sort_index()
    np.testing.assert_allclose(got.loc["gformula", "estimate"], ref.loc["gformula", "estimate"], atol=1e-9)
    np.testing.assert_allclose(got.loc["iptw", "estimate"], ref.loc["iptw", "estimate"], atol=1e-9)
    assert np.abs(got.loc["aiptw", "estimate"] - ref.loc["aiptw", "estimate"]).max() > 1e-4
    assert any("distinct censoring time" in n for n in res.notes)


def test_difference_rows_are_arm_differences(mgus):
    """Identity: the difference estimate is treated minus control, and its influence is the
    difference of the arms' influences (so its SE is not the root of the summed variances)."""
    res = ate_competing(mgus, duration="etime", event="status", treatment="male", covariates=["age", "hgb"],
                        horizons=[120], estimator="aiptw")
    assert isinstance(res, CompetingATEResult)
    s = res.summary().set_index("arm")
    assert s.loc["treated - control", "estimate"] == pytest.approx(
        s.loc["treated", "estimate"] - s.loc["control", "estimate"], abs=1e-15)
    inf = res.influence
    d = inf[("aiptw", "treated", 120.0)] - inf[("aiptw", "control", 120.0)]
    assert np.allclose(d, inf[("aiptw", "treated - control", 120.0)])
    assert s.loc["treated - control", "se"] == pytest.approx(np.sqrt((d ** 2).sum()))
    assert np.isnan(s.loc["treated", "p_value"]) and 0 <= s.loc["treated - control", "p_value"] <= 1
    with pytest.raises(Exception):  # frozen result
        res.notes = ()  # type: ignore[misc]


def _simulate(n: int, rng: np.random.Generator) -> pd.DataFrame:
    """Treatment confounded by x; cause-specific exponential hazards proportional in (a, x), so a Cox
    model on x is right; censoring independent of x (Kaplan-Meier right); `noise` is unrelated to all."""
    x, noise = rng.normal(size=n), rng.normal(size=n)
    a = rng.binomial(1, 1 / (1 + np.exp(-1.5 * x)))
    l1, l2 = 0.5 * np.exp(0.6 * a + 0.9 * x), 0.3 * np.exp(-0.3 * x)
    t1, t2, c = rng.exponential(1 / l1), rng.exponential(1 / l2), rng.exponential(1 / 0.3, n)
    t = np.minimum.reduce([t1, t2, c])
    return pd.DataFrame({"t": t, "ev": np.select([t1 == t, t2 == t], [1, 2], 0), "a": a, "x": x,
                         "noise": noise})


def _true_difference(horizon: float) -> float:
    """Closed form per x (constant hazards: F1 = l1 / (l1 + l2) (1 - exp(-(l1 + l2) h))), averaged over
    a large normal sample."""
    xs = np.random.default_rng(99).normal(size=400_000)

    def risk(arm: int) -> float:
        k1 = 0.5 * np.exp(0.6 * arm + 0.9 * xs)
        k = k1 + 0.3 * np.exp(-0.3 * xs)
        return float(np.mean(k1 / k * (1 - np.exp(-k * horizon))))

    return risk(1) - risk(0)


def test_aiptw_doubly_robust_simulation():
    """Oracle: a known true risk difference at horizon 1 (about 0.149). Over 4 simulated data sets of
    800: with the treatment model wrong (on `noise`) and the outcome model right, IPTW is far off
    (mean z > 4) while AIPTW is not (|mean z| < 2); with the outcome model wrong and the treatment
    model right, the G-formula is far off while AIPTW is not. Censoring is Kaplan-Meier (right)."""
    truth = _true_difference(1.0)
    z: dict[tuple[str, str], list[float]] = {}
    for seed in range(4):
        df = _simulate(800, np.random.default_rng(seed))
        for case, cov, tcov in (("ps_wrong", "x", "noise"), ("outcome_wrong", "noise", "x")):
            s = ate_competing(df, duration="t", event="ev", treatment="a", covariates=[cov],
                              treatment_covariates=[tcov], censoring_covariates=[], horizons=[1.0]).summary()
            s = s[s["arm"] == "treated - control"].set_index("estimator")
            for e in s.index:
                z.setdefault((case, e), []).append((s.loc[e, "estimate"] - truth) / s.loc[e, "se"])
    mean_z = {k: float(np.mean(v)) for k, v in z.items()}
    assert abs(mean_z[("ps_wrong", "aiptw")]) < 2 and mean_z[("ps_wrong", "iptw")] > 4, mean_z
    assert abs(mean_z[("outcome_wrong", "aiptw")]) < 2 and mean_z[("outcome_wrong", "gformula")] > 4, mean_z
    assert abs(mean_z[("ps_wrong", "gformula")]) < 2 and abs(mean_z[("outcome_wrong", "iptw")]) < 2, mean_z


def test_bad_input_named_errors(mgus):
    """Bad input: named errors for a horizon beyond follow-up, an absent cause, missing covariates,
    the treatment among the covariates, one arm only, and no censoring."""
    kw = dict(duration="etime", event="status", treatment="male", covariates=["age"])
    with pytest.raises(DataError, match="beyond the follow-up"):
        ate_competing(mgus, horizons=[10_000], **kw)
    with pytest.raises(DataError, match="never occurs"):
        ate_competing(mgus, horizons=[60], cause=7, **kw)
    bad = mgus.copy()
    bad.loc[3, "age"] = np.nan
    with pytest.raises(DataError, match="'age'.*missing"):
        ate_competing(bad, horizons=[60], **kw)
    with pytest.raises(ParameterError, match="treatment column"):
        ate_competing(mgus, horizons=[60], **{**kw, "covariates": ["male", "age"]})
    with pytest.raises(DataError, match="one arm"):
        ate_competing(mgus.assign(male=1), horizons=[60], **kw)
    with pytest.raises(DataError, match="censored"):
        ate_competing(mgus[mgus["status"] > 0], horizons=[60], **kw)
    with pytest.raises(ParameterError, match="estimator"):
        ate_competing(mgus, horizons=[60], estimator="ipw", **kw)


def test_string_causes_and_single_estimator(mgus):
    """Metamorphic: coding the exits as strings ("censored", "pcm", "death") and asking for one
    estimator gives the same numbers as integer codes with all three."""
    lab = mgus.assign(status=mgus["status"].map({0: "censored", 1: "pcm", 2: "death"}))
    a = ate_competing(lab, duration="etime", event="status", treatment="male", covariates=["age", "hgb"],
                      horizons=[120], cause="pcm", estimator="aiptw").summary()
    b = ate_competing(mgus, duration="etime", event="status", treatment="male", covariates=["age", "hgb"],
                      horizons=[120]).summary()
    b = b[b["estimator"] == "aiptw"].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
