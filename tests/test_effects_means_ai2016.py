"""The Abadie-Imbens (2016) estimated-score variance and the scarce-controls check of k:1 matching.

Oracles: a brute-force version of the sample terms (every neighbour found by a full sort, every
sum an explicit loop) for ``score_terms``; the property that the term is exactly zero when the
outcome does not depend on the covariates within an arm (no conditional covariance, no effect
heterogeneity); the counts of treated and controls per stratum for the scarce-controls share.
Coverage on the estimated score (the paper's theorem) is checked by simulation in
``benchmarks/simulate_coverage.py`` (rows ``"<design>, AI2016 SE"``), not here.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impact
from impact import ParameterError
from impact._errors import ImpactWarning
from impact.effects._means import (SCARCE_SHARE, SE_AI2016, ai2016_adjust, scarce_control_notes, scarce_controls,
                                   score_terms)


def _data(n: int, seed: int, treated_share: float = -1.2) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.where(rng.random(n) < 0.5, "female", "male")
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    t = (rng.random(n) < 1 / (1 + np.exp(-(treated_share + 0.8 * x1 - 0.5 * x2 + 0.3 * (g == "male"))))).astype(int)
    y = 10 + 3 * x1 - 2 * x2 + t * (1.5 + x1) + rng.normal(scale=2, size=n)
    return pd.DataFrame({"id": np.arange(n), "gender": g, "x1": x1, "x2": x2, "treat": t, "y": y,
                         "flat": 4.0 + 2.0 * t})


@pytest.fixture(scope="module")
def matched():
    df = _data(1200, 1)
    m = impact.match(df, treatment="treat", covariates=["x1", "x2", "gender"], exact=["gender"], id="id",
                     random_state=0)
    return df, m


def _brute_terms(y, t, p, X, strata, groups, estimates, L=2):
    n, k = X.shape
    cov = {w: np.zeros((n, k)) for w in (0, 1)}
    mu = {w: np.zeros(n) for w in (0, 1)}
    for i in range(n):
        for w in (0, 1):
            pool = [j for j in range(n) if strata[j] == strata[i] and t[j] == w]
            pool.sort(key=lambda j: abs(p[j] - p[i]))
            nb = pool[:L]
            xs, ys = X[nb], y[nb]
            cov[w][i] = sum((xs[r] - xs.mean(axis=0)) * (ys[r] - ys.mean()) for r in range(L)) / (L - 1)
            mu[w][i] = ys.mean()
    f = p * (1 - p)
    info = sum(f[i] * np.outer(X[i], X[i]) for i in range(n)) / n
    out = {}
    for name, mask in groups.items():
        n1 = sum(1 for i in range(n) if mask[i] and t[i] == 1)
        c = sum(f[i] * (cov[1][i] + p[i] / (1 - p[i]) * cov[0][i]) for i in range(n) if mask[i]) / n1
        d = sum(X[i] * f[i] * (mu[1][i] - mu[0][i] - estimates[name]) for i in range(n) if mask[i]) / n1
        out[name] = (c, d)
    return out, np.linalg.inv(info)


def test_score_terms_equal_a_brute_force_computation():
    rng = np.random.default_rng(3)
    n = 80
    X = np.column_stack([np.ones(n), rng.normal(size=(n, 2))])
    strata = rng.integers(0, 2, n)
    p = 1 / (1 + np.exp(-(X @ np.array([-0.5, 0.8, -0.4]))))
    t = (rng.random(n) < p).astype(np.int64)
    y = X @ np.array([1.0, 2.0, -1.0]) + t * X[:, 1] + rng.normal(size=n)
    groups = {"all": np.ones(n, bool), "a": strata == 0, "b": strata == 1}
    est = {"all": 0.4, "a": 0.1, "b": 0.7}
    got = score_terms(y, t, p, X, strata, groups, est, n_neighbours=3)
    ref, info_inv = _brute_terms(y, t, p, X, strata, groups, est, L=3)
    np.testing.assert_allclose(got.info_inv, info_inv, rtol=1e-10)
    for g in groups:
        np.testing.assert_allclose(got.c[g], ref[g][0], rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(got.d[g], ref[g][1], rtol=1e-10, atol=1e-12)
    # a contrast uses the contrasts of c and d (one expansion in the shared score estimate)
    dc, dd = ref["a"][0] - ref["b"][0], ref["a"][1] - ref["b"][1]
    assert got.extra_variance("a", "b") == pytest.approx((dd @ info_inv @ dd - dc @ info_inv @ dc) / n)


def test_term_is_zero_when_the_outcome_does_not_depend_on_x(matched):
    """Property: with y = 4 + 2 t there is no conditional covariance of X and mu(w, X) and no effect
    heterogeneity, so c = d = 0 and the adjusted variance is the sandwich's (here 0: kept, noted)."""
    df, m = matched
    p = m.propensity.probability
    X = np.column_stack([np.ones(len(df)), df[["x1", "x2"]].to_numpy(), (df["gender"] == "male").to_numpy(float)])
    groups = {"all": np.ones(len(df), bool), "female": (df["gender"] == "female").to_numpy(),
              "male": (df["gender"] == "male").to_numpy()}
    terms = score_terms(df["flat"].to_numpy(float), df["treat"].to_numpy(), p, X,
                        pd.factorize(df["gender"])[0], groups, {g: 2.0 for g in groups})
    for g in groups:
        assert np.abs(terms.c[g]).max() < 1e-12 and np.abs(terms.d[g]).max() < 1e-12
        assert abs(terms.extra_variance(g)) < 1e-20
    assert abs(terms.extra_variance("female", "male")) < 1e-20


