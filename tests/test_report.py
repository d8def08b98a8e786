"""The report: every output file free of identifiers, self-contained HTML, CSV and Excel for every
table, suppression of small counts everywhere, methods and footer written from the settings, sv/en.

Oracles: the input's identifiers (none may appear in any output file, and the scanner is shown to
find one that is planted); the settings the evaluation ran with (the methods text must state them);
the suppression rule (every count under the threshold is hidden).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impact
from impact.cli import BUNDLED_DIR, DEMO_GOALS
from impact.publish import effects_published, scrub_counts
from impact.report import REPORT_FILES, write_report
from impact.synthetic import read_synthetic
from impact.synthetic import simulate_monitoring

_TOKEN = re.compile(r"[A-Z]\d{4,}")


@pytest.fixture(scope="module")
def inputs():
    return read_synthetic(BUNDLED_DIR), simulate_monitoring(random_state=0)


@pytest.fixture(scope="module")
def evaluation(inputs):
    sim, rec = inputs
    return impact.evaluate(sim.registers, sim.roles, truth=sim.truth, random_state=0, subgroups=["region_of_birth"],
                           goals=DEMO_GOALS, monitoring=rec, monitoring_start="2022-01-01",
                           monitoring_end="2022-10-31")


@pytest.fixture(scope="module")
def report(evaluation, tmp_path_factory):
    folder = tmp_path_factory.mktemp("report_en")
    return write_report(evaluation, folder, title="Test report")


def _texts(folder: Path) -> dict[str, str]:
    """Every output file as text; a workbook (a zip of XML) as the text of all its parts."""
    out = {}
    for f in sorted(folder.iterdir()):
        if f.suffix == ".xlsx":
            with zipfile.ZipFile(f) as z:
                out[f.name] = "\n".join(z.read(n).decode("utf-8", errors="ignore") for n in z.namelist())
        else:
            out[f.name] = f.read_text(encoding="utf-8", errors="ignore")
    return out


def _ids_found(texts: dict[str, str], ids: set[str]) -> dict[str, set[str]]:
    found = {}
    for name, text in texts.items():
        hits = {t for t in _TOKEN.findall(text) if t in ids} | {i for i in list(ids)[:500] if i in text}
        if hits:
            found[name] = hits
    return found


def _all_ids(inputs) -> set[str]:
    sim, rec = inputs
    ids = set(sim.registers["person_id"].astype(str))
    ids |= set(rec.participants["person_id"].astype(str)) | set(rec.employments["person_id"].astype(str))
    ids |= set(rec.employments["employment_id"].astype(str)) | set(rec.households["household_id"].astype(str))
    return ids


def test_no_identifier_in_any_output_file(report, inputs, tmp_path):
    """Oracle: the input's identifiers. The scanner is first shown to find a planted one."""
    ids = _all_ids(inputs)
    planted = next(iter(sorted(ids)))
    (tmp_path / "leak.csv").write_text(f"a,b\n{planted},1\n", encoding="utf-8")
    assert _ids_found(_texts(tmp_path), ids) == {"leak.csv": {planted}}

    texts = _texts(report.parent)
    assert {"report.html", "tables.xlsx", "effects.csv", "goal_fulfilment.csv"} <= set(texts)
    assert _ids_found(texts, ids) == {}


def test_every_table_as_csv_and_as_a_sheet(report):
    folder = report.parent
    for name in REPORT_FILES:
        assert (folder / name).exists(), name
    csvs = sorted(p.stem for p in folder.glob("*.csv"))
    for expected in ["effects_by_region_of_birth", "goal_fulfilment", "truth_check", "monitoring_households",
                     "monitoring_hires_by_subsidy", "monitoring_outcomes_after_employment",
                     "monitoring_to_work_or_studies", "monitoring_household_exits"]:
        assert expected in csvs
    sheets = pd.ExcelFile(folder / "tables.xlsx").sheet_names
    assert sheets[0] == "methods"
    for stem in csvs:
        short = stem.removeprefix("monitoring_")[:31]
        assert short in sheets, (stem, sheets)
    effects = pd.read_excel(folder / "tables.xlsx", sheet_name="effects")
    assert len(effects) == len(pd.read_csv(folder / "effects.csv"))


