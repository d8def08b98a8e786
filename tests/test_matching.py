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
    row = fl[(fl.step == "matched") & (fl.treatment == "treated") & (fl.subgroup == "all")].iloc[0]
    assert row.n_dropped == m.n_unmatched
    assert row.reason == "no control within caliper"
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
