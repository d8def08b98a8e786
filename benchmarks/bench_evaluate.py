"""``impact.evaluate`` on one row per person at register scale, timed stage by stage (issue 14, point 4).

Run:  OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_evaluate.py [--n-pool 1060000] [--no-memory]
          [--old-ref ddb5475] [--rounds 1]

The data: ``impact.synthetic.simulate(n_pool, participation=0.0525)`` (about 55.6k participants in
1.06M rows at the default size), evaluated with its own roles (nearest-neighbour matching on the
propensity logit, exact on gender, effects by gender with the naive comparison, influence-function
SEs, the unknown-exit sensitivity off: it is not part of a cross-sectional evaluate).

Each stage is the span between two calls of the evaluation's progress bar (validate, match,
outcomes, effects, naive comparison, ...): wall seconds and ``cpu_s``, the process's CPU seconds
(``time.process_time``), which other jobs on a shared machine disturb far less than wall time. Two runs: one timed (no tracing), one under
tracemalloc with the peak reset at each stage (so ``peak_mb`` is the most that stage held at
once on top of what was alive when it began; ``alive_mb`` is what was alive then). The machine
may be shared (2 cores, other jobs): the stage shares of the total are what count.

``--old-ref REF`` also times the library as it was at commit ``REF`` (its ``src`` exported by
``git archive`` into a temporary folder) on the same data: each round runs the new and the old
code in fresh subprocesses, in alternating order, and the table gets ``old_s`` and ``old / new``
(medians over rounds of the stage times and of the within-round ratios).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
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
        self.c0 = 0.0
        self.alive = 0

    def start(self, name: str) -> None:
        self.current = name
        if _Timer.trace:
            self.alive = tracemalloc.get_traced_memory()[0]
            tracemalloc.reset_peak()
        self.t0 = time.perf_counter()
        self.c0 = time.process_time()

    def done(self) -> None:
        dt = time.perf_counter() - self.t0
        row: dict[str, Any] = {"stage": self.current, "seconds": dt, "cpu_s": time.process_time() - self.c0}
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
        t0, c0 = time.perf_counter(), time.process_time()
        impact.evaluate(sim.registers, sim.roles, random_state=0, progress=False)
        total, cpu = time.perf_counter() - t0, time.process_time() - c0
        peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else float("nan")
    finally:
        if trace:
            tracemalloc.stop()
        E.Progress = old  # type: ignore[misc]  # restored
    # what runs between the stages (start periods, settings, the data's fingerprint)
    log = pd.DataFrame(_Timer.log)
    rest = {"stage": "between stages", "seconds": total - log["seconds"].sum(), "cpu_s": cpu - log["cpu_s"].sum()}
    if trace:
        rest.update(alive_mb=float("nan"), peak_mb=float("nan"))
    return pd.concat([log, pd.DataFrame([rest])], ignore_index=True), total, peak


def _child(pickled: str) -> None:
    """Time one evaluate on the pickled data and print the stage table as JSON (subprocess)."""
    import json
    import pickle

    with open(pickled, "rb") as fh:
        sim = pickle.load(fh)
    timed, total, _ = run(sim, trace=False)
    print(json.dumps({"stages": timed["stage"].tolist(), "seconds": timed["seconds"].tolist(),
                      "cpu": timed["cpu_s"].tolist(), "total": total}))


def compare(sim: Any, ref: str, rounds: int) -> tuple[pd.DataFrame, list[float], list[float]]:
    """Stage times of this tree's src and of ``ref``'s, in subprocesses, alternating."""
    import json
    import pickle
    import subprocess
    import tempfile
    from pathlib import Path

    here = Path(__file__).resolve().parent
    src_new = here.parent / "src"
    tmp = Path(tempfile.mkdtemp(prefix="bench_evaluate_"))
    arch = subprocess.run(["git", "archive", ref, "src"], cwd=here.parent, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tmp)], input=arch, check=True)
    pickled = tmp / "sim.pkl"
    with open(pickled, "wb") as fh:
        pickle.dump(sim, fh)
    res: dict[str, list[dict[str, Any]]] = {"new": [], "old": []}
    for r in range(rounds):
        for which in (("new", "old") if r % 2 == 0 else ("old", "new")):
            env = dict(os.environ, PYTHONPATH=str(src_new if which == "new" else tmp / "src"))
            out = subprocess.run([sys.executable, __file__, "--child", str(pickled)], env=env,
                                 capture_output=True, text=True, check=True).stdout
            res[which].append(json.loads(out.strip().splitlines()[-1]))
            print(f"  round {r + 1}: {which} {res[which][-1]['total']:.1f} s", file=sys.stderr, flush=True)
    stages = res["new"][0]["stages"]
    rows = []
    for k, st in enumerate(stages):
        new = [x["seconds"][k] for x in res["new"]]
        old = [x["seconds"][x["stages"].index(st)] if st in x["stages"] else float("nan") for x in res["old"]]
        new_c = [x["cpu"][k] for x in res["new"]]
        old_c = [x["cpu"][x["stages"].index(st)] if st in x["stages"] else float("nan") for x in res["old"]]
        rows.append({"stage": st, "new_s": float(pd.Series(new).median()), "old_s": float(pd.Series(old).median()),
                     "old / new": float(pd.Series([o / n for o, n in zip(old, new)]).median()),
                     "new_cpu_s": float(pd.Series(new_c).median()), "old_cpu_s": float(pd.Series(old_c).median()),
                     "old / new cpu": float(pd.Series([o / n for o, n in zip(old_c, new_c)]).median())})
    return pd.DataFrame(rows), [x["total"] for x in res["new"]], [x["total"] for x in res["old"]]


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        _child(sys.argv[2])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-pool", type=int, default=1_060_000)
    ap.add_argument("--participation", type=float, default=0.0525)
    ap.add_argument("--no-memory", action="store_true", help="skip the tracemalloc run")
    ap.add_argument("--old-ref", default=None, help="also time the src of this commit (subprocesses)")
    ap.add_argument("--rounds", type=int, default=1, help="rounds of the --old-ref comparison")
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
    if a.old_ref:
        cmp, tn, to = compare(sim, a.old_ref, a.rounds)
        print(f"\nthis tree against {a.old_ref} (fresh subprocesses, alternating, {a.rounds} round(s); "
              "medians; old / new: median of within-round ratios)")
        print(cmp.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
        print(f"total: new {statistics.median(tn):.1f} s, old {statistics.median(to):.1f} s, "
              f"old / new {statistics.median([o / n for o, n in zip(to, tn)]):.2f}")


if __name__ == "__main__":
    main()
