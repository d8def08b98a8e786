"""The dynamic (risk-set) design as the main flow: impact.evaluate(extract), on the bundled extract.

Oracles: the generator's closed-form truth (share differences among participants at 90, 180 and 365
days, join versus never join and join now versus wait; conditional hazard ratios 1.4 for women and
1.2 for men); the unweighted effect table of the same analysed sample (the censoring weights move
the women's hazard ratio up, towards the truth); for the
cross-sectional match on the same data, the truth falling outside its intervals; identities that
hold by construction (cumulative incidences of disjoint causes add up; the headline row of the
sensitivity table is the headline; flow counts add up to the extract's own counts).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impact
from impact.cli import load_bundled
from impact.pipeline._registers import effects_of, truth_for
from impact.registers import covariates_at

HORIZONS = (90.0, 180.0, 365.0)


@pytest.fixture(scope="module")
def bundled():
    return load_bundled()


@pytest.fixture(scope="module")
def ev(bundled):
    return impact.evaluate(bundled.extract, truth=bundled.truth, random_state=0)


@pytest.fixture(scope="module")
def ev_wait(bundled):
    return impact.evaluate(bundled.extract, estimand="join_vs_wait", random_state=0, sensitivity=False)


def _truth(bundled, subgroup, horizon, estimand="join_vs_never"):
    t = truth_for(bundled.truth, estimand).set_index(["estimand", "subgroup", "horizon"])["value"]
    return float(t[("share_diff", subgroup, horizon)])


def test_dynamic_design_covers_the_true_share_differences(ev, bundled):
    """Men at every horizon, women at 90 and 180 days: the interval covers the generator's truth;
    both at 365 days have the right sign; the women's hazard ratio is above 1 and the men's covers 1.2."""
    s = ev.summary().set_index(["subgroup", "estimand", "horizon"]).sort_index()
    for g, horizons in (("male", HORIZONS), ("female", (90.0, 180.0))):
        for h in horizons:
            row = s.loc[(g, "share_diff", h)]
            assert row["ci_low"] < _truth(bundled, g, h) < row["ci_high"], (g, h, row.to_dict())
    for g in ("female", "male"):
        assert s.loc[(g, "share_diff", 365.0), "estimate"] > 0
    hr = ev.summary().query("estimand == 'hazard_ratio'").set_index("subgroup")
    assert hr.loc["female", "ci_low"] > 1
    assert hr.loc["male", "ci_low"] < bundled.hazard_ratio["male"] < hr.loc["male", "ci_high"]


@pytest.mark.xfail(strict=True, reason="the bundled draw, not the design: the women's share difference at 365 "
                   "days is 0.038 [-0.003, 0.079] against 0.081, 2.1 SEs low (the hazard ratio 1.24 [1.08, 1.41] "
                   "covers 1.4). Over 200 draws of the bundled size (benchmarks/simulate_dynamic.py, "
                   "docs/registers.md) the women's estimate at 365 days is 0.0048 (Monte Carlo SE 0.0014) below "
                   "its truth, a quarter of one SE (0.020), and its 95% interval covers the truth in 94.5% of the "
                   "draws (MC SE 1.6 points); tests/test_dynamic_simulation.py checks the mean over draws in the "
                   "suite. The bundled seed stays: it was not picked to pass")
def test_dynamic_design_covers_the_womens_truth_at_a_year_and_the_hazard_ratio(ev, bundled):
    s = ev.summary().set_index(["subgroup", "estimand", "horizon"]).sort_index()
    row = s.loc[("female", "share_diff", 365.0)]
    hr = ev.summary().query("estimand == 'hazard_ratio'").set_index("subgroup")
    assert row["ci_low"] < _truth(bundled, "female", 365.0) < row["ci_high"] and \
        hr.loc["female", "ci_low"] < 1.4 < hr.loc["female", "ci_high"]


def test_with_censoring_weights_the_hazard_ratios_cover_the_truth(ev, bundled):
    """Censoring at a control's own entry is informative; weighted (the default for join_vs_never),
    the hazard ratios of women and men cover 1.4 and 1.2, and the weights move the women's hazard
    ratio up from the unweighted one of the same analysed sample."""
    hr = ev.summary().query("estimand == 'hazard_ratio'").set_index("subgroup")
    for g in ("female", "male"):
        assert hr.loc[g, "ci_low"] < bundled.hazard_ratio[g] < hr.loc[g, "ci_high"], (g, hr.loc[g].to_dict())
    plain = effects_of(ev.analysed, "gender", horizons=HORIZONS, subdistribution=False).summary()
    plain = plain.query("estimand == 'hazard_ratio'").set_index("subgroup")
    assert hr.loc["female", "estimate"] > plain.loc["female", "estimate"]
    assert ev.settings["ipcw"] and ev.effects.settings["weights"] == "ipcw"
    censored = int(ev.flow_details["contamination"].set_index("measure")["count"]
                   ["censored on the day they joined (set memberships)"])
    assert ev.effects.settings["ipcw"]["censored"] == censored
    assert any("weighted out (IPCW)" in n and f"({censored} of" in n for n in ev.matching.notes)


def test_join_vs_wait_covers_its_truth_for_women_and_men(ev_wait, bundled):
    """Oracle: the generator's join-now-versus-wait truth (a waiting participant may start later)."""
    assert not ev_wait.settings["ipcw"]
    s = ev_wait.summary().set_index(["subgroup", "estimand", "horizon"]).sort_index()
    for g in ("female", "male"):
        for h in HORIZONS:
            row = s.loc[(g, "share_diff", h)]
            t = _truth(bundled, g, h, "join_vs_wait")
            assert row["ci_low"] < t < row["ci_high"], (g, h, row.to_dict(), t)
            assert t < _truth(bundled, g, h)          # waiting people may start later: a smaller effect


