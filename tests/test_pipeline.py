"""The cross-sectional evaluation (one row per person) end to end on the one-row-per-person generator
(drawn in memory with the seed and size that were bundled before the bundle became a register extract).

Oracles: the generator's known truth (each interval covers the true value), and metamorphic
checks (same seed -> identical results; shuffled rows and relabelled index -> identical results).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impact
from impact.cli import BUNDLED_N_POOL, BUNDLED_SEED


@pytest.fixture(scope="module")
def bundled():
    return impact.simulate(BUNDLED_N_POOL, random_state=BUNDLED_SEED)


@pytest.fixture(scope="module")
def evaluation(bundled):
    return impact.evaluate(bundled.registers, bundled.roles, truth=bundled.truth, random_state=0)


def test_intervals_cover_the_truth(evaluation, bundled):
    """Oracle: generator truth. Share and restricted-mean differences at 90/180/365 days and hazard
    ratios, for all, women and men."""
    eff = evaluation.effects.summary()
    checked = 0
    for _, row in eff[eff["estimand"].isin(["share_diff", "rmst_diff", "hazard_ratio"])].iterrows():
        if row["subgroup"] not in ("all", "female", "male"):
            continue
        h = None if row["estimand"] == "hazard_ratio" else row["horizon"]
        truth = bundled.true_value(row["estimand"], row["subgroup"], h)
        assert row["ci_low"] <= truth <= row["ci_high"], (row.to_dict(), truth)
        checked += 1
    assert checked == 21


def test_effects_have_the_expected_direction(evaluation):
    eff = evaluation.effects.summary().set_index(["subgroup", "estimand", "horizon"])
    hr = eff.xs("hazard_ratio", level="estimand")
    assert (hr["estimate"].loc[["all", "female", "male"]] > 1).all()
    # naive comparison is biased downwards: participants have worse prospects
    naive = evaluation.naive.summary().query("subgroup == 'all' and estimand == 'hazard_ratio'")["estimate"]
    assert len(naive) == 1
    assert naive.iloc[0] < hr.loc["all", "estimate"].iloc[0]


def test_summary_columns_are_stable(evaluation):
    cols = evaluation.effects.summary().columns.tolist()
    assert cols[:8] == ["subgroup", "estimand", "horizon", "estimate", "se", "ci_low", "ci_high", "p_value"]
    subgroups = set(evaluation.effects.summary()["subgroup"])
    assert {"all", "female", "male", "female - male"} <= subgroups


def test_flow_counts_add_up(evaluation, bundled):
    table = evaluation.flow.table()
    assert table.loc["eligible", "all"] == len(bundled.registers)
    assert table.loc["analysed", "treated"] == (evaluation.analysed["participant"] == 1).sum()
    long = evaluation.flow.to_frame()
    assert (long["n_in"] - long["n_out"] == long["n_dropped"]).all()
    assert (long["n_dropped"] >= 0).all()


def test_same_seed_same_result(bundled, evaluation):
    again = impact.evaluate(bundled.registers, bundled.roles, random_state=0)
    pd.testing.assert_frame_equal(again.effects.summary(), evaluation.effects.summary())


def test_shuffled_rows_same_result(bundled, evaluation):
    rng = np.random.default_rng(99)
    shuffled = bundled.registers.sample(frac=1.0, random_state=rng).reset_index(drop=True)
    again = impact.evaluate(shuffled, bundled.roles, random_state=0)
    pd.testing.assert_frame_equal(again.effects.summary(), evaluation.effects.summary(), check_exact=False,
                                  rtol=1e-9, atol=1e-12)
    ids = lambda ev: set(ev.analysed["person_id"])  # noqa: E731
    assert ids(again) == ids(evaluation)


def test_empty_subgroup_after_matching_is_named(bundled):
    data = bundled.registers.copy()
    # no male controls at all -> men cannot be matched
    data = data[~((data["gender"] == "male") & (data["participant"] == 0))]
    with pytest.raises(impact.DataError, match="gender"):
        impact.evaluate(data, bundled.roles)


def test_report_is_written_without_identifiers(evaluation, tmp_path, bundled):
    path = impact.write_report(evaluation, tmp_path)
    text = path.read_text(encoding="utf-8")
    assert "<img" in text and "Headline" in text
    ids = set(bundled.registers["person_id"])
    for f in tmp_path.iterdir():
        content = f.read_text(encoding="utf-8", errors="ignore")
        assert not any(i in content for i in list(ids)[:2000]), f.name
