"""The Swedish report is Swedish all through, user labels reach it, and its files hold real numbers.

One small register evaluation is run from an evaluation file with ``lang = "sv"`` and a ``[labels]``
table (as ``impact run`` does), with goals and monitoring, so that every section of the report is
written. Oracles:

* a list of English words (below) that are not Swedish words: none may occur in the text of the
  HTML, any CSV header, any workbook header or text cell, or any text of a figure the report draws;
  the failure names the word and where it was found;
* the user's labels: the texts of ``[labels]`` must appear where the covariates and codes are shown
  (HTML, CSV), and the built-in label they replace must not;
* the number formats readers expect: Swedish in the HTML (no-break space between thousands, U+2212
  minus, decimal comma); in CSV and the workbook real numbers (pandas reads the columns as numbers,
  openpyxl sees numeric cells with a number format), with the withheld mark kept as text.
"""

from __future__ import annotations

import html as htmllib
import re
import textwrap
import tomllib

import numpy as np
import openpyxl
import pandas as pd
import pytest

from impact.labels import MINUS_SV, THOUSANDS_SV, label
from impact.pipeline import ConfigError, read_config, run
from impact.publish import MARK
from impact.synthetic import simulate_extract, simulate_monitoring, write_extract

#: English words that are not Swedish words (so "men" -- Swedish "but" --, "all", "in", "period",
#: "person", "design" and "data" are not here). Chosen from the words the English report uses.
ENGLISH = frozenset("""
the and of with without for from to is are was were be been by or at on not no yes this that these which
who what when where than then also only each every other others its their there here into over
control controls treated participant participants matched matching match unmatched effect effects balance
balanced caliper continuous binary categorical hazard ratio ratios share shares women woman female male
difference differences shown people persons flow step steps reason reasons dropped eligible analysed
registered days day month months year years estimate estimates estimand interval intervals confidence
level work studies study missing before after unit units weighted weights weight standard standardised
deviation mean means median count counts rows row goal goals target achieved partly households household
employment employments subsidy hires hire outcome outcomes group groups subgroup subgroups note notes
technical table tables settings setting generated seed fingerprint fingerprints version versions curve
curves plot axis legend absolute value values true false event events competing censored gender
education age district region born abroad elapsed earlier spells spell assistance economic sickness
benefit benefits naive check truth covers contents headline methods method reproducibility files
configuration characteristic characteristics type kind judgement rule measured number distance width
score propensity
""".split())

#: words of the list that may appear because they are not prose: proper names and code identifiers.
#: (Identifiers with an underscore or a dot, file names and the TOML configuration block are removed
#: before the words are looked at: they are code the user writes, not text of the report.)
ALLOWED: frozenset[str] = frozenset()

EVALUATION = """\
seed = 0
lang = "sv"

[registers]
persons = "persons.csv"
spells = "spells.csv"
programme = "programme.csv"
benefits = "benefits.csv"
cutoff = "2022-10-31"

[outcomes.codes]
"11" = "event"
"12" = "event"
"13" = "event"
"14" = "event"
"15" = "event"
"31" = "event"
"80" = "competing"
"90" = "competing"

[design]
method = "riskset"
estimand = "join_vs_never"

[outcomes]
horizons = [90, 180, 365]

[monitoring]
participants = "participants.csv"
employments = "employments.csv"
households = "households.csv"
household_exits = "household_exits.csv"
start = "2022-01-01"
end = "2022-10-31"

[[goals]]
kind = "count"
name = "participants"
target = 4000

[[goals]]
kind = "share"
name = "needs_clarified"
target = 0.9
column = "joint_plan"
among = "outcome"
among_values = ["other"]

[[goals]]
kind = "gender_balance"
name = "gender_balance_participants"
tolerance = 0.10

[report]
out = "report"
title = "Malmökraften 2.0 (syntetiska data)"

[labels]
age = "Ålder i år"
gender.female = "Kvinnorna"
district.Fosie = "Fosie stadsområde"
born_abroad = { sv = "Utrikes född", en = "Born outside Sweden" }
"""