def test_a_cross_sectional_match_on_the_same_data_misses_the_truth(bundled):
    """One row per person: participants described at their start, never-participants at their first
    registration, matched cross-sectionally (propensity score, exact on gender): people who join
    later can never be controls and elapsed time is not comparable, so the truth is outside its
    intervals (the wrong sign)."""
    ext = bundled.extract
    first = ext.spells.sort_values(["person_id", "registered"]).drop_duplicates("person_id")
    people = ext.persons.merge(ext.programme, on="person_id", how="left").merge(
        first[["person_id", "registered"]], on="person_id")
    people["participant"] = people["start"].notna().astype(int)
    people["start_date"] = pd.to_datetime(people["start"]).fillna(pd.to_datetime(people["registered"]))
    cov = covariates_at(ext, people.rename(columns={"start_date": "index_date"}))
    people = pd.concat([people, cov.drop(columns=["registered", "elapsed_days"])], axis=1)
    covs = ["age", "born_abroad", "education", "district"]   # history at first registration would separate
    m = impact.match(people, treatment="participant", covariates=covs, exact=["gender"], caliper=0.2, id="person_id")
    md = m.matched_data.rename(columns={"start_date": "index_date"})
    out = impact.outcomes_from_spells(ext, md)
    md = pd.concat([md, out.drop(columns=["event"]).rename(columns={"status": "event"})], axis=1)
    eff = impact.estimate_effects(md, treatment="participant", by="gender", subdistribution=False)
    s = eff.summary().set_index(["subgroup", "estimand", "horizon"]).sort_index()
    for g in ("female", "male"):
        row = s.loc[(g, "share_diff", 365.0)]
        assert not row["ci_low"] < _truth(bundled, g, 365.0) < row["ci_high"], (g, row.to_dict())
        hr = s.loc[(g, "hazard_ratio")].iloc[0]
        assert hr["ci_high"] < bundled.hazard_ratio[g], (g, hr.to_dict())


def test_estimands_differ_only_in_censoring_at_a_controls_own_start(ev, ev_wait):
    never, wait = ev.analysed, ev_wait.analysed
    assert (never.loc[never["entering"] == 0, "end"] == "programme").sum() > 100
    assert (wait["end"] == "programme").sum() == 0
    # same matched sets (the estimand does not change who is matched)
    assert never["subclass"].nunique() == wait["subclass"].nunique()
    assert ev.settings["estimand"] == "join_vs_never" and ev_wait.settings["estimand"] == "join_vs_wait"
    assert any("censored on the day it starts" in n for n in ev.matching.notes)
    assert any("join now versus waiting" in n.lower() or "joining now versus waiting" in n for n in ev_wait.matching.notes)
    # participants' own outcomes are the same in both
    p1 = never[never["entering"] == 1].set_index("subclass")["duration"].sort_index()
    p2 = wait[wait["entering"] == 1].set_index("subclass")["duration"].sort_index()
    assert p1.equals(p2)


