"""The evaluation file of issue 10 works as written, files come as evaluators have them, and every
error from a TOML run names the key that fixes it.

Oracles: the contract's own promises (effects.csv rows and columns; the default covariates);
metamorphic equality (the same data written as a Swedish Excel export -- semicolons, decimal commas,
cp1252, ja/nej -- and read with the file options gives the same data and the same evaluation).
"""

from __future__ import annotations

import shutil
import textwrap

import numpy as np
import pandas as pd
import pytest

import impact
from impact.cli import BUNDLED_DIR, main
from impact.pipeline import ConfigError, read_config, read_registers, read_table, run
from impact.synthetic import EXTRACT_FILES

CONTRACT = """\
seed = 1
[registers]
persons = "persons.csv"
spells = "spells.csv"
programme = "programme.csv"
benefits = "benefits.csv"        # economic assistance months
cutoff = "2022-10-31"
[registers.columns]               # these are the defaults
id = "person_id"
gender = "gender"
registered = "registered"
deregistered = "deregistered"
code = "code"
start = "start"
month = "month"
[outcomes.codes]                  # deregistration code -> event | competing | censored
"11" = "event"
"31" = "event"
"80" = "competing"
"90" = "competing"
[design]
method = "riskset"
estimand = "join_vs_never"        # or "join_vs_wait"
[outcomes]
horizons = [90, 180, 365]
[report]
out = "report"
"""


@pytest.fixture(scope="module")
def extract_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("extract")
    for name in EXTRACT_FILES:
        shutil.copy(BUNDLED_DIR / name, folder / name)
    return folder


def _write(folder, text, name="eval.toml"):
    p = folder / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


def test_the_contract_file_runs_and_writes_effects_by_gender(extract_dir):
    ev = run(_write(extract_dir, CONTRACT))
    eff = pd.read_csv(extract_dir / "report" / "effects.csv")
    assert {"subgroup", "estimand", "horizon", "estimate", "se", "ci_low", "ci_high"} <= set(eff.columns)
    assert {"all", "female", "male", "female - male"} <= set(eff["subgroup"])
    for g in ("all", "female", "male", "female - male"):
        rows = eff[(eff["subgroup"] == g) & (eff["estimand"] == "share_diff")]
        assert sorted(rows["horizon"]) == [90.0, 180.0, 365.0], g
        assert np.isfinite(rows[["estimate", "se", "ci_low", "ci_high"]].to_numpy(float)).all(), g
        assert (eff[(eff["subgroup"] == g)]["estimand"] == "hazard_ratio").sum() == 1
    assert ev.design == "riskset" and ev.settings["estimand"] == "join_vs_never"
    # without [design] covariates: the history covariates and every fixed person column but the id
    # (birth year enters as age; gender is matched exactly)
    assert ev.settings["covariates"] == ["age", "elapsed_days", "days_registered_24m", "earlier_spells",
                                         "economic_assistance_months_12m", "economic_assistance_any_12m",
                                         "born_abroad", "education", "district"]
    assert ev.settings["codes"]["11"] == "event" and ev.settings["codes"]["90"] == "competing"
    for name in ("sensitivity_unknown.csv", "cause_shares.csv", "contamination.csv", "unmatched.csv"):
        assert (extract_dir / "report" / name).exists(), name
    settings = pd.read_csv(extract_dir / "report" / "settings.csv").set_index("setting")["value"]
    assert "join_vs_never" in settings["estimand"]


