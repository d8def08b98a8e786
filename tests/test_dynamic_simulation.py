"""The dynamic design is unbiased over draws of the generator (a small, fast version of
``benchmarks/simulate_dynamic.py``, whose 200 draws of the bundled size are in docs/registers.md).

Oracle: the generator's exact truth (closed form per participant) over the participants the design
kept (``SyntheticExtract.truth_among``), averaged over the draws; the Monte Carlo SE is the SD of
the estimate-minus-truth over the draws divided by sqrt(draws). The design is the one
``impact.evaluate`` runs on a register extract (its defaults: join_vs_never with the censoring
weights; a test checks these are evaluate's defaults).
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest

import impact
from impact.pipeline._registers import effects_of, run_registers
from impact.synthetic import simulate_extract

DRAWS, PERSONS = 16, 2_000
GROUPS = (("all", 365.0), ("female", 365.0), ("male", 365.0), ("female", 90.0), ("male", 90.0))
#: impact.evaluate's defaults for a register extract
DESIGN = {"estimand": "join_vs_never", "covariates": None, "exact": None, "elapsed_band": 60, "elapsed_bands": 8,
          "caliper": 0.2, "ratio": 1, "reuse": "across_periods", "period": "month", "random_state": 0, "ipcw": True}


def _design(extract):
    parts = run_registers(extract, **DESIGN)
    eff = effects_of(parts["analysed"], "gender", parts["censoring"], horizons=(90, 365))
    return parts["analysed"], eff.summary()


@pytest.fixture(scope="module")
def errors():
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for seed in range(DRAWS):
            sim = simulate_extract(PERSONS, random_state=1000 + seed)
            analysed, table = _design(sim.extract)
            kept = analysed.loc[analysed["entering"] == 1, "person_id"]
            truth = sim.truth_among(kept).set_index(["estimand", "subgroup", "horizon"])["value"]
            est = table.set_index(["estimand", "subgroup", "horizon"])["estimate"]
            out.append([est[("share_diff", g, h)] - truth[("share_diff", g, h)] for g, h in GROUPS])
    return np.array(out)


def test_the_design_is_evaluates_default():
    params = inspect.signature(impact.evaluate).parameters
    for name, value in DESIGN.items():
        assert params[name].default == value, name


def test_the_mean_share_difference_is_within_three_monte_carlo_ses_of_the_truth(errors):
    bias = errors.mean(axis=0)
    mcse = errors.std(axis=0, ddof=1) / np.sqrt(len(errors))
    for (g, h), b, se in zip(GROUPS, bias, mcse):
        assert abs(b) < 3 * se, (g, h, b, se)
    # and the check can see a bias of the size of the effect: three Monte Carlo SEs are below the
    # pooled truth at a year (0.063) and the women's (0.081); the cross-sectional design on the
    # same generator has the wrong sign. Biases of 0.005 are the benchmark's to measure.
    assert 3 * mcse[0] < 0.04 and (3 * mcse < 0.06).all(), mcse
