"""Bad inputs to validate (issue 13, points 6 and 7): every problem in one run, and the inputs that used
to crash or be read wrongly.

Oracle: each mutation is made by hand on known rows, so the expected column, rule, row count and row
positions (positions in the data as given) are known without running the code.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest

import impact
from impact import DataError, ParameterError
from impact.data import Roles, ValidationError, validate


@pytest.fixture(scope="module")
def sim():
    return impact.simulate(n_pool=600, random_state=13)


def _iso(df, cols=("start_date", "exit_date")):
    df = df.copy()
    for c in cols:
        df[c] = df[c].dt.strftime("%Y-%m-%d")
    return df


def test_four_problems_in_one_run(sim):
    bad = sim.registers.copy()
    bad["participant"] = bad["participant"].astype(object)
    bad.loc[bad.index[[3, 8]], "participant"] = 2                     # 1. treatment not 0/1
    bad.loc[bad.index[[5]], "age"] = np.nan                           # 2. missing covariate
    bad.loc[bad.index[[1, 4, 9]], "person_id"] = bad["person_id"].iloc[0]  # 3. duplicate ids (0, 1, 4, 9)
    bad.loc[bad.index[[12]], "gender"] = None                          # 4. missing subgroup
    bad = bad.drop(columns=["education"])                              # 5. missing column
    with pytest.raises(ValidationError) as info:
        validate(bad, sim.roles)
    err = info.value
    assert isinstance(err, DataError)
    p = err.problems
    assert list(p.columns) == ["column", "rule", "n_rows", "first_positions", "fix"]
    by_col = p.set_index("column")
    assert set(by_col.index) == {"education", "person_id", "participant", "gender", "age"}
    assert by_col.loc["person_id", "n_rows"] == 4
    assert by_col.loc["person_id", "first_positions"] == (0, 1, 4, 9)
    assert by_col.loc["participant", "first_positions"] == (3, 8)
    assert by_col.loc["gender", "first_positions"] == (12,)
    assert by_col.loc["age", "first_positions"] == (5,)
    assert pd.isna(by_col.loc["education", "n_rows"])  # a rule about the column, not rows
    msg = str(err)
    assert msg.startswith("The data break 5 rules")
    for line in ("not in the data", "duplicate identifiers", "must be 0/1 or boolean", "missing subgroup",
                 "missing covariate values"):
        assert line in msg
    # first problem's fields for code that reads a DataError
    assert err.column == p["column"].iloc[0] and err.positions == p["first_positions"].iloc[0]
    for pid in sim.registers["person_id"].iloc[:15]:
        assert str(pid) not in msg


def test_single_problem_message_is_unchanged(sim):
    bad = sim.registers.copy()
    bad.loc[bad.index[[2]], "age"] = np.nan
    with pytest.raises(ValidationError) as info:
        validate(bad, sim.roles)
    assert len(info.value.problems) == 1
    assert str(info.value).startswith("Column 'age': missing covariate values in 'age' (1); 1 row (position 2).")
    assert "[design] missing = \"drop\"" in str(info.value)


def test_positions_are_in_the_input_with_any_index(sim):
    bad = sim.registers.copy()
    bad.index = np.arange(len(bad))[::-1] * 10  # an index that is not 0..n-1
    bad.loc[bad.index[[7]], "start_date"] = pd.NaT
    with pytest.raises(ValidationError) as info:
        validate(bad, sim.roles)
    assert info.value.positions == (7,)


def test_validation_error_pickles(sim):
    bad = sim.registers.drop(columns=["age"])
    with pytest.raises(ValidationError) as info:
        validate(bad, sim.roles)
    again = pickle.loads(pickle.dumps(info.value))
    assert str(again) == str(info.value) and again.problems.equals(info.value.problems)


def test_mixed_utc_offsets_keep_each_local_date(sim):
    # winter +01:00, summer +02:00, just after local midnight: the local date is the date meant
    data = _iso(sim.registers)
    start = sim.registers["start_date"]
    summer = start.dt.month.between(4, 10).to_numpy()
    data["start_date"] = (start.dt.strftime("%Y-%m-%dT00:30:00")
                          + np.where(summer, "+02:00", "+01:00"))
    v = validate(data, sim.roles)
    pd.testing.assert_series_equal(v.data["start_date"], validate(sim.registers, sim.roles).data["start_date"])


def test_time_zone_aware_timestamps_of_several_zones(sim):
    data = sim.registers.copy()
    stamps = [pd.Timestamp(d).tz_localize("Europe/Stockholm" if k % 2 else "UTC")
              for k, d in enumerate(data["start_date"])]
    data["start_date"] = pd.Series(stamps, index=data.index, dtype=object)
    v = validate(data, sim.roles)
    assert (v.data["start_date"] == sim.registers["start_date"]).all()


def test_infinite_covariate_is_named(sim):
    bad = sim.registers.assign(age=sim.registers["age"].astype(float))
    bad.loc[bad.index[[4, 6]], "age"] = [np.inf, -np.inf]
    with pytest.raises(DataError, match=r"Column 'age': infinite covariate values.*2 rows \(positions 4, 6\)"):
        validate(bad, sim.roles)


@pytest.mark.parametrize("write, pattern", [
    (lambda a: a.map(lambda v: f"{v:.1f}".replace(".", ",")), r"decimal comma \(e\.g\. '\d+,\d'\)"),
    (lambda a: a.map(lambda v: f"{int(v)} år"), r"with a unit \(e\.g\. '\d+ år'\)"),
    (lambda a: a.map(lambda v: f"{v:.1f}"), r"numbers stored as text"),
])
def test_numbers_as_text_are_not_silent_categories(sim, write, pattern):
    bad = sim.registers.assign(age=write(sim.registers["age"]))
    with pytest.raises(DataError, match=pattern) as info:
        validate(bad, sim.roles)
    assert info.value.column == "age"
    assert "categories" in str(info.value)


def test_decimal_comma_fix_names_read_csv_and_toml(sim):
    bad = sim.registers.assign(age=sim.registers["age"].map(lambda v: f"{v:.1f}".replace(".", ",")))
    with pytest.raises(DataError) as info:
        validate(bad, sim.roles)
    assert "decimal=','" in str(info.value) and '[data] decimal = ","' in str(info.value)


def test_text_codes_that_are_integers_stay_categories(sim):
    # region codes "1280", "0180" are categories, not numbers: no error
    codes = np.where(np.arange(len(sim.registers)) % 2, "1280", "0180")
    data = sim.registers.assign(region=codes)
    roles = Roles(**{**sim.roles.__dict__, "covariates": (*sim.roles.covariates, "region")})
    assert len(validate(data, roles).data) == len(data)


def test_ja_nej_treatment_gets_both_fixes(sim):
    bad = sim.registers.assign(participant=sim.registers["participant"].map({1: "ja", 0: "nej"}))
    with pytest.raises(DataError, match=r"must be 0/1 or boolean") as info:
        validate(bad, sim.roles)
    msg = str(info.value)
    assert "[columns.values] participant = {ja = 1, nej = 0}" in msg
    assert "df['participant'].map({'ja': 1, 'nej': 0})" in msg
    # the pandas fix works
    fixed = bad.assign(participant=bad["participant"].map({"ja": 1, "nej": 0}))
    assert len(validate(fixed, sim.roles).data) == len(bad)


def test_cutoff_month_first_is_refused_not_blamed_on_start_dates():
    with pytest.raises(ParameterError, match=r"'cutoff'.*ISO 8601.*'01/10/2022' is ambiguous: day first it is "
                                             r"1 October 2022, month first 10 January 2022"):
        Roles(id="i", treatment="t", start="s", cutoff="01/10/2022")


@pytest.mark.parametrize("cutoff, pattern", [
    ("2022-13-01", r"month or day does not exist"),
    ("9999-12-31", r"pandas holds dates from 1677-09-22 to 2262-04-11"),
    ("31/10/2022", r"written day first"),
])
def test_bad_cutoff_dates_are_date_errors_not_missing_columns(cutoff, pattern):
    with pytest.raises(ParameterError, match=pattern) as info:
        Roles(id="i", treatment="t", start="s", cutoff=cutoff)
    assert "not in the data" not in str(info.value)


def test_cutoff_column_and_iso_cutoff_still_work(sim):
    assert Roles(id="i", treatment="t", start="s", cutoff="2022-10-31").cutoff == "2022-10-31"
    data = sim.registers.assign(cut=pd.Timestamp("2022-10-31"))
    roles = Roles(**{**sim.roles.__dict__, "cutoff": "cut"})
    assert len(validate(data, roles).data) == len(data)


def test_day_first_start_dates_explain_the_order(sim):
    data = sim.registers.copy()
    for c in ("start_date", "exit_date"):
        data[c] = sim.registers[c].dt.strftime("%d/%m/%Y")
    with pytest.raises(DataError, match=r"Column 'start_date': dates must be ISO 8601 \(YYYY-MM-DD\)") as info:
        validate(data, sim.roles)
    msg = str(info.value)
    assert "date_format='%d/%m/%Y'" in msg and "[data] date_format" in msg
    # the fix it names works
    v = validate(data, sim.roles, date_format="%d/%m/%Y")
    pd.testing.assert_series_equal(v.data["start_date"], validate(sim.registers, sim.roles).data["start_date"])


def test_ambiguous_dates_name_both_readings(sim):
    data = _iso(sim.registers)
    data.loc[data.index[[0]], "start_date"] = "01/10/2022"
    with pytest.raises(DataError, match=r"'01/10/2022' is ambiguous: day first it is 1 October 2022, month first "
                                        r"10 January 2022; 1 row \(position 0\)"):
        validate(data, sim.roles)


def test_far_future_date_is_out_of_range_not_a_format_error(sim):
    data = _iso(sim.registers)
    rows = np.flatnonzero(data["exit_date"].notna().to_numpy())[:2]
    data.loc[data.index[rows], "exit_date"] = "9999-12-31"
    with pytest.raises(DataError, match=r"Column 'exit_date': dates out of range") as info:
        validate(data, sim.roles)
    assert "expected YYYY-MM-DD" not in str(info.value)
    assert info.value.positions == tuple(rows)


def test_month_13_is_a_date_error(sim):
    data = _iso(sim.registers)
    data.loc[data.index[[5]], "start_date"] = "2022-13-01"
    with pytest.raises(DataError, match=r"month or day does not exist, e.g. '2022-13-01'; 1 row \(position 5\)"):
        validate(data, sim.roles)


def test_negative_seed_is_refused_by_the_random_state_rule(sim):
    with pytest.raises(ParameterError, match=r"'random_state' parameter .* must be an int >= 0"):
        impact.match(sim.registers, treatment="participant", covariates=["age"], random_state=-1)


def test_negative_seed_in_evaluate_is_named(sim):
    with pytest.raises(ParameterError, match=r"^The 'random_state' parameter of evaluate must be an int >= 0"):
        impact.evaluate(sim.registers, sim.roles, random_state=-1)
