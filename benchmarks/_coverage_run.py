"""One replicate of the coverage benchmark for the mean-difference and AIPTW estimands, and the table.

``replicate(rep, n, seed)`` simulates data set ``rep`` (``SeedSequence(seed, spawn_key=(rep,))``,
child ``rep`` of ``SeedSequence(seed)``, so it does not depend on the order or the process it runs
in), estimates every estimand and returns one row per estimand, design and group with the truth.
``run`` maps it over replicates with joblib; ``summarise`` makes the table.
"""

from __future__ import annotations

import os
import warnings

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import _coverage_dgp as dgp
import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from scipy import stats

import impact
import impact.registers
from impact import ImpactWarning
from impact.effects import ate_competing
from impact.effects import _means
from impact.effects._means import ai2016_adjust, scarce_controls

#: (label, ratio, replace) of the matching designs; the estimand of every one is the ATT.
DESIGNS = (("nearest 1:1", 1, False), ("nearest 2:1", 2, False), ("nearest 1:1 replace", 1, True))
#: Diagnostic design (second table): 1:1 on the true participation probability instead of the fitted one.
TRUE_SCORE = "nearest 1:1, true score"
AIPTW_DESIGN = "AIPTW (IPCW), all units"
#: Regression adjustment of the matched comparison (``adjust=ADJUST``): design label suffix.
ADJUSTED = ", adjusted"
ADJUST = ["x1", "x2", "x3"]
#: The unadjusted estimate with the Abadie-Imbens (2016) estimated-score variance: label suffix.
AI2016 = ", AI2016 SE"
#: Share of a gender's controls above which k:1 matching warns (the library's threshold).
SCARCE_SHARE = _means.SCARCE_SHARE
GROUPS = ("female", "male", "female - male")
COLUMNS = ["rep", "outcome", "estimand", "design", "group", "horizon", "truth", "estimate", "se", "ci_low",
           "ci_high", "covered", "se_method", "n_treated", "n_control", "prog_gap", "pool_share", "scarce"]
OUTCOME_TEXT = {
    "earnings": "mean_diff: continuous outcome",
    "days_work": f"mean_diff: days in work or studies within {dgp.H_DAYS} days",
    "share_work": "AIPTW share in work or studies by day h",
}


#: Where ``days_work`` comes from: ``impact.registers.time_in_states`` on the simulated register
#: extract when the library has it, else the simulation's own count (the same definition).
DAYS_SOURCE = "register" if hasattr(impact.registers, "time_in_states") else "simulated"
BASE_DATE = pd.Timestamp("2021-01-04")


def register_extract(df: pd.DataFrame) -> tuple[impact.registers.RegisterExtract, pd.DataFrame]:
    """The register extract of a data set simulated with ``spells=True``, and its index table.

    Everyone's index (start) date is ``BASE_DATE``; spells are dated from it; the cut-off is the
    last day of the ``H_DAYS`` window. The programme table is empty: a person who leaves on the
    start date itself has no spell open on it, which the extract rejects for a participant, and
    the days in work do not depend on it.
    """
    from impact.registers import RegisterExtract

    sp = df.attrs["spells"]

    def day(v: pd.Series) -> pd.Series:
        return BASE_DATE + pd.to_timedelta(v, unit="D")

    ext = RegisterExtract(
        persons=pd.DataFrame({"person_id": df["id"], "gender": df["gender"], "birth_year": 1980}),
        spells=pd.DataFrame({"person_id": sp["id"], "registered": day(sp["registered"]),
                             "deregistered": day(sp["deregistered"]), "code": sp["code"]}),
        programme=pd.DataFrame({"person_id": pd.Series([], dtype=np.int64),
                                "start": pd.Series([], dtype="datetime64[ns]")}),
        cutoff=BASE_DATE + pd.Timedelta(days=dgp.H_DAYS - 1))
    index = pd.DataFrame({"person_id": df["id"], "index_date": BASE_DATE})
    return ext, index


def register_days(df: pd.DataFrame) -> np.ndarray:
    """``days_in_work_<H_DAYS>`` of ``impact.registers.time_in_states`` on the simulated extract."""
    from impact.registers import time_in_states

    ext, index = register_extract(df)
    out = time_in_states(ext, index, horizons=[dgp.H_DAYS], months=None)
    return out[f"days_in_work_{dgp.H_DAYS}"].to_numpy()


def seed_sequence(rep: int, seed: int) -> np.random.SeedSequence:
    """The seed of replicate ``rep``: child ``rep`` of ``SeedSequence(seed)``."""
    return np.random.SeedSequence(seed, spawn_key=(rep,))


