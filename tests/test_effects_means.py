"""Mean differences (estimate_effects(..., outcome=)) against R's lm + sandwich on Lalonde.

Oracle: tests/reference/effects_means.R (MatchIt 4.5.1 matched samples written to
effects_means_matched.csv; lm(re78 ~ treat, weights) with sandwich::vcovCL(cluster = subclass,
HC1), vcovHC HC3 after matching with replacement, vcovHC HC1 for IPW).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impact
from impact.effects import estimate_effects

FIX = Path(__file__).parent / "reference" / "fixtures"
MATCHED = pd.read_csv(FIX / "effects_means_matched.csv", comment="#")
REF = pd.read_csv(FIX / "effects_means_reference.csv", comment="#", skipinitialspace=True)
DESIGNS = ["nearest", "caliper", "ratio2", "replace", "ipw"]


def _fit(design, by):
    sub = MATCHED[MATCHED["design"] == design].reset_index(drop=True)
    return estimate_effects(sub, outcome="re78", treatment="treat", by=by,
                            cluster=None if design == "ipw" else "subclass")


@pytest.mark.parametrize("design", DESIGNS)
@pytest.mark.parametrize("by", ["married", "race"])
def test_mean_diff_matches_r_sandwich(design, by):
    res = _fit(design, by)
    t = res.table.set_index(["subgroup", "estimand"])
    levels = ["0", "1", "0 - 1"] if by == "married" else ["black", "hispan", "white"]
    ref = REF[(REF["design"] == design) & REF["subgroup"].isin(["all"] + levels)]
    assert len(ref) == (10 if by == "married" else 12)
    for r in ref.itertuples():
        got = t.loc[(r.subgroup, r.estimand)]
        assert got["estimate"] == pytest.approx(r.estimate, abs=1e-6, rel=1e-10)
        assert got["se"] == pytest.approx(r.se, abs=1e-6, rel=1e-10)
    expected = {"replace": "robust sandwich (HC3)", "ipw": "robust sandwich (HC1)"}.get(
        design, "cluster-robust sandwich (HC1)")
    assert set(res.table["se_method"]) == {expected}


@pytest.mark.parametrize("design", DESIGNS)
def test_joint_wald_test_matches_r_interacted_model(design):
    """The race effects' equality test equals R's Wald test on lm(y ~ 0 + race + race:treat)."""
    het = _fit(design, "race").heterogeneity
    joint = het[(het["kind"] == "joint test") & (het["estimand"] == "mean_diff")].iloc[0]
    ref = REF[REF["design"] == design].set_index("estimand")
    assert joint["statistic"] == pytest.approx(ref.loc["wald_chi2", "estimate"], rel=1e-8)
    assert joint["p_value"] == pytest.approx(ref.loc["wald_p", "estimate"], rel=1e-8)
    assert joint["df"] == 2


def test_joint_test_by_hand_and_statsmodels():
    """Oracle 1: (Cb)'(CVC')^-1(Cb) from the level estimates and the stacked cluster sums written out
    here. Oracle 2: statsmodels WLS of the interacted model, cov_type='cluster', wald_test."""
    import statsmodels.api as sm
    sub = MATCHED[MATCHED["design"] == "ratio2"].reset_index(drop=True)
    res = _fit("ratio2", "race")
    het = res.heterogeneity
    lev = het[(het["kind"] == "level") & (het["estimand"] == "mean_diff")]
    assert lev["subgroup"].tolist() == ["black", "hispan", "white"]
    # hand: influence of each level's slope, summed within subclass
    levels = ["black", "hispan", "white"]
    n, G = len(sub), sub["subclass"].nunique()
    sums = pd.DataFrame(0.0, index=sorted(sub["subclass"].unique()), columns=levels)
    b = []
    for L in levels:
        s = sub[sub["race"] == L]
        X = np.column_stack([np.ones(len(s)), s["treat"]])
        w = s["weights"].to_numpy()
        B = np.linalg.inv(X.T @ (X * w[:, None]))
        coef = B @ X.T @ (w * s["re78"])
        e = s["re78"].to_numpy() - X @ coef
        psi = ((X * (w * e)[:, None]) @ B)[:, 1]
        sums[L] = pd.Series(psi, index=s["subclass"]).groupby(level=0).sum().reindex(sums.index, fill_value=0)
        b.append(coef[1])
    V = sums.T.to_numpy() @ sums.to_numpy() * G / (G - 1) * (n - 1) / (n - 6)
    C = np.array([[1, -1, 0], [1, 0, -1]])
    d = C @ np.array(b)
    stat = d @ np.linalg.solve(C @ V @ C.T, d)
    joint = het[het["kind"] == "joint test"].iloc[0]
    assert joint["statistic"] == pytest.approx(stat, rel=1e-10)
    # statsmodels
    dummies = pd.get_dummies(sub["race"]).astype(float)[levels]
    Xs = pd.concat([dummies, dummies.mul(sub["treat"], axis=0).add_suffix(":treat")], axis=1)
    fit = sm.WLS(sub["re78"], Xs, weights=sub["weights"]).fit(cov_type="cluster",
                                                               cov_kwds={"groups": sub["subclass"]})
    wt = fit.wald_test("black:treat = hispan:treat, black:treat = white:treat", use_f=False, scalar=True)
    assert joint["statistic"] == pytest.approx(float(wt.statistic), rel=1e-8)
    assert joint["p_value"] == pytest.approx(float(wt.pvalue), rel=1e-8)


def test_adjusted_p_values_use_multipletests():
    from statsmodels.stats.multitest import multipletests
    het = _fit("nearest", "race").heterogeneity
    lev = het[het["kind"] == "level"]
    assert lev["p_holm"].to_numpy() == pytest.approx(multipletests(lev["p_value"], method="holm")[1])
    assert lev["p_bh"].to_numpy() == pytest.approx(multipletests(lev["p_value"], method="fdr_bh")[1])
    assert (lev["significant_holm"] == (lev["p_holm"] < 0.05)).all()


def test_replace_auto_detects_hc3_and_hc1_override_needs_sets():
    sub = MATCHED[MATCHED["design"] == "replace"].reset_index(drop=True)
    auto = estimate_effects(sub, outcome="re78", treatment="treat", by=None)
    assert auto.settings["vcov"] == "HC3"
    with pytest.raises(impact.DataError, match="missing matched-set ids"):
        estimate_effects(sub, outcome="re78", treatment="treat", by=None, vcov="HC1")


def test_bad_outcomes():
    sub = MATCHED[MATCHED["design"] == "nearest"].reset_index(drop=True)
    with pytest.raises(impact.DataError, match="Column 'race': the outcome must be numeric"):
        estimate_effects(sub, outcome="race", treatment="treat", by=None)
    holed = sub.assign(re78=sub["re78"].where(sub.index != 3))
    with pytest.raises(impact.DataError, match=r"Column 're78': missing outcome values; 1 row \(position 3\)"):
        estimate_effects(holed, outcome="re78", treatment="treat", by=None)
    res = estimate_effects(holed, outcome="re78", treatment="treat", by=None, missing="drop")
    assert res.settings["n_dropped_missing"] == 1
    assert any("1 row(s) with a missing 're78' dropped" in n for n in res.notes)
    want = estimate_effects(sub.drop(index=3), outcome="re78", treatment="treat", by=None)
    pd.testing.assert_frame_equal(res.table, want.table)
    with pytest.raises(impact.ParameterError, match="bootstrap"):
        estimate_effects(sub, outcome="re78", treatment="treat", se_method="bootstrap")


def test_crossed_by_gives_interactions():
    """by=[married, nodegree]: each nodegree level's married 0 - 1 difference equals the contrast of
    the two cells' mean differences; its SE comes from the stacked cluster sums (interacted model)."""
    import statsmodels.api as sm
    sub = MATCHED[MATCHED["design"] == "ratio2"].reset_index(drop=True)
    lal = pd.read_csv(FIX / "lalonde.csv").set_index("row")
    sub["nodegree"] = lal.loc[sub["row"], "nodegree"].to_numpy()
    res = estimate_effects(sub, outcome="re78", treatment="treat", by=["married", "nodegree"])
    t = res.table.set_index(["subgroup", "estimand"])
    for lev in (0, 1):
        inter = t.loc[(f"nodegree={lev}: 0 - 1", "mean_diff")]
        a = t.loc[(f"0, nodegree={lev}", "mean_diff"), "estimate"]
        b = t.loc[(f"1, nodegree={lev}", "mean_diff"), "estimate"]
        assert inter["estimate"] == pytest.approx(a - b, rel=1e-12)
    # statsmodels: the two cells of nodegree=0, fully interacted, clustered on subclass
    s0 = sub[sub["nodegree"] == 0]
    D = pd.get_dummies(s0["married"].astype(str)).astype(float)
    Xs = pd.concat([D, D.mul(s0["treat"], axis=0).add_suffix(":t")], axis=1)
    fit = sm.WLS(s0["re78"], Xs, weights=s0["weights"]).fit(cov_type="cluster",
                                                             cov_kwds={"groups": s0["subclass"]})
    c = pd.Series([0.0, 0.0, 1.0, -1.0], index=Xs.columns)
    het = res.heterogeneity
    row = het[(het["kind"] == "interaction") & (het["subgroup"] == "nodegree=0")].iloc[0]
    assert row["estimate"] == pytest.approx(float(fit.params @ c), rel=1e-10)
    assert row["se"] == pytest.approx(float(np.sqrt(c @ fit.cov_params() @ c)), rel=1e-8)
    assert (het["kind"] == "joint test (interaction)").sum() == 1
    with pytest.raises(impact.ParameterError, match="takes one column, or two different columns"):
        estimate_effects(sub, outcome="re78", treatment="treat", by=["married", "nodegree", "race"])


