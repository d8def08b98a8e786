"""Truth recovery: run the whole design (validate, match, estimate) on many synthetic data sets.

Prints, for each estimand and subgroup, the mean true value, the bias, the bias in units of the
mean standard error, the empirical SD of the estimates against the mean SE, and the coverage of
the 95% interval. Hazard ratios are compared on the log scale.

    OPENBLAS_NUM_THREADS=1 python benchmarks/simulate_coverage.py --reps 200 --n-pool 8000
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402

import impact  # noqa: E402

ESTIMANDS = [("share_diff", 90.0), ("share_diff", 180.0), ("share_diff", 365.0), ("rmst_diff", 365.0),
             ("hazard_ratio", np.nan)]


def one(seed: int, n_pool: int) -> pd.DataFrame:
    sim = impact.simulate(n_pool, random_state=seed)
    ev = impact.evaluate(sim.registers, sim.roles, random_state=0)
    eff = ev.effects.summary()
    rows = []
    for est, h in ESTIMANDS:
        for g in ("all", "female", "male"):
            sel = eff[(eff["estimand"] == est) & (eff["subgroup"] == g)]
            if np.isfinite(h):
                sel = sel[sel["horizon"] == h]
            if sel.empty:
                continue
            r = sel.iloc[0]
            truth = sim.true_value(est, g, None if np.isnan(h) else h)
            if est == "hazard_ratio":
                e, lo, hi, t = np.log(r.estimate), np.log(r.ci_low), np.log(r.ci_high), np.log(truth)
            else:
                e, lo, hi, t = r.estimate, r.ci_low, r.ci_high, truth
            rows.append(dict(seed=seed, estimand=est, horizon=h, subgroup=g, truth=t, estimate=e, se=r.se,
                             covered=bool(lo <= t <= hi)))
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--n-pool", type=int, default=8000)
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args()
    t0 = time.perf_counter()
    results = Parallel(n_jobs=args.jobs)(delayed(one)(1000 + s, args.n_pool) for s in range(args.reps))
    df = pd.concat(results, ignore_index=True)
    g = df.groupby(["estimand", "horizon", "subgroup"], dropna=False, sort=False)
    table = pd.DataFrame({
        "reps": g.size(),
        "truth": g["truth"].mean(),
        "bias": g["estimate"].mean() - g["truth"].mean(),
        "mean_se": g["se"].mean(),
        "sd_est": g["estimate"].std(),
        "coverage": g["covered"].mean(),
    })
    table["bias_over_se"] = table["bias"] / table["mean_se"]
    # Monte Carlo SE of the coverage, so the reader can judge 93-97%
    table["coverage_mcse"] = np.sqrt(table["coverage"] * (1 - table["coverage"]) / table["reps"])
    with pd.option_context("display.width", 200, "display.float_format", "{:.4f}".format):
        print(f"{args.reps} data sets of {args.n_pool} people, {time.perf_counter() - t0:.0f} s")
        print("hazard_ratio rows are on the log scale")
        print(table.to_string())


if __name__ == "__main__":
    main()
