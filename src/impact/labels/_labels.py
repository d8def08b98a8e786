"""Swedish and English labels for every published table, from one map.

Data and results use snake_case keys (``women``, ``to_work``, ``partly_achieved``); labels are
applied only at display, by :func:`label` and :func:`relabel`. Numbers, percentages, months and
year-over-year changes are formatted the way each language writes them (``1 800`` and ``-17,7 %``
in Swedish, ``1,800`` and ``-17.7%`` in English).

Examples
--------
>>> label("partly_achieved", "sv")
'delvis uppnått'
>>> format_change(-0.177, 2021, "en")
'-17.7% compared with the same month 2021'
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from numbers import Integral, Real
from types import MappingProxyType
from typing import Any

import pandas as pd

from impact._compat import renamed_parameters
from impact._errors import ParameterError
from impact._validation import InstanceOf, Interval, suggest, validate_params
from impact.labels._format import LANG, LANGS, Lang, format_month, format_percent, month_name

__all__ = ["LABELS", "label", "has_label", "relabel", "label_of", "subgroup_label", "format_change"]


#: key -> {"en": ..., "sv": ...}. Keys are the snake_case names used in data and results.
_LABELS: dict[str, dict[str, str]] = {
    # gender: table columns and record codes
    "women": {"en": "Women", "sv": "Kvinnor"},
    "men": {"en": "Men", "sv": "Män"},
    "total": {"en": "Total", "sv": "Totalt"},
    "all": {"en": "All", "sv": "Samtliga"},
    "female": {"en": "Women", "sv": "Kvinnor"},
    "male": {"en": "Men", "sv": "Män"},
    "gender": {"en": "Gender", "sv": "Kön"},
    # judgements of goal fulfilment
    "achieved": {"en": "achieved", "sv": "uppnått"},
    "partly_achieved": {"en": "partly achieved", "sv": "delvis uppnått"},
    "not_achieved": {"en": "not achieved", "sv": "ej uppnått"},
    # goal-fulfilment table columns
    "goal": {"en": "Goal", "sv": "Mål"},
    "kind": {"en": "Kind", "sv": "Typ"},
    "target": {"en": "Target", "sv": "Målvärde"},
    "measured": {"en": "Measured", "sv": "Utfall"},
    "judgement": {"en": "Judgement", "sv": "Bedömning"},
    "rule": {"en": "Rule", "sv": "Bedömningsregel"},
    "n": {"en": "Number", "sv": "Antal"},
    "share": {"en": "Share", "sv": "Andel"},
    # goal kinds
    "count": {"en": "count", "sv": "antal"},
    "share_goal": {"en": "share", "sv": "andel"},
    "gender_balance": {"en": "gender balance", "sv": "könsfördelning"},
    "before_after": {"en": "before/after", "sv": "före/efter"},
    "manual": {"en": "assessed", "sv": "bedömt"},
    # goals of the seed (SWECO's goal-fulfilment table, Malmökraften 2.0)
    "goal_participants": {"en": "{target} residents have participated",
                          "sv": "{target} Malmöbor har deltagit"},
    "goal_to_work_or_studies": {"en": "{target} participants have gone to work or studies",
                                "sv": "{target} deltagare har gått till arbete eller studier"},
    "goal_needs_clarified": {
        "en": "The other participants have had their needs clarified in joint individual plans",
        "sv": "Övriga deltagare har fått klargjort vilka behov av insatser de har för att komma ut "
              "i arbete/studier via gemensamma individuella planeringar"},
    "goal_gender_balance_participants": {
        "en": "An even split of women and men among participants",
        "sv": "Jämn fördelning av män och kvinnor som deltar i projektet"},
    "goal_gender_balance_to_work": {
        "en": "The shares of women and men who go to work are even",
        "sv": "Andelen kvinnor och män som går ut i arbete ska vara jämnt fördelade"},
    "goal_method_support": {"en": "A method guide has been produced and is being spread",
                            "sv": "Ett metodstöd har tagits fram och sprids"},
    "goal_fk_enhanced_cooperation": {
        "en": "{target} of the participants from the Social Insurance Agency have moved on to "
              "AF/FK enhanced cooperation",
        "sv": "{target} av deltagarna från Försäkringskassan har gått över till AF/FK Förstärkt "
              "samverkan"},
    "goal_fewer_on_benefits": {
        "en": "Fewer participants receive social assistance and sickness benefit than at start",
        "sv": "Färre deltagare uppbär försörjningsstöd och sjukpenning än vid start"},
    # rules behind each judgement
    "rule_count": {"en": "achieved if measured ≥ target; partly if ≥ {partly} of target",
                   "sv": "uppnått om utfall ≥ målvärde; delvis om ≥ {partly} av målvärdet"},
    "rule_share": {"en": "achieved if share ≥ target; partly if ≥ {partly} of target",
                   "sv": "uppnått om andel ≥ målvärde; delvis om ≥ {partly} av målvärdet"},
    "rule_balance_composition": {
        "en": "achieved if the share of women is within 50% ± {tolerance}; partly within ± {partly}",
        "sv": "uppnått om andelen kvinnor ligger inom 50 % ± {tolerance}; delvis inom ± {partly}"},
    "rule_balance_rates": {
        "en": "achieved if the shares of women and men differ by at most {tolerance}; "
              "partly by at most {partly}",
        "sv": "uppnått om andelarna för kvinnor och män skiljer sig högst {tolerance}; "
              "delvis högst {partly}"},
    "rule_before_after": {
        "en": "same people at start and end: achieved if every count fell and McNemar's paired test "
              "finds each fall significant (p < {alpha}); partly if some count fell",
        "sv": "samma personer vid start och slut: uppnått om alla antal minskat och McNemars parade test "
              "visar att varje minskning är signifikant (p < {alpha}); delvis om något antal minskat"},
    "rule_manual": {"en": "assessed by the evaluator", "sv": "bedömt av utvärderaren"},
    "women_share": {"en": "women", "sv": "kvinnor"},
    "social_assistance": {"en": "Social assistance", "sv": "Försörjningsstöd"},
    "sickness_benefit": {"en": "Sickness benefit", "sv": "Sjukpenning"},
    "economic_assistance": {"en": "Economic assistance", "sv": "Ekonomiskt bistånd"},
    "at_start": {"en": "at start", "sv": "vid start"},
    "at_end": {"en": "at end", "sv": "vid slut"},
    # participant outcomes
    "to_work": {"en": "Ended to work", "sv": "Avslutad till arbete"},
    "to_studies": {"en": "Ended to studies", "sv": "Avslutad till studier"},
    "to_work_or_studies": {"en": "To work or studies", "sv": "Till arbete eller studier"},
    "joint_plan": {"en": "Joint individual plan", "sv": "Gemensam individuell planering"},
    "ongoing": {"en": "Ongoing", "sv": "Pågående"},
    "other": {"en": "Other", "sv": "Övrigt"},
    # 90 days after an ended labour-market employment (the seed's categories)
    "continued_planning": {"en": "Continued planning at AMA", "sv": "Fortsatt planering på AMA"},
    "new_planning_af": {"en": "Ended to new planning at the Employment Service",
                        "sv": "Avslutad till ny planering på Arbetsförmedlingen"},
    "interrupted_planning": {"en": "Ended to interrupted planning",
                             "sv": "Avslutad till avbruten planering"},
    "other_reasons": {"en": "Ended for other reasons", "sv": "Avslutad till övriga avslutsorsaker"},
    "outcome": {"en": "Result", "sv": "Resultat"},
    # employment-subsidy types (Swedish programme names are proper names in both languages)
    "extratjanster": {"en": "Extratjänster", "sv": "Extratjänster"},
    "lonebidrag_osa": {"en": "Lönebidrag/OSA", "sv": "Lönebidrag/OSA"},
    "nystartsjobb": {"en": "Nystartsjobb", "sv": "Nystartsjobb"},
    "introduktionsjobb": {"en": "Introduktionsjobb", "sv": "Introduktionsjobb"},
    "no_subsidy": {"en": "Without employment subsidy", "sv": "Utan anställningsstöd"},
    "subsidy": {"en": "Employment subsidy", "sv": "Anställningsstöd"},
    # monthly series
    "month": {"en": "Month", "sv": "Månad"},
    "year": {"en": "Year", "sv": "År"},
    "households": {"en": "Households", "sv": "Hushåll"},
    "change_1y": {"en": "Change vs same month 1 year earlier",
                  "sv": "Förändring mot samma månad 1 år tidigare"},
    "change_2y": {"en": "Change vs same month 2 years earlier",
                  "sv": "Förändring mot samma månad 2 år tidigare"},
    "missing": {"en": "missing", "sv": "saknas"},
    "suppressed_note": {"en": "{mark}: fewer than {threshold}, or suppressed so that such a cell "
                              "cannot be recalculated",
                        "sv": "{mark}: färre än {threshold}, eller dolt så att en sådan cell inte "
                              "kan räknas fram"},
    # titles
    "title_goal_fulfilment": {"en": "Assessment of goal fulfilment",
                              "sv": "Bedömning av måluppfyllelse"},
    "title_to_work_or_studies": {"en": "Individuals to work and studies per month",
                                 "sv": "Individer till arbete och studier per månad"},
    "title_outcomes_after_employment": {
        "en": "Results 90 days after an ended labour-market employment",
        "sv": "Resultat 90 dagar efter avslutad arbetsmarknadsanställning"},
    "title_hires_by_subsidy": {"en": "New hires by employment subsidy",
                               "sv": "Nyanställda efter anställningsstöd"},
    "title_households": {"en": "Unique households with economic assistance per month",
                         "sv": "Antal unika hushåll med ekonomiskt bistånd per månad"},
    "compared_with_same_month": {"en": "compared with the same month",
                                 "sv": "jämfört med samma månad"},
}


def _add(more: Mapping[str, dict[str, str]]) -> None:
    """Add labels to the map; a key that is already there is an error (no silent overwrite)."""
    twice = sorted(set(more) & set(_LABELS))
    if twice:  # pragma: no cover - caught by the import of this module
        raise ValueError(f"labels defined twice: {twice}")
    missing = sorted(k for k, v in more.items() if set(v) != set(LANGS))
    if missing:  # pragma: no cover - caught by the import of this module
        raise ValueError(f"labels without every language {LANGS}: {missing}")
    _LABELS.update(more)


#: the evaluation report: headings, table columns, estimands, flow steps and methods text
_add({
    # headings
    "report_contents": {"en": "Contents", "sv": "Innehåll"},
    "report_headline": {"en": "Headline", "sv": "Huvudresultat"},
    "report_flow": {"en": "Who was analysed", "sv": "Vilka som analyserades"},
    "report_design": {"en": "Design and balance of the matched groups",
                      "sv": "Design och balans mellan de matchade grupperna"},
    "report_effects": {"en": "Effects", "sv": "Effekter"},
    "report_effects_by": {"en": "Effects by {subgroup}", "sv": "Effekter efter {subgroup}"},
    "report_naive": {"en": "For comparison: the naive difference without matching",
                     "sv": "Som jämförelse: den naiva skillnaden utan matchning"},
    "report_truth": {"en": "Check against the known truth (synthetic data)",
                     "sv": "Kontroll mot det kända sanna värdet (syntetiska data)"},
    "report_monitoring": {"en": "Monitoring", "sv": "Månadsuppföljning"},
    "report_household_exits": {"en": "Households leaving economic assistance for work or studies",
                               "sv": "Hushåll som lämnat ekonomiskt bistånd för arbete eller studier"},
    "report_methods": {"en": "Methods", "sv": "Metod"},
    "report_reproducibility": {"en": "Reproducibility", "sv": "Reproducerbarhet"},
    "report_files": {"en": "Tables as files", "sv": "Tabeller som filer"},
    "report_configuration": {"en": "Full configuration", "sv": "Fullständig konfiguration"},
    "report_technical_notes": {"en": "Technical notes", "sv": "Tekniska anmärkningar (på engelska)"},
    # notes under tables
    "report_note_headline": {
        "en": "Share difference: participants minus matched controls in the share who have gone to "
              "work or studies by that day, with a {level} confidence interval. Hazard ratio above 1: "
              "participants reach work or studies sooner.",
        "sv": "Skillnad i andel: deltagare minus matchade kontrollpersoner i andelen som gått till "
              "arbete eller studier efter så många dagar, med {level} konfidensintervall. Hazardkvot "
              "över 1: deltagarna når arbete eller studier snabbare."},
    "report_note_flow": {
        "en": "Each step counts the people left after it. Counts under {threshold} are shown as "
              "'{mark}', with further cells hidden where a total would reveal them.",
        "sv": "Varje steg räknar de personer som återstår efter steget. Antal under {threshold} visas "
              "som '{mark}', och fler celler döljs där en summa annars skulle avslöja dem."},
    "report_note_balance": {
        "en": "Standardised mean differences (|SMD| under 0.1 is the usual threshold), variance ratios "
              "and the largest eCDF distance, before and after matching. Every statistic is in "
              "balance.csv.",
        "sv": "Standardiserade medelvärdesskillnader (|SMD| under 0,1 är den vanliga gränsen), "
              "variankvoter och största avstånd mellan de empiriska fördelningsfunktionerna, före "
              "och efter matchning. Alla mått finns i balance.csv."},
    "report_note_effects": {
        "en": "Estimates for a group with fewer than {threshold} participants or controls are not shown.",
        "sv": "Skattningar för en grupp med färre än {threshold} deltagare eller kontrollpersoner visas inte."},
    "report_note_naive": {
        "en": "All participants against all potential controls, without matching: the difference a "
              "simple comparison would show. It is biased when participants differ from the others.",
        "sv": "Alla deltagare mot alla potentiella kontrollpersoner, utan matchning: den skillnad en enkel "
              "jämförelse skulle visa. Den är snedvriden när deltagarna skiljer sig från övriga."},
    # methods, written from the settings
    "methods_design": {
        "en": "Each participant was compared with {ratio} person(s) who had not (yet) taken part, "
              "chosen by {method} matching {replace} on a propensity score: a logistic regression of "
              "participation on {covariates}. A match had to lie within {caliper} standard deviations "
              "of the score and have the same {exact}.",
        "sv": "Varje deltagare jämfördes med {ratio} person(er) som inte (ännu) deltagit, valda genom "
              "{method}-matchning {replace} på ett propensity score: en logistisk regression av "
              "deltagande på {covariates}. En matchning måste ligga inom {caliper} standardavvikelser "
              "av skattningen och ha samma {exact}."},
    "methods_no_caliper": {"en": "any distance", "sv": "valfritt avstånd"},
    "methods_with_replacement": {"en": "with replacement", "sv": "med återläggning"},
    "methods_without_replacement": {"en": "without replacement", "sv": "utan återläggning"},
    "methods_sample": {
        "en": "{n_treated} of {n_treated_all} participants found a match and were analysed with "
              "{n_control} controls; the rest are counted in the flow table.",
        "sv": "{n_treated} av {n_treated_all} deltagare fick en matchning och analyserades tillsammans "
              "med {n_control} kontrollpersoner; övriga redovisas i flödestabellen."},
    "methods_outcome": {
        "en": "The outcome is the number of days from programme start (for a control: {clock}) to the "
              "first exit to work or studies. Exits to other destinations are competing events, and "
              "people still registered are censored at the data cut-off.",
        "sv": "Utfallet är antalet dagar från programstart (för en kontrollperson: {clock}) till den "
              "första övergången till arbete eller studier. Övergångar till annat är konkurrerande "
              "händelser, och personer som fortfarande är inskrivna censureras vid datauttaget."},
    "methods_clock_own": {"en": "the date their characteristics were measured",
                          "sv": "det datum då personens egenskaper mättes"},
    "methods_clock_matched": {"en": "the start date of the participant it stands for",
                              "sv": "startdatumet för den deltagare den jämförs med"},
    "methods_effects": {
        "en": "Estimands (average effect on the participants, ATT): the share in work or studies by "
              "{horizons} days (Aalen-Johansen), the restricted mean time not yet in work or studies, "
              "and the hazard ratio of work or studies (Cox model, Efron ties), for everyone and "
              "separately by {subgroup}, with a test of the difference between the groups.",
        "sv": "Skattade effekter (genomsnittlig effekt för deltagarna, ATT): andelen i arbete eller "
              "studier efter {horizons} dagar (Aalen-Johansen), den begränsade medeltiden ännu inte i "
              "arbete eller studier och hazardkvoten för arbete eller studier (Cox-modell, Efrons "
              "metod för lika tider), för alla och separat efter {subgroup}, med ett test av "
              "skillnaden mellan grupperna."},
    "methods_uncertainty": {
        "en": "Uncertainty: {level} confidence intervals; standard errors by {se_method}.",
        "sv": "Osäkerhet: {level} konfidensintervall; standardfel med {se_method}."},
    "methods_suppression": {
        "en": "Small cells: every count of people under {threshold} is hidden, with secondary "
              "suppression so that hidden cells cannot be recalculated from totals. No identifier is "
              "published.",
        "sv": "Små celler: varje antal personer under {threshold} döljs, med sekundär röjandekontroll "
              "så att dolda celler inte kan räknas fram ur summor. Inga identiteter publiceras."},
    "methods_goals": {
        "en": "Goal fulfilment is judged from the monitoring records by the rule shown beside each goal.",
        "sv": "Måluppfyllelsen bedöms utifrån uppföljningsdata enligt den regel som anges vid varje mål."},
    "footer": {
        "en": "Generated {when} UTC with {versions}. Seed {seed}. Input data fingerprint {hash} "
              "(SHA-256 of every column except the identifier).",
        "sv": "Skapad {when} UTC med {versions}. Slumpfrö {seed}. Fingeravtryck av indata {hash} "
              "(SHA-256 av alla kolumner utom identiteten)."},
    # table columns
    "subgroup": {"en": "Group", "sv": "Grupp"},
    "estimand": {"en": "Estimand", "sv": "Mått"},
    "horizon": {"en": "Days", "sv": "Dagar"},
    "estimate": {"en": "Estimate", "sv": "Skattning"},
    "se": {"en": "Std. error", "sv": "Medelfel"},
    "ci_low": {"en": "CI low", "sv": "KI nedre"},
    "ci_high": {"en": "CI high", "sv": "KI övre"},
    "p_value": {"en": "p-value", "sv": "p-värde"},
    "step": {"en": "Step", "sv": "Steg"},
    "reason": {"en": "Reason for dropping", "sv": "Orsak till bortfall"},
    "treated": {"en": "Participants", "sv": "Deltagare"},
    "control": {"en": "Controls", "sv": "Kontrollpersoner"},
    "covariate": {"en": "Characteristic", "sv": "Egenskap"},
    "type": {"en": "Type", "sv": "Typ"},
    "smd_before": {"en": "SMD before", "sv": "SMD före"},
    "smd_after": {"en": "SMD after", "sv": "SMD efter"},
    "var_ratio_before": {"en": "Variance ratio before", "sv": "Variankvot före"},
    "var_ratio_after": {"en": "Variance ratio after", "sv": "Variankvot efter"},
    "ecdf_max_before": {"en": "eCDF max before", "sv": "eCDF max före"},
    "ecdf_max_after": {"en": "eCDF max after", "sv": "eCDF max efter"},
    "true_value": {"en": "True value", "sv": "Sant värde"},
    "covered": {"en": "Interval covers truth", "sv": "Intervallet täcker"},
    "value": {"en": "Value", "sv": "Värde"},
    "setting": {"en": "Setting", "sv": "Inställning"},
    # estimands
    "share_treated": {"en": "share in work or studies, participants",
                      "sv": "andel i arbete eller studier, deltagare"},
    "share_control": {"en": "share in work or studies, controls",
                      "sv": "andel i arbete eller studier, kontrollpersoner"},
    "share_diff": {"en": "difference in share", "sv": "skillnad i andel"},
    "rmst_treated": {"en": "mean days not yet in work or studies, participants",
                     "sv": "medeldagar ännu ej i arbete eller studier, deltagare"},
    "rmst_control": {"en": "mean days not yet in work or studies, controls",
                     "sv": "medeldagar ännu ej i arbete eller studier, kontrollpersoner"},
    "rmst_diff": {"en": "difference in mean days", "sv": "skillnad i medeldagar"},
    "hazard_ratio": {"en": "hazard ratio", "sv": "hazardkvot"},
    "subdistribution_hazard_ratio": {"en": "subdistribution hazard ratio (Fine-Gray)",
                                     "sv": "subfördelningshazardkvot (Fine-Gray)"},
    # flow steps and reasons
    "eligible": {"en": "eligible", "sv": "möjliga att ingå"},
    "matched": {"en": "matched", "sv": "matchade"},
    "analysed": {"en": "analysed", "sv": "analyserade"},
    "complete_covariates": {"en": "complete covariates", "sv": "fullständiga bakgrundsvariabler"},
    "common_support": {"en": "common support", "sv": "gemensamt stöd"},
    "reason_rows_in_the_input": {"en": "rows in the input", "sv": "rader i indata"},
    "reason_no_control_within_caliper": {"en": "no control within caliper",
                                         "sv": "ingen kontrollperson inom caliper"},
    "exact_stratum": {"en": "exact stratum", "sv": "exakt stratum"},
    "caliper": {"en": "caliper", "sv": "caliper"},
    "controls_not_selected": {"en": "controls not selected", "sv": "kontrollpersoner som inte valdes"},
    "treated_not_selected": {"en": "participants not selected", "sv": "deltagare som inte valdes"},
    "at_risk_at_entry": {"en": "at risk at entry", "sv": "i riskmängden vid start"},
    "reason_no_control_within_the_caliper": {"en": "no control within the caliper",
                                             "sv": "ingen kontrollperson inom caliper"},
    "reason_not_chosen_by_any_treated_unit": {"en": "not chosen by any treated unit",
                                              "sv": "inte vald av någon deltagare"},
    "reason_every_control_within_the_caliper_already_used_by_other_treated_units": {
        "en": "every control within the caliper already used by other treated units",
        "sv": "alla kontrollpersoner inom caliper redan använda av andra deltagare"},
    "reason_no_control_in_the_same_exact_stratum": {"en": "no control in the same exact stratum",
                                                    "sv": "ingen kontrollperson i samma exakta stratum"},
    "reason_matched_and_followed_up": {"en": "matched and followed up", "sv": "matchade och följda"},
    "reason_missing_covariate_values": {"en": "missing covariate values",
                                        "sv": "saknade värden i bakgrundsvariabler"},
    # headline column labels
    "share_diff_at": {"en": "difference in share, {horizon} days",
                      "sv": "skillnad i andel, {horizon} dagar"},
    "not_estimable": {"en": "not estimable", "sv": "kan inte skattas"},
    "methods_design_other": {
        "en": "The comparison group was formed by {method} ({distance}), on {covariates}, within the same {exact}.",
        "sv": "Jämförelsegruppen bildades med {method} ({distance}), på {covariates}, inom samma {exact}."},
    "methods_se_influence": {
        "en": "influence functions (infinitesimal jackknife) summed within matched sets, so that a "
              "participant and its controls are not treated as independent",
        "sv": "influensfunktioner (infinitesimal jackknife) summerade inom matchade grupper, så att en "
              "deltagare och dess kontrollpersoner inte behandlas som oberoende"},
    "methods_se_bootstrap": {"en": "a bootstrap over matched sets ({n_boot} replicates)",
                             "sv": "bootstrap över matchade grupper ({n_boot} replikat)"},
    "start_period_month": {"en": "calendar month of the start date", "sv": "kalendermånad för startdatum"},
    "start_period_quarter": {"en": "calendar quarter of the start date", "sv": "kalenderkvartal för startdatum"},
    "start_period_year": {"en": "calendar year of the start date", "sv": "kalenderår för startdatum"},
    "and": {"en": "and", "sv": "och"},
    "report_data_note": {"en": "Synthetic data: no real person is described in this report.",
                         "sv": "Syntetiska data: ingen verklig person beskrivs i denna rapport."},
    "report_fingerprints": {"en": "Input fingerprints", "sv": "Fingeravtryck av indata"},
    "suppressed": {"en": "not shown (small group)", "sv": "visas ej (liten grupp)"},
})
_add({f"month_{m}": {lang: month_name(m, lang) for lang in LANGS} for m in range(1, 13)})
LABELS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {k: MappingProxyType(v) for k, v in _LABELS.items()})


def has_label(key: Any) -> bool:
    """True when ``key`` is a key of the label map.

    Examples
    --------
    >>> has_label("women"), has_label("Women"), has_label(3)
    (True, False, False)
    """
    return isinstance(key, str) and key in LABELS


@validate_params({"key": [InstanceOf(str, "a label key (str)")], "lang": LANG})
def label(key: str, lang: Lang = "en", **fields: Any) -> str:
    """The display label of ``key`` in ``lang``.

    Parameters
    ----------
    key : str
        A snake_case key of :data:`LABELS`, e.g. ``"women"`` or ``"to_work"``.
    lang : {"en", "sv"}
        Language of the label.
    **fields
        Values for placeholders in the label, e.g. ``target="4 000"`` for goal texts.

    Returns
    -------
    str

    Raises
    ------
    ParameterError
        If ``key`` is not in the map (with a close match when there is one) or ``lang`` is unknown.

    Examples
    --------
    >>> label("women", "sv"), label("no_subsidy", "sv")
    ('Kvinnor', 'Utan anställningsstöd')
    >>> label("goal_participants", "en", target="4,000")
    '4,000 residents have participated'
    """
    if key not in LABELS:
        raise ParameterError(f"No label for key {key!r}.{suggest(str(key), list(LABELS))}")
    text = LABELS[key][lang]
    return text.format(**fields) if fields else text


def _display(value: Any, lang: Lang) -> Any:
    if isinstance(value, str) and value in LABELS:
        text = LABELS[value][lang]
        return text if "{" not in text else value
    if isinstance(value, pd.Period) and value.freqstr.startswith("M"):
        return format_month(value, lang)
    return value


@renamed_parameters({"df": "table"})
@validate_params({"table": [InstanceOf(pd.DataFrame, "a pandas DataFrame")], "lang": LANG, "values": ["boolean"]})
def relabel(table: pd.DataFrame, lang: Lang = "en", *, values: bool = True) -> pd.DataFrame:
    """A copy of ``table`` with keys replaced by labels, for display.

    Column labels, index labels, the names of both axes and (with ``values=True``) string cells
    that are keys of :data:`LABELS` are replaced; monthly periods become month names. Anything
    else is left as it is.

    Parameters
    ----------
    table : DataFrame
        Any table (``df`` is its old name, kept for this version with a FutureWarning).
    lang : {"en", "sv"}
    values : bool
        Also relabel cells of object columns.

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"women": [64], "men": [87], "total": [151]}, index=["to_work"])
    >>> relabel(t, "sv")
                          Kvinnor  Män  Totalt
    Avslutad till arbete       64   87     151
    """
    out = table.copy()
    out.columns = pd.Index([_display(c, lang) for c in out.columns], name=_display(out.columns.name, lang))
    out.index = pd.Index([_display(i, lang) for i in out.index], name=_display(out.index.name, lang))
    if values:
        for c in out.columns:
            if out[c].dtype == object:
                out[c] = out[c].map(lambda v: _display(v, lang))
    return out


@validate_params({"lang": LANG})
def label_of(value: Hashable, lang: Lang = "en") -> Any:
    """The label of ``value`` if it is a key, else ``value`` itself (for mixed axes).

    Examples
    --------
    >>> label_of("to_work", "sv"), label_of("Outside Europe", "sv"), label_of(2022)
    ('Avslutad till arbete', 'Outside Europe', 2022)
    """
    return _display(value, lang)


@validate_params({"lang": LANG})
def subgroup_label(value: Any, lang: Lang = "en") -> str:
    """The display name of a subgroup of an effect table, differences included.

    Keys get their label; a difference ``"female - male"`` becomes ``"Women − men"``; other
    values are shown as they are, with spaces for underscores.

    Examples
    --------
    >>> subgroup_label("female", "sv"), subgroup_label("female - male", "sv")
    ('Kvinnor', 'Kvinnor − män')
    >>> subgroup_label("Outside Europe", "en")
    'Outside Europe'
    """
    text = str(value)
    if has_label(text):
        return LABELS[text][lang]
    if " - " in text:
        a, b = text.split(" - ", 1)
        first, second = subgroup_label(a, lang), subgroup_label(b, lang)
        return f"{first} − {second.lower() if has_label(b) else second}"
    return text.replace("_", " ")


@validate_params({"change": [InstanceOf(Real, "a number (NaN for none)"), None], "year": [Interval(Integral, 1, None)], "lang": LANG,
                  "decimals": [Interval(Integral, 0, None)]})
def format_change(change: float | None, year: int, lang: Lang = "en", decimals: int = 1) -> str:
    """A year-over-year change as the monitoring reports phrase it.

    Parameters
    ----------
    change : float
        Relative change, e.g. ``-0.177`` for a fall of 17.7 percent.
    year : int
        The year of the month compared with.
    lang : {"en", "sv"}
    decimals : int

    Examples
    --------
    >>> format_change(-0.177, 2021, "sv")
    '-17,7 % jämfört med samma månad 2021'
    >>> format_change(-0.262, 2020, "en")
    '-26.2% compared with the same month 2020'
    """
    if change is None or pd.isna(change):
        return ""
    return f"{format_percent(change, lang, decimals, sign=True)} {label('compared_with_same_month', lang)} {int(year)}"
