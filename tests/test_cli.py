"""Command line and configuration files: clear messages and exit codes for bad configurations,
and a whole run from a TOML file to a report."""

from __future__ import annotations

import textwrap

import pytest

import impact
from impact.cli import main
from impact.config import ConfigError, read_config
from impact.synthetic import write_synthetic

GOOD = """
seed = 0
[data]
path = "{data}"
[columns]
id = "person_id"
treatment = "participant"
start = "start_date"
exit_date = "exit_date"
exit_type = "exit_type"
cutoff = "2022-10-31"
subgroup = "gender"
covariates = ["age", "region_of_birth", "education", "days_unemployed_2y", "social_assistance"]
[design]
caliper = 0.2
[outcomes]
horizons = [90, 180]
[report]
title = "Test evaluation"
"""


def _write(tmp_path, text):
    p = tmp_path / "evaluation.toml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_unknown_key_suggests_nearest(tmp_path):
    p = _write(tmp_path, GOOD.format(data="x.csv").replace("caliper = 0.2", "calliper = 0.2"))
    with pytest.raises(ConfigError, match=r"unknown key '\[design\] calliper'. Did you mean 'caliper'"):
        read_config(p)
    assert main(["run", str(p)]) == 2


def test_wrong_type_and_missing_section(tmp_path):
    p = _write(tmp_path, GOOD.format(data="x.csv").replace("caliper = 0.2", 'caliper = "wide"'))
    with pytest.raises(ConfigError, match=r"\[design\] caliper must be a number"):
        read_config(p)
    p = _write(tmp_path, "[data]\npath = 'x.csv'\n")
    with pytest.raises(ConfigError, match=r"\[columns\] section is missing"):
        read_config(p)


def test_missing_files_exit_nonzero(tmp_path, capsys):
    assert main(["run", str(tmp_path / "nope.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    p = _write(tmp_path, GOOD.format(data="missing.csv"))
    assert main(["run", str(p)]) == 2
    assert "missing.csv" in capsys.readouterr().err


def test_column_that_does_not_exist(tmp_path, capsys):
    sim = impact.simulate(1500, random_state=2)
    write_synthetic(sim, tmp_path)
    p = _write(tmp_path, GOOD.format(data="registers.csv").replace('"education"', '"educaton"'))
    assert main(["run", str(p)]) == 2
    err = capsys.readouterr().err
    assert "'educaton'" in err and "not in the data" in err


def test_run_writes_report(tmp_path, capsys):
    sim = impact.simulate(3000, random_state=2)
    write_synthetic(sim, tmp_path)
    p = _write(tmp_path, GOOD.format(data="registers.csv"))
    assert main(["run", str(p), "--out", str(tmp_path / "out")]) == 0
    assert (tmp_path / "out" / "report.html").exists()
    assert (tmp_path / "out" / "effects.csv").exists()
    assert "Report written" in capsys.readouterr().out
