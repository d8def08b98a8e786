"""impact.sensitivity: E-values, Rosenbaum bounds and placebo outcomes."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impact
from impact._validation import check_params, constraints_of, invalid_values
from impact.sensitivity import evalue, evalues, placebo_outcomes, rosenbaum_binary, rosenbaum_bounds

FIX = Path(__file__).parent / "reference" / "fixtures"
ROS = pd.read_csv(FIX / "sensitivity_rosenbaum.csv", comment="#")


# ---- E-values ------------------------------------------------------------------------------

def test_evalue_vanderweele_ding_example():
    """VanderWeele & Ding (2017, Ann Intern Med 167:268), breastfeeding example, also the example
    of EValue::evalues.RR(est = 3.9, lo = 1.8, hi = 8.7): E-value 7.26 for the estimate; for the
    lower limit 1.8 + sqrt(1.8 * 0.8) = 3.00 (the brief's 3.02 does not follow from the formula)."""
    t = evalue(3.9, 1.8, 8.7).table.iloc[0]
    assert t["evalue"] == pytest.approx(3.9 + np.sqrt(3.9 * 2.9))
    assert round(t["evalue"], 2) == 7.26
    assert t["evalue_ci"] == pytest.approx(3.0)
    # protective: RR 0.5 (0.3, 0.8): 1/RR = 2 -> 2 + sqrt(2) = 3.41; upper limit 0.8 -> 1.25 + sqrt(1.25 * .25)
    p = evalue(0.5, 0.3, 0.8).table.iloc[0]
    assert p["evalue"] == pytest.approx(2 + np.sqrt(2))
    assert p["evalue_ci"] == pytest.approx(1.25 + np.sqrt(1.25 * 0.25))
    assert evalue(1.3, 0.9, 1.8).table.iloc[0]["evalue_ci"] == 1.0       # interval includes the null


def test_evalue_hazard_ratio_common_outcome():
    """VanderWeele (2020) / EValue::evalues.HR(0.56, 0.46, 0.69, rare = FALSE): RR = (1 - 0.5^sqrt(HR)) /
    (1 - 0.5^sqrt(1/HR)), written out here."""
    conv = lambda h: (1 - 0.5 ** np.sqrt(h)) / (1 - 0.5 ** np.sqrt(1 / h))  # noqa: E731
    t = evalue(0.56, 0.46, 0.69, measure="HR", rare=False).table.iloc[0]
    rr, lim = 1 / conv(0.56), 1 / conv(0.69)
    assert t["rr"] == pytest.approx(conv(0.56))
    assert t["evalue"] == pytest.approx(rr + np.sqrt(rr * (rr - 1)))
    assert t["evalue_ci"] == pytest.approx(lim + np.sqrt(lim * (lim - 1)))
    rare = evalue(0.56, 0.46, 0.69, measure="HR", rare=True).table.iloc[0]
    assert rare["evalue"] == pytest.approx(1 / 0.56 + np.sqrt(1 / 0.56 * (1 / 0.56 - 1)))


def test_evalue_risk_difference_needs_baseline():
    t = evalue(0.1, 0.05, 0.15, measure="RD", baseline=0.2).table.iloc[0]
    assert t["rr"] == pytest.approx(1.5) and t["rr_limit"] == pytest.approx(1.25)
    with pytest.raises(impact.ParameterError, match="baseline"):
        evalue(0.1, measure="RD")
    with pytest.raises(impact.ParameterError, match="ci_low <= estimate <= ci_high"):
        evalue(2.0, 2.5, 3.0)


@pytest.fixture(scope="module")
def effects():
    sim = impact.simulate(n_pool=1500, random_state=3)
    v = impact.validate(sim.registers, sim.roles)
    m = impact.match(v.data, treatment="participant", covariates=list(sim.roles.covariates), caliper=0.2,
                     exact=["gender"], id="person_id")
    data = impact.time_to_event(m.matched_data, sim.roles)
    return data, impact.estimate_effects(data, treatment="participant", by="gender", horizons=(90, 180),
                                         subdistribution=False)


def test_evalues_from_effects(effects):
    _, res = effects
    ev = evalues(res)
    t = ev.table
    assert set(t["measure"]) == {"HR", "RR", "RD"}
    assert set(t["subgroup"]) == {"all", "female", "male"}
    hr = res.table.query("subgroup == 'all' and estimand == 'hazard_ratio'").iloc[0]
    row = t.query("subgroup == 'all' and measure == 'HR'").iloc[0]
    share_c = res.table.query("subgroup == 'all' and estimand == 'share_control' and horizon == 180").iloc[0]
    rare = share_c["estimate"] < 0.15
    assert row["evalue"] == pytest.approx(evalue(hr.estimate, hr.ci_low, hr.ci_high, measure="HR",
                                                 rare=bool(rare)).table["evalue"].iloc[0])
    rd = t.query("subgroup == 'all' and measure == 'RD' and horizon == 90").iloc[0]
    d = res.table.query("subgroup == 'all' and estimand == 'share_diff' and horizon == 90").iloc[0]
    assert rd["estimate"] == d["estimate"] and rd["ci_low"] == d["ci_low"]
    with pytest.raises(impact.ParameterError, match="horizon"):
        evalues(res, horizons=[400])


# ---- Rosenbaum bounds ----------------------------------------------------------------------

@pytest.mark.parametrize("case, treated, control", [("hammond", 110, 12), ("small", 7, 2)])
def test_rosenbaum_pairs_against_r_pbinom(case, treated, control):
    """Oracle: R's pbinom (tests/reference/effects_means.R); Hammond's smoking pairs are the example of
    rbounds::binarysens(12, 110) (Rosenbaum 2002, Observational Studies, p. 112)."""
    ref = ROS[ROS["case"] == case]
    r = rosenbaum_binary(treated, control, gamma=ref["gamma"].tolist())
    np.testing.assert_allclose(r.table["p_upper"], ref["p_upper"], rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(r.table["p_lower"], ref["p_lower"], rtol=1e-10, atol=1e-300)


def test_rosenbaum_small_table_by_hand():
    """T = 7 of D = 9 discordant pairs: at Gamma = 2, p+ = 2/3 and the bound is
    sum_{k=7}^{9} C(9,k) (2/3)^k (1/3)^(9-k) = (36*4 + 9*2 + 1) * 2^5 ... written out exactly."""
    from math import comb
    p = 2 / 3
    hand = sum(comb(9, k) * p ** k * (1 - p) ** (9 - k) for k in range(7, 10))
    r = rosenbaum_binary(7, 2, gamma=[2])
    assert r.table["p_upper"].iloc[0] == pytest.approx(hand, rel=1e-12)
    # significance at 5% is lost where the bound crosses 0.05 (here already at Gamma = 1: p = 0.0898)
    assert r.gamma_critical == 1.0
    big = rosenbaum_binary(110, 12)
    assert 5 < big.gamma_critical < 6          # bound 0.023 at Gamma 5, 0.097 at Gamma 6 (R pbinom)
    assert rosenbaum_binary(110, 12, gamma=[big.gamma_critical]).table["p_upper"].iloc[0] == pytest.approx(0.05)


def _sets_frame():
    n = [3, 3, 3, 3, 4, 4, 4, 3, 3, 4, 3, 4]
    c = [1, 2, 1, 2, 1, 2, 3, 1, 1, 2, 2, 1]
    t = [1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0]
    rows = []
    for s, (ns, cs, ts) in enumerate(zip(n, c, t)):
        ys = [ts] + [1] * (cs - ts) + [0] * (ns - 1 - (cs - ts))
        rows += [dict(subclass=s, treat=int(j == 0), work=ys[j]) for j in range(ns)]
    return pd.DataFrame(rows), n, c, t


def test_rosenbaum_one_to_k_sets_against_r_and_brute_force():
    """1:2 and 1:3 sets. Oracle 1: R's explicit convolution (fixture). Oracle 2: enumerate every
    assignment of the treatment within each set under Rosenbaum's model with u = outcome
    (P(unit j treated) = Gamma^u_j / sum_k Gamma^u_k), independently across sets."""
    d, n, c, t = _sets_frame()
    ref = ROS[ROS["case"] == "sets"]
    r = rosenbaum_bounds(d, "work", treatment="treat", gamma=ref["gamma"].tolist(), alternative="greater")
    np.testing.assert_allclose(r.table["p_upper"], ref["p_upper"], rtol=1e-10)
    np.testing.assert_allclose(r.table["p_lower"], ref["p_lower"], rtol=1e-10)
    g = 2.0
    per_set = [[(g if j < cs else 1.0) / (g * cs + ns - cs) for j in range(ns)] for ns, cs in zip(n, c)]
    # every one of the prod(n) = 2.2 million assignments, as one array (outer products, no loop over them)
    prob = np.ones(1)
    hits = np.zeros(1, dtype=np.int64)
    for ps, ns, cs in zip(per_set, n, c):
        prob = np.multiply.outer(prob, np.asarray(ps)).ravel()
        hits = np.add.outer(hits, (np.arange(ns) < cs).astype(np.int64)).ravel()
    assert prob.size == int(np.prod(n))
    total = float(prob[hits >= sum(t)].sum())
    assert r.table.set_index("gamma").loc[2.0, "p_upper"] == pytest.approx(total, rel=1e-10)
    assert r.n_informative == 12 and r.statistic == sum(t)


def test_rosenbaum_from_time_to_event(effects):
    data, _ = effects
    r = rosenbaum_bounds(data, treatment="participant", horizon=180, gamma=[1, 1.5, 2])
    assert r.settings["outcome"] == "in work or studies by day 180"
    assert list(r.table["p_upper"]) == sorted(r.table["p_upper"])       # the bound grows with Gamma
    assert (r.table["p_lower"] <= r.table["p_upper"]).all()
    with pytest.raises(impact.ParameterError, match="beyond the follow-up"):
        rosenbaum_bounds(data, treatment="participant", horizon=1e6)


def test_rosenbaum_bad_input():
    d, *_ = _sets_frame()
    with pytest.raises(impact.ParameterError, match=r"'gamma' parameter of rosenbaum_bounds must be"):
        rosenbaum_bounds(d, "work", treatment="treat", gamma=[0.5, 2])
    with pytest.raises(impact.DataError, match="binary 0/1"):
        rosenbaum_bounds(d.assign(work=d["work"] * 2), "work", treatment="treat")
    with pytest.raises(impact.DataError, match="exactly one participant"):
        rosenbaum_bounds(d.assign(subclass=0), "work", treatment="treat")
    with pytest.raises(impact.ParameterError, match="outcome='column'"):
        rosenbaum_bounds(d, treatment="treat")


# ---- placebo outcomes ----------------------------------------------------------------------

def test_placebo_estimated_like_the_outcome():
    from impact.datasets import load_lalonde
    from impact.effects import estimate_effects
    lal = load_lalonde().assign(weights=1.0)
    r = placebo_outcomes(lal, ["re74", "re75"], outcome="re78", treatment="treat", cluster=None, by="married")
    t = r.table
    assert t["role"].tolist().count("outcome") == 4     # all, 0, 1, 0 - 1
    direct = estimate_effects(lal, outcome="re74", treatment="treat", by="married", cluster=None).table
    got = t[(t["variable"] == "re74")].set_index("subgroup")["estimate"]
    want = direct[direct["estimand"] == "mean_diff"].set_index("subgroup")["estimate"]
    pd.testing.assert_series_equal(got, want, check_names=False)
    verdict = t[(t["variable"] == "re74") & (t["subgroup"] == "all")]["verdict"].iloc[0]
    assert verdict == "difference detected: hidden bias likely" and r.any_detected
    # Lalonde's PSID controls earned far more before the programme: the naive comparison is biased


def test_placebo_bad_input():
    from impact.datasets import load_lalonde
    lal = load_lalonde()
    with pytest.raises(impact.ParameterError, match="were matched on"):
        placebo_outcomes(lal, "re74", treatment="treat", covariates=["re74", "age"], cluster=None)
    with pytest.raises(impact.DataError, match="must be numeric"):
        placebo_outcomes(lal, "race", treatment="treat", cluster=None)
    holed = lal.assign(re74=lal["re74"].where(lal.index != 5))
    with pytest.raises(impact.DataError, match="missing outcome values"):
        placebo_outcomes(holed, "re74", treatment="treat", cluster=None)
    r = placebo_outcomes(holed, "re74", treatment="treat", cluster=None, missing="drop")
    assert any("1 row(s) with a missing 're74' dropped" in n for n in r.notes)


def test_placebo_takes_covariates_from_match_result():
    sim = impact.simulate(n_pool=800, random_state=2)
    v = impact.validate(sim.registers, sim.roles)
    covs = list(sim.roles.covariates)
    m = impact.match(v.data, treatment="participant", covariates=covs, caliper=0.2, id="person_id")
    num = [c for c in covs if pd.api.types.is_numeric_dtype(m.matched_data[c])]
    with pytest.raises(impact.ParameterError, match="were matched on"):
        placebo_outcomes(m, num[0])


FUNCS = {"evalue": evalue, "evalues": evalues, "rosenbaum_bounds": rosenbaum_bounds,
         "rosenbaum_binary": rosenbaum_binary, "placebo_outcomes": placebo_outcomes}
CASES = [(k, p, v) for k, f in FUNCS.items() for p, v in invalid_values(f)]


@pytest.mark.parametrize("key, param, value", CASES, ids=[f"{k}-{p}-{v!r}"[:50] for k, p, v in CASES])
def test_generated_bad_inputs(key, param, value):
    """The tables' own bad values are refused with the parameter named (impact.PACKAGES does not list
    sensitivity yet, so tests/test_validation_params.py does not reach these)."""
    with pytest.raises(impact.ParameterError, match=rf"The '{param}' parameter of {key} must be .* Got "):
        check_params(key, constraints_of(FUNCS[key]), {param: value})
