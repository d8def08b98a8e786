"""Speed of impact.survival against lifelines and R, in one run.

Run:  OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_survival.py [--quick]

Data: register-like durations in whole days (many ties), 20 covariates, matched pairs as
clusters, non-integer weights. Prints one table: task, rows, seconds for impact / lifelines / R
(best of the repeats), and the largest relative difference of the robust standard errors
against the other tool where both ran. lifelines' and R's cluster-robust variances cost O(n^2)
(survival 3.5-3), so they run at a modest size only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from impact.survival import CoxPH, aalen_johansen, kaplan_meier  # noqa: E402


def make_data(n: int, p: int = 20, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    beta = np.linspace(-0.3, 0.3, p)
    t = np.ceil(rng.exponential(250.0 * np.exp(-X @ beta)))
    c = rng.integers(1, 731, n)
    dur = np.minimum(t, c).astype(float)
    ev = (t <= c).astype(int)
    cause = np.where(ev == 1, rng.choice([1, 2, 3], size=n, p=[0.5, 0.2, 0.3]), 0)
    df = pd.DataFrame(X, columns=[f"x{i}" for i in range(p)])
    df["time"] = dur
    df["event"] = ev
    df["cause"] = cause
    df["w"] = rng.uniform(0.5, 2.0, n).round(3)
    df["pair"] = np.arange(n) // 2
    return df


def best(f, repeats: int) -> tuple[float, object]:
    out = None
    t_best = np.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = f()
        t_best = min(t_best, time.perf_counter() - t0)
    return t_best, out


def run_r(df: pd.DataFrame, covs: list[str]) -> tuple[float, np.ndarray] | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "d.csv")
        df.to_csv(path, index=False)
        script = f"""
suppressPackageStartupMessages(library(survival))
d <- read.csv("{path}")
f <- as.formula(paste("Surv(time, event) ~", paste(c({", ".join(repr(c) for c in covs)}), collapse = " + ")))
tm <- system.time(fit <- coxph(f, data = d, weights = w, cluster = pair, ties = "efron"))
cat(tm[["elapsed"]], sqrt(diag(fit$var)), sep = "\\n")
"""
        rpath = os.path.join(tmp, "b.R")
        with open(rpath, "w") as fh:
            fh.write(script)
        res = subprocess.run(["Rscript", rpath], capture_output=True, text=True, timeout=1200)
        if res.returncode != 0:
            print(res.stderr, file=sys.stderr)
            return None
        vals = np.array([float(v) for v in res.stdout.split()])
        return float(vals[0]), vals[1:]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes (for a smoke run)")
    args = ap.parse_args()
    big = 100_000 if args.quick else 1_000_000
    mid = 20_000 if args.quick else 100_000
    small = 5_000 if args.quick else 20_000
    reps = 1 if args.quick else 3
    rows: list[dict] = []
    covs = [f"x{i}" for i in range(20)]

    df = make_data(big)
    t, _ = best(lambda: kaplan_meier(df["time"], df["event"], weights=df["w"], cluster=df["pair"]).at([90, 180, 365]), reps)
    rows.append(dict(task="weighted KM, clustered IJ SE (whole table)", rows=big, impact_s=t))
    t, _ = best(lambda: aalen_johansen(df["time"], df["cause"], weights=df["w"], cluster=df["pair"]).cif([1, 2], [90, 180, 365]), reps)
    rows.append(dict(task="weighted AJ, clustered IJ SE (work or studies)", rows=big, impact_s=t))

    from lifelines import CoxPHFitter

    for n in (small, mid, big):
        d = df.iloc[:n].reset_index(drop=True)
        t_imp, cox = best(lambda: CoxPH().fit(d, "time", "event", covariates=covs, weights_col="w",
                                              cluster_col="pair"), reps if n < big else 2)
        row = dict(task="Cox Efron, weights, cluster-robust SE", rows=n, impact_s=t_imp)
        se_imp = np.sqrt(np.diag(cox.cov_.to_numpy()))
        if n == small:
            dl = d[covs + ["time", "event", "w", "pair"]]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t_ll, cph = best(lambda: CoxPHFitter().fit(dl, "time", "event", weights_col="w",
                                                           cluster_col="pair", robust=True), 1)
            row["lifelines_s"] = t_ll
            row["max_rel_se_diff_lifelines"] = float(np.max(np.abs(
                cph.standard_errors_[covs].to_numpy() / se_imp - 1)))
            r = run_r(d[covs + ["time", "event", "w", "pair"]], covs)
            if r is not None:
                row["R_s"] = r[0]
                row["max_rel_se_diff_R"] = float(np.max(np.abs(r[1] / se_imp - 1)))
        rows.append(row)
    # lifelines without robust SEs, for scale
    for n in (mid, big):
        d = df.iloc[:n][covs + ["time", "event", "w"]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_ll, _ = best(lambda: CoxPHFitter().fit(d, "time", "event", weights_col="w"), 1)
        t_imp, _ = best(lambda: CoxPH(robust=False).fit(d, "time", "event", covariates=covs,
                                                        weights_col="w"), 1)
        rows.append(dict(task="Cox Efron, weights, model-based SE (no robust)", rows=n,
                         impact_s=t_imp, lifelines_s=t_ll))

    out = pd.DataFrame(rows)
    pd.set_option("display.width", 200)
    pd.set_option("display.max_columns", 20)
    print(f"impact.survival benchmark (OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, "
          f"{os.cpu_count()} cores; best of {reps} where repeated)")
    print(out.to_string(index=False, float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()
