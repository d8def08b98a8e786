"""The fast paths of the design layer (issue 14) give the answers of their slow oracles.

Oracles: statsmodels' GLM (binomial, IRLS) for the logit, including the path that fits distinct
rows with counts; a brute-force greedy sweep for Mahalanobis matching, through both candidate
finders (blocked products and the batched KD-tree); pandas ``groupby(...).ngroup()`` for the
exact strata codes; the plain lexsort paths for the tie-ranked sort and the canonical order.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impact
from impact import EstimationError, ImpactWarning
from impact.data import expand_covariates
from impact.design import _mahalanobis as maha
from impact.design._engine import _strata
from impact.design._nearest import _sort_units_lexsort, sort_units
from impact.design._propensity import _fit_glm
from impact.design._rows import canonical_order


def _statsmodels_glm(X: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Started and stopped as R's glm.fit (the previous implementation of the fit)."""
    sm = pytest.importorskip("statsmodels.api")
    Xc = np.column_stack([np.ones(len(t)), X])
    y = t.astype(float)
    mu = (y + 0.5) / 2
    z = np.log(mu / (1 - mu)) + (y - mu) / (mu * (1 - mu))
    start = np.linalg.lstsq(Xc, z, rcond=None)[0]
    res = sm.GLM(y, Xc, family=sm.families.Binomial()).fit(
        start_params=start, tol=1e-8, tol_criterion="deviance", atol=1e-9, rtol=1e-8, maxiter=25)
    return np.asarray(res.params), np.asarray(res.bse), float(res.llf)


