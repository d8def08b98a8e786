"""Treatment effects on the matched (or weighted) sample, for all and by subgroup.

For each subgroup (everyone, then each level of ``by``, e.g. women and men):

* ``share_treated``, ``share_control``, ``share_diff``: the weighted Aalen-Johansen cumulative
  incidence of work or studies at each horizon (other exits compete; censoring at the cut-off),
  and the difference participants minus controls;
* ``rmst_treated``, ``rmst_control``, ``rmst_diff``: restricted mean days *not yet* in work or
  studies up to each horizon (the horizon minus the area under the cumulative incidence); a
  negative difference means participants get there sooner;
* ``subdistribution_hazard_ratio``: Fine-Gray model of the subdistribution hazard (other exits
  stay in the risk set), the hazard-scale counterpart of the share difference;
* ``time_ratio``: Weibull accelerated failure time model; below 1 means participants reach work
  or studies in that fraction of the controls' time ("X% shorter expected time");
* ``hazard_ratio``: a Cox model of the cause-specific hazard of work or studies on treatment
  (Efron ties, case weights);
* a test of whether the effect differs between the subgroups (``subgroup="female - male"``).

Standard errors are infinitesimal-jackknife (influence-function) sums over matched sets, so
they respect the matched design: the two members of a pair are not independent, and a control
used in several sets counts once per set. Without a cluster column each row is its own cluster.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats

from impact._validation import check_columns, check_number, check_option
from impact._errors import DataError, ParameterError
from impact.outcomes import CENSORED, COMPETING, EVENT

__all__ = ["EffectsResult", "estimate_effects"]

SUMMARY_COLUMNS = ["subgroup", "estimand", "horizon", "estimate", "se", "ci_low", "ci_high", "p_value"]


@dataclass(frozen=True)
class EffectsResult:
    """Effects by subgroup. ``summary()`` is tidy; ``conf_level`` says what the interval is."""

    table: pd.DataFrame
    curves: pd.DataFrame
    conf_level: float
    settings: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def summary(self) -> pd.DataFrame:
        """``subgroup, estimand, horizon, estimate, se, ci_low, ci_high, p_value`` (+ counts)."""
        return self.table.copy()

    def headline(self) -> pd.DataFrame:
        """The share difference at each horizon and the hazard ratio, one row per subgroup."""
        t = self.table
        rows = t[t["estimand"].isin(["share_diff", "hazard_ratio"])].copy()
        rows["label"] = np.where(rows["estimand"] == "hazard_ratio", "hazard ratio",
                                 "share diff " + rows["horizon"].map(lambda h: f"{h:g}d", na_action="ignore").astype(str))
        fmt = rows.apply(lambda r: f"{r.estimate:.3f} [{r.ci_low:.3f}, {r.ci_high:.3f}]"
                         if np.isfinite(r.estimate) else "not estimable", axis=1)
        out = pd.DataFrame({"subgroup": rows["subgroup"], "label": rows["label"], "value": fmt})
        order = list(dict.fromkeys(out["label"]))
        wide = out.pivot(index="subgroup", columns="label", values="value")[order]
        wide.columns.name = None
        return wide.reindex([s for s in dict.fromkeys(rows["subgroup"])])

    def __repr__(self) -> str:
        subs = ", ".join(dict.fromkeys(self.table["subgroup"]))
        return f"EffectsResult({len(self.table)} estimates; subgroups: {subs}; {self.conf_level:.0%} CI)"

    def _repr_html_(self) -> str:
        head = (f"<p><b>Effects</b> ({self.conf_level:.0%} intervals; SE: {self.settings.get('se_method')})</p>")
        notes = "".join(f"<li>{n}</li>" for n in self.notes)
        return head + self.table.to_html(index=False, float_format=lambda x: f"{x:.4g}") + (
            f"<ul>{notes}</ul>" if notes else "")

    def plot(self, kind: str = "curves", ax: Any = None) -> Any:
        """``kind="curves"``: cumulative incidence of work or studies by arm and subgroup;
        ``kind="forest"``: share differences and hazard ratios with intervals."""
        from impact.plotting import plot_effect_curves, plot_forest
        if kind == "curves":
            return plot_effect_curves(self.curves, ax=ax)
        if kind == "forest":
            return plot_forest(self.table, ax=ax)
        raise ParameterError(f"The 'kind' parameter of EffectsResult.plot must be one of 'curves', 'forest'. Got {kind!r}.")


def _unwrap(matched: Any, treatment: str | None) -> tuple[pd.DataFrame, str]:
    if isinstance(matched, pd.DataFrame):
        data = matched
    elif hasattr(matched, "matched_data"):
        data = matched.matched_data
        treatment = treatment or getattr(matched, "treatment", None)
    else:
        raise ParameterError(
            "The 'matched' parameter of estimate_effects must be a DataFrame or a match result. "
            f"Got {type(matched).__name__}.")
    if treatment is None:
        raise ParameterError("estimate_effects needs the name of the treatment column: treatment='...'.")
    return data, treatment


def estimate_effects(matched: Any, duration: str = "duration", event: str = "event", *,
                     treatment: str | None = None, by: str | None = "gender",
                     horizons: Sequence[float] = (90, 180, 365), weights: str | None = "weights",
                     cluster: str | None = "subclass", conf_level: float = 0.95,
                     se_method: Literal["influence", "bootstrap"] = "influence", n_boot: int = 500,
                     random_state: int | None = 0, n_jobs: int = 1, progress: bool = False,
                     adjust: Sequence[str] | None = None, subdistribution: bool = True) -> EffectsResult:
    """Estimate effects on time to work or studies, for all and by subgroup.

    Parameters
    ----------
    matched : DataFrame or match result
        The matched data (``result.matched_data``) with outcomes from
        :func:`impact.time_to_event`, or a match result whose ``matched_data`` has them.
    duration : str
        Days from start to exit or censoring (> 0).
    event : str
        0 censored, 1 work or studies (the event), 2 (or any other code) a competing exit.
    treatment : str
        Treatment column (taken from the match result when one is passed).
    by : str or None
        Subgroup column; effects are estimated for everyone and for each level.
    horizons : sequence of float
        Days at which shares in work or studies are compared.
    weights, cluster : str or None
        Matching weights and matched-set columns; ``None`` (or absent) means 1 and one cluster
        per row.
    conf_level : float
        Confidence level of the intervals.
    se_method : {"influence", "bootstrap"}
        ``"influence"`` (default): infinitesimal-jackknife standard errors summed within matched
        sets, normal intervals. ``"bootstrap"``: matched sets resampled with replacement
        ``n_boot`` times (all rows of a set move together); standard errors are the SD of the
        replicates and intervals are percentile intervals (hazard ratios on the log scale).
    n_boot, random_state, n_jobs, progress
        Bootstrap replicates, seed (replicate ``b`` uses child ``b`` of
        ``numpy.random.SeedSequence(random_state)``, so the answer does not depend on
        ``n_jobs``), worker processes (joblib) and a progress bar (tqdm).

    adjust : sequence of str, optional
        Covariates added to the outcome (Cox) model beside treatment: regression adjustment
        on the matched sample, which guards against residual imbalance (doubly robust in the
        sense of Ho, Imai, King and Stuart 2007). The hazard, time and subdistribution hazard
        ratios are then conditional on them; shares and restricted means stay the matched
        comparison. Categorical columns are
        expanded as a formula would.
    subdistribution : bool
        Also fit the Fine-Gray model (``subdistribution_hazard_ratio``). It expands the data
        around every competing exit, so it is the slowest estimand; turn it off for quick looks.

    Returns
    -------
    EffectsResult

    Examples
    --------
    >>> import impact
    >>> sim = impact.simulate(n_pool=3000, random_state=5)
    >>> v = impact.validate(sim.registers, sim.roles)
    >>> m = impact.match(v.data, treatment="participant", covariates=list(sim.roles.covariates),
    ...                  caliper=0.2, exact=["gender"], id="person_id")
    >>> data = impact.time_to_event(m.matched_data, sim.roles)
    >>> res = estimate_effects(data, treatment="participant", by="gender")
    >>> res.summary().columns[:8].tolist()
    ['subgroup', 'estimand', 'horizon', 'estimate', 'se', 'ci_low', 'ci_high', 'p_value']
    """
    data, treatment = _unwrap(matched, treatment)
    check_option("se_method", se_method, ["influence", "bootstrap"], "estimate_effects")
    check_number("n_boot", n_boot, "estimate_effects", low=20, integer=True)
    check_number("n_jobs", n_jobs, "estimate_effects", integer=True)
    check_number("conf_level", conf_level, "estimate_effects", low=0, high=1,
                 low_inclusive=False, high_inclusive=False)
    horizons = tuple(float(h) for h in horizons)
    for h in horizons:
        check_number("horizons", h, "estimate_effects", low=0, low_inclusive=False)
    cols = [duration, event, treatment] + ([by] if by else [])
    check_columns(data, cols)
    w_col = weights if weights and weights in data.columns else None
    c_col = cluster if cluster and cluster in data.columns else None
    notes: list[str] = []
    if weights and w_col is None:
        notes.append(f"No '{weights}' column: every row has weight 1.")
    if cluster and c_col is None:
        notes.append(f"No '{cluster}' column: each row is its own cluster (independent units).")
    _check_inputs(data, duration, event, treatment, w_col)
    if adjust:
        check_columns(data, list(adjust), role="adjustment covariate")
        if data[list(adjust)].isna().any().any():
            from impact._errors import data_error
            miss = data[list(adjust)].isna().any(axis=1).to_numpy()
            raise data_error(", ".join(c for c in adjust if data[c].isna().any()),
                             "missing values in adjustment covariates", miss)
        notes.append("Hazard, time and subdistribution hazard ratios adjusted for " + ", ".join(adjust)
                     + " in the outcome models (conditional on them); shares and restricted means are the "
                     "unadjusted matched comparison.")
        if se_method == "bootstrap":
            notes.append("The bootstrap re-fits the unadjusted Cox model; with 'adjust' the hazard-ratio "
                         "SEs are the clustered sandwich ones.")
    if c_col is not None and data[c_col].isna().any():
        from impact._errors import data_error
        raise data_error(c_col, "missing matched-set ids (a control used in several sets under "
                         "replacement has no single set)", data[c_col].isna().to_numpy(),
                         "Estimate on result.get_matches(), one row per set membership, or pass "
                         "cluster=None to treat rows as independent.")

    z = stats.norm.ppf(0.5 + conf_level / 2)
    groups: list[tuple[str, np.ndarray]] = [("all", np.ones(len(data), bool))]
    if by:
        from impact.data import require_subgroup_levels
        for lev in require_subgroup_levels(data, by, treatment):
            groups.append((str(lev), (data[by] == lev).to_numpy()))

    rows: list[dict] = []
    curves: list[pd.DataFrame] = []
    infl: dict[tuple[str, str, float], tuple[np.ndarray, np.ndarray]] = {}
    for name, mask in groups:
        sub = data.loc[mask]
        r, c, inf = _subgroup_effects(sub, name, duration, event, treatment, w_col, c_col, horizons, z, notes,
                                      adjust=list(adjust or []), subdistribution=subdistribution)
        rows += r
        curves.append(c)
        infl.update(inf)

    if by and len(groups) == 3:
        if c_col is not None and data.groupby(c_col)[by].nunique().gt(1).any():
            notes.append(f"Some matched sets span several '{by}' levels: the test of the hazard-ratio "
                         "difference treats the subgroup fits as independent (match exactly on "
                         f"'{by}' to make that hold).")
        rows += _difference_tests(rows, infl, groups[1][0], groups[2][0], z)
    elif by and len(groups) > 3:
        notes.append(f"'{by}' has {len(groups) - 1} levels: no pairwise test of differences reported.")

    table = pd.DataFrame(rows)
    se_text = ("infinitesimal jackknife clustered on " + c_col) if c_col else "infinitesimal jackknife"
    if se_method == "bootstrap":
        arrays = _arrays(data, duration, event, treatment, w_col, c_col)
        boot = _bootstrap(arrays, groups, horizons, n_boot, random_state, n_jobs, progress)
        if adjust:  # replicates re-fit the unadjusted model: keep the sandwich SEs for hazard ratios
            keys, reps = boot
            keep = [i for i, k in enumerate(keys) if k[1] != "hazard_ratio"]
            boot = ([keys[i] for i in keep], reps[:, keep])
        if subdistribution:
            notes.append("The bootstrap does not re-fit the Fine-Gray model: subdistribution hazard ratios "
                         "keep their sandwich SEs clustered on matched sets.")
        table = _apply_bootstrap(table, boot, conf_level)
        se_text = (f"bootstrap of {n_boot} replicates resampling "
                   + (f"matched sets ('{c_col}')" if c_col else "rows") + ", percentile intervals")
    cols_out = SUMMARY_COLUMNS + [c for c in table.columns if c not in SUMMARY_COLUMNS]
    settings = dict(duration=duration, event=event, treatment=treatment, by=by, horizons=horizons,
                    weights=w_col, cluster=c_col, conf_level=conf_level, se_method=se_text,
                    n_boot=n_boot if se_method == "bootstrap" else None,
                    random_state=random_state if se_method == "bootstrap" else None)
    notes.insert(0, "Share in work or studies: weighted Aalen-Johansen cumulative incidence, other exits "
                    "as competing events; hazard ratio: Cox model of the cause-specific hazard (Efron ties).")
    return EffectsResult(table=table[cols_out], curves=pd.concat(curves, ignore_index=True),
                         conf_level=conf_level, settings=settings, notes=tuple(dict.fromkeys(notes)))


def _check_inputs(data: pd.DataFrame, duration: str, event: str, treatment: str, w_col: str | None) -> None:
    from impact._errors import data_error
    d = pd.to_numeric(data[duration], errors="coerce")
    if d.isna().any():
        raise data_error(duration, "missing or non-numeric durations", d.isna().to_numpy())
    if (d <= 0).any():
        raise data_error(duration, "durations must be > 0", (d <= 0).to_numpy())
    e = data[event]
    if e.isna().any():
        raise data_error(event, "missing event codes", e.isna().to_numpy())
    if not pd.api.types.is_numeric_dtype(e):
        raise data_error(event, "event codes must be integers (0 censored, 1 event, 2 competing)",
                         np.ones(len(e), bool))
    undeclared = ~e.isin([CENSORED, EVENT, COMPETING]).to_numpy()
    if undeclared.any():
        codes = ", ".join(map(str, sorted(pd.unique(e[undeclared]))[:5]))
        raise data_error(event, f"undeclared event codes {codes} (expected 0 censored, 1 work or studies, "
                         "2 other exit)", undeclared, "Recode with impact.time_to_event, or map them first.")
    t = data[treatment]
    bad = ~t.isin([0, 1]).to_numpy()
    if bad.any():
        raise data_error(treatment, "treatment must be 0/1", bad)
    if w_col is not None:
        w = data[w_col]
        if w.isna().any() or (w < 0).any():
            raise data_error(w_col, "weights must be >= 0 and not missing", (w.isna() | (w < 0)).to_numpy())
        if float(w.sum()) <= 0:
            raise DataError(f"Column '{w_col}': all weights are zero.", column=w_col, rule="weights not all zero")


def _subgroup_effects(sub: pd.DataFrame, name: str, duration: str, event: str, treatment: str,
                      w_col: str | None, c_col: str | None, horizons: tuple[float, ...], z: float,
                      notes: list[str], adjust: list[str] | None = None, subdistribution: bool = True):
    from impact.survival import AFT, CoxPH, aalen_johansen, fine_gray

    dur = sub[duration].to_numpy(float)
    ev = sub[event].to_numpy()
    cause = np.where(ev == CENSORED, 0, np.where(ev == EVENT, 1, 2))
    t = sub[treatment].to_numpy() == 1
    w = sub[w_col].to_numpy(float) if w_col else np.ones(len(sub))
    cl = sub[c_col].to_numpy() if c_col else np.arange(len(sub))
    counts = dict(n_treated=int(t.sum()), n_control=int((~t).sum()),
                  events_treated=int(((cause == 1) & t).sum()), events_control=int(((cause == 1) & ~t).sum()))
    rows, curves_out, infl = [], [], {}
    arms = {}
    for arm, m in (("treated", t), ("control", ~t)):
        aj = aalen_johansen(dur[m], cause[m], weights=w[m], cluster=cl[m], causes=[1, 2])
        arms[arm] = (aj, m)
        grid = np.unique(np.r_[0.0, dur[m][cause[m] == 1]])
        cur = aj.cif(1, grid)
        cur = cur.assign(subgroup=name, arm=arm)
        curves_out.append(cur)

    for h in horizons:
        est, vals = {}, {}
        beyond = any(h > dur[m].max() for _, m in arms.values())
        for arm, (aj, m) in arms.items():
            est[arm] = float(aj.cif(1, [h])["estimate"].iloc[0]) if not beyond else np.nan
            vals[arm] = aj.influence(1, [h])[:, 0] if not beyond else None
        if beyond:
            notes.append(f"{name}: horizon {h:g} days is beyond the follow-up of one arm; not estimated.")
            for est_name in ("share_treated", "share_control", "share_diff",
                             "rmst_treated", "rmst_control", "rmst_diff"):
                rows.append(dict(subgroup=name, estimand=est_name, horizon=h, estimate=np.nan, se=np.nan,
                                 ci_low=np.nan, ci_high=np.nan, p_value=np.nan, **counts))
            continue
        for arm in ("treated", "control"):
            m = arms[arm][1]
            se = _cluster_se(vals[arm], cl[m])
            rows.append(dict(subgroup=name, estimand=f"share_{arm}", horizon=h, estimate=est[arm], se=se,
                             ci_low=est[arm] - z * se, ci_high=est[arm] + z * se, p_value=np.nan, **counts))
        # the difference: treated influence minus control influence, summed within matched sets
        diff_infl = np.r_[vals["treated"], -vals["control"]]
        diff_cl = np.r_[cl[arms["treated"][1]], cl[arms["control"][1]]]
        d = est["treated"] - est["control"]
        se = _cluster_se(diff_infl, diff_cl)
        rows.append(dict(subgroup=name, estimand="share_diff", horizon=h, estimate=d, se=se,
                         ci_low=d - z * se, ci_high=d + z * se, p_value=_p(d, se), **counts))
        infl[(name, "share_diff", h)] = (diff_infl, diff_cl)

        # restricted mean days not yet in work or studies, up to h: h - integral of the CIF
        rm, rm_infl = {}, {}
        for arm, (aj, m) in arms.items():
            jumps = np.unique(dur[m][(cause[m] == 1) & (dur[m] <= h)])
            if jumps.size:
                rm[arm], widths = _days_not_in(jumps, aj.cif(1, jumps)["estimate"].to_numpy(), h)
                rm_infl[arm] = -(aj.influence(1, jumps) @ widths)
            else:
                rm[arm], rm_infl[arm] = h, np.zeros(int(m.sum()))
        for arm in ("treated", "control"):
            se = _cluster_se(rm_infl[arm], cl[arms[arm][1]])
            rows.append(dict(subgroup=name, estimand=f"rmst_{arm}", horizon=h, estimate=rm[arm], se=se,
                             ci_low=rm[arm] - z * se, ci_high=rm[arm] + z * se, p_value=np.nan, **counts))
        d = rm["treated"] - rm["control"]
        rmd_infl = np.r_[rm_infl["treated"], -rm_infl["control"]]
        se = _cluster_se(rmd_infl, diff_cl)
        rows.append(dict(subgroup=name, estimand="rmst_diff", horizon=h, estimate=d, se=se,
                         ci_low=d - z * se, ci_high=d + z * se, p_value=_p(d, se), **counts))
        infl[(name, "rmst_diff", h)] = (rmd_infl, diff_cl)

    if counts["events_treated"] == 0 or counts["events_control"] == 0:
        notes.append(f"{name}: no exits to work or studies in one arm; hazard ratio not estimable.")
        for estimand in ("hazard_ratio", "time_ratio") + (("subdistribution_hazard_ratio",) if subdistribution else ()):
            rows.append(dict(subgroup=name, estimand=estimand, horizon=np.nan, estimate=np.nan, se=np.nan,
                             ci_low=np.nan, ci_high=np.nan, p_value=np.nan, **counts))
        return rows, pd.concat(curves_out, ignore_index=True), infl
    cox_df = pd.DataFrame({"duration": dur, "event": (cause == 1).astype(int), "treated": t.astype(float),
                           "w": w, "cluster": cl})
    terms = ["treated"]
    if adjust:
        from impact.data import expand_covariates
        X, names = expand_covariates(sub, adjust)
        keep = X.std(axis=0) > 0          # a level absent from this subgroup has no column
        extra = pd.DataFrame(X[:, keep], columns=[f"adj:{n}" for n, k in zip(names, keep) if k])
        cox_df = pd.concat([cox_df, extra], axis=1)
        terms += list(extra.columns)
    fit = CoxPH(ties="efron").fit(cox_df, duration_col="duration", event_col="event", covariates=terms,
                                  weights_col="w", cluster_col="cluster")
    fits = {"hazard_ratio": fit}
    # subdistribution hazard of work or studies (Fine-Gray): other exits stay in the risk set
    if subdistribution:
        fits["subdistribution_hazard_ratio"] = fine_gray(
            cox_df.assign(cause=cause), "duration", "cause", 1, covariates=terms, weights_col="w",
            cluster_col="cluster", causes=[1, 2])
    # accelerated failure time (Weibull): time to work or studies, other exits censoring it
    fits["time_ratio"] = AFT(dist="weibull").fit(cox_df, duration_col="duration", event_col="event",
                                                 covariates=terms, weights_col="w", cluster_col="cluster")
    for estimand, f in fits.items():
        s = f.summary().set_index("term").loc["treated"]
        b, se = float(s["estimate"]), float(s["se"])
        rows.append(dict(subgroup=name, estimand=estimand, horizon=np.nan, estimate=float(np.exp(b)), se=se,
                         ci_low=float(np.exp(b - z * se)), ci_high=float(np.exp(b + z * se)),
                         p_value=_p(b, se), **counts))
        infl[(name, f"log_{estimand}", np.nan)] = (np.array([b]), np.array([se]))
    return rows, pd.concat(curves_out, ignore_index=True), infl


def _days_not_in(times: np.ndarray, cif: np.ndarray, h: float) -> tuple[float, np.ndarray]:
    """Restricted mean days not yet in work or studies up to ``h`` (``h`` minus the area under the
    step function ``cif`` that jumps at ``times <= h``), and the widths the area was taken over."""
    widths = np.diff(np.r_[times, h])
    return h - float(cif @ widths), widths


def _cluster_se(influence: np.ndarray, clusters: np.ndarray) -> float:
    codes = pd.factorize(pd.Series(clusters), sort=False)[0]
    sums = np.bincount(codes, weights=influence)
    return float(np.sqrt(np.sum(sums ** 2)))


def _p(est: float, se: float) -> float:
    if not np.isfinite(se) or se <= 0:
        return np.nan
    return float(2 * stats.norm.sf(abs(est / se)))


def _difference_tests(rows: list[dict], infl: dict, a: str, b: str, z: float) -> list[dict]:
    """Test of whether the effect differs between subgroups ``a`` and ``b``.

    Share differences: the influence functions of the two subgroup estimates are summed within
    matched sets, so sets that span both subgroups are handled. Hazard ratios come from
    separate fits; they are treated as independent, which holds when matching was exact on the
    subgroup (no matched set spans both).
    """
    out = []
    label = f"{a} - {b}"
    for (name, estimand, h), (vals, cl) in list(infl.items()):
        if name != a or estimand not in ("share_diff", "rmst_diff") or (b, estimand, h) not in infl:
            continue
        vb, cb = infl[(b, estimand, h)]
        ea = next(r["estimate"] for r in rows if r["subgroup"] == a and r["estimand"] == estimand and r["horizon"] == h)
        eb = next(r["estimate"] for r in rows if r["subgroup"] == b and r["estimand"] == estimand and r["horizon"] == h)
        d = ea - eb
        se = _cluster_se(np.r_[vals, -vb], np.r_[cl, cb])
        out.append(dict(subgroup=label, estimand=estimand, horizon=h, estimate=d, se=se,
                        ci_low=d - z * se, ci_high=d + z * se, p_value=_p(d, se)))
    for estimand in ("hazard_ratio", "time_ratio", "subdistribution_hazard_ratio"):
        la = next((v for k, v in infl.items() if k[0] == a and k[1] == f"log_{estimand}"), None)
        lb = next((v for k, v in infl.items() if k[0] == b and k[1] == f"log_{estimand}"), None)
        if la is None or lb is None:
            continue
        diff = float(la[0][0] - lb[0][0])
        se = float(np.hypot(la[1][0], lb[1][0]))
        out.append(dict(subgroup=label, estimand=estimand, horizon=np.nan, estimate=float(np.exp(diff)),
                        se=se, ci_low=float(np.exp(diff - z * se)), ci_high=float(np.exp(diff + z * se)),
                        p_value=_p(diff, se)))
    return out


# ---- bootstrap over matched sets ------------------------------------------------------------

def _arrays(data: pd.DataFrame, duration: str, event: str, treatment: str, w_col: str | None,
            c_col: str | None) -> dict[str, np.ndarray]:
    ev = data[event].to_numpy()
    cl = data[c_col].to_numpy() if c_col else np.arange(len(data))
    return dict(dur=data[duration].to_numpy(float),
                cause=np.where(ev == CENSORED, 0, np.where(ev == EVENT, 1, 2)),
                t=data[treatment].to_numpy() == 1,
                w=data[w_col].to_numpy(float) if w_col else np.ones(len(data)),
                cl=pd.factorize(pd.Series(cl), sort=True)[0])


_NO_HORIZON = -1.0  # horizon key of estimands without a horizon (NaN keys do not survive pickling)


def _point_estimates(a: dict[str, np.ndarray], w: np.ndarray, groups: list[tuple[str, np.ndarray]],
                     horizons: tuple[float, ...]) -> dict[tuple[str, str, float], float]:
    """Point estimates only (no standard errors), on the working scale (log for hazard ratios)."""
    from impact.survival import CoxPH, aalen_johansen
    out: dict[tuple[str, str, float], float] = {}
    for name, mask in groups:
        per_arm = {}
        for arm, m in (("treated", a["t"]), ("control", ~a["t"])):
            keep = mask & m & (w > 0)
            if not keep.any() or not (a["cause"][keep] > 0).any():
                per_arm[arm] = None
                continue
            aj = aalen_johansen(a["dur"][keep], a["cause"][keep], weights=w[keep], causes=[1, 2])
            per_arm[arm] = (aj.table["time"].to_numpy(), aj.table["cif_1"].to_numpy(), aj.last_time)
        for h in horizons:
            vals = {}
            for arm, tab in per_arm.items():
                if tab is None or h > tab[2]:
                    vals[arm] = (np.nan, np.nan)
                    continue
                times, F, _ = tab
                upto = times <= h
                share = F[upto][-1] if upto.any() else 0.0
                vals[arm] = (share, _days_not_in(times[upto], F[upto], h)[0])
            for i, est in enumerate(("share", "rmst")):
                out[(name, f"{est}_treated", h)] = vals["treated"][i]
                out[(name, f"{est}_control", h)] = vals["control"][i]
                out[(name, f"{est}_diff", h)] = vals["treated"][i] - vals["control"][i]
        keep = mask & (w > 0)
        ev1 = a["cause"][keep] == 1
        tk = a["t"][keep]
        b = np.nan
        if (ev1 & tk).any() and (ev1 & ~tk).any():
            cox_df = pd.DataFrame({"duration": a["dur"][keep], "event": ev1.astype(int),
                                   "treated": tk.astype(float), "w": w[keep]})
            fit = CoxPH(ties="efron").fit(cox_df, duration_col="duration", event_col="event",
                                          covariates=["treated"], weights_col="w")
            b = float(fit.params_.iloc[0])
        out[(name, "hazard_ratio", _NO_HORIZON)] = b
    if len(groups) == 3:
        ga, gb = groups[1][0], groups[2][0]
        for (name, est, h), v in list(out.items()):
            if name == ga and est in ("share_diff", "rmst_diff", "hazard_ratio"):
                out[(f"{ga} - {gb}", est, h)] = v - out[(gb, est, h)]
    return out


def _replicates(a: dict[str, np.ndarray], groups, horizons, seeds, keys) -> np.ndarray:
    n_cl = int(a["cl"].max()) + 1
    res = np.empty((len(seeds), len(keys)))
    for i, ss in enumerate(seeds):
        rng = np.random.default_rng(ss)
        counts = np.bincount(rng.integers(0, n_cl, n_cl), minlength=n_cl)
        est = _point_estimates(a, a["w"] * counts[a["cl"]], groups, horizons)
        res[i] = [est.get(k, np.nan) for k in keys]
    return res


def _bootstrap(a: dict[str, np.ndarray], groups, horizons, n_boot: int, random_state: int | None,
               n_jobs: int, progress: bool) -> tuple[list, np.ndarray]:
    from joblib import Parallel, delayed
    from tqdm.auto import tqdm
    keys = list(_point_estimates(a, a["w"], groups, horizons))
    seeds = np.random.SeedSequence(random_state).spawn(n_boot)
    chunk = 10
    chunks = [seeds[i:i + chunk] for i in range(0, n_boot, chunk)]
    jobs = (delayed(_replicates)(a, groups, horizons, c, keys) for c in chunks)
    parts = Parallel(n_jobs=n_jobs, return_as="generator")(jobs)
    bar = tqdm(parts, total=len(chunks), disable=not progress, desc="bootstrap", unit=f"x{chunk}")
    return keys, np.vstack(list(bar))


def _apply_bootstrap(table: pd.DataFrame, boot: tuple[list, np.ndarray], conf_level: float) -> pd.DataFrame:
    keys, reps = boot
    alpha = 1 - conf_level
    table = table.copy()
    index = {key: i for i, key in enumerate(keys)}
    for r in table.itertuples():
        k = (r.subgroup, r.estimand, float(r.horizon) if np.isfinite(r.horizon) else _NO_HORIZON)
        if k not in index:
            continue
        x = reps[:, index[k]]
        x = x[np.isfinite(x)]
        if x.size < 10 or not np.isfinite(r.estimate):
            continue
        lo, hi = np.quantile(x, [alpha / 2, 1 - alpha / 2])
        se = float(np.std(x, ddof=1))
        log_scale = r.estimand.endswith("_ratio")
        est_w = np.log(r.estimate) if log_scale else r.estimate
        table.loc[r.Index, ["se", "ci_low", "ci_high"]] = [se, np.exp(lo) if log_scale else lo,
                                                           np.exp(hi) if log_scale else hi]
        if not np.isnan(r.p_value) or r.estimand.endswith("diff") or log_scale:
            table.loc[r.Index, "p_value"] = _p(est_w, se)
    return table
