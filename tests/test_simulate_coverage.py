"""Structure of the coverage benchmark (benchmarks/simulate_coverage.py), not its 1,000-set run.

Oracles: the exact true values of benchmarks/_coverage_dgp.py against a brute-force Monte Carlo
of the same process (both potential outcomes of 100,000 people per gender, same noise), within
four Monte Carlo standard errors; a replicate against itself (same seed, other process).
"""

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import _coverage_dgp as dgp
import _coverage_run as cr

N_SMALL = 500


@pytest.fixture(scope="module")
def reps():
    """Replicates 0 and 1 in one process."""
    return pd.concat([cr.replicate(r, N_SMALL) for r in (0, 1)], ignore_index=True)


def test_replicate_rows_and_columns(reps):
    assert list(reps.columns) == cr.COLUMNS
    one = reps[reps["rep"] == 0]
    designs = ([d for d, _, _ in cr.DESIGNS] + [cr.TRUE_SCORE]
               + [d + cr.AI2016 for d, _, _ in cr.DESIGNS])
    # 2 outcomes x (4 matching designs + 3 with the AI2016 SE) x 3 groups, and 2 horizons x 3 groups
    # for the AIPTW
    assert len(one) == 2 * len(designs) * 3 + len(dgp.AIPTW_H) * 3
    m = one[one["outcome"] != "share_work"]
    assert set(m["design"]) == set(designs) and set(m["estimand"]) == {"ATT"}
    assert set(one.loc[one["outcome"] == "share_work", "estimand"]) == {"ATE"}
    assert set(one["group"]) == set(cr.GROUPS)
    assert one[["estimate", "se", "ci_low", "ci_high", "truth"]].notna().all().all()
    assert (one["se"] > 0).all()
    assert ((one["ci_low"] < one["estimate"]) & (one["estimate"] < one["ci_high"])).all()
    # pair-clustered SEs without replacement, HC3 with
    se = m.drop_duplicates("design").set_index("design")["se_method"]
    assert se["nearest 1:1"] == se["nearest 2:1"] == "cluster-robust sandwich (HC1)"
    assert se["nearest 1:1 replace"] == "robust sandwich (HC3)"
    # the AI2016 rows: the same estimates, another SE, and the scarce-controls flag only on the
    # unadjusted 2:1 rows (2 x treated needs more than half of the controls: pool_share says so)
    for d, ratio, _ in cr.DESIGNS:
        a = m[m["design"] == d].set_index(["outcome", "group"])
        b = m[m["design"] == d + cr.AI2016].set_index(["outcome", "group"])
        pd.testing.assert_series_equal(a["estimate"], b["estimate"])
        assert (a["se"] != b["se"]).any() and b["se_method"].str.endswith("estimated-score adjustment").all()
        assert (a["scarce"] == (a["pool_share"] > cr.SCARCE_SHARE)).all() or ratio == 1
        assert a["scarce"].equals(b["scarce"])
    assert not m.loc[m["design"].str.startswith("nearest 1:1"), "scarce"].any()
    # the difference row is women minus men, estimate and truth alike
    for (o, d, h), g in one.groupby(["outcome", "design", "horizon"], dropna=False):
        v = g.set_index("group")
        for col in ("estimate", "truth"):
            assert v.loc["female - male", col] == pytest.approx(v.loc["female", col] - v.loc["male", col])
    # the AIPTW difference of genders is from independent fits
    a = one[(one["outcome"] == "share_work") & (one["horizon"] == 180.0)].set_index("group")
    assert a.loc["female - male", "se"] == pytest.approx(np.hypot(a.loc["female", "se"], a.loc["male", "se"]))


def test_summary_table(reps):
    tab = cr.summarise(reps)
    assert (tab["R"] == 2).all()
    row = tab.iloc[0]
    sel = reps[(reps["outcome"] == row["outcome"]) & (reps["design"] == row["design"])
               & (reps["group"] == row["group"])]
    assert row["bias"] == pytest.approx(sel["estimate"].mean() - sel["truth"].iloc[0])
    assert row["coverage"] == pytest.approx(sel["covered"].mean())
    p = tab["coverage"]
    assert np.allclose(tab["cov_mcse"], np.sqrt(p * (1 - p) / 2))


def test_replicate_reproducible_and_independent_of_n_jobs(reps):
    # replicate 1 alone, in a worker process, equals replicate 1 of the serial run of 0 and 1
    par = cr.run(1, N_SMALL, n_jobs=2, first=1)
    pd.testing.assert_frame_equal(par, reps[reps["rep"] == 1].reset_index(drop=True))
    # its seed is child 1 of the root SeedSequence; another root gives other data
    child = np.random.SeedSequence(20261202).spawn(2)[1]
    assert np.array_equal(cr.seed_sequence(1, 20261202).generate_state(4), child.generate_state(4))
    a = dgp.simulate(N_SMALL, cr.seed_sequence(1, 20261202))
    assert not np.allclose(a["earnings"], dgp.simulate(N_SMALL, cr.seed_sequence(1, 7))["earnings"])
    assert not np.allclose(a["earnings"], dgp.simulate(N_SMALL, cr.seed_sequence(0, 20261202))["earnings"])


