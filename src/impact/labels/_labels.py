"""Swedish and English labels for every published table, from one map.

Data and results use snake_case keys (``women``, ``to_work``, ``partly_achieved``); labels are
applied only at display, by :func:`label` and :func:`relabel`. Numbers, percentages, months and
year-over-year changes are formatted the way each language writes them (``1 800`` with a no-break
space and ``−17,7 %`` with a minus sign in Swedish, ``1,800`` and ``-17.7%`` in English).

Examples
--------
>>> label("partly_achieved", "sv")
'delvis uppnått'
>>> format_change(-0.177, 2021, "en")
'-17.7% compared with the same month 2021'
"""

from __future__ import annotations

import re
import string
from collections.abc import Collection, Hashable, Mapping
from numbers import Integral, Real
from types import MappingProxyType
from typing import Any

import pandas as pd

from impact._compat import renamed_parameters
from impact._errors import ParameterError
from impact._validation import InstanceOf, Interval, suggest, validate_params
from impact.labels._format import LANG, LANGS, Lang, format_month, format_percent, month_name
from impact.labels._user import LabelMap, resolve_labels, with_user_labels  # noqa: F401  (used by the doctests)

__all__ = ["LABELS", "label", "has_label", "relabel", "label_of", "subgroup_label", "covariate_label", "untranslated",
           "format_change"]


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
    "report_technical_notes": {"en": "Technical notes", "sv": "Tekniska anmärkningar"},
    "report_untranslated_notes": {"en": "Notes without a translation",
                                  "sv": "Anmärkningar som saknar svensk översättning (på engelska)"},
    # notes under tables
    "report_note_headline": {
        "en": "Share difference: participants minus matched controls in the share who have gone to "
              "work or studies by that day, with a {level} confidence interval. Hazard ratio above 1: "
              "participants reach work or studies sooner. Differences in share are written as proportions: "
              "0.032 is 3.2 percentage points, as the text above says it.",
        "sv": "Skillnad i andel: deltagare minus matchade kontrollpersoner i andelen som gått till "
              "arbete eller studier efter så många dagar, med {level} konfidensintervall. Hazardkvot "
              "över 1: deltagarna når arbete eller studier snabbare. Skillnader i andel anges som "
              "andelar: 0,032 är 3,2 procentenheter, som texten ovan uttrycker det."},
    "report_note_flow": {
        "en": "Each step counts the people left after it. Counts under {threshold} are shown as "
              "'{mark}', with further cells hidden where a total would reveal them.",
        "sv": "Varje steg räknar de personer som återstår efter steget. Antal under {threshold} visas "
              "som '{mark}', och fler celler döljs där en summa annars skulle avslöja dem."},
    "report_note_balance": {
        "en": "Standardised mean differences (|SMD| under 0.1 is the usual threshold), variance ratios "
              "and the largest eCDF distance, before and after matching. The statistics of binary "
              "characteristics are rounded to two decimals (0.310 is 0.31), so that they give no "
              "small group back. Every statistic is in balance.csv.",
        "sv": "Standardiserade medelvärdesskillnader (|SMD| under 0,1 är den vanliga gränsen), "
              "variankvoter och största avstånd mellan de empiriska fördelningsfunktionerna, före "
              "och efter matchning. Måtten för binära variabler är avrundade till två decimaler (0,310 "
              "är 0,31), så att de inte avslöjar någon liten grupp. Alla mått finns i balance.csv."},
    "report_note_effects": {
        "en": "Shares and differences in share are proportions (0.032 = 3.2 percentage points), with the "
              "confidence interval in brackets. Estimates for a group with fewer than {n} participants or "
              "controls are not shown, nor shares resting on fewer than {threshold} people.",
        "sv": "Andelar och skillnader i andel anges som andelar (0,032 = 3,2 procentenheter), med "
              "konfidensintervallet inom hakparentes. Skattningar för en grupp med färre än {n} deltagare "
              "eller kontrollpersoner visas inte, inte heller andelar som vilar på färre än {threshold} "
              "personer."},
    "report_note_naive": {
        "en": "All participants against all potential controls, without matching: the difference a "
              "simple comparison would show. It is biased when participants differ from the others.",
        "sv": "Alla deltagare mot alla potentiella kontrollpersoner, utan matchning: den skillnad en enkel "
              "jämförelse skulle visa. Den är snedvriden när deltagarna skiljer sig från övriga."},
    # methods, written from the settings
    "methods_design": {
        "en": "Each participant was compared with {ratio} {ratio:person|people} who had not (yet) taken part, "
              "chosen by {method} matching {replace} on a propensity score: a logistic regression of "
              "participation on {covariates}. A match had to lie within {caliper} standard deviations "
              "of the score and have the same {exact}.",
        "sv": "Varje deltagare jämfördes med {ratio} {ratio:person|personer} som inte (ännu) deltagit, valda genom "
              "{method}-matchning {replace} på den skattade sannolikheten att delta (en logistisk regression av "
              "deltagande på {covariates}). En matchning måste ligga inom {caliper} standardavvikelser "
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
        "en": "Disclosure control of {tables} by threshold suppression (threshold {threshold}): every count of "
              "1 to {below} people is replaced by '{mark}' (primary suppression), and further cells are hidden "
              "where a total would give a hidden count back (secondary suppression, checked by linear "
              "programming against every published total).{monthly}{goals} No identifier is published.",
        "sv": "Röjandekontroll av {tables} genom undertryckning under ett tröskelvärde ({threshold}): varje "
              "antal på 1 till {below} personer ersätts med '{mark}' (primär undertryckning), och fler celler "
              "döljs där en summa annars skulle ge tillbaka ett dolt antal (sekundär undertryckning, kontrollerad "
              "med linjärprogrammering mot varje publicerad summa).{monthly}{goals} Inga identiteter "
              "publiceras."},
    "methods_no_suppression": {
        "en": "Disclosure control of {tables}: threshold 1, so no count is hidden. No identifier is published.",
        "sv": "Röjandekontroll av {tables}: tröskelvärde 1, så inget antal döljs. Inga identiteter publiceras."},
    "goal_table": {"en": "the goal table", "sv": "måltabellen"},
    "methods_tables_all": {"en": "every table", "sv": "alla tabeller"},
    "methods_tables_rest": {"en": "the flow, balance and effect tables",
                            "sv": "flödes-, balans- och effekttabellerna"},
    "methods_tables_rest_goals": {"en": "the flow, balance, effect and goal tables",
                                  "sv": "flödes-, balans-, effekt- och måltabellerna"},
    "methods_suppression_monthly": {
        "en": " Each month of a monthly table is protected on its own, so a month is hidden the same way in "
              "every release.",
        "sv": " Varje månad i en månadstabell skyddas för sig, så att en månad döljs på samma sätt i varje "
              "publicering."},
    "methods_suppression_goals": {
        "en": " A goal's measure resting on a count of 1 to {below} people is withheld, and so is a p-value "
              "resting on one.",
        "sv": " Ett måls utfall som vilar på ett antal på 1 till {below} personer redovisas inte, och inte "
              "heller ett p-värde som vilar på ett sådant antal."},
    "methods_cellkey": {
        "en": "Disclosure control of {tables} by the cell-key method of Statistics Sweden: no count is "
              "hidden; instead every count of people or households carries a small deviation of at most "
              "±{noise}, read from a fixed probability table (the p-table: mean deviation 0 for counts of 2 "
              "or more, an empty cell stays 0, and no count of 1 or more is shown as 0). The deviation of a "
              "cell is fixed by the people behind it, through keys computed from their identifiers with a "
              "secret that the office keeps and never publishes: the same people get the same deviation in "
              "every table and every release, so a table published again reveals nothing new. Totals are "
              "the sums of the published cells (so a total can deviate by more than ±{noise}); {derived} are "
              "computed from the published counts.",
        "sv": "Röjandekontroll av {tables} med SCB:s cellnyckelmetod: inget antal döljs; i stället har "
              "varje antal personer eller hushåll en liten avvikelse på högst ±{noise}, hämtad ur en fast "
              "sannolikhetstabell (p-tabellen: medelavvikelse 0 för antal från 2, en tom cell förblir 0 och "
              "inget antal på 1 eller mer visas som 0). En cells avvikelse bestäms av personerna bakom den, "
              "genom nycklar som räknas fram ur deras identiteter med en hemlig nyckel som myndigheten "
              "förvarar och aldrig publicerar: samma personer får samma avvikelse i varje tabell och varje "
              "publicering, så en tabell som publiceras igen avslöjar inget nytt. Summor är summan av de "
              "publicerade cellerna (en summa kan därför avvika mer än ±{noise}); {derived} räknas från de "
              "publicerade antalen."},
    "methods_cellkey_tables": {"en": "the monitoring tables", "sv": "månadsuppföljningens tabeller"},
    "methods_cellkey_tables_goals": {"en": "the monitoring tables and the goal table",
                                     "sv": "månadsuppföljningens tabeller och måltabellen"},
    "methods_cellkey_derived": {"en": "shares and changes against earlier years",
                                "sv": "andelar och förändringar mot tidigare år"},
    "methods_cellkey_derived_goals": {
        "en": "shares, changes against earlier years, goal measures, tests and judgements",
        "sv": "andelar, förändringar mot tidigare år, måluppfyllelsens utfall, test och bedömningar"},
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
                                         "sv": "ingen kontrollperson inom avståndsgränsen"},
    "exact_stratum": {"en": "exact stratum", "sv": "exakt stratum"},
    "caliper": {"en": "caliper", "sv": "avståndsgräns"},
    "controls_not_selected": {"en": "controls not selected", "sv": "kontrollpersoner som inte valdes"},
    "treated_not_selected": {"en": "participants not selected", "sv": "deltagare som inte valdes"},
    "at_risk_at_entry": {"en": "at risk at entry", "sv": "i riskmängden vid start"},
    "reason_no_control_within_the_caliper": {"en": "no control within the caliper",
                                             "sv": "ingen kontrollperson inom avståndsgränsen"},
    "reason_not_chosen_by_any_treated_unit": {"en": "not chosen by any treated unit",
                                              "sv": "inte vald av någon deltagare"},
    "reason_every_control_within_the_caliper_already_used_by_other_treated_units": {
        "en": "every control within the caliper already used by other treated units",
        "sv": "alla kontrollpersoner inom avståndsgränsen redan använda av andra deltagare"},
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
#: estimands, standard-error methods, balance, plots, design rows, settings, roles, and the
#: covariates and codes of the bundled synthetic data
_add({
    # estimands and how their uncertainty was computed (values of the se_method column)
    "time_ratio": {"en": "time ratio", "sv": "tidskvot"},
    "se_method": {"en": "SE method", "sv": "Metod för medelfel"},
    "influence_function": {"en": "influence function", "sv": "influensfunktion"},
    "influence": {"en": "influence function", "sv": "influensfunktion"},
    "cluster_robust_sandwich": {"en": "cluster-robust sandwich", "sv": "klusterrobust sandwichskattning"},
    "robust_sandwich": {"en": "robust sandwich", "sv": "robust sandwichskattning"},
    "bootstrap": {"en": "bootstrap", "sv": "bootstrap (omsampling)"},
    "women_minus_men": {"en": "Women − men", "sv": "Kvinnor − män"},
    "persons": {"en": "{n} {n:person|people}", "sv": "{n} {n:person|personer}"},
    "participants_count": {"en": "{n} {n:participant|participants}", "sv": "{n} {n:deltagare|deltagare}"},
    "controls_count": {"en": "{n} {n:control|controls}", "sv": "{n} {n:kontrollperson|kontrollpersoner}"},
    "too_few_to_estimate": {"en": "too few participants to estimate an effect",
                            "sv": "för få deltagare för att skatta en effekt"},
    "balance_not_achieved": {"en": "balance not achieved", "sv": "balans uppnåddes inte"},
    # balance table and Love plot
    "mean_treated_before": {"en": "Mean, participants, before", "sv": "Medelvärde, deltagare, före"},
    "mean_control_before": {"en": "Mean, controls, before", "sv": "Medelvärde, kontrollpersoner, före"},
    "mean_treated_after": {"en": "Mean, participants, after", "sv": "Medelvärde, deltagare, efter"},
    "mean_control_after": {"en": "Mean, controls, after", "sv": "Medelvärde, kontrollpersoner, efter"},
    "ecdf_mean_before": {"en": "eCDF mean before", "sv": "eCDF medel före"},
    "ecdf_mean_after": {"en": "eCDF mean after", "sv": "eCDF medel efter"},
    "balanced_smd": {"en": "Balanced (SMD)", "sv": "Balanserad (SMD)"},
    "balanced_var_ratio": {"en": "Balanced (variance ratio)", "sv": "Balanserad (variankvot)"},
    "binary": {"en": "binary", "sv": "binär"},
    "continuous": {"en": "continuous", "sv": "kontinuerlig"},
    "categorical": {"en": "categorical", "sv": "kategorisk"},
    "before_matching": {"en": "before matching", "sv": "före matchning"},
    "after_matching": {"en": "after matching", "sv": "efter matchning"},
    "axis_smd": {"en": "standardised mean difference", "sv": "standardiserad medelvärdesskillnad"},
    "axis_abs_smd": {"en": "absolute standardised mean difference",
                     "sv": "absolut standardiserad medelvärdesskillnad"},
    "title_love_plot": {"en": "Balance of characteristics before and after matching",
                        "sv": "Balans i bakgrundsvariabler före och efter matchning"},
    # effect curves and forest plot
    "title_effect_curves": {"en": "Share in work or studies, participants and matched controls",
                            "sv": "Andel i arbete eller studier, deltagare och matchade kontrollpersoner"},
    "title_forest": {"en": "Effects with confidence intervals", "sv": "Effekter med konfidensintervall"},
    "axis_days_since_start": {"en": "Days since start", "sv": "Dagar sedan start"},
    "axis_share_in_work_or_studies": {"en": "Share in work or studies", "sv": "Andel i arbete eller studier"},
    "confidence_interval": {"en": "{level} confidence interval", "sv": "{level} konfidensintervall"},
    "days": {"en": "days", "sv": "dagar"},
    "time": {"en": "Time", "sv": "Tid"},
    # design rows (MatchIt-style header)
    "method": {"en": "Method", "sv": "Metod"},
    "distance": {"en": "Matching score", "sv": "Avståndsmått"},
    # under the monthly "to work or studies" figure: its months, which are not the goal table's period
    "monthly_period": {"en": "Counted {first} to {last} only; the goal table counts the whole programme.",
                       "sv": "Räknat {first} till {last}; måltabellen räknar hela programmet."},
    # the hires-by-subsidy figure's legend entry for a cell the disclosure control hides (no bar, like a zero)
    "legend_hidden_cell": {"en": "{mark} hidden to protect small counts (0: none)",
                           "sv": "{mark} dolt för att skydda små antal (0: inga)"},
    # the balance table's and Love plot's row of the score matched on (MatchIt calls it "distance")
    "balance_distance": {"en": "Propensity score", "sv": "Skattad sannolikhet att delta"},
    "exact": {"en": "Exact matching on", "sv": "Exakt matchning på"},
    "ratio": {"en": "Controls per participant", "sv": "Kontrollpersoner per deltagare"},
    "replace": {"en": "With replacement", "sv": "Med återläggning"},
    "number_of_obs": {"en": "Number of observations", "sv": "Antal observationer"},
    "nearest": {"en": "nearest neighbour", "sv": "närmaste granne"},
    "optimal": {"en": "optimal", "sv": "optimal"},
    "propensity_score": {"en": "propensity score", "sv": "skattad sannolikhet att delta"},
    # settings (settings.csv, the workbook's settings sheet)
    "clock": {"en": "Clock", "sv": "Tidsnollpunkt"},
    "conf_level": {"en": "Confidence level", "sv": "Konfidensnivå"},
    "covariates": {"en": "Characteristics", "sv": "Bakgrundsvariabler"},
    "horizons": {"en": "Horizons (days)", "sv": "Uppföljningstider (dagar)"},
    "lang": {"en": "Language", "sv": "Språk"},
    "monitoring_start": {"en": "Monitoring from", "sv": "Uppföljning från"},
    "monitoring_end": {"en": "Monitoring to", "sv": "Uppföljning till"},
    "n_boot": {"en": "Bootstrap replicates", "sv": "Antal bootstrapreplikat"},
    "random_state": {"en": "Seed", "sv": "Slumpfrö"},
    "roles": {"en": "Column roles", "sv": "Kolumnroller"},
    "start_period": {"en": "Start period", "sv": "Startperiod"},
    "subgroups": {"en": "Subgroups", "sv": "Undergrupper"},
    "subgroup_column": {"en": "Subgroup column", "sv": "Kolumn för undergrupp"},
    "threshold": {"en": "Smallest count shown", "sv": "Minsta antal som visas"},
    "title": {"en": "Title", "sv": "Titel"},
    "versions": {"en": "Versions", "sv": "Versioner"},
    "generated_utc": {"en": "Generated (UTC)", "sv": "Skapad (UTC)"},
    "fingerprint_data": {"en": "Fingerprint, register data", "sv": "Fingeravtryck, registerdata"},
    "fingerprint_participants": {"en": "Fingerprint, participants", "sv": "Fingeravtryck, deltagare"},
    "fingerprint_employments": {"en": "Fingerprint, employments", "sv": "Fingeravtryck, anställningar"},
    "fingerprint_households": {"en": "Fingerprint, households", "sv": "Fingeravtryck, hushåll"},
    "fingerprint_household_exits": {"en": "Fingerprint, household exits", "sv": "Fingeravtryck, hushållsavslut"},
    # sheets of the workbook and CSV files
    "flow": {"en": "Flow", "sv": "Flöde"},
    "balance": {"en": "Balance", "sv": "Balans"},
    "effects": {"en": "Effects", "sv": "Effekter"},
    "headline": {"en": "Headline", "sv": "Huvudresultat"},
    "naive_effects": {"en": "Naive comparison", "sv": "Naiv jämförelse"},
    "truth_check": {"en": "Check against the truth", "sv": "Kontroll mot sant värde"},
    "settings": {"en": "Settings", "sv": "Inställningar"},
    "methods": {"en": "Methods", "sv": "Metod"},
    "goal_fulfilment": {"en": "Goal fulfilment", "sv": "Måluppfyllelse"},
    # column roles and exit codes
    "id": {"en": "Identifier", "sv": "Identitet"},
    "treatment": {"en": "Participation", "sv": "Deltagande"},
    "start": {"en": "Start date", "sv": "Startdatum"},
    "exit_date": {"en": "Exit date", "sv": "Avslutsdatum"},
    "exit_type": {"en": "Exit type", "sv": "Avslutsorsak"},
    "cutoff": {"en": "Data cut-off", "sv": "Datauttag"},
    "exit_codes": {"en": "Exit codes", "sv": "Avslutskoder"},
    "event": {"en": "event", "sv": "händelse"},
    "competing": {"en": "competing event", "sv": "konkurrerande händelse"},
    "censored": {"en": "censored", "sv": "censurerad"},
    "work": {"en": "work", "sv": "arbete"},
    "studies": {"en": "studies", "sv": "studier"},
    # covariates of the bundled synthetic data, and their levels
    "age": {"en": "Age", "sv": "Ålder"},
    "education": {"en": "Education", "sv": "Utbildning"},
    "region_of_birth": {"en": "Region of birth", "sv": "Födelseregion"},
    "days_unemployed_2y": {"en": "Days unemployed in the last two years",
                           "sv": "Dagar i arbetslöshet de senaste två åren"},
    "disability": {"en": "Disability", "sv": "Funktionsnedsättning"},
    "district": {"en": "District", "sv": "Stadsområde"},
    "registered_date": {"en": "Registration date", "sv": "Inskrivningsdatum"},
    "primary": {"en": "primary", "sv": "förgymnasial"},
    "secondary": {"en": "secondary", "sv": "gymnasial"},
    "tertiary": {"en": "tertiary", "sv": "eftergymnasial"},
    "sweden": {"en": "Sweden", "sv": "Sverige"},
    "europe": {"en": "Europe", "sv": "Europa"},
    "outside_europe": {"en": "Outside Europe", "sv": "Utanför Europa"},
})
#: the report's design table, figures, settings values, workbook and CSV columns, and the covariates
#: of the register (risk-set) design
_add({
    # design methods (MatchResult.method) and the rows of the design table
    "method_riskset": {"en": "risk-set matching", "sv": "dynamisk matchning i riskmängder"},
    "method_nearest": {"en": "nearest neighbour matching", "sv": "matchning med närmaste granne"},
    "method_optimal": {"en": "optimal pair matching", "sv": "optimal parvis matchning"},
    "method_cem": {"en": "coarsened exact matching", "sv": "grovindelad exakt matchning (CEM)"},
    "method_exact": {"en": "exact matching", "sv": "exakt matchning"},
    "method_subclass": {"en": "subclassification on the distance", "sv": "delklasser efter avståndsmåttet"},
    "method_ipw": {"en": "inverse probability weighting", "sv": "viktning med inversen av sannolikheten (IPW)"},
    "design_method_ratio": {"en": "{ratio}:1 {method} {replace}", "sv": "{ratio}:1 {method} {replace}"},
    "design_caliper_sd": {"en": "{caliper} standard deviations of the matching score (width {width})",
                          "sv": "{caliper} standardavvikelser av avståndsmåttet (bredd {width})"},
    "design_caliper_raw": {"en": "{caliper} in the matching score's units (width {width})",
                           "sv": "{caliper} i avståndsmåttets enheter (bredd {width})"},
    "design_caliper_on": {"en": "caliper on {covariate}", "sv": "avståndsgräns för {covariate}"},
    "design_caliper_width": {"en": "width {width} (units of {covariate})",
                             "sv": "bredd {width} (i enheter av {covariate})"},
    "estimand_att": {"en": "ATT (average effect on the participants)",
                     "sv": "ATT (genomsnittlig effekt för deltagarna)"},
    "estimand_atc": {"en": "ATC (average effect on the controls)",
                     "sv": "ATC (genomsnittlig effekt för kontrollpersonerna)"},
    "estimand_ate": {"en": "ATE (average effect in the whole population)",
                     "sv": "ATE (genomsnittlig effekt i hela populationen)"},
    "join_vs_never": {"en": "joining versus never joining", "sv": "att delta jämfört med att aldrig delta"},
    "join_vs_wait": {"en": "joining now versus waiting", "sv": "att börja nu jämfört med att vänta"},
    # values of the settings (settings.csv, the workbook's settings sheet)
    "clock_own": {"en": "own measurement date", "sv": "egen mätdag"},
    "clock_matched": {"en": "the participant's start date", "sv": "deltagarens startdatum"},
    "riskset": {"en": "risk-set design", "sv": "design med riskmängder"},
    "across_periods": {"en": "across periods", "sv": "mellan perioder"},
    "estimand_reason": {"en": "Why this estimand", "sv": "Varför detta mått"},
    "design": {"en": "Design", "sv": "Design"},
    "period": {"en": "Period", "sv": "Period"},
    "elapsed_band": {"en": "Band of elapsed time in the open spell (days)",
                     "sv": "Intervall för tid i pågående inskrivning (dagar)"},
    "elapsed_bands": {"en": "Bands of elapsed time", "sv": "Antal intervall för tid i inskrivning"},
    "reuse": {"en": "Reuse of controls", "sv": "Återanvändning av kontrollpersoner"},
    "time_in_work": {"en": "Days in work or studies within (days)", "sv": "Dagar i arbete eller studier inom (dagar)"},
    "benefit_months": {"en": "Months with benefits after the start (months)",
                       "sv": "Månader med ersättning efter start (månader)"},
    "benefits": {"en": "Benefit registers counted", "sv": "Ersättningsregister som räknas"},
    "curve": {"en": "Effect over time", "sv": "Effekten över tid"},
    "aiptw": {"en": "Doubly robust shares (AIPTW)", "sv": "Dubbelt robusta andelar (AIPTW)"},
    "evalue": {"en": "E-values", "sv": "E-värden"},
    "rosenbaum": {"en": "Rosenbaum bounds", "sv": "Rosenbaumgränser"},
    "gammas": {"en": "Gammas of the Rosenbaum bounds", "sv": "Gamma-värden för Rosenbaumgränserna"},
    "placebo": {"en": "Placebo outcomes", "sv": "Placeboutfall"},
    "ipcw": {"en": "Weighting for censoring at own programme start (IPCW)",
             "sv": "Viktning för censurering vid egen programstart (IPCW)"},
    "codes": {"en": "Deregistration codes", "sv": "Avslutskoder"},
    "subgroup_by": {"en": "Subgroup", "sv": "Undergrupp"},
    "missing_values": {"en": "Missing values", "sv": "Saknade värden"},
    # withheld estimates (the column withheld of effects.csv)
    "withheld": {"en": "Withheld because", "sv": "Dold eftersom"},
    "group_size": {"en": "the group is too small", "sv": "gruppen är för liten"},
    "numerator": {"en": "too few with (or without) the event", "sv": "för få med (eller utan) händelsen"},
    "difference": {"en": "a part of the difference is withheld", "sv": "en del av skillnaden är dold"},
    "complement": {"en": "it would give a withheld group back", "sv": "den skulle ge tillbaka en dold grupp"},
    # figures (alt texts and legends)
    "axis_distance_score": {"en": "distance (score)", "sv": "avståndsmått (skattning)"},
    "axis_count_controls_below": {"en": "count (controls below)", "sv": "antal (kontrollpersoner nedåt)"},
    "legend_all": {"en": "all", "sv": "alla"},
    "legend_matched": {"en": "matched", "sv": "matchade"},
    # the methods text
    "methods_method_nearest": {"en": "nearest-neighbour", "sv": "närmaste granne"},
    "methods_method_optimal": {"en": "optimal", "sv": "optimal parvis"},
    "methods_min_effect": {
        "en": ("Disclosure control: an effect estimate is published only for groups of at least {n} people in each "
               "arm; a share resting on fewer than {threshold} people (or with fewer than {threshold} without the "
               "event), a value that would give a withheld one back by subtraction, and every difference or test "
               "involving a withheld value are withheld. Means of binary covariates are shown as whole percents, "
               "and only for arms of at least {big} people; otherwise only the standardised difference is shown. "
               "Small drops in the flow are protected like small counts."),
        "sv": ("Röjandekontroll: en effektskattning redovisas bara för grupper med minst {n} personer i varje "
               "grupp; en andel som vilar på färre än {threshold} personer (eller där färre än {threshold} saknar "
               "händelsen), ett värde som genom subtraktion skulle ge tillbaka ett dolt värde och varje skillnad "
               "eller test som rör ett dolt värde redovisas inte. Medelvärden för binära bakgrundsvariabler visas "
               "i hela procent och bara för grupper med minst {big} personer; annars visas bara den "
               "standardiserade skillnaden. Små bortfall i flödet skyddas som små antal.")},
    # inputs (the fingerprint line of the report)
    "input_data": {"en": "analysis data", "sv": "analysdata"},
    "input_persons": {"en": "persons", "sv": "personer"},
    "input_spells": {"en": "registration spells", "sv": "inskrivningsperioder"},
    "input_programme": {"en": "programme starts", "sv": "programstarter"},
    "input_benefits": {"en": "benefits", "sv": "förmåner"},
    "input_participants": {"en": "participants", "sv": "deltagare"},
    "input_employments": {"en": "employments", "sv": "anställningar"},
    "input_households": {"en": "households", "sv": "hushåll"},
    "input_household_exits": {"en": "household exits", "sv": "hushållsavslut"},
    # the register design's own tables (sensitivity_unknown.csv, cause_shares.csv, contamination.csv,
    # unmatched.csv; impact.pipeline.write_design_tables): columns and values, for relabel()
    "unknown_as": {"en": "Unknown-reason exits as", "sv": "Avslut av okänd orsak räknade som"},
    "cause": {"en": "Cause of exit", "sv": "Avslutsorsak"},
    "work_subsidised": {"en": "work with a subsidy", "sv": "arbete med anställningsstöd"},
    "work_unsubsidised": {"en": "work without a subsidy", "sv": "arbete utan anställningsstöd"},
    "measure": {"en": "Measure", "sv": "Storhet"},
    "participants": {"en": "Participants", "sv": "Deltagare"},
    "controls_(set_memberships)": {"en": "matched controls, counted once per participant they were matched to",
                                   "sv": "matchade kontrollpersoner, räknade en gång per deltagare de matchats till"},
    "controls_(persons)": {"en": "controls (persons)", "sv": "kontrollpersoner (personer)"},
    "controls_who_later_joined_the_programme_(set_memberships)": {
        "en": "controls who later joined the programme (counted once per participant matched to)",
        "sv": "kontrollpersoner som senare började i programmet (räknade en gång per deltagare de matchats till)"},
    "controls_who_later_joined_the_programme_(persons)": {
        "en": "controls who later joined the programme (persons)",
        "sv": "kontrollpersoner som senare började i programmet (personer)"},
    "censored_on_the_day_they_joined_(set_memberships)": {
        "en": "censored on the day they joined (counted once per participant matched to)",
        "sv": "censurerade den dag de började (räknade en gång per deltagare de matchats till)"},
    "joined_within_the_follow_up_but_kept_(join_vs_wait,_set_memberships)": {
        "en": "joined within the follow-up but kept (the comparison with waiting; counted once per participant matched to)",
        "sv": "började under uppföljningen men behölls (jämförelsen med att vänta; räknade en gång per deltagare de matchats till)"},
    "control_no_longer_registered_on_the_participant's_start_date": {
        "en": "control no longer registered on the participant's start date",
        "sv": "kontrollpersonen var inte längre inskriven på deltagarens startdatum"},
    "no_control_within_the_caliper": {"en": "no control within the caliper",
                                      "sv": "ingen kontrollperson inom avståndsgränsen"},
    # covariates of the register (risk-set) design
    "elapsed_days": {"en": "Days in the open registration spell", "sv": "Dagar i pågående inskrivning"},
    "days_registered_24m": {"en": "Days registered in the last 24 months",
                            "sv": "Dagar inskriven de senaste 24 månaderna"},
    "earlier_spells": {"en": "Earlier registration spells", "sv": "Tidigare inskrivningsperioder"},
    "born_abroad": {"en": "Born abroad", "sv": "Född utomlands"},
    "benefit_months_12m": {"en": "Months with {benefit} in the last 12 months",
                           "sv": "Månader med {benefit} de senaste 12 månaderna"},
    "benefit_any_12m": {"en": "{benefit} in the last 12 months", "sv": "{benefit} de senaste 12 månaderna"},
    "birth_year": {"en": "Birth year", "sv": "Födelseår"},
    "country_of_birth": {"en": "Country of birth", "sv": "Födelseland"},
    "person_id": {"en": "Person identifier", "sv": "Personidentitet"},
    "participant": {"en": "Participant", "sv": "Deltagare"},
    "start_date": {"en": "Start date", "sv": "Startdatum"},
    "household_id": {"en": "Household identifier", "sv": "Hushållsidentitet"},
    "fingerprint_persons": {"en": "Fingerprint, persons", "sv": "Fingeravtryck, personer"},
    "fingerprint_spells": {"en": "Fingerprint, registration spells", "sv": "Fingeravtryck, inskrivningsperioder"},
    "fingerprint_programme": {"en": "Fingerprint, programme starts", "sv": "Fingeravtryck, programstarter"},
    "fingerprint_benefits": {"en": "Fingerprint, benefits: {benefit}", "sv": "Fingeravtryck, förmåner: {benefit}"},
})
#: every flow step and reason the design, data and pipeline layers write (the report looks a
#: reason up as "reason_" + its words joined by "_")
_add({
    "complete_cases": {"en": "complete cases", "sv": "fullständiga uppgifter"},
    "weighted": {"en": "weighted", "sv": "viktade"},
    "reason_missing_values_in_matching_columns": {"en": "missing values in matching columns",
                                                  "sv": "saknade värden i matchningsvariabler"},
    "reason_zero_weight": {"en": "zero weight", "sv": "vikt noll"},
    "reason_stratum_without_both_treated_and_controls": {
        "en": "stratum without both treated and controls",
        "sv": "stratum utan både deltagare och kontrollpersoner"},
    "reason_subclass_without_both_treated_and_controls": {
        "en": "subclass without both treated and controls",
        "sv": "delklass utan både deltagare och kontrollpersoner"},
    "reason_every_control_of_the_stratum_already_used_by_other_treated_units": {
        "en": "every control of the stratum already used by other treated units",
        "sv": "alla kontrollpersoner i stratumet redan använda av andra deltagare"},
    "reason_every_control_already_used_by_other_treated_units": {
        "en": "every control already used by other treated units",
        "sv": "alla kontrollpersoner redan använda av andra deltagare"},
    "reason_every_remaining_treated_unit_matched": {"en": "every remaining treated unit matched",
                                                    "sv": "alla återstående deltagare matchade"},
    "reason_every_remaining_control_unit_matched": {"en": "every remaining control unit matched",
                                                    "sv": "alla återstående kontrollpersoner matchade"},
    "reason_no_treated_unit_in_the_same_exact_stratum": {
        "en": "no treated unit in the same exact stratum", "sv": "ingen deltagare i samma exakta stratum"},
    "reason_no_treated_unit_within_the_caliper": {"en": "no treated unit within the caliper",
                                                  "sv": "ingen deltagare inom avståndsgränsen"},
    "reason_every_treated_unit_within_the_caliper_already_used_by_other_control_units": {
        "en": "every treated unit within the caliper already used by other control units",
        "sv": "alla deltagare inom avståndsgränsen redan använda av andra kontrollpersoner"},
    "reason_every_treated_unit_of_the_stratum_already_used_by_other_control_units": {
        "en": "every treated unit of the stratum already used by other control units",
        "sv": "alla deltagare i stratumet redan använda av andra kontrollpersoner"},
    "reason_every_treated_unit_already_used_by_other_control_units": {
        "en": "every treated unit already used by other control units",
        "sv": "alla deltagare redan använda av andra kontrollpersoner"},
    "reason_not_chosen_by_any_control_unit": {"en": "not chosen by any control unit",
                                              "sv": "inte vald av någon kontrollperson"},
    "reason_participant_not_eligible_(or_no_row)_in_its_own_entry_period": {
        "en": "participant not eligible (or no row) in its own entry period",
        "sv": "deltagaren var inte möjlig att ingå (eller saknar rad) under sin egen startperiod"},
    **{f"reason_outside_the_common_support_of_the_distance_(discard='{d}')": {
        "en": f"outside the common support of the distance (discard='{d}')",
        "sv": f"utanför det gemensamma stödet för avståndsmåttet (discard='{d}')"}
       for d in ("both", "treated", "control")},
})
#: the flow of the register (risk-set) design: steps and reasons as pipeline writes them
_add({
    'registered': {"en": 'registered', "sv": 'registrerade'},
    'at_risk_(persons)': {"en": 'at risk (persons)', "sv": 'i riskmängden (personer)'},
    'at_risk_(person-periods)': {"en": 'at risk (person-periods)', "sv": 'i riskmängden (person-perioder)'},
    'matched_(set_memberships)': {"en": 'matched (counted once per participant matched to)', "sv": 'matchade (räknade en gång per deltagare de matchats till)'},
    'analysed_(set_memberships)': {"en": 'analysed (counted once per participant matched to)', "sv": 'analyserade (räknade en gång per deltagare de matchats till)'},
    'analysed_(persons)': {"en": 'analysed (persons)', "sv": 'analyserade (personer)'},
    'reason_persons_in_the_extract_(participants:_everyone_with_a_programme_start)': {"en": 'persons in the extract (participants: everyone with a programme start)',
     "sv": 'personer i uttaget (deltagare: alla med ett startdatum i programmet)'},
    'reason_not_registered,_and_not_yet_in_the_programme,_on_the_first_day_of_any_period': {"en": 'not registered, and not yet in the programme, on the first day of any period',
     "sv": 'inte inskrivna, och inte redan i programmet, den första dagen i någon period'},
    'reason_one_row_per_person_and_period_at_risk;_participants_counted_in_the_period_they_start': {"en": 'one row per person and period at risk; participants counted in the period they start',
     "sv": 'en rad per person och period i riskmängden; deltagare räknas i den period de startar'},
    'reason_participant_without_a_control_within_the_caliper_and_exact_cells_(controls:_candidates_not_chosen)': {"en": 'participant without a control within the caliper and exact cells (controls: candidates not chosen)',
     "sv": 'deltagare utan kontrollperson inom avståndsgränsen och de exakta cellerna (kontrollpersoner: kandidater som inte valdes)'},
    "reason_the_control_was_no_longer_registered_on_its_participant's_start_date": {"en": "the control was no longer registered on its participant's start date",
     "sv": 'kontrollpersonen var inte längre inskriven på sin deltagares startdatum'},
    'reason_persons,_not_set_memberships_(a_control_may_serve_in_several_periods)': {"en": 'persons, each counted once (a control may serve in several periods)',
     "sv": 'personer, var och en räknad en gång (en kontrollperson kan ingå i flera perioder)'},
})
#: where the published curves end (impact.publish.curves_published cuts them by the number at risk)
_add({
    "report_note_curves_end": {
        "en": "Each curve ends at the last day at which the participants and the controls of its group each still "
              "have at least {n} people followed up without an exit (at risk): beyond it a step would rest on a "
              "few people, an unstable estimate close to single people's exit dates. Last day shown: {ends}.",
        "sv": "Varje kurva slutar den sista dag då deltagarna och kontrollpersonerna i gruppen vardera fortfarande "
              "har minst {n} personer som följs utan att ha lämnat (i risk): därefter skulle ett steg vila på "
              "några få personer, en osäker skattning nära enskilda personers avgångsdagar. Sista dag som visas: "
              "{ends}."},
    "report_curve_end_day": {"en": "{group}: day {day}", "sv": "{group}: dag {day}"},
})
_add({f"month_{m}": {lang: month_name(m, lang) for lang in LANGS} for m in range(1, 13)})
LABELS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {k: MappingProxyType(v) for k, v in _LABELS.items()})


