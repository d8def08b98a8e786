"""The publication rules, one by one (issue 11, points 1 and 2).

Oracles: hand-built tables whose leaks are known (women = all - men, a share's numerator,
a small drop in a flow), an independent integer program for the flow, and notes whose
right form is written out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from impact.publish import (MARK, balance_rounded, curves_published, effects_withheld, flow_published,
                            notes_published, share_numerators, withheld_note)


def _summary():
    rows = []
    for g, n in (("all", 60), ("women", 12), ("men", 48)):
        for est in ("share_treated", "share_control", "share_diff", "hazard_ratio"):
            rows.append((g, est, np.nan if est == "hazard_ratio" else 90.0, 0.3, n, n))
    for est in ("share_diff", "hazard_ratio"):
        rows.append(("women - men", est, np.nan if est == "hazard_ratio" else 90.0, 0.1, np.nan, np.nan))
    return pd.DataFrame(rows, columns=["subgroup", "estimand", "horizon", "estimate", "n_treated", "n_control"])


def test_small_group_its_complement_and_every_difference_are_withheld():
    out = effects_withheld(_summary(), threshold=5, min_effect_n=20)
    why = dict(zip(zip(out["subgroup"], out["estimand"]), out["withheld"], strict=True))
    assert {why[("women", e)] for e in ("share_treated", "share_control", "share_diff", "hazard_ratio")} == \
        {"group_size"}
    # men would give women back as all - men: withheld as the complement
    assert {why[("men", e)] for e in ("share_treated", "hazard_ratio")} == {"complement"}
    assert why[("women - men", "share_diff")] == why[("women - men", "hazard_ratio")] == "difference"
    assert why[("all", "share_treated")] == ""
    assert out.loc[out["withheld"] != "", "estimate"].isna().all()
    assert not [c for c in out.columns if c.startswith(("n_", "events_"))]


def test_shares_with_small_numerators_and_their_difference_are_withheld():
    s = _summary()
    s[["n_treated", "n_control"]] = s[["n_treated", "n_control"]] * 10  # every group large
    num = pd.DataFrame([(g, arm, 90.0, n * 10, k) for g, n in (("all", 60), ("women", 12), ("men", 48))
                        for arm, k in (("treated", {"all": 30, "women": 3, "men": 27}[g]),
                                       ("control", {"all": 40, "women": 20, "men": 20}[g]))],
                       columns=["subgroup", "arm", "horizon", "n", "events"])
    out = effects_withheld(s, num, threshold=5, min_effect_n=20)
    why = dict(zip(zip(out["subgroup"], out["estimand"]), out["withheld"], strict=True))
    assert why[("women", "share_treated")] == "numerator"     # 3 of 120 women
    assert why[("women", "share_diff")] == "difference"
    assert why[("men", "share_treated")] == "complement"     # all - men = women
    assert why[("women - men", "share_diff")] == "difference"
    assert why[("women", "share_control")] == why[("women", "hazard_ratio")] == ""
    assert why[("women - men", "hazard_ratio")] == ""


def test_share_numerators_count_people_by_the_horizon():
    d = pd.DataFrame({"t": [1, 1, 1, 0, 0], "dur": [10, 50, 5, 20, 90], "ev": [1, 1, 2, 0, 1],
                      "g": ["a", "b", "a", "a", "b"]})
    out = share_numerators(d, {"duration": "dur", "event": "ev", "treatment": "t", "by": "g", "horizons": [30, 60]})
    got = {(r.subgroup, r.arm, r.horizon): (r.n, r.events) for r in out.itertuples()}
    assert got[("all", "treated", 30.0)] == (3, 1) and got[("all", "treated", 60.0)] == (3, 2)
    assert got[("a", "control", 60.0)] == (1, 0) and got[("b", "treated", 60.0)] == (1, 1)


def test_curves_of_withheld_groups_are_not_drawn():
    # the curves carry the number at risk (curves_published refuses curves it cannot cut; 60 >= MIN_AT_RISK)
    c = pd.DataFrame({"subgroup": ["all", "women", "men"], "arm": "treated", "time": 1.0, "estimate": 0.1,
                      "n_at_risk": 60})
    out = effects_withheld(_summary())
    assert curves_published(c, out)["subgroup"].tolist() == ["all"]


def _attack(pub: pd.DataFrame, true: pd.DataFrame, threshold: int) -> list[tuple[str, float]]:
    """Widths of every hidden cell and every small drop, by integer programming."""
    n = true.to_numpy(dtype=float)
    rows, k = n.shape
    hidden = pub.to_numpy() == MARK
    nv = rows * k
    cons = []
    for i in range(rows):
        if "all" in true.columns:
            e = np.zeros(nv)
            e[i * k] = 1
            e[i * k + 1:i * k + k] = -1
            cons.append((e, 0, 0))
        for j in range(k):
            if not hidden[i, j]:
                e = np.zeros(nv)
                e[i * k + j] = 1
                cons.append((e, n[i, j], n[i, j]))
            if i:
                e = np.zeros(nv)
                e[i * k + j] = 1
                e[(i - 1) * k + j] = -1
                cons.append((e, -np.inf, 0))
    a = LinearConstraint(np.array([c[0] for c in cons]), [c[1] for c in cons], [c[2] for c in cons])
    out = []
    for i in range(rows):
        for j in range(k):
            targets = []
            if hidden[i, j]:
                e = np.zeros(nv)
                e[i * k + j] = 1
                targets.append(("cell", e))
            if i and 0 < n[i - 1, j] - n[i, j] < threshold:
                e = np.zeros(nv)
                e[(i - 1) * k + j], e[i * k + j] = 1, -1
                targets.append(("drop", e))
            for what, t in targets:
                lo = milp(t, constraints=a, integrality=np.ones(nv), bounds=Bounds(0, np.inf))
                hi = milp(-t, constraints=a, integrality=np.ones(nv), bounds=Bounds(0, np.inf))
                out.append((what, -hi.fun - lo.fun))
    return out


@pytest.mark.parametrize("seed", range(4))
def test_flow_hides_small_drops_across_steps(seed):
    rng = np.random.default_rng(seed)
    treated = np.cumsum(np.r_[0, -rng.integers(0, 6, 4)]) + 60
    control = np.cumsum(np.r_[0, -rng.integers(0, 40, 4)]) + 400
    control[-1] = control[-2] = min(control[-2], treated[-1] * 2)
    flow = pd.DataFrame({"all": treated + control, "treated": treated, "control": control})
    pub = flow_published(flow, 5)
    widths = _attack(pub, flow, 5)
    assert all(w >= 1 for _, w in widths), (flow, pub, widths)
    drops = (-np.diff(flow.to_numpy(), axis=0))
    if ((drops > 0) & (drops < 5)).any():
        assert (pub.to_numpy() == MARK).any()


def test_flow_of_the_issue_60_to_56():
    flow = pd.DataFrame({"all": [500, 60, 56], "treated": [100, 30, 28], "control": [400, 30, 28]},
                        index=["eligible", "caliper", "analysed"])
    pub = flow_published(flow, 5)
    assert [w for _, w in _attack(pub, flow, 5)] and all(w >= 1 for _, w in _attack(pub, flow, 5))
    assert pub.loc["analysed", "all"] == 56  # the analysed sample stays known


def test_balance_means_hide_single_people():
    bal = pd.DataFrame({"covariate": ["a", "b"], "type": ["binary", "continuous"],
                        "mean_treated_after": [0.1234, 38.123], "mean_control_after": [0.4567, 40.5],
                        "smd_after": [-0.7012, -0.2], "ecdf_max_after": [0.3333, 0.1]})
    small = balance_rounded(bal, {("treated", "after"): 60, ("control", "after"): 60}, 5)
    assert small.loc[0, "mean_treated_after"] == MARK and small.loc[0, "ecdf_max_after"] == MARK
    assert small.loc[0, "smd_after"] == -0.70
    assert small.loc[1, "mean_treated_after"] == 38.123   # not a count
    big = balance_rounded(bal, {("treated", "after"): 600, ("control", "after"): 600}, 5)
    assert big.loc[0, "mean_treated_after"] == 0.12
    # the count behind the rounded mean is known only to an interval of >= threshold people
    assert (0.125 - 0.115) * 600 >= 5


def test_notes_with_small_counts_are_replaced_not_garbled():
    notes = ["caliper=0.2 in SD over all 300 units, n-1 denominator; from 2022-01-01 to 2022-10-31",
             "22 treated units found no match (no control within the caliper: 21; already used: 1)",
             "3 treated units found no match", "ratio 1:1, within [1/2.0, 2.0]; 73 in total",
             "(no control within the caliper: 4)", "x2 and 1e-5 are fine", "|SMD| <= 0.1"]
    out = notes_published(notes, 5)
    assert out[0] == notes[0] and notes[3] in out and notes[5] in out and notes[6] in out
    assert withheld_note(5) in out
    assert not any("caliper: 4" in n or "already used: 1" in n or n.startswith("3 ") for n in out)
    assert len(out) == 5  # the three notes with small counts give one generic note
    assert notes_published(["5 people"], 5) == ("5 people",)