@pytest.mark.parametrize("mutation, pattern", [
    (lambda t: t.replace("horizons = [90, 180, 365]", 'horizons = ["ninety"]'), r"\[outcomes\] horizons"),
    (lambda t: t.replace("seed = 1", "seed = -1"), r"key seed"),
    (lambda t: t.replace('"80" = "competing"', '"80" = "work"'), r"\[outcomes.codes\] \"80\" must be one of"),
    (lambda t: t.replace('registered = "registered"', 'registred = "registered"'),
     r"unknown key '\[registers.columns\] registred'. Did you mean 'registered'"),
    (lambda t: t.replace('cutoff = "2022-10-31"\n', ""), r"\[registers\] cutoff is required"),
    (lambda t: t.replace('estimand = "join_vs_never"', 'estimand = "join_vs_later"'), r"\[design\] estimand must be"),
    (lambda t: t.replace('method = "riskset"', 'method = "nearest"'), r"method = \"riskset\""),
    (lambda t: t.replace('persons = "persons.csv"', 'persons = "people.csv"'), r"people.csv: it does not exist"),
    (lambda t: t.replace('"90" = "competing"\n', '"90" = "competing"\n[data]\npath = "x.csv"\n'),
     r"\[registers\] and \[data\] do not go together"),
])
def test_errors_name_the_toml_key(extract_dir, capsys, mutation, pattern):
    p = _write(extract_dir, mutation(CONTRACT), "bad.toml")
    assert main(["run", str(p), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert pd.Series([err]).str.contains(pattern).iloc[0], err


def test_an_unknown_code_in_the_spells_names_the_table_column_and_rows(extract_dir, tmp_path, capsys):
    for name in EXTRACT_FILES:
        shutil.copy(extract_dir / name, tmp_path / name)
    spells = pd.read_csv(tmp_path / "spells.csv", dtype=str)
    row = int(spells.index[spells["deregistered"].notna()][3])
    spells.loc[row, "code"] = "47"
    spells.to_csv(tmp_path / "spells.csv", index=False)
    p = _write(tmp_path, CONTRACT)
    assert main(["run", str(p), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "spells, column 'code': unknown deregistration codes (47)" in err and f"position {row}" in err
    assert "[outcomes.codes]" in err


def test_register_files_as_a_swedish_excel_export_read_the_same(extract_dir, tmp_path):
    """Semicolons and cp1252 (district names with å, ö) in [registers]: the same extract."""
    for name in EXTRACT_FILES:
        df = pd.read_csv(extract_dir / name, dtype=str, keep_default_na=False)
        df.to_csv(tmp_path / name, sep=";", index=False, encoding="cp1252")
    p = _write(tmp_path, CONTRACT.replace('cutoff = "2022-10-31"', 'cutoff = "2022-10-31"\nsep = ";"\n'
                                                                  'encoding = "cp1252"'))
    a = read_registers(read_config(_write(extract_dir, CONTRACT, "plain.toml")))
    b = read_registers(read_config(p))
    for table in ("persons", "spells", "programme"):
        pd.testing.assert_frame_equal(getattr(a, table), getattr(b, table))
    pd.testing.assert_frame_equal(a.benefits["economic_assistance"], b.benefits["economic_assistance"])
    with pytest.raises(ConfigError, match='encoding = "cp1252"'):
        read_registers(read_config(_write(tmp_path, CONTRACT.replace(
            'cutoff = "2022-10-31"', 'cutoff = "2022-10-31"\nsep = ";"'), "noenc.toml")))


TABLE = """\
seed = 1
[data]
path = "{path}"
{options}
[columns]
id = "person_id"
treatment = "participant"
start = "start_date"
exit_date = "exit_date"
exit_type = "exit_type"
cutoff = "2022-10-31"
subgroup = "gender"
covariates = ["age", "education", "income"]
{values}
[design]
start_period = "year"
[effects]
se_method = "influence"
"""


@pytest.fixture(scope="module")
def person_table(tmp_path_factory):
    folder = tmp_path_factory.mktemp("table")
    sim = impact.simulate(3000, random_state=3)
    df = sim.registers.copy()
    for c in ("start_date", "registered_date", "exit_date"):
        df[c] = pd.to_datetime(df[c]).dt.strftime("%Y-%m-%d")
    rng = np.random.default_rng(0)
    df["income"] = np.round(rng.gamma(2.0, 8000.0, len(df)) / 7, 1)       # a number with decimals
    df["district"] = np.where(rng.random(len(df)) < 0.5, "Rosengård", "Södra innerstaden")
    df.to_csv(folder / "plain.csv", index=False)
    swedish = df.assign(participant=df["participant"].map({1: "ja", 0: "nej"}),
                        income=df["income"].map(lambda v: f"{v:.1f}".replace(".", ",")))
    swedish.to_csv(folder / "export.csv", sep=";", index=False, encoding="cp1252")
    df.to_excel(folder / "export.xlsx", sheet_name="data", index=False)
    return folder, df


def _run_table(folder, path, options="", values="", name="t.toml"):
    return _write(folder, TABLE.format(path=path, options=options, values=values), name)


def test_a_swedish_person_table_reads_as_the_plain_one(person_table):
    folder, df = person_table
    opts = 'sep = ";"\ndecimal = ","\nencoding = "cp1252"'
    vals = "[columns.values]\nparticipant = {ja = 1, nej = 0}"
    cfg = read_config(_run_table(folder, "export.csv", opts, vals))
    from impact.pipeline import read_inputs
    data, _ = read_inputs(cfg)
    plain, _ = read_inputs(read_config(_run_table(folder, "plain.csv", name="p.toml")))
    assert data["income"].dtype == float
    pd.testing.assert_frame_equal(data, plain, check_dtype=False)
    ev = run(cfg.source, out=folder / "r1")
    ev_plain = run(folder / "p.toml", out=folder / "r2")
    pd.testing.assert_frame_equal(ev.summary(), ev_plain.summary())


def test_file_problems_name_the_key_that_fixes_them(person_table):
    folder, _ = person_table
    vals = "[columns.values]\nparticipant = {ja = 1, nej = 0}"
    with pytest.raises(ConfigError, match=r"column 'income': numbers written with a decimal comma .*decimal = \",\" to \[data\]"):
        read_table(folder / "export.csv", sep=";", encoding="cp1252")
    with pytest.raises(ConfigError, match=r'encoding = "cp1252" to \[data\]'):
        read_table(folder / "export.csv", sep=";", decimal=",")
    with pytest.warns(impact.ImpactWarning, match=r"read with sep=';'.*\[data\] sep = \";\""):
        df = read_table(folder / "export.csv", decimal=",", encoding="cp1252")
    assert df["income"].dtype == float
    p = _run_table(folder, "export.csv", 'sep = ";"\ndecimal = ","\nencoding = "cp1252"',
                   "[columns.values]\nparticipant = {ja = 1}", name="v.toml")
    from impact.pipeline import read_inputs
    with pytest.raises(ConfigError, match=r"\[columns.values\] participant: values 'nej' are not in the table"):
        read_inputs(read_config(p))
    assert vals


def test_xlsx_with_a_sheet_and_sas_files(person_table, monkeypatch):
    folder, df = person_table
    got = read_table(folder / "export.xlsx", sheet="data")
    assert len(got) == len(df) and got["income"].dtype == float
    with pytest.raises(ConfigError, match=r"\[data\] sheet"):
        read_table(folder / "export.xlsx", sheet="nope")
    # SAS (.sas7bdat, as in SCB's MONA): pandas' reader, with the encoding passed on
    seen = {}

    def fake_read_sas(path, format=None, encoding=None):
        seen.update(format=format, encoding=encoding)
        return pd.DataFrame({"person_id": ["a", ""], "age": [30.0, 41.0]})

    monkeypatch.setattr(pd, "read_sas", fake_read_sas)
    sas = folder / "x.sas7bdat"
    sas.write_bytes(b"not really sas")
    out = read_table(sas, encoding="cp1252")
    assert seen == {"format": "sas7bdat", "encoding": "cp1252"} and out["person_id"].isna().tolist() == [False, True]


def test_the_example_file_runs_on_a_small_synthetic_extract(tmp_path):
    """examples/evaluation.toml as `make example` runs it (a smaller extract to keep the suite fast)."""
    from pathlib import Path
    example = Path(__file__).resolve().parents[1] / "examples" / "evaluation.toml"
    assert main(["simulate", "--registers", "--n-persons", "5000", "--monitoring", "--out", str(tmp_path / "data")]) == 0
    shutil.copy(example, tmp_path / "evaluation.toml")
    ev = run(tmp_path / "evaluation.toml", out=tmp_path / "report")
    assert ev.design == "riskset" and ev.lang == "sv" and ev.goals is not None and ev.monitoring
    assert (tmp_path / "report" / "effects.csv").exists() and (tmp_path / "report" / "sensitivity_unknown.csv").exists()
