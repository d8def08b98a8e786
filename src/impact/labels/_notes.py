"""Swedish for the free-text notes and descriptions the lower layers write in English.

The design, balance, effects, goal and monitoring results explain themselves in technical notes
(``result.notes``) and the design describes its distance in words (``distance_text``); those
texts are English sentences with numbers and column names in them. :func:`translate_note` gives
the Swedish sentence for every note the library writes (one pattern each, below), with the numbers
in Swedish format and column names through :func:`impact.labels.covariate_label`; a note it does
not know gives ``None`` (the report then shows it, in English, under a heading that says so).

Examples
--------
>>> translate_note("Thresholds: |SMD| <= 0.1, variance ratio within [1/2.0, 2.0].", "sv")
'Gränser: |SMD| ≤ 0,1, variankvot inom [1/2,0; 2,0].'
>>> translate_note("Thresholds: |SMD| <= 0.1, variance ratio within [1/2.0, 2.0].", "en")
'Thresholds: |SMD| <= 0.1, variance ratio within [1/2.0, 2.0].'
>>> translate_note("something else entirely", "sv") is None
True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from impact._validation import InstanceOf, validate_params
from impact.labels._format import LANG, Lang, format_number
from impact.labels._user import LabelMap

__all__ = ["translate_note", "NOTE_PATTERNS", "reader_note", "READER_PATTERNS_EN"]

_N = r"(?:\d[\d,]*|\.\.)"          # a count, or the withheld mark of a scrubbed count
_X = r"-?\d+(?:\.\d+)?(?:e-?\d+)?"  # a decimal number as Python prints it


def _num(text: str) -> str:
    """A number as a lower layer printed it, in Swedish (``0.2`` -> ``0,2``; ``104819`` -> ``104 819``)."""
    if text == "..":
        return text
    raw = text.replace(",", "")
    try:
        value = float(raw)
    except ValueError:
        return text
    if re.fullmatch(r"-?\d+", raw):
        return format_number(int(raw), "sv")
    if "e" in raw.lower():
        return format_number(value, "sv", 6).rstrip("0").rstrip(",")
    decimals = len(raw.split(".", 1)[1]) if "." in raw else 0
    return format_number(value, "sv", decimals)


def _names(text: str) -> str:
    """A list of column names (``"age, education"``) as Swedish labels (``"ålder, utbildning"``)."""
    from impact.labels._labels import covariate_label
    parts = [p.strip() for p in re.split(r",\s*| and ", text) if p.strip()]
    shown = [_first_lower(covariate_label(p, "sv")) for p in parts]
    if len(shown) <= 1:
        return "".join(shown)
    return ", ".join(shown[:-1]) + " och " + shown[-1]


def _first_lower(text: str) -> str:
    """``"Ålder"`` -> ``"ålder"``, but ``"AF/FK"`` and ``"SFI-studier"`` stay as they are."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def _reasons(text: str) -> str:
    """``"no control within the caliper: 19; ..."`` -> the Swedish reasons with their counts."""
    from impact.labels._labels import LABELS
    out = []
    for part in text.split("; "):
        reason, _, n = part.rpartition(": ")
        key = "reason_" + "_".join(reason.split())
        shown = LABELS[key]["sv"] if key in LABELS else reason
        out.append(f"{shown}: {_num(n)}")
    return "; ".join(out)


def _goal(name: str) -> str:
    from impact.labels._labels import LABELS
    key = f"goal_{name}"
    if key in LABELS and "{" not in LABELS[key]["sv"]:
        return f"”{LABELS[key]['sv']}”"
    return f"”{name.replace('_', ' ')}”"


def _persons(n: str) -> str:
    return f"{_num(n)} {'person' if n == '1' else 'personer'}"


def _unit(column: str) -> str:
    """What an identifier column counts, in Swedish (``person_id`` -> ``person``), else its label."""
    return {"person_id": "person", "household_id": "hushåll"}.get(column) or _names(column)


#: converters by the name of a pattern's group: n* counts and x* decimals in Swedish format,
#: c* lists of column names as labels, r* reasons of the flow, g* goal names, p* persons, u* identifier units
_CONVERT: dict[str, Callable[[str], str]] = {"n": _num, "x": _num, "c": _names, "r": _reasons, "g": _goal,
                                             "p": _persons, "u": _unit}

_PERIOD_SV = {"month": "kalendermånad", "quarter": "kalenderkvartal", "year": "kalenderår", "period": "period",
              "level": "nivå", "treated": "deltagarna", "control": "kontrollpersonerna", "all": "alla"}