def test_html_is_self_contained(report, evaluation):
    text = report.read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*['"]?(https?:|//)""", text)
    assert "<script" not in text and "<link" not in text
    imgs = re.findall(r"<img [^>]*src=\"([^\"]+)\"", text)
    # love plot, curves, forest, goals, five monitoring figures
    assert len(imgs) == 9 and all(s.startswith("data:image/png;base64,") for s in imgs)
    links = re.findall(r"href='([^'#]+)'", text)
    assert links and all((report.parent / link).exists() for link in links)


def test_counts_under_the_threshold_are_hidden_everywhere(evaluation, tmp_path):
    """Oracle: the suppression rule. With a threshold above the number of participants analysed,
    every count of participants must be hidden: in the flow, the methods text and the estimates."""
    n_treated = int((evaluation.analysed["participant"] == 1).sum())
    path = write_report(evaluation, tmp_path, threshold=n_treated + 1)
    flow = pd.read_csv(tmp_path / "flow.csv", dtype=str).set_index("step")
    assert flow.loc["analysed", "treated"] == ".." and flow.loc["analysed", "control"] == ".."
    text = path.read_text(encoding="utf-8")
    assert f"{n_treated} of" not in text and ".. of" in text
    effects = pd.read_csv(tmp_path / "effects.csv")
    by_group = effects[effects["subgroup"].isin(["all", "female", "male"])]
    assert by_group["estimate"].isna().all()
    assert not any(c.startswith(("n_", "events_")) for c in effects.columns)
    hires = pd.read_csv(tmp_path / "monitoring_hires_by_subsidy.csv", dtype=str)
    assert hires.iloc[:, 1:].isin(["..", "0"]).all().all()   # true zeros are shown
    assert (hires.iloc[:, 1:] == "..").to_numpy().sum() >= 10


def test_default_threshold_hides_small_monitoring_cells(report, evaluation):
    hires = evaluation.monitoring["hires_by_subsidy"].table
    small = (hires > 0) & (hires < 5)
    assert small.to_numpy().any(), "the synthetic records should have a small cell to hide"
    published = pd.read_csv(report.parent / "monitoring_hires_by_subsidy.csv", dtype=str).set_index(
        "Employment subsidy")
    assert (published.to_numpy()[small.to_numpy()] == "..").all()


def test_estimates_of_small_groups_are_hidden():
    table = pd.DataFrame({"subgroup": ["all", "tiny"], "estimand": "share_diff", "horizon": 90.0,
                          "estimate": [0.1, 0.2], "se": 0.01, "ci_low": 0.0, "ci_high": 0.3, "p_value": 0.04,
                          "n_treated": [100, 3], "n_control": [100, 40], "events_treated": [30, 1]})
    out = effects_published(table, threshold=5)
    assert out.loc[0, "estimate"] == 0.1 and np.isnan(out.loc[1, "estimate"]) and np.isnan(out.loc[1, "ci_low"])
    assert list(out.columns) == ["subgroup", "estimand", "horizon", "estimate", "se", "ci_low", "ci_high", "p_value"]


def test_small_counts_in_notes_are_hidden():
    assert scrub_counts("3 treated units found no match", 5) == ".. treated units found no match"
    assert scrub_counts("73 treated units found no match", 5) == "73 treated units found no match"
    assert scrub_counts("caliper=0.2 in SD; ratio 1:1; within [1/2.0, 2.0]", 5) == \
        "caliper=0.2 in SD; ratio 1:1; within [1/2.0, 2.0]"


def test_methods_and_footer_state_the_settings(inputs, tmp_path):
    """Oracle: the settings. The methods text and footer must state what the evaluation ran with."""
    sim, _ = inputs
    small = sim.registers.iloc[:6000]
    ev = impact.evaluate(small, sim.roles, caliper=0.1, ratio=2, replace=True, horizons=(60, 120),
                         random_state=7, conf_level=0.9)
    text = write_report(ev, tmp_path).read_text(encoding="utf-8")
    assert "with 2 people" in text and "within 0.10 standard deviations" in text
    assert "with replacement" in text and "by 60 and 120 days" in text
    assert "90% confidence intervals" in text
    assert "calendar quarter of the start date" in text
    assert "Seed 7" in text and ev.settings["fingerprints"]["data"] in text
    for pkg in ("pandas", "numpy", "lifelines", "impact 0.1.0"):
        assert pkg in text
    assert "caliper = 0.1" in text and "ratio = 2" in text   # the full configuration
    other = impact.evaluate(small.assign(age=small["age"] + 1), sim.roles, caliper=0.1, ratio=2, replace=True,
                            horizons=(60, 120), random_state=7)
    assert other.settings["fingerprints"]["data"] != ev.settings["fingerprints"]["data"]


def test_swedish_and_english(evaluation, report, tmp_path):
    sv = write_report(evaluation, tmp_path, lang="sv").read_text(encoding="utf-8")
    en = report.read_text(encoding="utf-8")
    assert "<html lang='sv'>" in sv and "<html lang='en'>" in en
    for heading in ("Huvudresultat", "Vilka som analyserades", "Bedömning av måluppfyllelse", "Metod",
                    "Reproducerbarhet", "Kvinnor − män"):
        assert heading in sv and heading not in en
    for heading in ("Headline", "Who was analysed", "Assessment of goal fulfilment", "Women − men"):
        assert heading in en
    # decimal marks; an interval is held together by a no-break space (a printed table never breaks inside it)
    assert "0,017 [0,001;\u00a00,033]" in sv and "0.017 [0.001;\u00a00.033]" in en
    sheets = pd.read_excel(tmp_path / "tables.xlsx", sheet_name="effects")
    assert "Skattning" in sheets.columns


def test_bad_report_arguments(evaluation, tmp_path):
    with pytest.raises(impact.ParameterError, match="'lang' parameter of write_report"):
        write_report(evaluation, tmp_path, lang="de")
    with pytest.raises(impact.ParameterError, match="threshold"):
        write_report(evaluation, tmp_path, threshold=0)


def test_weighting_design_is_evaluated_and_described(tmp_path):
    """Weighting has no matched sets: rows are their own clusters and the methods say how the
    comparison group was formed."""
    sim = impact.simulate(3000, random_state=4)
    ev = impact.evaluate(sim.registers, sim.roles, method="ipw", caliper=None)
    assert ev.effects.settings["cluster"] is None
    text = write_report(ev, tmp_path).read_text(encoding="utf-8")
    assert "The comparison group was formed by" in text