def test_term_is_small_for_pure_noise_and_large_for_a_prognostic_outcome(matched):
    df, m = matched
    rng = np.random.default_rng(5)
    d = m.data.assign(noise=2.0 * df["treat"] + rng.normal(size=len(df)))
    m2 = impact.match(d, treatment="treat", covariates=["x1", "x2", "gender"], exact=["gender"], id="id",
                      random_state=0)
    rel = {}
    for outcome in ("noise", "y"):
        base = impact.estimate_effects(m2, outcome=outcome, by="gender")
        adj = ai2016_adjust(base, m2)
        b = base.table.query("estimand == 'mean_diff'").set_index("subgroup")["se"]
        a = adj.table.query("estimand == 'mean_diff'").set_index("subgroup")["se"]
        rel[outcome] = (a / b - 1).abs()
    # noise: only the sampling noise of the neighbour estimates (< 0.2% of the SE here); the
    # prognostic outcome: 2.5% to 3.7% (ten times more)
    assert rel["noise"].max() < 0.005
    assert rel["y"][["all", "female", "male"]].min() > 0.02


def test_ai2016_adjust_replaces_only_the_mean_difference_ses(matched):
    df, m = matched
    base = impact.estimate_effects(m, outcome="y", by="gender")
    before = base.table.copy()
    adj = ai2016_adjust(base, m)
    assert adj is not base
    pd.testing.assert_frame_equal(base.table, before)         # the input result is untouched
    a, b = adj.table.set_index(["subgroup", "estimand"]), before.set_index(["subgroup", "estimand"])
    pd.testing.assert_series_equal(a["estimate"], b["estimate"])
    diff = a.xs("mean_diff", level="estimand")
    assert set(diff.index) == {"all", "female", "male", "female - male"}
    assert diff["se_method"].str.endswith(SE_AI2016).all()
    assert (diff["se"] != b.xs("mean_diff", level="estimand")["se"]).all()
    z = 1.959963984540054
    np.testing.assert_allclose(diff["ci_high"] - diff["estimate"], z * diff["se"], rtol=1e-12)
    for est in ("mean_treated", "mean_control"):
        pd.testing.assert_frame_equal(a.xs(est, level="estimand"), b.xs(est, level="estimand"))
    assert any("Abadie and Imbens' (2016)" in n for n in adj.notes)
    assert adj.settings["se_ai2016"] is True and "se_ai2016" not in base.settings


def test_ai2016_adjust_refuses_what_it_does_not_cover(matched):
    df, m = matched
    with pytest.raises(ParameterError, match="unadjusted matching estimator"):
        ai2016_adjust(impact.estimate_effects(m, outcome="y", by="gender", adjust=["x1"]), m)
    mm = impact.match(df, treatment="treat", covariates=["x1", "x2"], distance="mahalanobis", id="id")
    with pytest.raises(ParameterError, match="logistic propensity score"):
        ai2016_adjust(impact.estimate_effects(mm, outcome="y", by="gender"), mm)


