"""Diagnostic runs for the rows of simulate_coverage.py outside 93-97% (matching designs, earnings).

For the same data sets as the main run (replicate ``r`` is ``SeedSequence(seed, spawn_key=(r,))``),
each matching design on the fitted score (as the main table) and on the true participation
probability, and 2:1 on a pool with twice the controls (the extra controls are a second data
set's controls, independent): separates a standard error that ignores the estimation of the
score (Abadie and Imbens 2016) from a bias due to a thin pool of controls.

    OPENBLAS_NUM_THREADS=1 python benchmarks/_coverage_diag.py --reps 1000
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

import impact

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _coverage_dgp as dgp
import _coverage_run as cr


def one(rep: int, n: int, seed: int) -> pd.DataFrame:
    df = dgp.simulate(n, cr.seed_sequence(rep, seed))
    extra = dgp.simulate(n, cr.seed_sequence(rep, seed + 1))
    extra = extra[extra["treat"] == 0].assign(id=lambda d: d["id"] + n)
    big = pd.concat([df, extra], ignore_index=True)
    truth = dgp.truth()
    rows = []
    covs = ["x1", "x2", "x3", "gender"]
    for label, data, ratio, replace, distance in (
            ("1:1, fitted score", df, 1, False, "glm"), ("1:1, true score", df, 1, False, "true"),
            ("1:1 replace, fitted score", df, 1, True, "glm"), ("1:1 replace, true score", df, 1, True, "true"),
            ("2:1, fitted score", df, 2, False, "glm"), ("2:1, true score", df, 2, False, "true"),
            ("2:1, fitted score, pool x2", big, 2, False, "glm")):
        dist = dgp.true_score(data) if distance == "true" else "glm"
        m = impact.match(data, treatment="treat", covariates=covs, exact=["gender"], ratio=ratio, replace=replace,
                         id="id", random_state=0, distance=dist)
        tab = impact.estimate_effects(m, outcome="earnings", by="gender").summary()
        tab = tab[tab["estimand"] == "mean_diff"].set_index("subgroup")
        for g in cr.GROUPS:
            t = truth.value("earnings", g)
            r = tab.loc[g]
            rows.append(dict(rep=rep, design=label, group=g, truth=t, estimate=r["estimate"], se=r["se"],
                             covered=bool(r["ci_low"] <= t <= r["ci_high"])))
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--reps", type=int, default=1000)
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=20261202)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    t0 = time.perf_counter()
    df = pd.concat(Parallel(n_jobs=args.jobs)(delayed(one)(r, args.n, args.seed) for r in range(args.reps)),
                   ignore_index=True)
    g = df.groupby(["design", "group"], sort=False)
    tab = pd.DataFrame({"R": g.size(), "truth": g["truth"].first(), "bias": g["estimate"].mean() - g["truth"].first(),
                        "emp_sd": g["estimate"].std(), "mean_se": g["se"].mean(), "coverage": g["covered"].mean()})
    tab["bias_mcse"] = tab["emp_sd"] / np.sqrt(tab["R"])
    tab["se_over_sd"] = tab["mean_se"] / tab["emp_sd"]
    tab["cov_mcse"] = np.sqrt(tab["coverage"] * (1 - tab["coverage"]) / tab["R"])
    print(f"continuous outcome (earnings), R = {args.reps}, n = {args.n}, root seed {args.seed}, "
          f"{time.perf_counter() - t0:.0f} s")
    with pd.option_context("display.width", 200, "display.float_format", "{:.4f}".format):
        print(tab.to_string())


if __name__ == "__main__":
    main()