_LABEL_MAP: list[Any] = [InstanceOf(LabelMap, "a LabelMap (impact.labels.with_user_labels)"), None]


class _Formatter(string.Formatter):
    """``str.format`` with a plural spec: ``"{n} {n:person|personer}"`` -> ``"1 person"``, ``"2 personer"``."""

    def format_field(self, value: Any, format_spec: str) -> Any:
        if "|" in format_spec:
            one, many = format_spec.split("|", 1)
            try:
                single = float(value) == 1
            except (TypeError, ValueError):
                single = False
            return one if single else many
        return super().format_field(value, format_spec)


_FORMATTER = _Formatter()


def _fill(text: str, fields: Mapping[str, Any]) -> str:
    return _FORMATTER.format(text, **fields) if fields else text


def _key_of(value: str) -> str:
    """The snake_case key a displayed phrase would have: ``"cluster-robust sandwich"`` -> ``cluster_robust_sandwich``."""
    return re.sub(r"[\s\-]+", "_", value.strip().lower())


def _builtin_key(value: Any) -> str | None:
    """The key of the built-in map ``value`` names, exactly or as a phrase (case, spaces, hyphens aside)."""
    if not isinstance(value, str):
        return None
    if value in LABELS:
        return value
    if len(value) <= 2:  # codes such as "N" or "M" are never phrases of a key
        return None
    key = _key_of(value)
    return key if key != value and key in LABELS else None


