"""Regression-adjusted mean differences (estimate_effects(..., outcome=, adjust=)).

Oracle 1: tests/reference/effects_means_adjusted.R: on the MatchIt 4.5.1 matched Lalonde samples of
effects_means_matched.csv, lm(re78 ~ treat * (covariates centred at the treated means), weights)
per subgroup with sandwich::vcovCL(cluster = ~subclass, HC1) (vcovHC HC3 with replacement, HC1 for
IPW); the married 0 - 1 difference from the stacked model with the same vcov.
Oracle 2: a simulated case whose ATT is known in closed form (heterogeneous effect, treated and
controls with different covariate distributions).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impact
from impact.effects import estimate_effects

FIX = Path(__file__).parent / "reference" / "fixtures"
LAL = pd.read_csv(FIX / "lalonde.csv").set_index("row")
MATCHED = pd.read_csv(FIX / "effects_means_matched.csv", comment="#")
REF = pd.read_csv(FIX / "effects_means_adjusted.csv", comment="#", skipinitialspace=True)
COVS = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]


def _sample(design):
    sub = MATCHED[MATCHED["design"] == design].reset_index(drop=True)
    for c in ("age", "educ", "nodegree", "re74", "re75"):
        sub[c] = LAL.loc[sub["row"], c].to_numpy()
    return sub


def _fit(design, **kw):
    return estimate_effects(_sample(design), outcome="re78", treatment="treat", by="married", adjust=COVS,
                            cluster=None if design == "ipw" else "subclass", **kw)


@pytest.mark.parametrize("design", ["nearest", "ratio2", "replace", "ipw"])
def test_adjusted_mean_diff_matches_r(design):
    res = _fit(design)
    t = res.table.set_index(["subgroup", "estimand"])
    ref = REF[REF["design"] == design]
    assert len(ref) == 10
    for r in ref.itertuples():
        got = t.loc[(r.subgroup, r.estimand)]
        assert got["estimate"] == pytest.approx(r.estimate, abs=1e-6, rel=1e-10), (r.subgroup, r.estimand)
        assert got["se"] == pytest.approx(r.se, abs=1e-6, rel=1e-10), (r.subgroup, r.estimand)
    expected = {"replace": "robust sandwich (HC3)", "ipw": "robust sandwich (HC1)"}.get(
        design, "cluster-robust sandwich (HC1)")
    assert set(res.table["se_method"]) == {expected}
    # the participants' mean is the unadjusted one; the adjustment moves the control mean only
    plain = estimate_effects(_sample(design), outcome="re78", treatment="treat", by="married",
                             cluster=None if design == "ipw" else "subclass").table.set_index(["subgroup", "estimand"])
    for g in ("all", "0", "1"):
        assert t.loc[(g, "mean_treated"), "estimate"] == pytest.approx(plain.loc[(g, "mean_treated"), "estimate"],
                                                                       rel=1e-12)
        assert t.loc[(g, "mean_control"), "estimate"] == pytest.approx(
            t.loc[(g, "mean_treated"), "estimate"] - t.loc[(g, "mean_diff"), "estimate"], rel=1e-12)
        assert t.loc[(g, "mean_diff"), "estimate"] != pytest.approx(plain.loc[(g, "mean_diff"), "estimate"],
                                                                    rel=1e-3)


def test_adjusted_notes_settings_and_joint_test():
    res = _fit("ratio2")
    assert res.settings["adjust"] == tuple(COVS)
    assert any(n.startswith("Regression-adjusted means for age, educ, race, married") for n in res.notes)
    assert any(n.startswith("0: married constant") for n in res.notes)
    het = res.heterogeneity
    joint = het[het["kind"] == "joint test"].iloc[0]
    diff = REF[(REF["design"] == "ratio2") & (REF["subgroup"] == "0 - 1")].iloc[0]
    # two levels: the joint chi-squared is the squared z of the 0 - 1 difference
    assert joint["statistic"] == pytest.approx((diff.estimate / diff.se) ** 2, rel=1e-8)
    plain = estimate_effects(_sample("ratio2"), outcome="re78", treatment="treat", by="married")
    assert plain.settings["adjust"] == ()
    assert not any("Regression-adjusted" in n for n in plain.notes)


def test_rank_problem_is_a_named_error():
    """Among the unmarried of the caliper sample no participant is hispanic: treat:race[hispan] is not
    estimable (NA in R's lm)."""
    with pytest.raises(impact.EstimationError, match=r"subgroup '0'.*treat:race\[hispan\]"):
        _fit("caliper")
    sub = _sample("nearest").assign(age2=lambda d: 2 * d["age"] + 1)
    with pytest.raises(impact.EstimationError, match=r"subgroup 'all'.*age2, treat:age2 are collinear"):
        estimate_effects(sub, outcome="re78", treatment="treat", by=None, adjust=["age", "age2"])


def test_bad_adjustment_columns():
    sub = _sample("nearest")
    with pytest.raises(impact.DataError, match="adjustment covariate 'agee'"):
        estimate_effects(sub, outcome="re78", treatment="treat", by=None, adjust=["agee"])
    holed = sub.assign(age=sub["age"].where(sub.index != 4))
    with pytest.raises(impact.DataError, match=r"Column 'age': missing values in adjustment covariates.*position 4"):
        estimate_effects(holed, outcome="re78", treatment="treat", by=None, adjust="age")


def _heterogeneous(n_t, n_c, noise, seed):
    """Treated x ~ N(1, 1), controls x ~ N(0, 1); Y0 = 1 + 2x + e, Y1 = Y0 + 1 + x, so the ATT is
    1 + E[x | treated] = 2 (the effect at x = 0 is 1; the unadjusted difference targets 4)."""
    rng = np.random.default_rng(seed)
    t = np.r_[np.ones(n_t, int), np.zeros(n_c, int)]
    x = rng.normal(size=t.size) + t
    y = 1 + 2 * x + t * (1 + x) + noise * rng.normal(size=t.size)
    g = np.where(rng.random(t.size) < 0.5, "female", "male")
    return pd.DataFrame({"y": y, "treat": t, "x": x, "gender": g, "weights": np.where(t == 1, 1.0, 0.5)})


def test_adjusted_estimate_targets_the_att():
    # without noise the outcome model is exact: the estimate is the sample ATT 1 + weighted mean of x
    # among the treated, in every subgroup, to rounding
    d = _heterogeneous(300, 600, 0.0, 1)
    res = estimate_effects(d, outcome="y", treatment="treat", by="gender", cluster=None, adjust=["x"])
    t = res.table.set_index(["subgroup", "estimand"])
    for g, s in (("all", d), ("female", d[d["gender"] == "female"]), ("male", d[d["gender"] == "male"])):
        att = 1 + s.loc[s["treat"] == 1, "x"].mean()
        assert t.loc[(g, "mean_diff"), "estimate"] == pytest.approx(att, abs=1e-10)
    # with noise: the estimate is within 4 SEs of the population ATT 2, far from the effect at x = 0
    # (1) and from the unadjusted target (4)
    d = _heterogeneous(4000, 8000, 1.0, 2)
    row = estimate_effects(d, outcome="y", treatment="treat", by=None, cluster=None,
                           adjust=["x"]).table.query("estimand == 'mean_diff'").iloc[0]
    assert abs(row["estimate"] - 2.0) < 4 * row["se"]
    assert row["se"] < 0.05
    plain = estimate_effects(d, outcome="y", treatment="treat", by=None,
                             cluster=None).table.query("estimand == 'mean_diff'").iloc[0]
    assert abs(plain["estimate"] - 4.0) < 4 * plain["se"]


def test_crossed_by_adjusted_interaction_is_the_stacked_model():
    """by=[married, nodegree] with adjust: each nodegree level's married 0 - 1 difference of adjusted
    effects; its SE is that of the stacked cell regressions (statsmodels WLS, clustered on subclass)."""
    import statsmodels.api as sm
    sub = _sample("ratio2")
    adj = ["age", "educ", "re74", "re75"]
    res = estimate_effects(sub, outcome="re78", treatment="treat", by=["married", "nodegree"], adjust=adj)
    het = res.heterogeneity
    row = het[(het["kind"] == "interaction") & (het["subgroup"] == "nodegree=0")].iloc[0]
    s0 = sub[sub["nodegree"] == 0]
    t = s0["treat"].to_numpy(float)
    blocks = []
    for lev in (0, 1):
        ind = (s0["married"] == lev).to_numpy(float)
        X = s0[adj].to_numpy(float)
        tr = (ind * t) == 1
        Z = (X - X[tr].mean(axis=0)) * ind[:, None]
        blocks.append(np.column_stack([ind, ind * t, Z, Z * t[:, None]]))
    D = np.hstack(blocks)
    fit = sm.WLS(s0["re78"].to_numpy(), D, weights=s0["weights"].to_numpy()).fit(
        cov_type="cluster", cov_kwds={"groups": pd.factorize(s0["subclass"])[0]})
    c = np.zeros(D.shape[1])
    c[1], c[blocks[0].shape[1] + 1] = 1.0, -1.0
    assert row["estimate"] == pytest.approx(float(c @ fit.params), rel=1e-10)
    assert row["se"] == pytest.approx(float(np.sqrt(c @ fit.cov_params() @ c)), rel=1e-8)
