"""Time and peak memory of greedy 1:1 caliper matching, exact on gender, once the score is known.

Run:  OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_matching.py [--no-r] [--sizes small]

Compares, in the same run and on the same data:
* ``impact.match(..., distance="score", caliper=0.2, exact=["gender"], id="pid")``;
* the floor: a bare numpy sort-and-sweep (argsort the controls, searchsorted the treated, a
  union-find "next free control" sweep in decreasing score order), no checks, no result object;
* MatchIt via Rscript when R and MatchIt are installed (time inside R; peak memory = max RSS of
  the R process). Debian's MatchIt 4.5.1 has the abs() bug: it ignores the caliper, so it does
  the *same* sweep without ever rejecting a candidate; its time is still the relevant cost.
* psmpy and causallib when a Python that has them is given (``--other-python``, default
  ``/tmp/benchvenv/bin/python`` if it exists; they are never dependencies of impact): each runs in
  a subprocess under an address-space limit (``--mem-limit-gb``, default 4) so that the dense
  treated x controls matrices they build fail with MemoryError instead of swapping the machine.
  Both are given the same known score and caliper width and run once per gender stratum (neither
  has exact matching). psmpy: ``PsmPy.kdtree_matched(matcher="propensity_score",
  caliper=width)``, a KD-tree query of *every* control for each treated unit. causallib:
  ``Matching(metric="euclidean", caliper=width, with_replacement=False)``, a dense distance
  matrix and an optimal assignment (not greedy; the caliper is applied after the assignment), so
  its pair count differs. Their time is the matching call (psmpy) or fit + match (causallib);
  peak memory is the child's max RSS, imports included.

Peak memory for impact and the floor is tracemalloc's peak of allocations made during the call
(numpy arrays included), on top of the input DataFrame.

A second table gives the growth curve: impact.match and the floor at 1% treated over pools of
10k to 2M controls, with time / (n log2 n).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import shutil  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

SIZES = [(1_000, 10_000), (5_600, 100_000), (10_000, 1_000_000)]
CURVE = [10_000, 30_000, 100_000, 300_000, 1_000_000, 2_000_000]
DEFAULT_OTHER = "/tmp/benchvenv/bin/python"

CHILD_CODE = r"""
import resource, sys, time, warnings
import numpy as np, pandas as pd
impl, path, width, limit = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
resource.setrlimit(resource.RLIMIT_AS, (int(limit * 2**30), int(limit * 2**30)))
warnings.simplefilter("ignore")
d = pd.read_parquet(path) if path.endswith(".parquet") else pd.read_pickle(path)
try:
    total, pairs = 0.0, 0
    for g in (0, 1):
        s = d[d["gender"] == g].reset_index(drop=True)
        if impl == "psmpy":
            from psmpy import PsmPy
            psm = PsmPy(s[["pid", "treat", "score"]], treatment="treat", indx="pid")
            psm.predicted_data = s[["pid", "score", "treat"]].assign(
                propensity_score=s["score"], propensity_logit=np.log(s["score"] / (1 - s["score"])))
            t0 = time.perf_counter()
            psm.kdtree_matched(matcher="propensity_score", replacement=False, caliper=width)
            total += time.perf_counter() - t0
            pairs += int(psm.matched_ids["matched_ID"].notna().sum())
        else:
            from causallib.estimation import Matching
            X = s[["score"]]
            a = s["treat"]
            m = Matching(metric="euclidean", caliper=width, with_replacement=False,
                         matching_mode="control_to_treatment")
            t0 = time.perf_counter()
            m.fit(X, a, a.astype(float))
            md = m.match(X, a)
            total += time.perf_counter() - t0
            mm = md.loc[0]["matches"]
            pairs += int(mm[a[mm.index] == 1].map(len).gt(0).sum())
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"OK {total:.4f} {rss:.1f} {pairs}")
except MemoryError:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"OOM nan {rss:.1f} nan")
"""


def run_other(impl: str, df: pd.DataFrame, width: float, python: str, limit_gb: float,
              timeout: float) -> tuple[str, float, float, float]:
    """Run psmpy or causallib in a child process with an address-space limit."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "d.pkl")
        df.to_pickle(path)
        try:
            res = subprocess.run([python, "-c", CHILD_CODE, impl, path, repr(width), str(limit_gb)],
                                 capture_output=True, text=True, timeout=timeout,
                                 env={**os.environ, "OPENBLAS_NUM_THREADS": "1"})
        except subprocess.TimeoutExpired:
            return f"timeout (> {timeout:g} s)", np.nan, np.nan, np.nan
    line = next((x for x in res.stdout.splitlines() if x.startswith(("OK", "OOM"))), None)
    if line is None:
        err = (res.stderr.strip().splitlines() or ["failed"])[-1]
        return ("out of memory" if "MemoryError" in res.stderr or "Unable to allocate" in err
                else f"error: {err[:60]}"), np.nan, np.nan, np.nan
    status, sec, rss, pairs = line.split()
    return ("ok" if status == "OK" else "out of memory"), float(sec), float(rss), float(pairs)