@validate_params({"labels": _LABEL_MAP})
def has_label(key: Any, *, labels: LabelMap | None = None) -> bool:
    """True when ``key`` is a key of the label map (or of the user's labels).

    Examples
    --------
    >>> has_label("women"), has_label("Women"), has_label(3)
    (True, False, False)
    """
    lm = resolve_labels(labels)
    return isinstance(key, str) and (key in LABELS or (lm is not None and lm.text(key, "en") is not None))


@validate_params({"key": [InstanceOf(str, "a label key (str)")], "lang": LANG, "labels": _LABEL_MAP})
def label(key: str, lang: Lang = "en", *, labels: LabelMap | None = None, **fields: Any) -> str:
    """The display label of ``key`` in ``lang``.

    Parameters
    ----------
    key : str
        A snake_case key of :data:`LABELS`, e.g. ``"women"`` or ``"to_work"``, or of the user's labels.
    lang : {"en", "sv"}
        Language of the label.
    labels : LabelMap, optional
        User labels (:func:`with_user_labels`), which win over the built-in ones; by default those of
        the enclosing :func:`use_labels` block.
    **fields
        Values for placeholders in the label, e.g. ``target="4 000"`` for goal texts. A placeholder
        with a plural spec, ``{n:person|personer}``, gives the first word when the value is 1.

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
    >>> label("persons", "sv", n=1), label("persons", "sv", n=2)
    ('1 person', '2 personer')
    """
    lm = resolve_labels(labels)
    user = lm.text(key, lang) if lm is not None else None
    if user is not None:
        return _fill(user, fields)
    if key not in LABELS:
        raise ParameterError(f"No label for key {key!r}.{suggest(str(key), list(LABELS))}")
    return _fill(LABELS[key][lang], fields)


