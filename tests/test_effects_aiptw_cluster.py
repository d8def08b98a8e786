"""Cluster-robust SEs of ``ate_competing(..., cluster=)``.

Oracles: R's riskRegression::ate fixture (tests/reference/aiptw.R) with one cluster per row (the
clustered variance is then the unclustered one, to 1e-6 against R); duplicating every row under its
own cluster id (estimates unchanged, clustered SE = the original SE exactly, the unclustered SE of
the doubled data = the original / sqrt(2)); a cluster bootstrap of a small clustered data set
(the clustered SE within Monte Carlo tolerance of the bootstrap SD, the row-independent SE not).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _mgus import FIX, mgus_frame

from impact import DataError
from impact.effects import ate_competing


@pytest.fixture(scope="module")
def mgus() -> pd.DataFrame:
    m = mgus_frame()
    return m.assign(person=np.arange(len(m)) + 1000)


def test_one_cluster_per_row_is_riskregression(mgus):
    ref = pd.read_csv(FIX / "aiptw_mgus2.csv", comment="#")
    ref = ref[(ref["scenario"] == "km_cause2") & (ref["estimator"] == "aiptw")]
    ref = ref.set_index(["arm", "horizon"]).sort_index()
    kw = dict(duration="etime", event="status", treatment="male", covariates=["age", "hgb"], horizons=[60, 120, 240],
              cause=2, censoring_covariates=[], ties="riskregression", estimator="aiptw")
    res = ate_competing(mgus, cluster="person", **kw)
    got = res.summary().set_index(["arm", "horizon"]).sort_index()
    for col in ("estimate", "se", "ci_low", "ci_high"):
        np.testing.assert_allclose(got[col], ref[col], rtol=0, atol=1e-6, err_msg=col)
    np.testing.assert_allclose(got["se"], ref["se"], rtol=1e-6)
    assert res.settings["cluster"] == "person" and res.settings["n_clusters"] == len(mgus)
    assert any("cluster-robust on 'person'" in n for n in res.notes)


def _small(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    a = rng.binomial(1, 1 / (1 + np.exp(-x)))
    l1, l2 = 0.5 * np.exp(0.6 * a + 0.5 * x), 0.3 * np.ones(n)
    t1, t2, c = rng.exponential(1 / l1), rng.exponential(1 / l2), rng.exponential(1 / 0.3, n)
    t = np.minimum.reduce([t1, t2, c])
    return pd.DataFrame({"t": t, "ev": np.select([t1 == t, t2 == t], [1, 2], 0), "a": a, "x": x,
                         "id": [f"p{i}" for i in range(n)]})


def test_duplicated_rows_under_their_own_cluster(mgus):
    df = _small(200, 4)
    kw = dict(duration="t", event="ev", treatment="a", covariates=["x"], horizons=[0.5, 1.5])
    one = ate_competing(df, **kw).summary()
    single = ate_competing(df, cluster="id", **kw).summary()
    pd.testing.assert_frame_equal(one, single)               # a cluster per row: today's SEs, bit for bit
    two = pd.concat([df, df], ignore_index=True)
    cl = ate_competing(two, cluster="id", **kw).summary()
    plain = ate_competing(two, **kw).summary()
    np.testing.assert_allclose(cl["estimate"], one["estimate"], rtol=0, atol=1e-12)
    # each row's influence halves and the pair sums to the original's: factor 1 (no G/(G-1) factor)
    np.testing.assert_allclose(cl["se"], one["se"], rtol=1e-10)
    np.testing.assert_allclose(plain["se"], one["se"] / np.sqrt(2), rtol=1e-10)


def _clustered(G: int, k: int, rng: np.random.Generator) -> pd.DataFrame:
    """Clusters of k rows sharing the treatment, a covariate and an unmodelled frailty."""
    fr = np.repeat(rng.normal(size=G), k)
    a = np.repeat(rng.binomial(1, 0.5, G), k)
    x = np.repeat(rng.normal(size=G), k)
    l1, l2 = 0.5 * np.exp(0.5 * a + 0.5 * x + 1.5 * fr), 0.3 * np.ones(G * k)
    t1, t2, c = rng.exponential(1 / l1), rng.exponential(1 / l2), rng.exponential(1 / 0.3, G * k)
    t = np.minimum.reduce([t1, t2, c])
    return pd.DataFrame({"t": t, "ev": np.select([t1 == t, t2 == t], [1, 2], 0), "a": a, "x": x,
                         "g": np.repeat(np.arange(G), k)})


def test_clustered_se_agrees_with_a_cluster_bootstrap():
    """60 clusters of 3, B = 100 cluster resamples (Monte Carlo SE of the bootstrap SD about 7%):
    the clustered SE is within 15% of the bootstrap SD; the row-independent SE is more than 15%
    below it (the rows of a cluster share an unmodelled frailty)."""
    G, k, B = 60, 3, 100
    rng = np.random.default_rng(2)
    df = _clustered(G, k, rng)
    kw = dict(duration="t", event="ev", treatment="a", covariates=["x"], censoring_covariates=[], horizons=[1.0],
              estimator="iptw")
    diff = "arm == 'treated - control'"
    se_cl = float(ate_competing(df, cluster="g", **kw).summary().query(diff)["se"].iloc[0])
    se_iid = float(ate_competing(df, **kw).summary().query(diff)["se"].iloc[0])
    boot = []
    for _ in range(B):
        rows = (rng.integers(0, G, G)[:, None] * k + np.arange(k)[None, :]).ravel()
        s = ate_competing(df.iloc[rows].reset_index(drop=True), **kw).summary().query(diff)
        boot.append(float(s["estimate"].iloc[0]))
    sd = float(np.std(boot, ddof=1))
    assert abs(se_cl / sd - 1) < 0.15, (se_cl, sd)
    assert se_iid / sd < 0.85, (se_iid, sd)


def test_cluster_column_is_checked(mgus):
    kw = dict(duration="etime", event="status", treatment="male", covariates=["age"], horizons=[60],
              estimator="gformula")
    bad = mgus.assign(person=mgus["person"].astype(float))
    bad.loc[[3, 7], "person"] = np.nan
    with pytest.raises(DataError, match="cluster labels must not be missing"):
        ate_competing(bad, cluster="person", **kw)
    with pytest.raises(Exception, match="nope"):
        ate_competing(mgus, cluster="nope", **kw)