def make_data(n_t: int, n_c: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_t + n_c
    treat = np.r_[np.ones(n_t, dtype=np.int8), np.zeros(n_c, dtype=np.int8)]
    gender = rng.integers(0, 2, n).astype(np.int8)
    lin = rng.normal(0, 1, n) + 1.0 * treat - 3.5
    score = 1 / (1 + np.exp(-lin))
    return pd.DataFrame({"pid": rng.permutation(n).astype(np.int64), "treat": treat,
                         "gender": gender, "score": score})


def floor_match(score: np.ndarray, treat: np.ndarray, gender: np.ndarray, caliper: float
                ) -> np.ndarray:
    """Bare numpy greedy 1:1 caliper matching within gender: argsort + sweep.

    Returns the (treated row, control row) pairs; no checks, no tie rule, no result object.
    """
    width = caliper * score.std(ddof=1)
    out_t: list[int] = []
    out_c: list[int] = []
    for g in (0, 1):
        c_rows = np.flatnonzero((treat == 0) & (gender == g))
        t_rows = np.flatnonzero((treat == 1) & (gender == g))
        o = np.argsort(score[c_rows])
        c_rows = c_rows[o]
        cs = score[c_rows]
        t_rows = t_rows[np.argsort(-score[t_rows])]
        ts = score[t_rows]
        ins = np.searchsorted(cs, ts).tolist()
        left: dict[int, int] = {}
        right: dict[int, int] = {}
        nc = len(cs)
        for ti, t, i in zip(t_rows.tolist(), ts.tolist(), ins):
            j = i - 1
            while j in left:
                j = left[j]
            k = i
            while k in right:
                k = right[k]
            dl = t - cs[j] if j >= 0 else np.inf
            dr = cs[k] - t if k < nc else np.inf
            jj, d = (j, dl) if dl <= dr else (k, dr)
            if d <= width:
                left[jj] = jj - 1
                right[jj] = jj + 1
                out_t.append(ti)
                out_c.append(int(c_rows[jj]))
    return np.column_stack([out_t, out_c])


def measure(fn):
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, dt, peak / 2**20


def timed_best(fn, repeat: int):
    """Best of ``repeat`` wall times (no tracemalloc: it slows allocation), then one traced run."""
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    _, _, peak = measure(fn)
    return out, best, peak


R_CODE = r"""
suppressPackageStartupMessages(library(MatchIt))
args <- commandArgs(TRUE)
d <- read.csv(args[1])
t0 <- proc.time()[["elapsed"]]
m <- matchit(treat ~ gender, data = d, distance = d$score, caliper = 0.2, exact = ~gender,
             method = "nearest")
el <- proc.time()[["elapsed"]] - t0
cat(sprintf("%.4f %d\n", el, sum(!is.na(m$match.matrix[, 1]))))
"""


def run_matchit(df: pd.DataFrame) -> tuple[float, float, int] | None:
    if shutil.which("Rscript") is None:
        return None
    ok = subprocess.run(["Rscript", "-e", "quit(status = !requireNamespace('MatchIt', quietly=TRUE))"],
                        capture_output=True)
    if ok.returncode != 0:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        csv = os.path.join(tmp, "d.csv")
        rfile = os.path.join(tmp, "m.R")
        df[["treat", "gender", "score"]].to_csv(csv, index=False, float_format="%.17g")
        with open(rfile, "w") as fh:
            fh.write(R_CODE)
        timev = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)
        cmd = ([timev, "-f", "MAXRSS %M"] if timev else []) + ["Rscript", rfile, csv]
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            return None
        el, n = res.stdout.split()[:2]
        rss = float("nan")
        for line in res.stderr.splitlines():
            if line.startswith("MAXRSS"):
                rss = float(line.split()[1]) / 1024
        return float(el), rss, int(n)


