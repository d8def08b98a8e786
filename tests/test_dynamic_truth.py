"""Truth recovery of the dynamic design: the generator's truths and the censoring weights.

Oracles: a Monte Carlo of the generator's own drawing function (``_draw``) for the join_vs_wait
truth, and exact identities (no later entry, or no effect of entry: the wait truth equals the
closed form of never joining); for the weights, hand-computed Poisson rates (a saturated model of
one binary covariate, one piece per row); for the weighted Aalen-Johansen estimator with delayed
entry, :func:`impact.survival.aalen_johansen` (start 0: estimate, standard error and influence),
lifelines' weighted Kaplan-Meier with entry (one cause), a hand computation, and finite
differences of the estimate in each row's weight; for the weighting as a whole, data drawn with a
known control incidence and strongly informative censoring (covered with the weights, missed
without).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impact.effects import aalen_johansen_entry, censoring_weights, ipcw_effects
from impact.survival import aalen_johansen
from impact.synthetic import simulate_extract
from impact.synthetic._extract import _LONG, _cif, _cif_wait, _draw, _long_points


def _people(n, seed):
    rng = np.random.default_rng(seed)
    reg = rng.integers(0, 300, n) + 0.25           # on a coarse grid: reg + 365 is exact
    u0 = rng.uniform(60, 700, n)
    s = reg + u0
    opens = np.floor(s) + rng.integers(1, 31, n)
    lam_e = np.exp(rng.normal(0, 0.4, n)) / 250
    lam_c = np.full(n, 1 / 900)
    lam_in = np.exp(rng.normal(0, 0.4, n)) / 1500
    hr = np.where(rng.random(n) < 0.5, 1.4, 1.2)
    return rng, reg, u0, s, opens, lam_e, lam_c, lam_in, hr


def _monte_carlo_wait(rng, reg, s, opens, closes, lam_e, lam_c, lam_in, hr, horizon, reps):
    """Event by s + horizon for a person who waits: the generator's pieces and draws."""
    S, rg, op, le, lc, li, h = (np.repeat(a, reps) for a in (s, reg, opens, lam_e, lam_c, lam_in, hr))
    br = np.sort(np.maximum(np.stack([op, rg + _LONG, np.full_like(S, closes)], 1), S[:, None]), 1)
    tau = np.concatenate([S[:, None], br], 1)
    long = (tau - rg[:, None]) >= _LONG
    open_ = (tau >= op[:, None]) & (tau < closes)
    rates = np.stack([le[:, None] * np.where(long, 0.5, 1.0), np.broadcast_to(lc[:, None], long.shape),
                      li[:, None] * np.where(long, 2.0, 1.0) * open_], 2)
    t, c = _draw(S, br, rates, rng)
    j = c == 2
    s2 = t[j]
    br2 = np.maximum(rg[j] + _LONG, s2)[:, None]
    long2 = (np.concatenate([s2[:, None], br2], 1) - rg[j][:, None]) >= _LONG
    le2 = le[j][:, None] * np.where(long2, 0.5, 1.0) * h[j][:, None]
    t2, c2 = _draw(s2, br2, np.stack([le2, np.broadcast_to(lc[j][:, None], le2.shape)], 2), rng)
    ev = (c == 0) & (t <= S + horizon)
    ev[np.flatnonzero(j)] = (c2 == 0) & (t2 <= S[j] + horizon)
    return ev.mean(), ev.std() / np.sqrt(ev.size)


def test_wait_truth_agrees_with_a_monte_carlo_of_the_generators_draws():
    rng, reg, u0, s, opens, lam_e, lam_c, lam_in, hr = _people(1000, 5)
    for h in (90.0, 180.0, 365.0):
        exact = _cif_wait(s, reg, opens, 900.0, lam_e, lam_c, lam_in, hr, h).mean()
        mc, se = _monte_carlo_wait(rng, reg, s, opens, 900.0, lam_e, lam_c, lam_in, hr, h, reps=60)
        assert abs(mc - exact) < 4 * se, (h, exact, mc, se)
        # identities: nobody starts later, or starting changes nothing -> the never-join closed form
        never = _cif(u0, lam_e, lam_c, np.ones_like(hr), h)
        assert np.allclose(_cif_wait(s, reg, opens, 900.0, lam_e, lam_c, 0 * lam_in, hr, h), never, atol=1e-12)
        assert np.allclose(_cif_wait(s, reg, opens, 900.0, lam_e, lam_c, lam_in, np.ones_like(hr), h), never,
                           atol=1e-12)


