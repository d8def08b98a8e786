"""Monitoring inputs after the restructuring: row positions in the caller's data, the one date and month
parser, goal fields checked when a goal is made, parameter tables, frozen results.

Oracles
-------
* row positions: the position at which the test itself put the bad value (the caller's ``df.iloc``
  position), never a position inside the rows a period selects (a known bug: 72 was reported for
  row 1097);
* the message form of the validation layer (``The 'x' parameter of f must be ...``), written out here;
* dates and months: ISO 8601 text, as the validation layer's parser reads it.
"""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pandas as pd
import pytest

from impact import DataError, ParameterError
from impact._validation import constraints_of, parse_months
from impact.monitor import (BeforeAfterGoal, CountGoal, GenderBalanceGoal, ManualGoal, ShareGoal, goal_fulfilment,
                            goals_from_config, hires_by_subsidy, households_on_assistance,
                            outcomes_after_employment, to_work_or_studies_by_month)
import impact.monitor as monitor

N, FIRST_IN_PERIOD, BAD_ROW = 1200, 1025, 1097   # BAD_ROW is row 72 of the rows in the period


def _employments() -> pd.DataFrame:
    """1,200 employments; only rows 1025.. reach day 90 (or were hired) in 2022."""
    inside = np.arange(N) >= FIRST_IN_PERIOD
    return pd.DataFrame({
        "gender": np.where(np.arange(N) % 2 == 0, "female", "male"),
        "end_date": np.where(inside, "2022-03-01", "2020-01-01"),
        "hire_date": np.where(inside, "2022-03-01", "2020-01-01"),
        "outcome_90": "to_work",
        "subsidy": "nystartsjobb",
    })


def test_the_subset_is_what_the_bug_needs():
    df = _employments()
    in_period = np.flatnonzero(df["end_date"].eq("2022-03-01").to_numpy())
    assert list(in_period).index(BAD_ROW) == 72


@pytest.mark.parametrize("column, value, call", [
    ("outcome_90", "work", lambda df: outcomes_after_employment(df, start="2022-01-01", end="2022-12-31")),
    ("outcome_90", None, lambda df: outcomes_after_employment(df, start="2022-01-01", end="2022-12-31")),
    ("subsidy", "nystartsjob", lambda df: hires_by_subsidy(df, start="2022-01-01", end="2022-12-31")),
    ("gender", "K", lambda df: hires_by_subsidy(df, start="2022-01-01", end="2022-12-31")),
    ("gender", None, lambda df: outcomes_after_employment(df, start="2022-01-01", end="2022-12-31")),
])
def test_errors_give_positions_in_the_callers_data(column, value, call):
    df = _employments()
    df[column] = df[column].astype(object)
    df.loc[BAD_ROW, column] = value
    with pytest.raises(DataError, match=rf"Column '{column}': .*1 row \(position {BAD_ROW}\)") as info:
        call(df)
    assert info.value.positions == (BAD_ROW,)


def test_positions_ignore_the_index_labels():
    df = _employments()
    df.loc[BAD_ROW, "subsidy"] = "osa"
    shuffled_labels = df.set_axis(np.arange(N)[::-1] + 10_000)   # labels that are not positions
    with pytest.raises(DataError, match=rf"position {BAD_ROW}\)"):
        hires_by_subsidy(shuffled_labels, start="2022-01-01")


def test_rows_outside_the_period_are_not_checked():
    df = _employments()
    df.loc[3, "subsidy"] = "osa"       # hired in 2020: not counted, not checked (as before)
    res = hires_by_subsidy(df, start="2022-01-01", end="2022-12-31")
    assert res.table.loc["all", "total"] == N - FIRST_IN_PERIOD


# ----------------------------------------------------------------------------------------------
# one date parser, one month parser


