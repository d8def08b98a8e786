"""The propensity logit, Mahalanobis matching and risk-set matching against their anchors (issue 14).

Run:  OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_propensity.py [--sizes S,M,L] [--rounds 3]

Everything is measured in this run, on the same data, in alternating rounds (the order of the
implementations rotates from round to round); times are medians over rounds, and ratios are
taken within a round, then their median is reported. Peak memory is tracemalloc's peak of the
allocations made during the call (numpy arrays included), on top of the inputs.

1. Propensity logit, 20 covariates (12 continuous, 8 binary), sizes S = 1k treated / 10k
   controls, M = 5.6k / 100k, L = 10k / 1M:
   * ``impact``: ``fit_propensity`` from the DataFrame (covariate expansion included), the
     function behind ``match(distance="glm")``; ``impact core``: the fit alone on (a copy of) the matrix;
     ``impact columns``: the fit on the design handed over column by column (``_Columns``, as
     ``match_riskset`` does at national scale: a sorted copy in narrow exact dtypes, blocks
     written as float64 when read; the same coefficients bit for bit);
   * ``numpy Newton``: the floor, a plain Newton/IRLS solve on the prebuilt ``[1, X]``: each
     step ``eta = X b``, ``H = (X sqrt(w))'(X sqrt(w))``, ``g = X'(y - mu)``, a Cholesky solve,
     R's stopping rule; no checks, no canonical order, no distinct rows;
   * ``statsmodels Logit``: ``sm.Logit(y, X).fit(disp=0)`` (Newton) on the prebuilt matrix;
   * ``old core``: ``_fit_glm`` as it was at commit ``OLD_REF`` (read by ``git show``), on the same matrix.
   ``x_design`` is the peak divided by the size of ``[1, X]`` (``n (p + 1)`` doubles).
2. Mahalanobis 1:1 greedy matching at M, 19 expanded covariates, two kinds of data: register-like
   (``impact.synthetic.simulate``: dummies and few continuous columns, a KD-tree's good case)
   and a continuous-heavy mix (6 continuous, 13 binary: a KD-tree's bad case). ``before``: the
   previous algorithm, one ``cKDTree.query`` per treated unit in a Python loop (copied below);
   ``after``: ``impact.design._mahalanobis.mahalanobis_nearest``. Both from the same whitened
   covariates, tie keys and order; the pairs are checked identical.
3. Risk-set matching (``match_riskset``, pooled logit on age and months unemployed, exact on
   gender): tracemalloc peak per person-month at risk, at two panel sizes (time per
   person-month shows whether the cost is linear).
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

SIZES = {"S": (1_000, 10_000), "M": (5_600, 100_000), "L": (10_000, 1_000_000)}


# -- 1. the propensity logit --------------------------------------------------------------------------
def logit_data(n_t: int, n_c: int, seed: int = 5) -> tuple[pd.DataFrame, list[str]]:
    rng = np.random.default_rng(seed)
    n = n_t + n_c
    t = np.r_[np.ones(n_t, dtype=np.int8), np.zeros(n_c, dtype=np.int8)]
    cols: dict[str, np.ndarray] = {"treat": t}
    for j in range(12):
        cols[f"x{j}"] = rng.normal(0.15 * t * (j % 3 == 0), 1.0, n)
    for j in range(8):
        cols[f"d{j}"] = (rng.random(n) < 0.2 + 0.05 * j + 0.04 * t).astype(np.int8)
    df = pd.DataFrame(cols)
    return df, [c for c in df.columns if c != "treat"]


def newton_floor(Xc: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Plain Newton/IRLS for the logit on a prebuilt [1, X] (R's start and stopping rule)."""
    import scipy.linalg as sla

    b = np.zeros(Xc.shape[1])
    eta = np.zeros(len(y))
    dev_old = np.inf
    for _ in range(25):
        mu = 1 / (1 + np.exp(-eta))
        dev = 2 * float(np.logaddexp(0, (1 - 2 * y) * eta).sum())
        if abs(dev_old - dev) <= 1e-9 + 1e-8 * abs(dev):
            break
        dev_old = dev
        Xw = Xc * np.sqrt(mu * (1 - mu))[:, None]
        H = Xw.T @ Xw
        del Xw
        b = b + sla.cho_solve(sla.cho_factor(H), Xc.T @ (y - mu))
        eta = Xc @ b
    return b