def _panel_like(n: int = 6000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Few distinct rows (age x months), so the fit runs on distinct rows with counts."""
    rng = np.random.default_rng(seed)
    age = rng.integers(20, 60, n).astype(float)
    months = rng.integers(0, 24, n).astype(float)
    t = (rng.random(n) < 1 / (1 + np.exp(3 - 0.03 * age + 0.05 * months))).astype(np.int8)
    return np.column_stack([age, months]), t


def test_logit_on_distinct_rows_with_counts_equals_statsmodels():
    X, t = _panel_like()
    assert len(np.unique(np.column_stack([X, t]), axis=0)) * 2 <= len(t)   # the counted path
    prob, lin, coef, llf, _ = _fit_glm(X.copy(), ["age", "months"], t, ["age", "months"])
    b, se, ll = _statsmodels_glm(X, t)
    np.testing.assert_allclose(coef["estimate"], b, rtol=1e-7)
    np.testing.assert_allclose(coef["se"], se, rtol=1e-7)
    assert llf == pytest.approx(ll, rel=1e-10)
    np.testing.assert_allclose(lin, np.column_stack([np.ones(len(t)), X]) @ b, rtol=1e-7, atol=1e-9)


def test_logit_in_place_reorder_is_bit_identical_to_gathering():
    rng = np.random.default_rng(3)
    X = np.column_stack([rng.normal(size=4000), rng.integers(0, 2, 4000), rng.normal(size=4000)])
    t = (rng.random(4000) < 0.3).astype(np.int8)
    a = _fit_glm(X, ["a", "b", "c"], t, ["a", "b", "c"], reorder=False)
    X2 = X.copy()
    b = _fit_glm(X2, ["a", "b", "c"], t, ["a", "b", "c"], reorder=True)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[2]["estimate"], b[2]["estimate"])
    np.testing.assert_array_equal(a[2]["se"], b[2]["se"])
    bs, _, _ = _statsmodels_glm(X, t)
    np.testing.assert_allclose(a[2]["estimate"], bs, rtol=1e-7)


def test_logit_ill_conditioned_design_takes_the_qr_start_and_still_equals_statsmodels():
    rng = np.random.default_rng(4)
    x = rng.normal(size=3000)
    X = np.column_stack([x, x + 1e-5 * rng.normal(size=3000), rng.normal(size=3000)])
    t = (rng.random(3000) < 1 / (1 + np.exp(-x))).astype(np.int8)
    _, _, coef, _, _ = _fit_glm(X.copy(), ["x", "x_near", "z"], t, ["x"])
    b, se, _ = _statsmodels_glm(X, t)
    np.testing.assert_allclose(coef["estimate"], b, rtol=1e-5)
    np.testing.assert_allclose(coef["se"], se, rtol=1e-5)


def test_collinear_covariates_are_named_by_the_pivoted_qr():
    rng = np.random.default_rng(1)
    df = pd.DataFrame({"treat": (rng.random(500) < 0.3).astype(int), "a": rng.normal(size=500),
                       "b": rng.normal(size=500)})
    df["c"] = df["a"] + 2 * df["b"]
    with pytest.raises(EstimationError, match=r"rank deficient: some covariates are collinear \('(a|b|c)'"):
        impact.match(df, "treat", ["a", "b", "c"])


def test_multi_column_strata_codes_equal_groupby_and_labels_name_their_rows():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"a": rng.choice(["x", "y", "z"], 900), "b": rng.integers(0, 5, 900),
                       "c": pd.Categorical(rng.choice(["lo", "hi"], 900), categories=["lo", "hi", "mid"])})
    for cols in (["a", "b"], ["b", "a", "c"]):
        codes, labels = _strata(df, cols)
        ref = df.groupby(cols, sort=True, observed=True).ngroup().to_numpy()
        np.testing.assert_array_equal(codes, ref)
        # (the old labels came from groupby().groups, sorted by value, not category order)
        own = [", ".join(map(str, r)) for r in df[cols].itertuples(index=False)]
        assert [labels[k] for k in codes] == own


def test_short_supply_warning_names_the_right_categorical_stratum():
    df = pd.DataFrame({"treat": [1, 1, 0, 0, 0, 1], "x": [1.0, 2.0, 1.5, 2.5, 0.5, 3.0],
                       "g": ["u", "u", "u", "u", "u", "u"],
                       "c": pd.Categorical(["lo", "lo", "lo", "lo", "lo", "hi"], categories=["lo", "hi"])})
    with pytest.warns(ImpactWarning, match=r"u, hi"):
        impact.match(df, "treat", ["x"], distance="x", exact=["g", "c"], caliper=None)


def test_tie_ranked_sort_equals_the_lexsort_path():
    rng = np.random.default_rng(2)
    n = 20000
    score = rng.integers(0, 50, n) / 7.0          # heavily tied
    strata = rng.integers(0, 3, n).astype(np.int64)
    key = rng.permutation(n)

    def rank(pos: np.ndarray) -> np.ndarray:
        o = np.argsort(key[pos], kind="stable")
        r = np.empty(len(pos), dtype=np.int64)
        r[o] = np.arange(len(pos))
        return r
    np.testing.assert_array_equal(sort_units(score, strata, rank), _sort_units_lexsort(score, strata, rank))
    np.testing.assert_array_equal(sort_units(score, None, rank), _sort_units_lexsort(score, None, rank))


def test_canonical_order_is_lexicographic_whether_ties_are_few_or_many():
    rng = np.random.default_rng(6)
    for X in (rng.integers(0, 3, (5000, 4)).astype(float), rng.normal(size=(5000, 3))):
        last = rng.integers(0, 2, 5000)
        o = canonical_order(X, last)
        keys = np.column_stack([X, last])[o]
        assert sorted(map(tuple, keys.tolist())) == list(map(tuple, keys.tolist()))


def _greedy_oracle(Z: np.ndarray, treated: np.ndarray, key: np.ndarray) -> set:
    t_units, c_units = np.flatnonzero(treated), np.flatnonzero(~treated)
    free = np.ones(len(c_units), dtype=bool)
    out = set()
    for i in t_units[np.argsort(key[t_units], kind="stable")]:
        d = np.sqrt(((Z[c_units] - Z[i]) ** 2).sum(axis=1))
        d[~free] = np.inf
        if not np.isfinite(d).any():
            break
        best = np.flatnonzero(d <= d.min() * (1 + 1e-9) + 1e-12)
        j = best[np.argmin(key[c_units[best]])]
        free[j] = False
        out.add((int(i), int(c_units[j])))
    return out


@pytest.mark.parametrize("finder", ["products", "tree"])
def test_mahalanobis_candidate_finders_give_the_brute_force_pairs(monkeypatch, finder):
    rng = np.random.default_rng(8)
    n_t, n_c = 300, 3000
    X = np.column_stack([rng.integers(0, 3, n_t + n_c), rng.normal(size=n_t + n_c),
                         rng.integers(0, 2, n_t + n_c)]).astype(float)
    X[n_t + 1500:] = X[n_t:n_t + 1500]            # duplicated controls: exact ties everywhere
    treated = np.r_[np.ones(n_t, bool), np.zeros(n_c, bool)]
    key = rng.permutation(n_t + n_c)

    def rank(pos: np.ndarray) -> np.ndarray:
        o = np.argsort(key[pos], kind="stable")
        r = np.empty(len(pos), dtype=np.int64)
        r[o] = np.arange(len(pos))
        return r
    chosen = maha._Products if finder == "products" else maha._Tree
    monkeypatch.setattr(maha, "_candidates", lambda Zt, Zc, q: chosen(Zt, Zc, q))
    p = maha.mahalanobis_nearest(X, treated, None, rank, rng=np.random.default_rng(0))
    got = set(zip(p.treated.tolist(), p.control.tolist()))
    assert got == _greedy_oracle(maha.whiten(X, treated), treated, key)


def test_mahalanobis_2to1_with_replacement_through_the_tree_equals_products(monkeypatch):
    rng = np.random.default_rng(9)
    X = rng.integers(0, 4, (2200, 3)).astype(float) + rng.normal(scale=0.01, size=(2200, 3)).round(2)
    treated = np.r_[np.ones(200, bool), np.zeros(2000, bool)]
    key = rng.permutation(2200)

    def rank(pos: np.ndarray) -> np.ndarray:
        return np.argsort(np.argsort(key[pos], kind="stable"), kind="stable")
    out = {}
    for name, cls in (("products", maha._Products), ("tree", maha._Tree)):
        monkeypatch.setattr(maha, "_candidates", lambda Zt, Zc, q, cls=cls: cls(Zt, Zc, q))
        for replace in (False, True):
            p = maha.mahalanobis_nearest(X, treated, None, rank, ratio=2, replace=replace,
                                         rng=np.random.default_rng(0))
            out[name, replace] = sorted(zip(p.treated.tolist(), p.control.tolist(), p.round.tolist()))
    assert out["products", False] == out["tree", False]
    assert out["products", True] == out["tree", True]


def test_riskset_peak_memory_per_person_month_stays_small():
    """A loose guard (the benchmark holds the real target): well under 400 bytes per row."""
    import tracemalloc

    from impact.design import match_riskset
    rng = np.random.default_rng(0)
    n, periods = 8000, 24
    entry = np.where(rng.random(n) < 0.05, rng.integers(1, periods + 1, n), np.nan)
    panel = pd.DataFrame({"pid": np.repeat(np.arange(n), periods),
                          "month": np.tile(np.arange(1, periods + 1), n),
                          "entry": np.repeat(entry, periods),
                          "age": np.repeat(rng.integers(20, 60, n), periods),
                          "gender": np.repeat(rng.integers(0, 2, n), periods)})
    panel["dur"] = panel["month"] % 7
    X, _ = expand_covariates(panel, ["age", "dur"])
    assert X.shape[1] == 2
    tracemalloc.start()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = match_riskset(panel, id="pid", period="month", entry="entry", covariates=["age", "dur"],
                          exact="gender")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert m.sample_sizes.loc["matched", "treated"] > 0
    assert peak / len(panel) < 400
