"""Swedish all through (issue 13, point 3): the label map covers estimands, SE methods, gender codes, flow
steps and reasons, design rows, plots and settings; Swedish number formats; plurals; user labels.

Oracles: Swedish wording typed by hand (Språkrådet's rules for numbers: a space between thousands groups,
a decimal comma, the minus sign U+2212); the flow steps and reasons that design and data actually write,
taken from real runs.
"""

from __future__ import annotations

import tomllib

import pandas as pd
import pytest

import impact
from impact import ParameterError
from impact.labels import (LABELS, MINUS_SV, THOUSANDS_SV, LabelMap, covariate_label, format_number, format_percent,
                           has_label, label, label_of, relabel, subgroup_label, untranslated, use_labels,
                           with_user_labels)

NBSP, MINUS = "\u00a0", "\u2212"


@pytest.mark.parametrize("key, sv", [
    ("time_ratio", "tidskvot"),
    ("hazard_ratio", "hazardkvot"),
    ("subdistribution_hazard_ratio", "subfördelningshazardkvot (Fine-Gray)"),
    ("share_diff", "skillnad i andel"),
    ("rmst_diff", "skillnad i medeldagar"),
    ("se_method", "Metod för medelfel"),
    ("caliper", "avståndsgräns"),   # no English word in the Swedish report
    ("region_of_birth", "Födelseregion"),
    ("age", "Ålder"),
])
def test_estimands_and_headers_in_swedish(key, sv):
    assert label(key, "sv") == sv


@pytest.mark.parametrize("value, sv", [
    ("influence function", "influensfunktion"),
    ("cluster-robust sandwich", "klusterrobust sandwichskattning"),
    ("robust sandwich", "robust sandwichskattning"),
    ("bootstrap", "bootstrap (omsampling)"),
    ("time ratio", "tidskvot"),
    ("hazard ratio", "hazardkvot"),
    ("Outside Europe", "Utanför Europa"),
])
def test_phrases_as_results_write_them_are_labelled(value, sv):
    assert label_of(value, "sv") == sv
    t = pd.DataFrame({"se_method": [value]})
    assert relabel(t, "sv").iloc[0, 0] == sv
    assert list(relabel(t, "sv").columns) == ["Metod för medelfel"]


def test_free_text_is_left_alone():
    assert label_of("free text", "sv") == "free text"
    assert relabel(pd.DataFrame({"x": ["Malmö"]}), "sv").iloc[0, 0] == "Malmö"


@pytest.mark.parametrize("code, sv, en", [
    ("K", "Kvinnor", "Women"), ("M", "Män", "Men"), ("K - M", "Kvinnor − män", "Women − men"),
    ("female - male", "Kvinnor − män", "Women − men"),
])
def test_gender_codes(code, sv, en):
    assert subgroup_label(code, "sv") == sv
    assert subgroup_label(code, "en") == en


def test_plural_of_persons():
    assert label("persons", "sv", n=1) == "1 person"
    assert label("persons", "sv", n=2) == "2 personer"
    assert label("persons", "en", n=1) == "1 person"
    assert label("persons", "en", n=3) == "3 people"
    fields = dict(method="närmaste granne", replace="utan återläggning", covariates="ålder", caliper="0,2",
                  exact="kön")
    one = label("methods_design", "sv", ratio=1, **fields)
    two = label("methods_design", "sv", ratio=2, **fields)
    assert "jämfördes med 1 person som" in one and "jämfördes med 2 personer som" in two
    assert "(er)" not in one + two
    assert "with 2 people who" in label("methods_design", "en", ratio=2, **fields)


@pytest.mark.parametrize("value, decimals, sv, en", [
    (1800, 0, f"1{NBSP}800", "1,800"),
    (-1800, 0, f"{MINUS}1{NBSP}800", "-1,800"),
    (1234567.891, 2, f"1{NBSP}234{NBSP}567,89", "1,234,567.89"),
    (-0.5, 1, f"{MINUS}0,5", "-0.5"),
    (-0.004, 2, "0,00", "0.00"),     # rounds to zero: no sign
    (999, 0, "999", "999"),
])
def test_swedish_numbers(value, decimals, sv, en):
    assert format_number(value, "sv", decimals) == sv
    assert format_number(value, "en", decimals) == en
    assert all(ord(ch) < 128 for ch in format_number(value, "en", decimals))