def _display(value: Any, lang: Lang, lm: LabelMap | None = None) -> Any:
    if lm is not None and isinstance(value, str):
        user = lm.text(value, lang)
        if user is not None:
            return user
    key = _builtin_key(value)
    if key is not None:
        text = LABELS[key][lang]
        return text if "{" not in text else value
    if isinstance(value, pd.Period) and value.freqstr.startswith("M"):
        return format_month(value, lang)
    return value


@renamed_parameters({"df": "table"})
@validate_params({"table": [InstanceOf(pd.DataFrame, "a pandas DataFrame")], "lang": LANG, "values": ["boolean"],
                  "labels": _LABEL_MAP})
def relabel(table: pd.DataFrame, lang: Lang = "en", *, values: bool = True,
            labels: LabelMap | None = None) -> pd.DataFrame:
    """A copy of ``table`` with keys replaced by labels, for display.

    Column labels, index labels, the names of both axes and (with ``values=True``) string cells
    that are keys of :data:`LABELS` (or phrases of them: ``"cluster-robust sandwich"``) are
    replaced; monthly periods become month names. User labels (``labels``, or those of the enclosing
    :func:`use_labels` block) win, and with ``values=True`` the cells of a column whose codes the
    user labelled (``gender.K = "Kvinnor"``) get those labels. Anything else is left as it is.

    Parameters
    ----------
    table : DataFrame
        Any table (``df`` is its old name, kept for this version with a FutureWarning).
    lang : {"en", "sv"}
    values : bool
        Also relabel cells of object columns.
    labels : LabelMap, optional

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
    lm = resolve_labels(labels)
    out = table.copy()
    coded = {c for c in out.columns if lm is not None and str(c) in lm.codes} if values else set()
    if values:
        for c in out.columns:
            if c in coded:
                assert lm is not None
                out[c] = out[c].map(lambda v, c=c: (lm.code(c, v, lang) if lm.code(c, v, lang) is not None
                                                    else _display(v, lang, lm)))
            elif out[c].dtype == object:
                out[c] = out[c].map(lambda v: _display(v, lang, lm))
    out.columns = pd.Index([_display(c, lang, lm) for c in out.columns],
                           name=_display(out.columns.name, lang, lm))
    out.index = pd.Index([_display(i, lang, lm) for i in out.index], name=_display(out.index.name, lang, lm))
    return out


@validate_params({"lang": LANG, "labels": _LABEL_MAP})
def label_of(value: Hashable, lang: Lang = "en", *, labels: LabelMap | None = None) -> Any:
    """The label of ``value`` if it is a key, else ``value`` itself (for mixed axes).

    Examples
    --------
    >>> label_of("to_work", "sv"), label_of("Outside Europe", "sv"), label_of(2022)
    ('Avslutad till arbete', 'Utanför Europa', 2022)
    """
    return _display(value, lang, resolve_labels(labels))


#: gender codes as registers write them -> the key of their label
_GENDER_CODES: Mapping[str, str] = MappingProxyType({"K": "women", "M": "men", "k": "women", "m": "men",
                                                     "kvinna": "women", "man": "men", "Kvinna": "women",
                                                     "Man": "men"})


@validate_params({"lang": LANG, "column": [InstanceOf(str, "a column name (str)"), None], "labels": _LABEL_MAP})
def subgroup_label(value: Any, lang: Lang = "en", *, column: str | None = None,
                   labels: LabelMap | None = None) -> str:
    """The display name of a subgroup of an effect table, differences included.

    User labels of the codes of ``column`` come first (any column's when ``column`` is None), then
    keys of the map, then the register gender codes ``K``/``M``; a difference ``"female - male"`` or
    ``"K - M"`` becomes ``"Kvinnor − män"``; other values are shown as they are, with spaces for
    underscores.

    Examples
    --------
    >>> subgroup_label("female", "sv"), subgroup_label("female - male", "sv"), subgroup_label("K - M", "sv")
    ('Kvinnor', 'Kvinnor − män', 'Kvinnor − män')
    >>> subgroup_label("Outside Europe", "en")
    'Outside Europe'
    """
    lm = resolve_labels(labels)
    text = str(value)
    if lm is not None:
        user = lm.code(column, text, lang) if column is not None else lm.code_any(text, lang)
        if user is None:
            user = lm.text(text, lang)
        if user is not None:
            return user
    key = _builtin_key(text) or _GENDER_CODES.get(text)
    if key is not None:
        return LABELS[key][lang]
    if " - " in text:
        a, b = text.split(" - ", 1)
        first, second = subgroup_label(a, lang, column=column, labels=lm), subgroup_label(b, lang, column=column,
                                                                                          labels=lm)
        known = _builtin_key(b) is not None or b in _GENDER_CODES
        return f"{first} − {second.lower() if known else second}"
    return text.replace("_", " ")


@validate_params({"name": [InstanceOf(str, "a covariate name (str)")], "lang": LANG, "labels": _LABEL_MAP})
def covariate_label(name: str, lang: Lang = "en", *, labels: LabelMap | None = None) -> str:
    """The display name of a covariate or of one level of it (``"education[primary]"``).

    Examples
    --------
    >>> covariate_label("education[primary]", "sv"), covariate_label("days_unemployed_2y", "en")
    ('Utbildning: förgymnasial', 'Days unemployed in the last two years')
    >>> covariate_label("district[Fosie]", "sv"), covariate_label("my_var", "sv")
    ('Stadsområde: Fosie', 'my var')
    >>> covariate_label("gender[K]", "sv", labels=with_user_labels({"gender.K": "Kvinnor"}))
    'Kön: Kvinnor'
    >>> covariate_label("economic_assistance_months_12m", "sv")
    'Månader med ekonomiskt bistånd de senaste 12 månaderna'
    """
    lm = resolve_labels(labels)
    m = re.fullmatch(r"(.+)\[(.*)\]", name)
    if m is None:
        shown = _display(name, lang, lm)
        if shown != name:
            return shown
        benefit = re.fullmatch(r"(.+)_(months|any)_12m", name)
        if benefit is not None:  # the register design's benefit history: <benefit>_months_12m, <benefit>_any_12m
            what = covariate_label(benefit.group(1), lang, labels=lm)
            if benefit.group(2) == "months":
                what = what[0].lower() + what[1:] if len(what) > 1 and not what[1].isupper() else what
            return label(f"benefit_{benefit.group(2)}_12m", lang, labels=lm, benefit=what)
        return name.replace("_", " ")
    var, level = m.groups()
    user = lm.code(var, level, lang) if lm is not None else None
    level_text = user if user is not None else subgroup_label(level, lang, labels=lm)
    return f"{covariate_label(var, lang, labels=lm)}: {level_text}"


@validate_params({"allow": [InstanceOf((list, tuple, set, frozenset), "a collection of keys")]})
def untranslated(allow: Collection[str] = ()) -> list[str]:
    """Keys whose Swedish label is the English one (entries someone forgot to translate), minus ``allow``.

    Examples
    --------
    >>> "extratjanster" in untranslated(), untranslated(allow=untranslated())
    (True, [])
    """
    return sorted(k for k, v in LABELS.items() if v["sv"] == v["en"] and k not in set(allow))


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
    '−17,7 % jämfört med samma månad 2021'
    >>> format_change(-0.262, 2020, "en")
    '-26.2% compared with the same month 2020'
    """
    if change is None or pd.isna(change):
        return ""
    return f"{format_percent(change, lang, decimals, sign=True)} {label('compared_with_same_month', lang)} {int(year)}"
