"""The headline in words: sentences from the published effects, in Swedish and English.

Oracles: hand-written sentences for a known published table (both languages); the publication
rule (a group under ``min_effect_n`` is withheld as ``group_size``), so its sentence is "too few
participants to estimate an effect" and none of its estimates appears anywhere in the report; the
flag rule (|SMD| after matching above 0.25 on any covariate); and the published ``effects.csv``
of the same report (each number of the headline is that table's number, rounded as it prints it).
"""

from __future__ import annotations

import re
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

import impact
from impact.labels import label
from impact.publish import effects_withheld
from impact.report import write_report
from impact.report._headline import TEXTS, Message, headline_html, headline_messages

NAN = float("nan")


def _table(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["subgroup", "estimand", "horizon", "estimate", "ci_low", "ci_high",
                                       "withheld"])


KNOWN = _table([
    ("all", "share_diff", 90.0, 0.0712, 0.0417, 0.1004, ""),
    ("all", "share_diff", 365.0, -0.0321, -0.0552, -0.0093, ""),
    ("all", "hazard_ratio", NAN, 1.2104, 1.0561, 1.3873, ""),
    ("female", "share_diff", 90.0, 0.0239, -0.0041, 0.0512, ""),
    ("female", "share_diff", 365.0, 0.0401, 0.0112, 0.0693, ""),
    ("female", "hazard_ratio", NAN, 0.9712, 0.8404, 1.1221, ""),
    ("male", "share_diff", 90.0, 0.1101, 0.0712, 0.1503, ""),
    ("male", "share_diff", 365.0, 0.0611, 0.0204, 0.1019, ""),
    ("male", "hazard_ratio", NAN, 0.8013, 0.7012, 0.9154, ""),
    ("female - male", "share_diff", 90.0, -0.0862, -0.1348, -0.0376, ""),
    ("female - male", "share_diff", 365.0, -0.0210, -0.0799, 0.0379, ""),
    ("female - male", "hazard_ratio", NAN, 1.2120, 1.0011, 1.4673, ""),
])

EXPECTED_EN = """\
All participants
- Within 90 days, participants had gone to work or studies 7.1 percentage points (95% CI 4.2 to 10.0) more often than matched controls.
- Within a year, participants had gone to work or studies 3.2 percentage points (95% CI 0.9 to 5.5) less often than matched controls.
- Participants reached work or studies sooner than matched controls (hazard ratio 1.210, 95% CI 1.056 to 1.387).
Women
- Within 90 days, participants and matched controls did not clearly differ in going to work or studies: 2.4 percentage points (95% CI -0.4 to 5.1).
- Within a year, participants had gone to work or studies 4.0 percentage points (95% CI 1.1 to 6.9) more often than matched controls.
- Participants did not clearly reach work or studies sooner or later than matched controls (hazard ratio 0.971, 95% CI 0.840 to 1.122).
Men
- Within 90 days, participants had gone to work or studies 11.0 percentage points (95% CI 7.1 to 15.0) more often than matched controls.
- Within a year, participants had gone to work or studies 6.1 percentage points (95% CI 2.0 to 10.2) more often than matched controls.
- Participants reached work or studies later than matched controls (hazard ratio 0.801, 95% CI 0.701 to 0.915).
Women compared with men
- The effect differed clearly between women and men in 2 of 3 comparisons.
- Within 90 days, the effect was 8.6 percentage points (95% CI 3.8 to 13.5) smaller for women than for men.
- Within a year, the effect did not clearly differ between women and men (women minus men: -2.1 percentage points, 95% CI -8.0 to 3.8).
- The hazard ratio was higher for women than for men (ratio of the hazard ratios 1.212, 95% CI 1.001 to 1.467)."""