def riskset_panel(n: int = 200_000, n_part: int = 5_600, periods: int = 36, seed: int = 0
                  ) -> pd.DataFrame:
    """A pool of ``n`` job seekers over ``periods`` months, ``n_part`` entering on rolling dates;
    each person is eligible (registered, unemployed) over a random window of months."""
    rng = np.random.default_rng(seed)
    age = rng.integers(20, 60, n)
    female = rng.integers(0, 2, n)
    entry = np.full(n, np.nan)
    part = rng.choice(n, n_part, replace=False)
    entry[part] = rng.integers(1, periods + 1, n_part)
    start = rng.integers(1, periods + 1, n)
    start[part] = np.minimum(start[part], entry[part].astype(int))
    length = rng.integers(3, periods, n)
    pid = np.repeat(np.arange(n), periods)
    month = np.tile(np.arange(1, periods + 1), n)
    end = np.repeat(start + length + np.where(np.isnan(entry), 0, periods), periods)
    keep = (month >= np.repeat(start, periods)) & (month < end)
    panel = pd.DataFrame({"pid": pid, "month": month, "entry": np.repeat(entry, periods),
                          "gender": np.repeat(female, periods).astype(np.int8),
                          "age": np.repeat(age, periods), "months_unemployed": month - np.repeat(start, periods)})
    return panel[keep].reset_index(drop=True)


