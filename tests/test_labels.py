"""Labels: one map for Swedish and English; formats of numbers, percentages and changes.

Oracle: the seed's own Swedish wording (see ../shared/seeds/), typed here by hand.
"""

from __future__ import annotations

import pandas as pd
import pytest

from impact import ParameterError
from impact.labels import (LABELS, LANGS, format_change, format_month, format_number, format_percent,
                           label, month_name, relabel)


@pytest.mark.parametrize("key, sv", [
    ("achieved", "uppnått"),
    ("partly_achieved", "delvis uppnått"),
    ("not_achieved", "ej uppnått"),
    ("women", "Kvinnor"),
    ("men", "Män"),
    ("total", "Totalt"),
    ("all", "Samtliga"),
    ("to_work", "Avslutad till arbete"),
    ("to_studies", "Avslutad till studier"),
    ("continued_planning", "Fortsatt planering på AMA"),
    ("new_planning_af", "Avslutad till ny planering på Arbetsförmedlingen"),
    ("interrupted_planning", "Avslutad till avbruten planering"),
    ("other_reasons", "Avslutad till övriga avslutsorsaker"),
    ("extratjanster", "Extratjänster"),
    ("lonebidrag_osa", "Lönebidrag/OSA"),
    ("nystartsjobb", "Nystartsjobb"),
    ("introduktionsjobb", "Introduktionsjobb"),
    ("no_subsidy", "Utan anställningsstöd"),
    ("goal_method_support", "Ett metodstöd har tagits fram och sprids"),
    ("goal_fewer_on_benefits", "Färre deltagare uppbär försörjningsstöd och sjukpenning än vid start"),
])
def test_swedish_labels_are_the_seeds_wording(key, sv):
    assert label(key, "sv") == sv


def test_english_labels():
    assert [label(k) for k in ("achieved", "partly_achieved", "not_achieved")] == [
        "achieved", "partly achieved", "not achieved"]
    assert (label("women"), label("men"), label("total")) == ("Women", "Men", "Total")


def test_every_key_has_every_language_and_is_snake_case():
    for key, texts in LABELS.items():
        assert set(texts) == set(LANGS), key
        assert all(texts[lang].strip() for lang in LANGS), key
        assert key == key.lower() and " " not in key, key


def test_placeholders_are_filled():
    assert label("goal_participants", "sv", target="4 000") == "4 000 Malmöbor har deltagit"


def test_unknown_key_and_language():
    with pytest.raises(ParameterError, match=r"No label for key 'womens'\. Did you mean 'women'\?"):
        label("womens")
    with pytest.raises(ParameterError, match=r"'lang' parameter of label must be one of 'en', 'sv'\. Got 'se'"):
        label("women", "se")


def test_relabel_changes_display_only():
    t = pd.DataFrame({"women": [64, 20], "men": [87, 15], "note": ["to_work", "free text"]},
                     index=pd.Index(["to_work", "to_studies"], name="outcome"))
    out = relabel(t, "sv")
    assert list(out.columns) == ["Kvinnor", "Män", "note"]
    assert list(out.index) == ["Avslutad till arbete", "Avslutad till studier"]
    assert out.index.name == "Resultat"
    assert out["note"].tolist() == ["Avslutad till arbete", "free text"]
    assert out["Kvinnor"].tolist() == [64, 20]
    assert list(t.columns) == ["women", "men", "note"]  # input untouched


def test_relabel_months():
    t = pd.DataFrame({"total": [1, 2]}, index=pd.period_range("2022-01", periods=2, freq="M"))
    assert list(relabel(t, "sv").index) == ["januari 2022", "februari 2022"]
    assert list(relabel(t, "en").index) == ["January 2022", "February 2022"]


def test_months():
    assert [month_name(m, "sv") for m in (1, 5, 10)] == ["januari", "maj", "oktober"]
    assert format_month(pd.Timestamp("2022-11-30"), "en") == "November 2022"
    with pytest.raises(ParameterError, match=r"^The 'month' parameter of month_name must be <= 12\. Got 13\.$"):
        month_name(13)


@pytest.mark.parametrize("value, lang, decimals, text", [
    (4000, "sv", 0, "4\u00a0000"),
    (4000, "en", 0, "4,000"),
    (1234567.891, "sv", 2, "1\u00a0234\u00a0567,89"),
    (-17.7, "sv", 1, "\u221217,7"),
    (-17.7, "en", 1, "-17.7"),
    (float("nan"), "en", 0, ""),
])
def test_format_number(value, lang, decimals, text):
    assert format_number(value, lang, decimals) == text


def test_format_percent_and_change_like_the_seed():
    assert format_percent(0.46, "sv", 0) == "46 %"
    assert format_percent(0.46, "en", 0) == "46%"
    # seed: "-17,7% jämfört med samma månad 2021", "- 26,2 % jämfört med samma månad 2020"; typeset with the
    # minus sign U+2212 and a space before the per cent sign
    assert format_change(-0.177, 2021, "sv") == "\u221217,7 % jämfört med samma månad 2021"
    assert format_change(-0.262, 2020, "sv") == "\u221226,2 % jämfört med samma månad 2020"
    assert format_change(-0.177, 2021, "en") == "-17.7% compared with the same month 2021"
    assert format_change(0.031, 2021, "en") == "+3.1% compared with the same month 2021"
    assert format_change(float("nan"), 2021, "en") == ""
