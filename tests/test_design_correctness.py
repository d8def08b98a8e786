"""Correctness of the design layer: bugs a review found, each with the test that caught it.

Oracles: R (glm and MatchIt fixtures in tests/reference/fixtures/lalonde_matchit.json), R's glm.fit
rule for the "fitted probabilities numerically 0 or 1" warning, and row-order invariance (a
metamorphic relation: shuffling the rows must not change who is matched to whom, keyed by id).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impact
from impact import DataError, ImpactWarning
from impact.datasets import load_lalonde
from impact.design import match_riskset

FIX = Path(__file__).parent / "reference" / "fixtures"
COV = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]
MAHA_COV = ["age", "educ", "re74", "re75"]


@pytest.fixture(scope="module")
def ref() -> dict:
    return json.loads((FIX / "lalonde_matchit.json").read_text())


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    return load_lalonde()


# -- identical covariate rows get bit-identical scores (oracle: R's glm) ------------------------------
def test_identical_rows_get_identical_scores_as_in_r(lalonde, ref):
    m = impact.match(lalonde, "treat", COV, id="row")
    n_r = len(np.unique(np.asarray(ref["ps.distance_by_row"])))
    assert n_r == 573 == len(lalonde[COV].drop_duplicates())
    assert len(np.unique(m.distance)) == n_r
    # every group of identical covariate rows has exactly one score
    per_row = pd.Series(m.distance).groupby(pd.util.hash_pandas_object(lalonde[COV], index=False).to_numpy())
    assert (per_row.nunique() == 1).all()


def test_ecdf_of_our_own_score_equals_matchit(lalonde, ref):
    """With ties where R has them, the eCDF statistics of the distance are MatchIt's (they were off
    by 2.5e-4 when one tie was split by BLAS rounding)."""
    m = impact.match(lalonde, "treat", COV, id="row")
    tab = m.balance().table
    for stat in ("ecdf_mean", "ecdf_max"):
        assert tab.loc["distance", f"{stat}_before"] == pytest.approx(
            ref[f"balance_before.{stat}.distance"], rel=1e-9, abs=1e-12), stat
        assert tab.loc["distance", f"{stat}_after"] == pytest.approx(
            ref[f"nn_1to1.balance_after.{stat}.distance"], rel=1e-9, abs=1e-12), stat


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_shuffled_lalonde_gets_bit_identical_scores_and_pairs(lalonde, seed):
    a = impact.match(lalonde.set_index("id"), "treat", COV, caliper=0.2)
    shuffled = lalonde.sample(frac=1, random_state=seed).set_index("id")
    b = impact.match(shuffled, "treat", COV, caliper=0.2)
    da = pd.Series(a.distance, index=a.data.index)
    db = pd.Series(b.distance, index=b.data.index).reindex(da.index)
    np.testing.assert_array_equal(da.to_numpy(), db.to_numpy())
    assert _pair_set(a) == _pair_set(b)


# -- row order never matters, for every method (metamorphic) ------------------------------------------
def _pair_set(m: impact.MatchResult) -> set:
    return set(map(tuple, m.matched_pairs[["treated", "control", "round"]].to_numpy().tolist()))


def _with_duplicated_controls(df: pd.DataFrame) -> pd.DataFrame:
    """Lalonde plus a copy of 150 controls under new ids: exact ties in any distance."""
    c = df[df["treat"] == 0].head(150).copy()
    c["id"] = c["id"] + "_copy"
    c["row"] = c["row"] + 10_000
    return pd.concat([df, c], ignore_index=True)


ROW_ORDER_DESIGNS = {
    "nearest": (dict(), COV),
    "nearest_ratio2_caliper": (dict(ratio=2, caliper=0.3), COV),
    "nearest_random_order": (dict(m_order="random", random_state=3), COV),
    "mahalanobis_replace": (dict(distance="mahalanobis", replace=True), MAHA_COV),
    "mahalanobis_replace_ratio3": (dict(distance="mahalanobis", replace=True, ratio=3), MAHA_COV),
    "mahalanobis": (dict(distance="mahalanobis"), MAHA_COV),
    "mahalanobis_exact": (dict(distance="mahalanobis", exact="married"), MAHA_COV),
    "optimal": (dict(method="optimal", caliper=0.5), COV),
    "cem": (dict(method="cem"), COV),
    "exact": (dict(method="exact"), ["race", "married", "nodegree"]),
    "subclass": (dict(method="subclass"), COV),
    "subclass_ate": (dict(method="subclass", estimand="ATE"), COV),
    "ipw_ate": (dict(method="ipw", estimand="ATE"), COV),
    "ipw_att_trim": (dict(method="ipw", trim=0.05), COV),
}


@pytest.mark.parametrize("dup", [False, True], ids=["lalonde", "duplicated-controls"])
@pytest.mark.parametrize("name", list(ROW_ORDER_DESIGNS))
def test_every_method_is_row_order_free(lalonde, name, dup):
    kw, cov = ROW_ORDER_DESIGNS[name]
    df = _with_duplicated_controls(lalonde) if dup else lalonde
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ImpactWarning)
        a = impact.match(df.set_index("id", drop=False), "treat", cov, **kw)
        for seed in (1, 2):
            shuffled = df.sample(frac=1, random_state=seed).set_index("id", drop=False)
            b = impact.match(shuffled, "treat", cov, **kw)
            assert _pair_set(a) == _pair_set(b), (name, seed)
            wa = pd.Series(a.weights, index=a.data.index)
            wb = pd.Series(b.weights, index=b.data.index).reindex(wa.index)
            np.testing.assert_allclose(wb.to_numpy(), wa.to_numpy(), rtol=1e-12, atol=0)
            sa = pd.Series(a.subclass, index=a.data.index)
            sb = pd.Series(b.subclass, index=b.data.index).reindex(sa.index)
            assert sa.equals(sb), (name, seed)
            pd.testing.assert_frame_equal(a.flow.to_frame(), b.flow.to_frame())
    if name.startswith(("nearest", "mahalanobis", "optimal")):
        assert len(a.matched_pairs) > 100


def test_mahalanobis_with_replacement_takes_the_smallest_tie_key(lalonde):
    """Oracle: brute force. With replacement each treated unit takes its nearest control; of
    controls at the same distance, the one with the smaller id (the tie key)."""
    df = _with_duplicated_controls(lalonde)
    m = impact.match(df, "treat", MAHA_COV, distance="mahalanobis", replace=True, id="row")
    X = df[MAHA_COV].to_numpy(float)
    t = df["treat"].to_numpy() == 1
    Xc = X.copy()
    for g in (t, ~t):
        Xc[g] -= X[g].mean(axis=0)
    Si = np.linalg.inv(Xc.T @ Xc / (len(X) - 2))
    cands = np.flatnonzero(~t)
    rows = df["row"].to_numpy()
    got = m.matched_pairs.set_index("treated_pos")["control_pos"].to_dict()
    for i in np.flatnonzero(t):
        dif = X[cands] - X[i]
        d = np.sqrt(np.einsum("ij,jk,ik->i", dif, Si, dif))
        best = cands[d <= d.min() * (1 + 1e-9) + 1e-12]
        assert got[i] == best[np.argmin(rows[best])]


def test_riskset_accepts_a_generator_and_is_row_order_free():
    rng = np.random.default_rng(5)
    n, periods = 400, 6
    entry = np.where(rng.random(n) < 0.3, rng.integers(1, periods + 1, n), np.nan)
    panel = pd.DataFrame({"pid": np.repeat(np.arange(n), periods), "month": np.tile(np.arange(1, periods + 1), n),
                          "entry": np.repeat(entry, periods), "age": np.repeat(rng.integers(20, 60, n), periods)})
    panel = panel[panel["entry"].isna() | (panel["month"] <= panel["entry"])].reset_index(drop=True)
    kw = dict(id="pid", period="month", entry="entry", covariates=["age"], caliper=0.5)
    a = match_riskset(panel, random_state=np.random.default_rng(1), **kw)
    b = match_riskset(panel.sample(frac=1, random_state=3), random_state=None, **kw)
    key = ["pid", "index_date", "subclass"]
    assert (a.matched_data[key].sort_values(key).to_numpy() == b.matched_data[key].sort_values(key).to_numpy()).all()
    assert a.method == "riskset" and len(a.matched_pairs) > 20


# -- random_state: int, None or a Generator, one generator, child seeds ---------------------------------
def test_random_state_accepts_a_generator_and_seeds_a_sklearn_distance(lalonde):
    from sklearn.ensemble import RandomForestClassifier

    rf = RandomForestClassifier(n_estimators=20, max_depth=3)          # unseeded: random_state=None
    runs = [impact.match(lalonde, "treat", COV, distance=rf, random_state=11) for _ in range(2)]
    np.testing.assert_array_equal(runs[0].distance, runs[1].distance)
    assert rf.get_params()["random_state"] is None                      # the caller's estimator is untouched
    g = [impact.match(lalonde, "treat", COV, m_order="random", random_state=np.random.default_rng(4))
         for _ in range(2)]
    assert _pair_set(g[0]) == _pair_set(g[1])
    with pytest.raises(impact.ParameterError, match=r"The 'random_state' parameter of match must be"):
        impact.match(lalonde, "treat", COV, random_state=-1)
    with pytest.raises(impact.ParameterError, match=r"The 'random_state' parameter of match_riskset must be"):
        match_riskset(lalonde, id="id", period="age", entry="re74", covariates=["educ"], random_state="x")


# -- the separation warning follows R's glm.fit rule (10 machine epsilons) ----------------------------
def _extreme_but_not_separated(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=3000)
    t = (rng.random(3000) < 1 / (1 + np.exp(-(-1 + x)))).astype(int)
    out = pd.DataFrame({"treat": t, "x": x, "z": rng.normal(size=3000)})
    far = pd.DataFrame({"treat": 0, "x": [-20.0, -19.5], "z": [0.0, 0.1]})  # p about 1e-9 .. 1e-10
    return pd.concat([out, far], ignore_index=True)


def test_tiny_fitted_probabilities_do_not_warn_of_separation():
    df = _extreme_but_not_separated()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ImpactWarning)
        m = impact.match(df, "treat", ["x", "z"])
    p = m.propensity.probability
    assert 1e-12 < p.min() < 1e-8          # far below the old 1e-8 threshold, far above R's 10 eps
    assert not any("separation" in n for n in m.notes)


def test_true_separation_warns_naming_the_column():
    rng = np.random.default_rng(2)
    df = pd.DataFrame({"treat": np.r_[np.ones(60, int), np.zeros(140, int)], "z": rng.normal(size=200)})
    df["cut"] = np.where(df["treat"] == 1, rng.uniform(5, 6, 200), rng.uniform(0, 4, 200))
    with pytest.warns(ImpactWarning, match=r"Perfect separation.*'cut'"):
        impact.match(df, "treat", ["z", "cut"])


# -- impact.balance stays a function whatever was imported ------------------------------------------
def test_impact_balance_stays_callable_after_result_balance(lalonde):
    m = impact.match(lalonde, "treat", ["age", "educ"])
    first = m.balance()
    assert callable(impact.balance)
    again = impact.balance(lalonde, "treat", ["age", "educ"], m.weights)
    pd.testing.assert_frame_equal(again.table.drop(index="distance", errors="ignore"),
                                  first.table.drop(index="distance"))


# -- one treatment check, one message --------------------------------------------------------------
@pytest.mark.parametrize("call", ["match", "balance"])
@pytest.mark.parametrize("value", [2, "yes"])
def test_treatment_check_is_shared(lalonde, call, value):
    bad = lalonde.assign(treat=lalonde["treat"].astype(object).where(lalonde["treat"] == 0, value))
    with pytest.raises(DataError) as info:
        if call == "match":
            impact.match(bad, "treat", COV)
        else:
            impact.balance(bad, "treat", COV)
    assert str(info.value).startswith(f"Column 'treat': treatment must be 0/1 or boolean, found {value!r}; 185 rows")
