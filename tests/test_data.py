"""Validation: a table of bad inputs (mutation -> exception -> message), and the flow table.

Oracle: each mutation breaks exactly one rule; the message must name the column, the rule and
the row positions -- and never an identifier value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impact
from impact import DataError, ParameterError
from impact.data import Roles, validate


@pytest.fixture(scope="module")
def sim():
    return impact.simulate(n_pool=800, random_state=11)


def _set(col, rows, value):
    def mutate(df):
        df = df.copy()
        if df[col].dtype.kind in "iub" and not isinstance(value, (int, bool)):
            df[col] = df[col].astype(object)
        df.loc[df.index[rows], col] = value
        return df
    return mutate


def _drop(col):
    return lambda df: df.drop(columns=[col])


def _dup_ids(df):
    df = df.copy()
    df.loc[df.index[[3, 7]], "person_id"] = df["person_id"].iloc[1]
    return df


def _exit_before_start(df):
    df = df.copy()
    rows = df.index[df["exit_date"].notna()][:2]
    df.loc[rows, "exit_date"] = df.loc[rows, "start_date"] - pd.Timedelta(days=3)
    return df


def _start_after_cutoff(df):
    df = df.copy()
    df.loc[df.index[[4]], "start_date"] = pd.Timestamp("2023-01-15")
    return df


def _all(col, value):
    return lambda df: df.assign(**{col: value})


BAD_INPUTS = [
    # (name, mutation, column named, rule pattern, positions)
    ("missing column", _drop("education"), "education", r"not in the data", None),
    ("missing covariate", _set("age", [2, 5], np.nan), "age", r"missing covariate values", (2, 5)),
    ("missing treatment", _set("participant", [9], np.nan), "participant", r"missing treatment", (9,)),
    ("missing start date", _set("start_date", [0], pd.NaT), "start_date", r"missing dates", (0,)),
    ("treatment not 0/1", _set("participant", [1, 6], 2), "participant", r"must be 0/1 or boolean", (1, 6)),
    ("treatment as text", _set("participant", [3], "yes"), "participant", r"must be 0/1 or boolean", (3,)),
    ("duplicate ids", _dup_ids, "person_id", r"duplicate identifiers", (1, 3, 7)),
    ("exit before start", _exit_before_start, "exit_date", r"exit before the start", None),
    ("start after cut-off", _start_after_cutoff, "start_date", r"start date after the data cut-off", (4,)),
    ("unparseable date", lambda df: df.assign(start_date=df["start_date"].dt.strftime("%Y-%m-%d").where(
        df.index != df.index[8], "2021-13-45")), "start_date", r"not dates", (8,)),
    ("exit type without date", _set("exit_date", [0, 1, 2], pd.NaT), "exit_date/exit_type",
     r"both be present or both missing", None),
    ("undeclared exit type", _set("exit_type", [10], "parental leave"), "exit_type", r"not declared", (10,)),
    ("no treated", _all("participant", 0), "participant", r"no treated rows", None),
    ("no untreated", _all("participant", 1), "participant", r"no untreated rows", None),
    ("missing subgroup", _set("gender", [12], None), "gender", r"missing subgroup", (12,)),
]


@pytest.mark.parametrize("name,mutate,column,pattern,positions", BAD_INPUTS, ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_is_named(sim, name, mutate, column, pattern, positions):
    data = sim.registers
    if name == "exit type without date":
        rows = data.index[data["exit_date"].notna()][:3]
        data = data.copy()
        data.loc[rows, "exit_date"] = pd.NaT
        positions = tuple(int(data.index.get_loc(r)) for r in rows)
        bad = data
    else:
        bad = mutate(data)
    with pytest.raises(DataError, match=pattern) as info:
        validate(bad, sim.roles)
    msg = str(info.value)
    assert f"'{column}'" in msg
    assert info.value.column == column or column in msg
    if positions is not None:
        assert info.value.positions[: len(positions)] == positions
        assert f"{len(positions)} row" in msg
    # identifiers never leak into messages
    for pid in sim.registers["person_id"].iloc[:15]:
        assert pid not in msg


def test_exit_before_start_positions(sim):
    bad = _exit_before_start(sim.registers)
    expect = np.flatnonzero((bad["exit_date"] < bad["start_date"]).to_numpy())
    with pytest.raises(DataError) as info:
        validate(bad, sim.roles)
    assert info.value.positions == tuple(expect[:5])


def test_missing_covariates_dropped_and_counted(sim):
    bad = _set("age", [2, 5, 7], np.nan)(sim.registers)
    v = validate(bad, sim.roles, missing="drop")
    assert len(v.data) == len(bad) - 3
    table = v.flow.table()
    assert table.loc["complete covariates", "dropped"] == 3
    assert table.loc["eligible", "all"] == len(bad)
    long = v.flow.to_frame()
    step = long[(long.step == "complete covariates") & (long.subgroup == "all")]
    n_t_dropped = int(bad.loc[bad.index[[2, 5, 7]], "participant"].sum())
    assert step.set_index("treatment").loc["treated", "n_dropped"] == n_t_dropped


def test_boolean_treatment_accepted(sim):
    data = sim.registers.assign(participant=sim.registers["participant"].astype(bool))
    v = validate(data, sim.roles)
    assert set(v.data["participant"].unique()) == {0, 1}


def test_string_dates_parse_like_datetimes(sim):
    data = sim.registers.copy()
    for c in ("start_date", "exit_date"):
        data[c] = data[c].dt.strftime("%Y-%m-%d")
    v1 = validate(data, sim.roles)
    v2 = validate(sim.registers, sim.roles)
    pd.testing.assert_series_equal(v1.data["exit_date"], v2.data["exit_date"])


def test_bad_parameters():
    with pytest.raises(ParameterError, match="'missing' parameter of validate"):
        validate(pd.DataFrame({"a": [1]}), Roles(id="a", treatment="a", start="a"), missing="ignore")
    with pytest.raises(ParameterError, match="must be a pandas DataFrame|Expected a pandas DataFrame"):
        validate([1, 2], Roles(id="a", treatment="t", start="s"))
    with pytest.raises(ParameterError, match="exit_codes"):
        Roles(id="a", treatment="t", start="s", exit_codes={"work": "success"})


def test_missing_column_suggests_close_name(sim):
    bad = sim.registers.rename(columns={"education": "educaton"})
    with pytest.raises(DataError, match="Did you mean 'educaton'"):
        validate(bad, sim.roles)
