"""Tests of impact.match: contract, MatchIt fixtures (oracle: R), metamorphic checks, bad inputs."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impact
from impact import DataError, EstimationError, ImpactWarning, ParameterError
from impact.datasets import load_lalonde

FIX = Path(__file__).parent / "reference" / "fixtures"
COV = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]
VARIANTS = {
    "nn_1to1": {},
    "nn_caliper02": {"caliper": 0.2},
    "nn_replace": {"replace": True},
    "nn_ratio2": {"ratio": 2},
    "nn_exact_married": {"exact": ["married"]},
}


@pytest.fixture(scope="module")
def ref() -> dict:
    return json.loads((FIX / "lalonde_matchit.json").read_text())


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    return load_lalonde()


def _pairs_by_row(m: impact.MatchResult, n_treated: int, rnd: int = 1) -> list:
    p = m.matched_pairs[m.matched_pairs["round"] == rnd]
    s = p.set_index("treated_pos")["control_pos"].reindex(np.arange(n_treated)) + 1
    return [None if np.isnan(v) else int(v) for v in s]


# -- oracle: R (patched MatchIt 4.5.1, tests/reference/fixtures/lalonde_matchit.json) -------------
def test_propensity_coefficients_and_se_equal_r_glm(lalonde, ref):
    m = impact.match(lalonde, "treat", COV, id="row")
    coef = m.propensity.coefficients.set_index("term")
    for term in ["Intercept", "age", "educ", "married", "nodegree", "re74", "re75"]:
        assert coef.loc[term, "estimate"] == pytest.approx(ref[f"ps.coef.{term}"], rel=1e-6)
        assert coef.loc[term, "se"] == pytest.approx(ref[f"ps.se.{term}"], rel=1e-6)
    for lev in ["hispan", "white"]:
        assert coef.loc[f"race[{lev}]", "estimate"] == pytest.approx(ref[f"ps.coef.race{lev}"], rel=1e-6)
        assert coef.loc[f"race[{lev}]", "se"] == pytest.approx(ref[f"ps.se.race{lev}"], rel=1e-6)
    assert m.propensity.loglik == pytest.approx(ref["ps.loglik"], rel=1e-9)
    np.testing.assert_allclose(m.distance, ref["ps.distance_by_row"], atol=1e-9)


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_pairs_weights_and_sizes_equal_matchit(lalonde, ref, variant):
    # same score as R (the fixture's), id = row number so ties break as MatchIt's row order does
    m = impact.match(lalonde, "treat", COV, distance=np.asarray(ref["ps.distance_by_row"]),
                     id="row", **VARIANTS[variant])
    n_t = ref["data.n_treated"]
    if variant == "nn_ratio2":
        assert _pairs_by_row(m, n_t, 1) == ref[f"{variant}.pairs.control_row_1"]
        assert _pairs_by_row(m, n_t, 2) == ref[f"{variant}.pairs.control_row_2"]
    else:
        assert _pairs_by_row(m, n_t) == ref[f"{variant}.pairs.control_row"]
    np.testing.assert_allclose(m.weights, ref[f"{variant}.weights_by_row"], atol=1e-12)
    ss = m.sample_sizes
    assert ss.loc["matched", "treated"] == ref[f"{variant}.n.matched_treated"]
    assert ss.loc["matched", "control"] == ref[f"{variant}.n.matched_control"]
    assert ss.loc["matched_ess", "control"] == pytest.approx(ref[f"{variant}.n.matched_control_ess"], rel=1e-12)
    assert ss.loc["unmatched", "treated"] == ref[f"{variant}.n.unmatched_treated"]
    assert ss.loc["unmatched", "control"] == ref[f"{variant}.n.unmatched_control"]
    assert len(m.matched_data) == ref[f"{variant}.n_rows_match_data"]


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_balance_after_equals_matchit_summary(lalonde, ref, variant):
    m = impact.match(lalonde, "treat", COV, distance=np.asarray(ref["ps.distance_by_row"]),
                     id="row", **VARIANTS[variant])
    tab = m.balance().table.rename(index=lambda s: s.replace("[", "").replace("]", ""))
    for stat in ["mean_treated", "mean_control", "smd", "var_ratio", "ecdf_mean", "ecdf_max"]:
        for name in tab.index:
            want = ref[f"{variant}.balance_after.{stat}.{name}"]
            got = tab.loc[name, f"{stat}_after"]
            if want is None:
                assert np.isnan(got), (stat, name)
            else:
                assert got == pytest.approx(want, rel=1e-9, abs=1e-12), (stat, name)


def test_balance_before_equals_matchit_summary(lalonde, ref):
    m = impact.match(lalonde, "treat", COV, distance=np.asarray(ref["ps.distance_by_row"]), id="row")
    tab = m.balance().table.rename(index=lambda s: s.replace("[", "").replace("]", ""))
    for stat in ["mean_treated", "mean_control", "smd", "var_ratio", "ecdf_mean", "ecdf_max"]:
        for name in tab.index:
            want = ref[f"balance_before.{stat}.{name}"]
            got = tab.loc[name, f"{stat}_before"]
            assert np.isnan(got) if want is None else got == pytest.approx(want, rel=1e-9, abs=1e-12)


def test_subclass_sets_and_numbering_equal_matchit(lalonde, ref):
    # With id="row" (MatchIt's tie order) the matched sets are MatchIt's sets. MatchIt numbers sets
    # in the sorted order of the treated units' row names; with id="id" (those row names) the
    # treated units carry MatchIt's numbers. (Controls can differ there: tied scores then break on
    # the id string instead of the row number.)
    score = np.asarray(ref["ps.distance_by_row"])
    for variant in ["nn_1to1", "nn_caliper02", "nn_exact_married"]:
        want = pd.Series(ref[f"{variant}.subclass_by_row"], dtype="float")
        m = impact.match(lalonde, "treat", COV, distance=score, id="row", **VARIANTS[variant])
        ours = pd.Series(m.subclass, dtype="float").where(m.subclass > 0)
        mapping = pd.crosstab(ours, want)
        assert ((mapping > 0).sum(axis=1) == 1).all() and ((mapping > 0).sum(axis=0) == 1).all()
        assert ours.isna().equals(want.isna())
        if variant == "nn_caliper02":
            continue  # which treated units find a control within the caliper depends on ties
        m = impact.match(lalonde, "treat", COV, distance=score, id="id", **VARIANTS[variant])
        ours = pd.Series(m.subclass, dtype="float").where(m.subclass > 0)
        treated = lalonde["treat"].to_numpy() == 1
        pd.testing.assert_series_equal(ours[treated], want[treated])


def test_our_own_score_gives_matchit_pairs(lalonde, ref):
    m = impact.match(lalonde, "treat", COV, caliper=0.2, id="row")
    assert _pairs_by_row(m, 185) == ref["nn_caliper02.pairs.control_row"]
    assert m.settings["caliper_width"] == pytest.approx(ref["nn_caliper02.caliper_width_on_ps_scale"], rel=1e-9)


# -- the contract the rest of the library relies on ------------------------------------------------
def test_lead_call_contract(lalonde):
    df = lalonde.set_index("id")
    m = impact.match(df, treatment="treat", covariates=["age", "educ", "race", "re74", "re75"],
                     method="nearest", caliper=0.2, exact=["married"], ratio=1, replace=False,
                     random_state=0)
    md = m.matched_data
    assert list(md.columns[: len(df.columns)]) == list(df.columns)
    assert {"distance", "weights", "subclass"} <= set(md.columns)
    assert md.index.isin(df.index).all() and md.index.is_unique
    assert md["subclass"].dtype == np.int64
    # every set: one treated, one control, same exact stratum, within the caliper
    g = md.groupby("subclass")
    assert (g["treat"].sum() == 1).all() and (g.size() == 2).all()
    assert (g["married"].nunique() == 1).all()
    assert (m.matched_pairs["distance_diff"] <= m.settings["caliper_width"]).all()
    assert m.n_unmatched == int(m.sample_sizes.loc["unmatched", "treated"])
    fl = m.flow.to_frame()
    tr = fl[(fl.treatment == "treated") & (fl.subgroup == "all")].set_index("step")
    co = fl[(fl.treatment == "control") & (fl.subgroup == "all")].set_index("step")
    # treated units are dropped only for want of a control; unused controls only as "not selected"
    assert tr["n_dropped"].sum() == m.n_unmatched
    assert tr.loc["controls not selected", "n_dropped"] == 0
    assert co.loc["controls not selected", "n_dropped"] == int(m.sample_sizes.loc["unmatched", "control"])
    assert co.drop(index="controls not selected")["n_dropped"].eq(0).all()
    assert tr.loc["matched", "reason"] == "every control within the caliper already used by other treated units"
    assert m.flow.table().index[-1] == "matched"
    assert sorted(m.unmatched["position"]) == sorted(m.unmatched_positions)
    assert isinstance(m.notes, tuple) and len(m.notes) == len(set(m.notes))
    assert repr(m).count("\n") == 0 and "MatchResult(" in repr(m)
    assert "<table" in m._repr_html_()
    s = m.summary()
    assert {"smd_before", "smd_after", "var_ratio_before", "var_ratio_after",
            "ecdf_mean_after", "ecdf_max_after"} <= set(s.columns)
    assert "race[hispan]" in s.index


def test_plot_returns_axes(lalonde):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = impact.match(lalonde, "treat", ["age", "educ", "re74"], caliper=0.2)
    ax = m.plot()
    assert ax.get_xlabel().endswith("standardised mean difference")
    ax2 = m.plot(kind="overlap")
    assert ax2 is not ax
    plt.close("all")


# -- metamorphic: row order, id relabelling, score as column vs array ---------------------------------
@pytest.mark.parametrize("kw", [{}, {"replace": True}, {"ratio": 2, "caliper": 0.3},
                                {"exact": ["married"], "caliper": 0.1}])
@pytest.mark.parametrize("use_id", [True, False])
def test_row_order_invariance(lalonde, kw, use_id):
    # lalonde has many tied scores (identical covariates), so the tie-break is exercised
    args = dict(treatment="treat", covariates=COV, id="id" if use_id else None, **kw)
    a = impact.match(lalonde.set_index("row", drop=False), **args)
    shuffled = lalonde.sample(frac=1, random_state=7).set_index("row", drop=False)
    b = impact.match(shuffled, **args)
    cols = ["subclass", "treated", "control", "round"]
    pa = a.matched_pairs[cols].sort_values(cols).reset_index(drop=True)
    pb = b.matched_pairs[cols].sort_values(cols).reset_index(drop=True)
    pd.testing.assert_frame_equal(pa, pb)
    pd.testing.assert_frame_equal(a.matched_data.sort_index(), b.matched_data.sort_index(),
                                  check_exact=False, rtol=1e-9)


def test_score_column_equals_same_score_as_array(lalonde, ref):
    df = lalonde.assign(ps=ref["ps.distance_by_row"])
    a = impact.match(df, "treat", COV, distance="ps", caliper=0.2, id="row")
    b = impact.match(df, "treat", COV, distance=df["ps"].to_numpy(), caliper=0.2, id="row")
    pd.testing.assert_frame_equal(a.matched_pairs, b.matched_pairs)


# -- bad inputs: mutation -> exception -> message ---------------------------------------------------
def _with_nan(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out["age"] = out["age"].astype(float)
    out.loc[[3, 10], "age"] = np.nan
    out["educ"] = out["educ"].astype(float)
    out.loc[5, "educ"] = np.nan
    return out


BAD = [
    (lambda d: d.drop(columns="educ"), {}, DataError, r"'educ'.*not in the data"),
    (_with_nan, {}, DataError, r"'age' \(2 rows \(positions 3, 10\)\); 'educ' \(1 row .*missing='drop'"),
    (lambda d: d.assign(treat=d["treat"] * 2), {}, DataError, r"Column 'treat': treatment must be 0/1"),
    (lambda d: d.assign(treat=1), {}, DataError, r"all 614 rows are treated"),
    (lambda d: d.assign(age=30), {}, DataError, r"Column 'age': a matching covariate must vary"),
    (lambda d: d.assign(id="x"), {"id": "id"}, DataError, r"Column 'id': the id must be unique"),
    (lambda d: d, {"caliper": -1}, ParameterError, r"The 'caliper' parameter of match must be > 0. Got -1"),
    (lambda d: d, {"method": "nearst"}, ParameterError, r"Did you mean 'nearest'"),
    (lambda d: d, {"ratio": 0}, ParameterError, r"The 'ratio' parameter of match must be >= 1"),
    (lambda d: d, {"m_order": "big"}, ParameterError, r"'m_order'"),
    (lambda d: d, {"distance": "pscore"}, ParameterError, r"Got 'pscore', which is not a column"),
    (lambda d: d.assign(weights=1.0), {}, ParameterError, r"already have column\(s\) 'weights'"),
    (lambda d: d.assign(p=d["treat"] * 0.5 + 0.2), {"distance": "p", "caliper": 0.1, "std_caliper": False},
     EstimationError, r"No unit could be matched within the caliper \(width 0.1"),
]


@pytest.mark.parametrize("mutate,kw,exc,pattern", BAD)
def test_bad_input_table(lalonde, mutate, kw, exc, pattern):
    with pytest.raises(exc, match=pattern):
        impact.match(mutate(lalonde), "treat", COV, **kw)


def test_missing_drop_is_counted_in_flow(lalonde):
    df = _with_nan(lalonde)
    m = impact.match(df, "treat", COV, missing="drop", caliper=0.2)
    fl = m.flow.to_frame()
    row = fl[(fl.step == "complete cases") & (fl.treatment == "all")].iloc[0]
    assert row.n_dropped == 3 and row.n_out == 611
    assert not m.matched_data.index.isin([3, 5, 10]).any()


def test_exact_level_without_controls_warns_and_counts(lalonde):
    df = lalonde.assign(grp=np.where(lalonde["treat"].eq(1) & (lalonde["age"] > 40), "old", "rest"))
    n_old = int((df["grp"] == "old").sum())
    with pytest.warns(ImpactWarning, match=r"no candidate controls: old"):
        m = impact.match(df, "treat", ["age", "educ", "re74"], exact="grp")
    assert m.n_unmatched == n_old
    assert set(m.unmatched_positions) == set(np.flatnonzero(df["grp"] == "old"))


def test_more_treated_than_controls_without_replacement_warns(lalonde):
    df = lalonde[(lalonde.treat == 1) | (lalonde.index < 250)]
    with pytest.warns(ImpactWarning, match=r"Fewer candidates"):
        m = impact.match(df, "treat", ["age", "educ", "re74"])
    n_c = int((df.treat == 0).sum())
    assert m.sample_sizes.loc["matched", "control"] == n_c
    assert m.n_unmatched == 185 - n_c


def test_perfect_separation_warns_naming_covariate(lalonde):
    df = lalonde.assign(sep=lalonde["treat"] * 5 + np.arange(len(lalonde)) % 3)
    with pytest.warns(ImpactWarning, match=r"'sep'"):
        impact.match(df, "treat", ["age", "educ", "sep"])


# -- the flow says why each treated unit is unmatched, apart from controls simply not needed -------
def _toy() -> pd.DataFrame:
    """Known answer, caliper 0.05 on the score, exact on g, treated choose by decreasing score:
    t_hi (0.52) takes c_mid (0.50); t_mid (0.50) then finds c_mid used and c_far (0.90) outside
    the caliper; t_low (0.10) has no control within the caliper at all; t_b is alone in g=b;
    c_far and c_other are never chosen."""
    return pd.DataFrame({
        "pid":   ["t_hi", "t_mid", "t_low", "t_b", "c_mid", "c_far", "c_other"],
        "treat": [1, 1, 1, 1, 0, 0, 0],
        "g":     ["a", "a", "a", "b", "a", "a", "c"],
        "score": [0.52, 0.50, 0.10, 0.30, 0.50, 0.90, 0.40],
    })


@pytest.mark.filterwarnings("ignore:1 exact strata of g have fewer candidates")
def test_flow_separates_unmatched_reasons_from_controls_not_needed():
    df = _toy()
    with pytest.warns(ImpactWarning, match="no candidate controls: b"):
        m = impact.match(df, "treat", [], distance="score", caliper=0.05, std_caliper=False,
                         exact="g", id="pid")
    assert m.matched_pairs[["treated", "control"]].to_numpy().tolist() == [[0, 4]]
    un = m.unmatched.set_index("position")["reason"]
    assert un.to_dict() == {
        1: "every control within the caliper already used by other treated units",
        2: "no control within the caliper",
        3: "no control in the same exact stratum"}
    assert sorted(un.index) == sorted(m.unmatched_positions)
    table = m.flow.table()
    assert table.index.tolist() == ["exact stratum", "caliper", "controls not selected", "matched"]
    assert table["treated"].tolist() == [3, 2, 2, 1]
    assert table["control"].tolist() == [3, 3, 1, 1]
    assert table["dropped"].tolist() == [1, 1, 2, 1]
    assert table.loc["controls not selected", "reason"] == "not chosen by any treated unit"
    # by subgroup (the exact column): the step that drops t_b drops it from g=b
    fl = m.flow.to_frame().set_index(["step", "treatment", "subgroup"])
    assert fl.loc[("exact stratum", "treated", "b"), "n_dropped"] == 1
    assert fl.loc[("controls not selected", "control", "c"), "n_dropped"] == 1
    assert any("result.unmatched" in n for n in m.notes)


def test_flow_counter_equals_flow_add():
    """Oracle: the bincount-based flow records equal Flow.add on the corresponding DataFrames."""
    from impact.data import Flow

    df = _toy()
    with pytest.warns(ImpactWarning):
        m = impact.match(df, "treat", [], distance="score", caliper=0.05, std_caliper=False,
                         exact="g", id="pid")
    steps = [("exact stratum", [3]), ("caliper", [2]), ("controls not selected", [5, 6]),
             ("matched", [1])]
    flow, cur = Flow(), df
    for step, drop in steps:
        nxt = cur.drop(index=drop)
        reason = m.flow.to_frame().query("step == @step")["reason"].iloc[0]
        flow = flow.add(step, reason, cur, nxt, treatment="treat", subgroup="g")
        cur = nxt
    pd.testing.assert_frame_equal(m.flow.to_frame(), flow.to_frame())


def test_flow_without_caliper_or_exact_counts_used_up_treated(lalonde):
    df = lalonde[(lalonde.treat == 1) | (lalonde.index < 250)]
    with pytest.warns(ImpactWarning, match=r"Fewer candidates"):
        m = impact.match(df, "treat", ["age", "educ", "re74"], id="id")
    table = m.flow.table()
    assert table.index.tolist() == ["matched"]       # every control used: none "not selected"
    assert table.loc["matched", "reason"] == "every control already used by other treated units"
    assert table.loc["matched", "dropped"] == m.n_unmatched == len(m.unmatched)


# -- calipers on covariates (MatchIt's named caliper = c(.2, age = 5)) --------------------------------
def _brute_greedy(score, treat, ids, X, widths, width, replace):
    """Oracle: the greedy rule written out by brute force over every control, O(treated x controls).
    Units are ranked by (score, id); treated choose by decreasing score (ties: smaller id); each
    takes, among the free controls within every caliper, the smallest score distance; on equal
    distances the one on its left in that ranking, and of those the nearest in rank."""
    rank = np.empty(len(score), dtype=np.int64)
    rank[np.lexsort((ids, score))] = np.arange(len(score))
    t_idx = [i for i in np.lexsort((ids, -score)) if treat[i]]
    free = {j for j in range(len(score)) if not treat[j]}
    out = {}
    for i in t_idx:
        best = None
        for j in free:
            d = abs(score[i] - score[j])
            if d > width or np.any(np.abs(X[i] - X[j]) > widths):
                continue
            left = rank[j] < rank[i]
            key = (d, 0 if left else 1, -rank[j] if left else rank[j])
            if best is None or key < best[0]:
                best = (key, j)
        if best is not None:
            out[i] = best[1]
            if not replace:
                free.discard(best[1])
    return out


@pytest.mark.parametrize("replace", [False, True])
def test_covariate_caliper_equals_brute_force_greedy(lalonde, replace):
    df = lalonde
    m = impact.match(df, "treat", COV, caliper={"distance": 0.5, "age": 5, "re74": 0.5},
                     std_caliper={"age": False}, replace=replace, id="row")
    w = m.settings["covariate_caliper_width"]
    assert w["age"] == 5 and w["re74"] == pytest.approx(0.5 * df["re74"].std())
    X = df[["age", "re74"]].to_numpy(float)
    want = _brute_greedy(m.distance, df["treat"].to_numpy() == 1, df["row"].to_numpy(), X,
                         np.array([w["age"], w["re74"]]), m.settings["caliper_width"], replace)
    got = dict(zip(m.matched_pairs["treated_pos"], m.matched_pairs["control_pos"]))
    assert got == want
    p = m.matched_pairs
    assert (np.abs(df["age"].to_numpy()[p["treated_pos"]] - df["age"].to_numpy()[p["control_pos"]]) <= 5).all()
    assert len(m.unmatched) == m.n_unmatched > 0
    if not replace:
        # nobody matchable is left: an unmatched treated unit has no free control within every caliper
        used = set(p["control_pos"])
        sc, t = m.distance, df["treat"].to_numpy() == 1
        for i in m.unmatched["position"]:
            ok = [j for j in np.flatnonzero(~t) if j not in used and abs(sc[i] - sc[j]) <= m.settings["caliper_width"]
                  and np.all(np.abs(X[i] - X[j]) <= [w["age"], w["re74"]])]
            assert not ok
    assert any("caliper on 're74'" in n for n in m.notes)
    assert "caliper on age" in m._repr_html_()


def test_covariate_caliper_without_score_caliper_and_bad_uses(lalonde):
    m = impact.match(lalonde, "treat", COV, caliper={"age": 2}, std_caliper=False, id="row")
    p = m.matched_pairs
    age = lalonde["age"].to_numpy()
    assert (np.abs(age[p["treated_pos"]] - age[p["control_pos"]]) <= 2).all()
    assert m.settings["caliper_width"] is None
    with pytest.raises(ParameterError, match="method='nearest' only"):
        impact.match(lalonde, "treat", COV, method="optimal", caliper={"age": 2})
    with pytest.raises(ParameterError, match=r"The 'caliper\['age'\]' parameter of match must be > 0"):
        impact.match(lalonde, "treat", COV, caliper={"age": -1})
    with pytest.raises(DataError, match="Column 'race': a caliper needs a numeric column"):
        impact.match(lalonde, "treat", COV, caliper={"race": 1})
    with pytest.raises(DataError, match="nope"):
        impact.match(lalonde, "treat", COV, caliper={"nope": 1})


def test_caliper_mapping_on_distance_only_equals_float_and_brute_force(lalonde):
    """The brute-force oracle above is itself checked on the MatchIt-validated path."""
    a = impact.match(lalonde, "treat", COV, caliper=0.2, id="row")
    b = impact.match(lalonde, "treat", COV, caliper={"distance": 0.2}, id="row")
    pd.testing.assert_frame_equal(a.matched_pairs, b.matched_pairs)
    X = np.zeros((len(lalonde), 1))
    want = _brute_greedy(a.distance, lalonde["treat"].to_numpy() == 1, lalonde["row"].to_numpy(), X,
                         np.array([1.0]), a.settings["caliper_width"], False)
    assert dict(zip(a.matched_pairs["treated_pos"], a.matched_pairs["control_pos"])) == want


def test_flow_for_the_atc_names_the_other_group():
    df = _toy().assign(treat=lambda d: 1 - d["treat"])      # the controls are now the focal group
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImpactWarning)
        m = impact.match(df, "treat", [], distance="score", caliper=0.05, std_caliper=False,
                         exact="g", id="pid", estimand="ATC")
    table = m.flow.table()
    assert "treated not selected" in table.index and "controls not selected" not in table.index
    assert set(m.unmatched["reason"]) <= {"no treated unit in the same exact stratum",
                                          "no treated unit within the caliper",
                                          "every treated unit within the caliper already used by other control units"}
    assert len(m.unmatched) == m.n_unmatched