EXPECTED_SV = """\
Alla deltagare
- Inom 90 dagar hade deltagarna gått till arbete eller studier 7,1 procentenheter (95 % KI 4,2 till 10,0) oftare än matchade kontrollpersoner.
- Inom ett år hade deltagarna gått till arbete eller studier 3,2 procentenheter (95 % KI 0,9 till 5,5) mer sällan än matchade kontrollpersoner.
- Deltagarna kom till arbete eller studier snabbare än matchade kontrollpersoner (hazardkvot 1,210, 95 % KI 1,056 till 1,387).
Kvinnor
- Inom 90 dagar skilde sig deltagare och matchade kontrollpersoner inte säkert åt i hur ofta de gått till arbete eller studier: 2,4 procentenheter (95 % KI −0,4 till 5,1).
- Inom ett år hade deltagarna gått till arbete eller studier 4,0 procentenheter (95 % KI 1,1 till 6,9) oftare än matchade kontrollpersoner.
- Deltagarna kom inte säkert snabbare eller långsammare till arbete eller studier än matchade kontrollpersoner (hazardkvot 0,971, 95 % KI 0,840 till 1,122).
Män
- Inom 90 dagar hade deltagarna gått till arbete eller studier 11,0 procentenheter (95 % KI 7,1 till 15,0) oftare än matchade kontrollpersoner.
- Inom ett år hade deltagarna gått till arbete eller studier 6,1 procentenheter (95 % KI 2,0 till 10,2) oftare än matchade kontrollpersoner.
- Deltagarna kom till arbete eller studier långsammare än matchade kontrollpersoner (hazardkvot 0,801, 95 % KI 0,701 till 0,915).
Kvinnor jämfört med män
- Effekten skilde sig säkert mellan kvinnor och män i 2 av 3 jämförelser.
- Inom 90 dagar var effekten 8,6 procentenheter (95 % KI 3,8 till 13,5) mindre för kvinnor än för män.
- Inom ett år skilde sig effekten inte säkert mellan kvinnor och män (kvinnor minus män: −2,1 procentenheter, 95 % KI −8,0 till 3,8).
- Hazardkvoten var högre för kvinnor än för män (kvot mellan hazardkvoterna 1,212, 95 % KI 1,001 till 1,467)."""


def test_sentences_of_a_known_summary_in_english_and_swedish():
    head = headline_messages(KNOWN, by="gender")
    assert head.text("en") == EXPECTED_EN
    # Swedish: "95 %" and "% KI" are held together by no-break spaces
    assert head.text("sv").replace("\u00a0", " ") == EXPECTED_SV
    assert "95\u00a0%\u00a0KI" in head.text("sv")


def test_messages_are_keys_with_typed_fields_in_both_languages():
    head = headline_messages(KNOWN)
    for m in head.messages():
        assert set(TEXTS[m.key]) == {"en", "sv"}
        assert m.text("en") != m.text("sv") or m.key == "group"
        for v in m.fields.values():
            assert hasattr(v, "text")           # typed, formatted per language at display
    first = head.blocks[0].lines[0]
    assert first.key == "share_more" and first.fields["diff"].value == 7.1 and first.fields["diff"].decimals == 1
    with pytest.raises(TypeError):
        first.fields["diff"] = 1                # read-only
    with pytest.raises(KeyError, match="needs the fields"):
        Message("share_more", {})


def test_a_group_below_the_minimum_size_gets_too_few_and_no_number():
    summary = pd.DataFrame({
        "subgroup": ["all", "all", "female", "female", "male", "male", "female - male", "female - male"],
        "estimand": ["share_diff", "hazard_ratio"] * 4,
        "horizon": [365.0, NAN] * 4,
        "estimate": [0.0612, 1.21, 0.0433, 1.17, 0.0987, 1.43, -0.0554, 0.818],
        "ci_low": [0.02, 1.05, 0.01, 1.01, 0.0102, 0.95, -0.15, 0.53],
        "ci_high": [0.10, 1.39, 0.08, 1.36, 0.19, 2.15, 0.04, 1.25],
        "n_treated": [140, 140, 128, 128, 12, 12, NAN, NAN], "n_control": [140, 140, 128, 128, 12, 12, NAN, NAN]})
    pub = effects_withheld(summary, threshold=5, min_effect_n=20)
    assert pub.loc[pub["subgroup"] == "male", "withheld"].eq("group_size").all()
    head = headline_messages(pub)
    blocks = {b.heading.text("en"): b for b in head.blocks}
    assert [m.text("en") for m in blocks["Men"].lines] == ["Too few participants to estimate an effect."]
    assert [m.text("sv") for m in blocks["Men"].lines] == ["För få deltagare för att skatta en effekt."]
    assert [m.key for m in blocks["Women compared with men"].lines] == ["difference_too_few"]
    page = (headline_html(head, "en") + headline_html(head, "sv")).replace("−", "-")
    for v in (0.0987, 1.43, 0.0102, 0.95, 2.15, -0.0554, 0.818):  # the withheld estimates, in every format
        for text in (f"{v:.3f}", f"{100 * v:.1f}"):
            for shown in (text, text.replace(".", ",")):
                assert not _has_number(shown, page), shown


