"""The report reads an evaluation only through its public face (``impact.report.EvaluationLike``).

Oracles: an object of another class carrying the same public attributes gives the same files as
the Evaluation it copies (the report cannot depend on anything else); an object without them is
refused by the parameter table, before any file is written.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

import impact
from impact.pipeline import Evaluation
from impact.report import EvaluationLike, write_report
from impact.report._toml import to_toml


@dataclasses.dataclass(frozen=True)
class _Plain:
    """Not an Evaluation: the public attributes only."""

    validated: object
    matching: object
    analysed: pd.DataFrame
    effects: object
    naive: object
    flow: object
    settings: dict
    truth: object
    subgroup_effects: dict
    goals: object
    monitoring: dict
    lang: str
    config: object

    @property
    def roles(self):
        return self.validated.roles

    def balance(self):
        return self.matching.balance()


@pytest.fixture(scope="module")
def evaluation():
    sim = impact.simulate(n_pool=3000, random_state=4)
    return impact.evaluate(sim.registers, sim.roles, truth=sim.truth)


def _tables(folder: Path) -> dict[str, str]:
    # settings.csv holds the time of writing; every other table must be the same
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.csv")) if p.name != "settings.csv"}


def test_any_object_with_the_public_face_gives_the_same_report(evaluation, tmp_path):
    assert isinstance(evaluation, EvaluationLike)
    plain = _Plain(**{f.name: getattr(evaluation, f.name) for f in dataclasses.fields(_Plain)})
    assert not isinstance(plain, Evaluation) and isinstance(plain, EvaluationLike)
    a = write_report(evaluation, tmp_path / "a", excel=False)
    b = write_report(plain, tmp_path / "b", excel=False)
    assert _tables(a.parent) == _tables(b.parent) and len(_tables(a.parent)) >= 5


def test_something_else_is_refused_before_anything_is_written(tmp_path):
    with pytest.raises(impact.ParameterError,
                       match=r"^The 'evaluation' parameter of write_report must be an Evaluation \(the result of "
                             r"impact\.evaluate\)\. Got 'not an evaluation'\.$"):
        write_report("not an evaluation", tmp_path / "x")
    assert not (tmp_path / "x").exists()


def test_the_configuration_written_back_reads_back(tmp_path):
    """Oracle: tomllib (through impact.data.read_toml) reads what to_toml wrote."""
    raw = {"seed": 1, "lang": "sv", "data": {"path": "registers.csv"},
           "columns": {"id": "person_id", "covariates": ["age", "education"], "exit_codes": {"work": "event"}},
           "goals": [{"kind": "count", "name": "participants", "target": 4000},
                     {"kind": "share", "name": "x", "target": 0.75, "among_values": ["other"]}],
           "design": {"caliper": 0.2, "replace": False}}
    p = tmp_path / "back.toml"
    p.write_text(to_toml(raw), encoding="utf-8")
    assert impact.data.read_toml(p) == raw
