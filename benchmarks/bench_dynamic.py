"""The dynamic (risk-set) design at Malmö and national scale: risk sets, matching, files to effects.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_dynamic.py                     # every size
    python benchmarks/bench_dynamic.py --sizes malmo 1m                          # some sizes
    python benchmarks/bench_dynamic.py --sizes malmo 1m --before /tmp/old/src    # + an older source tree

Each size runs in its own subprocess (so its peak memory is its own: ``ru_maxrss``), once per
source tree, the trees alternating, ``--rounds`` times (medians). Per size:

* the synthetic extract (``impact.synthetic.simulate_extract``, seed 1) is drawn once and cached
  as parquet under ``--cache`` (default ``/tmp/impact_bench_extract``); drawing it is not timed;
* ``risk_sets_s``: check the extract and stack the monthly risk sets
  (``risk_sets(extract).to_frame()``), plus the two columns the evaluation adds (benefit in the
  past 12 months, band of elapsed days);
* ``matching_s``: ``match_riskset`` exactly as ``impact.evaluate`` calls it (exact on month,
  gender and elapsed band, pooled logistic score on every history and person covariate, greedy
  nearest neighbour within 0.2 SD, controls reused across periods); ``score_s`` is the pooled
  logistic fit inside it (``_fit_glm``, timed by a wrapper);
* ``*_cpu_s``: the CPU time of the same steps (this process; with ``OPENBLAS_NUM_THREADS=1``
  and the joblib tasks in-process it is the wall time an idle machine would show, give or take);
* ``peak_gb``: the subprocess's peak resident memory; ``b_per_pm``: (peak - resident memory
  after loading the extract) / person-months, i.e. what the risk sets and the matching add;
* with ``--phases``: ``peak_<step>_gb``, the largest resident memory sampled (every 20 ms) while
  each step of :data:`PHASES` ran (risk sets, the score, the engine's checks and strata, the
  per-period matching, the result), and ``rss_after_extract_gb``: where the peak comes from;
* ``files_to_effects_s`` (Malmö only): ``impact.evaluate`` from the CSV files of an evaluation
  file (read, check, risk sets, matching, outcomes, effects for all, women and men; no
  sensitivity), the CSV files written beforehand (not timed).

Sizes: ``malmo`` 40,000 persons over 58 months, the programme's 30 months of risk sets; ``1m``
1,000,000 persons over 60 months, the programme's months; ``1m-all`` the same persons, a risk
set for every month of the 60; ``2m-all`` 2,000,000 persons, every month (about 20 million
person-months). The machine is shared: compare the trees within a run, not across runs.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: name -> (persons, months, a risk set for every month of the window rather than the programme's)
SIZES = {"malmo": (40_000, 58, False), "1m": (1_000_000, 60, False), "1m-all": (1_000_000, 60, True),
         "2m-all": (2_000_000, 60, True)}

TOML = """\
seed = 1
[registers]
persons = "persons.csv"
spells = "spells.csv"
programme = "programme.csv"
benefits = "benefits.csv"
cutoff = "2022-10-31"
[design]
method = "riskset"
estimand = "join_vs_never"
[outcomes]
horizons = [90, 180, 365]
[report]
out = "report"
"""


def _rss_bytes() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def cached_extract(n: int, months: int, cache: Path):
    """The synthetic extract of ``n`` persons over ``months`` months (seed 1), from the parquet cache."""
    import pandas as pd

    from impact.registers import RegisterExtract

    d = cache / f"{n}_{months}_1"
    if not (d / "done").exists():
        from impact.synthetic import simulate_extract

        e = simulate_extract(n, months=months, random_state=1).extract
        d.mkdir(parents=True, exist_ok=True)
        for name in ("persons", "spells", "programme"):
            getattr(e, name).to_parquet(d / f"{name}.parquet")
        for k, v in e.benefits.items():
            v.to_parquet(d / f"benefit_{k}.parquet")
        (d / "cutoff").write_text(str(e.cutoff.date()))
        (d / "done").write_text("1")
    ben = {p.stem[len("benefit_"):]: pd.read_parquet(p) for p in sorted(d.glob("benefit_*.parquet"))}
    return RegisterExtract(persons=pd.read_parquet(d / "persons.parquet"),
                           spells=pd.read_parquet(d / "spells.parquet"),
                           programme=pd.read_parquet(d / "programme.parquet"), benefits=ben,
                           cutoff=(d / "cutoff").read_text())


#: the steps whose peak resident memory ``--phases`` reports: (module, function)
PHASES = [("impact.registers._risksets", "RiskSets.to_frame"), ("impact.design._riskset", "_sorted_codes"),
          ("impact.design._riskset", "_lean_propensity"), ("impact.design._propensity", "_fit_glm"),
          ("impact.design._engine", "_check_missing"), ("impact.design._engine", "_strata"),
          ("impact.design._riskset", "_allocate_by_period"), ("impact.design._engine", "assemble")]


def _watch_phases() -> tuple[dict, "object"]:
    """Wrap the :data:`PHASES` functions and sample the resident memory every 20 ms in a thread:
    ``peaks[name]`` becomes the largest sample taken while ``name`` ran (nested calls count for
    each enclosing step). Returns ``(peaks, stop)``."""
    import functools
    import importlib
    import threading

    peaks: dict[str, int] = {}
    running: list[str] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            r = _rss_bytes()
            for name in list(running):
                peaks[name] = max(peaks.get(name, 0), r)
            done.wait(0.02)

    for mod_name, qual in PHASES:
        mod = importlib.import_module(mod_name)
        owner = mod
        *path, fn_name = qual.split(".")
        for part in path:
            owner = getattr(owner, part)
        fn = getattr(owner, fn_name, None)
        if fn is None:
            continue

        def wrapped(*a, __fn=fn, __name=qual, **k):  # type: ignore[no-untyped-def]
            running.append(__name)
            try:
                return __fn(*a, **k)
            finally:
                peaks[__name] = max(peaks.get(__name, 0), _rss_bytes())
                running.remove(__name)

        setattr(owner, fn_name, functools.wraps(fn)(wrapped))
        rs = importlib.import_module("impact.design._riskset")   # the names it imported, too
        if rs is not mod and getattr(rs, fn_name, None) is fn:
            setattr(rs, fn_name, getattr(owner, fn_name))
    threading.Thread(target=sample, daemon=True).start()
    return peaks, done


def one(size: str, cache: Path, phases: bool = False) -> dict:
    """One size in this process: the row of the table (with ``phases``, the peak resident memory
    of each step in :data:`PHASES` too, as ``peak_<step>_gb``)."""
    import gc

    import numpy as np
    import pandas as pd

    import impact.design._propensity as P
    import impact.design._riskset as RS
    from impact.design import match_riskset
    from impact.pipeline import _registers as R
    from impact.registers import risk_sets

    import joblib  # noqa: F401  (imported before the baseline: not part of what the design adds)
    import scipy.linalg  # noqa: F401
    import scipy.special  # noqa: F401

    n, months, every = SIZES[size]
    ext = cached_extract(n, months, cache)
    gc.collect()
    rss0 = _rss_bytes()
    fit_time = [0.0]
    fit = P._fit_glm

    def timed_fit(*a, **k):
        t0 = time.perf_counter()
        try:
            return fit(*a, **k)
        finally:
            fit_time[0] += time.perf_counter() - t0

    P._fit_glm = timed_fit
    if hasattr(RS, "_fit_glm"):
        RS._fit_glm = timed_fit
    watch = _watch_phases() if phases else None
    span = {}
    if every:
        span = {"first": (ext.cutoff.to_period("M") - (months - 1)).start_time, "last": ext.cutoff}
    c0, t0 = time.process_time(), time.perf_counter()
    panel = risk_sets(ext, **span).to_frame()
    panel = panel.rename(columns={"index_date": "start_date"}, copy=False)
    for b in ext.benefits:
        panel[f"{b}_any_12m"] = (panel[f"{b}_months_12m"] > 0).astype(np.int8)
    panel[R.BAND] = R._bands(panel["elapsed_days"], 60, 7).astype(np.int8)
    c1, t1 = time.process_time(), time.perf_counter()
    data = pd.DataFrame({k: v for k, v in panel.items() if k != "treated"}, copy=False)
    m = match_riskset(data, id=ext.columns.id, period="period", entry="entry", covariates=R._default_covariates(ext),
                      exact=[ext.columns.gender, R.BAND], estimand="join_vs_never", caliper=0.2, ratio=1,
                      reuse="across_periods", random_state=0)
    c2, t2 = time.process_time(), time.perf_counter()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    pm = len(panel)
    row = dict(size=size, persons=n, person_months=pm, participants=int(panel["treated"].sum()),
               matched_sets=int(m.matched_data["subclass"].nunique()), risk_sets_s=t1 - t0, matching_s=t2 - t1,
               score_s=fit_time[0], risk_sets_cpu_s=c1 - c0, matching_cpu_s=c2 - c1, us_per_pm=1e6 * (t2 - t0) / pm, peak_gb=peak / 1e9,
               b_per_pm=(peak - rss0) / pm)
    if watch is not None:
        peaks, stop = watch
        stop.set()  # type: ignore[attr-defined]
        row["rss_after_extract_gb"] = rss0 / 1e9
        for _, qual in PHASES:
            if qual in peaks:
                row[f"peak_{qual.split('.')[-1].lstrip('_')}_gb"] = peaks[qual] / 1e9
    if size == "malmo":
        del m, data, panel
        import impact
        from impact.pipeline import read_config, read_registers
        from impact.synthetic import write_extract
        from impact.synthetic._extract import SyntheticExtract

        folder = Path(tempfile.mkdtemp())
        write_extract(SyntheticExtract(extract=ext, truth=pd.DataFrame({"value": []})), folder)
        (folder / "eval.toml").write_text(TOML, encoding="utf-8")
        t0 = time.perf_counter()
        impact.evaluate(read_registers(read_config(folder / "eval.toml")), sensitivity=False)
        row["files_to_effects_s"] = time.perf_counter() - t0
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", nargs="+", default=list(SIZES), choices=list(SIZES))
    ap.add_argument("--before", help="another source tree (its src/ folder) to run alongside, e.g. main's")
    ap.add_argument("--before-sizes", nargs="+", default=None, choices=list(SIZES),
                    help="the sizes to run the other tree at (default: all of --sizes)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--cache", default="/tmp/impact_bench_extract")
    ap.add_argument("--phases", action="store_true",
                    help="also report the peak resident memory of each step (sampled every 20 ms)")
    ap.add_argument("--one", help=argparse.SUPPRESS)
    args = ap.parse_args()
    cache = Path(args.cache)
    if args.one:
        print(json.dumps(one(args.one, cache, args.phases)))
        return
    here = str(Path(__file__).resolve().parents[1] / "src")
    trees = [("after", here)] + ([("before", args.before)] if args.before else [])
    import pandas as pd

    rows = []
    for size in args.sizes:
        # draw and cache the extract first (not timed, not in the measured subprocess)
        subprocess.run([sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv[1]); import bench_dynamic as b; "
                        "from pathlib import Path; b.cached_extract(*b.SIZES[sys.argv[2]][:2], Path(sys.argv[3]))",
                        str(Path(__file__).parent), size, str(cache)],
                       check=True, env={**os.environ, "PYTHONPATH": here})
        got: dict[str, list[dict]] = {}
        for _ in range(args.rounds):
            for label, src in trees:
                if label == "before" and args.before_sizes is not None and size not in args.before_sizes:
                    continue
                out = subprocess.run([sys.executable, __file__, "--one", size, "--cache", str(cache)]
                                     + (["--phases"] if args.phases else []),
                                     capture_output=True, text=True, env={**os.environ, "PYTHONPATH": src})
                if out.returncode:
                    print(out.stderr[-2000:], file=sys.stderr)
                    continue
                got.setdefault(label, []).append(json.loads(out.stdout.strip().splitlines()[-1]))
                print(label, out.stdout.strip().splitlines()[-1], file=sys.stderr, flush=True)
        for label, runs in got.items():
            row = {"tree": label, **runs[0]}
            for k in runs[0]:
                if k.endswith(("_s", "_gb", "_pm")) and k != "person_months" and all(k in r for r in runs):
                    row[k] = statistics.median(r[k] for r in runs)
            rows.append(row)
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 250, "display.max_columns", 30, "display.float_format", "{:.2f}".format):
        print(table.to_string(index=False))
    print(f"\n{args.rounds} round(s), medians; machine: {os.cpu_count()} cores, OPENBLAS_NUM_THREADS="
          f"{os.environ.get('OPENBLAS_NUM_THREADS')}, load average {os.getloadavg()[0]:.1f} at the end (shared).")


if __name__ == "__main__":
    main()