@pytest.fixture(scope="module")
def swedish(tmp_path_factory):
    """The report of a small evaluation file in Swedish; every figure's texts as the report drew it."""
    import impact.report._write as writer

    folder = tmp_path_factory.mktemp("sv")
    write_extract(simulate_extract(1200, random_state=3), folder)
    rec = simulate_monitoring(random_state=0, n_participants=600, n_hires_2022=250, n_ended_employments=250,
                              n_households=300)
    for name in ("participants", "employments", "households", "household_exits"):
        df = getattr(rec, name)
        if name == "households":
            df = df.assign(month=df["month"].astype(str))
        df.to_csv(folder / f"{name}.csv", index=False, date_format="%Y-%m-%d")
    (folder / "evaluation.toml").write_text(EVALUATION, encoding="utf-8")
    figures: list[tuple[str, list[str]]] = []
    original = writer.fig_to_img

    def spy(fig, alt):
        figures.append((alt, _figure_texts(fig)))
        return original(fig, alt)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(writer, "fig_to_img", spy)
        ev = run(folder / "evaluation.toml")
    return ev, ev.report_path.parent, figures


def _figure_texts(fig) -> list[str]:
    out = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        out += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        legend = ax.get_legend()
        if legend is not None:
            out += [t.get_text() for t in legend.get_texts()]
        out += [t.get_text() for t in ax.texts]
    return [t for t in out if t]