#: (English pattern, Swedish template): one entry per note the library writes
NOTE_PATTERNS: list[tuple[str, str]] = [
    # design (impact.design)
    (rf"caliper=(?P<x>{_X}) is in standard deviations of the distance \(SD over all (?P<n>{_N}) units, n-1 "
     rf"denominator, as MatchIt\): width (?P<x2>{_X}) on the score scale\.",
     "Avståndsgränsen {x} anges i standardavvikelser av avståndsmåttet (standardavvikelsen över alla {n} "
     "enheter, med nämnaren n − 1, som i MatchIt): bredden är {x2} på skattningens skala."),
    (r"m_order='largest' assumed: treated units choose in decreasing order of the score \(MatchIt's default\)\.",
     "Deltagarna väljer kontrollpersoner i fallande ordning efter skattningen (standardvalet i MatchIt)."),
    (r"m_order='smallest' assumed: treated units choose in increasing order of the score\.?",
     "Deltagarna väljer kontrollpersoner i stigande ordning efter skattningen."),
    (r"estimand='ATT': controls are matched to treated units; treated weights are 1\.",
     "Skattat mått ATT (genomsnittlig effekt för deltagarna): kontrollpersoner matchas till deltagare, "
     "och deltagarnas vikter är 1."),
    (rf"(?P<n>{_N}) treated units? found no match \((?P<r>.*)\); their positions and reasons are in "
     r"result\.unmatched\.",
     "{n} deltagare fick ingen matchning ({r}); utvärderingens resultat listar dem och orsakerna."),
    (rf"(?P<n>{_N}) rows with missing values in the matching columns were dropped \(missing='drop'\); see "
     r"result\.flow\.",
     "{n} rader med saknade värden i matchningsvariablerna togs bort; flödestabellen visar dem."),
    (r"No id= given: ties in the score are broken on a stable hash of the matching columns and treatment "
     r"\(then of the whole row\), never on row order\. Pass id='your_id_column' to break them on the "
     r"identifier\.",
     "Ingen identitetskolumn (id=) angavs: lika skattningar avgörs på en stabil hashsumma av "
     "matchningsvariablerna och deltagandet (sedan av hela raden), aldrig på radordningen. Ange "
     "id='kolumn' för att avgöra dem på identiteten."),
    (r"replace=True: a control used in several matched sets appears once in matched_data with its summed "
     r"weight and subclass <NA>; use result\.get_matches\(\) or result\.matched_pairs for one row per set\.",
     "replace=True: en kontrollperson som används i flera matchade grupper förekommer en gång i "
     "matched_data med sin summerade vikt och subclass <NA>; använd result.get_matches() eller "
     "result.matched_pairs för en rad per grupp."),
    (r"(?P<n>\d+) subclasses on quantiles of the score among (?P<w>treated|control|all) units \(MatchIt's "
     r"default 6\)\.",
     "{n} delklasser efter kvantiler av skattningen bland {w} (standardvalet i MatchIt är 6)."),
    (r"Exact matching on every covariate\.", "Exakt matchning på alla bakgrundsvariabler."),
    (rf"(?P<n>{_N}) participants are not in any risk set at their own entry period \(no eligible row for that "
     r"period\) and cannot be matched\.",
     "{n} deltagare finns inte i någon riskmängd under sin egen startperiod (ingen möjlig rad för perioden) "
     "och kan inte matchas."),
    (r"Stabilised ATE weights: multiplied by the share of the unit's group\.",
     "Stabiliserade ATE-vikter: multiplicerade med andelen i enhetens grupp."),
    (r"Inverse probability weights for the (?P<e>ATT|ATC|ATE) from the propensity score \(not normalised; "
     r"effective sample sizes are in result\.sample_sizes\)\.",
     "Vikter med inversen av sannolikheten för {e} från den skattade sannolikheten att delta (inte "
     "normerade; effektiva urvalsstorlekar finns i result.sample_sizes)."),
    (r"Risk sets: for each period, people eligible then who have not entered yet; a later participant can be "
     r"a control before its own start\.",
     "Riskmängder: för varje period de personer som då var möjliga att ingå och ännu inte hade börjat; en "
     "senare deltagare kan vara kontrollperson före sin egen start."),
    (r"Exact on the period '(?P<c>[^']+)' and (?P<c2>.+); ties broken on \(id, period\), not on row order\.",
     "Exakt matchning på {c}, {c2}; lika avstånd avgörs på (identitet, period), inte på radordningen."),
    (r"Exact on the period '(?P<c>[^']+)'; ties broken on \(id, period\), not on row order\.",
     "Exakt matchning på {c}; lika avstånd avgörs på (identitet, period), inte på radordningen."),
    (r"estimand 'join_vs_never' \(Li, Propert and Rosenbaum\): censor a control's follow-up at its own entry "
     r"\(censor_at\)\.",
     "Skattat mått: att delta jämfört med att aldrig delta (Li, Propert och Rosenbaum): en kontrollpersons "
     "uppföljning censureras när personen själv börjar i programmet."),
    (r"estimand 'join_vs_wait' \(Sianesi\): controls who enter later keep their outcome \(censor_at is "
     r"empty\)\.",
     "Skattat mått: att börja nu jämfört med att vänta (Sianesi): kontrollpersoner som börjar senare "
     "behåller sitt utfall."),
    (r"Controls may be reused in different periods \(times_used counts it\); within a period each person is "
     r"used at most once\.",
     "Kontrollpersoner kan återanvändas i olika perioder (utvärderingen räknar hur många gånger); inom en "
     "period används varje person högst en gång."),
    (r"reuse='never': periods are matched in time order and each person is a control in at most one matched "
     r"set overall \(times_used <= 1\)\.",
     "reuse='never': perioderna matchas i tidsordning och varje person är kontrollperson i högst en matchad "
     "grupp totalt (times_used ≤ 1)."),
    (r"The flow counts by '(?P<c>[^']+)': participants left unmatched, and why, per (?P<w>period|level); "
     r"result\.unmatched lists them\.",
     "Flödet räknas per {c}: deltagare utan matchning, och varför, per {w}."),
    # the register design (impact.pipeline)
    (r"Estimand join_vs_never \(joining versus never joining, Li, Propert and Rosenbaum 2001\): a control who "
     r"later joins the programme is censored on the day it starts \(as MatchTime's censor_at_treat\), so the "
     r"controls show what would have happened without the programme\. This is the effect the programme's "
     r"goals speak of\.",
     "Skattat mått: att delta jämfört med att aldrig delta (Li, Propert och Rosenbaum 2001): "
     "en kontrollperson som senare börjar i programmet censureras den dag personen börjar (som "
     "i MatchTime), så att kontrollpersonerna visar vad som skulle ha hänt utan programmet. "
     "Det är den effekt som programmets mål avser."),
    (r"Estimand join_vs_wait \(joining now versus waiting, Sianesi 2004\): controls who later join keep their "
     r"whole follow-up, so the comparison is with people who did not start yet and may start later; it "
     r"answers 'should this person start now or wait\?'\.",
     "Skattat mått: att börja nu jämfört med att vänta (Sianesi 2004): kontrollpersoner som "
     "börjar senare behåller hela sin uppföljning, så jämförelsen görs med personer som ännu inte har börjat "
     "och kanske börjar senare; måttet besvarar frågan ”ska personen börja nu eller vänta?”."),
    (r"Risk-set design: for each calendar (?P<w>month|quarter|year|period), the people registered at the "
     r"employment service on its first day who had not started the programme are at risk; covariates are as "
     r"known on that day\. Each control's clock starts on its participant's start date; outcomes come from "
     r"the registration spell open on that date \(time to its deregistration; the code gives work or "
     r"studies, a competing exit or censoring\)\.",
     "Design med riskmängder: för varje {w} ingår i riskmängden de personer som var inskrivna på "
     "Arbetsförmedlingen den första dagen och som inte hade börjat i programmet; bakgrundsvariablerna är "
     "de som var kända den dagen. Varje kontrollpersons tid räknas från deltagarens startdatum; utfallen "
     "kommer från den inskrivningsperiod som pågick den dagen (tiden till utskrivning; avslutskoden anger "
     "arbete eller studier, ett konkurrerande avslut eller censurering)."),
    (r"Exact matching on the (?P<w>month|quarter|year|period), gender and (?P<n>\d+)-day bands of elapsed "
     r"time in the open spell \(the last from (?P<n2>\d+) days\); a control may serve in several periods "
     r"\(the flow counts set memberships and persons\)\.",
     "Exakt matchning på {w}, kön och intervall om {n} dagar för tiden i den pågående inskrivningen (det "
     "sista från {n2} dagar); en kontrollperson kan ingå i flera perioder (flödet räknar kontrollpersonerna "
     "både en gång per deltagare de matchats till och en gång som personer)."),
    (r"Exact matching on the (?P<w>month|quarter|year|period), gender; a control may serve in several periods "
     r"\(the flow counts set memberships and persons\)\.",
     "Exakt matchning på {w} och kön; en kontrollperson kan ingå i flera perioder (flödet räknar "
     "kontrollpersonerna både en gång per deltagare de matchats till och en gång som personer)."),
    (rf"Contamination: (?P<n>{_N}) of the (?P<n2>{_N}) control persons later joined the programme; "
     rf"(?P<n3>{_N}) control set memberships were censored on the day they joined\.",
     "Kontaminering: {n} av de {n2} kontrollpersonerna började senare i programmet; {n3} matchade "
     "kontrollpersoner (räknade en gång per deltagare de matchats till) censurerades den dag de började."),
    (rf"Contamination: (?P<n>{_N}) of the (?P<n2>{_N}) control persons later joined the programme and keep "
     r"their follow-up \(join_vs_wait\)\.",
     "Kontaminering: {n} av de {n2} kontrollpersonerna började senare i programmet och behåller sin "
     "uppföljning (jämförelsen med att vänta)."),
    (r"Unknown-reason exits: the headline is rerun with them as censored, as competing and as work "
     r"\(Evaluation\.sensitivity_unknown\)\.",
     "Avslut av okänd orsak: huvudresultatet skattas om med dem som censurerade, som konkurrerande händelser "
     "och som arbete (känslighetsanalysen)."),
    # balance (impact.diagnostics)
    (r"SMD = difference in \(weighted\) means / the SD of the treated group in the full sample before matching "
     r"\(estimand ATT, as MatchIt's summary\(\)\); for binary covariates the SD is sqrt\(p\(1-p\)\)\.",
     "SMD = skillnaden i (viktade) medelvärden delad med deltagargruppens standardavvikelse i hela urvalet "
     "före matchning (skattat mått ATT, som i MatchIt); för binära variabler är standardavvikelsen "
     "√(p(1 − p))."),
    (r"Variance ratios use MatchIt's weighted variance and are blank for binary covariates; eCDF mean/max are "
     r"over the distinct values of each covariate \(max = KS statistic\)\.",
     "Variankvoterna bygger på MatchIts viktade varians och lämnas tomma för binära variabler; eCDF medel och "
     "max beräknas över de olika värdena för varje variabel (max = Kolmogorov–Smirnovs teststorhet)."),
    (rf"Thresholds: \|SMD\| <= (?P<x>{_X}), variance ratio within \[1/(?P<x2>{_X}), (?P<x3>{_X})\]\.",
     "Gränser: |SMD| ≤ {x}, variankvot inom [1/{x2}; {x3}]."),
    # effects (impact.effects)
    (r"Share in work or studies: weighted Aalen-Johansen cumulative incidence, other exits as competing "
     r"events; hazard ratio: Cox model of the cause-specific hazard \(Efron ties\)\.",
     "Andel i arbete eller studier: viktad kumulativ incidens enligt Aalen-Johansen, med övriga avslut som "
     "konkurrerande händelser; hazardkvot: Cox-modell för den orsaksspecifika hazarden (Efrons metod för "
     "lika tider)."),
    (r"Standard errors: influence function \(infinitesimal jackknife\) for shares and restricted means, "
     r"cluster-robust sandwich for hazard, time and subdistribution hazard ratios \(column se_method\)\.",
     "Medelfel: influensfunktioner (infinitesimal jackknife) för andelar och begränsade medeltider, "
     "klusterrobust sandwichskattning för hazardkvoter, tidskvoter och subfördelningshazardkvoter "
     "(effekttabellen anger metoden)."),
    # goals and monitoring (impact.monitor)
    (rf"goal '(?P<g>\w+)': (?P<p>{_N}) people without both a start and an end value \(e\.g\. still "
     r"participating\) are not counted",
     "målet {g}: {p} utan både ett start- och ett slutvärde (till exempel personer som fortfarande deltar) "
     "räknas inte"),
    (r"partly achieved: counts and shares from (?P<n>\d+)% of the target; gender balance within twice the "
     r"tolerance \(unless a goal says otherwise\)",
     "delvis uppnått: antal och andelar från {n} % av målvärdet; könsfördelning inom dubbla toleransen (om "
     "inte ett mål anger något annat)"),
    (rf"(?P<n>{_N}) rows repeat a person already counted; each person is counted once",
     "{n} rader upprepar en person som redan räknats; varje person räknas en gång"),
    (r"a person counts once per month \('(?P<u>[^']+)'\)",
     "varje {u} räknas en gång per månad"),
    (r"each row counts", "varje rad räknas"),
    (r"the monthly counts cover (?P<d>[\d-]+) to (?P<d2>[\d-]+) only; a goal table counting the whole programme "
     r"covers a different period, so its totals differ",
     "månadstabellen räknar bara {d} till {d2}; en måltabell som räknar hela programmet avser en annan period, "
     "så dess summor skiljer sig"),
    (rf"employments that ended and reached day (?P<n>\d+) between (?P<d>[\d-]+) and (?P<d2>[\d-]+): "
     rf"(?P<n2>{_N}) of (?P<n3>{_N}) rows",
     "anställningar som avslutats och nått dag {n} mellan {d} och {d2}: {n2} av {n3} rader"),
    (rf"employments that ended and reached day (?P<n>\d+): (?P<n2>{_N}) of (?P<n3>{_N}) rows",
     "anställningar som avslutats och nått dag {n}: {n2} av {n3} rader"),
    (rf"hires from (?P<d>[\d-]+) to (?P<d2>[\d-]+): (?P<n2>{_N}) of (?P<n3>{_N}) rows",
     "anställningar från {d} till {d2}: {n2} av {n3} rader"),
    (rf"hires: (?P<n2>{_N}) of (?P<n3>{_N}) rows", "anställningar: {n2} av {n3} rader"),
    (r"employments that ended and reached day (?P<n>\d+) between (?P<d>[\d-]+) and (?P<d2>[\d-]+)",
     "anställningar som avslutats och nått dag {n} mellan {d} och {d2}"),
    (r"employments that ended and reached day (?P<n>\d+)", "anställningar som avslutats och nått dag {n}"),
    (r"hires from (?P<d>[\d-]+) to (?P<d2>[\d-]+)", "anställningar från {d} till {d2}"),
    # censoring weights of the risk-set design (impact.effects.censoring_weights, ipcw_effects)
    (r"Censoring at a control's own programme start is informative: who joins depends on economic "
     r"assistance, background and elapsed time, which also drive the hazard of work, so the controls "
     r"still followed late would be those least likely to join\. Each control is therefore weighted, at "
     r"each time, by the inverse of its estimated probability of not yet having joined given what was "
     r"known on the index date \(inverse probability of censoring weighting, as in target-trial "
     r"emulation: Hernán and Robins; Danaei et al\. 2013\)\. Shares are weighted Aalen-Johansen "
     r"estimates and the hazard ratio a weighted Cox model on the \(start, stop\] pieces; pass "
     r"ipcw=False \(\[design\] ipcw = false\) for the unweighted analysis\.",
     "Att en kontrollperson slutar följas den dag den själv börjar i programmet är inte slumpmässigt: vem "
     "som börjar beror på ekonomiskt bistånd, bakgrund och tid som inskriven, som också påverkar chansen "
     "till arbete, så de kontrollpersoner som följs länge vore de som minst sannolikt börjar. Varje "
     "kontrollperson viktas därför vid varje tidpunkt med inversen av den skattade sannolikheten att ännu "
     "inte ha börjat, givet vad som var känt på startdagen (viktning med inversen av sannolikheten att "
     "inte censureras, som vid emulering av ett målförsök: Hernán och Robins; Danaei m.fl. 2013). "
     "Andelarna är viktade Aalen–Johansen-skattningar och hazardkvoten en viktad Cox-modell på "
     "tidsintervallen; med viktningen avstängd fås den oviktade analysen."),
    (rf"Censoring at a control's own entry \((?P<n>{_N}) of (?P<n2>{_N}) control rows\) is weighted out "
     rf"\(IPCW\): a piecewise-exponential model of the hazard of joining after the index date, on "
     rf"(?P<nk>\d+) covariates as of the index date, (?P<xw>{_X})-day pieces since it(?P<band> and 90-day "
     rf"bands of elapsed time)?; stabilised weights \(numerator: time(?: and (?P<s>[^)]+))?\)(?:, truncated "
     rf"at the (?P<nlo>\d+)% and (?P<nhi>\d+)% percentiles \((?P<xb1>{_X}) and (?P<xb2>{_X}); (?P<nt>{_N}) "
     rf"pieces\))?; mean weight (?P<xm>{_X}), maximum (?P<xmx>{_X}) before truncation\.",
     "Censurering vid en kontrollpersons egen programstart ({n} av {n2} rader för kontrollpersoner) vägs "
     "upp med vikter: en styckvis exponentiell modell för chansen att börja efter startdagen, med {nk} "
     "variabler som de var på startdagen och intervall om {xw} dagar; stabiliserade vikter, trunkerade vid "
     "percentilerna {nlo} % och {nhi} % ({xb1} och {xb2}; {nt} intervall); medelvikt {xm}, högsta vikt {xmx} "
     "före trunkering."),
    (r"Share in work or studies: Aalen-Johansen cumulative incidence weighted by the inverse "
     r"probability of not yet being censored at own entry \(pieces with delayed entry\), other exits "
     r"competing; hazard ratio: Cox model of the cause-specific hazard on the same weighted pieces "
     r"\(Efron ties, delayed entry\)\.",
     "Andel i arbete eller studier: kumulativ incidens enligt Aalen–Johansen, viktad med inversen av "
     "sannolikheten att ännu inte censureras vid egen programstart (tidsintervall med fördröjt inträde), "
     "med andra avslut som konkurrerande händelser; hazardkvot: Cox-modell för den orsaksspecifika "
     "hazarden på samma viktade tidsintervall (Efrons metod för lika tider, fördröjt inträde)."),
    (r"Standard errors: influence function \(infinitesimal jackknife, weights taken as known\) for "
     r"shares, cluster-robust sandwich for hazard ratios, summed within matched sets; restricted means, "
     r"time ratios and subdistribution hazard ratios are not estimated with the time-varying weights\.",
     "Medelfel: influensfunktion (infinitesimal jackknife, vikterna behandlade som kända) för andelar och "
     "klusterrobust sandwichskattning för hazardkvoter, summerade inom matchade grupper; begränsade "
     "medelvärden, tidskvoter och subfördelningshazardkvoter skattas inte med de tidsvarierande vikterna."),
    (rf"(?P<n>{_N}) duplicate household-month rows counted once",
     "{n} dubbla rader för samma hushåll och månad räknades en gång"),
    (rf"(?P<n>{_N}) month\(s\) without (?:rows|records) are shown as missing: (?P<d>.+)",
     "{n} månad(er) utan uppgifter visas som saknade: {d}"),
    (rf"(?P<n>{_N}) month\(s\) without records are declared zero \(empty_months='zero'\)",
     "{n} månad(er) utan uppgifter anges som noll"),
    (r"cell-key method: every count of people carries a small noise \(the same for the same people in every "
     r"table and release\); measures and judgements are computed from the perturbed counts",
     "cellnyckelmetoden: varje antal personer har en liten slumpmässig avvikelse (samma för samma personer i "
     "varje tabell och publicering); utfall och bedömningar räknas från de avvikande antalen"),
    # the publication layer (impact.publish)
    (r"A technical note is not shown because it mentions a group of fewer than (?P<n>\d+) people \(the full "
     r"note is in the result object, which is not for publication\)\.",
     "En teknisk anmärkning visas inte eftersom den nämner en grupp med färre än {n} personer (hela "
     "anmärkningen finns i resultatobjektet, som inte är avsett för publicering)."),
    # descriptions of the distance (MatchResult.settings["distance_text"])
    (r"propensity score from a logistic regression \(binomial, logit link, fitted as R's glm\) of treatment on "
     r"(?P<c>[^;]+); categorical covariates in treatment coding with the first sorted level as reference",
     "skattad sannolikhet att delta från en logistisk regression (binomialfördelning, logitlänk, skattad som R:s glm) av "
     "deltagande på {c}; kategoriska variabler som indikatorer med den första nivån i sorteringsordning som "
     "referens"),
    (r"propensity score from a logistic regression \(binomial, logit link, fitted as R's glm\) of treatment on "
     r"(?P<c>[^;]+)",
     "skattad sannolikhet att delta från en logistisk regression (binomialfördelning, logitlänk, skattad som R:s glm) av "
     "deltagande på {c}"),
    (r"none \(strata of the covariates\)", "inget (strata av bakgrundsvariablerna)"),
]
_COMPILED = [(re.compile(p), t) for p, t in NOTE_PATTERNS]

