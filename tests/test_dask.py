"""The per-period matching of ``match_riskset`` and the bootstrap replicates of ``estimate_effects``
run through joblib, so ``joblib.parallel_config(backend="dask")`` spreads them over a Dask cluster.

Oracle: the answers with ``n_jobs=1`` (joblib runs the tasks one after the other in this process).
The same calls with ``n_jobs=2`` on joblib's default (loky) worker processes, and on a
``dask.distributed.LocalCluster`` of two single-threaded workers, must give the same matched sets
and the same effect table, value for value; the Dask runs must actually have gone through the
cluster (its task stream is not empty).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

try:
    import dask.distributed as dd
except ImportError:  # pragma: no cover - dask[distributed] is in the dev extras
    pytest.skip("dask[distributed] is not installed (pip install -e '.[dev]' installs it)", allow_module_level=True)

import joblib

from impact import estimate_effects
from impact.design import match_riskset
from impact.registers import outcomes_from_spells, risk_sets
from impact.synthetic import simulate_extract


@pytest.fixture(scope="module")
def client():
    """One in-process cluster for the module: two single-threaded workers, no dashboard."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # starting the cluster must not warn either
        cluster = dd.LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
        c = dd.Client(cluster)
    yield c
    c.close()
    cluster.close()


@pytest.fixture(scope="module")
def extract():
    return simulate_extract(1500, random_state=4).extract


@pytest.fixture(scope="module")
def panel(extract):
    p = risk_sets(extract).to_frame().rename(columns={"index_date": "start_date"})
    p["band"] = np.minimum(p["elapsed_days"].to_numpy() // 90, 4).astype(np.int8)
    return p.drop(columns=["treated"])


def _match(panel: pd.DataFrame, n_jobs: int):
    return match_riskset(panel, id="person_id", period="period", entry="entry",
                         covariates=["age", "elapsed_days", "days_registered_24m", "economic_assistance_months_12m",
                                     "born_abroad", "education"],
                         exact=["gender", "band"], estimand="join_vs_never", caliper=0.2, n_jobs=n_jobs)


def _analysed(extract, m) -> pd.DataFrame:
    """The matched sets with outcomes from each participant's start (as ``impact.evaluate`` does)."""
    md = m.matched_data.copy()
    own = md.loc[md["entering"] == 1].set_index("subclass")["start_date"]
    md["index_date"] = md["subclass"].map(own)
    out = outcomes_from_spells(extract, md, censor_at_entry=True, unregistered="keep")
    out = out.rename(columns={"event": "work_or_studies", "status": "event"})
    data = pd.concat([md.drop(columns=[c for c in out.columns if c in md.columns]), out], axis=1)
    whole = data["duration"].notna().groupby(data["subclass"]).transform("all").to_numpy(dtype=bool)
    data = data[whole].reset_index(drop=True)
    data["event"] = data["event"].astype(np.int64)
    return data


def _effects(data: pd.DataFrame, n_jobs: int) -> pd.DataFrame:
    return estimate_effects(data, treatment="entering", by=None, horizons=(180,), se_method="bootstrap",
                            n_boot=20, random_state=3, n_jobs=n_jobs, subdistribution=False).summary()


@pytest.fixture(scope="module")
def reference(extract, panel):
    m = _match(panel, 1)
    return m, _effects(_analysed(extract, m), 1)


def _same_match(a, b) -> None:
    pd.testing.assert_frame_equal(a.matched_data, b.matched_data)
    pd.testing.assert_frame_equal(a.matched_pairs, b.matched_pairs)
    pd.testing.assert_frame_equal(a.unmatched, b.unmatched)
    pd.testing.assert_frame_equal(a.flow.to_frame(), b.flow.to_frame())
    np.testing.assert_array_equal(a.weights, b.weights)


def test_reference_has_matches_in_many_periods(reference, panel):
    m, eff = reference
    assert m.matched_data["period"].nunique() > 10          # many tasks, not one
    assert (m.matched_data.groupby("subclass")["entering"].sum() == 1).all()
    boot = eff[eff["se_method"].str.contains("bootstrap")]
    assert len(boot) and boot["se"].gt(0).all()


def test_loky_two_workers_same_as_one(extract, panel, reference):
    m, eff = reference
    m2 = _match(panel, 2)
    _same_match(m, m2)
    pd.testing.assert_frame_equal(_effects(_analysed(extract, m2), 2), eff)


def test_dask_cluster_same_as_one(client, extract, panel, reference):
    m, eff = reference
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with dd.get_task_stream(client) as stream, joblib.parallel_config(backend="dask"):
            md = _match(panel, 2)
            data = _analysed(extract, md)
            ed = _effects(data, 2)
    assert len(stream.data) > 0                               # the tasks ran on the cluster
    _same_match(m, md)
    pd.testing.assert_frame_equal(ed, eff)


def test_evaluate_and_the_toml_file_take_n_jobs(tmp_path):
    """``evaluate(n_jobs=)`` and ``[design] n_jobs`` reach the per-period matching: the same answer
    with one worker and with two; a bad value is a named error."""
    import impact
    from impact.pipeline import read_config
    b = impact.synthetic.simulate_extract(n_persons=1500, random_state=5)
    one = impact.evaluate(b.extract, random_state=0, sensitivity=False, horizons=(180,))
    two = impact.evaluate(b.extract, random_state=0, sensitivity=False, horizons=(180,), n_jobs=2)
    pd.testing.assert_frame_equal(one.summary(), two.summary())
    with pytest.raises(impact.ParameterError, match="n_jobs"):
        impact.evaluate(b.extract, n_jobs=0)
    (tmp_path / "e.toml").write_text('[registers]\npersons = "p.csv"\nspells = "s.csv"\nprogramme = "g.csv"\n'
                                     'cutoff = "2022-10-31"\n[design]\nn_jobs = 2\n')
    assert read_config(tmp_path / "e.toml").evaluate_kwargs["n_jobs"] == 2
