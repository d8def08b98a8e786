"""Command line and configuration files: clear messages and exit codes for bad configurations,
and a whole run from a TOML file to a report."""

from __future__ import annotations

import re
import textwrap

import pytest

import impact
from impact.cli import main
from impact.pipeline import ConfigError, read_config
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


def test_min_effect_n_from_the_file_withholds_effects(tmp_path):
    """[report] min_effect_n reaches the publication layer: with 100 000 no effect can be shown."""
    import pandas as pd
    sim = impact.simulate(3000, random_state=2)
    write_synthetic(sim, tmp_path)
    p = _write(tmp_path, GOOD.format(data="registers.csv") + "min_effect_n = 100000\n")
    assert main(["run", str(p), "--out", str(tmp_path / "out")]) == 0
    eff = pd.read_csv(tmp_path / "out" / "effects.csv")
    assert len(eff) and eff["estimate"].isna().all()
    assert "100" in (tmp_path / "out" / "report.html").read_text(encoding="utf-8")


# ------------------------------------------------------------------------------------------------
# input formats, goals and monitoring from the file, help, progress


@pytest.fixture(scope="module")
def registers_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("registers")
    assert main(["simulate", "--seed", "2", "--n-pool", "3000", "--monitoring", "--out", str(folder)]) == 0
    return folder


@pytest.mark.parametrize("suffix", [".parquet", ".dta", ".sav"])
def test_run_reads_parquet_stata_and_spss(registers_dir, tmp_path, suffix, capsys):
    """The same registers in another format give the same effect table as the CSV."""
    import pandas as pd
    from impact.pipeline import read_table
    data = read_table(registers_dir / "registers.csv")
    data = data.assign(**{c: pd.to_datetime(data[c]) for c in ("start_date", "registered_date", "exit_date")})
    path = tmp_path / f"registers{suffix}"
    if suffix == ".parquet":
        data.to_parquet(path)
    elif suffix == ".dta":
        data.to_stata(path, write_index=False)
    else:
        pyreadstat = pytest.importorskip("pyreadstat")
        pyreadstat.write_sav(data, str(path))
    p = _write(tmp_path, GOOD.format(data=path.as_posix()))
    assert main(["run", str(p), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    got = pd.read_csv(tmp_path / "out" / "effects.csv")
    p_csv = _write(tmp_path, GOOD.format(data=(registers_dir / "registers.csv").as_posix()))
    assert main(["run", str(p_csv), "--out", str(tmp_path / "csv"), "--quiet"]) == 0
    want = pd.read_csv(tmp_path / "csv" / "effects.csv")
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-9, atol=1e-12)


def test_spss_without_pyreadstat_says_what_to_install(tmp_path, monkeypatch, capsys):
    import sys
    from impact.pipeline import read_table
    path = tmp_path / "x.sav"
    path.write_bytes(b"not really spss")
    monkeypatch.setitem(sys.modules, "pyreadstat", None)   # import pyreadstat -> ImportError
    with pytest.raises(ConfigError, match=r"needs the optional package pyreadstat: pip install pyreadstat"):
        read_table(path)
    p = _write(tmp_path, GOOD.format(data=path.as_posix()))
    assert main(["run", str(p)]) == 2
    assert "pyreadstat" in capsys.readouterr().err


@pytest.mark.parametrize("name, content, pattern", [
    ("broken.parquet", b"this is not parquet", r"Cannot read the data file .*broken.parquet as Parquet"),
    ("broken.dta", b"nor stata", r"Cannot read the data file .*broken.dta as Stata"),
    ("registers.xls", b"", r"unknown file type '.xls'"),
])
def test_file_that_cannot_be_read(tmp_path, capsys, name, content, pattern):
    path = tmp_path / name
    path.write_bytes(content)
    p = _write(tmp_path, GOOD.format(data=path.as_posix()))
    assert main(["run", str(p)]) == 2
    err = capsys.readouterr().err
    assert re.search(pattern, err), err
    assert "Traceback" not in err


def test_data_path_is_a_folder(tmp_path, capsys):
    p = _write(tmp_path, GOOD.format(data=tmp_path.as_posix()))
    assert main(["run", str(p)]) == 2
    assert "is a folder" in capsys.readouterr().err


FULL = GOOD + """
[effects]
subgroups = ["region_of_birth"]

[monitoring]
participants = "participants.csv"
employments = "employments.csv"
households = "households.csv"
household_exits = "household_exits.csv"
start = "2022-01-01"
end = "2022-10-31"

[[goals]]
kind = "count"
name = "participants"
target = 4000

[[goals]]
kind = "outcome_count"
name = "to_work_or_studies"
target = 1800
"""


def test_run_with_goals_monitoring_subgroups_in_swedish(registers_dir, tmp_path, capsys):
    import pandas as pd
    text = ('lang = "sv"\n' + FULL).format(data="registers.csv")
    p = registers_dir / "full.toml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", str(p), "--out", str(out), "--quiet"]) == 0
    goals = pd.read_csv(out / "goal_fulfilment.csv")
    assert list(goals.columns[:4]) == ["Mål", "Målvärde", "Utfall", "Bedömning"] and len(goals) == 2
    for name in ("to_work_or_studies", "outcomes_after_employment", "hires_by_subsidy", "households",
                 "household_exits"):
        assert (out / f"monitoring_{name}.csv").exists(), name
    assert (out / "effects_by_region_of_birth.csv").exists()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Bedömning av måluppfyllelse" in html and "[[goals]]" in html   # the full configuration


