"""Outputs that are safe to open (issue 11, point 6).

Payloads go in through a subgroup column name, its category labels, goal names and texts, the
title and a TOML string of the configuration. Oracles: an HTML parser (no ``<script>`` element, no
``on*`` attribute, every ``id`` made of ``[a-z0-9_-]``); the CSV module and openpyxl (no cell a
spreadsheet would run as a formula, numbers -- negative ones too -- stored as numbers); the file
system (every file sits in the report folder, none in a sub-folder made from a ``/``).
"""

from __future__ import annotations

import csv
import dataclasses
import re
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest

import impact
from impact.report import write_report
from impact.report._safe import anchor, file_stem, neutralise, sheet_name
from impact.synthetic import simulate_monitoring

COLUMN = "x'><script>alert(1)</script>/[a]"
LABELS = {"Sweden": '=HYPERLINK("http://evil.example","x")', "Europe": "<img src=x onerror=alert(2)>",
          "Outside Europe": "@SUM(1+1)*cmd|' /C calc'!A0"}
TITLE = "<script>alert('title')</script>"
GOALS = [{"kind": "count", "name": "<b onmouseover=alert(4)>g</b>", "target": 10, "text": "=1+2 target {target}"},
         {"kind": "manual", "name": "-2+3+cmd|' /C calc'!A0", "judgement": "achieved"},
         {"kind": "manual", "name": "\tTAB", "judgement": "achieved"}]
CONFIG = {"report": {"title": "</pre><script>alert(5)</script>", "out": "+SUM(A1)"}}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"^[-−+]?\d[\d\s.,\xa0]*( ?%)?( \[[-−+]?\d[\d\s.,\xa0]*( ?%)?; ?[-−+]?\d[\d\s.,\xa0]*( ?%)?\])?$")


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    sim = impact.simulate(n_pool=1500, random_state=4)
    reg = sim.registers.copy()
    reg[COLUMN] = reg["region_of_birth"].map(LABELS)
    ev = impact.evaluate(reg, sim.roles, truth=sim.truth, subgroups=[COLUMN], goals=GOALS,
                         monitoring=simulate_monitoring(random_state=0), monitoring_start="2022-01-01",
                         monitoring_end="2022-10-31", random_state=0)
    ev = dataclasses.replace(ev, config=CONFIG)
    out = tmp_path_factory.mktemp("safety") / "report"
    write_report(ev, out, title=TITLE)
    return out


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, attrs))


def test_html_has_no_live_payload(folder):
    text = (folder / "report.html").read_text(encoding="utf-8")
    parser = _Tags()
    parser.feed(text)
    names = [t for t, _ in parser.tags]
    assert "script" not in names
    assert names.count("img") == sum(1 for _, a in parser.tags if dict(a).get("src", "").startswith("data:image/png"))
    attrs = [(k, v) for _, a in parser.tags for k, v in a]
    assert not [k for k, _ in attrs if k.startswith("on")]
    ids = [v for k, v in attrs if k == "id"]
    assert ids and all(re.fullmatch(r"[a-z0-9_-]+", v or "") for v in ids)
    assert len(ids) == len(set(ids))
    hrefs = [v for k, v in attrs if k == "href"]
    assert all(h[1:] in ids for h in hrefs if h.startswith("#"))
    # the payloads are shown, as text
    assert "&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt;" in text
    assert "&lt;/pre&gt;&lt;script&gt;alert(5)" in text


def _csv_cells(folder: Path):
    for f in sorted(folder.glob("*.csv")):
        with open(f, newline="", encoding="utf-8") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    yield f.name, cell


def test_csv_cells_cannot_run_as_formulas(folder):
    cells = list(_csv_cells(folder))
    live = [(f, c) for f, c in cells if c.startswith(FORMULA_START) and not NUMBER.match(c)]
    assert not live
    assert any(c.startswith("'=HYPERLINK") for _, c in cells)   # the payload is there, neutralised
    assert any(c.startswith("'-2+3+cmd") for _, c in cells)
    assert any(c.startswith("'@SUM") for _, c in cells)
    # numbers stay numbers: negative estimates are written as plain numbers
    negatives = [c for f, c in cells if f == "effects.csv" and c.startswith("-")]
    assert negatives and all(float(c) < 0 for c in negatives)


def test_workbook_has_no_formula_and_numbers_stay_numbers(folder):
    book = openpyxl.load_workbook(folder / "tables.xlsx")
    strings, numbers = [], []
    for ws in book.worksheets:
        assert not re.search(r"[\[\]:*?/\\]", ws.title)
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    strings.append(cell.value)
                elif isinstance(cell.value, (int, float)):
                    numbers.append(cell.value)
    assert not [s for s in strings if s.startswith(FORMULA_START) and not NUMBER.match(s)]
    assert any(s.startswith("'=HYPERLINK") for s in strings)
    assert any(v < 0 for v in numbers)


def test_file_names_from_column_names_are_safe(folder):
    entries = list(folder.iterdir())
    assert all(p.is_file() for p in entries)
    made = [p.name for p in entries if p.name.startswith("effects_by_")]
    assert made == ["effects_by_x_script_alert_1_script_a.csv"]


def test_goal_text_cannot_reach_attributes(tmp_path):
    sim = impact.simulate(n_pool=600, random_state=4)
    goals = [{"kind": "count", "name": "g", "target": 10, "text": "{target.__class__.__mro__}"}]
    ev = impact.evaluate(sim.registers, sim.roles, goals=goals, monitoring=simulate_monitoring(random_state=0),
                         random_state=0)
    text = write_report(ev, tmp_path / "r", excel=False).read_text(encoding="utf-8")
    shown = ev.goals.published("en", 5).index[0]
    assert shown == "{target.__class__.__mro__}"  # kept as written, never evaluated
    assert "<class" not in shown and "&lt;class" not in text


def test_helpers():
    used: set[str] = set()
    assert anchor("effects_by_a'><x", used) == "effects_by_a_x"
    assert anchor("effects_by_a'><x", used) == "effects_by_a_x_2"
    assert file_stem("../../etc/passwd", set()) == "etc_passwd"
    assert sheet_name("a/b[c]:*?" + "z" * 40, set()) == ("a_b_c____" + "z" * 40)[:31]
    import pandas as pd
    df = pd.DataFrame({"=x": ["=1+1", "-17,7 %", "-0.12 [-0.2; 0.1]", "@a", "plain"], "n": [-1, 2, 3, 4, 5]})
    out = neutralise(df)
    assert list(out.columns) == ["'=x", "n"]
    assert out["'=x"].tolist() == ["'=1+1", "-17,7 %", "-0.12 [-0.2; 0.1]", "'@a", "plain"]
    assert out["n"].dtype == df["n"].dtype and out["n"].tolist() == [-1, 2, 3, 4, 5]
    assert df.columns[0] == "=x"  # the input is not changed