def test_long_points_follow_the_generators_floating_point_flags():
    reg = np.array([100.25, 300.0 + 2.0 ** -40])
    first, flag = _long_points(reg, 50.0, 900.0)
    assert ((reg + 365.0) - reg >= 365.0).tolist() == flag.tolist()
    assert first[0] == 365.0 and flag[0]
    # a spell whose reg + 365 rounds down switches at the next piece start (the programme's end)
    if not flag[1]:
        assert first[1] == 900.0 - reg[1]


def test_truth_has_both_estimands_and_keeps_the_old_rows():
    sim = simulate_extract(3000, random_state=3)
    t = sim.truth
    assert set(t["estimand_design"]) == {"join_vs_never", "join_vs_wait"}
    never = t[t["estimand_design"] == "join_vs_never"]
    assert set(never["estimand"]) == {"hazard_ratio", "share_diff", "share_treated", "share_untreated"}
    assert not never.duplicated(["estimand", "subgroup", "horizon"]).any()
    wait = t[t["estimand_design"] == "join_vs_wait"].set_index(["estimand", "subgroup", "horizon"])["value"]
    tt = never.set_index(["estimand", "subgroup", "horizon"])["value"]
    for g in ("all", "female", "male"):
        for h in (90.0, 180.0, 365.0):
            # waiting people may start later: their incidence lies between never and now
            assert tt[("share_untreated", g, h)] < wait[("share_waiting", g, h)] < tt[("share_treated", g, h)]
            assert np.isclose(wait[("share_diff_vs_wait", g, h)],
                              tt[("share_treated", g, h)] - wait[("share_waiting", g, h)])


# ---- the weights ----------------------------------------------------------------------------

def test_weights_on_a_hand_computable_case():
    """One piece per row (width above every duration), one binary covariate: the Poisson MLE is
    joins / exposure within each level (denominator) and overall (numerator), and the weight of a
    control is exp((rate_x - rate) * duration / 2), the probabilities taken at the piece's middle."""
    d = pd.DataFrame({"duration": [10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 25.0, 35.0],
                      "censored": [0, 1, 0, 1, 1, 0, 0, 0],
                      "entering": [0, 0, 0, 0, 0, 0, 1, 1],
                      "x": [0, 0, 0, 1, 1, 1, 0, 1]})
    cw = censoring_weights(d, covariates=["x"], width=100, truncate=None)
    c = d[d["entering"] == 0]
    rate_x = {x: g["censored"].sum() / g["duration"].sum() for x, g in c.groupby("x")}
    rate = c["censored"].sum() / c["duration"].sum()
    want = np.where(d["entering"] == 1, 1.0, np.exp((d["x"].map(rate_x) - rate) * d["duration"] / 2))
    p = cw.pieces
    assert p["row"].tolist() == list(range(8))
    assert np.allclose(p["weight"], want, rtol=1e-5)
    assert cw.summary["censored"] == 3 and cw.summary["controls"] == 6


def test_weights_cancel_without_covariates_and_truncate_at_the_percentiles():
    rng = np.random.default_rng(1)
    n = 400
    d = pd.DataFrame({"duration": rng.uniform(1, 200, n).round(1), "censored": rng.random(n) < 0.2,
                      "entering": (rng.random(n) < 0.3).astype(int), "x": rng.normal(size=n)})
    d.loc[d["entering"] == 1, "censored"] = False
    same = censoring_weights(d, covariates=[], truncate=None)
    assert np.allclose(same.pieces["weight"], 1.0)             # numerator model = denominator model
    cw = censoring_weights(d, covariates=["x"], truncate=0.95)
    ctrl = cw.pieces[d["entering"].to_numpy()[cw.pieces["row"]] == 0]
    lo, hi = cw.summary["bounds"]
    assert ctrl["weight"].min() >= lo - 1e-12 and ctrl["weight"].max() <= hi + 1e-12
    # pieces tile each row's follow-up
    g = cw.pieces.groupby("row")
    assert np.allclose(g["stop"].max(), d["duration"]) and (g["start"].min() == 0).all()