def test_numeric_outcome_headline_and_plot():
    sub = MATCHED[MATCHED["design"] == "nearest"].reset_index(drop=True)
    res = estimate_effects(sub, outcome="re78", treatment="treat", by="married")
    head = res.headline()
    assert head.columns.tolist() == ["mean diff"] and head.index.tolist() == ["all", "0", "1", "0 - 1"]
    with pytest.raises(impact.ParameterError, match="kind='forest'"):
        res.plot(kind="curves")
    import matplotlib.pyplot as plt
    assert res.plot(kind="forest") is not None
    plt.close("all")


def test_match_result_with_replacement_uses_hc3():
    """A match result with replace=True: vcov='auto' takes HC3 (rows independent), and the numbers are
    those of a plain HC3 fit on its matched_data (statsmodels WLS cov_type='HC3')."""
    import statsmodels.api as sm
    from impact.datasets import load_lalonde
    lal = load_lalonde()
    m = impact.match(lal, treatment="treat", covariates=["age", "educ", "race", "married", "nodegree", "re74",
                                                         "re75"], replace=True)
    res = estimate_effects(m, outcome="re78", by=None)
    assert res.settings["vcov"] == "HC3"
    md = m.matched_data
    fit = sm.WLS(md["re78"], sm.add_constant(md["treat"].astype(float)), weights=md["weights"]).fit(cov_type="HC3")
    row = res.table.query("estimand == 'mean_diff'").iloc[0]
    assert row["estimate"] == pytest.approx(fit.params["treat"], rel=1e-10)
    assert row["se"] == pytest.approx(fit.bse["treat"], rel=1e-8)