def _has_number(text: str, page: str) -> bool:
    """``text`` as a whole number in ``page`` (not a part of a longer one, nor the same digits negated)."""
    return re.search(rf"(?<![\d.,\-]){re.escape(text)}(?![\d])", page) is not None


def test_an_smd_of_0_3_after_matching_gives_the_balance_flag():
    bal = pd.DataFrame({"covariate": ["distance", "age", "born_abroad", "education[primary]"],
                        "smd_after": [0.01, 0.05, -0.3, 0.2]})
    head = headline_messages(KNOWN, bal)
    assert [m.key for m in head.flags] == ["balance_not_achieved_one"]
    assert head.flags[0].text("en").startswith("Balance not achieved: 1 covariate has")
    assert head.flags[0].text("sv").startswith("Balans uppnåddes inte: 1 kovariat har")
    assert "Balance not achieved" in headline_html(head, "en")
    assert "Balans uppnåddes inte" in headline_html(head, "sv")
    two = headline_messages(KNOWN, bal.assign(smd_after=[0.01, 0.26, -0.3, 0.2]))
    assert two.flags[0].text("en").startswith("Balance not achieved: 2 covariates have")
    assert headline_messages(KNOWN, bal.assign(smd_after=[0.01, 0.05, -0.25, 0.2])).flags == ()  # not above
    score = headline_messages(KNOWN, bal.assign(smd_after=[0.4, 0.05, 0.1, 0.2]))
    assert [m.key for m in score.flags] == ["balance_not_achieved_score"]


# -- through the report -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def evaluation():
    sim = impact.simulate(n_pool=1500, random_state=4)
    return impact.evaluate(sim.registers, sim.roles, random_state=0)


def _report(evaluation, folder, **kw):
    """The report without rendering its figures (PNG bytes hold no searchable text; the slow part)."""
    from impact.report import _write as report_write
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(report_write, "fig_to_img", lambda fig, alt: "")
        return write_report(evaluation, folder, excel=False, **kw)


@pytest.fixture(scope="module")
def report_en(evaluation, tmp_path_factory):
    return _report(evaluation, tmp_path_factory.mktemp("headline_en"))


def _headline_section(page: str) -> str:
    m = re.search(r"<section class='summary'>(.*?)</section>", page, flags=re.DOTALL)
    assert m is not None
    return m.group(1)


def _r(x: float, scale: int = 1) -> Decimal:
    return Decimal(f"{x:.3f}") * scale