#: (English pattern, English for a reader): the notes that name code (``m_order='largest'``,
#: ``result.unmatched``, ``times_used``, ``ipcw=False``) or print counts without separators, said in words
#: for the report; the library's own ``result.notes`` keep the programmer's wording
READER_PATTERNS_EN: list[tuple[str, str]] = [
    (NOTE_PATTERNS[0][0],
     "The caliper of {x} is in standard deviations of the matching score (the standard deviation over all {n} "
     "units, with the n − 1 denominator, as in MatchIt): a width of {x2} on the score's scale."),
    (NOTE_PATTERNS[1][0],
     "Participants choose their controls in decreasing order of their matching score (MatchIt's default)."),
    (NOTE_PATTERNS[2][0], "Participants choose their controls in increasing order of their matching score."),
    (NOTE_PATTERNS[3][0],
     "Estimand ATT (the average effect on the participants): controls are matched to participants, and each "
     "participant has weight 1."),
    (NOTE_PATTERNS[4][0], "{n} participants found no match ({r}); the evaluation's results list them and why."),
    (NOTE_PATTERNS[5][0],
     "{n} rows with missing values in the matching variables were left out; the flow table shows them."),
    (r"Controls may be reused in different periods \(times_used counts it\); within a period each person is "
     r"used at most once\.",
     "Controls may be reused in different periods (the evaluation counts how often); within a period each "
     "person is used at most once."),
    (r"reuse='never': periods are matched in time order and each person is a control in at most one matched "
     r"set overall \(times_used <= 1\)\.",
     "Periods are matched in time order and each person is a control for at most one participant overall."),
    (r"The flow counts by '(?P<c>[^']+)': participants left unmatched, and why, per (?P<w>period|level); "
     r"result\.unmatched lists them\.",
     "The flow counts, per {w}, the participants left without a match and why."),
    (r"Exact on the period '(?P<c>[^']+)' and (?P<c2>.+); ties broken on \(id, period\), not on row order\.",
     "Exact matching on {c} and {c2}; ties are broken on the person and period, not on the order of the rows."),
    (r"Exact on the period '(?P<c>[^']+)'; ties broken on \(id, period\), not on row order\.",
     "Exact matching on {c}; ties are broken on the person and period, not on the order of the rows."),
    (r"estimand 'join_vs_never' \(Li, Propert and Rosenbaum\): censor a control's follow-up at its own entry "
     r"\(censor_at\)\.",
     "Estimand: joining versus never joining (Li, Propert and Rosenbaum): a control's follow-up ends when it "
     "starts the programme itself."),
    (r"estimand 'join_vs_wait' \(Sianesi\): controls who enter later keep their outcome \(censor_at is "
     r"empty\)\.",
     "Estimand: joining now versus waiting (Sianesi): controls who start later keep their outcome."),
    (r"Estimand join_vs_never \(joining versus never joining, Li, Propert and Rosenbaum 2001\): a control who "
     r"later joins the programme is censored on the day it starts \(as MatchTime's censor_at_treat\), (?P<t>.*)",
     "Estimand: joining versus never joining (Li, Propert and Rosenbaum 2001): a control who later joins the "
     "programme is censored on the day it starts (as in MatchTime), {t}"),
    (r"Estimand join_vs_wait \(joining now versus waiting, Sianesi 2004\): (?P<t>.*)",
     "Estimand: joining now versus waiting (Sianesi 2004): {t}"),
    (r"(?P<t>Exact matching on the (?:month|quarter|year|period), gender.*); a control may serve in several "
     r"periods \(the flow counts set memberships and persons\)\.",
     "{t}; a control may serve in several periods (the flow counts controls both once per participant they "
     "were matched to and once as persons)."),
    (rf"Contamination: (?P<n>{_N}) of the (?P<n2>{_N}) control persons later joined the programme; "
     rf"(?P<n3>{_N}) control set memberships were censored on the day they joined\.",
     "Contamination: {n} of the {n2} control persons later joined the programme; {n3} matched controls "
     "(counted once per participant they were matched to) were censored on the day they joined."),
    (rf"Contamination: (?P<n>{_N}) of the (?P<n2>{_N}) control persons later joined the programme and keep "
     r"their follow-up \(join_vs_wait\)\.",
     "Contamination: {n} of the {n2} control persons later joined the programme and keep their follow-up "
     "(the comparison with waiting)."),
    (r"Unknown-reason exits: the headline is rerun with them as censored, as competing and as work "
     r"\(Evaluation\.sensitivity_unknown\)\.",
     "Unknown-reason exits: the headline is rerun with them as censored, as competing and as work (the "
     "sensitivity analysis)."),
    (r"(?P<t>Censoring at a control's own programme start is informative: .*); pass ipcw=False \(\[design\] "
     r"ipcw = false\) for the unweighted analysis\.",
     "{t}; with the weighting turned off the analysis is unweighted."),
    (rf"Censoring at a control's own entry \((?P<n>{_N}) of (?P<n2>{_N}) control rows\) is weighted out "
     r"\(IPCW\): (?P<t>.*)",
     "Censoring at a control's own entry ({n} of {n2} control rows) is weighted out (inverse probability of "
     "censoring weights): {t}"),
    (r"SMD = difference in \(weighted\) means / the SD of the treated group in the full sample before matching "
     r"\(estimand ATT, as MatchIt's summary\(\)\); for binary covariates the SD is sqrt\(p\(1-p\)\)\.",
     "SMD = the difference in (weighted) means divided by the participants' standard deviation in the full "
     "sample before matching (estimand ATT, as in MatchIt); for binary variables the standard deviation is "
     "√(p(1 − p))."),
    (r"Standard errors: (?P<t>.*) \(column se_method\)\.",
     "Standard errors: {t} (the effects table names the method)."),
    (rf"goal '(?P<g>\w+)': (?P<n>{_N}) people without both a start and an end value \(e\.g\. still "
     r"participating\) are not counted",
     "goal {g}: {n} people without both a start and an end value (e.g. still participating) are not counted"),
    (r"a person counts once per month \('(?P<c>[^']+)'\)", "each {c} counts once per month"),
    (rf"(?P<n>{_N}) rows repeat a person already counted; each person is counted once",
     "{n} rows repeat a person already counted; each person is counted once"),
    (rf"(?P<n>{_N}) month\(s\) without records are declared zero \(empty_months='zero'\)",
     "{n} month(s) without records are counted as zero"),
    (rf"(?P<t>employments that ended and reached day \d+(?: between [\d-]+ and [\d-]+)?|hires(?: from [\d-]+ to "
     rf"[\d-]+)?): (?P<n>{_N}) of (?P<n2>{_N}) rows",
     "{t}: {n} of {n2} rows"),
    (rf"(?P<n>{_N}) duplicate household-month rows counted once", "{n} duplicate household-month rows counted once"),
]
_READER_EN = [(re.compile(p), t) for p, t in READER_PATTERNS_EN]