def test_dates_are_read_by_the_one_parser():
    df = pd.DataFrame({"person_id": [1, 2, 3], "gender": ["female", "male", "male"],
                       "outcome": ["to_work", "to_work", "to_studies"],
                       "end_date": ["2022-01-03", "2022-01-20", "2022-02-01"]})
    text = to_work_or_studies_by_month(df).table
    parsed = to_work_or_studies_by_month(df.assign(end_date=pd.to_datetime(df["end_date"]))).table
    pd.testing.assert_frame_equal(text, parsed)
    assert text["total"].tolist() == [2, 1]
    with pytest.raises(DataError, match=r"Column 'end_date': values that are not dates \(expected YYYY-MM-DD\); "
                                        r"1 row \(position 2\)"):
        to_work_or_studies_by_month(df.assign(end_date=["2022-01-03", "2022-01-20", "1 Feb 2022"]))


@pytest.mark.parametrize("months", [
    ["2022-01", "2022-01", "2022-02"],
    ["2022-01-31", "2022-01-01", "2022-02-15"],
    pd.to_datetime(["2022-01-31", "2022-01-01", "2022-02-15"]),
    pd.PeriodIndex(["2022-01", "2022-01", "2022-02"], freq="M"),
])
def test_months_in_every_accepted_form(months):
    df = pd.DataFrame({"household_id": ["a", "b", "a"], "month": months})
    res = households_on_assistance(df)
    assert res.table["households"].tolist() == [2.0, 1.0]
    assert [str(m) for m in res.table.index] == ["2022-01", "2022-02"]


def test_month_parser():
    assert parse_months(pd.Series(["2022-10", None]), "m", allow_missing=True).isna().tolist() == [False, True]
    with pytest.raises(DataError, match=r"Column 'm': months must not be missing; 1 row \(position 1\)"):
        parse_months(pd.Series(["2022-10", None]), "m")
    with pytest.raises(DataError, match=r"Column 'm': values must be months .*2 rows \(positions 0, 2\)"):
        parse_months(pd.Series(["Oct 2022", "2022-10", "2022-13"]), "m")


def test_period_parameters_are_checked():
    df = _employments()
    with pytest.raises(ParameterError, match=r"The 'start' parameter of hires_by_subsidy must be a date "
                                             r"\(YYYY-MM-DD\)\. Got 'soon'\."):
        hires_by_subsidy(df, start="soon")
    with pytest.raises(ParameterError, match=r"The 'end' parameter of households_on_assistance must be a month"):
        households_on_assistance(pd.DataFrame({"household_id": ["a"], "month": ["2022-01"]}), end=202201)


# ----------------------------------------------------------------------------------------------
# goals check their fields when they are made


@pytest.mark.parametrize("make, pattern", [
    (lambda: CountGoal("x", -1), r"^The 'target' parameter of CountGoal must be >= 0\. Got -1\.$"),
    (lambda: CountGoal("x", 10, partly=1.5), r"'partly' parameter of CountGoal must be <= 1"),
    (lambda: CountGoal(3, 10), r"'name' parameter of CountGoal must be a str\. Got 3\."),
    (lambda: ShareGoal("x", 75, column="c"), r"'target' parameter of ShareGoal must be <= 1\. Got 75\."),
    (lambda: ShareGoal("x", 0.5, column=None), r"'column' parameter of ShareGoal must be a column name"),
    (lambda: GenderBalanceGoal("x", measure="rate"), r"'measure' parameter of GenderBalanceGoal must be one of "
                                                     r"'composition', 'rates'\. Got 'rate'\. Did you mean 'rates'\?"),
    (lambda: BeforeAfterGoal("x"), r"Goal 'x' has no pairs of \(start, end\) columns"),
    (lambda: BeforeAfterGoal("x", pairs={"sa": ("a",)}), r"the pair of state 'sa' must be two column names"),
    (lambda: ManualGoal("x", "done"), r"'judgement' parameter of ManualGoal must be one of 'achieved', "
                                      r"'partly_achieved', 'not_achieved'\. Got 'done'\."),
])
def test_goal_fields_are_checked_when_made(make, pattern):
    with pytest.raises(ParameterError, match=pattern):
        make()


