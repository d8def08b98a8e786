"""The memory-lean paths of the propensity fit (issues 10 point 8, 14 points 1 and 5) give the
answers of their plain oracles, bit for bit.

Oracles: ``np.lexsort`` for the packed canonical order, ``np.unique`` for the dense ranks, the fit
on the float64 design matrix (``expand_covariates``) for the fit on a column-by-column design,
and a round trip through float64 for the narrow storage dtypes. One tracemalloc check shows the
column-by-column fit never holds an ``n x p`` float matrix.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from impact import DataError
from impact.data import expand_covariates
from impact.design._propensity import _Columns, _fit_glm, _narrow_dtype
from impact.design._rows import canonical_order, dense_rank, packed_order


def _mixed_columns(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    """Keys of every kind the design meets: small and huge integers, bools, halves, signed
    zeros, continuous floats."""
    out = []
    for kind in rng.permutation(6)[: rng.integers(1, 6)]:
        if kind == 0:
            out.append(rng.integers(-3, 3, n).astype(np.int16))
        elif kind == 1:
            out.append(rng.integers(0, 3, n) * 0.5)
        elif kind == 2:
            out.append(np.where(rng.random(n) < 0.5, -0.0, 0.0) + rng.integers(0, 2, n))
        elif kind == 3:
            out.append(rng.normal(size=n))
        elif kind == 4:
            out.append(rng.integers(0, 2**40, n) * (rng.random(n) < 0.9))
        else:
            out.append(rng.random(n) < 0.3)
    return out


def test_packed_order_sorts_as_lexsort():
    rng = np.random.default_rng(1)
    for _ in range(150):
        n = int(rng.integers(2, 200))
        cols = _mixed_columns(rng, n)
        A = np.column_stack([c.astype(float) for c in cols])
        want = A[np.lexsort(cols[::-1])]
        np.testing.assert_array_equal(A[packed_order(cols)], want)
        X, last = (A[:, :-1], cols[-1]) if len(cols) > 1 else (A, None)
        np.testing.assert_array_equal(A[canonical_order(X, last)], want)


def test_canonical_order_with_many_ties_on_the_first_column_is_lexicographic():
    """The path national risk sets take (age first: nearly every row tied on it)."""
    rng = np.random.default_rng(2)
    X = np.column_stack([rng.integers(16, 66, 20000), rng.integers(0, 3000, 20000),
                         rng.integers(0, 2, 20000)]).astype(float)
    t = rng.integers(0, 2, 20000)
    keys = np.column_stack([X, t])[canonical_order(X, t)]
    np.testing.assert_array_equal(keys, np.column_stack([X, t])[np.lexsort((t, *X.T[::-1]))])


def test_dense_rank_equals_unique_inverse():
    rng = np.random.default_rng(3)
    for x in (rng.integers(-5, 5, 500), rng.integers(0, 2**50, 500), rng.integers(0, 9, 500) * 1.0,
              rng.normal(size=500), np.array([0.0, -0.0, 1.0, -0.0]), rng.random(500) < 0.5,
              rng.integers(0, 200, 500).astype(np.uint8)):
        codes, levels = dense_rank(x)
        _, inv = np.unique(x, return_inverse=True)
        np.testing.assert_array_equal(codes, inv.reshape(-1))
        assert levels == len(np.unique(x))


def test_narrow_dtypes_hold_every_value_exactly():
    rng = np.random.default_rng(4)
    cases = {np.int8: rng.integers(-128, 128, 300).astype(np.int64),
             np.int16: rng.integers(0, 3000, 300).astype(float),
             np.int32: rng.integers(-10**6, 10**6, 300).astype(np.int64),
             np.float64: rng.normal(size=300)}
    for dt, v in cases.items():
        got = _narrow_dtype(v)
        assert got == np.dtype(dt)
        np.testing.assert_array_equal(v.astype(got).astype(np.float64), v.astype(np.float64))
    assert _narrow_dtype(np.array([1.0, -0.0])) == np.dtype(np.float64)   # keeps the zero's sign
    assert _narrow_dtype(np.array([True, False])) == np.dtype(np.int8)


def _frame(n: int, seed: int, *, distinct: bool) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 65, n).astype(np.int16)
    df = pd.DataFrame({
        "age": age,
        "days": (rng.integers(0, 2000, n) if distinct else rng.integers(0, 4, n)).astype(float),
        "flag": rng.random(n) < 0.3,
        "region": rng.choice(["north", "south", "east", "west"], n),
        "edu": pd.Categorical(rng.choice(["low", "mid", "high"], n), categories=["mid", "low", "high"]),
        "score": rng.normal(size=n) if distinct else np.zeros(n) + 1.5,
    })
    lin = -3 + 0.03 * (age - 40) + 0.4 * (df["region"] == "south") + 0.2 * df["flag"]
    t = (rng.random(n) < 1 / (1 + np.exp(-lin.to_numpy()))).astype(np.int8)
    return df, t, list(df.columns) if distinct else ["age", "days", "flag", "region", "edu"]


def _columns_of(df: pd.DataFrame, cov: list[str]) -> tuple[_Columns, list[str]]:
    """The design as match_riskset hands it over: numeric columns as they are, categorical ones
    as level codes and the dummies of their distinct values."""
    parts: list[tuple[np.ndarray, np.ndarray | None]] = []
    names: list[str] = []
    for c in cov:
        s = df[c]
        if s.dtype == object or isinstance(s.dtype, pd.CategoricalDtype):
            codes, uniques = pd.factorize(s)
            tab, nm = expand_covariates(pd.DataFrame({c: uniques}), [c])
            parts.append((codes.astype(np.int16), tab))
            names += nm
        else:
            parts.append((s.to_numpy(), None))
            names.append(c)
    return _Columns(parts, len(df)), names


@pytest.mark.parametrize("distinct", [True, False], ids=["mostly-distinct-rows", "distinct-rows-with-counts"])
def test_fit_on_columns_is_bit_identical_to_the_fit_on_the_matrix(distinct):
    df, t, cov = _frame(30000, 5, distinct=distinct)
    X, names = expand_covariates(df, cov)
    prob, lin, coef, llf, _ = _fit_glm(X.copy(), names, t, cov, reorder=True)
    C, names_c = _columns_of(df, cov)
    assert names_c == names
    prob_c, lin_c, coef_c, llf_c, _ = _fit_glm(C, names_c, t, cov)
    np.testing.assert_array_equal(prob_c, prob)
    np.testing.assert_array_equal(lin_c, lin)
    pd.testing.assert_frame_equal(coef_c, coef)
    assert llf_c == llf
    # row order does not matter either
    perm = np.random.default_rng(0).permutation(len(df))
    Cp, _ = _columns_of(df.iloc[perm].reset_index(drop=True), cov)
    prob_p, _, coef_p, _, _ = _fit_glm(Cp, names_c, t[perm], cov, linear=False)
    np.testing.assert_array_equal(prob_p, prob[perm])
    pd.testing.assert_frame_equal(coef_p, coef)


def test_fit_on_columns_names_rank_problems_and_separation_as_the_matrix_fit():
    df, t, _ = _frame(4000, 6, distinct=True)
    df["age2"] = df["age"] * 2.0                                       # collinear
    C, names = _columns_of(df, ["age", "days", "age2"])
    with pytest.raises(Exception, match="rank deficient.*'age2'"):
        _fit_glm(C, names, t, ["age", "days", "age2"])
    sep = df.assign(cut=(t == 1) * 1.0 + 0.0)
    C, names = _columns_of(sep, ["age", "cut"])
    with pytest.warns(Warning, match="separation.*'cut'"):
        _fit_glm(C, names, t, ["age", "cut"])


def test_fit_on_columns_never_holds_a_float_design_matrix():
    """tracemalloc peak of the whole fit: well below the n x p float64 matrix the engine's path
    would build (about 0.5 of it here: the sorted copy takes a byte or two per value, the rest
    are n-long vectors and the sort's scratch)."""
    def design(n: int) -> tuple[_Columns, np.ndarray, list[str]]:
        rng = np.random.default_rng(7)
        parts: list[tuple[np.ndarray, np.ndarray | None]] = [
            (rng.integers(0, 2, n).astype(np.int8), None) for _ in range(12)]
        parts.append((rng.integers(16, 66, n).astype(np.int16), None))
        parts.append((rng.integers(0, 10, n).astype(np.int8), np.vstack([np.zeros(9), np.eye(9)])))
        C = _Columns(parts, n)
        return C, (rng.random(n) < 0.1).astype(np.int8), [f"x{j}" for j in range(C.p)]

    C0, t0, names0 = design(2000)
    _fit_glm(C0, names0, t0, names0)                 # the fit's lazy imports before the trace
    n = 200_000
    C, t, names = design(n)
    tracemalloc.start()
    _fit_glm(C, names, t, names, linear=False)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 0.6 * n * C.p * 8, peak / (n * C.p * 8)


def test_numeric_fast_path_of_the_covariate_builder_keeps_its_rules():
    df = pd.DataFrame({"a": [1, 2, 3], "b": [True, False, True], "c": [0.5, np.nan, 1.0]})
    X, names = expand_covariates(df, ["a", "b"])
    assert names == ["a", "b"] and X.dtype == np.float64
    np.testing.assert_array_equal(X, [[1, 1], [2, 0], [3, 1]])
    with pytest.raises(DataError, match=r"Column 'c'.*missing.*position 1"):
        expand_covariates(df, ["c"])
    with pytest.raises(DataError, match="Column 'c'"):
        expand_covariates(df.assign(c=[0.5, np.inf, 1.0]), ["c"])
