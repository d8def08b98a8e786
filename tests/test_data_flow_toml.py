"""The flow table counts boolean treatment columns, and the one TOML reader names what went wrong.

Oracles: counts by hand (two treated, one control); the integer version of the same column; the
file system (a missing file, a folder, broken TOML).
"""

from __future__ import annotations

import pandas as pd
import pytest

from impact import ParameterError
from impact.data import Flow, read_toml
from impact.pipeline import ConfigError, read_config


@pytest.mark.parametrize("values", [[True, False, True], [1.0, 0.0, 1.0],
                                    pd.array([True, False, True], dtype="boolean")])
def test_flow_counts_treatment_of_any_zero_one_type(values):
    """Before, a dict {1: ..., 0: ..., True: ..., False: ...} (really {1: ..., 0: ...}) was given
    to Series.map, which finds no booleans in it: a boolean treatment gave no treated or controls."""
    df = pd.DataFrame({"t": values, "g": ["f", "m", "m"]})
    ints = df.assign(t=[1, 0, 1])
    table = Flow().add("eligible", "rows", df, df, treatment="t", subgroup="g").to_frame()
    expected = Flow().add("eligible", "rows", ints, ints, treatment="t", subgroup="g").to_frame()
    pd.testing.assert_frame_equal(table, expected)
    wide = Flow().add("eligible", "rows", df, df, treatment="t").table()
    assert wide.loc["eligible", ["all", "treated", "control"]].tolist() == [3, 2, 1]


def test_flow_ignores_missing_treatment():
    df = pd.DataFrame({"t": pd.array([True, None, False], dtype="boolean")})
    wide = Flow().add("eligible", "rows", df, df, treatment="t").table()
    assert wide.loc["eligible", ["all", "treated", "control"]].tolist() == [3, 1, 1]


def test_read_toml_reads_and_names_each_failure(tmp_path):
    p = tmp_path / "e.toml"
    p.write_text('seed = 3\n[[goals]]\nkind = "count"\n', encoding="utf-8")
    assert read_toml(p) == {"seed": 3, "goals": [{"kind": "count"}]}
    with pytest.raises(ParameterError, match=r"^Cannot read the goal file .*none\.toml: it does not exist\.$"):
        read_toml(tmp_path / "none.toml", what="goal file")
    with pytest.raises(ParameterError, match=r"^Cannot read the configuration file "):
        read_toml(tmp_path)
    p.write_text("seed = = 3\n", encoding="utf-8")
    with pytest.raises(ParameterError, match=r"e\.toml is not valid TOML: "):
        read_toml(p)
    with pytest.raises(ParameterError, match=r"The 'path' parameter of read_toml must be a path"):
        read_toml(3)


def test_read_config_keeps_its_messages_through_the_one_reader(tmp_path):
    with pytest.raises(ConfigError, match=r"^Cannot read the configuration file .*nope\.toml: it does not exist\.$"):
        read_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[data\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.toml is not valid TOML"):
        read_config(bad)
