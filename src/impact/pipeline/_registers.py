"""The dynamic (risk-set) evaluation of a register extract: the main flow of :func:`impact.evaluate`.

Steps, each an ordinary public function that a notebook can repeat:

1. :meth:`impact.registers.RegisterExtract.validate` and :func:`impact.registers.risk_sets`: for each
   calendar month, the people registered and not yet in the programme on its first day, with their
   covariates as known on that day;
2. :func:`impact.design.match_riskset`: exact on the period, on gender and on bands of elapsed time
   in the open spell, greedy nearest neighbour on the propensity score of entering the programme in
   that period, within a caliper;
3. each control's clock starts on its participant's start date, and
   :func:`impact.registers.outcomes_from_spells` measures the outcome from the spell open on that
   date (censoring a control on the day it joins the programme itself for ``join_vs_never``);
4. for ``join_vs_never``, :func:`impact.effects.censoring_weights`: the censoring of a control on
   the day it joins is informative (who joins depends on covariates that also drive the hazard of
   work), so each control is weighted by the inverse probability of not yet having joined, from
   the covariates as of the index date (inverse probability of censoring weighting, as in
   target-trial emulation);
5. :func:`impact.estimate_effects` (or, with the weights, :func:`impact.effects.ipcw_effects`) for
   all, women and men, and the unknown-exit sensitivity (:func:`impact.registers.recode_unknown`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from impact._errors import DataError, ParameterError
from impact.data import Flow, Roles, Validated, data_fingerprint
from impact.effects import CensoringWeights, EffectsResult, censoring_weights, estimate_effects, ipcw_effects
from impact.registers import HISTORY, RegisterExtract, outcomes_from_spells, recode_unknown, risk_sets

__all__ = ["ESTIMAND_NOTES", "IPCW_NOTE", "run_registers", "naive_registers", "unknown_sensitivity", "cause_shares",
           "truth_for"]

TREATMENT = "entering"          # match_riskset's treatment column: starts the programme in that period
BAND = "elapsed_band"           # exact-matching column: band of elapsed days in the open spell

#: why each estimand, in words (shown in the report's notes)
ESTIMAND_NOTES = {
    "join_vs_never": ("Estimand join_vs_never (joining versus never joining, Li, Propert and Rosenbaum 2001): "
                      "a control who later joins the programme is censored on the day it starts (as "
                      "MatchTime's censor_at_treat), so the controls show what would have happened "
                      "without the programme. This is the effect the programme's goals speak of."),
    "join_vs_wait": ("Estimand join_vs_wait (joining now versus waiting, Sianesi 2004): controls who later "
                     "join keep their whole follow-up, so the comparison is with people who did not "
                     "start yet and may start later; it answers 'should this person start now or wait?'."),
}


#: why the controls of join_vs_never are weighted (shown in the report's notes)
IPCW_NOTE = ("Censoring at a control's own programme start is informative: who joins depends on economic "
             "assistance, background and elapsed time, which also drive the hazard of work, so the controls "
             "still followed late would be those least likely to join. Each control is therefore weighted, at "
             "each time, by the inverse of its estimated probability of not yet having joined given what was "
             "known on the index date (inverse probability of censoring weighting, as in target-trial "
             "emulation: Hernán and Robins; Danaei et al. 2013). Shares are weighted Aalen-Johansen "
             "estimates and the hazard ratio a weighted Cox model on the (start, stop] pieces; pass "
             "ipcw=False ([design] ipcw = false) for the unweighted analysis.")


def _default_covariates(extract: RegisterExtract) -> list[str]:
    """History covariates (with each benefit's months and whether any), then the fixed person columns."""
    gender = extract.columns.gender
    fixed = [c for c in extract.fixed_columns if c != gender]
    benefits = [x for b in extract.benefits for x in (f"{b}_months_12m", f"{b}_any_12m")]
    return [*HISTORY, *benefits, *fixed]


def _bands(elapsed: pd.Series, width: int, top: int) -> np.ndarray:
    return np.minimum(elapsed.to_numpy(dtype=np.float64) // width, top).astype(np.int64)


def run_registers(extract: RegisterExtract, *, estimand: str, covariates: Sequence[str] | None,
                  exact: Sequence[str] | None, elapsed_band: int | None, elapsed_bands: int,
                  caliper: float | None, ratio: int, reuse: str, period: str,
                  random_state: int, ipcw: bool = True, n_jobs: int = 1) -> dict[str, Any]:
    """Risk sets, matching and outcomes; returns the pieces :func:`impact.evaluate` puts together
    (``censoring``: the :class:`impact.effects.CensoringWeights` of ``join_vs_never`` with
    ``ipcw``, else ``None``)."""
    c = extract.columns
    extract = extract.validate()
    rs = risk_sets(extract, period)
    panel = rs.to_frame()             # one frame, stacked column by column (a RangeIndex)
    # match_riskset writes the set's period into 'index_date': keep the risk sets' own column apart
    panel.rename(columns={"index_date": "start_date"}, inplace=True)   # in place: no copy of the columns
    for b in extract.benefits:
        panel[f"{b}_any_12m"] = (panel[f"{b}_months_12m"] > 0).astype(np.int64)
    if TREATMENT in panel.columns and TREATMENT != "treated":
        raise DataError(f"The persons table has a column '{TREATMENT}', which the design adds; rename it.",
                        rule="reserved column")
    covs = list(covariates) if covariates is not None else _default_covariates(extract)
    missing_cols = [x for x in covs if x not in panel.columns]
    if missing_cols:
        valid = ", ".join(x for x in panel.columns if x not in (c.id, "period", "start_date", "asof", "treated",
                                                                 "entry"))
        raise ParameterError(f"The 'covariates' ([design] covariates) are not in the risk sets: "
                             f"{', '.join(missing_cols)}. Valid: {valid}.")
    exact_cols = [c.gender] + [x for x in (exact or []) if x != c.gender]
    if elapsed_band is not None:
        panel[BAND] = _bands(panel["elapsed_days"], int(elapsed_band), int(elapsed_bands) - 1)
        exact_cols.append(BAND)
    from impact.design import match_riskset
    cal: Any = caliper
    est: Any = estimand   # checked by evaluate's parameter table
    reuse_: Any = reuse
    # the panel without 'treated', sharing its columns (drop() would copy every person-month)
    design_rows = pd.DataFrame({k: v for k, v in panel.items() if k != "treated"}, copy=False)
    matching = match_riskset(design_rows, id=c.id, period="period", entry="entry",
                             covariates=covs, exact=exact_cols, estimand=est, caliper=cal, ratio=ratio,
                             reuse=reuse_, random_state=random_state, n_jobs=n_jobs)
    md = matching.matched_data.copy()
    # each control's clock starts on its participant's start date
    own = md.loc[md[TREATMENT] == 1].set_index("subclass")["start_date"]
    md["index_date"] = md["subclass"].map(own)
    out = outcomes_from_spells(extract, md, censor_at_entry=estimand == "join_vs_never", unregistered="keep")
    out = out.rename(columns={"event": "work_or_studies", "status": "event"})
    matched = pd.concat([md.drop(columns=[x for x in out.columns if x in md.columns]), out], axis=1)
    # a control no longer registered on its participant's start date leaves its set (and so the set:
    # with one control per participant the participant is left unmatched)
    whole = matched["duration"].notna().groupby(matched["subclass"]).transform("all").to_numpy(dtype=bool)
    analysed = matched[whole].reset_index(drop=True)
    analysed["event"] = analysed["event"].astype(np.int64)
    censoring = None
    if estimand == "join_vs_never" and ipcw:
        analysed, censoring = _censoring_weights(extract, analysed, covs, period)
    return dict(extract=extract, rs=rs, panel=panel, matching=matching, matched=matched, analysed=analysed,
                covariates=covs, exact=["period", *exact_cols], censoring=censoring)


def _censoring_weights(extract: RegisterExtract, analysed: pd.DataFrame, covariates: Sequence[str],
                       period: str) -> tuple[pd.DataFrame, CensoringWeights]:
    """The controls' weights for their censoring at own entry, and the columns they are made from.

    Adds ``censored_at_entry`` (the row's follow-up ends on the day the control joins),
    ``join_from`` (days from the index date to the day before the next period starts: a control
    did not start in its set's period, by construction), ``join_until`` (days to the last programme
    start: nobody joins after it) and ``elapsed_at_index`` (elapsed days in the spell on the index
    date)."""
    c = extract.columns
    idx = pd.to_datetime(analysed["index_date"])
    freq = {"month": "M", "quarter": "Q"}[period]
    nxt = (pd.to_datetime(analysed["period"]).dt.to_period(freq) + 1).dt.start_time
    last_start = pd.to_datetime(extract.programme[c.start]).max()
    ctrl = analysed[TREATMENT].to_numpy() == 0
    out = analysed.assign(
        censored_at_entry=(ctrl & (analysed["end"] == "programme").to_numpy()).astype(np.int64),
        join_from=((nxt - idx).dt.days - 1).clip(lower=0).astype(np.float64),
        join_until=float("nan") if pd.isna(last_start) else (last_start - idx).dt.days.astype(np.float64),
        elapsed_at_index=analysed["elapsed_days"].to_numpy(dtype=np.float64)
        + (idx - pd.to_datetime(analysed["asof"])).dt.days.to_numpy(dtype=np.float64))
    covs = [c.gender, *[x for x in covariates if x != c.gender]]
    cw = censoring_weights(out, duration="duration", censored="censored_at_entry", treatment=TREATMENT,
                           covariates=covs, at_risk_from="join_from", censor_until="join_until",
                           elapsed="elapsed_at_index", weights="weights")
    return out, cw


def truth_for(truth: pd.DataFrame, estimand: str) -> pd.DataFrame:
    """The rows of a generator's truth that the effect table of ``estimand`` is compared with.

    Hazard ratios are left out (the generator's are conditional on the person; the effect table's
    is the marginal hazard ratio of the matched sample). With an ``estimand_design`` column
    (:func:`impact.synthetic.simulate_extract`), ``join_vs_wait`` gets its own rows under the
    names of the effect table (``share_diff_vs_wait`` as ``share_diff``, ``share_waiting`` as
    ``share_untreated``; ``share_treated`` is the same for both estimands)."""
    if "estimand" not in truth.columns:
        return truth
    out = truth[truth["estimand"] != "hazard_ratio"]
    if "estimand_design" in out.columns:
        if estimand == "join_vs_wait":
            keep = (out["estimand_design"] == "join_vs_wait") | (out["estimand"] == "share_treated")
            out = out[keep].assign(estimand=out.loc[keep, "estimand"].replace(
                {"share_diff_vs_wait": "share_diff", "share_waiting": "share_untreated"}),
                estimand_design="join_vs_wait")
        else:
            out = out[out["estimand_design"] == estimand]
    return out.reset_index(drop=True)


def registers_flow(extract: RegisterExtract, panel: pd.DataFrame, matched: pd.DataFrame,
                   analysed: pd.DataFrame) -> Flow:
    """Persons and person-periods from registered to at risk to matched to analysed."""
    c = extract.columns
    persons = extract.persons[[c.id, c.gender]].copy()
    persons[TREATMENT] = persons[c.id].isin(extract.programme[c.id]).astype(int)
    g = c.gender
    rows = panel.rename(columns={"treated": TREATMENT})
    at_risk_people = rows.sort_values(TREATMENT, ascending=False).drop_duplicates(c.id)
    flow = Flow().add("registered", "persons in the extract (participants: everyone with a programme start)",
                      persons, persons, treatment=TREATMENT, subgroup=g)
    flow = flow.add("at risk (persons)", "not registered, and not yet in the programme, on the first day of any period",
                    persons, at_risk_people, treatment=TREATMENT, subgroup=g)
    flow = flow.add("at risk (person-periods)", "one row per person and period at risk; participants "
                    "counted in the period they start", rows, rows, treatment=TREATMENT, subgroup=g)
    flow = flow.add("matched (set memberships)", "participant without a control within the caliper and "
                    "exact cells (controls: candidates not chosen)", rows, matched, treatment=TREATMENT, subgroup=g)
    flow = flow.add("analysed (set memberships)", "the control was no longer registered on its "
                    "participant's start date", matched, analysed, treatment=TREATMENT, subgroup=g)
    people = analysed.sort_values(TREATMENT, ascending=False).drop_duplicates(c.id)
    flow = flow.add("analysed (persons)", "persons, not set memberships (a control may serve in several periods)",
                    analysed, people, treatment=TREATMENT, subgroup=g)
    return flow


def flow_details(extract: RegisterExtract, rs: Any, matching: Any, matched: pd.DataFrame,
                 analysed: pd.DataFrame, estimand: str) -> dict[str, pd.DataFrame]:
    """The counts the flow table cannot hold: per period, unmatched by reason, and contamination."""
    c = extract.columns
    un = matching.unmatched
    by_reason = (un.assign(period=pd.to_datetime(un["period"]).dt.strftime("%Y-%m"))
                 .groupby(["period", "reason"]).size().rename("participants").reset_index())
    dropped_sets = int(matched["subclass"].nunique() - analysed["subclass"].nunique())
    if dropped_sets:
        extra = (matched[matched["duration"].isna() & (matched[TREATMENT] == 0)]
                 .assign(period=lambda d: pd.to_datetime(d["period"]).dt.strftime("%Y-%m"))
                 .groupby("period").size().rename("participants").reset_index()
                 .assign(reason="control no longer registered on the participant's start date"))
        by_reason = pd.concat([by_reason, extra], ignore_index=True)
    ctrl = analysed[analysed[TREATMENT] == 0]
    joined = ctrl["entry"].notna()
    censored = ctrl["end"] == "programme"
    contamination = pd.DataFrame({
        "measure": ["controls (set memberships)", "controls (persons)",
                    "controls who later joined the programme (set memberships)",
                    "controls who later joined the programme (persons)",
                    "censored on the day they joined (set memberships)",
                    "joined within the follow-up but kept (join_vs_wait, set memberships)"],
        "count": [int(len(ctrl)), int(ctrl[c.id].nunique()), int(joined.sum()),
                  int(ctrl.loc[joined, c.id].nunique()), int(censored.sum()),
                  int((joined & (ctrl["end"] != "programme")).sum()) if estimand == "join_vs_wait" else 0],
    })
    return {"periods": rs.flow(), "steps": rs.summary(), "unmatched": by_reason, "contamination": contamination}


def naive_registers(extract: RegisterExtract) -> pd.DataFrame:
    """The naive comparison: participants from their start, never-participants from their first registration."""
    c = extract.columns
    first = extract.spells.sort_values([c.id, c.registered]).drop_duplicates(c.id)
    people = extract.persons[[c.id, c.gender]].merge(extract.programme[[c.id, c.start]], on=c.id, how="left")
    people = people.merge(first[[c.id, c.registered]], on=c.id)
    people[TREATMENT] = people[c.start].notna().astype(int)
    people["index_date"] = pd.to_datetime(people[c.start]).fillna(pd.to_datetime(people[c.registered]))
    out = outcomes_from_spells(extract, people, unregistered="keep")
    out = out.rename(columns={"event": "work_or_studies", "status": "event"})
    naive = pd.concat([people, out], axis=1)
    return naive[naive["duration"].notna()].reset_index(drop=True)


def _effects(sample: pd.DataFrame, gender: str, horizons: Sequence[float], conf_level: float, random_state: int,
             censoring: CensoringWeights | None) -> EffectsResult:
    if censoring is not None:
        return ipcw_effects(sample, censoring, treatment=TREATMENT, by=gender, horizons=horizons,
                            conf_level=conf_level, cluster="subclass")
    return estimate_effects(sample, treatment=TREATMENT, by=gender, horizons=horizons, conf_level=conf_level,
                            random_state=random_state, cluster="subclass", subdistribution=False)


def unknown_sensitivity(analysed: pd.DataFrame, *, gender: str, horizons: Sequence[float], conf_level: float,
                        random_state: int, base_role: str,
                        censoring: CensoringWeights | None = None) -> pd.DataFrame:
    """The headline (share differences and hazard ratio) with unknown exits as censored, competing and work."""
    frames = []
    for role in ("censored", "competing", "event"):
        tmp = analysed[["cause", "role"]].assign(event=analysed["work_or_studies"], status=analysed["event"])
        recoded = recode_unknown(tmp, role)
        sample = analysed.assign(event=recoded["status"].astype(np.int64), work_or_studies=recoded["event"])
        eff = _effects(sample, gender, horizons, conf_level, random_state, censoring)
        s = eff.summary()
        s = s[s["estimand"].isin(["share_diff", "hazard_ratio"])]
        frames.append(s[["subgroup", "estimand", "horizon", "estimate", "se", "ci_low", "ci_high"]]
                      .assign(unknown_as="work" if role == "event" else role,
                              headline=role == base_role))
    out = pd.concat(frames, ignore_index=True)
    return out[["unknown_as", "headline", "subgroup", "estimand", "horizon", "estimate", "se", "ci_low", "ci_high"]]


def cause_shares(analysed: pd.DataFrame, *, gender: str, horizons: Sequence[float], conf_level: float,
                 random_state: int, censoring: CensoringWeights | None = None) -> pd.DataFrame:
    """Share differences by cause of exit: each group of causes as the event, every other exit competing.

    Groups: ``work`` (every work cause), ``studies``, ``work_unsubsidised`` and ``work_subsidised``
    (nystartsjobb, introduktionsjobb, lönebidrag, extratjänst and any other work cause of the table).
    """
    cause = analysed["cause"].astype(object)
    is_event = analysed["work_or_studies"].to_numpy() == 1
    groups = {
        "work": is_event & (cause != "studies").to_numpy(),
        "studies": is_event & (cause == "studies").to_numpy(),
        "work_unsubsidised": is_event & (cause == "work_unsubsidised").to_numpy(),
        "work_subsidised": is_event & ~cause.isin(["studies", "work_unsubsidised"]).to_numpy(),
    }
    exited = analysed["event"].to_numpy() > 0
    frames = []
    for name, mask in groups.items():
        status = np.where(mask, 1, np.where(exited, 2, 0))
        sample = analysed.assign(event=status.astype(np.int64))
        if not ((status == 1) & (analysed[TREATMENT] == 1).to_numpy()).any():
            continue
        eff = _effects(sample, gender, horizons, conf_level, random_state, censoring)
        s = eff.summary()
        s = s[s["estimand"].isin(["share_treated", "share_control", "share_diff"])]
        frames.append(s[["subgroup", "estimand", "horizon", "estimate", "se", "ci_low", "ci_high"]].assign(cause=name))
    if not frames:
        return pd.DataFrame(columns=["cause", "subgroup", "estimand", "horizon", "estimate", "se", "ci_low",
                                     "ci_high"])
    out = pd.concat(frames, ignore_index=True)
    return out[["cause", "subgroup", "estimand", "horizon", "estimate", "se", "ci_low", "ci_high"]]


def extract_fingerprints(extract: RegisterExtract) -> dict[str, str]:
    """Fingerprints of each table of the extract, without the id column."""
    ex = [extract.columns.id]
    out = {"persons": data_fingerprint(extract.persons, exclude=ex),
           "spells": data_fingerprint(extract.spells, exclude=ex),
           "programme": data_fingerprint(extract.programme, exclude=ex)}
    out.update({f"benefits_{k}": data_fingerprint(v, exclude=ex) for k, v in extract.benefits.items()})
    return out


def registers_roles(extract: RegisterExtract, covariates: Sequence[str]) -> Roles:
    """The column roles of the analysed sample (treatment ``entering``, clock from ``index_date``)."""
    c = extract.columns
    return Roles(id=c.id, treatment=TREATMENT, start="index_date", cutoff=str(extract.cutoff.date()),
                 subgroup=c.gender, covariates=tuple(covariates))


def validated_of(panel: pd.DataFrame, roles: Roles, flow: Flow) -> Validated:
    """The risk-set rows as the 'sample before matching' (person-periods; treatment = starts then)."""
    return Validated(data=panel.rename(columns={"treated": TREATMENT}), roles=roles, flow=flow)


def with_notes(matching: Any, notes: Sequence[str]) -> Any:
    """A copy of the match result with more notes (the report lists them)."""
    return replace(matching, notes=tuple(dict.fromkeys([*matching.notes, *notes])))


def effects_of(analysed: pd.DataFrame, gender: str, censoring: CensoringWeights | None = None,
               persons: str | None = None, **kw: Any) -> EffectsResult:
    """The effect table: weighted for the censoring at own entry when ``censoring`` is given;
    ``persons``: the person column (the curves' numbers at risk count persons, not set memberships)."""
    if censoring is None:
        return estimate_effects(analysed, treatment=TREATMENT, by=gender, cluster="subclass", persons=persons, **kw)
    from impact._validation import check_params, constraints_of
    # the same check (and message) as the unweighted path, named after evaluate ([outcomes] horizons)
    check_params("evaluate", {k: v for k, v in constraints_of(estimate_effects).items()
                              if k in ("horizons", "conf_level")}, kw)
    if kw.get("se_method", "influence") == "bootstrap":
        raise ParameterError("se_method='bootstrap' is not available with the censoring weights of join_vs_never; "
                             "pass ipcw=False ([design] ipcw = false) or se_method='influence'.")
    return ipcw_effects(analysed, censoring, treatment=TREATMENT, by=gender, horizons=kw.get("horizons", (90, 180, 365)),
                        conf_level=kw.get("conf_level", 0.95), cluster="subclass", persons=persons)
