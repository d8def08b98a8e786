"""``impact.evaluate`` on one row per person at register scale, timed stage by stage (issue 14, point 4).

Run:  OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_evaluate.py [--n-pool 1060000] [--no-memory]

The data: ``impact.synthetic.simulate(n_pool, participation=0.0525)`` (about 55.6k participants in
1.06M rows at the default size), evaluated with its own roles (nearest-neighbour matching on the
propensity logit, exact on gender, effects by gender with the naive comparison, influence-function
SEs, the unknown-exit sensitivity off: it is not part of a cross-sectional evaluate).

Each stage is the span between two calls of the evaluation's progress bar (validate, match,
outcomes, effects, naive comparison, ...). Two runs: one timed (no tracing), one under
tracemalloc with the peak reset at each stage (so ``peak_mb`` is the most that stage held at
once on top of what was alive when it began; ``alive_mb`` is what was alive then). The machine
may be shared (2 cores, other jobs): the stage shares of the total are what count.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from typing import Any  # noqa: E402

import pandas as pd  # noqa: E402


class _Timer:
    """Stands in for the pipeline's progress bar and records when each stage starts and ends."""

    log: list[dict[str, Any]] = []
    trace = False

    def __init__(self, enabled: bool, steps: Any) -> None:
        self.current: str | None = None
        self.t0 = 0.0
        self.alive = 0

    def start(self, name: str) -> None:
        self.current = name
        if _Timer.trace:
            self.alive = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
        self.t0 = time.perf_counter()

    def done(self) -> None:
        dt = time.perf_counter() - self.t0
        row: dict[str, Any] = {"stage": self.current, "seconds": dt}
        if _Timer.trace:
            cur, peak = tracemalloc.get_traced_memory()
            row.update(alive_mb=self.alive / 2**20, peak_mb=(peak - self.alive) / 2**20)
        _Timer.log.append(row)
        self.current = None

    def close(self) -> None:
        pass


def run(sim: Any, trace: bool) -> tuple[pd.DataFrame, float, float]:
    import impact
    import impact.pipeline._evaluate as E

    _Timer.log = []
    _Timer.trace = trace
    old = E.Progress
    E.Progress = _Timer  # type: ignore[misc,assignment]  # the benchmark's stage timer
    try:
        if trace:
            tracemalloc.start()
        t0 = time.perf_counter()
        impact.evaluate(sim.registers, sim.roles, random_state=0, progress=False)
        total = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else float("nan")
    finally:
        if trace:
            tracemalloc.stop()
        E.Progress = old  # type: ignore[misc]  # restored
    return pd.DataFrame(_Timer.log), total, peak


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-pool", type=int, default=1_060_000)
    ap.add_argument("--participation", type=float, default=0.0525)
    ap.add_argument("--no-memory", action="store_true", help="skip the tracemalloc run")
    a = ap.parse_args()
    import impact

    t0 = time.perf_counter()
    sim = impact.simulate(a.n_pool, random_state=0, participation=a.participation)
    t_sim = time.perf_counter() - t0
    part = int(sim.registers[sim.roles.treatment].sum())
    print(f"simulate: {len(sim.registers):,} rows, {part:,} participants ({t_sim:.1f} s, not counted)",
          file=sys.stderr, flush=True)
    timed, total, _ = run(sim, trace=False)
    table = timed.copy()
    table["share"] = table["seconds"] / total
    if not a.no_memory:
        traced, total_traced, peak = run(sim, trace=True)
        table["seconds_traced"] = traced["seconds"].to_numpy()
        table["alive_mb"] = traced["alive_mb"].to_numpy()
        table["peak_mb"] = traced["peak_mb"].to_numpy()
    pd.set_option("display.width", 200)
    print(f"\nimpact.evaluate, {len(sim.registers):,} rows, {part:,} participants "
          f"(OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, shared machine: compare shares)")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    print(f"total {total:.1f} s" + ("" if a.no_memory else
                                    f"; tracemalloc peak of the whole call {peak:,.0f} MB (traced run {total_traced:.1f} s)"))


if __name__ == "__main__":
    main()