def _html_text(path) -> str:
    """The text a reader sees: tags stripped, style removed, the TOML configuration block removed
    (code), image alt texts kept."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"<style>.*?</style>", " ", text, flags=re.S)
    text = re.sub(r"<pre>.*?</pre>", " ", text, flags=re.S)
    text = re.sub(r'<img alt="([^"]*)"[^>]*>', r" \1 ", text)
    text = re.sub(r"<[^>]+>", " ", text)
    return htmllib.unescape(text)


def _english_words(text: str) -> list[str]:
    text = re.sub(r"\b[\w.-]+\.(?:csv|xlsx|html|toml)\b", " ", text)      # file names
    text = re.sub(r"\b\w+(?:\.\w+)+(?:\(\))?", " ", text)                 # result.unmatched, R's glm.fit
    text = re.sub(r"\b\w*_\w*\b", " ", text)                              # identifiers: join_vs_never
    words = [w for w in re.findall(r"\w+", text) if w.isalpha()]           # not 4be94763 (a fingerprint)
    return sorted({w for w in words if w.lower() in ENGLISH and w.lower() not in ALLOWED})


def _places(folder, figures) -> dict[str, str]:
    """Every text of the report by where it is: the HTML, each CSV's header, each sheet's headers and
    text cells (the methods sheet without its configuration lines), each figure."""
    places = {"report.html": _html_text(folder / "report.html")}
    for f in sorted(folder.glob("*.csv")):
        places[f"{f.name} (header)"] = " | ".join(pd.read_csv(f, nrows=0).columns)
    book = openpyxl.load_workbook(folder / "tables.xlsx")
    config = label("report_configuration", "sv") + ":"
    for ws in book.worksheets:
        cells = []
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "s" and c.value:
                    if ws.title == "methods" and c.value == config:
                        break
                    cells.append(str(c.value))
            else:
                continue
            break
        places[f"tables.xlsx sheet {ws.title}"] = " | ".join(cells)
    for alt, texts in figures:
        places[f"figure '{alt}'"] = " | ".join(texts)
    return places


# the Design files written next to the report by `impact run` (not by write_report) are outside this
# test: sensitivity_unknown.csv, cause_shares.csv, contamination.csv and unmatched.csv
_DESIGN_TABLES = {"sensitivity_unknown.csv", "cause_shares.csv", "contamination.csv", "unmatched.csv"}


def test_no_english_word_anywhere_in_the_swedish_report(swedish):
    _, folder, figures = swedish
    assert len(figures) >= 8   # Love plot, curves, forest, goals, five monitoring figures
    found = {}
    for where, text in _places(folder, figures).items():
        if where.split(" ")[0] in _DESIGN_TABLES:
            continue
        words = _english_words(text)
        if words:
            found[where] = words
    assert not found, "English in the Swedish report: " + "; ".join(f"{w}: {', '.join(v)}" for w, v in found.items())


def test_the_word_scanner_finds_english():
    """The scanner itself: it finds planted English and passes Swedish, identifiers and file names."""
    assert _english_words("Effekter för deltagare och kontrollpersoner") == []
    assert _english_words("se balance.csv och result.unmatched; join_vs_never") == []
    assert _english_words("0,2 (SD of the distance; width 0,004)") == ["distance", "of", "the", "width"]
    assert _english_words("Kvinnor men inte män") == []   # "men" is Swedish
    assert _english_words("fingeravtryck 4be947636dbebc9b") == []


def test_user_labels_from_the_toml_file_reach_the_html_and_the_csv(swedish):
    _, folder, figures = swedish
    text = _html_text(folder / "report.html")
    for shown in ("Ålder i år", "Kvinnorna", "Stadsområde: Fosie stadsområde", "Utrikes född"):
        assert shown in text, shown
    assert "ålder i år" in text    # the covariates in the methods text, lower-case initial
    assert "Född utomlands" not in text   # the built-in label the user's replaced
    balance = pd.read_csv(folder / "balance.csv")
    assert {"Ålder i år", "Stadsområde: Fosie stadsområde", "Utrikes född"} <= set(balance[label("covariate", "sv")])
    effects = pd.read_csv(folder / "effects.csv")
    assert {"Samtliga", "Kvinnorna", "Män", "Kvinnorna − män"} <= set(effects[label("subgroup", "sv")])
    love = next(texts for alt, texts in figures if alt == label("title_love_plot", "sv"))
    assert "Ålder i år" in love and "Stadsområde: Fosie stadsområde" in love
    assert "[labels]" in folder.joinpath("report.html").read_text(encoding="utf-8")   # in the configuration


def test_swedish_numbers_in_the_html(swedish):
    _, folder, _ = swedish
    raw = (folder / "report.html").read_text(encoding="utf-8")
    cells = [htmllib.unescape(c) for c in re.findall(r"<td[^>]*>([^<]*)</td>", raw)]
    numeric = [c for c in cells if re.fullmatch(r"[−\-+]?[\d\s\xa0\u202f,.]+( ?%)?( \[.*\])?", c)]
    assert numeric
    assert any(THOUSANDS_SV in c for c in numeric)                      # 2 000
    assert any(c.startswith(MINUS_SV) or f"[{MINUS_SV}" in c for c in numeric)   # −0,015
    assert not [c for c in numeric if re.search(r"\d \d{3}\b", c)]      # no ASCII space between thousands
    assert not [c for c in numeric if re.search(r"(^|[\[; ])-\d", c)]   # no hyphen as a minus
    assert not [c for c in numeric if re.search(r"\d\.\d", c)]          # no decimal point
    assert "person(er)" not in raw and "personer" in raw


def test_swedish_numbers_in_the_figures(swedish):
    """Tick labels of every figure: decimal comma, U+2212 minus (never '0.05' or '-0.1')."""
    _, _, figures = swedish
    ticks = [t for _, texts in figures for t in texts if re.fullmatch(r"[−\-]?[\d\xa0]+([.,]\d+)?", t)]
    assert any("," in t for t in ticks) and any(t.startswith(MINUS_SV) for t in ticks)
    assert not [t for t in ticks if "." in t or t.startswith("-")]


def test_csv_files_hold_real_numbers(swedish):
    _, folder, _ = swedish
    flow = pd.read_csv(folder / "flow.csv", na_values=[MARK])
    for col in flow.columns[2:]:
        assert pd.api.types.is_numeric_dtype(flow[col]), col
    assert flow.iloc[0, 2] == 1200          # a real number: 1200, not "1 200"
    for name in ("effects.csv", "headline.csv", "balance.csv", "naive_effects.csv"):
        df = pd.read_csv(folder / name, na_values=[MARK])
        assert pd.api.types.is_float_dtype(df[label("estimate", "sv") if name != "balance.csv"
                                              else label("smd_before", "sv")]), name
    horizons = pd.read_csv(folder / "headline.csv", dtype=str)[label("horizon", "sv")].dropna()
    assert set(horizons) == {"90", "180", "365"}     # whole days, not 90.0
    goals = pd.read_csv(folder / "goal_fulfilment.csv")
    assert goals[label("target", "sv")].iloc[0] == "4000" or float(goals[label("target", "sv")].iloc[0]) == 4000
    for name in ("monitoring_hires_by_subsidy.csv", "monitoring_outcomes_after_employment.csv",
                 "monitoring_to_work_or_studies.csv", "monitoring_households.csv"):
        df = pd.read_csv(folder / name, na_values=[MARK, label("missing", "sv")])
        for col in df.columns[1:]:
            assert pd.api.types.is_numeric_dtype(df[col]), (name, col)
    for name in ("monitoring_households.csv", "flow.csv", "effects.csv"):
        cells = pd.read_csv(folder / name, dtype=str, keep_default_na=False).to_numpy().ravel()
        numbers = [c for c in cells if re.fullmatch(r"[-−]?[\d\s\xa0.,]+", c)]
        assert numbers, name
        bad = [c for c in numbers if re.search(r"\d[\s\xa0]\d|\d,\d|−", c)]
        assert not bad, (name, bad[:5])   # no thousands separators, no decimal commas, ASCII minus


def test_workbook_cells_are_numbers_formatted_by_the_cell(swedish):
    _, folder, _ = swedish
    book = openpyxl.load_workbook(folder / "tables.xlsx")
    ws = book["flow"]
    counts = [c for row in ws.iter_rows(min_row=2, min_col=3) for c in row]
    assert counts and all(c.data_type == "n" or c.value == MARK for c in counts)
    assert {c.number_format for c in counts if c.data_type == "n"} == {"#,##0"}
    ws = book["headline"]
    values = [c for c in next(ws.iter_cols(min_col=4, max_col=4, min_row=2))]
    assert all(c.data_type == "n" and c.number_format == "0.000" for c in values if c.value is not None)
    hires = book["hires_by_subsidy"]
    published = pd.read_csv(folder / "monitoring_hires_by_subsidy.csv", dtype=str).to_numpy()
    grid = [[c.value for c in row] for row in hires.iter_rows(min_row=2)]
    hidden = 0
    for r, row in enumerate(grid):
        for k, v in enumerate(row[1:], start=1):
            if published[r, k] == MARK:
                assert v == MARK
                hidden += 1
            else:
                assert isinstance(v, (int, float)) and not isinstance(v, bool) and v == float(published[r, k])
    assert hidden, "the small records should have a withheld cell"
    changes = [c for row in book["households"].iter_rows(min_row=2, min_col=3) for c in row
               if c.data_type == "n" and c.value is not None]
    assert changes and all(c.number_format == "0.0%" and -1 < c.value < 1 for c in changes)
    goals = book["goal_fulfilment"]
    assert goals.cell(row=2, column=2).data_type == "n" and goals.cell(row=2, column=2).number_format == "#,##0"
    assert goals.cell(row=3, column=2).value == 0.9 and goals.cell(row=3, column=2).number_format == "0%"


def test_bad_labels_in_the_evaluation_file_name_the_key(tmp_path):
    p = tmp_path / "e.toml"
    p.write_text(textwrap.dedent("""\
        [data]
        path = "x.csv"
        [columns]
        id = "i"
        treatment = "t"
        start = "s"
        [labels]
        gender.K = ["Kvinnor"]
        """), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[labels\] gender\.K must be a text"):
        read_config(p)
    p.write_text('[data]\npath = "x.csv"\n[columns]\nid = "i"\ntreatment = "t"\nstart = "s"\n'
                 '[labels]\nage = "Ålder"\ngender.K = "Kvinnor"\n', encoding="utf-8")
    assert read_config(p).raw["labels"] == {"age": "Ålder", "gender": {"K": "Kvinnor"}}


def test_the_configuration_block_is_valid_toml():
    from impact.report._toml import to_toml
    raw = {"lang": "sv", "columns": {"exit_codes": {"arbete": "event", "övrigt": "competing", "01": "censored"}},
           "labels": {"age": "Ålder", "gender": {"K": "Kvinnor"}, "region": {"Utanför Europa": "Övriga"}}}
    assert tomllib.loads(to_toml(raw)) == raw


def test_numbers_of_the_swedish_and_english_csv_agree(swedish):
    """The Swedish CSV is the English one labelled: the same numbers (oracle: the evaluation's own table)."""
    ev, folder, _ = swedish
    effects = pd.read_csv(folder / "effects.csv")
    want = ev.effects.summary()
    got = effects[label("estimate", "sv")].to_numpy(dtype=float)
    shown = np.isfinite(got)
    assert shown.sum() > 10
    np.testing.assert_allclose(got[shown], want["estimate"].to_numpy(dtype=float)[shown], rtol=1e-12)


def test_labels_argument_is_layered_over_the_evaluation_file():
    """write_report(labels=...) over the [labels] of the evaluation's configuration (oracle: the rule
    stated in write_report's docstring: the argument wins where both name a key)."""
    from types import SimpleNamespace

    from impact.labels import with_user_labels
    from impact.report._write import _user_labels
    ev = SimpleNamespace(config={"labels": {"age": "Ålder", "gender": {"K": "Kvinnor"}}})
    both = _user_labels(ev, {"age": "Ålder i år"})
    assert both.text("age", "sv") == "Ålder i år" and both.code("gender", "K", "sv") == "Kvinnor"
    mapped = _user_labels(ev, with_user_labels({"education": "Utbildningsnivå"}))
    assert mapped.text("education", "sv") == "Utbildningsnivå" and mapped.text("age", "sv") == "Ålder"
    assert _user_labels(SimpleNamespace(config=None), None) is None
    assert _user_labels(ev, None).text("age", "en") == "Ålder"