# ---- the weighted Aalen-Johansen estimator with delayed entry -------------------------------

def test_aalen_johansen_entry_equals_aalen_johansen_from_zero_and_is_split_invariant():
    rng = np.random.default_rng(0)
    n = 300
    T = np.round(rng.exponential(50, n)) + 1
    c = rng.integers(0, 3, n)
    w = rng.uniform(0.5, 2, n)
    cl = rng.integers(0, 120, n)
    ts = [10, 40, 90]
    est, se, U = aalen_johansen_entry(np.zeros(n), T, c, w, ts, cl)
    aj = aalen_johansen(T, c, weights=w, cluster=cl, causes=[1, 2])
    ref = aj.cif(1, ts)
    assert np.allclose(est, ref["estimate"]) and np.allclose(se, ref["se"])
    assert np.allclose(U, aj.influence(1, ts))
    cut = np.minimum(T - 0.5, 20.0)
    a2, b2 = np.r_[np.zeros(n), cut], np.r_[cut, T]
    c2, w2, cl2 = np.r_[np.zeros(n), c], np.r_[w, w], np.r_[cl, cl]
    est2, se2, _ = aalen_johansen_entry(a2, b2, c2, w2, ts, cl2)
    assert np.allclose(est2, est) and np.allclose(se2, se)


@pytest.mark.filterwarnings("ignore::lifelines.exceptions.StatisticalWarning")
def test_aalen_johansen_entry_against_lifelines_a_hand_computation_and_finite_differences():
    lifelines = pytest.importorskip("lifelines")
    rng = np.random.default_rng(2)
    n = 200
    a = rng.uniform(0, 30, n).round(1) + 0.05          # entries never tie with exits
    b = a + rng.exponential(40, n).round(0) + 1
    e = (rng.random(n) < 0.6).astype(int)
    w = rng.uniform(0.3, 3, n)
    km = lifelines.KaplanMeierFitter().fit(b, e, entry=a, weights=w)
    est, _, _ = aalen_johansen_entry(a, b, e, w, [20, 50, 80])
    assert np.allclose(est, 1 - km.survival_function_at_times([20, 50, 80]).to_numpy(), atol=1e-10)
    # by hand: rows (0,2] cause 1, (1,3] cause 2, (0,4] censored, weights 1, 2, 1
    est, _, _ = aalen_johansen_entry([0, 1, 0], [2, 3, 4], [1, 2, 0], [1, 2, 1], [2, 3])
    # t=2: at risk 1 + 2 + 1 = 4, cause 1 weight 1 -> F = 1/4; S = 3/4
    # t=3: at risk 2 + 1 = 3, cause 2 weight 2 -> F unchanged
    assert np.allclose(est, [0.25, 0.25])
    # influence = weight x derivative of the estimate in the row's weight
    c3 = rng.integers(0, 3, n)
    e0, _, U = aalen_johansen_entry(a, b, c3, w, [30, 60])
    for i in rng.choice(n, 10, replace=False):
        ww = w.copy()
        ww[i] *= 1 + 1e-6
        e1, _, _ = aalen_johansen_entry(a, b, c3, ww, [30, 60])
        assert np.allclose((e1 - e0) / 1e-6, U[i], atol=1e-7)