def test_swedish_percent_and_constants():
    assert (THOUSANDS_SV, MINUS_SV) == (NBSP, MINUS)
    assert format_percent(-0.071, "sv") == f"{MINUS}7,1 %"
    assert format_percent(12.5, "sv", 0) == f"1{NBSP}250 %"
    assert format_percent(-0.071, "en") == "-7.1%"


UNTRANSLATED_ON_PURPOSE = {
    # Swedish programme names: proper names in both languages
    "extratjanster", "introduktionsjobb", "lonebidrag_osa", "nystartsjobb",
    "optimal", "design", "period",  # the same word in Swedish
    "design_method_ratio",  # "{ratio}:1 {method} {replace}": only placeholders
}


def test_every_label_is_translated_or_allowed():
    assert untranslated(allow=UNTRANSLATED_ON_PURPOSE) == []
    assert set(untranslated()) == UNTRANSLATED_ON_PURPOSE


def _flow_keys(flow):
    t = flow.table()
    return [(str(step).replace(" ", "_"), "reason_" + "_".join(str(r).split())) for step, r in
            zip(t.index, t["reason"], strict=True)]


@pytest.mark.parametrize("kwargs", [
    dict(method="nearest", caliper=0.05, exact=["gender"]),
    dict(method="nearest", caliper=None),
    dict(method="exact"),
    dict(method="subclass"),
    dict(method="nearest", caliper=0.2, discard="both"),
])
def test_every_flow_step_and_reason_has_a_swedish_label(kwargs):
    sim = impact.simulate(n_pool=1500, random_state=5)
    v = impact.validate(sim.registers, sim.roles)
    covs = ["age", "education"] if kwargs["method"] != "nearest" else list(sim.roles.covariates)
    m = impact.match(v.data, treatment="participant", covariates=covs, random_state=1, **kwargs)
    for step, reason in _flow_keys(v.flow.extend(m.flow)):
        for key in (step, reason):
            assert has_label(key), key
            assert label(key, "sv") != label(key, "en"), key


def test_covariate_and_level_labels():
    assert covariate_label("education[tertiary]", "sv") == "Utbildning: eftergymnasial"
    assert covariate_label("region_of_birth[Outside Europe]", "sv") == "Födelseregion: Utanför Europa"
    assert covariate_label("age", "en") == "Age"


TOML = """
[labels]
age = "Ålder (år)"
education = { sv = "Utbildningsnivå", en = "Level of education" }
gender.K = "Kvinnor"
gender.M = "Män"

[labels.region]
"01" = { sv = "Norden", en = "Nordic countries" }
"""


def test_user_labels_from_toml():
    lm = with_user_labels(tomllib.loads(TOML)["labels"])
    assert isinstance(lm, LabelMap)
    assert label("age", "sv", labels=lm) == "Ålder (år)"
    assert label("age", "en", labels=lm) == "Ålder (år)"    # one text: every language
    assert label("education", "en", labels=lm) == "Level of education"
    assert label("age", "sv") == "Ålder"                     # the built-in map is untouched
    assert subgroup_label("K", "sv", column="gender", labels=lm) == "Kvinnor"
    assert subgroup_label("01", "en", column="region", labels=lm) == "Nordic countries"
    assert covariate_label("region[01]", "sv", labels=lm) == "region: Norden"
    t = pd.DataFrame({"gender": ["K", "M"], "age": [30, 40], "region": ["01", "02"]})
    out = relabel(t, "sv", labels=lm)
    assert list(out.columns) == ["Kön", "Ålder (år)", "region"]
    assert out["Kön"].tolist() == ["Kvinnor", "Män"]
    assert out["region"].tolist() == ["Norden", "02"]


