"""The synthetic register extract, and the pieces composed: risk sets -> risk-set matching ->
outcomes from spells -> Cox, recovering the generator's true hazard ratios for women and men.

Oracles: byte equality for the seed; the generator's known conditional hazard ratios (1.4 women,
1.2 men) for the composed design; for the naive cross-sectional comparison, the sign of the effect.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import pytest

from impact.design import match_riskset
from impact.registers import outcomes_from_spells, risk_sets
from impact.survival import CoxPH, aalen_johansen
from impact.synthetic import EXTRACT_HAZARD_RATIO, simulate_extract


def _bytes(sim):
    e = sim.extract
    tables = [e.persons, e.spells, e.programme, *e.benefits.values(), sim.truth]
    return b"".join(t.to_csv(index=False).encode() for t in tables)


def test_same_seed_same_bytes_and_a_generator_is_accepted():
    a, b = simulate_extract(3_000, random_state=11), simulate_extract(3_000, random_state=11)
    assert _bytes(a) == _bytes(b)
    assert _bytes(simulate_extract(3_000, random_state=12)) != _bytes(a)
    g = simulate_extract(3_000, random_state=np.random.default_rng(11))
    assert _bytes(g) == _bytes(a)


def test_malmo_scale_is_fast_and_valid():
    t0 = time.perf_counter()
    sim = simulate_extract(40_000, random_state=1)
    elapsed = time.perf_counter() - t0
    assert elapsed < 5.0
    e = sim.extract.validate()
    assert 4_000 < len(e.programme) < 7_000
    months = e.programme["start"].dt.to_period("M")
    assert months.nunique() == 30 and months.value_counts().min() > 80  # rolling entry over 30 months
    assert e.spells["deregistered"].isna().sum() > 1_000 and e.spells.groupby("person_id").size().max() > 2
    assert set(e.spells["code"].dropna()) <= set(e.codes.codes)
    assert sim.hazard_ratio == EXTRACT_HAZARD_RATIO == {"female": 1.4, "male": 1.2}
    t = sim.truth.set_index(["estimand", "subgroup", "horizon"])["value"]
    assert t[("share_diff", "female", 365.0)] > t[("share_diff", "male", 365.0)] > 0
    # participants are selected on their history: longer elapsed time and more economic assistance
    rs = risk_sets(e).to_frame()
    means = rs.groupby("treated")[["elapsed_days", "economic_assistance_months_12m"]].mean()
    assert (means.loc[1] > 1.3 * means.loc[0]).all()


def test_the_truth_agrees_with_the_participants_observed_incidence():
    """Participants' observed outcomes are draws of their treated potential outcome (censored only at
    the cut-off), so the Aalen-Johansen incidence of work or studies from their start must cover
    the generator's closed-form share_treated; the untreated share is lower."""
    sim = simulate_extract(40_000, random_state=2)
    ext = sim.extract
    idx = ext.programme.rename(columns={"start": "index_date"})
    out = outcomes_from_spells(ext, idx)
    aj = aalen_johansen(out["duration"], out["status"])
    cif = aj.cif(1, [90, 180, 365]).set_index("time")
    t = sim.truth.set_index(["estimand", "subgroup", "horizon"])["value"]
    for h in (90, 180, 365):
        assert cif.loc[h, "ci_low"] < t[("share_treated", "all", float(h))] < cif.loc[h, "ci_high"], h
        assert t[("share_untreated", "all", float(h))] < cif.loc[h, "ci_low"]


@pytest.mark.slow
def test_composed_risk_set_design_recovers_the_true_hazard_ratios_and_naive_does_not():
    sim = simulate_extract(40_000, random_state=1)
    ext = sim.extract
    panel = risk_sets(ext).to_frame().rename(columns={"index_date": "start_date"})
    panel["band"] = np.minimum(panel["elapsed_days"] // 60, 7).astype(int)   # elapsed time in 60-day bands
    panel["long"] = (panel["elapsed_days"] >= 365).astype(int)
    panel["ea"] = (panel["economic_assistance_months_12m"] > 0).astype(int)
    panel["primary"] = (panel["education"] == "primary").astype(int)
    panel["tertiary"] = (panel["education"] == "tertiary").astype(int)
    covariates = ["age", "elapsed_days", "long", "economic_assistance_months_12m", "ea", "born_abroad", "primary",
                  "tertiary"]
    m = match_riskset(panel, id="person_id", period="period", entry="entry", covariates=covariates,
                      exact=["gender", "band"], estimand="join_vs_never")
    md = m.matched_data
    # each control's clock starts on its participant's start date
    own = md.loc[md["entering"] == 1, ["subclass", "start_date"]].rename(columns={"start_date": "index_date"})
    md = md.drop(columns=["index_date"]).merge(own, on="subclass")
    out = outcomes_from_spells(ext, md, censor_at_entry=True, unregistered="keep")
    md = pd.concat([md.reset_index(drop=True), out.reset_index(drop=True)], axis=1)
    # a control no longer registered on its participant's start date leaves the set (and so the set)
    md = md[md.groupby("subclass")["duration"].transform(lambda s: s.notna().all())]
    assert md["entering"].sum() > 4_000 and (md["end"] == "programme").sum() > 100
    for gender, truth in EXTRACT_HAZARD_RATIO.items():
        d = md[md["gender"] == gender]
        fit = CoxPH().fit(d, "duration", "event", covariates=["entering"], strata="subclass", cluster="person_id")
        row = fit.summary().iloc[0]
        assert row["ci_low"] < truth < row["ci_high"], (gender, row.to_dict())
    # naive cross-sectional: participants from their start, never-participants from their first registration
    first = ext.spells.sort_values(["person_id", "registered"]).drop_duplicates("person_id")
    people = ext.persons.merge(ext.programme, on="person_id", how="left").merge(
        first[["person_id", "registered"]], on="person_id")
    people["entering"] = people["start"].notna().astype(int)
    people["index_date"] = people["start"].fillna(people["registered"])
    naive = pd.concat([people, outcomes_from_spells(ext, people)], axis=1)
    for gender in EXTRACT_HAZARD_RATIO:
        fit = CoxPH().fit(naive[naive["gender"] == gender], "duration", "event", covariates=["entering"])
        assert fit.summary().iloc[0]["ci_high"] < 1.0  # the wrong sign: the programme looks harmful
