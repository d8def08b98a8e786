"""Speed of impact.survival's curves and Fine-Gray against lifelines and a bincount floor, in one run.

Run:  OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_survival.py [--quick] [--no-xl] [--cox]

Issue 14, points 2 and 3. Data: register-like durations in whole days (many ties), non-integer
weights, matched pairs as clusters with the rows in random order (a pair's two rows are not
adjacent: the hard case for a clustered variance); ``KM adj.`` is the same with each pair's rows
next to each other.

Table 1, one row per size (S = 10k, M = 100k, L = 1M, XL = 5M rows), median seconds over rounds
in which the contenders run in rotating order (the machine may be shared: compare the ratios,
which are medians of the within-round ratios):

* ``impact KM``: ``kaplan_meier(..., weights, cluster=pair).at([90, 180, 365])`` (clustered IJ SE);
* ``lifelines KM``: ``KaplanMeierFitter().fit(..., weights)`` (no clustered SE: lifelines has none);
* ``floor``: the minimum work to get the curve on whole days: ``np.bincount`` of the weights and of
  the weighted events by day, a reverse cumulative sum and the product limit;
* ``clustered floor``: the floor plus the least numpy work for a clustered SE at three times (per
  time one lookup of each row's influence by its day and one ``np.bincount`` by cluster);
* ``impact KM numpy``: ``impact KM`` with the SEs by one bincount per time (the compiled pass of
  ``impact.survival._kernels``, used from 1,000,000 rows, switched off);
* ``impact AJ``: ``aalen_johansen(..., weights, cluster=pair).cif([1, 2], [90, 180, 365])``;
* ``lifelines AJ``: ``AalenJohansenFitter(calculate_variance=False)`` (the point estimate only;
  with its variance lifelines takes 2 s at M and minutes at L).

Table 2: Fine-Gray on the effects-sized problem (5,549 matched pairs, 11,098 rows, one
covariate, weights, clustered on the pair): the scan (``FineGray.fit``) against the old way
(R's ``finegray`` expansion and a delayed-entry Cox model, kept as ``FineGray._fit(expand=True)``),
with the largest differences of the estimates and variances.

``--cox`` adds the older Cox table (impact against lifelines and R); ``--curves-only`` prints
table 1 only. To compare two versions of impact, run the script once with each on PYTHONPATH,
alternating (the ratios to lifelines and to the floor are measured within each run).
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
from collections.abc import Callable

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from impact.survival import CoxPH, FineGray, aalen_johansen, kaplan_meier  # noqa: E402


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


def curve_data(n: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    t = np.ceil(rng.exponential(250.0, n))
    c = rng.integers(1, 731, n)
    dur = np.minimum(t, c).astype(float)
    ev = (t <= c).astype(int)
    cause = np.where(ev == 1, rng.choice([1, 2, 3], size=n, p=[0.5, 0.2, 0.3]), 0)
    pair = rng.permutation(n) // 2  # pairs scattered over the rows
    return pd.DataFrame({"time": dur, "event": ev, "cause": cause,
                         "w": rng.uniform(0.5, 2.0, n).round(3), "pair": pair,
                         "pair_adj": np.arange(n) // 2})


def floor(df: pd.DataFrame) -> np.ndarray:
    T = df["time"].to_numpy()
    w = df["w"].to_numpy()
    d = df["event"].to_numpy()
    j = T.astype(np.int64)
    n_event = np.bincount(j, weights=w * d)
    n_risk = np.cumsum(np.bincount(j, weights=w)[::-1])[::-1]
    return np.cumprod(1.0 - np.divide(n_event, n_risk, out=np.zeros_like(n_event), where=n_risk > 0))


def clustered_floor(df: pd.DataFrame, cluster: str = "pair", n_times: int = 3) -> float:
    """The floor plus the least a clustered SE at ``n_times`` times needs in numpy: per time, each
    row's influence looked up by its day (one take), times its weight, summed by cluster (one
    bincount) and squared."""
    S = floor(df)
    j = df["time"].to_numpy().astype(np.int64)
    w = df["w"].to_numpy()
    g = df[cluster].to_numpy()
    out = 0.0
    for k in range(n_times):
        tab = S * (k + 1.0)
        s = np.bincount(g, weights=w * np.take(tab, j))
        out += float(np.dot(s, s))
    return out


def _numpy_se(f: Callable[[], object]) -> Callable[[], object]:
    """``f`` with the clustered SEs by one bincount per time (the compiled pass switched off)."""
    import impact.survival._common as common

    def g() -> object:
        old = common.COMPILED_ROWS
        common.COMPILED_ROWS = 1 << 62
        try:
            return f()
        finally:
            common.COMPILED_ROWS = old
    return g


def rounds(contenders: dict[str, Callable[[], object]], n_rounds: int) -> dict[str, list[float]]:
    """Run every contender once per round, in an order rotated each round."""
    names = list(contenders)
    out: dict[str, list[float]] = {k: [] for k in names}
    for r in range(n_rounds):
        for k in names[r % len(names):] + names[:r % len(names)]:
            t0 = time.perf_counter()
            contenders[k]()
            out[k].append(time.perf_counter() - t0)
    return out


def _ratio(res: dict[str, list[float]], a: str, b: str) -> float:
    """Median of the within-round ratios a / b."""
    return float(np.median(np.array(res[a]) / np.array(res[b])))


def curve_row(label: str, n: int, n_rounds: int) -> dict[str, object]:
    from lifelines import AalenJohansenFitter, KaplanMeierFitter

    df = curve_data(n)
    T, E, C, W = df["time"], df["event"], df["cause"], df["w"]
    contenders: dict[str, Callable[[], object]] = {
        "impact KM": lambda: kaplan_meier(T, E, weights=W, cluster=df["pair"]).at([90, 180, 365]),
        "impact KM adj.": lambda: kaplan_meier(T, E, weights=W, cluster=df["pair_adj"]).at([90, 180, 365]),
        "lifelines KM": lambda: KaplanMeierFitter().fit(T, E, weights=W),
        "impact KM numpy": _numpy_se(
            lambda: kaplan_meier(T, E, weights=W, cluster=df["pair"]).at([90, 180, 365])),
        "floor": lambda: floor(df),
        "clustered floor": lambda: clustered_floor(df),
        "impact AJ": lambda: aalen_johansen(T, C, weights=W, cluster=df["pair"]).cif([1, 2], [90, 180, 365]),
        "lifelines AJ": lambda: AalenJohansenFitter(calculate_variance=False).fit(
            T, C, event_of_interest=1, weights=W),
    }
    res = rounds(contenders, n_rounds)
    med = {f"{k} s": float(np.median(v)) for k, v in res.items()}
    return {"size": label, "rows": n, **med,
            "KM / lifelines": _ratio(res, "impact KM", "lifelines KM"),
            "KM / floor": _ratio(res, "impact KM", "floor"),
            "KM / cl. floor": _ratio(res, "impact KM", "clustered floor"),
            "KM numpy / floor": _ratio(res, "impact KM numpy", "floor"),
            "KM adj. / floor": _ratio(res, "impact KM adj.", "floor"),
            "AJ / lifelines": _ratio(res, "impact AJ", "lifelines AJ"),
            "AJ / floor": _ratio(res, "impact AJ", "floor"),
            "AJ / cl. floor": _ratio(res, "impact AJ", "clustered floor"),
            "rounds": n_rounds}


def curves_table(sizes: dict[str, int], n_rounds: dict[str, int]) -> pd.DataFrame:
    warnings.simplefilter("ignore")  # lifelines warns about non-integer weights
    rows = []
    for label, n in sizes.items():
        rows.append(curve_row(label, n, n_rounds[label]))
        print(f"  {label} done", file=sys.stderr, flush=True)
    return pd.DataFrame(rows)


def fine_gray_table(n_rounds: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 11_098
    t = (np.arange(n) % 2).astype(float)  # treated / control in each pair
    d1 = np.ceil(rng.exponential(300 * np.exp(-0.2 * t)))
    d2 = np.ceil(rng.exponential(500, n))
    c = rng.integers(30, 731, n)
    dur = np.minimum(np.minimum(d1, d2), c).astype(float)
    cause = np.where(dur == c, 0, np.where(d1 <= d2, 1, 2))
    df = pd.DataFrame({"duration": dur, "cause": cause, "treated": t,
                       "w": rng.uniform(0.5, 2, n).round(3), "cluster": np.arange(n) // 2})
    args = (df, "duration", "cause", 1, ["treated"], "w", "cluster", [1, 2])
    res = rounds({"scan": lambda: FineGray()._fit(*args, expand=False),
                  "expanded": lambda: FineGray()._fit(*args, expand=True)}, n_rounds)
    new = FineGray()._fit(*args, expand=False)
    old = FineGray()._fit(*args, expand=True)
    return pd.DataFrame([{
        "rows": n, "expanded rows": old.n_, "scan s": float(np.median(res["scan"])),
        "expanded s": float(np.median(res["expanded"])),
        "speed-up": float(np.median(np.array(res["expanded"]) / np.array(res["scan"]))),
        "max |coef diff|": float(np.max(np.abs(new.params_ - old.params_))),
        "max rel. var diff (robust)": float(np.max(np.abs(new.cov_.to_numpy() / old.cov_.to_numpy() - 1))),
        "max rel. var diff (model)": float(np.max(np.abs(new.naive_cov_.to_numpy() / old.naive_cov_.to_numpy() - 1))),
        "rounds": n_rounds}])


# ----------------------------------------------------------------------------------------------
# the older Cox table (--cox)
# ----------------------------------------------------------------------------------------------
def best(f: Callable[[], object], repeats: int) -> tuple[float, object]:
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


def cox_table(quick: bool) -> pd.DataFrame:
    from lifelines import CoxPHFitter

    big = 100_000 if quick else 1_000_000
    mid = 20_000 if quick else 100_000
    small = 5_000 if quick else 20_000
    reps = 1 if quick else 3
    rows: list[dict] = []
    covs = [f"x{i}" for i in range(20)]
    df = make_data(big)
    for n in (small, mid, big):
        d = df.iloc[:n].reset_index(drop=True)
        t_imp, cox = best(lambda: CoxPH().fit(d, "time", "event", covariates=covs, weights="w",
                                              cluster="pair"), reps if n < big else 2)
        row = dict(task="Cox Efron, weights, cluster-robust SE", rows=n, impact_s=t_imp)
        se_imp = np.sqrt(np.diag(cox.cov_.to_numpy()))  # type: ignore[attr-defined]  # best() returns the fit
        if n == small:
            dl = d[covs + ["time", "event", "w", "pair"]]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t_ll, cph = best(lambda: CoxPHFitter().fit(dl, "time", "event", weights_col="w",
                                                           cluster_col="pair", robust=True), 1)
            row["lifelines_s"] = t_ll
            row["max_rel_se_diff_lifelines"] = float(np.max(np.abs(
                cph.standard_errors_[covs].to_numpy() / se_imp - 1)))  # type: ignore[attr-defined]  # a fitted CoxPHFitter
            r = run_r(d[covs + ["time", "event", "w", "pair"]], covs)
            if r is not None:
                row["R_s"] = r[0]
                row["max_rel_se_diff_R"] = float(np.max(np.abs(r[1] / se_imp - 1)))
        rows.append(row)
    for n in (mid, big):
        d = df.iloc[:n][covs + ["time", "event", "w"]]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_ll, _ = best(lambda: CoxPHFitter().fit(d, "time", "event", weights_col="w"), 1)
        t_imp, _ = best(lambda: CoxPH(robust=False).fit(d, "time", "event", covariates=covs,
                                                        weights_col="w"), 1)
        rows.append(dict(task="Cox Efron, weights, model-based SE (no robust)", rows=n,
                         impact_s=t_imp, lifelines_s=t_ll))
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes (for a smoke run)")
    ap.add_argument("--no-xl", action="store_true", help="skip the 5M-row size")
    ap.add_argument("--cox", action="store_true", help="also the Cox table (impact, lifelines, R)")
    ap.add_argument("--curves-only", action="store_true", help="only the KM / Aalen-Johansen table")
    args = ap.parse_args()
    if args.quick:
        sizes = {"S": 10_000, "M": 100_000}
        n_rounds = {"S": 3, "M": 3}
    else:
        sizes = {"S": 10_000, "M": 100_000, "L": 1_000_000, "XL": 5_000_000}
        n_rounds = {"S": 9, "M": 7, "L": 5, "XL": 3}
        if args.no_xl:
            del sizes["XL"]
    pd.set_option("display.width", 250)
    pd.set_option("display.max_columns", 30)
    fmt = {"float_format": lambda v: f"{v:.3g}"}
    print(f"impact.survival benchmark (OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS')}, "
          f"{os.cpu_count()} cores; medians over rounds in rotating order; ratios are medians of "
          "within-round ratios)")
    print("\nWeighted Kaplan-Meier and Aalen-Johansen, clustered IJ standard errors (impact) "
          "against lifelines (no clustered SE) and the bincount floor")
    print(curves_table(sizes, n_rounds).to_string(index=False, **fmt))
    if args.curves_only:
        return
    print("\nFine-Gray, effects-sized problem (5,549 pairs): scan against the expanded data")
    print(fine_gray_table(3 if args.quick else 5).to_string(index=False, **fmt))
    if args.cox:
        print("\nCox")
        print(cox_table(args.quick).to_string(index=False, **fmt))


if __name__ == "__main__":
    main()