def test_user_labels_in_a_block():
    lm = with_user_labels({"gender.K": "Kvinnliga deltagare", "my_covariate": "Min variabel"})
    with use_labels(lm):
        assert subgroup_label("K", "sv") == "Kvinnliga deltagare"
        assert label("my_covariate", "sv") == "Min variabel" and has_label("my_covariate")
        assert relabel(pd.DataFrame({"my_covariate": [1]}), "en").columns[0] == "Min variabel"
    assert not has_label("my_covariate")
    assert subgroup_label("K", "sv") == "Kvinnor"


def test_user_labels_layer_on_a_base():
    base = with_user_labels({"age": "Ålder"})
    lm = with_user_labels({"age": "Ålder i år", "gender.K": "K"}, base=base)
    assert lm.text("age", "sv") == "Ålder i år" and base.text("age", "sv") == "Ålder"


@pytest.mark.parametrize("bad, pattern", [
    ({"age": 3}, r"\[labels\] age must be a text"),
    ({"age": ""}, r"\[labels\] age must not be empty"),
    ({"age": {"sv": 3}}, r"\[labels\] age\.sv must be a non-empty string"),
    ({"gender": {"K": ["Kvinnor"]}}, r"\[labels\] gender\.K must be a text or a text per language"),
    ([("age", "Ålder")], r"'mapping' parameter of with_user_labels must be a mapping"),
])
def test_bad_user_labels_name_the_key(bad, pattern):
    with pytest.raises(ParameterError, match=pattern):
        with_user_labels(bad)


def test_labels_parameter_is_checked():
    with pytest.raises(ParameterError, match=r"'labels' parameter of label must be a LabelMap"):
        label("age", "sv", labels={"age": "Ålder"})
    assert "age" in LABELS


# the unmatched note's Swedish no longer names result.unmatched (a published report's reader reads no
# attribute names; the programmer's English note still does): pinned to the reader's wording
@pytest.mark.parametrize("note, sv", [
    ("Thresholds: |SMD| <= 0.1, variance ratio within [1/2.0, 2.0].", "Gränser: |SMD| ≤ 0,1, variankvot inom [1/2,0; 2,0]."),
    ("32 treated units found no match (no control within the caliper: 19; every control within the caliper already "
     "used by other treated units: 13); their positions and reasons are in result.unmatched.",
     "32 deltagare fick ingen matchning (ingen kontrollperson inom avståndsgränsen: 19; alla kontrollpersoner inom "
     "avståndsgränsen redan använda av andra deltagare: 13); utvärderingens resultat listar dem och orsakerna."),
    (".. treated units found no match (no control within the caliper: ..); their positions and reasons are in "
     "result.unmatched.",
     ".. deltagare fick ingen matchning (ingen kontrollperson inom avståndsgränsen: ..); utvärderingens resultat "
     "listar dem och orsakerna."),
    ("hires from 2022-01-01 to 2022-10-31: 751 of 1860 rows", "anställningar från 2022-01-01 till 2022-10-31: 751 av "
     "1\u00a0860 rader"),
    ("Exact on the period 'period' and gender, elapsed_band; ties broken on (id, period), not on row order.",
     "Exakt matchning på period, kön och intervall för tid i pågående inskrivning (dagar); lika avstånd avgörs på "
     "(identitet, period), inte på radordningen."),
    ("6 subclasses on quantiles of the score among treated units (MatchIt's default 6).",
     "6 delklasser efter kvantiler av skattningen bland deltagarna (standardvalet i MatchIt är 6)."),
])
def test_library_notes_in_swedish(note, sv):
    """Oracle: the Swedish sentence written by hand for each English note, numbers in Swedish format."""
    from impact.labels import translate_note
    assert translate_note(note, "sv") == sv
    assert translate_note(note, "en") == note


def test_user_labels_reach_the_notes_and_unknown_notes_are_kept():
    from impact.labels import translate_note
    from impact.report._write import _notes_in
    lm = with_user_labels({"gender": "Könstillhörighet"})
    note = "Exact on the period 'period' and gender; ties broken on (id, period), not on row order."
    assert "könstillhörighet" in translate_note(note, "sv", labels=lm)
    assert translate_note("a sentence nobody wrote a translation for", "sv") is None
    done, left = _notes_in([note, "a sentence nobody wrote a translation for"], "sv")
    assert len(done) == 1 and left == ["a sentence nobody wrote a translation for"]
