"""The fast paths of impact.survival give the numbers of the slow ones (issue 14, points 2 and 3).

Oracles:

* Kaplan-Meier / Aalen-Johansen: the clustered IJ variance (closed form for rows alone or in
  pairs, one sort for larger clusters) equals the sum over clusters of the squared cluster sums
  of the per-row influences (``influence()``, computed row by row at each time, independently of
  the variance code), for every mix of cluster sizes; whole-number durations (indexed by counting)
  give the curve of the same durations shifted off the integers (indexed by a sort).
* Fine-Gray: the forward-backward scan equals the fit on R's ``finegray`` expansion (the old
  way, a Cox model with delayed entry on the expanded rows) to rounding, for Efron and Breslow
  ties, weights, clusters and ties between events, competing exits and censorings. (The scan
  itself is checked against R in test_survival_reference.py.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impact._errors import DataError, ParameterError
from impact._validation import check_cluster, check_cluster_unordered
from impact.survival import CoxPH, FineGray, aalen_johansen, cox_zph, kaplan_meier


def _data(n: int = 400, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    g = rng.integers(0, 3, n)
    t1 = np.ceil(rng.exponential(40 * np.exp(-0.4 * x)))
    t2 = np.ceil(rng.exponential(60, n))
    c = rng.integers(5, 90, n).astype(float)
    dur = np.minimum(np.minimum(t1, t2), c)  # whole days: many ties of every kind
    cause = np.where(dur == c, 0, np.where(t1 <= t2, 1, 2))
    # clusters of 1, 2, 3 and 5 rows, labels in no order
    sizes = rng.choice([1, 2, 3, 5], size=n, p=[0.3, 0.4, 0.2, 0.1])
    lab = np.repeat(np.arange(sizes.size), sizes)[:n]
    lab = rng.permutation(lab.max() + 1)[lab]
    return pd.DataFrame({"dur": dur, "cause": cause, "event": (cause > 0).astype(int), "x": x,
                         "grp": np.array(["a", "b", "c"])[g], "w": rng.uniform(0.3, 2.5, n).round(4),
                         "cl": lab})


def _cluster_se(U: np.ndarray, cl: np.ndarray) -> np.ndarray:
    agg = pd.DataFrame(U).groupby(cl).sum().to_numpy()
    return np.sqrt((agg ** 2).sum(axis=0))


@pytest.mark.parametrize("clusters", ["mixed", "pairs", "pairs_and_singles", "singles", "large"])
def test_km_and_aj_clustered_se_equal_squared_cluster_sums_of_influence(clusters: str) -> None:
    d = _data()
    n = len(d)
    rng = np.random.default_rng(11)
    cl = {"mixed": d["cl"].to_numpy(), "pairs": rng.permutation(n) // 2,  # pairs scattered
          "pairs_and_singles": np.where(np.arange(n) < 150, 10_000 + np.arange(n), rng.permutation(n) // 2),
          "singles": np.arange(n), "large": np.arange(n) % 7}[clusters]
    times = [3.0, 10.0, 25.0, 50.0, 80.0]
    km = kaplan_meier(d["dur"], d["event"], weights=d["w"], cluster=cl)
    np.testing.assert_allclose(km.at(times)["se"], _cluster_se(km.influence(times), cl), rtol=1e-10)
    aj = aalen_johansen(d["dur"], d["cause"], weights=d["w"], cluster=cl)
    for cause in (1, 2, [1, 2]):
        np.testing.assert_allclose(aj.cif(cause, times)["se"],
                                   _cluster_se(aj.influence(cause, times), cl), rtol=1e-10)


def test_unclustered_se_equals_the_square_root_of_summed_squared_influence() -> None:
    d = _data(seed=1)
    times = [5.0, 20.0, 60.0]
    km = kaplan_meier(d["dur"], d["event"], weights=d["w"])
    np.testing.assert_allclose(km.at(times)["se"], np.sqrt((km.influence(times) ** 2).sum(axis=0)),
                               rtol=1e-10)
    # each row its own cluster, given explicitly, is the same variance
    km1 = kaplan_meier(d["dur"], d["event"], weights=d["w"], cluster=np.arange(len(d)))
    np.testing.assert_allclose(km1.table["se"], km.table["se"], rtol=1e-12)


def test_whole_number_durations_give_the_curve_of_shifted_durations() -> None:
    d = _data(seed=2)
    a = kaplan_meier(d["dur"], d["event"], weights=d["w"], cluster=d["cl"])
    b = kaplan_meier(d["dur"] - 0.5, d["event"], weights=d["w"], cluster=d["cl"])  # sorted path
    np.testing.assert_array_equal(a.table["time"] - 0.5, b.table["time"])
    cols = ["n_risk", "n_event", "survival", "se"]
    np.testing.assert_allclose(a.table[cols].to_numpy(), b.table[cols].to_numpy(), rtol=1e-12, atol=1e-15)
    c = aalen_johansen(d["dur"], d["cause"], weights=d["w"], cluster=d["cl"])
    e = aalen_johansen(d["dur"] - 0.5, d["cause"], weights=d["w"], cluster=d["cl"])
    np.testing.assert_allclose(c.cif(1)["se"], e.cif(1)["se"], rtol=1e-12, atol=1e-15)


def test_cluster_label_order_does_not_change_the_answer() -> None:
    d = _data(seed=3)
    rng = np.random.default_rng(5)
    relabel = rng.permutation(d["cl"].max() + 1)[d["cl"]]
    a = kaplan_meier(d["dur"], d["event"], weights=d["w"], cluster=d["cl"])
    b = kaplan_meier(d["dur"], d["event"], weights=d["w"], cluster=relabel)
    s = kaplan_meier(d["dur"], d["event"], weights=d["w"], cluster=("s" + d["cl"].astype(str)).to_numpy())
    np.testing.assert_allclose(a.table["se"], b.table["se"], rtol=1e-12)
    np.testing.assert_allclose(a.table["se"], s.table["se"], rtol=1e-12)


def test_check_cluster_unordered_codes_the_same_partition() -> None:
    lab = np.array([7, 3, 7, 900, 3, 5])  # a range within 4n + 1024: coded by the offset
    codes, n_codes = check_cluster_unordered(lab, 6)
    ref, gr = check_cluster(lab, 6)
    np.testing.assert_array_equal(codes, lab - 3)
    assert n_codes == 898 and gr == 4
    # the same partition as check_cluster's sorted codes
    assert len({(a, b) for a, b in zip(codes.tolist(), ref.tolist())}) == gr
    km = kaplan_meier(np.arange(1.0, 7.0), np.ones(6), cluster=lab)
    assert km.n_clusters == 4 and "clusters=4" in repr(km)
    aj = aalen_johansen(np.arange(1.0, 7.0), np.ones(6), cluster=lab)
    assert aj.n_clusters == 4
    s, gs = check_cluster_unordered(np.array(["b", "a", "b", "z", "a", "c"]), 6)
    assert gs == 4 and (s[0] == s[2]) and (s[1] == s[4]) and len(set(s.tolist())) == 4
    far, _ = check_cluster_unordered(np.array([0, 10**12, 0]), 3)  # a range too wide: hashed
    assert far[0] == far[2] != far[1]
    with pytest.raises(DataError, match=r"cluster labels must not be missing; 1 row \(position 1\)"):
        check_cluster_unordered(np.array([1.0, np.nan, 2.0]), 3)


# ---------------------------------------------------------------------------------------------
# Fine-Gray: the scan against the expansion
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("ties", ["efron", "breslow"])
@pytest.mark.parametrize("weights_col,cluster_col", [(None, None), ("w", None), ("w", "cl")])
def test_fine_gray_scan_equals_the_expanded_fit(ties: str, weights_col: str | None,
                                                cluster_col: str | None) -> None:
    d = _data(seed=4)
    for cause in (1, 2):
        new = FineGray(ties=ties).fit(d, "dur", "cause", cause, covariates=["x", "grp"],
                                      weights=weights_col, cluster=cluster_col)
        old = FineGray(ties=ties)._fit(d, "dur", "cause", cause, ["x", "grp"], weights_col,
                                       cluster_col, None, expand=True)
        assert old.n_extension_rows_ > len(d)  # the expansion is real work
        np.testing.assert_allclose(new.params_, old.params_, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(new.naive_cov_, old.naive_cov_, rtol=1e-10)
        np.testing.assert_allclose(new.cov_, old.cov_, rtol=1e-9)
        assert new.loglik_ == pytest.approx(old.loglik_, rel=1e-11)
        assert new.loglik_null_ == pytest.approx(old.loglik_null_, rel=1e-11)
        assert new.n_ == old.n_ and new.n_extension_rows_ == old.n_extension_rows_
        assert new.cov_type_ == old.cov_type_ == "cluster"


def test_fine_gray_without_competing_exits_is_the_cox_model() -> None:
    d = _data(seed=8)
    d = d.assign(cause=np.where(d["cause"] == 2, 0, d["cause"]))  # competing exits become censorings
    fg = FineGray().fit(d, "dur", "cause", 1, covariates=["x"], weights="w", causes=[1, 2])
    cox = CoxPH(robust=True).fit(d, "dur", "cause", covariates=["x"], weights="w")
    assert fg.n_extension_rows_ == 0
    np.testing.assert_allclose(fg.params_, cox.params_, rtol=1e-12)
    np.testing.assert_allclose(fg.naive_cov_, cox.naive_cov_, rtol=1e-12)
    np.testing.assert_allclose(fg.cov_, cox.cov_, rtol=1e-12)


def test_fine_gray_dfbeta_is_per_person_and_gives_the_robust_variance() -> None:
    d = _data(seed=6)
    fg = FineGray().fit(d, "dur", "cause", 1, covariates=["x"], weights="w")
    D = fg.dfbeta()
    assert D.shape == (len(d), 1)
    np.testing.assert_allclose(D.T @ D, fg.cov_.to_numpy(), rtol=1e-10)
    fc = FineGray().fit(d, "dur", "cause", 1, covariates=["x"], weights="w", cluster="cl")
    Dc = pd.DataFrame(fc.dfbeta()).groupby(d["cl"].to_numpy()).sum().to_numpy()
    np.testing.assert_allclose(Dc.T @ Dc, fc.cov_.to_numpy(), rtol=1e-10)


def test_cox_zph_refuses_a_fine_gray_fit() -> None:
    d = _data(seed=7)
    fg = FineGray().fit(d, "dur", "cause", 1, covariates=["x"])
    with pytest.raises(ParameterError, match="Fine-Gray"):
        cox_zph(fg)
    with pytest.raises(ParameterError, match="Fine-Gray"):
        fg.zph()