def test_goal_values_become_tuples():
    assert CountGoal("w", 1, column="outcome", values="to_work").values == ("to_work",)
    assert ShareGoal("s", 0.5, column="c", values=[1, 2], among_values=True).among_values == (True,)
    assert BeforeAfterGoal("b", pairs={"sa": ["s0", "s1"]}).pairs == {"sa": ("s0", "s1")}
    people = pd.DataFrame({"person_id": [1, 2, 3], "gender": ["female", "male", "male"],
                           "outcome": ["to_work", "to_work", "other"]})
    # a single code is one code, not its letters
    assert goal_fulfilment(people, [CountGoal("w", 2, column="outcome", values="to_work")]).table["measured"][0] == 2


def test_config_says_which_goal_is_wrong():
    with pytest.raises(ParameterError, match=r"^Goal 1 \(share\): The 'target' parameter of ShareGoal must be <= 1"):
        goals_from_config([{"kind": "count", "name": "a", "target": 1},
                           {"kind": "share", "name": "b", "target": 75, "column": "c"}])


# ----------------------------------------------------------------------------------------------
# parameter tables, frozen results, the notebook display


def test_every_public_function_has_a_parameter_table():
    for name in monitor.__all__:
        obj = getattr(monitor, name)
        if callable(obj) and not isinstance(obj, type) and name != "Goal":
            assert constraints_of(obj), name
    for cls in (monitor.GoalFulfilment, monitor.MonthlySeries, monitor.GenderTable, monitor.HouseholdSeries):
        assert constraints_of(cls.published) and constraints_of(cls.plot), cls


@pytest.mark.parametrize("call, pattern", [
    (lambda: hires_by_subsidy(_employments(), lang="se"),
     r"^The 'lang' parameter of hires_by_subsidy must be one of 'en', 'sv'\. Got 'se'\."),
    (lambda: outcomes_after_employment(_employments(), days=-1),
     r"^The 'days' parameter of outcomes_after_employment must be >= 0\. Got -1\.$"),
    (lambda: hires_by_subsidy(_employments()).published(threshold=0),
     r"^The 'threshold' parameter of GenderTable\.published must be >= 1\. Got 0\.$"),
    (lambda: to_work_or_studies_by_month(_employments(), empty_months="zeros"),
     r"'empty_months' parameter of to_work_or_studies_by_month must be one of 'flag', 'zero'\. Got 'zeros'\. "
     r"Did you mean 'zero'\?"),
    (lambda: hires_by_subsidy(_employments().to_dict()),
     r"'data' parameter of hires_by_subsidy must be a pandas DataFrame"),
])
def test_parameter_messages(call, pattern):
    with pytest.raises(ParameterError, match=pattern):
        call()


def test_results_are_frozen_and_published_does_not_change_them():
    res = hires_by_subsidy(_employments(), start="2022-01-01")
    before = res.table.copy()
    res.published("sv", threshold=50)
    res.plot()
    pd.testing.assert_frame_equal(res.table, before)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.lang = "sv"  # type: ignore[misc]
    people = pd.DataFrame({"person_id": [1, 2], "gender": ["female", "male"]})
    goals = goal_fulfilment(people, [CountGoal("participants", 2)])
    with pytest.raises(TypeError):
        goals.records[0]["judgement"] = "achieved"  # type: ignore[index]
    assert pickle.loads(pickle.dumps(goals)).records[0] == goals.records[0]
    import matplotlib.pyplot as plt
    plt.close("all")


def test_notebook_display_shows_only_the_published_table():
    df = _employments()
    df.loc[FIRST_IN_PERIOD:FIRST_IN_PERIOD + 2, "subsidy"] = "extratjanster"   # 3 hires: hidden
    res = hires_by_subsidy(df, start="2022-01-01")
    shown = res._repr_html_()
    assert res.published().to_html() in shown
    assert res.table.to_html() not in shown
    assert res.suppression().mask.to_numpy().any()