def replicate(rep: int, n: int, seed: int = 20261202, aiptw: bool = True, adjusted: bool = False,
              ai2016: bool = True) -> pd.DataFrame:
    """Estimate every estimand on data set ``rep`` of ``n`` people; one row per estimand x design x group.

    ``adjusted=True`` also estimates each matching design (not the true-score diagnostic) with
    regression adjustment for ``ADJUST`` (design label ``+ ADJUSTED``), on the same matched data;
    ``ai2016=True`` adds each unadjusted matching design with the Abadie-Imbens (2016) variance
    for the estimated score (label ``+ AI2016``, the same estimate); ``aiptw=False`` skips the
    AIPTW rows. None changes a random draw or another row. ``pool_share`` is ratio x treated /
    controls in the gender, ``scarce`` whether ``impact.effects._means.scarce_controls`` flags the
    gender (share above ``SCARCE_SHARE``: the unadjusted estimate then warns).
    """
    df = dgp.simulate(n, seed_sequence(rep, seed), spells=DAYS_SOURCE == "register")
    if DAYS_SOURCE == "register":
        days = register_days(df)
        if not np.array_equal(days, df["days_work"].to_numpy()):   # the same definition, so never
            raise AssertionError(f"replicate {rep}: time_in_states disagrees with the simulated days in work")
        df["days_work"] = days
    truth = dgp.truth()
    rows: list[dict[str, object]] = []
    covs = ["x1", "x2", "x3", "gender"]
    prog = dgp.prognostic(df)
    designs: list[tuple[str, int, bool, object]] = [(d, r, rep_, "glm") for d, r, rep_ in DESIGNS]
    designs.append((TRUE_SCORE, 1, False, dgp.true_score(df)))
    for design, ratio, replace, distance in designs:
        m = impact.match(df, treatment="treat", covariates=covs, exact=["gender"], ratio=ratio,
                         replace=replace, id="id", random_state=0, distance=distance)
        md = m.matched_data
        share = _pool_shares(df, ratio, replace)
        warned = {st.split("=", 1)[1] for st, _ in scarce_controls(m)}     # the strata the library flags
        warned |= {"female - male"} if warned else set()
        fits = [(design, None)] + ([(design + ADJUSTED, ADJUST)] if adjusted and design != TRUE_SCORE else [])
        fits += [(design + AI2016, "ai2016")] if ai2016 and design != TRUE_SCORE else []
        for (label, adjust), outcome in [(f, o) for o in ("earnings", "days_work") for f in fits]:
            with warnings.catch_warnings():   # the scarce-controls warning: counted in ``scarce`` instead
                warnings.simplefilter("ignore", ImpactWarning)
                if adjust == "ai2016":
                    res = ai2016_adjust(impact.estimate_effects(m, outcome=outcome, by="gender"), m)
                else:
                    res = impact.estimate_effects(m, outcome=outcome, by="gender", adjust=adjust)
            tab = res.summary()
            tab = tab[tab["estimand"] == "mean_diff"].set_index("subgroup")
            gaps = _prognostic_gaps(md, prog[outcome])
            for g in GROUPS:
                r = tab.loc[g]
                t = truth.value(outcome, g)
                rows.append(dict(rep=rep, outcome=outcome, estimand="ATT", design=label, group=g,
                                 horizon=float(dgp.H_DAYS) if outcome == "days_work" else np.nan, truth=t,
                                 estimate=float(r["estimate"]), se=float(r["se"]), ci_low=float(r["ci_low"]),
                                 ci_high=float(r["ci_high"]), covered=bool(r["ci_low"] <= t <= r["ci_high"]),
                                 se_method=str(r["se_method"]),
                                 n_treated=int(r["n_treated"]) if g != "female - male" else -1,
                                 n_control=int(r["n_control"]) if g != "female - male" else -1,
                                 prog_gap=gaps[g], pool_share=share[g],
                                 scarce=bool(not label.endswith(ADJUSTED) and g in warned)))
    z = float(stats.norm.ppf(0.975))
    per: dict[tuple[str, float], tuple[float, float]] = {}
    for g in dgp.GENDERS if aiptw else ():
        sub = df[df["gender"] == g]
        res = ate_competing(sub, duration="time", event="exit", treatment="treat", covariates=["x1", "x2", "x3"],
                            horizons=list(dgp.AIPTW_H), cause=1, estimator="aiptw")
        tab = res.summary()
        tab = tab[tab["arm"] == "treated - control"]
        for _, r in tab.iterrows():
            h = float(r["horizon"])
            t = truth.value("share_work", g, h)
            per[(g, h)] = (float(r["estimate"]), float(r["se"]))
            rows.append(dict(rep=rep, outcome="share_work", estimand="ATE", design=AIPTW_DESIGN, group=g,
                             horizon=h, truth=t, estimate=float(r["estimate"]), se=float(r["se"]),
                             ci_low=float(r["ci_low"]), ci_high=float(r["ci_high"]),
                             covered=bool(r["ci_low"] <= t <= r["ci_high"]), se_method="influence (riskRegression iid)",
                             n_treated=int(sub["treat"].sum()), n_control=int((sub["treat"] == 0).sum()),
                             prog_gap=np.nan, pool_share=np.nan, scarce=False))
    for h in dgp.AIPTW_H if aiptw else ():
        (ef, sf), (em, sm) = per[("female", h)], per[("male", h)]
        est, se = ef - em, float(np.hypot(sf, sm))   # independent samples
        t = truth.value("share_work", "female - male", h)
        lo, hi = est - z * se, est + z * se
        rows.append(dict(rep=rep, outcome="share_work", estimand="ATE", design=AIPTW_DESIGN, group="female - male",
                         horizon=float(h), truth=t, estimate=est, se=se, ci_low=lo, ci_high=hi,
                         covered=bool(lo <= t <= hi), se_method="sqrt(se_f^2 + se_m^2), separate fits",
                         n_treated=-1, n_control=-1, prog_gap=np.nan, pool_share=np.nan, scarce=False))
    return pd.DataFrame(rows, columns=COLUMNS)


