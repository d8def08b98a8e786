"""Effect estimation: bootstrap against the influence-function SEs, seeds, bad input, and
metamorphic checks (integer weights equal duplicated matched sets)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impact
from impact import DataError, ParameterError


@pytest.fixture(scope="module")
def analysed():
    sim = impact.simulate(6000, random_state=21)
    ev = impact.evaluate(sim.registers, sim.roles, horizons=(90, 180))
    return ev.analysed, ev.effects


def _est(res):
    return res.summary().set_index(["subgroup", "estimand", "horizon"])


def test_bootstrap_agrees_with_influence_and_ignores_n_jobs(analysed):
    """Oracle: two independent variance methods. Resampling matched sets and the clustered
    infinitesimal jackknife estimate the same sampling variance."""
    data, ij = analysed
    b1 = impact.estimate_effects(data, treatment="participant", horizons=(90, 180), se_method="bootstrap",
                                 n_boot=120, random_state=3)
    a, b = _est(ij), _est(b1)
    pd.testing.assert_series_equal(a["estimate"], b["estimate"])          # points unchanged
    ratio = (b["se"] / a["se"]).dropna()
    assert len(ratio) > 30
    assert ratio.between(0.7, 1.4).all(), ratio[~ratio.between(0.7, 1.4)]
    assert (b["ci_low"] <= b["estimate"]).all() and (b["estimate"] <= b["ci_high"]).all()
    assert "bootstrap of 120" in b1.settings["se_method"]
    b2 = impact.estimate_effects(data, treatment="participant", horizons=(90, 180), se_method="bootstrap",
                                 n_boot=120, random_state=3, n_jobs=2)
    pd.testing.assert_frame_equal(b1.summary(), b2.summary())


def test_integer_weights_equal_duplicated_sets(analysed):
    """Metamorphic: doubling the weight of some matched sets equals listing them twice.

    Shares and restricted means only: with Efron's tie correction (R's default, used for the
    hazard ratio) a weight of 2 and a duplicated row are not the same tie pattern, in R too."""
    data, _ = analysed
    sets = data["subclass"].unique()[:200]
    dup = data[data["subclass"].isin(sets)].assign(subclass=lambda d: d["subclass"] + 10**6)
    doubled = pd.concat([data, dup], ignore_index=True)
    weighted = data.assign(weights=np.where(data["subclass"].isin(sets), 2.0, 1.0) * data["weights"])
    a = _est(impact.estimate_effects(doubled, treatment="participant", horizons=(90, 180), cluster=None))
    b = _est(impact.estimate_effects(weighted, treatment="participant", horizons=(90, 180), cluster=None))
    keep = ~a.index.get_level_values("estimand").str.endswith("hazard_ratio")
    np.testing.assert_allclose(a["estimate"][keep], b["estimate"][keep], rtol=1e-9)


def test_horizon_beyond_follow_up_is_not_extrapolated(analysed):
    data, _ = analysed
    res = impact.estimate_effects(data, treatment="participant", horizons=(90, 5000))
    far = res.summary().query("horizon == 5000")
    assert far["estimate"].isna().all()
    assert any("beyond the follow-up" in n for n in res.notes)


def test_subgroup_without_events_is_not_estimable(analysed):
    data, _ = analysed
    d = data.copy()
    male_treated = (d["gender"] == "male") & (d["participant"] == 1)
    d.loc[male_treated & (d["event"] == 1), "event"] = 0
    res = impact.estimate_effects(d, treatment="participant", horizons=(90,))
    hr = res.summary().query("subgroup == 'male' and estimand == 'hazard_ratio'")
    assert hr["estimate"].isna().all()
    assert any("not estimable" in n for n in res.notes)


BAD = [
    ("duration", 0, r"durations must be > 0"),
    ("duration", -3, r"durations must be > 0"),
    ("event", np.nan, r"missing event codes"),
    ("event", 7, r"undeclared event codes 7"),
    ("weights", -1.0, r"weights must be >= 0"),
    ("participant", 2, r"treatment must be 0/1"),
]


@pytest.mark.parametrize("column,value,pattern", BAD)
def test_bad_input(analysed, column, value, pattern):
    data, _ = analysed
    d = data.copy()
    if column == "event":
        d[column] = d[column].astype(float)
    d.loc[d.index[[4, 9]], column] = value
    with pytest.raises(DataError, match=pattern) as info:
        impact.estimate_effects(d, treatment="participant", horizons=(90,))
    assert info.value.positions[:2] == (4, 9)


def test_all_zero_weights_and_bad_options(analysed):
    data, _ = analysed
    with pytest.raises(DataError, match="weights are all zero"):
        impact.estimate_effects(data.assign(weights=0.0), treatment="participant")
    with pytest.raises(ParameterError, match="'se_method' parameter"):
        impact.estimate_effects(data, treatment="participant", se_method="jackknife")
    with pytest.raises(ParameterError, match="treatment column"):
        impact.estimate_effects(data)


def test_effects_equal_r_survival_on_matched_data():
    """Oracle: R's survival (tests/reference/effects.R). Aalen-Johansen shares and their influence
    from survfit(influence=TRUE), the difference clustered on matched sets, the restricted mean,
    coxph(..., cluster = subclass, ties = "efron"), survreg(dist = "weibull", cluster = subclass)
    and finegray + weighted coxph."""
    from pathlib import Path
    fx = Path(__file__).parent / "reference" / "fixtures"
    data = pd.read_csv(fx / "effects_matched.csv", comment="#")
    ref = pd.read_csv(fx / "effects_reference.csv", comment="#", skipinitialspace=True)
    res = impact.estimate_effects(data, treatment="participant", by="gender", horizons=(90, 180, 365))
    ours = res.summary().assign(horizon=lambda d: d["horizon"].fillna(-1))
    ref = ref.assign(horizon=ref["horizon"].fillna(-1))
    both = ref.merge(ours, on=["subgroup", "estimand", "horizon"], suffixes=("_r", ""))
    assert len(both) == len(ref) == 45
    np.testing.assert_allclose(both["estimate"], both["estimate_r"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(both["se"], both["se_r"], rtol=1e-6)


def test_adjusted_hazard_ratio_matches_a_direct_cox_fit(analysed):
    """Oracle: the same Cox model fitted directly with impact.survival.CoxPH."""
    from impact.survival import CoxPH
    data, ij = analysed
    res = impact.estimate_effects(data, treatment="participant", horizons=(90,),
                                  adjust=["age", "social_assistance", "education"])
    hr = res.summary().query("subgroup == 'all' and estimand == 'hazard_ratio'").iloc[0]
    df = pd.DataFrame({"duration": data["duration"], "event": (data["event"] == 1).astype(int),
                       "treated": data["participant"].astype(float), "age": data["age"],
                       "sa": data["social_assistance"],
                       "edu_sec": (data["education"] == "secondary").astype(float),
                       "edu_ter": (data["education"] == "tertiary").astype(float),
                       "w": data["weights"], "cl": data["subclass"]}).reset_index(drop=True)
    fit = CoxPH().fit(df, duration="duration", event="event", weights="w", cluster="cl",
                      covariates=["treated", "age", "sa", "edu_sec", "edu_ter"])
    assert hr["estimate"] == pytest.approx(np.exp(fit.params_["treated"]), rel=1e-9)
    unadj = ij.summary().query("subgroup == 'all' and estimand == 'hazard_ratio'").iloc[0]
    assert hr["estimate"] != pytest.approx(unadj["estimate"], rel=1e-6)
    # shares are untouched by adjustment
    share = res.summary().query("estimand == 'share_diff'").set_index(["subgroup", "horizon"])["estimate"]
    base = ij.summary().query("estimand == 'share_diff' and horizon == 90").set_index(["subgroup", "horizon"])["estimate"]
    pd.testing.assert_series_equal(share, base)
    assert any("adjusted for age" in n for n in res.notes)