def test_each_control_clock_starts_on_its_participants_start_date(ev, bundled):
    a = ev.analysed
    own = a[a["entering"] == 1].set_index("subclass")["start_date"]
    assert (a["index_date"] == a["subclass"].map(own)).all()
    # exact on period, gender and elapsed-time band within every set
    for col in ("period", "gender", "elapsed_band"):
        assert (a.groupby("subclass")[col].nunique() == 1).all(), col
    assert ev.settings["exact"] == ["period", "gender", "elapsed_band"]


def test_flow_counts_persons_and_person_periods(ev, bundled):
    ext = bundled.extract
    t = ev.flow.table()
    assert t.loc["registered", "all"] == len(ext.persons)
    assert t.loc["registered", "treated"] == len(ext.programme)
    rs_flow = ev.flow_details["periods"]
    assert t.loc["at risk (person-periods)", "all"] == rs_flow["at_risk"].sum()
    assert t.loc["at risk (person-periods)", "treated"] == rs_flow["treated"].sum()
    a = ev.analysed
    assert t.loc["analysed (set memberships)", "treated"] == (a["entering"] == 1).sum()
    # a person who was a control before its own start counts once, as a participant
    only_control = set(a.loc[a["entering"] == 0, "person_id"]) - set(a.loc[a["entering"] == 1, "person_id"])
    assert t.loc["analysed (persons)", "control"] == len(only_control)
    lost = t.loc["at risk (person-periods)", "treated"] - t.loc["analysed (set memberships)", "treated"]
    assert ev.flow_details["unmatched"]["participants"].sum() == lost
    con = ev.flow_details["contamination"].set_index("measure")["count"]
    ctrl = a[a["entering"] == 0]
    assert con["controls who later joined the programme (set memberships)"] == ctrl["entry"].notna().sum()
    assert 0 < con["censored on the day they joined (set memberships)"] <= ctrl["entry"].notna().sum()


def test_unknown_exit_sensitivity_reruns_the_headline(ev):
    sens = ev.sensitivity_unknown
    assert set(sens["unknown_as"]) == {"censored", "competing", "work"}
    head = sens[sens["headline"]]
    assert set(head["unknown_as"]) == {"competing"}          # code 90 (unknown) competes by default
    s = ev.summary().set_index(["subgroup", "estimand", "horizon"]).sort_index()
    for r in head.itertuples():
        key = (r.subgroup, r.estimand, r.horizon) if r.estimand == "share_diff" else (r.subgroup, r.estimand)
        got = s.loc[key]["estimate"]
        assert np.isclose(float(np.ravel(got)[0]), r.estimate)
    # more events when unknown exits count as work: both arms' shares rise, so the difference moves
    w = sens[(sens["unknown_as"] == "work") & (sens["estimand"] == "share_diff")]
    c = sens[(sens["unknown_as"] == "competing") & (sens["estimand"] == "share_diff")]
    assert not np.allclose(w["estimate"].to_numpy(), c["estimate"].to_numpy())


def test_shares_by_cause_add_up(ev):
    """Cumulative incidences of disjoint causes add up: work + studies = work or studies, and
    unsubsidised + subsidised = work."""
    cs = ev.cause_shares.set_index(["cause", "subgroup", "estimand", "horizon"])["estimate"]
    s = ev.summary().set_index(["subgroup", "estimand", "horizon"])["estimate"]
    for g in ("all", "female", "male"):
        for h in HORIZONS:
            for est in ("share_treated", "share_control"):
                assert np.isclose(cs[("work", g, est, h)] + cs[("studies", g, est, h)], s[(g, est, h)])
                assert np.isclose(cs[("work_unsubsidised", g, est, h)] + cs[("work_subsidised", g, est, h)],
                                  cs[("work", g, est, h)])


def test_report_states_the_estimand_and_writes_the_design_tables(ev, tmp_path):
    from impact.pipeline import write_design_tables
    path = impact.write_report(ev, tmp_path / "r")
    text = path.read_text(encoding="utf-8")
    assert "join_vs_never" in text and "censored on the day it starts" in text
    assert "inverse probability of censoring weighting" in text
    written = {p.name for p in write_design_tables(ev, path.parent)}
    assert written == {"sensitivity_unknown.csv", "cause_shares.csv", "contamination.csv", "unmatched.csv"}
    un = pd.read_csv(path.parent / "unmatched.csv", dtype=str)
    assert not (un["participants"].isin([str(i) for i in range(1, 5)])).any()   # small counts suppressed


