"""Flow.add_counts: the one public way to add a step from counts made elsewhere (design's bincounts).

Oracle: Flow.add on two DataFrames; add_counts given the same counts, made by hand, must give the same
records (same keys, order and numbers).
"""

from __future__ import annotations

import pandas as pd
import pytest

import impact
from impact.data import Flow


def test_add_counts_equals_add_on_the_same_rows():
    df = pd.DataFrame({"t": [1, 1, 0, 0, 0, 1], "g": ["f", "m", "f", "f", "m", "f"]})
    kept = df.iloc[[0, 2, 4]]
    by_rows = Flow().add("matched", "no control within the caliper", df, kept, treatment="t", subgroup="g")
    counts_in = {("all", "all"): 6, ("treated", "all"): 3, ("control", "all"): 3, ("treated", "f"): 2,
                 ("treated", "m"): 1, ("control", "f"): 2, ("control", "m"): 1, ("all", "f"): 4, ("all", "m"): 2}
    counts_out = {("all", "all"): 3, ("treated", "all"): 1, ("control", "all"): 2, ("treated", "f"): 1,
                  ("control", "f"): 1, ("control", "m"): 1, ("all", "f"): 2, ("all", "m"): 1}
    by_counts = Flow().add_counts("matched", "no control within the caliper", counts_in, counts_out)
    assert by_counts.records == by_rows.records
    pd.testing.assert_frame_equal(by_counts.table(), by_rows.table())


def test_add_counts_matches_the_design_flow():
    sim = impact.simulate(n_pool=800, random_state=2)
    m = impact.match(sim.registers, treatment="participant", covariates=["age", "education"], caliper=0.1,
                     random_state=0)
    long = m.flow.to_frame()
    rebuilt = Flow()
    for step in dict.fromkeys(long["step"]):
        rows = long[long["step"] == step]
        rebuilt = rebuilt.add_counts(step, rows["reason"].iloc[0],
                                     {(r.treatment, r.subgroup): r.n_in for r in rows.itertuples()},
                                     {(r.treatment, r.subgroup): r.n_out for r in rows.itertuples()})
    pd.testing.assert_frame_equal(rebuilt.to_frame(), long)


def test_add_counts_rejects_keys_that_are_not_pairs():
    with pytest.raises(impact.ParameterError, match=r"count keys must be \(treatment group, subgroup\) pairs"):
        Flow().add_counts("s", "r", {"all": 3}, {})


def test_validated_has_an_html_display_with_integer_counts():
    sim = impact.simulate(n_pool=400, random_state=3)
    v = impact.validate(sim.registers, sim.roles)
    page = v._repr_html_()
    n_t = int(sim.registers["participant"].sum())
    assert f"<td>{n_t}</td>" in page and "impact.Validated" in page and ".0<" not in page