def test_spells_give_the_days_in_work_and_change_no_draw():
    plain = dgp.simulate(N_SMALL, 3)
    df = dgp.simulate(N_SMALL, 3, spells=True)
    pd.testing.assert_frame_equal(plain, df)
    sp = df.attrs["spells"]
    # registration spells of one person do not overlap; every person has its first spell from day -100
    nxt = sp.groupby("id")["registered"].shift(-1)
    assert (sp["deregistered"].isna() | (sp["deregistered"] >= sp["registered"])).all()
    assert ((nxt.isna()) | (nxt >= sp["deregistered"])).all()
    assert (sp.groupby("id")["registered"].first() == -100).all() and sp["id"].nunique() == N_SMALL
    # days in work = registration gaps after a work exit (code 11), until the next registration
    h = dgp.H_DAYS
    end = np.where(nxt.notna(), nxt, h)
    gap = np.where(sp["code"] == "11", np.clip(end, 0, h) - np.clip(sp["deregistered"].fillna(h), 0, h), 0)
    days = pd.Series(gap).groupby(sp["id"].to_numpy()).sum()
    assert np.array_equal(days.reindex(df["id"]).to_numpy(), df["days_work"].to_numpy())


def test_register_time_in_states_gives_the_simulated_days_in_work():
    # the replicate takes days_work from impact.registers.time_in_states on the simulated extract
    assert cr.DAYS_SOURCE == "register"
    df = dgp.simulate(N_SMALL, 5, spells=True)
    days = cr.register_days(df)
    assert np.array_equal(days, df["days_work"].to_numpy())
    assert (days == 0).any() and days.max() > 300


def test_truth_is_quadrature_exact():
    assert dgp.truth_error() < 1e-8


@pytest.fixture(scope="module")
def potential():
    """Both potential outcomes of the same 200,000 people (same noise; assignment drawn, then overridden)."""
    n = 200_000
    d1 = dgp.simulate(n, 99, treatment=1)
    d0 = dgp.simulate(n, 99, treatment=0)
    return d0, d1, dgp.true_score(d0)


@pytest.mark.parametrize("g", dgp.GENDERS)
def test_truth_equals_brute_force_monte_carlo(potential, g):
    d0, d1, e = potential
    s = (d0["gender"] == g).to_numpy()
    tr = dgp.truth()
    # ATT of the continuous outcome and of days in work: E[e(x) (Y1 - Y0)] / E[e(x)]
    for outcome in ("earnings", "days_work"):
        diff = (d1[outcome] - d0[outcome]).to_numpy(float)[s]
        w = e[s]
        est = (w * diff).sum() / w.sum()
        mcse = np.sqrt(((w * (diff - est)) ** 2).sum()) / w.sum()
        assert abs(est - tr.value(outcome, g)) < 4 * mcse, (outcome, est, mcse)
    # ATE of the share in work by day 180 (censoring starts at day 200, so the data are uncensored there)
    h = 180.0
    f1 = ((d1["exit"] == 1) & (d1["time"] <= h)).to_numpy(float)[s]
    f0 = ((d0["exit"] == 1) & (d0["time"] <= h)).to_numpy(float)[s]
    est = (f1 - f0).mean()
    mcse = (f1 - f0).std() / np.sqrt(s.sum())
    assert abs(est - tr.value("share_work", g, h)) < 4 * mcse, (est, mcse)
    # the ATT differs from the ATE here (heterogeneous effects), so the estimand matters
    ate_earn = (d1["earnings"] - d0["earnings"]).to_numpy()[s].mean()
    assert abs(ate_earn - tr.value("earnings", g)) > 0.2


def test_days_in_work_is_bounded_with_point_masses(potential):
    days = potential[0]["days_work"]
    assert days.min() == 0 and days.max() == dgp.H_DAYS
    assert (days == 0).mean() > 0.1 and (days == dgp.H_DAYS).mean() > 0


def test_expected_days_closed_form_equals_day_by_day():
    u = np.linspace(-3, 3, 25)
    for female in (True, False):
        for treat in (0, 1):
            for h in (30, dgp.LOCK_DAYS, dgp.H_DAYS):
                np.testing.assert_allclose(dgp.expected_days(u, female, treat, h),
                                           dgp.expected_days_stepwise(u, female, treat, h), rtol=0, atol=1e-9)