#: the unit a ``c`` group names in a reader's sentence (``'person_id'`` -> "person")
_UNIT_EN = {"person_id": "person", "household_id": "household", "period": "period"}


def _fill_en(template: str, m: re.Match[str]) -> str:
    from impact.labels._labels import LABELS, covariate_label
    fields: dict[str, Any] = {}
    for key, value in m.groupdict().items():
        if value is None:
            continue
        if key[0] == "n" and value != "..":
            fields[key] = format_number(int(value.replace(",", "")), "en")
        elif key[0] == "c":
            fields[key] = _UNIT_EN.get(value) or ", ".join(
                _first_lower(covariate_label(p.strip(), "en")) for p in value.split(",") if p.strip())
        elif key == "g":
            goal = f"goal_{value}"
            shown = LABELS[goal]["en"] if goal in LABELS and "{" not in LABELS[goal]["en"] else value.replace("_", " ")
            fields[key] = f"“{shown}”"
        else:
            fields[key] = value
    return template.format(**fields)


@validate_params({"text": [InstanceOf(str, "a note (str)")], "lang": LANG,
                  "labels": [InstanceOf(LabelMap, "a LabelMap"), None]})
def reader_note(text: str, lang: Lang = "en", *, labels: LabelMap | None = None) -> str | None:
    """``text`` (an English note of the library) as a published report says it: in words, without the
    names of code (arguments, attributes) and with counts in the report's number format.

    Swedish is :func:`translate_note`; English is the reader's rewrite of a note that names code or
    prints a bare count, and ``text`` itself otherwise (``None`` never for English).

    Examples
    --------
    >>> reader_note("m_order='largest' assumed: treated units choose in decreasing order of the score "
    ...             "(MatchIt's default).")
    "Participants choose their controls in decreasing order of their matching score (MatchIt's default)."
    >>> reader_note("hires: 1860 of 104819 rows")
    'hires: 1,860 of 104,819 rows'
    """
    if lang != "en":
        return translate_note(text, lang, labels=labels)
    out = _rewrite(text, _READER_EN, _fill_en, labels)
    return text if out is None else out


