"""Delayed entry in kaplan_meier / aalen_johansen and the few-times variance path (issue 14, point 2).

Oracles:

* ``entry=0`` is the estimator without entry (estimate, SE, influence);
* lifelines' ``KaplanMeierFitter(entry=)`` for the left-truncated product limit;
* the per-row influence is the derivative of the estimate in the row's weight (central finite
  differences), also at the last time where every row still at risk exits;
* splitting each person's follow-up into (0, cut], (cut, T] pieces, clustered on the person,
  gives the unsplit curve and its SE (the pieces are one person's risk interval);
* an independent implementation: the delayed-entry Aalen-Johansen ``impact.effects`` had
  before it became a wrapper (copied below as ``_reference_entry``; grid of event times only,
  risk sets by running sums, the influence in blocks of times);
* the SE at a few times (one bincount by cluster per time) equals the SE read off the
  quadratic form at every time (``.table`` / ``cif(times=None)``), and the square root of the
  summed squared cluster sums of ``influence()``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impact._errors import DataError, ParameterError
from impact.effects import aalen_johansen_entry
from impact.survival import aalen_johansen, kaplan_meier


def _reference_entry(start, stop, cause, weights, times, cluster=None):
    """The delayed-entry Aalen-Johansen of cause 1 as impact.effects computed it before (oracle)."""
    a, b, c, w = (np.asarray(v, dtype=float) for v in (start, stop, cause, weights))
    ts = np.atleast_1d(np.asarray(times, dtype=float))
    ev = c != 0
    grid = np.unique(b[ev])
    K = grid.size
    lo = np.searchsorted(grid, a, side="right")
    hi = np.searchsorted(grid, b, side="right")
    diff = np.zeros(K + 2)
    np.add.at(diff, lo + 1, w)
    np.add.at(diff, hi + 1, -w)
    n_risk = np.cumsum(diff)[1:K + 1]
    e_idx = hi[ev]
    d_all = np.bincount(e_idx, weights=w[ev], minlength=K + 1)[1:]
    d_1 = np.bincount(e_idx, weights=w[ev] * (c[ev] == 1), minlength=K + 1)[1:]
    h, hk = d_all / n_risk, d_1 / n_risk
    left = n_risk - d_all
    inv_left = np.where(left > 1e-12 * np.maximum(n_risk, 1.0), 1.0 / np.where(left > 0, left, 1), 0.0)
    inv_n = 1.0 / n_risk
    S = np.cumprod(1.0 - h)
    S_prev = np.r_[1.0, S[:-1]]
    F = np.cumsum(S_prev * hk)
    F0 = np.r_[0.0, F]
    G = np.r_[0.0, np.cumsum(S_prev * hk * inv_n)]
    C = np.r_[0.0, np.cumsum(inv_left * h)]
    D = np.r_[0.0, np.cumsum(inv_left * h * F)]
    Sp0 = np.r_[1.0, S_prev]
    J = np.searchsorted(grid, ts, side="right")
    e = np.where(ev, hi, 0)
    il = np.r_[0.0, inv_left][e]
    term = np.where(c == 1, Sp0[e] * np.r_[0.0, inv_n][e], 0.0)
    cl = np.clip(J[None, :], lo[:, None], hi[:, None])
    FJ = F0[J][None, :]
    U = -(G[cl] - G[lo][:, None]) + FJ * (C[cl] - C[lo][:, None]) - (D[cl] - D[lo][:, None])
    after = ev[:, None] & (J[None, :] >= e[:, None])
    U += after * (term[:, None] - FJ * il[:, None] + (il * F0[e])[:, None])
    U *= w[:, None]
    sums = U if cluster is None else pd.DataFrame(U).groupby(np.asarray(cluster)).sum().to_numpy()
    return F0[J], np.sqrt((sums ** 2).sum(axis=0)), U


def _cluster_se(U: np.ndarray, cl: np.ndarray) -> np.ndarray:
    agg = pd.DataFrame(U).groupby(cl).sum().to_numpy()
    return np.sqrt((agg ** 2).sum(axis=0))


@pytest.fixture(scope="module")
def pieces() -> dict[str, np.ndarray]:
    """Left-truncated rows, whole days (counting path) and their non-integer shift (sort path)."""
    rng = np.random.default_rng(11)
    n = 400
    a = rng.integers(0, 60, n).astype(float)
    b = a + rng.integers(1, 150, n)
    cause = np.where(rng.random(n) < 0.3, 0, rng.integers(1, 3, n))
    w = rng.uniform(0.4, 2.5, n).round(3)
    cl = rng.permutation(np.arange(n) // 2)  # pairs, scattered
    return {"a": a, "b": b, "cause": cause, "event": (cause > 0).astype(int), "w": w, "cl": cl}


@pytest.mark.parametrize("shift", [0.0, 0.25])
def test_entry_zero_is_the_estimator_without_entry(pieces, shift: float) -> None:
    b = pieces["b"] + shift
    ts = [10, 60.5, 120]
    kw = {"weights": pieces["w"], "cluster": pieces["cl"]}
    km0, km1 = kaplan_meier(b, pieces["event"], **kw), kaplan_meier(b, pieces["event"], entry=np.zeros(b.size), **kw)
    np.testing.assert_allclose(km1.at(ts).to_numpy(float), km0.at(ts).to_numpy(float), rtol=1e-12)
    np.testing.assert_allclose(km1.influence(ts), km0.influence(ts), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(km1.table.to_numpy(float), km0.table.to_numpy(float), rtol=1e-10, atol=1e-7)
    aj0 = aalen_johansen(b, pieces["cause"], **kw)
    aj1 = aalen_johansen(b, pieces["cause"], entry=np.zeros(b.size), **kw)
    np.testing.assert_allclose(aj1.cif(1, ts).to_numpy(float), aj0.cif(1, ts).to_numpy(float), rtol=1e-12)
    # every time: with entry the variance is a direct sum per time, without it the quadratic form,
    # which keeps about 8 digits of an SE where the variance is near 0 (cancellation in z'Qz)
    np.testing.assert_allclose(aj1.cif([1, 2]).to_numpy(float), aj0.cif([1, 2]).to_numpy(float), rtol=1e-10,
                               atol=1e-7)
    np.testing.assert_allclose(aj1.influence(2, ts), aj0.influence(2, ts), rtol=1e-12, atol=1e-15)


@pytest.mark.filterwarnings("ignore::lifelines.exceptions.StatisticalWarning")
def test_km_with_entry_matches_lifelines(pieces) -> None:
    lifelines = pytest.importorskip("lifelines")
    a, b, e, w = pieces["a"] + 0.5, pieces["b"], pieces["event"], pieces["w"]
    ts = [20.0, 60.0, 100.0, 150.0]
    fit = lifelines.KaplanMeierFitter().fit(b, e, entry=a, weights=w)
    km = kaplan_meier(b, e, weights=w, entry=a)
    np.testing.assert_allclose(km.at(ts)["survival"], fit.survival_function_at_times(ts).to_numpy(), atol=1e-12)
    # the risk set by hand at one time: rows with entry < t <= stop
    t = float(km.table["time"].iloc[40])
    np.testing.assert_allclose(km.table["n_risk"].iloc[40], w[(a < t) & (b >= t)].sum(), rtol=1e-12)


@pytest.mark.parametrize("kind", ["km", "aj"])
def test_entry_influence_is_the_weight_derivative(pieces, kind: str) -> None:
    a, b, w = pieces["a"], pieces["b"], pieces["w"]
    ts = np.array([30.0, 90.0, float(b.max())])  # the last: every row still at risk exits

    def est(ww: np.ndarray) -> np.ndarray:
        if kind == "km":
            return kaplan_meier(b, pieces["event"], weights=ww, entry=a).at(ts)["survival"].to_numpy()
        return aalen_johansen(b, pieces["cause"], weights=ww, entry=a).cif(1, ts)["estimate"].to_numpy()

    fit = (kaplan_meier(b, pieces["event"], weights=w, entry=a) if kind == "km"
           else aalen_johansen(b, pieces["cause"], weights=w, entry=a))
    U = fit.influence(ts) if kind == "km" else fit.influence(1, ts)
    rng = np.random.default_rng(3)
    rows = np.r_[rng.choice(b.size, 8, replace=False), np.flatnonzero(b == b.max())]
    for i in rows:
        up, dn = w.copy(), w.copy()
        up[i] *= 1 + 1e-6
        dn[i] *= 1 - 1e-6
        np.testing.assert_allclose((est(up) - est(dn)) / 2e-6, U[i], atol=2e-7)


def test_split_pieces_clustered_on_the_person_give_the_unsplit_curve(pieces) -> None:
    b, cause, w = pieces["b"], pieces["cause"], pieces["w"]
    n = b.size
    person = np.arange(n)
    cut = np.floor(b / 2)
    keep = cut > 0
    start = np.r_[np.zeros(n), cut[keep]]
    stop = np.r_[np.where(keep, cut, b), b[keep]]
    c2 = np.r_[np.where(keep, 0, cause), cause[keep]]
    ts = [15, 45, 100]
    ref = aalen_johansen(b, cause, weights=w, cluster=person)
    split = aalen_johansen(stop, c2, weights=np.r_[w, w[keep]], cluster=np.r_[person, person[keep]], entry=start)
    np.testing.assert_allclose(split.cif(1, ts).to_numpy(float), ref.cif(1, ts).to_numpy(float), rtol=1e-10)
    kref = kaplan_meier(b, cause > 0, weights=w, cluster=person)
    ksplit = kaplan_meier(stop, c2 > 0, weights=np.r_[w, w[keep]], cluster=np.r_[person, person[keep]], entry=start)
    np.testing.assert_allclose(ksplit.at(ts).to_numpy(float), kref.at(ts).to_numpy(float), rtol=1e-10)


@pytest.mark.parametrize("shift", [0.0, 0.37])
@pytest.mark.parametrize("clustered", [True, False])
def test_aalen_johansen_entry_wrapper_equals_the_former_implementation(pieces, shift: float, clustered: bool) -> None:
    a, b = pieces["a"] + shift, pieces["b"] + shift
    a[::7] = 0.0
    c = np.where(pieces["cause"] == 2, 3, pieces["cause"])  # any other code competes
    cl = pieces["cl"] if clustered else None
    ts = [0.0, 12.0, 50.5, 140.0, 1e4]
    est, se, U = aalen_johansen_entry(a, b, c, pieces["w"], ts, cl)
    e0, s0, U0 = _reference_entry(a, b, c, pieces["w"], ts, cl)
    np.testing.assert_allclose(est, e0, rtol=1e-12, atol=1e-15)
    # SE and influence before the last time (there the former one could lose digits when every row
    # still at risk exits: its running-sum risk set; the finite-difference test covers that time)
    np.testing.assert_allclose(se[:-1], s0[:-1], rtol=1e-10)
    np.testing.assert_allclose(U[:, :-1], U0[:, :-1], rtol=1e-9, atol=1e-13)
    np.testing.assert_allclose(se[-1], s0[-1], rtol=1e-3)
    est_only, se_nan, none = aalen_johansen_entry(a, b, c, pieces["w"], np.unique(b), influence=False)
    np.testing.assert_allclose(est_only, _reference_entry(a, b, c, pieces["w"], np.unique(b))[0], rtol=1e-12)
    assert np.isnan(se_nan).all() and none.shape == (b.size, 0)
    # no event at all: zeros, as before
    z = aalen_johansen_entry(a, b, np.zeros(b.size), pieces["w"], ts)
    assert not any(v.any() for v in z)


@pytest.mark.parametrize("clusters", ["pairs", "mixed", None])
def test_few_times_se_equals_the_quadratic_form_at_every_time(pieces, clusters) -> None:
    rng = np.random.default_rng(5)
    b = pieces["b"]
    cl = {"pairs": pieces["cl"], "mixed": rng.integers(0, 90, b.size), None: None}[clusters]
    km = kaplan_meier(b, pieces["event"], weights=pieces["w"], cluster=cl)
    ts = np.array([5.0, 33.0, 80.0, 150.0])
    few = km.at(ts)["se"].to_numpy()
    k = np.searchsorted(km.table["time"].to_numpy(), ts, side="right") - 1
    np.testing.assert_allclose(few, km.table["se"].to_numpy()[k], rtol=1e-10)
    ref = _cluster_se(km.influence(ts), np.arange(b.size) if cl is None else cl)
    np.testing.assert_allclose(few, ref, rtol=1e-10)
    aj = aalen_johansen(b, pieces["cause"], weights=pieces["w"], cluster=cl)
    for cause in (1, [1, 2]):
        few = aj.cif(cause, ts)["se"].to_numpy()
        every = aj.cif(cause)["se"].to_numpy()[k]
        np.testing.assert_allclose(few, every, rtol=1e-10)
        np.testing.assert_allclose(few, _cluster_se(aj.influence(cause, ts), np.arange(b.size) if cl is None else cl),
                                   rtol=1e-10)


def test_zero_weight_rows_keep_their_times() -> None:
    T = np.array([3.0, 5.0, 5.0, 8.0, 9.0])
    km = kaplan_meier(T, [1, 0, 1, 1, 0], weights=[1.0, 1.0, 1.0, 0.0, 1.0])
    assert km.table["time"].tolist() == [3.0, 5.0, 8.0, 9.0]
    assert km.table["n_risk"].tolist() == [4.0, 3.0, 1.0, 1.0]


@pytest.mark.parametrize("bad, pos, rule", [([-1.0, 0, 0, 0], 0, ">= 0"), ([0, 5.0, 0, 0], 1, "< 'duration'"),
                                            ([0, 0, np.nan, 0], 2, "missing")])
def test_bad_entry_is_named_with_its_rows(bad, pos: int, rule: str) -> None:
    T, e = np.array([2.0, 5.0, 7.0, 9.0]), [1, 0, 1, 1]
    for f in (lambda: kaplan_meier(T, e, entry=bad), lambda: aalen_johansen(T, e, entry=bad),
              lambda: aalen_johansen_entry(bad, T, e, times=[3])):
        with pytest.raises(DataError, match=rule) as err:
            f()
        assert list(err.value.positions) == [pos]
    with pytest.raises(ParameterError, match="same length"):
        aalen_johansen_entry([0, 0], T, e)


def test_restricted_means_are_refused_with_entry(pieces) -> None:
    km = kaplan_meier(pieces["b"], pieces["event"], entry=pieces["a"])
    aj = aalen_johansen(pieces["b"], pieces["cause"], entry=pieces["a"])
    for f in (lambda: km.rmst(50), lambda: km.rmst_influence(50), lambda: aj.rmtl(1, 50),
              lambda: aj.rmtl_influence(1, 50)):
        with pytest.raises(ParameterError, match="delayed entry"):
            f()


def test_lazily_derived_values_follow_a_replaced_result(pieces) -> None:
    """The table (and its SE) is made on first use; a dataclasses.replace copy makes its own."""
    import dataclasses

    km = kaplan_meier(pieces["b"], pieces["event"], weights=pieces["w"], cluster=pieces["cl"])
    t95 = km.table
    t50 = dataclasses.replace(km, conf_level=0.5).table
    np.testing.assert_allclose(t50["se"], t95["se"])
    assert (t50["ci_high"] - t50["ci_low"]).sum() < (t95["ci_high"] - t95["ci_low"]).sum()
    assert km.n_clusters == np.unique(pieces["cl"]).size
