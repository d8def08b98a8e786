"""Time and peak memory of building the risk sets of a register extract, period by period.

Run:  OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_registers.py [--sizes malmo,200k,1m]

For each size, a synthetic extract (``impact.synthetic.simulate_extract``) is drawn, then
``impact.registers.risk_sets(extract)`` is built and every period's DataFrame is made and dropped
(streaming: nothing keeps all person-months). Reported: the extract (persons, spells, benefit
months, participants), the person-months at risk, the time to check the extract and build every
period, that time per person-month, and the peak memory of the build (tracemalloc's peak of
allocations made during a second, traced run, on top of the extract; numpy and pandas included)
with the largest single period for scale. By default the periods are the programme's 30 months;
``1m-all`` builds every month of the 60-month window.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import time
import tracemalloc

from impact.registers import risk_sets
from impact.synthetic import simulate_extract

#: name -> (persons, months, risk sets over every month of the window rather than the programme's 30)
SIZES = {"malmo": (40_000, 58, False), "200k": (200_000, 58, False), "1m": (1_000_000, 60, False),
         "1m-all": (1_000_000, 60, True)}


def build(extract, first=None, last=None) -> tuple[int, int, int]:
    rs = risk_sets(extract, first=first, last=last)
    rows = largest = treated = 0
    for frame in rs:
        rows += len(frame)
        largest = max(largest, len(frame))
        treated += int(frame["treated"].sum())
    return rows, largest, treated


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="malmo,200k,1m,1m-all")
    args = ap.parse_args()
    print(f"{'size':>6} {'persons':>9} {'months':>6} {'spells':>9} {'benefit':>9} {'particip':>8} "
          f"{'periods':>7} {'pers-mon':>10} {'gen s':>6} {'build s':>7} {'us/pm':>6} {'peak MB':>8} "
          f"{'B/pm':>6} {'max per':>8}")
    for key in args.sizes.split(","):
        n, months, every = SIZES[key]
        t0 = time.perf_counter()
        sim = simulate_extract(n, months=months, random_state=1)
        gen = time.perf_counter() - t0
        e = sim.extract
        span = {}
        if every:
            span = {"first": (e.cutoff.to_period("M") - (months - 1)).start_time, "last": e.cutoff}
        t0 = time.perf_counter()
        rows, largest, _ = build(e, **span)
        took = time.perf_counter() - t0
        tracemalloc.start()
        build(e, **span)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        n_periods = len(risk_sets(e, **span))
        n_ben = sum(len(b) for b in e.benefits.values())
        print(f"{key:>6} {n:>9,} {months:>6} {len(e.spells):>9,} {n_ben:>9,} {len(e.programme):>8,} "
              f"{n_periods:>7} {rows:>10,} {gen:>6.1f} {took:>7.2f} {1e6 * took / rows:>6.2f} "
              f"{peak / 2**20:>8.0f} {peak / rows:>6.1f} {largest:>8,}", flush=True)
        del sim, e


if __name__ == "__main__":
    main()