def test_headline_numbers_equal_the_published_effects_table(report_en):
    page = report_en.read_text(encoding="utf-8")
    head = _headline_section(page)
    assert page.index("<section class='summary'>") < page.index("<nav>")   # the headline opens the report
    pub = pd.read_csv(report_en.parent / "effects.csv", keep_default_na=False, na_values=[""])
    rows = pub[pub["estimand"].isin(["share_diff", "hazard_ratio"]) & (pub["withheld"].fillna("") == "")]
    assert len(rows) >= 12
    for r in rows.itertuples():
        if r.estimand == "share_diff":
            est, lo, hi = (_r(v, 100) for v in (r.estimate, r.ci_low, r.ci_high))
            if hi < 0:  # "less often" / "smaller": the distance below zero
                est, lo, hi = -est, -hi, -lo
            if r.subgroup == "female - male" and lo <= 0 <= hi:
                want = f"{est:.1f} percentage points, 95% CI {lo:.1f} to {hi:.1f}"
            else:
                want = f"{est:.1f} percentage points (95% CI {lo:.1f} to {hi:.1f})"
        else:
            est, lo, hi = (_r(v) for v in (r.estimate, r.ci_low, r.ci_high))
            want = f"{est:.3f}, 95% CI {lo:.3f} to {hi:.3f}"
        assert want in head, (r.subgroup, r.estimand, r.horizon, want)


@pytest.fixture(scope="module")
def report_sv_small(evaluation, tmp_path_factory):
    s = evaluation.effects.summary()
    n = s.loc[s["estimand"] == "hazard_ratio"].set_index("subgroup")["n_treated"]
    cut = int(min(n["female"], n["male"])) + 1          # the smaller gender group falls under the minimum
    assert cut <= max(n["female"], n["male"]) and cut <= n["all"]
    return _report(evaluation, tmp_path_factory.mktemp("headline_sv"), lang="sv", min_effect_n=cut), s


def test_in_the_report_a_small_group_has_no_number_anywhere(report_sv_small):
    path, summary = report_sv_small
    n = summary.loc[summary["estimand"] == "hazard_ratio"].set_index("subgroup")["n_treated"].drop(
        ["all", "female - male"])
    small = str(n.idxmin())
    page = path.read_text(encoding="utf-8")
    head = _headline_section(page)
    name = "Kvinnor" if small == "female" else "Män"
    block = re.search(rf"<h3>{name}</h3><ul>(.*?)</ul>", head)
    assert block is not None and block.group(1) == "<li>För få deltagare för att skatta en effekt.</li>"
    # none of the small group's estimates, in the table's or the headline's format, anywhere in the HTML
    # (unless it happens to equal another, published, number of the report: e.g. a naive estimate)
    flat = page.replace("\u00a0", " ").replace("−", "-")
    published = set()
    for name in ("effects", "naive_effects"):
        t = pd.read_csv(path.parent / f"{name}.csv")   # a Swedish report's CSVs have Swedish headers
        cols = [label(c, "sv") for c in ("estimate", "ci_low", "ci_high")]
        for v in pd.to_numeric(t[cols].stack(), errors="coerce").to_numpy(dtype=float):
            if np.isfinite(v):
                published |= {f"{v:.3f}".replace(".", ","), f"{100 * v:.1f}".replace(".", ",")}
    rows = summary[(summary["subgroup"] == small) & summary["estimand"].isin(["share_diff", "hazard_ratio"])]
    checked = 0
    for r in rows.itertuples():
        for v in (r.estimate, r.ci_low, r.ci_high):
            for text in (f"{v:.3f}".replace(".", ","), f"{100 * v:.1f}".replace(".", ",")):
                if text not in published:
                    checked += 1
                    assert not _has_number(text, flat), text
    assert np.isfinite(rows["estimate"]).all() and checked >= 12   # the numbers exist, so the test can fail


def test_a_poorly_balanced_design_is_flagged_in_the_headline_of_the_report(tmp_path):
    import warnings

    sim = impact.simulate(n_pool=600, random_state=4, participation=0.6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                                      # the design warns about balance too
        ev = impact.evaluate(sim.registers, sim.roles, caliper=None, exact=[], elapsed_band=None)
    bal = ev.balance().summary()
    smd = bal["smd_after"].abs()
    n = int(((smd > 0.25) & (bal.index != "distance")).sum())
    assert n >= 2
    page = _report(ev, tmp_path, lang="sv").read_text(encoding="utf-8")
    head = _headline_section(page)
    assert (f"<p class='flag' role='alert'><strong>Balans uppnåddes inte</strong>: {n} kovariater har en absolut "
            "standardiserad medelvärdesskillnad över 0,25") in head
