"""Print and figures: the report prints to A4 without clipped tables, and every chart says what it shows.

Oracles: the CSS rules themselves (an ``@page`` of size A4; every rule that scrolls or hides overflow
on screen is made visible in print; cells wrap in print; a page break before every section but the
summary); the HTML (every <img> has a non-empty alt; the summary comes first); and the matplotlib
Axes of every figure the report makes (a non-empty title; every legend entry has a label and
something drawn behind it). The look of the printed pages was checked by hand with headless
Chromium (``--print-to-pdf``), which is too slow for the suite.
"""

from __future__ import annotations

import html
import re

import numpy as np
import pytest

import impact
from impact.cli import DEMO_GOALS
from impact.plotting import plot_effect_curves, plot_forest
from impact.report import _write as report_write
from impact.report import write_report
from impact.report._html import _CSS, _titles, fig_to_img
from impact.survival import aalen_johansen, kaplan_meier, plot_cif, plot_survival
from impact.synthetic import simulate_monitoring


def _rules(css: str) -> list[tuple[str, str]]:
    """``(selector, declarations)`` of every rule in ``css`` (no nesting)."""
    return [(sel.strip(), body) for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css)]


def _print_block(css: str) -> str:
    start = css.index("@media print{")
    depth, i = 0, start
    for i in range(start + len("@media print"), len(css)):
        depth += {"{": 1, "}": -1}.get(css[i], 0)
        if depth == 0:
            break
    return css[start + len("@media print{"):i]


