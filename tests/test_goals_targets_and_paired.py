"""Goal targets checked against their kind, and the before/after goal judged with a paired test.

Oracles: the target rules of issue 13 (a share in [0, 1], a count a whole number >= 1, text refused);
McNemar's exact test computed by hand (two-sided binomial test of who left the state against who left
or entered it, p = 1/2, with scipy) and by statsmodels on a 2x2 table built by hand.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest
from statsmodels.stats.contingency_tables import mcnemar

from impact import ParameterError
from impact.monitor import BeforeAfterGoal, CountGoal, GenderBalanceGoal, ShareGoal, goal_fulfilment, goals_from_config


@pytest.mark.parametrize("make, pattern", [
    (lambda: ShareGoal("x", 90, column="c"), r"must be <= 1\. Got 90\. .*give 0\.9 for 90 %"),
    (lambda: ShareGoal("x", "90%", column="c"), r"must be a number, not text\. Got '90%'\. Write target = 0\.9"),
    (lambda: ShareGoal("x", "0,75", column="c"), r"must be a number, not text\. Got '0,75'\. Write target = 0\.75"),
    (lambda: CountGoal("x", 1.5), r"must be a whole number of people >= 1\. Got 1\.5\."),
    (lambda: CountGoal("x", 0), r"must be a whole number of people >= 1\. Got 0\."),
    (lambda: CountGoal("x", -5), r"must be >= 0\. Got -5\."),
    (lambda: CountGoal("x", "4 000"), r"must be a number, not text\. Got '4 000'\. Write target = 4000"),
    (lambda: GenderBalanceGoal("x", tolerance=10), r"give 0\.1 for 10 percentage points"),
])
def test_targets_are_checked_against_their_kind(make, pattern):
    with pytest.raises(ParameterError, match=pattern):
        make()


def test_config_target_as_text_names_the_goal():
    with pytest.raises(ParameterError, match=r"^Goal 0 \(count\): The 'target' parameter of CountGoal must be a "
                                             r"number, not text"):
        goals_from_config([{"kind": "count", "name": "participants", "target": "4000"}])


def test_good_targets_pass():
    assert CountGoal("x", 4000).target == 4000
    assert CountGoal("x", 4000.0).target == 4000.0
    assert ShareGoal("x", 0.9, column="c").target == 0.9
    assert ShareGoal("x", 1, column="c").target == 1


def _people():
    # by hand: (gender, start, end) per person; women: 6 left the state, 1 entered; men: 2 left, 2 entered
    rows = ([("female", True, False)] * 6 + [("female", False, True)] * 1 + [("female", True, True)] * 3
            + [("female", False, False)] * 4
            + [("male", True, False)] * 2 + [("male", False, True)] * 2 + [("male", True, True)] * 5
            + [("male", False, False)] * 1)
    df = pd.DataFrame(rows, columns=["gender", "sa_start", "sa_end"])
    df.insert(0, "person_id", [f"p{k}" for k in range(len(df))])
    # one person still participating: no end value, not paired
    extra = pd.DataFrame({"person_id": ["q"], "gender": ["male"], "sa_start": [True], "sa_end": [None]})
    return pd.concat([df, extra], ignore_index=True).astype({"sa_end": "boolean"})


def test_before_after_paired_test_for_all_women_and_men():
    res = goal_fulfilment(_people(), [BeforeAfterGoal("fewer", pairs={"social_assistance": ("sa_start", "sa_end")})])
    rec = res.records[0]
    tests = {t["group"]: t for t in rec["tests"]}
    assert set(tests) == {"all", "women", "men"}
    expect = {"all": (24, 8, 3), "women": (14, 6, 1), "men": (10, 2, 2)}  # n pairs, fell, rose
    for group, (n, fell, rose) in expect.items():
        t = tests[group]
        assert (t["n_pairs"], t["fell"], t["rose"]) == (n, fell, rose), group
        assert t["p_value"] == pytest.approx(binomtest(fell, fell + rose, 0.5).pvalue, abs=1e-12), group
        both = {"all": 8, "women": 3, "men": 5}[group]
        table = np.array([[both, fell], [rose, n - both - fell - rose]])
        assert t["p_value"] == pytest.approx(mcnemar(table, exact=True).pvalue, abs=1e-12), group
        assert t["method"] == "McNemar exact"
    # all: 16 at start, 11 at end (8 + 3): fell, but p = 0.227 > 0.05: partly achieved, not achieved
    assert rec["changes"]["social_assistance"] == (16, 11)
    assert tests["all"]["p_value"] > 0.05
    assert res.table.iloc[0]["judgement"] == "partly_achieved"
    assert any("1 people without both" in n for n in res.notes)


def test_before_after_significant_fall_is_achieved():
    n = 40
    df = pd.DataFrame({"person_id": range(n), "gender": ["female", "male"] * (n // 2),
                       "sa_start": [True] * 30 + [False] * 10, "sa_end": [False] * 25 + [True] * 5 + [False] * 10})
    res = goal_fulfilment(df, [BeforeAfterGoal("fewer", pairs={"sa": ("sa_start", "sa_end")})])
    t = next(t for t in res.records[0]["tests"] if t["group"] == "all")
    assert (t["fell"], t["rose"]) == (25, 0)
    assert t["p_value"] == pytest.approx(2 * 0.5 ** 25)
    assert res.table.iloc[0]["judgement"] == "achieved"
    shown = res.published("en").iloc[0]
    assert "sa: 30 → 5 (p < 0.001)" in shown["Measured"]   # 2 x 0.5^25, not "p = 0.000"
    assert "McNemar" in shown["Rule"]
