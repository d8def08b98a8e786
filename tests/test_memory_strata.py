"""Exact strata and the risk-set frame at national scale: same codes as pandas, fewer bytes a row.

Oracles: ``pd.factorize(sort=True)`` (one column) and ``groupby(sort=True, observed=True,
dropna=False).ngroup()`` (several) for the codes and labels; ``tracemalloc`` for the bytes a row
``_strata`` allocates at its peak (pandas' whole-column factorize alone peaks at 17 to 33).
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

import impact.design._engine as engine


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 5000
    return pd.DataFrame({
        "text": pd.Series(rng.choice(["b", "a", "c"], n), dtype=object),
        "text_na": pd.Series(rng.choice(["z", "y", None], n), dtype=object),
        "int": rng.integers(-3, 5, n),
        "flt": rng.choice([2.5, -1.0, np.nan, 0.0], n),
        "date": pd.to_datetime(rng.choice(["2020-03-01", "2019-01-01", None, "2021-05-01"], n)),
        "cat": pd.Categorical(rng.choice(["lo", "hi", "mid"], n), categories=["mid", "lo", "hi", "none"]),
        "flag": rng.random(n) > 0.5,
        "month": pd.period_range("2020-01", periods=7, freq="M")[rng.integers(0, 7, n)],
    })


@pytest.mark.parametrize("chunk", [700, 1 << 18])
def test_strata_codes_and_labels_are_pandas_own(frame, chunk, monkeypatch):
    monkeypatch.setattr(engine, "_CHUNK", chunk)        # 700: every column factorized by chunks
    for col in frame.columns:
        codes, labels = engine._strata(frame, [col])
        want, uniques = pd.factorize(frame[col], sort=True)
        assert codes.dtype == np.int64 and np.array_equal(codes, want), col
        assert labels == [str(u) for u in uniques], col
    for cols in (["month", "text", "flag"], ["cat", "flt"], ["date", "int", "text_na"], ["flt", "month"]):
        codes, labels = engine._strata(frame, cols)
        g = frame.groupby(cols, sort=True, observed=True, dropna=False)
        assert np.array_equal(codes, g.ngroup().to_numpy()), cols
        assert labels == [", ".join(map(str, k)) for k in g.size().index], cols


def test_strata_allocate_few_bytes_a_row(monkeypatch):
    monkeypatch.setattr(engine, "_CHUNK", 1 << 14)
    rng = np.random.default_rng(0)
    n = 400_000
    df = pd.DataFrame({"period": pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 60, n) * 30, "D"),
                       "gender": pd.Series(rng.choice(["female", "male"], n), dtype=object),
                       "band": rng.integers(0, 9, n).astype(np.int8)})
    tracemalloc.start()
    try:
        codes, _ = engine._strata(df, ["period", "gender", "band"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # the int64 codes, one column's int64 codes and a chunk's hash table: under 20 bytes a row
    assert peak / n < 20, peak / n
    assert np.array_equal(codes, df.groupby(["period", "gender", "band"], sort=True).ngroup().to_numpy())


def test_risk_set_frame_narrows_integer_person_columns():
    from impact.registers import risk_sets
    from impact.synthetic import simulate_extract

    ext = simulate_extract(400, random_state=2).extract
    f = risk_sets(ext).to_frame()
    persons = ext.persons.set_index(ext.columns.id)
    narrowed = [c for c in ext.fixed_columns if persons[c].dtype.kind in "iu"]
    assert narrowed, "the synthetic extract has an integer person column"
    for c in narrowed:
        assert f[c].dtype.itemsize <= persons[c].dtype.itemsize
        assert np.array_equal(f[c].to_numpy(dtype=np.int64),
                              persons[c].reindex(f[ext.columns.id]).to_numpy(dtype=np.int64)), c