def _pool_shares(df: pd.DataFrame, ratio: int, replace: bool) -> dict[str, float]:
    """``ratio x treated / controls`` per gender (0 with replacement: controls are reused, not used up);
    ``"female - male"`` gets the larger of the two."""
    out: dict[str, float] = {}
    for g in dgp.GENDERS:
        t = df.loc[df["gender"] == g, "treat"].to_numpy()
        out[g] = 0.0 if replace else float(ratio * t.sum() / (t == 0).sum())
    out["female - male"] = max(out["female"], out["male"])
    return out


def _prognostic_gaps(md: pd.DataFrame, prog: pd.Series) -> dict[str, float]:
    """Weighted mean of ``E[Y0 | x]`` in the matched treated minus the matched controls, by gender.

    The part of the bias that comes from imperfect matches (the other part, the mean of the
    effect over the matched treated minus the ATT, is 0 when every treated unit is matched).
    """
    p = prog.loc[md.index].to_numpy()
    w = md["weights"].to_numpy(float)
    t = md["treat"].to_numpy() == 1
    out: dict[str, float] = {}
    for g in dgp.GENDERS:
        s = (md["gender"] == g).to_numpy()
        a, b = s & t, s & ~t
        out[g] = float((w[a] * p[a]).sum() / w[a].sum() - (w[b] * p[b]).sum() / w[b].sum())
    out["female - male"] = out["female"] - out["male"]
    return out


def run(reps: int, n: int, seed: int = 20261202, n_jobs: int = 2, first: int = 0,
        aiptw: bool = True, adjusted: bool = False, ai2016: bool = True) -> pd.DataFrame:
    """Replicates ``first .. first + reps - 1`` (joblib); the answer does not depend on ``n_jobs``."""
    parts = Parallel(n_jobs=n_jobs)(delayed(replicate)(r, n, seed, aiptw, adjusted, ai2016)
                                    for r in range(first, first + reps))
    return pd.concat(parts, ignore_index=True)


def summarise(df: pd.DataFrame) -> pd.DataFrame:
    """Truth, mean estimate, bias, empirical SD, mean SE, coverage and its Monte Carlo error per row."""
    keys = ["outcome", "horizon", "design", "estimand", "group"]
    g = df.groupby(keys, dropna=False, sort=False)
    tab = pd.DataFrame({
        "R": g.size(),
        "truth": g["truth"].first(),
        "mean_est": g["estimate"].mean(),
    })
    tab["bias"] = tab["mean_est"] - tab["truth"]
    tab["bias_mcse"] = g["estimate"].std() / np.sqrt(tab["R"])
    tab["emp_sd"] = g["estimate"].std()
    tab["mean_se"] = g["se"].mean()
    tab["se_over_sd"] = tab["mean_se"] / tab["emp_sd"]
    tab["coverage"] = g["covered"].mean()
    tab["cov_mcse"] = np.sqrt(tab["coverage"] * (1 - tab["coverage"]) / tab["R"])
    tab["prog_gap"] = g["prog_gap"].mean()
    tab["pool_share"] = g["pool_share"].mean()
    tab["warned"] = g["scarce"].mean()
    tab["in_93_97"] = (tab["coverage"] >= 0.93) & (tab["coverage"] <= 0.97)
    return tab.reset_index()
