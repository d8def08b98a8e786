"""The report speaks to its readers: technical notes in words (no code names), counts in the report's
number format (years and dates left alone), reader words for the flow's and the balance table's jargon,
hidden cells of the hires-by-subsidy figure marked apart from zeros, and the monthly table's period said.

Oracles: the exact notes the lower layers write (copied from the demo report), and the number format of
the report's tables (English 104,819; Swedish 104 819 with a no-break space)."""

from __future__ import annotations

import re

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")

from impact.labels import LABELS, THOUSANDS_SV, label, reader_note, translate_note  # noqa: E402

CODE = re.compile(r"m_order|times_used|result\.|Evaluation\.|ipcw=|censor_at|se_method|empty_months|set memberships")

#: notes of the demo report (as impact.design / impact.pipeline / impact.effects write them)
DEMO_NOTES = [
    "caliper=0.2 is in standard deviations of the distance (SD over all 104819 units, n-1 denominator, as MatchIt): "
    "width 0.00450784 on the score scale.",
    "m_order='largest' assumed: treated units choose in decreasing order of the score (MatchIt's default).",
    "Controls may be reused in different periods (times_used counts it); within a period each person is used at "
    "most once.",
    "The flow counts by 'period': participants left unmatched, and why, per period; result.unmatched lists them.",
    "Exact matching on the month, gender and 60-day bands of elapsed time in the open spell (the last from 420 "
    "days); a control may serve in several periods (the flow counts set memberships and persons).",
    "Contamination: 658 of the 2033 control persons later joined the programme; 814 control set memberships were "
    "censored on the day they joined.",
    "Unknown-reason exits: the headline is rerun with them as censored, as competing and as work "
    "(Evaluation.sensitivity_unknown).",
    "19 treated units found no match (no control within the caliper: 19); their positions and reasons are in "
    "result.unmatched.",
]


@pytest.mark.parametrize("note", DEMO_NOTES)
@pytest.mark.parametrize("lang", ["en", "sv"])
def test_notes_name_no_code(note: str, lang: str) -> None:
    shown = reader_note(note, lang)
    assert shown is not None and shown != note
    assert CODE.search(shown) is None, shown


def test_counts_have_separators_but_years_do_not() -> None:
    note = DEMO_NOTES[5]   # "2033" there is a count of control persons, not a year
    assert "of the 2,033 control persons" in reader_note(note, "en")
    assert f"av de 2{THOUSANDS_SV}033 kontrollpersonerna" in reader_note(note, "sv")
    assert "all 104,819 units" in reader_note(DEMO_NOTES[0], "en")
    assert f"alla 104{THOUSANDS_SV}819 enheter" in reader_note(DEMO_NOTES[0], "sv")
    join = ("Estimand join_vs_never (joining versus never joining, Li, Propert and Rosenbaum 2001): a control who "
            "later joins the programme is censored on the day it starts (as MatchTime's censor_at_treat), so the "
            "controls show what would have happened without the programme. This is the effect the programme's "
            "goals speak of.")
    assert "Rosenbaum 2001)" in reader_note(join, "en") and "2,001" not in reader_note(join, "en")
    hires = "hires from 2022-01-01 to 2022-10-31: 751 of 1860 rows"
    assert reader_note(hires, "en") == "hires from 2022-01-01 to 2022-10-31: 751 of 1,860 rows"


def test_unknown_note_is_left_as_written_in_english() -> None:
    assert reader_note("something else entirely", "en") == "something else entirely"
    assert reader_note("something else entirely", "sv") is None
    # the library's own notes keep the programmer's wording; translate_note('en') is unchanged
    assert translate_note(DEMO_NOTES[1], "en") == DEMO_NOTES[1]


def test_flow_and_balance_jargon_in_reader_words() -> None:
    for key in ("controls_(set_memberships)", "matched_(set_memberships)", "analysed_(set_memberships)"):
        assert "membership" not in LABELS[key]["en"] and "once per participant" in LABELS[key]["en"]
        assert "per deltagare" in LABELS[key]["sv"]
    assert label("balance_distance", "en") == "Propensity score"
    assert label("balance_distance", "sv") == "Skattad sannolikhet att delta"
    from impact.report._tables import labelled
    shown = labelled(pd.DataFrame({"covariate": ["distance", "age"], "smd_before": [0.5, 0.1]}), "sv")
    assert shown.iloc[0, 0] == "Skattad sannolikhet att delta"


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_hidden_cell_is_not_drawn_like_a_zero(lang: str) -> None:
    import matplotlib.pyplot as plt

    from impact.monitor._employment import GenderTable
    from impact.report._html import _titles
    t = pd.DataFrame({"women": [30, 2, 0], "men": [25, 40, 12]},
                     index=pd.Index(["a", "b", "c"], name="subsidy"))
    t["total"] = t.sum(axis=1)
    t.loc["all"] = t.sum(axis=0)
    table = GenderTable(table=t.astype(int), kind="hires_by_subsidy", lang=lang)
    ax = table.plot(threshold=5)
    marks = [a.get_text() for a in ax.texts]
    assert "0" in marks and ".." in marks         # the zero (c, women) and the hidden 2 (b, women) differ
    legend = [x.get_text() for x in ax.get_legend().get_texts()]
    assert label("legend_hidden_cell", lang, mark="..") in legend
    assert label("legend_hidden_cell", lang, mark="..") in _titles(ax.figure)   # and the alt text says so
    plt.close("all")


def test_monthly_note_says_its_period() -> None:
    from impact.monitor import to_work_or_studies_by_month
    data = pd.DataFrame({"end_date": pd.to_datetime(["2022-01-10", "2022-02-03", "2022-03-20"]),
                         "outcome": ["to_work", "to_studies", "to_work"], "gender": ["female", "male", "female"],
                         "person_id": [1, 2, 3]})
    res = to_work_or_studies_by_month(data, id="person_id", start="2022-01-01", end="2022-03-31")
    note = [n for n in res.notes if n.startswith("the monthly counts cover")]
    assert note == ["the monthly counts cover 2022-01 to 2022-03 only; a goal table counting the whole "
                    "programme covers a different period, so its totals differ"]
    assert translate_note(note[0], "sv") == ("månadstabellen räknar bara 2022-01 till 2022-03; en måltabell som "
                                             "räknar hela programmet avser en annan period, så dess summor skiljer sig")
    assert not np.isnan(res.table["total"].sum())


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_monthly_figure_says_its_months(lang: str) -> None:
    """Oracle: the months of the series (Jan-Mar 2022), said under the figure and in its alt text."""
    import matplotlib.pyplot as plt

    from impact.labels import format_month
    from impact.monitor import to_work_or_studies_by_month
    from impact.report._html import _titles
    data = pd.DataFrame({"end_date": pd.to_datetime(["2022-01-10", "2022-02-03", "2022-03-20"]),
                         "outcome": ["to_work", "to_studies", "to_work"], "gender": ["female", "male", "female"],
                         "person_id": [1, 2, 3]})
    res = to_work_or_studies_by_month(data, id="person_id", start="2022-01-01", end="2022-03-31")
    ax = res.plot(lang=lang, threshold=1)
    said = label("monthly_period", lang, first=format_month(pd.Period("2022-01", "M"), lang),
                 last=format_month(pd.Period("2022-03", "M"), lang))
    assert said in [t.get_text() for t in ax.texts]
    assert _titles(ax.figure).endswith(said)
    plt.close("all")