def test_print_css_is_a4_with_nothing_clipped_and_a_page_per_section():
    assert re.search(r"@page\{[^}]*size:A4", _CSS)
    printed = _print_block(_CSS)
    screen = _CSS.replace(printed, "")
    in_print = _rules(printed)
    # every element that scrolls or clips on screen is visible in print
    clipping = {s for sel, body in _rules(screen) if re.search(r"overflow(-x|-y)?:(auto|scroll|hidden)", body)
                for s in sel.split(",")}
    assert clipping >= {".scroll", "pre"}
    for sel in clipping:
        assert any(sel in s.split(",") and re.search(r"overflow:visible", b) for s, b in in_print), sel
    assert not any(re.search(r"overflow(-x|-y)?:(auto|scroll|hidden)", b) for _, b in in_print)
    # wide tables wrap instead of running off the page
    assert any("td" in s.split(",") and "white-space:normal" in b for s, b in in_print)
    assert any("table" in s.split(",") and "max-width:100%" in b for s, b in in_print)
    # ... at spaces between words, never inside a number ("20 000" split as "20 00" / "0")
    assert not re.search(r"overflow-wrap:anywhere|word-break:break-all", _CSS)
    assert not any(s == "td" and "overflow-wrap" in b for sel, b in in_print for s in sel.split(","))
    # a page break before each section, not before the summary (headline + key table on page 1)
    assert any("section" in s.split(",") and "break-before:page" in b for s, b in in_print)
    assert any(s == "section.summary" and "break-before:auto" in b for s, b in in_print)
    assert any(s == "nav" and "display:none" in b for s, b in in_print)


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A report with every kind of figure (balance, curves, forest, goals, monitoring), with the
    figures kept: the PNGs are not rendered (the slow part), the alt text is the real one."""
    sim = impact.simulate(n_pool=1500, random_state=4)
    rec = simulate_monitoring(random_state=0, n_participants=1200, n_households=600)
    ev = impact.evaluate(sim.registers, sim.roles, random_state=0, goals=DEMO_GOALS, monitoring=rec,
                         monitoring_start="2022-01-01", monitoring_end="2022-10-31")
    figures: dict[str, object] = {}

    def keep(fig, alt):
        figures[f"{alt} #{len(figures)}"] = fig
        return f'<img alt="{html.escape(_titles(fig) or alt)}" src="data:image/png;base64,">'

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(report_write, "fig_to_img", keep)
        path = write_report(ev, tmp_path_factory.mktemp("print"), excel=False)
    return path.read_text(encoding="utf-8"), figures


def test_the_page_has_the_print_css_and_every_image_an_alt(made):
    page, figures = made
    assert "@media print" in page and re.search(r"@page\{[^}]*size:A4", page)
    imgs = re.findall(r"<img\b[^>]*>", page)
    assert len(imgs) == len(figures) >= 8
    for tag in imgs:
        alt = re.search(r'alt="([^"]*)"', tag)
        assert alt is not None and alt.group(1).strip(), tag
    first = page.index("<section")
    assert page[first:].startswith("<section class='summary'>") and first < page.index("<nav>")


def test_fig_to_img_alt_is_the_figure_title():
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    ax.set_title("Households per month")
    assert 'alt="Households per month"' in fig_to_img(fig, "households")
    fig, _ = plt.subplots()
    assert 'alt="fallback"' in fig_to_img(fig, "fallback")


def _drawn(handle) -> bool:
    """Something is drawn behind a legend entry: a finite point of a line, a bar, a marker."""
    from matplotlib.collections import Collection
    from matplotlib.container import BarContainer
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    if isinstance(handle, Line2D):
        return bool(np.isfinite(np.asarray(handle.get_ydata(), dtype=float)).any())
    if isinstance(handle, BarContainer):
        return any(np.isfinite(p.get_height()) and p.get_height() != 0 for p in handle.patches)
    if isinstance(handle, Collection):
        off = np.asarray(handle.get_offsets(), dtype=float)
        return bool(off.size and np.isfinite(off).all(axis=1).any()) or bool(handle.get_paths())
    if isinstance(handle, Patch):
        return True
    return True


def _problems(fig, must_say: str) -> list[str]:
    out = []
    titles = [fig.get_suptitle()] + [a.get_title() for a in fig.axes]
    if not any(t.strip() for t in titles):
        out.append("no title")
    elif must_say.lower() not in " ".join(titles).lower():
        out.append(f"title {titles} does not say {must_say!r}")
    for a in fig.axes:
        for h, lab in zip(*a.get_legend_handles_labels()):
            if not str(lab).strip():
                out.append("legend entry without a label")
            elif not _drawn(h):
                out.append(f"legend entry {lab!r} with nothing drawn")
    return out


# what the titles of the report's figures must say: one figure for each (the report passes its
# section heading or the figure's name as the alt text, so figures are found by their titles)
_FIGURES = {"curves": "share in work or studies", "forest plot": "effects",
            "goal fulfilment": "goal", "outcomes_after_employment": "employment",
            "hires_by_subsidy": "subsidy", "households": "households",
            "to_work_or_studies": "work and studies",
            "Love plot": "balance",
            "household_exits": "households leaving"}


def _title_text(fig) -> str:
    return " ".join([fig.get_suptitle()] + [a.get_title() for a in fig.axes]).lower()


@pytest.mark.parametrize("name", list(_FIGURES))
def test_every_report_figure_is_titled_for_what_it_shows_without_empty_legend_entries(made, name):
    _, figures = made
    matching = [f for f in figures.values() if _FIGURES[name].lower() in _title_text(f)]
    assert matching, (name, [_title_text(f) for f in figures.values()])
    for fig in matching:
        assert _problems(fig, _FIGURES[name]) == []


def test_no_report_figure_is_untitled_or_has_an_empty_legend_entry(made):
    _, figures = made
    for alt, fig in figures.items():
        assert _problems(fig, "") == [], alt


def test_own_plots_titled_and_legends_filled():
    import pandas as pd
    curves = pd.DataFrame({"subgroup": ["all"] * 4 + ["female"] * 4, "arm": ["treated", "treated", "control",
                                                                             "control"] * 2,
                           "time": [0, 100] * 4, "estimate": [0, 0.3, 0, 0.2] * 2})
    table = pd.DataFrame({"subgroup": ["all", "female"], "estimand": "hazard_ratio", "horizon": float("nan"),
                          "estimate": [1.2, float("nan")], "ci_low": [1.1, float("nan")],
                          "ci_high": [1.3, float("nan")]})
    for lang, words in (("en", "share in work or studies"), ("sv", "andel i arbete eller studier")):
        axes = plot_effect_curves(curves, lang=lang)
        assert _problems(axes[0].figure, words) == []
    assert _problems(plot_forest(table, lang="sv").figure, "konfidensintervall") == []
    import matplotlib.pyplot as plt
    _, ax = plt.subplots()
    plot_effect_curves(curves[curves["subgroup"] == "all"], ax=ax)   # an Axes of the user's: titled too
    assert ax.get_title() == "Share in work or studies, participants and matched controls"
    rng = np.random.default_rng(0)
    t, e = rng.exponential(10, 60), rng.integers(0, 2, 60)
    ax = plot_survival(kaplan_meier(t, e), at_risk=False)           # one unlabelled curve: no legend
    assert ax.get_legend() is None and _problems(ax.figure, "kaplan-meier") == []
    cause = np.where(e == 1, "work", "censored")
    ax = plot_cif(aalen_johansen(t, cause), causes={"": "work"})     # an unlabelled cause: no empty entry
    assert ax.get_legend() is None and _problems(ax.figure, "cumulative incidence") == []
    plt.close("all")
