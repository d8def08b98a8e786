"""Heterogeneity of survival effects across k subgroup levels: joint Wald test, Holm/BH, crossed by."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import impact
from impact.effects import estimate_effects
from impact.survival import aalen_johansen


@pytest.fixture(scope="module")
def data():
    sim = impact.simulate(n_pool=1500, random_state=3)
    v = impact.validate(sim.registers, sim.roles)
    m = impact.match(v.data, treatment="participant", covariates=list(sim.roles.covariates), caliper=0.2,
                     exact=["gender"], id="person_id")
    return impact.time_to_event(m.matched_data, sim.roles)


@pytest.fixture(scope="module")
def by_education(data):
    return estimate_effects(data, treatment="participant", by="education", horizons=(180, 365),
                            subdistribution=False)


def _cluster_sums(d, h):
    """Influence of the share difference at h, summed within matched sets (written out with the
    survival layer's R-checked Aalen-Johansen influences)."""
    cause = np.where(d["event"] == 0, 0, np.where(d["event"] == 1, 1, 2))
    out = pd.Series(0.0, index=pd.Index(sorted(d["subclass"].unique())))
    est = 0.0
    for arm, sign in ((1, 1.0), (0, -1.0)):
        m = (d["participant"] == arm).to_numpy()
        aj = aalen_johansen(d["duration"].to_numpy(float)[m], cause[m], weights=d["weights"].to_numpy(float)[m],
                            cluster=d["subclass"].to_numpy()[m], causes=[1, 2])
        est += sign * float(aj.cif(1, [h])["estimate"].iloc[0])
        out = out.add(pd.Series(sign * aj.influence(1, [h])[:, 0], index=d["subclass"].to_numpy()[m])
                      .groupby(level=0).sum(), fill_value=0.0)
    return est, out


def test_joint_test_of_three_levels_by_hand(data, by_education):
    """Oracle: (Cb)'(C V C')^{-1}(Cb), V from the per-level influences summed within the matched sets,
    which span education levels here (matching was exact on gender only)."""
    assert data.groupby("subclass")["education"].nunique().gt(1).any()
    het = by_education.heterogeneity
    levels = ["primary", "secondary", "tertiary"]
    for h in (180.0, 365.0):
        b, cols = [], []
        for L in levels:
            e, s = _cluster_sums(data[data["education"] == L], h)
            b.append(e)
            cols.append(s)
        S = pd.concat(cols, axis=1).fillna(0.0).to_numpy()
        V = S.T @ S
        C = np.array([[1.0, -1, 0], [1, 0, -1]])
        d = C @ np.array(b)
        stat = float(d @ np.linalg.solve(C @ V @ C.T, d))
        row = het[(het["kind"] == "joint test") & (het["estimand"] == "share_diff") & (het["horizon"] == h)].iloc[0]
        assert row["statistic"] == pytest.approx(stat, rel=1e-9)
        assert row["df"] == 2 and row["p_value"] == pytest.approx(stats.chi2.sf(stat, 2), rel=1e-9)
        lev = het[(het["kind"] == "level") & (het["estimand"] == "share_diff") & (het["horizon"] == h)]
        assert lev["estimate"].to_numpy() == pytest.approx(b, rel=1e-12)
        assert lev["se"].to_numpy() == pytest.approx(np.sqrt(np.diag(V)), rel=1e-9)


def test_adjusted_p_values_and_flags(by_education):
    from statsmodels.stats.multitest import multipletests
    het = by_education.heterogeneity
    for (est, h), g in het[het["kind"] == "level"].groupby(["estimand", "horizon"], dropna=False):
        assert len(g) == 3
        assert g["p_holm"].to_numpy() == pytest.approx(multipletests(g["p_value"], method="holm")[1])
        assert g["p_bh"].to_numpy() == pytest.approx(multipletests(g["p_value"], method="fdr_bh")[1])
        assert (g["significant_bh"] == (g["p_bh"] < 0.05)).all()
    # ratios: separate fits, covariance taken as diagonal, and said so
    hr = het[(het["estimand"] == "hazard_ratio") & (het["kind"] == "joint test")]
    assert len(hr) == 1 and hr["covariance"].iloc[0].startswith("separate fits")
    assert any("joint test of equal effects is in .heterogeneity" in n for n in by_education.notes)


def test_two_levels_keep_the_existing_difference_rows(data):
    """With gender (two levels) the joint test of equality is the square of the female - male z."""
    res = estimate_effects(data, treatment="participant", by="gender", horizons=(180,), subdistribution=False)
    diff = res.table.query("subgroup == 'female - male' and estimand == 'share_diff'").iloc[0]
    joint = res.heterogeneity.query("kind == 'joint test' and estimand == 'share_diff'").iloc[0]
    assert joint["statistic"] == pytest.approx((diff["estimate"] / diff["se"]) ** 2, rel=1e-9)
    assert joint["p_value"] == pytest.approx(diff["p_value"], rel=1e-9)


def test_crossed_by_gives_gender_interaction_per_level(data):
    res = estimate_effects(data, treatment="participant", by=["gender", "education"], horizons=(365,),
                           subdistribution=False)
    t = res.table
    assert "education=primary" in set(t["subgroup"]) and "female, education=primary" in set(t["subgroup"])
    inter = t.query("subgroup == 'education=primary: female - male' and estimand == 'share_diff'").iloc[0]
    a = t.query("subgroup == 'female, education=primary' and estimand == 'share_diff'").iloc[0]
    b = t.query("subgroup == 'male, education=primary' and estimand == 'share_diff'").iloc[0]
    assert inter["estimate"] == pytest.approx(a["estimate"] - b["estimate"], rel=1e-12)
    # exact matching on gender: no set spans the two cells, so the variances add
    assert inter["se"] == pytest.approx(np.hypot(a["se"], b["se"]), rel=1e-9)
    het = res.heterogeneity
    assert set(het["by"]) == {"gender", "education"}
    inter_rows = het.query("kind == 'interaction' and estimand == 'share_diff'")
    assert inter_rows["subgroup"].tolist() == ["education=primary", "education=secondary", "education=tertiary"]
    assert inter_rows["estimate"].iloc[0] == pytest.approx(inter["estimate"])
    assert len(het.query("kind == 'joint test (interaction)' and estimand == 'share_diff'")) == 1


def test_by_errors_are_clear(data):
    with pytest.raises(impact.ParameterError, match=r"takes one column, or two different columns"):
        estimate_effects(data, treatment="participant", by=["gender", "gender"], subdistribution=False)
    with pytest.raises(impact.ParameterError, match="bootstrap' supports one 'by' column"):
        estimate_effects(data, treatment="participant", by=["gender", "education"], se_method="bootstrap")