@pytest.mark.parametrize("mutation, pattern", [
    (lambda t: t.replace('kind = "count"', 'kind = "cuont"'), r"\[\[goals\]\].*'kind'.*Did you mean 'count'"),
    (lambda t: t.replace("target = 4000", "target = 4000\ntarge = 1"), r"unknown field 'targe'.*Did you mean 'target'"),
    (lambda t: t.replace("[monitoring]\nparticipants", "[monitoring]\nparticipant"),
     r"unknown key '\[monitoring\] participant'. Did you mean 'participants'"),
    (lambda t: t.replace('participants = "participants.csv"\n', ""), r"\[\[goals\]\] are judged on the participants"),
    (lambda t: 'lang = "se"\n' + t, r"lang must be one of 'en', 'sv'. Got 'se'"),
    (lambda t: t.replace("[effects]\n", "[effect]\n"), r"unknown key 'effect'. Did you mean 'effects'"),
    (lambda t: t.replace('subgroups = ["region_of_birth"]', 'subgroups = ["region_of_brith"]'),
     r"subgroup column 'region_of_brith' is not in the data .*Did you mean 'region_of_birth'\?"),
    (lambda t: t.replace('households = "households.csv"', 'households = "nohouse.csv"'),
     r"nohouse.csv: it does not exist"),
])
def test_bad_goal_and_monitoring_config(registers_dir, capsys, mutation, pattern):
    p = registers_dir / "bad.toml"
    p.write_text(textwrap.dedent(mutation(FULL.format(data="registers.csv"))), encoding="utf-8")
    assert main(["run", str(p), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert re.search(pattern, err, flags=re.S), err


def test_help_lists_commands_exit_codes_and_keys(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert all(w in out for w in ("run", "demo", "simulate", "exit codes", "impact run evaluation.toml"))
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    out = capsys.readouterr().out
    assert "[monitoring]" in out and "[[goals]]" in out and "--quiet" in out
    with pytest.raises(SystemExit) as exc:
        main(["frobnicate"])
    assert exc.value.code == 2


def test_progress_bar_on_a_terminal(registers_dir, monkeypatch):
    """A progress bar names each step on a terminal and stays silent in a pipe or log."""
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    sim = impact.simulate(1500, random_state=3)
    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    impact.evaluate(sim.registers, sim.roles, progress=True, horizons=(90,))
    shown = term.getvalue()
    assert "match" in shown and "5/5" in shown
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    impact.evaluate(sim.registers, sim.roles, progress=True, horizons=(90,))
    assert pipe.getvalue() == ""


def test_unexpected_error_exits_1_with_traceback(monkeypatch, capsys, tmp_path):
    import impact.pipeline
    def boom(*a, **k):
        raise RuntimeError("boom")
    monkeypatch.setattr(impact.pipeline, "run", boom)
    assert main(["run", str(tmp_path / "x.toml")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "please report it" in err
