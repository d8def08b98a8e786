"""Notebook displays of the result classes: sample sizes print as integers, everything is escaped."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

import impact
from impact._display import frame_html
from impact.datasets import load_lalonde


@pytest.fixture(scope="module")
def lalonde():
    return load_lalonde()


def _no_float_counts(html: str, counts: list[int]) -> None:
    for n in counts:
        assert f">{n}<" in html, n
        assert f">{n}.0<" not in html, n


def test_frame_html_prints_whole_numbers_as_integers_and_escapes():
    df = pd.DataFrame({"n": [2730.0, 39.0], "<b>x</b>": [0.12345, np.nan]}, index=["a&b", "c"])
    out = frame_html(df)
    assert ">2730<" in out and ">39<" in out and "2730.0" not in out
    assert "<b>x</b>" not in out and "&lt;b&gt;x&lt;/b&gt;" in out and "a&amp;b" in out
    assert ">0.1235<" in out


def test_match_result_and_validated_show_integer_sizes(lalonde):
    sim = impact.simulate(n_pool=600, random_state=1)
    v = impact.validate(sim.registers, sim.roles)
    t = sim.registers[sim.roles.treatment]
    _no_float_counts(v._repr_html_(), [len(sim.registers), int(t.sum())])
    m = impact.match(lalonde, treatment="treat", covariates=["age", "educ", "re74", "re75"])
    mh = m._repr_html_()
    n = m.sample_sizes
    _no_float_counts(mh, [int(n.loc["all", "treated"]), int(n.loc["all", "control"]), int(n.loc["matched", "treated"])])


def test_effects_and_evaluation_show_integer_counts():
    b = impact.synthetic.simulate_extract(n_persons=3000, random_state=3)
    ev = impact.evaluate(b.extract, random_state=0, sensitivity=False)
    for obj in (ev, ev.effects):
        html = obj._repr_html_()
        assert not re.search(r">\d+\.0<", html), re.findall(r">\d+\.0<", html)[:5]
        n = int(ev.effects.table["n_treated"].iloc[0])
        assert f">{n}<" in html
