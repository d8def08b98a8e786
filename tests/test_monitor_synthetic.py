"""Synthetic monitoring records: deterministic for a seed, and shaped like the seed's 2022 reports.

Oracle: the seed's published numbers (835 hires in 2022 and their subsidy mix; 769 ended
employments with day 90 in 1 January to 30 November 2022 and their result mix; households on
economic assistance 17.7% below October 2021 and 26.2% below October 2020), with tolerances wide
enough for the random draws.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from impact.monitor import (OUTCOMES_90, SUBSIDIES, CountGoal, GenderBalanceGoal, ShareGoal, goal_fulfilment,
                            hires_by_subsidy, households_on_assistance, outcomes_after_employment,
                            to_work_or_studies_by_month)
from impact.synthetic import OUTCOME_90_MIX, SUBSIDY_MIX, simulate_monitoring


@pytest.fixture(scope="module")
def records():
    return simulate_monitoring(random_state=2022)


def test_same_seed_same_records_other_seed_other_records(records):
    again = simulate_monitoring(random_state=2022)
    for name in ("participants", "employments", "households", "household_exits"):
        pd.testing.assert_frame_equal(getattr(records, name), getattr(again, name))
    other = simulate_monitoring(random_state=7, n_participants=300, n_households=100)
    assert not other.employments["subsidy"].equals(records.employments["subsidy"])
    gen = simulate_monitoring(random_state=np.random.default_rng(5), n_participants=50, n_households=50)
    assert len(gen.participants) == 50


def test_hires_2022_like_the_seed(records):
    res = hires_by_subsidy(records.employments, start="2022-01-01", end="2022-12-31")
    assert res.table.loc["all", "total"] == 835
    women = res.table.loc[list(SUBSIDIES), "women"] / res.table.loc["all", "women"]
    seed_w = pd.Series({k: w for k, (w, _) in SUBSIDY_MIX.items()}) / 438
    assert np.abs(women - seed_w).max() < 0.06
    assert abs(res.table.loc["all", "women"] / 835 - 438 / 835) < 0.05


def test_ended_employments_like_the_seed(records):
    res = outcomes_after_employment(records.employments, start="2022-01-01", end="2022-11-30")
    assert res.table.loc["all", "total"] == 769
    mix = res.table.loc[list(OUTCOMES_90), "total"] / 769
    seed = pd.Series({k: w + m for k, (w, m) in OUTCOME_90_MIX.items()}) / 769
    assert np.abs(mix - seed).max() < 0.05
    # outside the period there are more ended employments, with day 90 in 2021
    assert outcomes_after_employment(records.employments, end="2022-11-30").table.loc["all", "total"] > 769


def test_households_fall_like_the_seed(records):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no duplicates, no missing months in clean records
        res = households_on_assistance(records.households)
    assert res.table.index.min() == pd.Period("2018-01", "M")
    assert res.table.index.max() == pd.Period("2022-10", "M")
    oct22 = res.table.loc[pd.Period("2022-10", "M")]
    assert oct22["change_1y"] == pytest.approx(-0.177, abs=0.015)
    assert oct22["change_2y"] == pytest.approx(-0.262, abs=0.015)
    assert res.n_duplicates == 0


def test_participants_support_every_goal_kind(records):
    p = records.participants
    assert set(p["outcome"]) <= {"to_work", "to_studies", "other", "ongoing"}
    assert p["end_date"].isna().eq(p["outcome"].eq("ongoing")).all()
    assert p.loc[p["outcome"] == "ongoing", "social_assistance_end"].isna().all()
    res = goal_fulfilment(p, [CountGoal("participants", 4000),
                              CountGoal("to_work_or_studies", 1800, column="outcome", values=("to_work", "to_studies")),
                              ShareGoal("fk_enhanced_cooperation", 0.75, column="enhanced_cooperation",
                                        among="referred_by_fk"),
                              GenderBalanceGoal("gender_balance_participants")])
    assert set(res.table["judgement"]) <= {"achieved", "partly_achieved", "not_achieved"}
    assert res.table.loc[0, "measured"] == p["person_id"].nunique()
    series = to_work_or_studies_by_month(p, start="2022-01-01", end="2022-10-31")
    assert len(series.table) == 10 and series.missing_months == ()
