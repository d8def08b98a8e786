"""Time the whole effect table for about 5,600 matched pairs, with a 500-replicate bootstrap.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_effects.py [--n-boot 500] [--jobs 2]

Target (issue 4): under 60 s on a 2-core machine. Each bootstrap replicate re-estimates the shares,
restricted means, the Cox and the Weibull AFT models (issue 9: every row it reports as "bootstrap"
is re-fitted); the Fine-Gray model is fitted once and keeps its sandwich SEs.
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import impact  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-boot", type=int, default=500)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--n-pool", type=int, default=38_000)
    args = ap.parse_args()
    sim = impact.simulate(args.n_pool, random_state=7)
    ev = impact.evaluate(sim.registers, sim.roles)
    data = ev.analysed
    n_pairs = int((data["participant"] == 1).sum())
    rows = []
    t0 = time.perf_counter()
    impact.estimate_effects(data, treatment="participant", by="gender")
    rows.append(("influence-function SEs (IJ, clustered)", time.perf_counter() - t0))
    t0 = time.perf_counter()
    impact.estimate_effects(data, treatment="participant", by="gender", se_method="bootstrap",
                            n_boot=args.n_boot, n_jobs=args.jobs, random_state=1)
    rows.append((f"bootstrap, {args.n_boot} replicates, {args.jobs} jobs", time.perf_counter() - t0))
    print(f"{n_pairs} matched pairs, all / women / men, horizons 90, 180, 365")
    print(f"{'effect table':45s} {'seconds':>8s}")
    for name, sec in rows:
        print(f"{name:45s} {sec:8.2f}")


if __name__ == "__main__":
    main()