def test_scarce_controls_flag_the_stratum_and_warn():
    df = _data(900, 2, treated_share=-1.4)            # about 3 controls per participant
    counts = df.groupby("gender")["treat"].agg(["sum", "size"])
    m2 = impact.match(df, treatment="treat", covariates=["x1", "x2", "gender"], exact=["gender"], ratio=2,
                      id="id", random_state=0)
    got = dict(scarce_controls(m2))
    for g, r in counts.iterrows():
        share = 2 * r["sum"] / (r["size"] - r["sum"])
        assert share > SCARCE_SHARE
        assert got[f"gender={g}"] == pytest.approx(share)
    with pytest.warns(ImpactWarning) as rec:
        notes = scarce_control_notes(m2)
    msgs = [str(w.message) for w in rec]
    assert len(msgs) == 2 and sorted(msgs) == sorted(notes)
    for g in ("female", "male"):
        msg = next(m for m in msgs if f"stratum gender={g} " in m)
        assert msg.startswith(f"2:1 matching needs {got[f'gender={g}']:.0%} of the controls in stratum gender={g}")
        assert "regression-adjusted" in msg
    # with plenty of controls, with replacement, or with the threshold above the share: nothing
    plenty = _data(900, 2, treated_share=-2.5)
    m1 = impact.match(plenty, treatment="treat", covariates=["x1", "x2", "gender"], exact=["gender"], id="id",
                      random_state=0)
    assert scarce_controls(m1) == []
    mr = impact.match(df, treatment="treat", covariates=["x1", "x2", "gender"], exact=["gender"], ratio=2,
                      replace=True, id="id", random_state=0)
    assert scarce_controls(mr) == []
    assert scarce_controls(m2, threshold=10.0) == []
    assert scarce_control_notes(m2, threshold=10.0) == []


def test_estimate_effects_vcov_ai2016_is_the_adjustment_of_its_own_sandwich(matched):
    """``estimate_effects(match, outcome=, vcov="AI2016")`` equals ``ai2016_adjust`` of the
    ``"auto"`` result; a DataFrame or ``adjust=`` with it is refused with a message saying why."""
    df, m = matched
    via = impact.estimate_effects(m, outcome="y", by="gender", vcov="AI2016")
    direct = ai2016_adjust(impact.estimate_effects(m, outcome="y", by="gender"), m)
    pd.testing.assert_frame_equal(via.table, direct.table)
    assert via.notes == direct.notes
    with pytest.raises(ParameterError, match="needs the match result itself"):
        impact.estimate_effects(m.matched_data, outcome="y", treatment="treat", by="gender", vcov="AI2016")
    with pytest.raises(ParameterError, match="no 'adjust'"):
        impact.estimate_effects(m, outcome="y", by="gender", adjust=["x1"], vcov="AI2016")


def test_estimate_effects_warns_of_scarce_controls_unless_adjusted():
    df = _data(900, 2, treated_share=-1.4)
    m2 = impact.match(df, treatment="treat", covariates=["x1", "x2", "gender"], exact=["gender"], ratio=2,
                      id="id", random_state=0)
    with pytest.warns(ImpactWarning, match="2:1 matching needs"):
        res = impact.estimate_effects(m2, outcome="y", by="gender")
    assert sum("2:1 matching needs" in n for n in res.notes) == 2
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImpactWarning)
        adj = impact.estimate_effects(m2, outcome="y", by="gender", adjust=["x1", "x2"])
    assert not any("2:1 matching needs" in n for n in adj.notes)


def test_ai2016_adjust_recomputes_the_two_level_heterogeneity_rows(matched):
    """With two levels the joint test of equal effects is the difference's Wald test: after the
    adjustment it must be the adjusted difference's (z^2, p), and the level rows carry the adjusted SEs."""
    df, m = matched
    base = impact.estimate_effects(m, outcome="y", by="gender")
    adj = ai2016_adjust(base, m)
    h = adj.heterogeneity.query("estimand == 'mean_diff' and by == 'gender'").set_index("kind", append=True)
    t = adj.table.query("estimand == 'mean_diff'").set_index("subgroup")
    lv = adj.heterogeneity.query("estimand == 'mean_diff' and kind == 'level'").set_index("subgroup")
    for g in ("female", "male"):
        assert lv.at[g, "se"] == pytest.approx(t.at[g, "se"], rel=1e-12)
        assert lv.at[g, "p_value"] == pytest.approx(t.at[g, "p_value"], rel=1e-12)
    joint = adj.heterogeneity.query("estimand == 'mean_diff' and kind == 'joint test'").iloc[0]
    zd = t.at["female - male", "estimate"] / t.at["female - male", "se"]
    assert joint["statistic"] == pytest.approx(zd ** 2, rel=1e-9)
    assert joint["p_value"] == pytest.approx(t.at["female - male", "p_value"], rel=1e-9)
    assert "Abadie-Imbens" in joint["covariance"]
    # the sandwich's own joint test was the sandwich difference's: the adjustment changed it
    b0 = base.heterogeneity.query("estimand == 'mean_diff' and kind == 'joint test'").iloc[0]
    assert b0["statistic"] != pytest.approx(joint["statistic"], rel=1e-6)
    assert len(h) == 3 and list(adj.heterogeneity.columns) == list(base.heterogeneity.columns)
