"""effect_curve: the share difference over time with pointwise intervals and a simultaneous band."""

import numpy as np
import pandas as pd
import pytest

import impact
from impact.effects import effect_curve, estimate_effects


@pytest.fixture(scope="module")
def data():
    sim = impact.simulate(n_pool=1500, random_state=3)
    v = impact.validate(sim.registers, sim.roles)
    m = impact.match(v.data, treatment="participant", covariates=list(sim.roles.covariates), caliper=0.2,
                     exact=["gender"], id="person_id")
    return impact.time_to_event(m.matched_data, sim.roles)


def test_pointwise_equals_share_diff_rows(data):
    hs = (90, 180, 365)
    cur = effect_curve(data, times=hs)
    eff = estimate_effects(data, treatment="participant", by="gender", horizons=hs, subdistribution=False)
    want = eff.table[eff.table["estimand"] == "share_diff"].set_index(["subgroup", "horizon"])
    for r in cur.table.itertuples():
        w = want.loc[(r.subgroup, r.time)]
        assert r.estimate == pytest.approx(w["estimate"], rel=1e-12)
        assert r.se == pytest.approx(w["se"], rel=1e-10)
        assert r.ci_low == pytest.approx(w["ci_low"], rel=1e-10)
        assert r.ci_high == pytest.approx(w["ci_high"], rel=1e-10)


def test_band_contains_pointwise_intervals(data):
    cur = effect_curve(data)
    t = cur.table
    assert set(t["subgroup"]) == {"all", "female", "male"}
    assert (t["band_low"] <= t["ci_low"] + 1e-15).all() and (t["band_high"] >= t["ci_high"] - 1e-15).all()
    assert all(c > 1.96 for c in cur.critical_values.values())
    assert (t["estimate"] == t["share_treated"] - t["share_control"]).all()
    ax = cur.plot()
    assert len(ax) == 3
    import matplotlib.pyplot as plt
    _, one = plt.subplots()
    assert cur.plot(one) is one
    plt.close("all")


def test_horizon_beyond_follow_up(data):
    with pytest.raises(impact.ParameterError, match="beyond the follow-up"):
        effect_curve(data, times=[90, 1e6])
    with pytest.raises(impact.ParameterError, match="'times' parameter of effect_curve"):
        effect_curve(data, times=[-5])


def _sim(rng, n_pairs, lam):
    """Pairs (one treated, one control); cause-specific hazards constant: work lam[arm], other 0.002;
    administrative censoring at day 400."""
    rows = []
    for arm in (1, 0):
        l1, l2 = lam[arm], 0.002
        tt = rng.exponential(1 / (l1 + l2), n_pairs)
        cause = np.where(rng.random(n_pairs) < l1 / (l1 + l2), 1, 2)
        cens = tt > 400
        rows.append(pd.DataFrame({"participant": arm, "subclass": np.arange(n_pairs),
                                  "duration": np.minimum(tt, 400), "event": np.where(cens, 0, cause),
                                  "gender": np.where(np.arange(n_pairs) % 2, "female", "male"), "weights": 1.0}))
    return pd.concat(rows, ignore_index=True)


def test_band_coverage_in_simulation():
    """Known truth: F_k(t) = l1 / (l1 + l2) (1 - exp(-(l1 + l2) t)). The 95% simultaneous band over 25
    days must cover the whole true curve in about 95% of 200 data sets (binomial sd 1.5%); the
    pointwise intervals, taken jointly, cover it less often."""
    rng = np.random.default_rng(12)
    lam = {1: 0.006, 0: 0.004}
    grid = np.linspace(20, 380, 25)
    F = {a: lam[a] / (lam[a] + 0.002) * (1 - np.exp(-(lam[a] + 0.002) * grid)) for a in (0, 1)}
    truth = F[1] - F[0]
    band, pointwise, n_rep = 0, 0, 200
    for i in range(n_rep):
        d = _sim(rng, 150, lam)
        t = effect_curve(d, by=None, times=grid, n_boot=500, random_state=i).table
        band += bool(((t["band_low"] <= truth) & (truth <= t["band_high"])).all())
        pointwise += bool(((t["ci_low"] <= truth) & (truth <= t["ci_high"])).all())
    assert 0.91 <= band / n_rep <= 0.99
    assert pointwise < band