def _fill(template: str, m: re.Match[str]) -> str:
    fields: dict[str, Any] = {}
    for name, value in m.groupdict().items():
        if value is None:
            continue
        convert = _CONVERT.get(name[0])
        if name == "w":
            fields[name] = _PERIOD_SV.get(value, value)
        elif name == "d":
            fields[name] = value
        else:
            fields[name] = convert(value) if convert is not None else value
    return template.format(**fields)


@validate_params({"text": [InstanceOf(str, "a note (str)")], "lang": LANG,
                  "labels": [InstanceOf(LabelMap, "a LabelMap"), None]})
def translate_note(text: str, lang: Lang = "sv", *, labels: LabelMap | None = None) -> str | None:
    """``text`` (an English note of the library) in ``lang``; ``None`` when there is no translation.

    English returns ``text`` itself. Column names in the note are shown with their labels (the
    user's, from ``labels`` or the enclosing :func:`impact.labels.use_labels` block, first).

    Examples
    --------
    >>> translate_note("hires from 2022-01-01 to 2022-10-31: 751 of 1860 rows", "sv")
    'anställningar från 2022-01-01 till 2022-10-31: 751 av 1\\xa0860 rader'
    """
    if lang == "en":
        return text
    return _rewrite(text, _COMPILED, _fill, labels)


def _rewrite(text: str, patterns: Sequence[tuple[re.Pattern[str], str]],
             fill: Callable[[str, re.Match[str]], str], labels: LabelMap | None) -> str | None:
    """The first pattern that matches the whole (stripped) note, filled in; ``None`` if none does.
    Column names are labelled with ``labels`` (or the enclosing :func:`use_labels` block's) first."""
    from impact.labels._user import _CURRENT
    token = _CURRENT.set(labels) if labels is not None else None
    try:
        stripped = text.strip()
        for pattern, template in patterns:
            m = pattern.fullmatch(stripped)
            if m is not None:
                return fill(template, m)
        return None
    finally:
        if token is not None:
            _CURRENT.reset(token)
