"""Time the whole effect table for about 5,600 matched pairs, and the bootstrap on 1 and 2 workers.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_effects.py [--n-boot 500] [--jobs 2] [--scaling-boot 100]

Table 1 (issue 4): the effect table with influence-function SEs and with an ``n_boot``-replicate
bootstrap (target under 60 s on a 2-core machine). Each bootstrap replicate re-estimates the
shares, restricted means, the Cox and the Weibull AFT models; Fine-Gray is fitted once.

Table 2 (issue 14, point 7): the bootstrap replicates alone (``_bootstrap`` on the arrays the
effect table passes it) on 1 and on 2 workers, in alternating rounds with the same seeds: the
speed-up is the median of the within-round ratios; the answers must be identical. Also printed:
the time of one replicate, the bytes pickled per task (one task = a chunk of replicates; the
arrays, not DataFrames), and the first 2-worker call, which includes starting the workers and
importing impact in them. The machine may be shared (8 helpers on 2 cores): a 2-worker speed-up
near 2 needs an idle second core; compare the ratios measured in one run.
"""

from __future__ import annotations

import argparse
import os
import pickle
import statistics
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import impact  # noqa: E402


def scaling(data, n_boot: int, rounds: int) -> None:  # type: ignore[no-untyped-def]
    import impact.effects._effects as E
    from impact._validation import spawn_seeds

    horizons = (90.0, 180.0, 365.0)
    a = E._arrays(data, "duration", "event", "participant", None, "subclass")
    groups = [(n, m, None) for n, m in E._groups(data, ["gender"], "participant", []).groups]
    keys = list(E._point_estimates(a, a["w"], groups, horizons))
    seeds = spawn_seeds(1, 10)
    task_bytes = len(pickle.dumps((a, groups, horizons, seeds, keys)))
    t0 = time.perf_counter()
    E._replicates(a, groups, horizons, seeds, keys)
    per_rep = (time.perf_counter() - t0) / len(seeds)
    t0 = time.perf_counter()
    first = E._bootstrap(a, groups, horizons, n_boot, 1, 2, False)
    t_first = time.perf_counter() - t0
    times: dict[int, list[float]] = {1: [], 2: []}
    out: dict[int, np.ndarray] = {2: first[1]}
    for r in range(rounds):
        for jobs in ((1, 2) if r % 2 == 0 else (2, 1)):
            t0 = time.perf_counter()
            out[jobs] = E._bootstrap(a, groups, horizons, n_boot, 1, jobs, False)[1]
            times[jobs].append(time.perf_counter() - t0)
    ratios = [t1 / t2 for t1, t2 in zip(times[1], times[2])]
    same = bool(np.array_equal(out[1], out[2], equal_nan=True))
    print(f"\nBootstrap replicates alone: {n_boot} replicates, {len(data)} rows, {rounds} rounds "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"{'one replicate (in process)':45s} {per_rep:8.3f} s")
    print(f"{'bytes pickled per task (10 replicates)':45s} {task_bytes:8d}")
    print(f"{'first 2-worker call (starts the workers)':45s} {t_first:8.2f} s")
    print(f"{'1 worker, median':45s} {statistics.median(times[1]):8.2f} s")
    print(f"{'2 workers, median':45s} {statistics.median(times[2]):8.2f} s")
    print(f"{'speed-up 1 -> 2 workers (median of rounds)':45s} {statistics.median(ratios):8.2f} x")
    print(f"{'identical replicates for n_jobs 1 and 2':45s} {same!s:>8s}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-boot", type=int, default=500)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--n-pool", type=int, default=38_000)
    ap.add_argument("--scaling-boot", type=int, default=100, help="replicates in table 2 (0: skip it)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-table", action="store_true", help="only table 2")
    args = ap.parse_args()
    sim = impact.simulate(args.n_pool, random_state=7)
    ev = impact.evaluate(sim.registers, sim.roles)
    data = ev.analysed
    n_pairs = int((data["participant"] == 1).sum())
    if not args.no_table:
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
    if args.scaling_boot:
        scaling(data, args.scaling_boot, args.rounds)


if __name__ == "__main__":
    main()
