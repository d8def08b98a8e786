"""Optimal, Mahalanobis, CEM, exact, subclassification and IPW designs.

Oracles: R fixtures written by tests/reference/matchit.R (Debian's MatchIt 4.5.1, for designs that
do not go through its broken nearest-neighbour code) and lalonde_matchit.json (patched MatchIt);
a dense assignment solver for optimal matching (optmatch is not installed, so MatchIt cannot do
optimal matching here); brute force for Mahalanobis; known identities for overlap weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impact
from impact.datasets import load_lalonde

FIX = Path(__file__).parent / "reference" / "fixtures"
COV = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(FIX / f"matchit_{name}.csv", comment="#")


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    return load_lalonde()


@pytest.fixture(scope="module")
def ref() -> dict:
    return json.loads((FIX / "lalonde_matchit.json").read_text())


def _plain(tab: pd.DataFrame) -> pd.DataFrame:
    return tab.rename(index=lambda s: s.replace("[", "").replace("]", ""))


# -- oracle: R, this machine's MatchIt (tests/reference/matchit.R) ------------------------------------
def test_propensity_equals_r_glm_csv(lalonde):
    want = _read("ps").set_index("term").rename(index={"(Intercept)": "Intercept"})
    got = impact.match(lalonde, "treat", COV).propensity.coefficients.set_index("term")
    got = _plain(got)
    for col in ["estimate", "se", "z", "p_value"]:
        np.testing.assert_allclose(got.loc[want.index, col], want[col], rtol=1e-6)


def test_balance_before_equals_r_csv(lalonde, ref):
    want = _read("balance_before").set_index("covariate")
    m = impact.match(lalonde, "treat", COV, distance=np.asarray(ref["ps.distance_by_row"]))
    got = _plain(m.balance().table)
    for st in ["mean_treated", "mean_control", "smd", "var_ratio", "ecdf_mean", "ecdf_max"]:
        np.testing.assert_allclose(got.loc[want.index, f"{st}_before"], want[st], rtol=1e-9, atol=1e-12)


DESIGNS = {
    "subclass_att": ({"method": "subclass"}, COV),
    "subclass_ate": ({"method": "subclass", "estimand": "ATE"}, COV),
    "exact_att": ({"method": "exact"}, ["race", "married", "nodegree"]),
    "cem_att": ({"method": "cem"}, COV),
}


@pytest.mark.parametrize("name", list(DESIGNS))
def test_strata_designs_equal_matchit(lalonde, name):
    kw, cov = DESIGNS[name]
    m = impact.match(lalonde, "treat", cov, id="row", **kw)
    w = _read(f"{name}_weights")
    np.testing.assert_allclose(m.weights, w["weights"], atol=1e-10)
    # same strata (up to labels) among the kept rows
    kept = w["weights"].to_numpy() > 0
    ct = pd.crosstab(m.subclass[kept], w["subclass"].to_numpy()[kept])
    assert ((ct > 0).sum(axis=1) == 1).all() and ((ct > 0).sum(axis=0) == 1).all()
    sizes = _read(f"{name}_sizes").set_index("row")
    ours = m.sample_sizes
    for r_row, our_row in [("Matched (ESS)", "matched_ess"), ("Matched", "matched"),
                           ("Unmatched", "unmatched"), ("Discarded", "discarded")]:
        np.testing.assert_allclose(ours.loc[our_row, ["control", "treated"]].to_numpy(float),
                                   sizes.loc[r_row, ["control", "treated"]].to_numpy(float), rtol=1e-9)
    bal = _read(f"{name}_balance").set_index("covariate")
    got = _plain(m.balance().table)
    for st in ["mean_treated", "mean_control", "smd", "var_ratio", "ecdf_mean", "ecdf_max"]:
        rows = [r for r in bal.index if not (st == "ecdf_mean" and r == "distance")]
        np.testing.assert_allclose(got.loc[rows, f"{st}_after"], bal.loc[rows, st], rtol=1e-8, atol=1e-12)
    if "distance" in bal.index:
        # our score equals R's to ~1e-13, which can split or merge exactly tied scores, and the
        # eCDF mean averages over *distinct* values: close, not identical
        assert got.loc["distance", "ecdf_mean_after"] == pytest.approx(bal.loc["distance", "ecdf_mean"], abs=1e-3)


def test_debian_nearest_pairs_differ_only_where_debian_breaks_the_greedy_rule(lalonde, ref):
    """Debian's MatchIt (abs() bug) picks the lower-score neighbour even when the other is nearer.
    Where its pairs differ from ours, ours are the patched MatchIt's, and Debian's choice is farther
    than a control that was still free at that point of the matching order."""
    deb = _read("nearest_debian")
    score = np.asarray(ref["ps.distance_by_row"])
    m = impact.match(lalonde, "treat", COV, distance=score, id="row")
    ours = m.matched_pairs.set_index("treated_pos")["control_pos"] + 1
    d = deb.set_index("treated_row")["control_row"]
    ours.index = ours.index + 1
    diff = d.index[d != ours.reindex(d.index)]
    assert len(diff) == 6  # as the reference README says: 6 of 185 pairs wrong at 1:1
    for tr in diff:
        assert abs(score[ours[tr] - 1] - score[tr - 1]) < abs(score[d[tr] - 1] - score[tr - 1])
    assert list(ours.sort_index()) == ref["nn_1to1.pairs.control_row"]


# -- oracle: patched MatchIt json, IPW ---------------------------------------------------------------
def test_ipw_att_weights_and_smd_equal_r(lalonde, ref):
    m = impact.match(lalonde, "treat", COV, method="ipw")
    t = lalonde["treat"].to_numpy() == 1
    assert m.weights[~t].sum() == pytest.approx(ref["ipw_att.sum_control_weights"], rel=1e-8)
    assert m.sample_sizes.loc["matched_ess", "control"] == pytest.approx(ref["ipw_att.ess_control"], rel=1e-8)
    got = _plain(m.balance().table)["smd_after"]
    for k, v in ref.items():
        if k.startswith("ipw_att.smd_after."):
            assert got[k.split(".")[-1]] == pytest.approx(v, rel=1e-7, abs=1e-12)
    assert m.matched_data["subclass"].isna().all()


def test_overlap_weights_balance_model_covariates_exactly(lalonde):
    # known identity: with a logistic propensity model, ATO weights equalise the weighted means
    # of every term in the model (Li, Morgan and Zaslavsky 2018)
    m = impact.match(lalonde, "treat", COV, method="ipw", estimand="ATO")
    tab = m.balance().table.drop(index="distance")
    np.testing.assert_allclose(tab["mean_treated_after"], tab["mean_control_after"], rtol=1e-7)


def test_ipw_trim_is_counted_in_flow(lalonde):
    m = impact.match(lalonde, "treat", COV, method="ipw", estimand="ATE", trim=0.05, stabilize=True)
    p = m.propensity.probability
    out = (p < 0.05) | (p > 0.95)
    fl = m.flow.to_frame()
    row = fl[(fl.step == "trimmed") & (fl.treatment == "all")].iloc[0]
    assert row.n_dropped == out.sum() > 0
    assert (m.weights[out] == 0).all() and (m.weights[~out] > 0).all()
    assert m.sample_sizes.loc["discarded"].sum() == out.sum()


# -- optimal: oracle = dense assignment (scipy.optimize.linear_sum_assignment) -------------------------
def test_optimal_total_distance_equals_dense_solver(lalonde, ref):
    from scipy.optimize import linear_sum_assignment

    score = np.asarray(ref["ps.distance_by_row"])
    t = lalonde["treat"].to_numpy() == 1
    m = impact.match(lalonde, "treat", COV, method="optimal", distance=score, id="row")
    cost = np.abs(score[t][:, None] - score[~t][None, :])
    r, c = linear_sum_assignment(cost)
    assert m.matched_pairs["distance_diff"].sum() == pytest.approx(cost[r, c].sum(), rel=1e-9)
    greedy = impact.match(lalonde, "treat", COV, distance=score, id="row")
    assert m.matched_pairs["distance_diff"].sum() <= greedy.matched_pairs["distance_diff"].sum() + 1e-9


def test_optimal_with_caliper_matches_as_many_as_possible_then_minimises(lalonde, ref):
    from scipy.optimize import linear_sum_assignment

    score = np.asarray(ref["ps.distance_by_row"])
    t = lalonde["treat"].to_numpy() == 1
    m = impact.match(lalonde, "treat", COV, method="optimal", distance=score, caliper=0.2, id="row")
    width = m.settings["caliper_width"]
    assert (m.matched_pairs["distance_diff"] <= width).all()
    cost = np.abs(score[t][:, None] - score[~t][None, :])
    big = 1e6
    r, c = linear_sum_assignment(np.where(cost <= width, cost, big))
    ok = cost[r, c] <= width
    assert len(m.matched_pairs) == ok.sum()
    assert m.matched_pairs["distance_diff"].sum() == pytest.approx(cost[r, c][ok].sum(), rel=1e-9)
    # optimal matches at least as many treated as greedy within the same caliper
    greedy = impact.match(lalonde, "treat", COV, distance=score, caliper=0.2, id="row")
    assert len(m.matched_pairs) >= len(greedy.matched_pairs)


def test_optimal_ratio_two(lalonde):
    m = impact.match(lalonde, "treat", COV, method="optimal", ratio=2)
    sizes = m.matched_pairs.groupby("subclass").size()
    assert (sizes == 2).all() and len(sizes) == 185
    assert m.matched_pairs["control"].is_unique


# -- Mahalanobis: oracle = brute force greedy ---------------------------------------------------------
def test_mahalanobis_equals_brute_force_greedy(lalonde):
    cov = ["age", "educ", "re74", "re75"]
    m = impact.match(lalonde, "treat", cov, distance="mahalanobis", id="row")
    X = lalonde[cov].to_numpy(float)
    t = lalonde["treat"].to_numpy() == 1
    Xc = X.copy()
    for g in (t, ~t):
        Xc[g] -= X[g].mean(axis=0)
    S = Xc.T @ Xc / (len(X) - 2)
    Si = np.linalg.inv(S)
    free = set(np.flatnonzero(~t))
    want = {}
    for i in np.flatnonzero(t):  # m_order "data" = id order = row order here
        cands = sorted(free)
        dif = X[cands] - X[i]
        d = np.einsum("ij,jk,ik->i", dif, Si, dif)
        j = cands[int(np.flatnonzero(d <= d.min() * (1 + 1e-9) + 1e-12)[0])]  # tie: smaller row
        want[i] = j
        free.discard(j)
    got = m.matched_pairs.set_index("treated_pos")["control_pos"].to_dict()
    assert got == want


def test_linear_logit_and_sklearn_classifier(lalonde):
    from sklearn.linear_model import LogisticRegression

    a = impact.match(lalonde, "treat", COV, link="linear_logit", caliper=0.2)
    p = a.propensity.probability
    np.testing.assert_allclose(a.distance, np.log(p / (1 - p)))
    clf = LogisticRegression(C=1e8, max_iter=5000)
    b = impact.match(lalonde, "treat", ["age", "educ", "married"], distance=clf)
    g = impact.match(lalonde, "treat", ["age", "educ", "married"])
    np.testing.assert_allclose(b.propensity.probability, g.propensity.probability, atol=1e-4)
    fitted = LogisticRegression(max_iter=5000).fit(lalonde[["age", "educ", "married"]].to_numpy(float),
                                                    lalonde["treat"])
    c = impact.match(lalonde, "treat", ["age", "educ", "married"], distance=fitted)
    np.testing.assert_allclose(c.distance, fitted.predict_proba(lalonde[["age", "educ", "married"]].to_numpy(float))[:, 1])


def test_discard_both_is_counted(lalonde, ref):
    score = np.asarray(ref["ps.distance_by_row"])
    m = impact.match(lalonde, "treat", COV, distance=score, discard="both")
    t = lalonde["treat"].to_numpy() == 1
    lo, hi = max(score[t].min(), score[~t].min()), min(score[t].max(), score[~t].max())
    out = (score < lo) | (score > hi)
    assert m.sample_sizes.loc["discarded"].sum() == out.sum() > 0
    assert not m.matched_data.index.isin(np.flatnonzero(out)).any()
    assert "common support" in m.flow.to_frame()["step"].tolist()


def test_get_matches_expands_reused_controls(lalonde, ref):
    m = impact.match(lalonde, "treat", COV, distance=np.asarray(ref["ps.distance_by_row"]),
                     replace=True, id="row")
    gm = m.get_matches()
    assert len(gm) == ref["nn_replace.get_matches.n_rows"]
    assert gm.groupby("subclass")["treat"].agg(["sum", "size"]).eq([1, 2]).all().all()
    # a weighted difference in means on the long form equals the one on matched_data (ATT)
    def att(df):
        t = df["treat"] == 1
        return np.average(df.loc[t, "re78"], weights=df.loc[t, "weights"]) - \
            np.average(df.loc[~t, "re78"], weights=df.loc[~t, "weights"])
    assert att(gm) == pytest.approx(ref["nn_replace.get_matches.att_re78"], rel=1e-9)
    assert att(m.matched_data) == pytest.approx(ref["nn_replace.att_re78"], rel=1e-9)
    reused = m.matched_data["subclass"].isna()
    assert reused.sum() > 0 and (m.matched_data.loc[reused, "treat"] == 0).all()