def _informative(n, seed):
    """Controls whose censoring ("joining") and event hazards both depend on x; known truth."""
    rng = np.random.default_rng(seed)
    x = (rng.random(n) < 0.5).astype(int)
    treated = (np.arange(n) % 2 == 0).astype(int)
    lam_e = np.where(x == 1, 1 / 500, 1 / 120) * np.where(treated == 1, 1.5, 1.0)
    lam_j = np.where(x == 1, 1 / 60, 1 / 2000) * (treated == 0)
    te = rng.exponential(1 / lam_e)
    tj = np.where(lam_j > 0, rng.exponential(1 / np.where(lam_j > 0, lam_j, 1)), np.inf)
    t = np.minimum.reduce([te, tj, np.full(n, 400.0)])
    d = pd.DataFrame({"duration": np.ceil(t), "event": (te <= np.minimum(tj, 400.0)).astype(int),
                      "censored": ((tj < te) & (tj < 400.0)).astype(int), "entering": treated, "x": x,
                      "subclass": np.arange(n) // 2, "weights": 1.0})
    truth = {h: float(np.mean([1 - np.exp(-l * h) for l in (1 / 500, 1 / 120)])) for h in (90, 365)}
    full = d.assign(duration=np.ceil(np.minimum(te, 400.0)), event=(te <= 400.0).astype(int), censored=0)
    return d, truth, full


def test_the_weights_remove_the_bias_of_informative_censoring_and_without_them_it_is_back():
    from impact import estimate_effects
    d, truth, full = _informative(6000, 7)
    cw = censoring_weights(d, covariates=["x"], truncate=None)
    weighted = ipcw_effects(d, cw, by=None, horizons=[90, 365]).summary()
    plain = estimate_effects(d, treatment="entering", by=None, horizons=[90, 365], cluster="subclass",
                             subdistribution=False).summary()
    oracle = estimate_effects(full, treatment="entering", by=None, horizons=[90, 365], cluster="subclass",
                              subdistribution=False).summary()

    def get(table, estimand, h=None):
        t = table[table["estimand"] == estimand]
        return t.iloc[0] if h is None else t[t["horizon"] == h].iloc[0]

    for h in (90.0, 365.0):
        r = get(weighted, "share_control", h)
        assert r["ci_low"] < truth[int(h)] < r["ci_high"], (h, r.to_dict(), truth)
    p = get(plain, "share_control", 365.0)
    assert p["ci_low"] > truth[365], (p.to_dict(), truth)       # the low-hazard people are censored away
    # the hazard ratio: the weighted Cox model recovers what the uncensored data give (a marginal
    # hazard ratio), the unweighted one does not
    target = get(oracle, "hazard_ratio")["estimate"]
    hr, hp = get(weighted, "hazard_ratio"), get(plain, "hazard_ratio")
    assert hr["ci_low"] < target < hr["ci_high"], (hr.to_dict(), target)
    assert not hp["ci_low"] < target < hp["ci_high"], (hp.to_dict(), target)


def test_the_evaluation_file_turns_the_weights_off(tmp_path):
    from impact.pipeline import ConfigError, read_config
    text = ('[registers]\npersons = "p.csv"\nspells = "s.csv"\nprogramme = "g.csv"\ncutoff = "2022-10-31"\n'
            '[design]\nipcw = false\n')
    path = tmp_path / "eval.toml"
    path.write_text(text, encoding="utf-8")
    assert read_config(path).evaluate_kwargs["ipcw"] is False
    path.write_text(text.replace("ipcw = false", 'ipcw = "no"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="ipcw"):
        read_config(path)


# ---- the truth among a subset of participants (the matched ones) -----------------------------

def test_truth_among_a_subset_is_the_mean_of_their_own_incidences(tmp_path):
    """Oracle: the mean of the per-participant columns, by hand; every participant gives the
    generator's truth exactly; a truth read from files has no per-participant rows."""
    from impact import ParameterError
    from impact.synthetic import read_extract, write_extract
    sim = simulate_extract(3000, random_state=3)
    p = sim.participants
    assert len(p) == len(sim.extract.programme) and p["person_id"].tolist() == sim.extract.programme[
        "person_id"].tolist()
    everyone = sim.truth_among(sim.extract.programme["person_id"])
    pd.testing.assert_frame_equal(everyone, sim.truth)
    some = p["person_id"].iloc[::3].tolist() + ["not a participant"]
    t = sim.truth_among(some).set_index(["estimand", "subgroup", "horizon"])["value"]
    sub = p.iloc[::3]
    women = sub[sub["gender"] == "female"]
    assert np.isclose(t[("share_diff", "female", 365.0)],
                      (women["share_treated_365"] - women["share_untreated_365"]).mean(), rtol=1e-12)
    assert np.isclose(t[("share_diff_vs_wait", "all", 90.0)],
                      (sub["share_treated_90"] - sub["share_waiting_90"]).mean(), rtol=1e-12)
    assert not sim.truth_among([]).dropna(subset=["horizon"])["value"].notna().any()   # nobody: no value
    write_extract(sim, tmp_path)
    with pytest.raises(ParameterError, match="per-participant"):
        read_extract(tmp_path).truth_among(some)