def bench_riskset() -> None:
    from impact.design import match_riskset

    panel = riskset_panel()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = match_riskset(panel, id="pid", period="month", entry="entry",
                          covariates=["age", "months_unemployed"], exact="gender", caliper=0.2)
    dt = time.perf_counter() - t0
    print(f"\nRisk-set matching: 5,600 participants, 36 monthly cohorts, pool 200,000 "
          f"({len(panel):,} person-months at risk): {dt:.1f} s including the pooled logit score; "
          f"{int(m.sample_sizes.loc['matched', 'treated'])} matched.")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--no-r", action="store_true", help="skip MatchIt")
    ap.add_argument("--sizes", choices=["all", "small"], default="all")
    ap.add_argument("--no-riskset", action="store_true", help="skip the risk-set benchmark")
    ap.add_argument("--no-curve", action="store_true", help="skip the n log n curve")
    ap.add_argument("--other-python", default=DEFAULT_OTHER,
                    help="a Python with psmpy and causallib installed (not impact's venv)")
    ap.add_argument("--mem-limit-gb", type=float, default=4.0)
    ap.add_argument("--other-timeout", type=float, default=300.0,
                    help="seconds before a psmpy/causallib run is stopped")
    a = ap.parse_args()
    import impact

    other = a.other_python if a.other_python and os.path.exists(a.other_python) else None

    sizes = SIZES[:2] if a.sizes == "small" else SIZES
    rows = []
    for n_t, n_c in sizes:
        df = make_data(n_t, n_c)
        sc, tr, ge = (df[c].to_numpy() for c in ("score", "treat", "gender"))
        repeat = 3 if n_c <= 100_000 else 2
        pairs_floor, t_floor, m_floor = timed_best(lambda: floor_match(sc, tr, ge, 0.2), repeat)
        n_floor = len(pairs_floor)

        def ours():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return impact.match(df, "treat", [], distance="score", caliper=0.2,
                                    exact=["gender"], id="pid")
        res, t_ours, m_ours = timed_best(ours, repeat)
        n_ours = int(res.sample_sizes.loc["matched", "treated"])
        n = n_t + n_c
        rows.append(dict(treated=n_t, controls=n_c, impl="numpy floor", seconds=t_floor,
                         peak_mb=m_floor, pairs=n_floor, us_per_nlogn=1e6 * t_floor / (n * np.log2(n))))
        rows.append(dict(treated=n_t, controls=n_c, impl="impact.match", seconds=t_ours,
                         peak_mb=m_ours, pairs=n_ours, us_per_nlogn=1e6 * t_ours / (n * np.log2(n))))
        if not a.no_r:
            r = run_matchit(df)
            if r is not None:
                rows.append(dict(treated=n_t, controls=n_c, impl="MatchIt 4.5.1 (Rscript)",
                                 seconds=r[0], peak_mb=r[1], pairs=r[2],
                                 us_per_nlogn=1e6 * r[0] / (n * np.log2(n))))
        width = 0.2 * float(np.std(sc, ddof=1))
        for impl in ("psmpy", "causallib"):
            if other is None:
                status, sec, rss, npairs = "not installed", np.nan, np.nan, np.nan
            else:
                status, sec, rss, npairs = run_other(impl, df, width, other, a.mem_limit_gb,
                                                     a.other_timeout)
            rows.append(dict(treated=n_t, controls=n_c, impl=impl, seconds=sec, peak_mb=rss,
                             pairs=npairs, us_per_nlogn=1e6 * sec / (n * np.log2(n)), status=status))
        print(f"done {n_t} x {n_c}", file=sys.stderr, flush=True)
    out = pd.DataFrame(rows)
    out["status"] = out["status"].fillna("ok") if "status" in out else "ok"
    floor = out[out.impl == "numpy floor"].set_index(["treated", "controls"])["seconds"]
    out["x_floor"] = [r.seconds / floor[(r.treated, r.controls)] for r in out.itertuples()]
    pd.set_option("display.width", 160)
    cols = ["treated", "controls", "impl", "seconds", "x_floor", "peak_mb", "pairs", "us_per_nlogn",
            "status"]
    print(out[cols].to_string(index=False, float_format=lambda v: f"{v:.3f}", na_rep="-"))
    print(f"\npsmpy, causallib: run in a child process limited to {a.mem_limit_gb:g} GB of address "
          "space; 'out of memory' = MemoryError there (both build dense treated x controls "
          "matrices: 10k x 1M doubles = 80 GB). Their peak_mb is the child's max RSS (imports "
          "included); causallib's pairs come from an optimal assignment with the caliper applied "
          "afterwards, so they differ from the greedy count.")
    print("MatchIt: Debian's 4.5.1 binary ignores the caliper (abs() bug), so its 'pairs' count "
          "is every treated unit; the patched greedy rule gives the same pairs as impact.")
    if not a.no_curve:
        bench_curve()
    if not a.no_riskset:
        bench_riskset()


def bench_curve() -> None:
    """Time against n log n: 1% treated, pools of 10k to 2M controls."""
    import impact

    rows = []
    for n_c in CURVE:
        n_t = n_c // 100
        df = make_data(n_t, n_c, seed=2)
        sc, tr, ge = (df[c].to_numpy() for c in ("score", "treat", "gender"))
        repeat = 3 if n_c <= 300_000 else 2
        _, t_floor, _ = timed_best(lambda: floor_match(sc, tr, ge, 0.2), repeat)

        def ours():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return impact.match(df, "treat", [], distance="score", caliper=0.2,
                                    exact=["gender"], id="pid")
        _, t_ours, m_ours = timed_best(ours, repeat)
        n = n_t + n_c
        nlogn = n * np.log2(n)
        rows.append(dict(treated=n_t, controls=n_c, impact_s=t_ours, floor_s=t_floor,
                         x_floor=t_ours / t_floor, impact_ns_per_nlogn=1e9 * t_ours / nlogn,
                         floor_ns_per_nlogn=1e9 * t_floor / nlogn, impact_peak_mb=m_ours))
        print(f"curve {n_c}", file=sys.stderr, flush=True)
    print("\nGrowth (1% treated): time / (n log2 n) stays flat if the cost is n log n")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main()
