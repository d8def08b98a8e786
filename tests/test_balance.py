"""impact.balance on any data. Oracles: hand formulas (stated), and a metamorphic check
(integer weights equal duplicated rows)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impact import DataError
from impact.diagnostics import balance
from impact.datasets import load_lalonde


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    return load_lalonde()


def test_ate_denominator_is_pooled_sd(df):
    b = balance(df, "treat", ["age", "married"], estimand="ATE")
    t = df["treat"] == 1
    sd = np.sqrt((df.loc[t, "age"].var() + df.loc[~t, "age"].var()) / 2)
    diff = df.loc[t, "age"].mean() - df.loc[~t, "age"].mean()
    assert b.table.loc["age", "smd_before"] == pytest.approx(diff / sd, rel=1e-12)
    p1, p0 = df.loc[t, "married"].mean(), df.loc[~t, "married"].mean()
    sdb = np.sqrt((p1 * (1 - p1) + p0 * (1 - p0)) / 2)
    assert b.table.loc["married", "smd_before"] == pytest.approx((p1 - p0) / sdb, rel=1e-12)
    assert np.isnan(b.table.loc["married", "var_ratio_before"])


def test_integer_weights_equal_duplicated_rows(df):
    rng = np.random.default_rng(0)
    w = rng.integers(0, 4, len(df))
    w[df["treat"].to_numpy() == 1] = 1
    a = balance(df, "treat", ["age", "educ", "race", "re74"], weights=w)
    dup = df.loc[df.index.repeat(w)]
    b = balance(dup, "treat", ["age", "educ", "race", "re74"])
    # not var_ratio: MatchIt's weighted variance treats weights as reliability weights
    # (denominator 1 - sum(w^2) for normalised w), which by design differs from duplicated rows
    # not smd either: its denominator is the SD before weighting, by definition
    # nor ecdf_mean: MatchIt averages over the distinct values of the whole sample, including
    # those only zero-weight rows have, which duplicating rows drops
    for st in ["mean_treated", "mean_control", "ecdf_max"]:
        np.testing.assert_allclose(a.table[f"{st}_after"], b.table[f"{st}_before"], rtol=1e-10)


def test_squares_interactions_and_flags(df):
    b = balance(df, "treat", ["age", "race", "married"], squares=True, interactions=True,
                thresholds={"smd": 0.05})
    idx = list(b.table.index)
    assert "age^2" in idx and "married^2" not in idx
    assert "age * race[black]" in idx and "race[black] * race[hispan]" not in idx
    s = b.summary()
    assert (s["balanced_smd"] == (s["smd_before"].abs() <= 0.05)).all()
    assert "BalanceResult(" in repr(b) and "<table" in b._repr_html_()


def test_balance_errors_name_the_column(df):
    bad = df.assign(age=df["age"].astype(float))
    bad.loc[[2, 7], "age"] = np.nan
    with pytest.raises(DataError, match=r"Column 'age': covariates must not be missing; 2 rows \(positions 2, 7\)"):
        balance(bad, "treat", ["age"])
    with pytest.raises(DataError, match=r"Column 'w': weights must be finite and >= 0; 1 row \(position 0\)"):
        balance(df.assign(w=np.r_[-1.0, np.ones(len(df) - 1)]), "treat", ["age"], weights="w")


def test_love_plot_returns_axes(df):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    b = balance(df, "treat", ["age", "educ"], weights=np.ones(len(df)))
    ax = b.plot()
    assert len(ax.get_yticklabels()) == 2
    plt.close("all")
