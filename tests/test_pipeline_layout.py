"""The pipeline after the split: results are never changed in place, old keywords still work, the
records' own period is the default, random states are int / Generator / None, and the README's
Python tour runs as written.

Oracles: object identity and the fields of the result that ``evaluate`` returned (``run`` must
return a new object and leave that one as it was); the explicit call the demo makes (the default
period must give the same tables); a re-run with the recorded seed (same numbers); the README
itself (its ```python block is executed).
"""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impact
import impact.pipeline._run as run_module
from impact.pipeline import Evaluation, monitoring_tables, run
from impact.synthetic import simulate_monitoring, write_synthetic

ROOT = Path(__file__).resolve().parents[1]

TOML = """
seed = 1
[data]
path = "registers.csv"
[columns]
id = "person_id"
treatment = "participant"
start = "start_date"
exit_date = "exit_date"
exit_type = "exit_type"
cutoff = "2022-10-31"
subgroup = "gender"
covariates = ["age", "education", "social_assistance"]
"""


@pytest.fixture(scope="module")
def small():
    return impact.simulate(n_pool=3000, random_state=4)


@pytest.fixture(scope="module")
def records():
    return simulate_monitoring(random_state=0)


def test_run_returns_a_new_evaluation_and_leaves_evaluates_result_alone(small, tmp_path, monkeypatch):
    write_synthetic(small, tmp_path)
    (tmp_path / "evaluation.toml").write_text(TOML, encoding="utf-8")
    made: list[Evaluation] = []
    original = run_module.evaluate

    def recording_evaluate(*args, **kwargs):
        made.append(original(*args, **kwargs))
        return made[-1]

    monkeypatch.setattr(run_module, "evaluate", recording_evaluate)
    ev = run(tmp_path / "evaluation.toml", out=tmp_path / "report")
    assert len(made) == 1
    first = made[0]
    assert ev is not first
    assert first.report_path is None and "report" not in first.settings
    assert ev.report_path == tmp_path / "report" / "report.html" and ev.report_path.exists()
    assert ev.settings["report"] == ev.report_path          # the old place still answers
    assert ev.effects is first.effects                      # nothing was re-estimated
    with pytest.raises(dataclasses.FrozenInstanceError):
        ev.lang = "en"  # type: ignore[misc]


def test_monitoring_tables_old_keyword_warns_and_gives_the_same_tables(records):
    new = monitoring_tables(records, start="2022-01-01", end="2022-10-31")
    with pytest.warns(FutureWarning, match="'monitoring' parameter of monitoring_tables is now called 'data'"):
        old = monitoring_tables(monitoring=records, start="2022-01-01", end="2022-10-31")
    assert list(old) == list(new)
    for name in new:
        pd.testing.assert_frame_equal(old[name].table, new[name].table)


def test_the_records_own_period_is_the_default(records):
    """Before, without start/end the employment table failed on employments whose day 90 had not
    come (missing results); the records know the period they are complete for."""
    assert records.period == ("2022-01-01", "2022-10-31")
    explicit = monitoring_tables(records, start="2022-01-01", end="2022-10-31")
    default = monitoring_tables(records)
    assert list(default) == list(explicit)
    for name in explicit:
        pd.testing.assert_frame_equal(default[name].table, explicit[name].table)
    # a plain mapping carries no period: all of the data is used
    hh = monitoring_tables({"households": records.households})["households"]
    assert hh.table.index.max() == pd.Period("2022-10", "M")


def test_random_state_takes_a_generator_and_records_the_seed_it_used(small):
    ev = impact.evaluate(small.registers, small.roles, random_state=np.random.default_rng(1))
    seed = ev.settings["random_state"]
    assert isinstance(seed, int) and seed >= 0
    again = impact.evaluate(small.registers, small.roles, random_state=seed)
    pd.testing.assert_frame_equal(ev.summary(), again.summary())
    with pytest.raises(impact.ParameterError, match=r"The 'random_state' parameter of evaluate must be an int >= 0"):
        impact.evaluate(small.registers, small.roles, random_state=-1)


def test_evaluate_checks_its_parameters_from_its_table(small):
    with pytest.raises(impact.ParameterError, match=r"^The 'start_period' parameter of evaluate must be one of "
                                                     r"'month', 'quarter', 'year' or None\. Got 'week'\."):
        impact.evaluate(small.registers, small.roles, start_period="week")
    with pytest.raises(impact.ParameterError, match=r"The 'conf_level' parameter of evaluate must be < 1\. Got 1\.5\."):
        impact.evaluate(small.registers, small.roles, conf_level=1.5)
    with pytest.raises(impact.ParameterError, match=r"The 'data' parameter of evaluate must be a register extract "
                                                     r"\(impact.RegisterExtract\) or a pandas DataFrame"):
        impact.evaluate({"a": [1]}, small.roles)


def _python_blocks(path: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S)


def _readme_tour() -> str:
    blocks = _python_blocks(ROOT / "README.md")
    assert len(blocks) == 1, "the README has one Python tour"
    return blocks[0]


def test_readme_tour_runs_as_written(tmp_path, monkeypatch):
    """Run the README's tour (with a smaller extract, to keep the suite fast) in an empty folder:
    the register-based main flow, from the extract to the report."""
    code = _readme_tour()
    assert "simulate_extract(20_000" in code and "impact.evaluate(extract" in code
    code = code.replace("simulate_extract(20_000", "simulate_extract(6_000")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {}
    exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 - the README is ours
    ev = namespace["ev"]
    assert isinstance(ev, Evaluation) and ev.lang == "sv" and ev.goals is not None and ev.monitoring
    assert ev.design == "riskset" and ev.sensitivity_unknown is not None
    assert (tmp_path / "reports" / "mine" / "report.html").exists()
    import matplotlib.pyplot as plt
    plt.close("all")


def test_guide_example_runs_as_written(tmp_path, monkeypatch):
    """The user guide's in-memory evaluation (smaller pool) runs and writes its report."""
    blocks = [b for b in _python_blocks(ROOT / "docs" / "guide.md") if "impact.evaluate(" in b]
    assert len(blocks) == 1
    code = blocks[0].replace("n_pool=20_000", "n_pool=3000")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, "guide.md", "exec"), namespace)  # noqa: S102 - the guide is ours
    assert namespace["ev"].subgroup_effects and (tmp_path / "reports" / "mine" / "report.html").exists()
    import matplotlib.pyplot as plt
    plt.close("all")


def test_readme_and_guide_show_only_current_import_paths():
    old = ("impact.evaluation", "impact.config", "impact.privacy", "impact.synthetic_monitoring", "impact.balance import",
           "from impact.balance", "import impact.balance")
    for path in (ROOT / "README.md", ROOT / "docs" / "guide.md"):
        text = path.read_text(encoding="utf-8")
        found = [o for o in old if o in text]
        assert not found, f"{path.name} shows old module paths: {found}"
    for module in re.findall(r"from (impact[.\w]*) import", _readme_tour()):
        __import__(module)   # every import path the tour shows exists (and warns of nothing: see pyproject)


def test_only_one_toml_reader_in_the_packages_of_this_flow():
    src = ROOT / "src" / "impact"
    readers = sorted(str(p.relative_to(src)) for p in src.rglob("*.py") if "import tomllib" in p.read_text(encoding="utf-8"))
    mine = [r for r in readers if r.split(os.sep)[0] in ("pipeline", "report", "cli.py", "data", "synthetic")]
    assert mine == [os.path.join("data", "_toml.py")]