def statsmodels_logit(Xc: np.ndarray, y: np.ndarray) -> np.ndarray:
    import statsmodels.api as sm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return np.asarray(sm.Logit(y, Xc).fit(disp=0).params)


def traced(fn):  # type: ignore[no-untyped-def]
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    dt = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, dt, peak


def timed(fn):  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


#: the commit whose propensity fit is the "old" anchor (the start of the issue 14 session on points 1, 2, 4, 6, 7)
OLD_REF = "ddb5475"


def old_fit_glm():  # type: ignore[no-untyped-def]
    """``_fit_glm`` as it was at ``OLD_REF`` (read with ``git show``; None without git)."""
    import subprocess
    import types

    try:
        src = subprocess.run(["git", "show", f"{OLD_REF}:src/impact/design/_propensity.py"],
                             cwd=Path(__file__).parent, capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    mod = types.ModuleType("old_propensity")
    sys.modules["old_propensity"] = mod            # dataclasses look their module up
    exec(compile(src, "old_propensity", "exec"), mod.__dict__)  # noqa: S102  (the project's own file)
    return mod._fit_glm


def bench_logit(sizes: list[str], rounds: int) -> pd.DataFrame:
    from impact.data import expand_covariates
    from impact.design._propensity import _Columns, _fit_glm, fit_propensity

    old = old_fit_glm()

    rows = []
    for size in sizes:
        n_t, n_c = SIZES[size]
        df, cov = logit_data(n_t, n_c)
        t = df["treat"].to_numpy()
        X, names = expand_covariates(df, cov)
        Xc = np.column_stack([np.ones(len(X)), X])
        y = t.astype(float)
        design_bytes = Xc.nbytes
        impls = {
            "impact": lambda: fit_propensity(df, t, cov, "glm", "logit").coefficients["estimate"].to_numpy(),
            "impact core": lambda: _fit_glm(X.copy(), names, t, cov, reorder=True)[2]["estimate"].to_numpy(),
            "impact columns": lambda: _fit_glm(_Columns([(df[c].to_numpy(), None) for c in cov], len(df)), names, t,
                                               cov, linear=False)[2]["estimate"].to_numpy(),
            **({} if old is None else {
                f"old core ({OLD_REF})": lambda: old(X.copy(), names, t, cov, reorder=True)[2]["estimate"].to_numpy()}),
            "numpy Newton": lambda: newton_floor(Xc, y),
            "statsmodels Logit": lambda: statsmodels_logit(Xc, y),
        }
        names_ = list(impls)
        times: dict[str, list[float]] = {k: [] for k in names_}
        ratio: dict[str, list[float]] = {k: [] for k in names_}
        coefs: dict[str, np.ndarray] = {}
        for r in range(rounds):
            got = {}
            for k in names_[r % len(names_):] + names_[:r % len(names_)]:
                coefs[k], got[k] = timed(impls[k])
            for k in names_:
                times[k].append(got[k])
                ratio[k].append(got[k] / got["numpy Newton"])
        for k in names_:
            _, _, peak = traced(impls[k])
            rows.append(dict(size=size, treated=n_t, controls=n_c, impl=k,
                             seconds=statistics.median(times[k]),
                             x_newton=statistics.median(ratio[k]), peak_mb=peak / 2**20,
                             x_design=peak / design_bytes,
                             max_rel_coef_diff=float(np.max(np.abs(coefs[k] - coefs["statsmodels Logit"])
                                                        / np.maximum(np.abs(coefs["statsmodels Logit"]), 1e-12)))))
        print(f"logit {size} done", file=sys.stderr, flush=True)
    return pd.DataFrame(rows)


# -- 2. Mahalanobis -----------------------------------------------------------------------------------
def register_like(n_t: int, n_c: int) -> tuple[pd.DataFrame, list[str]]:
    from impact.synthetic import COVARIATES, simulate

    r = simulate(n_pool=int(1.3 * n_c), random_state=0).registers
    rng = np.random.default_rng(0)
    part = r["participant"].to_numpy().astype(bool)
    df = pd.concat([r.iloc[rng.choice(np.flatnonzero(part), n_t, replace=False)],
                    r.iloc[np.flatnonzero(~part)[:n_c]]], ignore_index=True)
    df["pid"] = np.arange(len(df))
    df["treat"] = df["participant"].astype(int)
    return df, [*COVARIATES, "gender"]


def continuous_mix(n_t: int, n_c: int, seed: int = 3) -> tuple[pd.DataFrame, list[str]]:
    rng = np.random.default_rng(seed)
    n = n_t + n_c
    treat = np.r_[np.ones(n_t, dtype=np.int8), np.zeros(n_c, dtype=np.int8)]
    cols: dict[str, np.ndarray] = {"pid": rng.permutation(n).astype(np.int64), "treat": treat,
                                   "age": rng.integers(18, 65, n) + 2 * treat}
    for j in range(5):
        cols[f"c{j}"] = np.round(rng.lognormal(8 + 0.2 * treat, 1.0, n), 0) * (rng.random(n) < 0.8)
    for j in range(13):
        cols[f"b{j}"] = (rng.random(n) < 0.2 + 0.03 * j + 0.05 * treat).astype(np.int8)
    df = pd.DataFrame(cols)
    return df, ["age", *[f"c{j}" for j in range(5)], *[f"b{j}" for j in range(13)]]


def _old_tied(d, best):  # type: ignore[no-untyped-def]
    return d <= best * (1 + 1e-9) + 1e-12


def _old_query(tree, z, k, nc, usable):  # type: ignore[no-untyped-def]
    q = min(nc, k + 8)
    while True:
        d, j = tree.query(z, k=q)
        d, j = np.atleast_1d(d), np.atleast_1d(j)
        ok = np.isfinite(d) if usable is None else np.isfinite(d) & usable[np.minimum(j, nc - 1)]
        if q >= nc:
            return d[ok], j[ok]
        dk, jk = d[ok], j[ok]
        if len(dk) > k and not _old_tied(np.array([d[-1]]), float(dk[k - 1]))[0]:
            return dk, jk
        q = min(nc, 4 * q)


def _old_take(d, j, c_rank, k):  # type: ignore[no-untyped-def]
    out_d, out_j = [], []
    left = np.ones(len(d), dtype=bool)
    for _ in range(min(k, len(d))):
        dl = np.where(left, d, np.inf)
        best = _old_tied(dl, float(dl.min())) & left
        cand = np.flatnonzero(best)
        pick = cand[np.argmin(c_rank[j[cand]])]
        out_d.append(float(d[pick]))
        out_j.append(int(j[pick]))
        left[pick] = False
    return np.asarray(out_d), np.asarray(out_j, dtype=np.int64)


def old_mahalanobis_nearest(X, treated, rank_fn):  # type: ignore[no-untyped-def]
    """The previous algorithm (1:1, no strata, m_order="data"): one KD-tree query per treated unit."""
    from scipy.spatial import cKDTree

    from impact.design._mahalanobis import whiten

    Z = whiten(X, treated)
    t_units, c_units = np.flatnonzero(treated), np.flatnonzero(~treated)
    c_rank = rank_fn(c_units)
    tree = cKDTree(Z[c_units])
    nc = len(c_units)
    proc = np.argsort(rank_fn(t_units), kind="stable")
    free = np.ones(nc, dtype=bool)
    out = []
    for i in proc.tolist():
        d, j = _old_query(tree, Z[t_units[i]], 1, nc, free)
        if not len(d):
            continue
        dd, jj = _old_take(d, j, c_rank, 1)
        free[jj[0]] = False
        out.append((int(t_units[i]), int(c_units[jj[0]])))
    return out


def bench_mahalanobis(rounds: int) -> pd.DataFrame:
    from impact.data import expand_covariates
    from impact.design._mahalanobis import mahalanobis_nearest

    n_t, n_c = SIZES["M"]
    rows = []
    for label, make in (("register-like", register_like), ("continuous mix", continuous_mix)):
        df, cov = make(n_t, n_c)
        X, _ = expand_covariates(df, cov)
        treated = df["treat"].to_numpy().astype(bool)
        key = df["pid"].to_numpy()

        def rank_fn(pos: np.ndarray) -> np.ndarray:
            o = np.argsort(key[pos], kind="stable")
            r = np.empty(len(pos), dtype=np.int64)
            r[o] = np.arange(len(pos))
            return r

        def after():  # type: ignore[no-untyped-def]
            p = mahalanobis_nearest(X, treated, None, rank_fn, rng=np.random.default_rng(0))
            return list(zip(p.treated.tolist(), p.control.tolist()))

        impls = {"before (tree query per unit)": lambda: old_mahalanobis_nearest(X, treated, rank_fn),
                 "after": after}
        names_ = list(impls)
        times: dict[str, list[float]] = {k: [] for k in names_}
        speed: list[float] = []
        pairs: dict[str, set] = {}
        for r in range(rounds):
            got = {}
            for k in (names_ if r % 2 == 0 else names_[::-1]):
                out, got[k] = timed(impls[k])
                pairs[k] = set(out)
            for k in names_:
                times[k].append(got[k])
            speed.append(got[names_[0]] / got["after"])
        same = pairs[names_[0]] == pairs["after"]
        for k in names_:
            rows.append(dict(data=label, covariates=X.shape[1], treated=n_t, controls=n_c, impl=k,
                             seconds=statistics.median(times[k]),
                             speedup=statistics.median(speed) if k == "after" else 1.0,
                             pairs=len(pairs[k]), same_pairs=same))
        print(f"mahalanobis {label} done", file=sys.stderr, flush=True)
    return pd.DataFrame(rows)


# -- 3. risk sets -------------------------------------------------------------------------------------
def bench_riskset(pools: list[int]) -> pd.DataFrame:
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_matching import riskset_panel

    from impact.design import match_riskset

    rows = []
    for n in pools:
        panel = riskset_panel(n=n, n_part=n * 28 // 1000)

        def run():  # type: ignore[no-untyped-def]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return match_riskset(panel, id="pid", period="month", entry="entry",
                                     covariates=["age", "months_unemployed"], exact="gender",
                                     caliper=0.2)
        _, t_plain = timed(run)
        m, _, peak = traced(run)
        rows.append(dict(pool=n, person_months=len(panel),
                         input_bytes_per_pm=panel.memory_usage(deep=True).sum() / len(panel),
                         seconds=t_plain, us_per_pm=1e6 * t_plain / len(panel),
                         peak_mb=peak / 2**20, bytes_per_pm=peak / len(panel),
                         matched=int(m.sample_sizes.loc["matched", "treated"])))
        print(f"riskset {n} done", file=sys.stderr, flush=True)
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="S,M,L")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-mahalanobis", action="store_true")
    ap.add_argument("--no-riskset", action="store_true")
    ap.add_argument("--riskset-pools", default="100000,300000",
                    help="people in the synthetic panels (about 13 person-months each)")
    a = ap.parse_args()
    import scipy.linalg  # noqa: F401  (imports outside the timings)
    import scipy.special  # noqa: F401
    import statsmodels.api  # noqa: F401

    import impact  # noqa: F401

    pd.set_option("display.width", 200)
    fmt = {"float_format": lambda v: f"{v:.3g}", "index": False}
    lg = bench_logit([s.strip() for s in a.sizes.split(",")], a.rounds)
    print("\nPropensity logit, 20 covariates (median of rounds; x_newton: ratio to the numpy Newton "
          "floor within a round; x_design: peak / size of [1, X])")
    print(lg.to_string(**fmt))
    if not a.no_mahalanobis:
        mh = bench_mahalanobis(a.rounds)
        print("\nMahalanobis 1:1 greedy matching at M (speedup: before / after within a round)")
        print(mh.to_string(**fmt))
    if not a.no_riskset:
        rs = bench_riskset([int(v) for v in a.riskset_pools.split(",")])
        print("\nRisk-set matching: tracemalloc peak per person-month at risk (input panel not counted)")
        print(rs.to_string(**fmt))


if __name__ == "__main__":
    main()
