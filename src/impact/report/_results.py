"""The report's results beyond time to the first exit (issue 12): time in work and benefit months
(mean differences), the effect over time, doubly robust shares and sensitivity to hidden bias.

Everything shown goes through the publication rules first (:func:`impact.publish.effects_withheld`
with the counts per arm and group, :func:`impact.publish.curves_published`), so a group under
``min_effect_n`` people in an arm is withheld here as in every other table, with the differences
built on it. The report only reads the results; nothing is estimated here.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from impact.labels import Lang, format_number
from impact.labels import label as _label
from impact.publish import MARK, MIN_AT_RISK, curves_published, effects_withheld, flow_published, share_numerators
from impact.report._html import fig_to_img, figure_of, html_table
from impact.report._tables import compact_effects
from impact.report._tables import lower_first
from impact.report._tables import name as label_name

__all__ = ["ResultsPart", "results_part", "with_outcome_rows", "TIME_TO_EVENT", "curve_end_note"]

#: the ``outcome`` of the time-to-event rows in effects.csv (as ``Evaluation.summary()``)
TIME_TO_EVENT = "time_to_work_or_studies"
_ESTIMATORS = ("gformula", "iptw", "aiptw")
_SHARES = ("share_treated", "share_control", "share_diff")

_TEXT: dict[str, dict[str, str]] = {
    "en": {
        "section": "Time in work, the effect over time and doubly robust shares",
        "states": "Days in work or studies and months with benefits",
        "curve": "The effect over time",
        "curve_title": "Effect over time: difference in the share in work or studies, participants minus controls",
        "curve_axis": "difference in share in work or studies",
        "aiptw": "Doubly robust shares in work or studies",
        "bias": "Sensitivity to hidden bias",
        "evalues": "E-values",
        "rosenbaum": "Rosenbaum bounds",
        "placebo": "Placebo outcomes",
        "days_in_work": "days in work or studies within {h} days",
        "benefit": "months with {b} in the {m} months after the start month",
        "note_states": ("Mean per person in each arm and the difference (participants minus matched controls), "
                        "with {level} intervals clustered on matched sets; only matched sets whose window ends by "
                        "the data cut-off (see the flow). Estimates for groups under {n} people in an arm are "
                        "withheld ({mark})."),
        "note_curve": ("Difference in the share in work or studies (participants minus controls) by day since "
                       "start: shaded the pointwise {level} interval, dashed the simultaneous band (it covers the "
                       "whole curve with {level} probability). Days at which an arm has fewer than {t} exits, or "
                       "fewer than {t} people without one, are not shown."),
        "note_aiptw": ("Share in work or studies by each horizon had everyone joined and had no one joined, other "
                       "exits competing: G-formula (cause-specific Cox models), IPTW (treatment and censoring "
                       "weights) and AIPTW (augmented, doubly robust), on the matched sample and adjusted for "
                       "the matching covariates."),
        "note_evalues": ("The smallest association (risk-ratio scale) an unmeasured confounder would need with both "
                         "participation and the outcome to explain the estimate away (E-value) or to move its "
                         "confidence limit to no effect (E-value of the limit)."),
        "note_rosenbaum": ("Upper bound of the one-sided p-value of 'in work or studies by day h' when hidden bias "
                           "may change the odds of participation within a matched set by up to Gamma; "
                           "'Gamma at which significance is lost' is where the bound reaches 5%."),
        "note_placebo": ("Columns fixed before the start and not matched on, estimated like an outcome: a "
                         "difference points to hidden bias (or chance)."),
        "outcome": "outcome", "subgroup": "group", "horizon": "day", "gamma": "Gamma",
        "p_upper": "p-value, upper bound", "p_lower": "p-value, lower bound",
        "gamma_critical": "Gamma at which significance is lost", "measure": "measure", "evalue": "E-value",
        "evalue_ci": "E-value of the limit", "estimate": "estimate", "variable": "variable", "verdict": "verdict",
        "estimator": "estimator", "ci": "interval",
        "follow_up": "Follow-up of the matched sets (counted once per participant matched to)", "step": "step",
        "reason": "reason",
        "all": "all", "treated": "participants", "control": "controls",
        "step_analysed": "analysed (counted once per participant matched to)", "step_followed": "followed up: {outcome}",
        "reason_cutoff": "the window of the outcome passes the data cut-off (not fully observed); matched sets are "
                         "kept or dropped whole",
    },
    "sv": {
        "section": "Tid i arbete, effekten över tid och dubbelt robusta andelar",
        "states": "Dagar i arbete eller studier och månader med ersättning",
        "curve": "Effekten över tid",
        "curve_title": "Effekten över tid: skillnad i andelen i arbete eller studier, deltagare minus kontrollpersoner",
        "curve_axis": "skillnad i andel i arbete eller studier",
        "aiptw": "Dubbelt robusta andelar i arbete eller studier",
        "bias": "Känslighet för dold snedvridning",
        "evalues": "E-värden",
        "rosenbaum": "Rosenbaumgränser",
        "placebo": "Placeboutfall",
        "days_in_work": "dagar i arbete eller studier inom {h} dagar",
        "benefit": "månader med {b} under de {m} månaderna efter startmånaden",
        "note_states": ("Medelvärde per person i varje grupp och skillnaden (deltagare minus matchade kontroller), "
                        "med {level} intervall klustrade på matchade grupper; bara matchade grupper vars fönster "
                        "slutar före uttagsdatumet (se flödet). Skattningar för grupper med färre än {n} personer "
                        "i en arm visas inte ({mark})."),
        "note_curve": ("Skillnaden i andelen i arbete eller studier (deltagare minus kontroller) per dag sedan "
                       "start: skuggat det punktvisa {level} intervallet, streckat det simultana bandet (det "
                       "täcker hela kurvan med {level} sannolikhet). Dagar då en arm har färre än {t} avgångar, "
                       "eller färre än {t} personer utan, visas inte."),
        "note_aiptw": ("Andelen i arbete eller studier vid varje horisont om alla hade deltagit och om ingen hade "
                       "deltagit, med konkurrerande avgångar: G-formeln (orsaksspecifika Cox-modeller), IPTW "
                       "(vikter för deltagande och censurering) och AIPTW (dubbelt robust), på det matchade "
                       "urvalet och justerat för matchningsvariablerna."),
        "note_evalues": ("Det minsta samband (riskkvot) som en okänd störfaktor skulle behöva ha med både "
                         "deltagande och utfall för att förklara bort skattningen (E-värde) eller flytta "
                         "konfidensgränsen till ingen effekt (gränsens E-värde)."),
        "note_rosenbaum": ("Övre gräns för det ensidiga p-värdet för 'i arbete eller studier dag h' när dold "
                           "snedvridning kan ändra oddsen för deltagande inom en matchad grupp med upp till Gamma; "
                           "'Gamma där signifikansen förloras' är där gränsen når 5 %."),
        "note_placebo": ("Variabler fastställda före start som inte matchades på, skattade som ett utfall: en "
                         "skillnad tyder på dold snedvridning (eller slump)."),
        "outcome": "utfall", "subgroup": "grupp", "horizon": "dag", "gamma": "Gamma",
        "p_upper": "p-värde, övre gräns", "p_lower": "p-värde, undre gräns",
        "gamma_critical": "Gamma där signifikansen förloras", "measure": "mått", "evalue": "E-värde",
        "evalue_ci": "gränsens E-värde", "estimate": "skattning", "variable": "variabel", "verdict": "bedömning",
        "estimator": "skattare", "ci": "intervall",
        "follow_up": "Uppföljning av de matchade grupperna (platser i matchade grupper)", "step": "steg",
        "reason": "orsak till bortfall", "all": "samtliga", "treated": "deltagare", "control": "kontrollpersoner",
        "step_analysed": "analyserade (platser i matchade grupper)", "step_followed": "uppföljda: {outcome}",
        "reason_cutoff": "utfallets fönster går förbi uttagsdatumet (inte helt observerat); matchade grupper "
                         "behålls eller tas bort hela",
    },
}

_METHODS: dict[str, dict[str, str]] = {
    "en": {
        "states": ("Time in states. Days in work or studies within h days are the days of the window from the start "
                   "to h days later on which the person was deregistered from the employment service with a "
                   "code counted as work or studies and had not registered again (through the cut-off day when "
                   "never); gaps after other exits are not counted, nor any day before the start. Months with a "
                   "benefit are the calendar months with it among the {m} months after the start month (the "
                   "start month itself is not counted: it is partly before the start, and the matching "
                   "covariate counts the 12 months before it). Each outcome is estimated on the matched sets "
                   "whose window ends by the data cut-off (the flow counts the others), as the weighted mean "
                   "difference between participants and controls (estimand mean_diff), with standard errors "
                   "clustered on matched sets (HC1). A control who later joins the programme keeps its whole "
                   "window for these outcomes."),
        "states_adjusted": ("The mean differences are regression-adjusted on the matched sample, as MatchIt "
                            "advises: in each group the coefficient of participation in a linear model of the "
                            "outcome on participation, the matching covariates centred at the participants' "
                            "means, and their interactions (the effect on participants by g-computation, Lin "
                            "2013), with the same clustered standard errors."),
        "curve": ("The effect over time is the difference in the Aalen-Johansen cumulative incidence of work or "
                  "studies between arms at every day, with pointwise intervals from influence functions "
                  "clustered on matched sets and a simultaneous band from multiplier draws of the same "
                  "influence functions."),
        "aiptw": ("Doubly robust shares: G-formula, IPTW with censoring weights and AIPTW (as riskRegression::ate) "
                  "on the matched sample for all, women and men, adjusted for the matching covariates; standard "
                  "errors from influence functions treat the rows as independent (a control serving in several "
                  "periods counts each time)."),
        "bias": ("Sensitivity to hidden bias: E-values (VanderWeele and Ding 2017) of the hazard ratio (with the "
                 "common-outcome conversion when the outcome is common), the share ratio and the share "
                 "difference; Rosenbaum bounds for matched sets on 'in work or studies by day h'; placebo "
                 "outcomes estimated like a mean outcome."),
    },
    "sv": {
        "states": ("Tid i tillstånd. Dagar i arbete eller studier inom h dagar är dagarna från start till h dagar "
                   "senare då personen var avskriven från Arbetsförmedlingen med en orsakskod som räknas som "
                   "arbete eller studier och inte hade skrivit in sig igen (till och med uttagsdagen om aldrig); "
                   "uppehåll efter andra avgångar räknas inte, inte heller dagar före start. Månader med "
                   "ersättning är kalendermånaderna med ersättningen bland de {m} månaderna efter startmånaden "
                   "(startmånaden räknas inte: den ligger delvis före start, och matchningsvariabeln räknar de "
                   "12 månaderna före den). Varje utfall skattas på de matchade grupper vars fönster slutar före "
                   "uttagsdatumet (flödet räknar övriga), som den vägda skillnaden i medelvärde mellan deltagare "
                   "och kontroller (mean_diff) med standardfel klustrade på matchade grupper (HC1). En kontroll "
                   "som senare börjar i programmet behåller hela sitt fönster för dessa utfall."),
        "states_adjusted": ("Skillnaderna i medelvärde är regressionsjusterade i det matchade urvalet, som MatchIt "
                            "rekommenderar: i varje grupp koefficienten för deltagande i en linjär modell av "
                            "utfallet på deltagande, matchningsvariablerna centrerade kring deltagarnas medelvärden "
                            "och deras samspel (effekten för deltagarna genom g-beräkning, Lin 2013), med samma "
                            "klustrade standardfel."),
        "curve": ("Effekten över tid är skillnaden i kumulativ incidens (Aalen-Johansen) av arbete eller studier "
                  "mellan armarna varje dag, med punktvisa intervall från influensfunktioner klustrade på "
                  "matchade grupper och ett simultant band från multiplikatordragningar."),
        "aiptw": ("Dubbelt robusta andelar: G-formeln, IPTW med censureringsvikter och AIPTW (som "
                  "riskRegression::ate) på det matchade urvalet för alla, kvinnor och män, justerat för "
                  "matchningsvariablerna; standardfelen behandlar raderna som oberoende."),
        "bias": ("Känslighet för dold snedvridning: E-värden (VanderWeele och Ding 2017) för hasardkvoten, "
                 "andelarnas kvot och skillnad; Rosenbaumgränser för 'i arbete eller studier dag h'; "
                 "placeboutfall skattade som ett medelvärdesutfall."),
    },
}


_MEANS = {"en": {"mean_treated": "mean, participants", "mean_control": "mean, controls",
                 "mean_diff": "difference in means"},
          "sv": {"mean_treated": "medelvärde, deltagare", "mean_control": "medelvärde, kontrollpersoner",
                 "mean_diff": "skillnad i medelvärde"}}


@dataclass(frozen=True)
class ResultsPart:
    """What the report adds for these results: effects.csv rows, tables, sections and methods text."""

    effects_rows: pd.DataFrame | None = None
    csv: dict[str, pd.DataFrame] = field(default_factory=dict)
    sheets: dict[str, pd.DataFrame] = field(default_factory=dict)
    sections: list[tuple[str, str, str]] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)


def outcome_label(col: str, lang: Lang) -> str:
    """``days_in_work_365`` -> 'days in work or studies within 365 days' (in the report's language)."""
    t = _TEXT[lang]
    if col.startswith("days_in_work_"):
        return t["days_in_work"].format(h=col.rsplit("_", 1)[1])
    if "_months_after_" in col:
        b, m = col.split("_months_after_")
        return t["benefit"].format(b=label_name(b, lang).lower(), m=m.rstrip("m"))
    return col


def _withheld_shown(df: pd.DataFrame, cols: list[str]) -> pd.DataFrame:
    """Withheld rows with the mark in their number columns (for HTML)."""
    out = df.copy()
    hidden = out["withheld"].astype(str) != ""
    for c in cols:
        out[c] = out[c].astype(object)
        out.loc[hidden, c] = MARK
    return out


def _mean_rows(evaluation: Any, threshold: int, min_effect_n: int) -> pd.DataFrame | None:
    parts = []
    for col, res in (getattr(evaluation, "outcome_effects", None) or {}).items():
        pub = effects_withheld(res.summary(), None, threshold=threshold, min_effect_n=min_effect_n)
        if col.startswith("days_in_work_"):
            pub["horizon"] = float(col.rsplit("_", 1)[1])
        parts.append(pub.assign(outcome=col))
    return pd.concat(parts, ignore_index=True) if parts else None


def _aiptw_rows(evaluation: Any, threshold: int, min_effect_n: int) -> pd.DataFrame | None:
    table = getattr(evaluation, "aiptw", None)
    if table is None or not len(table):
        return None
    s = evaluation.settings
    tr, by = evaluation.roles.treatment, s.get("subgroup")
    hs = sorted(set(table["horizon"].dropna()))
    num = share_numerators(evaluation.analysed, {"duration": "duration", "event": "event", "treatment": tr,
                                                 "by": by, "horizons": hs})
    parts = []
    for est in _ESTIMATORS:
        sub = table[table["estimator"] == est]
        if not len(sub):
            continue
        plain = sub.drop(columns=["estimator"]).assign(estimand=sub["estimand"].str.replace(f"{est}_", "", n=1))
        pub = effects_withheld(plain, num, threshold=threshold, min_effect_n=min_effect_n)
        pub["estimand"] = est + "_" + pub["estimand"]
        parts.append(pub.assign(estimator=est))
    return pd.concat(parts, ignore_index=True) if parts else None


def with_outcome_rows(effects_pub: pd.DataFrame, part: ResultsPart) -> pd.DataFrame:
    """effects.csv: the time-to-event rows, then the mean outcomes' and AIPTW rows, with an ``outcome`` column
    (the table unchanged when there are none)."""
    if part.effects_rows is None or not len(part.effects_rows):
        return effects_pub
    out = pd.concat([effects_pub.assign(outcome=TIME_TO_EVENT), part.effects_rows], ignore_index=True)
    return out[["outcome", *[c for c in out.columns if c != "outcome"]]]


def curve_end_note(shown: pd.DataFrame, lang: Lang, n: int) -> str:
    """The note that says where each published curve ends and why (``n``: the people at risk per arm
    at the last day, ``max(threshold, min_at_risk)``); empty without rows."""
    if not len(shown):
        return ""
    last = shown.groupby(shown["subgroup"].astype(str), sort=False)["time"].max()
    ends = "; ".join(_label("report_curve_end_day", lang, group=lower_first(label_name(g, lang)),
                            day=format_number(float(d), lang)) for g, d in last.items())
    return _label("report_note_curves_end", lang, n=n, ends=ends)


def _curve_published(evaluation: Any, effects_pub: pd.DataFrame, threshold: int,
                     min_at_risk: int | None = None) -> pd.DataFrame:
    """The curve rows that may be shown: groups none of whose shares is withheld, up to the last day at
    which each arm has ``max(threshold, min_at_risk)`` people at risk (:func:`impact.publish.curves_published`),
    and days at which each arm has at least ``threshold`` exits to work or studies and ``threshold``
    people without one."""
    curve = evaluation.effect_curve
    at_risk = {} if min_at_risk is None else {"min_at_risk": min_at_risk}
    table = curves_published(curve.table, effects_pub, threshold=threshold, **at_risk)
    data = evaluation.analysed
    tr, by = evaluation.roles.treatment, evaluation.settings.get("subgroup")
    ok = np.ones(len(table), dtype=bool)
    for g in table["subgroup"].unique():
        rows = (table["subgroup"] == g).to_numpy()
        d = data if g == "all" else data[data[by].astype(str) == g]
        times = table.loc[rows, "time"].to_numpy(float)
        for arm in (1, 0):
            x = d[d[tr] == arm]
            ev_times = np.sort(x.loc[x["event"] == 1, "duration"].to_numpy(float))
            k = np.searchsorted(ev_times, times, side="right")
            n = len(x)
            small = ((k > 0) & (k < threshold)) | ((n - k > 0) & (n - k < threshold))
            ok[np.flatnonzero(rows)[small]] = False
    out = table.copy()
    cols = [c for c in out.columns if c not in ("subgroup", "time")]
    out.loc[~ok, cols] = np.nan
    out["withheld"] = np.where(ok, "", "numerator")
    return out


def _curve_figure(evaluation: Any, shown: pd.DataFrame, title: str, lang: Lang) -> str:
    curve = evaluation.effect_curve
    keep = shown[shown["withheld"] == ""].drop(columns=["withheld"])
    groups = [g for g in curve.critical_values if g in set(keep["subgroup"])]
    if not groups:
        return ""
    drawn = replace(curve, table=keep.reset_index(drop=True),
                    critical_values={g: curve.critical_values[g] for g in groups})
    axes = np.atleast_1d(drawn.plot(title=title)).ravel()
    for a, g in zip(axes, groups):
        a.set_title(_label(g, lang) if g in ("all", "female", "male") else str(g))
        a.set_xlabel(_label("axis_days_since_start", lang))
    axes[0].set_ylabel(_TEXT[lang]["curve_axis"])
    return fig_to_img(figure_of(axes), title)


def _evalues_published(evaluation: Any, effects_pub: pd.DataFrame) -> pd.DataFrame:
    ev = evaluation.evalues.table.copy()
    hidden = effects_pub[effects_pub["withheld"].astype(str) != ""]
    hr = set(hidden.loc[hidden["estimand"] == "hazard_ratio", "subgroup"].astype(str))
    shares = {(str(g), float(h)) for g, e, h in zip(hidden["subgroup"], hidden["estimand"], hidden["horizon"])
              if e in _SHARES and pd.notna(h)}
    drop = [(m == "HR" and str(g) in hr) or (m != "HR" and (str(g), float(h)) in shares)
            for g, m, h in zip(ev["subgroup"], ev["measure"], ev["horizon"])]
    drop_arr = np.asarray(drop, dtype=bool)
    num = [c for c in ev.columns if c not in ("subgroup", "measure", "horizon", "conversion")]
    ev.loc[drop_arr, num] = np.nan
    ev["withheld"] = np.where(drop_arr, "effect withheld", "")
    return ev


def _rosenbaum_published(evaluation: Any, effects_pub: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Bounds of the groups whose effects are published and that rest on at least ``threshold`` informative
    sets; the counts of sets are not published (all minus women would give the men's back)."""
    rb = evaluation.rosenbaum.copy()
    small = set(effects_pub.loc[effects_pub["withheld"] == "group_size", "subgroup"].astype(str))
    drop = rb["subgroup"].astype(str).isin(small).to_numpy() | (rb["n_informative"].to_numpy() < threshold)
    num = ["p_upper", "p_lower", "gamma_critical"]
    rb[num] = rb[num].astype(float)
    rb.loc[drop, num] = np.nan
    rb["withheld"] = np.where(drop, "group_size", "")
    return rb.drop(columns=["n_sets", "n_informative"])


def _placebo_published(evaluation: Any, threshold: int, min_effect_n: int) -> pd.DataFrame:
    t = evaluation.placebo.table
    parts = []
    for var, sub in t.groupby("variable", sort=False):
        plain = sub.assign(horizon=np.nan)
        pub = effects_withheld(plain.drop(columns=["verdict"]), None, threshold=threshold, min_effect_n=min_effect_n)
        pub["verdict"] = np.where(pub["withheld"] == "", sub["verdict"].to_numpy(), "")
        parts.append(pub.drop(columns=["horizon"]))
    return pd.concat(parts, ignore_index=True)


def _follow_up_published(evaluation: Any, threshold: int) -> pd.DataFrame | None:
    """The follow-up flow (analysed set memberships -> complete follow-up for each outcome), counts protected."""
    table = (getattr(evaluation, "flow_details", None) or {}).get("follow_up")
    if table is None or not len(table):
        return None
    fl = table.reset_index() if "step" not in table.columns else table.copy()
    counts = [c for c in ("all", "treated", "control") if c in fl.columns]
    pub = flow_published(fl[counts].set_axis(fl["step"]), threshold)
    out = fl[["step", "reason"]].copy()
    for c in counts:
        out[c] = pub[c].to_numpy()
    return out


def _fmt_ci(r: Any, lang: Lang, digits: int) -> str:
    if not np.isfinite(r.estimate):
        return MARK
    f = lambda v: format_number(float(v), lang, digits)  # noqa: E731
    return f"{f(r.estimate)} [{f(r.ci_low)}; {f(r.ci_high)}]"


def results_part(evaluation: Any, effects_pub: pd.DataFrame, *, threshold: int, min_effect_n: int,
                 lang: Lang, conf_level: float, min_at_risk: int = MIN_AT_RISK) -> ResultsPart:
    """Publish and lay out the issue-12 results of ``evaluation`` (nothing when it has none); the effect
    curve ends where an arm has fewer than ``max(threshold, min_at_risk)`` people at risk."""
    t = _TEXT[lang]
    level = f"{conf_level:.0%}".replace("%", " %" if lang == "sv" else "%")
    csv: dict[str, pd.DataFrame] = {}
    sheets: dict[str, pd.DataFrame] = {}
    sections: list[tuple[str, str, str]] = []
    methods: list[str] = []
    body: list[str] = []
    means = _mean_rows(evaluation, threshold, min_effect_n)
    follow = _follow_up_published(evaluation, threshold)
    if follow is not None:
        csv["follow_up"] = follow
        sheets["follow_up"] = follow
        shown = follow.copy()
        shown["step"] = [t["step_followed"].format(outcome=outcome_label(x.split(": ", 1)[1], lang))
                         if x.startswith("followed up: ") else t["step_analysed"] for x in follow["step"]]
        shown["reason"] = [t["reason_cutoff"] if x.startswith("followed up: ") else "" for x in follow["step"]]
        shown = shown.rename(columns={k: t[k] for k in shown.columns if k in t})
        body += [f"<h3>{html.escape(t['follow_up'])}</h3>", html_table(shown, lang)]
    if means is not None:
        for col in dict.fromkeys(means["outcome"]):
            sub = means[means["outcome"] == col]
            body.append(f"<h3>{html.escape(outcome_label(col, lang))}</h3>")
            rows = sub.assign(horizon=np.nan, estimand=sub["estimand"].map(lambda e: _MEANS[lang].get(e, e)))
            body.append(html_table(compact_effects(rows, lang), lang, index=True))
        note = t["note_states"].format(level=level, n=min_effect_n, mark=MARK)
        body.append(f"<p class='note'>{html.escape(note)}</p>")
        m = getattr(evaluation, "settings", {}).get("benefit_months") or 12
        methods.append(_METHODS[lang]["states"].format(m=m))
        if any(r.settings.get("adjust") for r in evaluation.outcome_effects.values()):
            methods.append(_METHODS[lang]["states_adjusted"])
        sheets["time_in_states"] = means
    if getattr(evaluation, "effect_curve", None) is not None:
        shown = _curve_published(evaluation, effects_pub, threshold, min_at_risk)
        csv["effect_curve"] = shown
        sheets["effect_curve"] = shown
        body.append(f"<h3>{html.escape(t['curve'])}</h3>")
        body.append(_curve_figure(evaluation, shown, t["curve_title"], lang))
        body.append(f"<p class='note'>{html.escape(t['note_curve'].format(level=level, t=threshold))}</p>")
        end = curve_end_note(shown, lang, max(threshold, min_at_risk))
        if end:
            body.append(f"<p class='note'>{html.escape(end)}</p>")
        methods.append(_METHODS[lang]["curve"])
    aiptw = _aiptw_rows(evaluation, threshold, min_effect_n)
    if aiptw is not None:
        csv["aiptw"] = aiptw
        sheets["aiptw"] = aiptw
        diff = aiptw[aiptw["estimand"].str.endswith("share_diff")].copy()
        diff["value"] = [_fmt_ci(r, lang, 3) for r in diff.itertuples()]
        diff["row"] = [f"{e}, {h:g} " + ("dagar" if lang == "sv" else "days")
                       for e, h in zip(diff["estimator"], diff["horizon"], strict=True)]
        wide = diff.pivot(index="row", columns="subgroup", values="value")
        wide = wide.reindex(index=list(dict.fromkeys(diff["row"])), columns=list(dict.fromkeys(diff["subgroup"])))
        wide.columns = [label_name(c, lang) for c in wide.columns]
        wide.index.name = t["estimator"]
        body.append(f"<h3>{html.escape(t['aiptw'])}</h3>")
        body.append(html_table(wide.fillna(""), lang, index=True))
        body.append(f"<p class='note'>{html.escape(t['note_aiptw'])}</p>")
        methods.append(_METHODS[lang]["aiptw"])
    if body:
        sections.append(("beyond_first_exit", t["section"], "".join(body)))

    bias: list[str] = []
    if getattr(evaluation, "evalues", None) is not None:
        ev = _evalues_published(evaluation, effects_pub)
        csv["evalues"] = ev
        sheets["evalues"] = ev
        shown = ev[["subgroup", "measure", "horizon", "estimate", "evalue", "evalue_ci"]].copy()
        shown["subgroup"] = [label_name(g, lang) for g in shown["subgroup"]]
        shown = _withheld_shown(shown.assign(withheld=ev["withheld"]), ["estimate", "evalue", "evalue_ci"])
        shown = shown.drop(columns=["withheld"]).rename(columns={k: t[k] for k in shown.columns if k in t})
        bias += [f"<h3>{html.escape(t['evalues'])}</h3>", html_table(shown, lang),
                 f"<p class='note'>{html.escape(t['note_evalues'])}</p>"]
    if getattr(evaluation, "rosenbaum", None) is not None and len(evaluation.rosenbaum):
        rb = _rosenbaum_published(evaluation, effects_pub, threshold)
        csv["rosenbaum"] = rb
        sheets["rosenbaum"] = rb
        shown = rb[["subgroup", "horizon", "gamma", "p_upper", "p_lower", "gamma_critical"]].copy()
        shown["subgroup"] = [label_name(g, lang) for g in shown["subgroup"]]
        shown = _withheld_shown(shown.assign(withheld=rb["withheld"]), ["p_upper", "p_lower", "gamma_critical"])
        shown = shown.drop(columns=["withheld"]).rename(columns={k: t[k] for k in shown.columns if k in t})
        bias += [f"<h3>{html.escape(t['rosenbaum'])}</h3>", html_table(shown, lang),
                 f"<p class='note'>{html.escape(t['note_rosenbaum'])}</p>"]
    if getattr(evaluation, "placebo", None) is not None:
        pl = _placebo_published(evaluation, threshold, min_effect_n)
        csv["placebo"] = pl
        sheets["placebo"] = pl
        shown = pl[["role", "variable", "subgroup"]].copy()
        shown["subgroup"] = [label_name(g, lang) for g in shown["subgroup"]]
        shown["estimate"] = [_fmt_ci(r, lang, 3) for r in pl.itertuples()]
        shown["verdict"] = pl["verdict"].to_numpy()
        shown = shown.rename(columns={k: t[k] for k in shown.columns if k in t})
        bias += [f"<h3>{html.escape(t['placebo'])}</h3>", html_table(shown, lang),
                 f"<p class='note'>{html.escape(t['note_placebo'])}</p>"]
    if bias:
        sections.append(("hidden_bias", t["bias"], "".join(bias)))
        methods.append(_METHODS[lang]["bias"])

    rows = [x for x in (means, None if aiptw is None else aiptw.drop(columns=["estimator"])) if x is not None]
    if aiptw is not None:
        rows[-1] = rows[-1].assign(outcome=TIME_TO_EVENT)
    effects_rows = pd.concat(rows, ignore_index=True) if rows else None
    return ResultsPart(effects_rows=effects_rows, csv=csv, sheets=sheets, sections=sections, methods=methods)