def test_the_cross_sectional_signature_is_kept_and_designs_do_not_mix(bundled):
    with pytest.raises(impact.ParameterError, match="risk-set design"):
        impact.evaluate(bundled.extract, method="nearest")
    sim = impact.simulate(2000, random_state=1)
    with pytest.raises(impact.ParameterError, match="roles"):
        impact.evaluate(sim.registers)
    with pytest.raises(impact.ParameterError, match="register extract"):
        impact.evaluate(sim.registers, sim.roles, method="riskset")
    small = impact.evaluate(sim.registers, sim.roles)
    assert small.design == "cross-sectional" and small.sensitivity_unknown is None




def test_every_flow_step_and_reason_has_a_swedish_label(ev):
    """Oracle: the label map. The Swedish report shows no English step or reason of the register flow."""
    from impact.labels import has_label, label
    table = ev.flow.table().reset_index()
    for step, reason in zip(table["step"], table["reason"]):
        skey, rkey = str(step).replace(" ", "_"), "reason_" + "_".join(str(reason).split())
        assert has_label(skey) and label(skey, "sv") != label(skey, "en"), step
        assert has_label(rkey) and label(rkey, "sv") != label(rkey, "en"), reason


def test_design_tables_withhold_small_groups_like_the_report(tmp_path):
    """sensitivity_unknown.csv and cause_shares.csv go through the publication rules: with a minimum
    group size above the men's, every men's row (and each women-minus-men row) is withheld, in Swedish
    labelled."""
    from dataclasses import replace as dc_replace

    from impact.labels import label
    from impact.pipeline import write_design_tables
    b = impact.synthetic.simulate_extract(n_persons=3000, random_state=3)
    ev = impact.evaluate(b.extract, random_state=0)
    n = ev.summary().dropna(subset=["n_treated"]).drop_duplicates("subgroup").set_index("subgroup")["n_treated"]
    cut = int(n.drop("all").min()) + 1
    small = str(n.drop("all").idxmin())
    write_design_tables(ev, tmp_path, min_effect_n=cut)
    for name in ("sensitivity_unknown", "cause_shares"):
        t = pd.read_csv(tmp_path / f"{name}.csv")
        rows = t[t["subgroup"] == small]
        assert len(rows) and rows["estimate"].isna().all() and (rows["withheld"] == "group_size").all(), name
        diff = t[t["subgroup"].str.contains(" - ", regex=False)]
        assert len(diff) == 0 or diff["estimate"].isna().all(), name
        assert t.loc[t["subgroup"] == "all", "estimate"].notna().any(), name
    sv = dc_replace(ev, lang="sv")
    write_design_tables(sv, tmp_path / "sv" if (tmp_path / "sv").mkdir() is None else tmp_path)
    t = pd.read_csv(tmp_path / "sv" / "cause_shares.csv")
    assert label("estimate", "sv") in t.columns and "estimate" not in t.columns


def test_curves_count_persons_at_risk_not_set_memberships(ev, bundled):
    """A control serves in several sets: the curves' numbers at risk (which cut the published
    curves) count each person once, while any of its rows is followed (hand count)."""
    a = ev.analysed
    pid = bundled.extract.columns.id
    assert a.loc[a["entering"] == 0, pid].duplicated().any()   # the case at hand
    curves = ev.effects.curves
    for arm, x_ in curves[curves["subgroup"] == "all"].groupby("arm"):
        rows = a[a["entering"] == int(arm == "treated")]
        longest = rows.groupby(pid)["duration"].max().to_numpy(float)
        times = x_["time"].to_numpy()[::25]
        got = x_["n_at_risk"].to_numpy()[::25]
        assert got.tolist() == [int((longest >= t).sum()) for t in times], arm
    ctrl0 = curves.query("subgroup == 'all' and arm == 'control' and time == 0")["n_at_risk"].item()
    assert ctrl0 == a.loc[a["entering"] == 0, pid].nunique() < (a["entering"] == 0).sum()
