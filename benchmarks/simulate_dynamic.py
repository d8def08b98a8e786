"""Truth recovery of the dynamic (risk-set) design over many draws of the synthetic register extract.

Each replicate draws ``impact.synthetic.simulate_extract(n, random_state=seed)`` (seeds
``first_seed, first_seed + 1, ...``; the bundled extract is 20,000 persons, seed 2022) and runs
``impact.evaluate(extract, estimand=..., random_state=0)`` as the demo does (the unknown-exit
sensitivity, which does not change the headline, is left out) for both estimands; for
``join_vs_never`` also the unweighted analysis of the same analysed sample (``ipcw=False``), to
show the censoring bias the weights remove. Truths are exact (closed form, per participant):

* ``truth``: the generator's truth over every participant (what ``truth.csv`` holds);
* ``bias_m``: the estimate minus the truth over the participants the design kept (matched and
  analysed: ``SyntheticExtract.truth_among``), the estimand the effect table actually targets;
* shares: ``share_treated`` against the participants' own treated incidence and ``share_control``
  against their untreated (``join_vs_never``) or waiting (``join_vs_wait``) incidence: which arm a
  bias comes from.

The hazard ratio is compared, on the log scale, with the generator's *conditional* hazard ratio
(1.4 women, 1.2 men): the effect table's is the marginal hazard ratio of the matched sample, which
is smaller (non-collapsibility), so its "bias" is expected and its coverage below 95%. There is no
hazard-ratio truth for ``join_vs_wait`` (controls who start later are treated then): those rows
show the estimate only.

Columns: ``truth`` (mean over replicates), ``bias`` (mean estimate minus truth) with its Monte
Carlo SE ``mcse`` (SD over replicates / sqrt(R)) and ``z = bias / mcse``, ``bias_m`` (against the
truth among the analysed participants), ``sd`` (SD of the estimates), ``mean_se`` (mean reported
SE), ``coverage`` of the 95% interval (of the truth over every participant) and its Monte Carlo SE.

    OPENBLAS_NUM_THREADS=1 python benchmarks/simulate_dynamic.py --reps 200 --n 20000 --jobs 2
    OPENBLAS_NUM_THREADS=1 python benchmarks/simulate_dynamic.py --reps 18 --n 40000 --first-seed 1

Last run: see docs/registers.md ("Truth recovery over many draws").
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np
import pandas as pd
from joblib import Parallel, delayed

HORIZONS = (90.0, 180.0, 365.0)
GROUPS = ("female", "male")
ESTIMANDS = ("share_diff", "share_treated", "share_control", "hazard_ratio")


def _rows(table: pd.DataFrame, truth: pd.DataFrame, truth_m: pd.DataFrame, design: str, hr: dict | None,
          seed: int) -> list[dict]:
    """One row per (group, estimand, horizon): estimate, SE, interval and both truths."""
    from impact.pipeline._registers import truth_for
    est = "join_vs_wait" if design == "join_vs_wait" else "join_vs_never"
    t_all = truth_for(truth, est).set_index(["estimand", "subgroup", "horizon"])["value"]
    t_m = truth_for(truth_m, est).set_index(["estimand", "subgroup", "horizon"])["value"]
    t_all = t_all.rename(index={"share_untreated": "share_control"})
    t_m = t_m.rename(index={"share_untreated": "share_control"})
    out = []
    for r in table.itertuples():
        if r.subgroup not in GROUPS or r.estimand not in ESTIMANDS:
            continue
        if r.estimand == "hazard_ratio":
            ta = tm = np.log(hr[r.subgroup]) if hr is not None else np.nan
            e, lo, hi = np.log(r.estimate), np.log(r.ci_low), np.log(r.ci_high)
            se = r.se                     # the table's SE of a hazard ratio is of its logarithm
        else:
            key = (r.estimand, r.subgroup, float(r.horizon))
            ta, tm = float(t_all[key]), float(t_m[key])
            e, lo, hi, se = r.estimate, r.ci_low, r.ci_high, r.se
        out.append({"seed": seed, "design": design, "subgroup": r.subgroup, "estimand": r.estimand,
                    "horizon": r.horizon, "estimate": e, "se": se, "lo": lo, "hi": hi, "truth": ta, "truth_m": tm})
    return out


def replicate(seed: int, n: int) -> list[dict]:
    """Both estimands (and the unweighted join_vs_never) on one draw."""
    warnings.simplefilter("ignore")
    import impact
    from impact.pipeline._registers import effects_of
    from impact.synthetic import simulate_extract
    sim = simulate_extract(n, random_state=seed)
    rows: list[dict] = []
    for estimand in ("join_vs_never", "join_vs_wait"):
        ev = impact.evaluate(sim.extract, estimand=estimand, random_state=0, sensitivity=False)
        a = ev.analysed
        kept = a.loc[a["entering"] == 1, "person_id"]
        truth_m = sim.truth_among(kept)
        hr = sim.hazard_ratio if estimand == "join_vs_never" else None
        rows += _rows(ev.summary(), sim.truth, truth_m, estimand, hr, seed)
        if estimand == "join_vs_never":
            plain = effects_of(a, "gender", horizons=HORIZONS, subdistribution=False).summary()
            rows += _rows(plain, sim.truth, truth_m, "join_vs_never, ipcw=False", hr, seed)
    return rows


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    df = df.assign(err=df["estimate"] - df["truth"], err_m=df["estimate"] - df["truth_m"],
                   covered=(df["lo"] < df["truth"]) & (df["truth"] < df["hi"]))
    g = df.groupby(["design", "subgroup", "estimand", "horizon"], dropna=False, sort=False)
    reps = g.size()
    tab = pd.DataFrame({"R": reps, "truth": g["truth"].mean(), "bias": g["err"].mean(),
                        "mcse": g["err"].std() / np.sqrt(reps), "bias_m": g["err_m"].mean(),
                        "sd": g["estimate"].std(), "mean_se": g["se"].mean(), "coverage": g["covered"].mean()})
    tab["z"] = tab["bias"] / tab["mcse"]
    tab["cov_mcse"] = np.sqrt(tab["coverage"] * (1 - tab["coverage"]) / tab["R"])
    no_truth = tab["truth"].isna()
    tab.loc[no_truth, ["bias", "mcse", "bias_m", "coverage", "z", "cov_mcse"]] = np.nan
    order = {"share_diff": 0, "hazard_ratio": 1, "share_treated": 2, "share_control": 3}
    tab = tab.reset_index()
    tab["_o"] = tab["estimand"].map(order)
    tab = tab.sort_values(["design", "_o", "subgroup", "horizon"], kind="stable").drop(columns="_o")
    tab["horizon"] = tab["horizon"].map(lambda v: "" if pd.isna(v) else f"{v:.0f}")
    return tab[["design", "subgroup", "estimand", "horizon", "R", "truth", "bias", "mcse", "z", "bias_m", "sd",
                "mean_se", "coverage", "cov_mcse"]].reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--n", type=int, default=20_000, help="persons per extract (bundled: 20,000)")
    ap.add_argument("--first-seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--out", help="write the replicate rows to this CSV")
    ap.add_argument("--shares", action="store_true", help="also print the arms (share_treated, share_control)")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    seeds = range(args.first_seed, args.first_seed + args.reps)
    parts = Parallel(n_jobs=args.jobs)(delayed(replicate)(s, args.n) for s in seeds)
    df = pd.DataFrame([r for p in parts for r in p])
    if args.out:
        df.to_csv(args.out, index=False)
    tab = summarise(df)
    if not args.shares:
        tab = tab[tab["estimand"].isin(["share_diff", "hazard_ratio"])]
    print(f"{args.reps} extracts of {args.n:,} persons (seeds {seeds.start}-{seeds.stop - 1}), "
          f"{args.jobs} workers, {time.perf_counter() - t0:.0f} s")
    print("hazard_ratio rows: log scale, against the conditional hazard ratio (the estimate is marginal)")
    with pd.option_context("display.width", 220, "display.max_rows", 500):
        print(tab.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
