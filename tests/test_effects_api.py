"""estimate_effects as an API: seeds, how each standard error was made, the restricted mean against
its old O(n x jumps) computation, the parameter table, old names, and plots.

Oracles: a brute-force restricted mean built from the public Aalen-Johansen curve and influence at
every jump (the computation effects used before); a hand-written matched-set bootstrap of the
Weibull time ratio with the same child seeds; the int seed a Generator was made from; and the
influence-mode table for the rows the bootstrap does not re-fit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impact
from impact import ParameterError

FX = Path(__file__).parent / "reference" / "fixtures"


@pytest.fixture(scope="module")
def matched():
    return pd.read_csv(FX / "effects_matched.csv", comment="#")


def _boot(data, **kw):
    kw = {"treatment": "participant", "horizons": (90, 180), "se_method": "bootstrap", "n_boot": 24, **kw}
    return impact.estimate_effects(data, **kw)


# ---- random_state -------------------------------------------------------------------------------

def test_random_state_takes_a_generator_the_same_answer_and_no_dependence_on_n_jobs(matched):
    """A Generator works (it died inside numpy before); it is the SeedSequence of the int it was
    made from, so default_rng(1) and random_state=1 give the same replicates; n_jobs changes nothing."""
    kw = dict(subdistribution=False)
    a = _boot(matched, random_state=np.random.default_rng(1), **kw).summary()
    b = _boot(matched, random_state=np.random.default_rng(1), **kw).summary()
    c = _boot(matched, random_state=np.random.default_rng(1), n_jobs=2, **kw).summary()
    d = _boot(matched, random_state=1, **kw).summary()
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
    pd.testing.assert_frame_equal(a, d)
    e = _boot(matched, random_state=np.random.default_rng(2), **kw).summary()
    assert not np.allclose(a["se"], e["se"], equal_nan=True)
    assert (a["estimate"].to_numpy() == e["estimate"].to_numpy())[np.isfinite(a["estimate"])].all()


def test_random_state_none_is_accepted_and_bad_seeds_name_the_parameter(matched):
    res = _boot(matched, random_state=None, subdistribution=False, by=None, horizons=(90,))
    assert (res.summary()["se_method"] == "bootstrap").all()
    with pytest.raises(ParameterError, match=r"The 'random_state' parameter of estimate_effects must be an int >= 0"):
        _boot(matched, random_state=-1)


# ---- se_method per row ------------------------------------------------------------------------

def test_every_row_says_how_its_standard_error_was_made(matched):
    ij = impact.estimate_effects(matched, treatment="participant", horizons=(90, 180)).summary()
    assert ij.columns[8] == "se_method" and ij["se_method"].notna().all()
    ratio = ij["estimand"].str.endswith("_ratio")
    assert (ij.loc[ratio, "se_method"] == "cluster-robust sandwich").all()
    assert (ij.loc[~ratio, "se_method"] == "influence function").all()
    no_sets = impact.estimate_effects(matched, treatment="participant", horizons=(90,), cluster=None)
    assert set(no_sets.summary().query("estimand == 'hazard_ratio'")["se_method"]) == {"robust sandwich"}


def test_bootstrap_rows_vary_with_the_replicates_and_fine_gray_rows_say_they_do_not(matched):
    """Every row but the Fine-Gray ones is re-estimated in each replicate (its SE moves with the
    seed); the Fine-Gray rows keep exactly the influence-mode (sandwich) SE and say so."""
    ij = impact.estimate_effects(matched, treatment="participant", horizons=(90, 180)).summary()
    b3, b4 = _boot(matched, random_state=3), _boot(matched, random_state=4)
    s3, s4 = b3.summary(), b4.summary()
    assert s3["se_method"].notna().all()
    fg = s3["estimand"] == "subdistribution_hazard_ratio"
    assert fg.sum() == 4    # all, female, male, female - male
    assert (s3.loc[fg, "se_method"] == "cluster-robust sandwich").all()
    np.testing.assert_array_equal(s3.loc[fg, "se"], ij.loc[fg, "se"])
    boot = s3["se_method"] == "bootstrap"
    assert boot.sum() == len(s3) - fg.sum()
    assert set(s3.loc[boot, "estimand"]) >= {"share_diff", "rmst_diff", "hazard_ratio", "time_ratio"}
    finite = boot & np.isfinite(s3["estimate"])
    assert (s3.loc[finite, "se"] != s4.loc[finite, "se"]).all()          # they move with the seed
    assert (s3.loc[finite, "se"] != ij.loc[finite, "se"]).all()          # and are not the IJ/sandwich ones
    assert any("Fine-Gray model is not re-fitted" in n for n in b3.notes)
    assert any("se_method" in n for n in b3.notes)


def test_bootstrap_time_ratio_is_the_sd_of_refitted_weibull_models(matched):
    """Oracle: the matched-set bootstrap written out by hand (replicate b: child b of
    SeedSequence(seed), sets drawn with replacement, weights times the draw counts, AFT re-fitted)."""
    from impact.survival import AFT
    n_boot, seed = 20, 11
    res = impact.estimate_effects(matched, treatment="participant", by=None, horizons=(90,), se_method="bootstrap",
                                  n_boot=n_boot, random_state=seed, subdistribution=False)
    codes = pd.factorize(matched["subclass"], sort=True)[0]
    n_sets = codes.max() + 1
    df = pd.DataFrame({"duration": matched["duration"].astype(float), "event": (matched["event"] == 1).astype(int),
                       "treated": matched["participant"].astype(float)})
    logs = []
    for child in np.random.SeedSequence(seed).spawn(n_boot):
        draws = np.bincount(np.random.default_rng(child).integers(0, n_sets, n_sets), minlength=n_sets)
        w = matched["weights"].to_numpy() * draws[codes]
        fit = AFT().fit(df.assign(w=w)[w > 0], duration="duration", event="event",
                        covariates=["treated"], weights="w")
        logs.append(fit.params_["treated"])
    row = res.summary().query("estimand == 'time_ratio'").iloc[0]
    assert row["se_method"] == "bootstrap"
    assert row["se"] == pytest.approx(np.std(logs, ddof=1), rel=1e-8)
    assert row["ci_low"] == pytest.approx(np.exp(np.quantile(logs, 0.025)), rel=1e-8)


def test_bootstrap_with_adjustment_refits_the_adjusted_models(matched):
    d = matched.assign(age=np.random.default_rng(0).normal(40, 10, len(matched)))
    s = _boot(d, adjust=["age"], subdistribution=False, random_state=5).summary()
    assert (s["se_method"] == "bootstrap").all()
    ij = impact.estimate_effects(d, treatment="participant", horizons=(90, 180), adjust=["age"],
                                 subdistribution=False).summary()
    hr = s["estimand"] == "hazard_ratio"
    np.testing.assert_allclose(s.loc[hr, "estimate"], ij.loc[hr, "estimate"], rtol=1e-12)
    ratio = (s.loc[hr, "se"] / ij.loc[hr, "se"]).to_numpy()
    assert ((ratio > 0.5) & (ratio < 2) & (ratio != 1)).all()


# ---- restricted mean: O(n) route equals the old O(n x jumps) one ---------------------------------

def _rmst_brute_force(data, h):
    """The old computation: the curve and its influence at every jump <= h, times the widths."""
    from impact.survival import aalen_johansen
    out = {}
    for name, sub in [("all", data)] + list(data.groupby("gender")):
        cause = sub["event"].to_numpy()
        arms = {}
        for arm, m in (("treated", sub["participant"].to_numpy() == 1), ("control", sub["participant"].to_numpy() == 0)):
            dur, cl = sub["duration"].to_numpy(float)[m], sub["subclass"].to_numpy()[m]
            aj = aalen_johansen(dur, cause[m], weights=sub["weights"].to_numpy()[m], cluster=cl, causes=[1, 2])
            jumps = np.unique(dur[(cause[m] == 1) & (dur <= h)])
            widths = np.diff(np.r_[jumps, h])
            est = h - aj.cif(1, jumps)["estimate"].to_numpy() @ widths
            infl = -(aj.influence(1, jumps) @ widths)
            arms[arm] = (est, infl, cl)

        def se(infl, cl):
            return np.sqrt(np.sum(pd.Series(infl).groupby(cl).sum().to_numpy() ** 2))
        for arm, (est, infl, cl) in arms.items():
            out[(name, f"rmst_{arm}")] = (est, se(infl, cl))
        (et, it, ct), (ec, ic, cc) = arms["treated"], arms["control"]
        out[(name, "rmst_diff")] = (et - ec, se(np.r_[it, -ic], np.r_[ct, cc]))
    return out


@pytest.mark.parametrize("h", [30.0, 180.0, 365.0])
def test_restricted_mean_equals_the_brute_force_influence_matrix(matched, h):
    res = impact.estimate_effects(matched, treatment="participant", horizons=(h,), subdistribution=False)
    t = res.summary().set_index(["subgroup", "estimand"])
    want = _rmst_brute_force(matched, h)
    assert len(want) == 9
    for key, (est, se) in want.items():
        assert t.loc[key, "estimate"] == pytest.approx(est, rel=1e-12), key
        assert t.loc[key, "se"] == pytest.approx(se, rel=1e-10), key


# ---- parameters ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, message", [
    ({"horizons": (90, -5)}, r"^The 'horizons' parameter of estimate_effects must be a non-empty sequence of "
                             r"numbers > 0 \(days\)\. Got \(90, -5\)\.$"),
    ({"horizons": 90}, r"'horizons' parameter .* Got 90\."),
    ({"n_boot": 5}, r"^The 'n_boot' parameter of estimate_effects must be >= 20\. Got 5\.$"),
    ({"n_jobs": 0}, r"'n_jobs' parameter of estimate_effects must be an int >= 1 or an int <= -1\. Got 0\."),
    ({"conf_level": 95}, r"'conf_level' parameter of estimate_effects must be < 1\. Got 95\."),
    ({"se_method": "jackknife"}, r"'se_method' parameter of estimate_effects must be one of 'influence', 'bootstrap'"),
    ({"by": 3}, r"'by' parameter of estimate_effects must be a column name or a list of column names or None"),
    ({"subdistribution": "no"}, r"'subdistribution' parameter of estimate_effects must be True or False"),
])
def test_parameters_are_checked_from_the_table(matched, kwargs, message):
    with pytest.raises(ParameterError, match=message):
        impact.estimate_effects(matched, treatment="participant", **kwargs)


def test_data_must_be_a_frame_or_a_match_result():
    with pytest.raises(ParameterError, match=r"^The 'data' parameter of estimate_effects must be a pandas "
                                             r"DataFrame or a match result\. Got 'effects\.csv'\.$"):
        impact.estimate_effects("effects.csv", treatment="participant")


def test_boolean_treatment_goes_through_the_shared_check(matched):
    a = impact.estimate_effects(matched, treatment="participant", horizons=(90,), subdistribution=False).summary()
    b = impact.estimate_effects(matched.assign(participant=matched["participant"] == 1), treatment="participant",
                                horizons=(90,), subdistribution=False).summary()
    pd.testing.assert_frame_equal(a, b)
    bad = matched.assign(participant=matched["participant"].astype(object))
    bad.loc[[3, 8], "participant"] = "yes"
    with pytest.raises(impact.DataError, match=r"treatment must be 0/1 or boolean, found 'yes'") as info:
        impact.estimate_effects(bad, treatment="participant")
    assert info.value.positions[:2] == (3, 8)


def test_old_name_matched_warns_and_gives_the_same_result(matched):
    kw = dict(treatment="participant", horizons=(90,), subdistribution=False)
    with pytest.warns(FutureWarning, match=r"'matched' parameter of estimate_effects is now called 'data'"):
        old = impact.estimate_effects(matched=matched, **kw)
    new = impact.estimate_effects(data=matched, **kw)
    pd.testing.assert_frame_equal(old.summary(), new.summary())
    assert old.notes == new.notes


def test_time_to_event_parameters_are_checked_from_the_table():
    sim = impact.simulate(300, random_state=2)
    with pytest.raises(ParameterError, match=r"^The 'clock' parameter of time_to_event must be one of 'own', "
                                             r"'matched'\. Got 'mine'\."):
        impact.time_to_event(sim.registers, sim.roles, clock="mine")
    with pytest.raises(ParameterError, match=r"The 'roles' parameter of time_to_event must be an impact\.Roles"):
        impact.time_to_event(sim.registers, {"start": "start_date"})
    with pytest.raises(ParameterError, match=r"The 'data' parameter of time_to_event must be a pandas DataFrame"):
        impact.time_to_event(sim.registers.to_dict(), sim.roles)


# ---- plots --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def small_result(matched):
    return impact.estimate_effects(matched, treatment="participant", horizons=(90, 180), subdistribution=False)


def test_plot_takes_ax_first_and_returns_the_axes(small_result):
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    assert small_result.plot(ax) is ax                         # curves on one Axes, subgroups by line style
    assert len(ax.get_lines()) == 6                            # 3 subgroups x 2 arms
    panels = small_result.plot()
    assert len(panels) == 3 and panels[0].get_title() == "All"
    fig2, axes = plt.subplots(1, 2)
    out = small_result.plot(axes, kind="forest", lang="sv")
    assert out is axes and axes[1].get_title() == "hazardkvot"
    with pytest.raises(ParameterError, match="one panel per estimand"):
        small_result.plot(ax, kind="forest")
    with pytest.raises(ParameterError, match=r"'kind' parameter of EffectsResult\.plot must be one of"):
        small_result.plot(kind="bars")
    plt.close("all")


def test_plot_with_the_kind_first_still_works_with_a_future_warning(small_result):
    import matplotlib.pyplot as plt
    with pytest.warns(FutureWarning, match=r"plot now takes ax first: call plot\(kind='curves'\)"):
        panels = small_result.plot("curves")
    assert len(panels) == 3
    fig, axes = plt.subplots(1, 2)
    with pytest.warns(FutureWarning):
        out = small_result.plot("forest", axes)               # the old order plot(kind, ax)
    assert out is axes and axes[0].get_title() != ""
    plt.close("all")


def test_plotting_helpers_check_lang():
    from impact.plotting import plot_effect_curves
    curves = pd.DataFrame({"subgroup": "all", "arm": ["treated", "control"], "time": [0, 0], "estimate": [0, 0]})
    with pytest.raises(ParameterError, match=r"'lang' parameter of plot_effect_curves must be one of 'en', 'sv'"):
        plot_effect_curves(curves, lang="de")
