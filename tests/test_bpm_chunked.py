"""Risk sets and matching in chunks (issue 14 point 5): every chunked pass gives its one-shot
answer, bit for bit, whatever the chunk size.

The chunk sizes are forced tiny on small data, so every block boundary case is met (a run of
identical design rows crossing a block end, a period's rows spread over many chunks, levels
first seen in a late chunk). Oracles: the one-shot numpy operation (``np.argsort(kind="stable")``,
``np.bincount``, ``np.flatnonzero``), the fit on the float64 design matrix
(``expand_covariates``), :class:`FlowCounter` on the period column, and the same
``match_riskset`` call at the default chunk sizes (every field of the result, pairs included).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impact.design._engine as E
import impact.design._propensity as P
import impact.design._riskset as RS
from impact.data import expand_covariates
from impact.design import match_riskset
from impact.design._flowcount import FlowCounter
from impact.design._propensity import _Columns, _fit_glm


def _design_frame(n: int, seed: int = 4) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
    """Few-valued covariates (many identical rows, yet most rows distinct once the continuous
    one is in), two categoricals (3 and 12 levels) and a 0/1 outcome."""
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "age": rng.integers(20, 30, n).astype(np.int16),
        "days": np.where(rng.random(n) < 0.4, 30.0, rng.integers(0, 400, n).astype(float)),
        "flag": (rng.random(n) < 0.3).astype(np.int8),
        "edu": rng.choice(["low", "mid", "high"], n),
        "district": rng.choice([f"d{i:02d}" for i in range(12)], n),
    })
    lin = -1.5 + 0.05 * (df["age"] - 25) + 0.4 * df["flag"] + 0.3 * (df["edu"] == "high")
    t = (rng.random(n) < 1 / (1 + np.exp(-lin.to_numpy()))).astype(np.int8)
    return df, t, list(df.columns)


def _columns(df: pd.DataFrame, cov: list[str]) -> tuple[_Columns, list[str]]:
    parts: list[tuple[np.ndarray, np.ndarray | None]] = []
    names: list[str] = []
    for c in cov:
        s = df[c]
        if s.dtype == object:
            codes, uniques = pd.factorize(s)
            tab, nm = expand_covariates(pd.DataFrame({c: uniques}), [c])
            parts.append((codes.astype(np.int8), tab))
            names += nm
        else:
            parts.append((s.to_numpy(), None))
            names.append(c)
    return _Columns(parts, len(df)), names


@pytest.fixture(scope="module")
def design():
    return _design_frame(6000)


@pytest.mark.parametrize("block_bytes", [1, 1 << 12, None], ids=["256-row-blocks", "4k-blocks", "default"])
def test_fit_on_packed_codes_in_tiny_blocks_equals_the_matrix_fit(design, monkeypatch, block_bytes):
    """The streamed score (a block at a time, straight into the data's order, identical rows
    given their first row's value across block ends) and the categoricals held as codes: the
    same probabilities, linear predictor, coefficients and log-likelihood as the fit on the
    float64 matrix, exactly (the oracle's own blocks are the default ones)."""
    df, t, cov = design
    X, names = expand_covariates(df, cov)
    prob, lin, coef, llf, _ = _fit_glm(X.copy(), names, t, cov, reorder=True)
    if block_bytes is not None:
        monkeypatch.setattr(P, "_BLOCK_BYTES", block_bytes)
        monkeypatch.setattr(P, "_SCORE_CHUNK", 7)
    C, names_c = _columns(df, cov)
    assert names_c == names
    prob_c, lin_c, coef_c, llf_c, _ = _fit_glm(C, names_c, t, cov)
    assert C.parts == []                          # the fit let go of the caller's columns
    assert lin_c is not None
    if block_bytes is None:
        np.testing.assert_array_equal(prob_c, prob)
        np.testing.assert_array_equal(lin_c, lin)
        pd.testing.assert_frame_equal(coef_c, coef)
        assert llf_c == llf
    else:
        # other blocks sum the Newton terms in another order: the last bits may move
        np.testing.assert_allclose(coef_c["estimate"], coef["estimate"], rtol=1e-10, atol=0)
        np.testing.assert_allclose(coef_c["se"], coef["se"], rtol=1e-10, atol=0)
        np.testing.assert_allclose(prob_c, prob, rtol=1e-10, atol=0)
        assert llf_c == pytest.approx(llf, rel=1e-12)
    # identical design rows get bit-identical scores, whatever block they fell in
    key = pd.util.hash_pandas_object(df, index=False).to_numpy()
    s = pd.DataFrame({"key": key, "p": prob_c}).groupby("key")["p"].nunique()
    assert (s == 1).all() and (len(s) < len(df))


def test_streamed_scores_equal_the_distinct_row_values_mapped_back(design, monkeypatch):
    """``_scores_streamed`` against the values per distinct row (``_distinct_linear_columns``)
    mapped back through the canonical order, at a block size that splits runs of identical rows."""
    df, t, cov = design
    C, names = _columns(df, cov)
    from impact.design._rows import canonical_order_of
    order = canonical_order_of([*C.keys(), t], len(df)).astype(np.int32)
    D = C.take(order)
    new = D.new_rows()
    assert 2 * int(new.sum()) > len(df)          # the streamed branch
    beta = np.linspace(-1, 1, D.p + 1)
    for size in (256, 257, 1000, len(df)):
        lin_u = P._distinct_linear_columns(D, beta, new, size)
        want_lin = np.empty(len(df))
        want_lin[order] = lin_u[np.cumsum(new) - 1]
        want_p = np.empty(len(df))
        want_p[order] = 1.0 / (1.0 + np.exp(-lin_u))[np.cumsum(new) - 1]
        prob, lin = np.empty(len(df)), np.empty(len(df))
        P._scores_streamed(D, beta, new, size, order, prob, lin)
        np.testing.assert_array_equal(lin, want_lin)
        np.testing.assert_array_equal(prob, want_p)


def test_chunked_counts_and_orders_equal_numpy(monkeypatch):
    monkeypatch.setattr(E, "_COUNT_CHUNK", 5)
    monkeypatch.setattr(RS, "_CHUNK_ROWS", 6)
    rng = np.random.default_rng(3)
    for n in (0, 1, 17, 500):
        codes = rng.integers(0, 9, n).astype(np.int16)
        mask = rng.random(n) < 0.4
        np.testing.assert_array_equal(E.bincount_chunked(codes, 9), np.bincount(codes, minlength=9))
        np.testing.assert_array_equal(E.bincount_chunked(codes, 9, lambda a, b: mask[a:b]),
                                      np.bincount(codes[mask], minlength=9))
        assert E.count_chunked(lambda a, b: mask[a:b], n) == int(mask.sum())
        got = E.positions_chunked(lambda a, b: mask[a:b], n)
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, np.flatnonzero(mask))
        order = RS._stable_order_by(codes, np.bincount(codes, minlength=9))
        assert order.dtype == np.int32
        np.testing.assert_array_equal(order, np.argsort(codes, kind="stable"))


@pytest.mark.parametrize("kind", ["dates", "ints", "periods"])
def test_period_counter_is_the_flow_counter_of_the_period_column(monkeypatch, kind):
    """Codes from ``pd.factorize(sort=True)`` of a wider column (levels not all present here)."""
    monkeypatch.setattr(RS, "_CHUNK_ROWS", 4)
    rng = np.random.default_rng(5)
    lv = {"dates": pd.Series(pd.date_range("2020-01-01", periods=8, freq="MS")),
          "ints": pd.Series(np.arange(8) * 3 + 1),
          "periods": pd.Series(pd.period_range("2020-01", periods=8, freq="M"))}[kind]
    wide = lv.iloc[rng.integers(0, 8, 300)].reset_index(drop=True)
    codes_all, levels = pd.factorize(wide, sort=True)
    keep = ~wide.isin(lv.iloc[[2, 5]]).to_numpy()          # two periods absent from the risk sets
    col = wide[keep].reset_index(drop=True)
    treated = rng.random(len(col)) < 0.2
    want = FlowCounter(treated, col)
    got = RS._PeriodCounter(treated, codes_all[keep].astype(np.int16), levels)
    assert got.labels == want.labels and got.k == want.k
    assert got.code.dtype == np.int8                        # few periods: a byte a row
    np.testing.assert_array_equal(got.code, want.code)
    np.testing.assert_array_equal(E.counter_state(got, treated), want.of_mask(treated))


def _panel() -> pd.DataFrame:
    from test_matching_riskset import make_panel

    p = make_panel(1500, 10, seed=8)
    p["region"] = np.where(p["pid"] % 3 == 0, "north", np.where(p["pid"] % 3 == 1, "south", "west"))
    p["start"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(30 * p["month"], unit="D")
    p["entry_date"] = pd.Timestamp("2020-01-01") + pd.to_timedelta(30 * p["entry"], unit="D")
    return p


def _fields(m):
    return m.matched_data, m.matched_pairs, m.unmatched, m.flow.to_frame(), m.propensity.coefficients


@pytest.mark.parametrize("kw", [dict(), dict(period="start", entry="entry_date", exact="gender", ratio=2),
                                dict(eligible="eligible", estimand="join_vs_never")],
                         ids=["int-periods", "date-periods", "eligible"])
def test_match_riskset_in_tiny_chunks_equals_default_chunks(monkeypatch, kw):
    """Every chunked pass of the risk-set matching (period order, counts, flow, strata codes,
    score) at chunk sizes of a few rows: the same result, every field, pairs included."""
    panel = _panel()
    args = dict(id="pid", period="month", entry="entry", covariates=["age", "months_unemployed", "region"])
    args.update(kw)
    ref = match_riskset(panel, **args)
    monkeypatch.setattr(E, "_COUNT_CHUNK", 7)
    monkeypatch.setattr(E, "_CHUNK", 11)
    monkeypatch.setattr(RS, "_CHUNK_ROWS", 13)
    monkeypatch.setattr(P, "_SCORE_CHUNK", 5)
    got = match_riskset(panel, **args)
    for a, b in zip(_fields(got), _fields(ref)):
        pd.testing.assert_frame_equal(a, b)
    for f in ("weights", "subclass", "distance", "positions", "discarded"):
        np.testing.assert_array_equal(getattr(got, f), getattr(ref, f))
    assert got.notes == ref.notes and len(got.matched_pairs) > 20
    # blocks of the fit that small: coefficients to 1e-10, the same pairs
    monkeypatch.setattr(P, "_BLOCK_BYTES", 1)
    tiny = match_riskset(panel, **args)
    np.testing.assert_allclose(tiny.propensity.coefficients["estimate"], ref.propensity.coefficients["estimate"],
                               rtol=1e-10, atol=0)
    np.testing.assert_allclose(tiny.distance, ref.distance, rtol=1e-10, atol=0)
    pd.testing.assert_frame_equal(tiny.matched_pairs.drop(columns="distance_diff"),
                                  ref.matched_pairs.drop(columns="distance_diff"))


def test_strata_as_int32_codes_equal_the_int64_codes():
    rng = np.random.default_rng(9)
    df = pd.DataFrame({"a": rng.choice(["x", "y", None], 400), "b": rng.integers(0, 5, 400),
                       "c": pd.date_range("2020-01-01", periods=4).take(rng.integers(0, 4, 400))})
    for cols in (["a"], ["b"], ["a", "b", "c"], ["c", "b"]):
        wide, lab = E._strata(df, cols)
        narrow, lab_n = E._strata(df, cols, narrow=True)
        assert wide.dtype == np.int64 and narrow.dtype == np.int32 and lab == lab_n
        np.testing.assert_array_equal(narrow, wide)


def test_compressed_packed_fit_names_separation_and_rank_as_the_matrix_fit():
    """Few distinct rows (the fit on distinct (row, outcome) pairs with counts, which keeps only
    those rows of the sorted copy): the separation warning names the same columns and counts,
    and a constant column is named, as on the float64 matrix."""
    rng = np.random.default_rng(11)
    n = 5000
    df = pd.DataFrame({"age": rng.integers(20, 25, n).astype(np.int16),
                       "edu": rng.choice(["low", "mid", "high"], n)})
    t = (rng.random(n) < 0.2).astype(np.int8)
    sep = df.assign(cut=np.where(t == 1, 1, rng.integers(0, 1, n)).astype(np.int8))   # cut = 1 only if treated
    cov = ["age", "edu", "cut"]
    X, names = expand_covariates(sep, cov)
    with pytest.warns(Warning) as want:
        prob, _, coef, _, notes = _fit_glm(X.copy(), names, t, cov)
    C, names_c = _columns(sep, cov)
    with pytest.warns(Warning) as got:
        prob_c, _, coef_c, _, notes_c = _fit_glm(C, names_c, t, cov)
    assert [str(w.message) for w in got] == [str(w.message) for w in want] and "'cut'" in notes_c[0]
    assert notes_c == notes
    np.testing.assert_array_equal(prob_c, prob)
    pd.testing.assert_frame_equal(coef_c, coef)
    const = df.assign(one=np.int8(3))
    C, names_c = _columns(const, ["age", "edu", "one"])
    X, names = expand_covariates(const, ["age", "edu", "one"])
    with pytest.raises(Exception) as e_c:
        _fit_glm(C, names_c, t, ["age", "edu", "one"])
    with pytest.raises(Exception) as e_m:
        _fit_glm(X.copy(), names, t, ["age", "edu", "one"])
    assert str(e_c.value) == str(e_m.value) and "'one'" in str(e_c.value)
