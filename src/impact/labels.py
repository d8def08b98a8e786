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

import math
from types import MappingProxyType
from collections.abc import Hashable, Mapping
from typing import Any, Literal

import pandas as pd

from ._checks import check_option, suggest
from ._errors import ParameterError

__all__ = [
    "Lang",
    "LANGS",
    "LABELS",
    "label",
    "has_label",
    "relabel",
    "month_name",
    "format_month",
    "format_number",
    "format_percent",
    "format_change",
    "label_of",
]

Lang = Literal["en", "sv"]
LANGS: tuple[str, ...] = ("en", "sv")

_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")
_MONTHS_SV = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
              "september", "oktober", "november", "december")

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
        "en": "same people at start and end: achieved if every count fell; partly if some fell",
        "sv": "samma personer vid start och slut: uppnått om alla antal minskat; delvis om något minskat"},
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
_LABELS.update({f"month_{i + 1}": {"en": en, "sv": sv}
                for i, (en, sv) in enumerate(zip(_MONTHS_EN, _MONTHS_SV))})
LABELS: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {k: MappingProxyType(v) for k, v in _LABELS.items()})


def _check_lang(lang: str, func: str) -> str:
    return check_option("lang", lang, LANGS, func)


def has_label(key: Any) -> bool:
    """True when ``key`` is a key of the label map."""
    return isinstance(key, str) and key in LABELS


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
    _check_lang(lang, "label")
    if key not in LABELS:
        raise ParameterError(f"No label for key {key!r}.{suggest(str(key), list(LABELS))}")
    text = LABELS[key][lang]
    return text.format(**fields) if fields else text


def _display(value: Any, lang: str) -> Any:
    if isinstance(value, str) and value in LABELS:
        text = LABELS[value][lang]
        return text if "{" not in text else value
    if isinstance(value, pd.Period) and value.freqstr.startswith("M"):
        return format_month(value, lang)  # type: ignore[arg-type]
    return value


def relabel(df: pd.DataFrame, lang: Lang = "en", *, values: bool = True) -> pd.DataFrame:
    """A copy of ``df`` with keys replaced by labels, for display.

    Column labels, index labels, the names of both axes and (with ``values=True``) string cells
    that are keys of :data:`LABELS` are replaced; monthly periods become month names. Anything
    else is left as it is.

    Parameters
    ----------
    df : DataFrame
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
    _check_lang(lang, "relabel")
    out = df.copy()
    out.columns = pd.Index([_display(c, lang) for c in out.columns], name=_display(out.columns.name, lang))
    out.index = pd.Index([_display(i, lang) for i in out.index], name=_display(out.index.name, lang))
    if values:
        for c in out.columns:
            if out[c].dtype == object:
                out[c] = out[c].map(lambda v: _display(v, lang))
    return out


def month_name(month: int, lang: Lang = "en") -> str:
    """``"March"`` / ``"mars"`` for ``month=3``.

    Examples
    --------
    >>> month_name(10, "sv")
    'oktober'
    """
    _check_lang(lang, "month_name")
    if not 1 <= int(month) <= 12:
        raise ParameterError(f"The 'month' parameter of month_name must be in 1..12. Got {month!r}.")
    return LABELS[f"month_{int(month)}"][lang]


def format_month(period: pd.Period | pd.Timestamp, lang: Lang = "en") -> str:
    """``"October 2022"`` / ``"oktober 2022"``.

    Examples
    --------
    >>> import pandas as pd
    >>> format_month(pd.Period("2022-10", "M"), "sv")
    'oktober 2022'
    """
    return f"{month_name(period.month, lang)} {period.year}"


def format_number(value: float | int | None, lang: Lang = "en", decimals: int = 0) -> str:
    """A number with the language's thousands separator and decimal mark.

    Missing values give ``""``.

    Examples
    --------
    >>> format_number(1800, "sv"), format_number(1800, "en"), format_number(0.5, "sv", 1)
    ('1 800', '1,800', '0,5')
    """
    _check_lang(lang, "format_number")
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return ""
    text = f"{float(value):,.{decimals}f}" if decimals else f"{round(float(value)):,d}"
    if lang == "sv":
        text = text.replace(",", " ").replace(".", ",")
    return text


def format_percent(value: float | None, lang: Lang = "en", decimals: int = 1, *,
                   sign: bool = False) -> str:
    """A proportion as a percentage: ``0.462`` -> ``"46.2%"`` / ``"46,2 %"``.

    Examples
    --------
    >>> format_percent(0.462, "en"), format_percent(0.462, "sv"), format_percent(0.05, "en", sign=True)
    ('46.2%', '46,2 %', '+5.0%')
    """
    _check_lang(lang, "format_percent")
    if value is None or pd.isna(value):
        return ""
    number = format_number(100 * float(value), lang, decimals)
    if sign and float(value) > 0:
        number = "+" + number
    return f"{number} %" if lang == "sv" else f"{number}%"


def format_change(change: float, year: int, lang: Lang = "en", decimals: int = 1) -> str:
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
    if pd.isna(change):
        return ""
    return f"{format_percent(change, lang, decimals, sign=True)} {label('compared_with_same_month', lang)} {int(year)}"


def label_of(value: Hashable, lang: Lang = "en") -> Any:
    """The label of ``value`` if it is a key, else ``value`` itself (for mixed axes)."""
    _check_lang(lang, "label_of")
    return _display(value, lang)
