"""The compiled clustered variance (impact.survival._kernels, numba) gives the numpy path's numbers.

From ``COMPILED_ROWS`` rows the standard errors of ``kaplan_meier(...).at`` and
``aalen_johansen(...).cif`` at a few times come from one compiled pass for all the times (the rows
radix-partitioned on their cluster code). Here the threshold is lowered to 1 so that small data take
that path, and the partition is forced to many small buckets. Oracles: R's survfit on rossi and mgus2
(the fixtures of test_survival_reference.py), and the numpy path (one bincount per time) on data with
clusters of 1, 2, 3 and 5 rows, weights, ties and delayed entry.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import impact.survival._common as common
from impact.survival import aalen_johansen, kaplan_meier

FIX = Path(__file__).parent / "reference" / "fixtures"


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(FIX / name, comment="#")


@pytest.fixture(params=["direct", "partitioned"])
def compiled(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Sends small data down the compiled path; the list counts the compiled calls."""
    import impact.survival._kernels as kernels

    calls: list[int] = []
    real = kernels.clustered_square_sums

    def spy(*args: object, **kwargs: object) -> np.ndarray:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(kernels, "clustered_square_sums", spy)
    monkeypatch.setattr(common, "COMPILED_ROWS", 1)
    if request.param == "partitioned":  # buckets of 2 cluster codes: every bucket boundary is crossed
        monkeypatch.setattr(kernels, "_DIRECT_BYTES", 0)
        monkeypatch.setattr(kernels, "_SHIFT", 1)
    return calls


def _data(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t1 = np.ceil(rng.exponential(40, n))
    t2 = np.ceil(rng.exponential(60, n))
    c = rng.integers(5, 90, n).astype(float)
    dur = np.minimum(np.minimum(t1, t2), c)
    cause = np.where(dur == c, 0, np.where(t1 <= t2, 1, 2))
    sizes = rng.choice([1, 2, 3, 5], size=n, p=[0.3, 0.4, 0.2, 0.1])
    lab = np.repeat(np.arange(sizes.size), sizes)[:n]
    lab = rng.permutation(lab.max() + 1)[lab]
    entry = np.floor(rng.uniform(0, 1, n) * (dur - 0.5)) * (rng.uniform(size=n) < 0.5)
    return pd.DataFrame({"dur": dur, "cause": cause, "event": (cause > 0).astype(int), "cl": lab,
                         "w": rng.uniform(0.3, 2.5, n).round(4), "entry": entry})


def test_km_at_matches_r_on_the_compiled_path(compiled: list[int]) -> None:
    rossi = _read("rossi.csv")
    ref = _read("survival_km.csv").query("variant == 'weighted_cluster'")
    km = kaplan_meier(rossi["week"], rossi["arrest"], weights=rossi["w"], cluster=rossi["clus"])
    times = ref["time"].to_numpy()[[2, 9, 17, 30]]
    got = km.at(times)
    exp = ref.set_index("time").loc[times]
    np.testing.assert_allclose(got["survival"], exp["surv"], atol=1e-10)
    np.testing.assert_allclose(got["se"], exp["se"], atol=1e-8)
    assert compiled, "the compiled path was not taken"


def test_aj_cif_matches_r_on_the_compiled_path(compiled: list[int]) -> None:
    m = _read("mgus2.csv")
    m["cause"] = m["event"].where(m["event"] != "censor", 0)
    ref_all = _read("survival_aj.csv").query("variant == 'weighted_cluster' and group == 'F'")
    d = m[m["sex"] == "F"]
    aj = aalen_johansen(d["etime"], d["cause"], weights=d["w"], cluster=d["clus"])
    for state in ("pcm", "death"):
        ref = ref_all[ref_all["state"] == state].iloc[[3, 40, 120]]
        got = aj.cif(state, ref["time"].to_numpy())
        np.testing.assert_allclose(got["estimate"], ref["pstate"], atol=1e-10)
        np.testing.assert_allclose(got["se"], ref["se"], atol=1e-8)


@pytest.mark.parametrize("with_entry", [False, True])
def test_compiled_equals_numpy_for_every_cluster_size(compiled: list[int], with_entry: bool,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    d = _data()
    entry = d["entry"] if with_entry else None
    times = [3.0, 10.0, 25.0, 50.0, 80.0]

    def run() -> tuple[np.ndarray, np.ndarray]:
        km = kaplan_meier(d["dur"], d["event"], weights=d["w"], cluster=d["cl"], entry=entry)
        aj = aalen_johansen(d["dur"], d["cause"], weights=d["w"], cluster=d["cl"], entry=entry)
        return km.at(times)["se"].to_numpy(), aj.cif([1, 2], times)["se"].to_numpy()

    km_c, aj_c = run()
    assert len(compiled) == 2
    monkeypatch.setattr(common, "COMPILED_ROWS", 10**12)
    km_n, aj_n = run()
    assert len(compiled) == 2
    assert np.all(km_n > 0) and np.all(aj_n > 0)
    np.testing.assert_allclose(km_c, km_n, rtol=1e-12)
    np.testing.assert_allclose(aj_c, aj_n, rtol=1e-12)


def test_compiled_path_does_not_depend_on_row_order(compiled: list[int]) -> None:
    d = _data(seed=3)
    perm = np.random.default_rng(5).permutation(len(d))
    a = kaplan_meier(d["dur"], d["event"], weights=d["w"], cluster=d["cl"]).at([10.0, 40.0])["se"]
    e = d.iloc[perm]
    b = kaplan_meier(e["dur"], e["event"], weights=e["w"], cluster=e["cl"]).at([10.0, 40.0])["se"]
    np.testing.assert_allclose(a.to_numpy(), b.to_numpy(), rtol=1e-12)


def test_curves_own_what_they_keep_and_never_write_into_the_inputs() -> None:
    """The checks read float64 durations without a copy (read-only); the curves keep their own
    weights and cluster codes, so changing the caller's arrays after the fit changes nothing."""
    d = _data(seed=4)
    T = d["dur"].to_numpy(dtype=np.float64).copy()
    E = d["event"].to_numpy().copy()
    C = d["cause"].to_numpy().copy()
    w = d["w"].to_numpy(dtype=np.float64).copy()
    cl = d["cl"].to_numpy(dtype=np.int64) - d["cl"].min()  # labels from 0: coded without an offset
    before = (T.copy(), w.copy(), cl.copy())
    km = kaplan_meier(T, E, weights=w, cluster=cl)
    aj = aalen_johansen(T, C, weights=w, cluster=cl)
    for a, b in zip((T, w, cl), before):
        np.testing.assert_array_equal(a, b)
    T[:] = 1.0
    w[:] = 7.0
    cl[:] = 0
    fresh = kaplan_meier(d["dur"], d["event"], weights=d["w"], cluster=d["cl"])
    fresh_aj = aalen_johansen(d["dur"], d["cause"], weights=d["w"], cluster=d["cl"])
    pd.testing.assert_frame_equal(km.table, fresh.table)  # built lazily, after the change
    pd.testing.assert_frame_equal(km.at([10.0, 40.0]), fresh.at([10.0, 40.0]))
    pd.testing.assert_frame_equal(aj.cif(1, [10.0, 40.0]), fresh_aj.cif(1, [10.0, 40.0]))
