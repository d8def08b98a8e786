"""The evaluation report: one self-contained HTML file, every table as CSV, one Excel workbook.

The report only reads results; it never re-estimates. Every count of people is published with
small-cell suppression (cells under ``threshold`` people, 5 by default, and the cells that would
let a reader recalculate them), estimates for groups under the threshold are hidden, and no
identifier column ever reaches a table. Headings, table labels and the methods text come from
:mod:`impact.labels`, in Swedish or English.

Files written to the report folder:

============================  ===================================================================
``report.html``               everything, figures embedded as PNG: opens offline in any browser
``tables.xlsx``               every table on its own sheet (labelled), plus methods and settings
``<table>.csv``               every table, with stable snake_case columns (monitoring tables as
                              published, in the report's language)
============================  ===================================================================
"""

from __future__ import annotations

import base64
import html
import io
import json
import re
import platform
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from impact._validation import check_number, check_option
from impact.data import data_fingerprint
from impact.publish import MARK, balance_published, effects_published, scrub_counts, suppress_counts
from impact.labels import LANGS, has_label, label, relabel, subgroup_label
from impact.labels import format_month, format_number

__all__ = ["write_report", "REPORT_FILES"]

#: tables every report has (more follow from subgroups, goals and monitoring)
REPORT_FILES: tuple[str, ...] = ("report.html", "tables.xlsx", "headline.csv", "flow.csv", "balance.csv",
                                 "effects.csv", "naive_effects.csv", "settings.csv")


_CSS = """
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1.2em;color:#222;line-height:1.45}
h1{font-size:1.7em;margin-bottom:.2em}h2{font-size:1.3em;margin-top:2.2em;border-bottom:2px solid #1b6ca8;padding-bottom:.2em}
h3{font-size:1.05em;margin-top:1.6em}
.scroll{overflow-x:auto;max-width:100%;margin:.5em 0 1em 0}
table{border-collapse:collapse;font-size:.85em}
th,td{border:1px solid #d6d6d6;padding:.28em .6em;text-align:right;vertical-align:top}
th{background:#eef3f8;font-weight:600}
td{white-space:nowrap}td.text,th.text{text-align:left;white-space:normal}th{white-space:normal}
tbody tr:nth-child(even){background:#fafafa}
img{max-width:100%;height:auto;display:block;margin:.6em 0}
.note{color:#555;font-size:.9em;max-width:60em}.sub{color:#555;margin-top:0}
nav ol{columns:2;font-size:.92em}
.foot{color:#555;font-size:.82em;margin-top:3em;border-top:1px solid #ddd;padding-top:1em}
pre{background:#f6f6f6;padding:.8em;font-size:.85em;overflow-x:auto;white-space:pre-wrap;word-break:break-word}
.achieved{color:#2d6a36;font-weight:600}.partly_achieved{color:#9a6b00;font-weight:600}.not_achieved{color:#a12d3b;font-weight:600}
"""


# ----------------------------------------------------------------------------------------------
# helpers


def _fig_to_img(fig: Any, alt: str) -> str:
    import matplotlib.pyplot as plt
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _figure_of(axes: Any) -> Any:
    return np.atleast_1d(axes).ravel()[0].figure


_NUMERIC = re.compile(r"^[-−+]?[\d\s.,\xa0]+( ?%)?( \[[-−+\d\s.,;\xa0]+\])?$")


def looks_numeric(v: Any) -> bool:
    """Numbers, formatted numbers ('1 800', '-17,7 %'), intervals ('0.12 [0.10; 0.14]') and '..'."""
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        return True
    if isinstance(v, str):
        return v == MARK or bool(_NUMERIC.match(v.strip()))
    return False


def _cell(x: Any, lang: str, digits: int = 3) -> str:
    if x is None:
        return ""
    if isinstance(x, (bool, np.bool_)):
        return "✓" if x else "✗"
    if isinstance(x, (float, np.floating)):
        return "" if np.isnan(x) else format_number(float(x), lang, digits)  # type: ignore[arg-type]
    if isinstance(x, (int, np.integer)):
        return format_number(int(x), lang)  # type: ignore[arg-type]
    return str(x)


def _html_table(df: pd.DataFrame, lang: str, index: bool = False, digits: int = 3) -> str:
    """A table as HTML: numbers in the language's format, text columns left-aligned, scrollable."""
    shown = df.reset_index() if index else df
    numeric = [pd.api.types.is_numeric_dtype(shown[c]) and not pd.api.types.is_bool_dtype(shown[c])
               for c in shown.columns]
    whole = []
    for c, num in zip(shown.columns, numeric):
        v = shown[c].to_numpy(dtype=float) if num else np.array([np.nan])
        whole.append(bool(num and np.isfinite(v).any() and np.allclose(v[np.isfinite(v)] % 1, 0)))
    head = "".join(f"<th class='{'' if num else 'text'}'>{html.escape(str(c))}</th>"
                   for c, num in zip(shown.columns, numeric))
    rows = []
    for rec in shown.itertuples(index=False):
        cells = []
        for v, num, w in zip(rec, numeric, whole):
            cls = "" if num or looks_numeric(v) else "text"
            extra = f" {v}" if isinstance(v, str) and v in ("achieved", "partly_achieved", "not_achieved") else ""
            text = _cell(v, lang, 0 if w else digits)
            cells.append(f"<td class='{cls}{extra}'>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}"
            "</tbody></table></div>")


def _published_html(df: pd.DataFrame) -> str:
    """A table already published as strings (monitoring, goals): keep its index as the first column."""
    shown = df.reset_index()
    shown.columns = [str(c) for c in shown.columns]
    return _html_table(shown.astype(str).replace({"nan": ""}), "en")


def _versions() -> str:
    pkgs = ["impact", "numpy", "pandas", "scipy", "statsmodels", "lifelines", "scikit-learn", "matplotlib",
            "openpyxl"]
    out = [f"Python {platform.python_version()}"]
    for p in pkgs:
        try:
            out.append(f"{p} {metadata.version(p)}")
        except metadata.PackageNotFoundError:
            pass
    return ", ".join(out)


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + "}"
    return json.dumps(str(v), ensure_ascii=False)


def _to_toml(raw: dict) -> str:
    """The configuration written back as TOML (scalars first, then sections, then arrays of tables)."""
    raw = {k: v for k, v in raw.items() if v is not None}   # TOML has no null: unset keys are left out
    lines = [f"{k} = {_toml_value(v)}" for k, v in raw.items() if not isinstance(v, (dict, list)) or
             (isinstance(v, list) and not (v and isinstance(v[0], dict)))]
    for k, v in raw.items():
        if isinstance(v, dict):
            lines += ["", f"[{k}]"] + [f"{kk} = {_toml_value(vv)}" for kk, vv in v.items()]
    for k, v in raw.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            for item in v:
                lines += ["", f"[[{k}]]"] + [f"{kk} = {_toml_value(vv)}" for kk, vv in item.items()]
    return "\n".join(lines).strip() + "\n"


def _join(items: list[str], lang: str) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {label('and', lang)} " + items[-1]  # type: ignore[arg-type]


def _name(key: Any, lang: str) -> str:
    """The label of a key, or the key with spaces for underscores (column names in running text)."""
    return subgroup_label(key, lang)  # type: ignore[arg-type]


def _flow_labels(flow: pd.DataFrame, lang: str) -> pd.DataFrame:
    out = flow.copy()
    out["step"] = [_name(str(s).replace(" ", "_"), lang) if has_label(str(s).replace(" ", "_")) else s
                   for s in out["step"]]
    keys = ["reason_" + "_".join(str(r).split()) for r in out["reason"]]
    out["reason"] = [label(k, lang) if has_label(k) else r for k, r in zip(keys, out["reason"])]  # type: ignore[arg-type]
    return out


# ----------------------------------------------------------------------------------------------
# tables


def _compact_effects(pub: pd.DataFrame, lang: str, subgroup_name: str | None = None) -> pd.DataFrame:
    """Estimand and horizon down, subgroups across: 'estimate [ci_low; ci_high]'."""
    def fmt(r: Any) -> str:
        if not np.isfinite(r.estimate):
            return label("suppressed", lang) if pd.isna(r.estimate) else label("not_estimable", lang)  # type: ignore[arg-type]
        d = 1 if r.estimand.startswith("rmst") else 3
        f = lambda v: format_number(v, lang, d)  # type: ignore[arg-type]  # noqa: E731
        return f"{f(r.estimate)} [{f(r.ci_low)}; {f(r.ci_high)}]"
    t = pub.copy()
    t["value"] = [fmt(r) for r in t.itertuples()]
    t["row"] = [_name(e, lang) + ("" if pd.isna(h) else f", {h:g} " + ("dagar" if lang == "sv" else "days"))
                for e, h in zip(t["estimand"], t["horizon"])]
    order_rows = list(dict.fromkeys(t["row"]))
    order_cols = list(dict.fromkeys(t["subgroup"]))
    wide = t.pivot(index="row", columns="subgroup", values="value").reindex(index=order_rows, columns=order_cols)
    wide.columns = [_name(c, lang) for c in wide.columns]
    wide.index.name = label("estimand", lang)  # type: ignore[arg-type]
    return wide.fillna("")


def _headline(pub: pd.DataFrame, lang: str) -> pd.DataFrame:
    rows = pub[pub["estimand"].isin(["share_diff", "hazard_ratio"])]
    out: dict[str, dict[str, str]] = {}
    for r in rows.itertuples():
        col = ("hazard_ratio" if r.estimand == "hazard_ratio" else f"share_diff_{r.horizon:g}")
        if np.isfinite(r.estimate):
            f = lambda v: format_number(v, lang, 3)  # type: ignore[arg-type]  # noqa: E731
            text = f"{f(r.estimate)} [{f(r.ci_low)}; {f(r.ci_high)}]"
        else:
            text = label("suppressed", lang) if pd.isna(r.estimate) else label("not_estimable", lang)  # type: ignore[arg-type]
        out.setdefault(col, {})[r.subgroup] = text
    df = pd.DataFrame(out)
    df.index.name = "subgroup"
    return df.reset_index()


def _headline_labels(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    cols = {}
    for c in df.columns:
        if c.startswith("share_diff_"):
            cols[c] = label("share_diff_at", lang, horizon=c.rsplit("_", 1)[1])  # type: ignore[arg-type]
        else:
            cols[c] = _name(c, lang)
    out = df.rename(columns=cols)
    first = out.columns[0]
    out[first] = [_name(s, lang) for s in out[first]]
    return out


# ----------------------------------------------------------------------------------------------
# methods text


def _methods(evaluation: Any, flow_pub: pd.DataFrame, threshold: int, lang: str) -> list[str]:
    s = evaluation.settings
    roles = evaluation.roles
    paras = []
    exact = []
    for c in s.get("exact", []):
        if c == "start_period" and s.get("start_period"):
            exact.append(label(f"start_period_{s['start_period']}", lang))  # type: ignore[arg-type]
        else:
            exact.append(_name(c, lang).lower())
    covs = _join([_name(c, lang).lower() for c in s.get("covariates", [])], lang)
    exact_text = _join(exact, lang) or "-"
    if s.get("method") in ("nearest", "optimal"):
        caliper = s.get("caliper")
        cal = label("methods_no_caliper", lang) if caliper is None else format_number(caliper, lang, 2)  # type: ignore[arg-type]
        method = {"nearest": {"en": "nearest-neighbour", "sv": "närmaste granne"},
                  "optimal": {"en": "optimal", "sv": "optimal"}}[s["method"]][lang]
        repl = label("methods_with_replacement" if s.get("replace") else "methods_without_replacement", lang)  # type: ignore[arg-type]
        paras.append(label("methods_design", lang, ratio=s.get("ratio", 1), method=method, replace=repl,  # type: ignore[arg-type]
                           covariates=covs, caliper=cal, exact=exact_text))
    else:
        header = dict(getattr(evaluation.matching, "design_rows", lambda: [])())
        paras.append(label("methods_design_other", lang, method=header.get("method", s.get("method")),  # type: ignore[arg-type]
                           distance=header.get("distance", ""), covariates=covs, exact=exact_text))
    fl = flow_pub.set_index("step")
    treated_all = fl["treated"].iloc[0]
    paras.append(label("methods_sample", lang, n_treated=fl["treated"].iloc[-1], n_treated_all=treated_all,  # type: ignore[arg-type]
                       n_control=fl["control"].iloc[-1]))
    paras.append(label("methods_outcome", lang,  # type: ignore[arg-type]
                       clock=label(f"methods_clock_{s.get('clock', 'own')}", lang)))  # type: ignore[arg-type]
    horizons = _join([format_number(h, lang) for h in s.get("horizons", ())], lang)  # type: ignore[arg-type]
    paras.append(label("methods_effects", lang, horizons=horizons,  # type: ignore[arg-type]
                       subgroup=_name(roles.subgroup, lang).lower() if roles.subgroup else "-"))
    if s.get("se_method") == "bootstrap":
        se = label("methods_se_bootstrap", lang, n_boot=s.get("n_boot"))  # type: ignore[arg-type]
    else:
        se = label("methods_se_influence", lang)  # type: ignore[arg-type]
    level = f"{s.get('conf_level', 0.95):.0%}".replace("%", " %" if lang == "sv" else "%")
    paras.append(label("methods_uncertainty", lang, level=level, se_method=se))  # type: ignore[arg-type]
    if evaluation.goals is not None:
        paras.append(label("methods_goals", lang))  # type: ignore[arg-type]
    paras.append(label("methods_suppression", lang, threshold=threshold))  # type: ignore[arg-type]
    return paras


# ----------------------------------------------------------------------------------------------
# the report


def write_report(evaluation: Any, folder: str | Path, *, title: str = "Programme evaluation",
                 threshold: int = 5, lang: str | None = None, excel: bool = True) -> Path:
    """Write the report of an evaluation into ``folder``; return the path of ``report.html``.

    Writes ``report.html`` (self-contained: figures embedded, no external files), every table as
    CSV and, with ``excel=True``, one workbook ``tables.xlsx`` with a sheet per table and one
    with the methods and settings.

    Parameters
    ----------
    evaluation : Evaluation
        The result of :func:`impact.evaluate` (or :func:`impact.run`).
    folder : str or Path
        Created if it does not exist; files in it with the same names are replaced.
    title : str
        Title of the report.
    threshold : int
        Smallest count of people shown; smaller counts (and those that would reveal them) are
        replaced by ``".."``, and estimates for groups under it are hidden.
    lang : {"en", "sv"}, optional
        Language of the report; default the evaluation's (``evaluate(..., lang=)``).
    excel : bool
        Also write ``tables.xlsx`` (needs openpyxl, a dependency of impact).

    Returns
    -------
    Path

    Examples
    --------
    >>> import impact, tempfile, pathlib
    >>> sim = impact.simulate(n_pool=3000, random_state=4)
    >>> ev = impact.evaluate(sim.registers, sim.roles, truth=sim.truth)
    >>> path = write_report(ev, tempfile.mkdtemp(), lang="sv")
    >>> path.name, (path.parent / "tables.xlsx").exists(), (path.parent / "effects.csv").exists()
    ('report.html', True, True)
    >>> "Huvudresultat" in path.read_text(encoding="utf-8")
    True
    """
    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from impact.plotting import plot_effect_curves, plot_forest

    lang = lang or getattr(evaluation, "lang", "en")
    check_option("lang", lang, LANGS, "write_report")
    check_number("threshold", threshold, "write_report", low=1, integer=True)
    L = lambda key, **kw: label(key, lang, **kw)  # type: ignore[arg-type]  # noqa: E731
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    roles = evaluation.roles
    eff = evaluation.effects
    s = evaluation.settings
    csv: dict[str, pd.DataFrame] = {}       # name -> tidy table (snake_case), as published
    sheets: dict[str, pd.DataFrame] = {}    # name -> labelled table for the workbook
    sections: list[tuple[str, str, str]] = []   # (anchor, heading, html)

    # flow ------------------------------------------------------------------------------------
    flow = evaluation.flow.table().drop(columns=["dropped"]).reset_index()
    count_cols = [c for c in ["all", "treated", "control"] if c in flow.columns]
    flow_pub = flow.copy()
    # steps are not additive (no row total); "all" is the total of treated and control
    flow_pub[count_cols] = suppress_counts(flow[count_cols], threshold, total_col="all", hidden_totals="ignore",
                                           fmt=lambda v: format_number(v, lang)).astype(str).to_numpy()  # type: ignore[arg-type]
    csv["flow"] = flow_pub
    flow_shown = relabel(_flow_labels(flow_pub, lang), lang, values=False)  # type: ignore[arg-type]
    sheets["flow"] = flow_shown

    # effects ---------------------------------------------------------------------------------
    effects_pub = effects_published(eff.summary(), threshold)
    csv["effects"] = effects_pub
    sheets["effects"] = relabel(effects_pub, lang)  # type: ignore[arg-type]
    head = _headline(effects_pub, lang)
    csv["headline"] = head
    head_shown = _headline_labels(head, lang)
    sheets["headline"] = head_shown
    level = f"{eff.conf_level:.0%}".replace("%", " %" if lang == "sv" else "%")

    parts = [_html_table(head_shown, lang),
             f"<p class='note'>{html.escape(L('report_note_headline', level=level))}</p>"]
    sections.append(("headline", L("report_headline"), "".join(parts)))

    sections.append(("flow", L("report_flow"), _html_table(flow_shown, lang) +
                     f"<p class='note'>{html.escape(L('report_note_flow', threshold=threshold, mark=MARK))}</p>"))

    # design and balance ----------------------------------------------------------------------
    bal = evaluation.balance()
    tr = evaluation.roles.treatment
    sizes = {("treated", "before"): int((evaluation.validated.data[tr] == 1).sum()),
             ("control", "before"): int((evaluation.validated.data[tr] == 0).sum()),
             ("treated", "after"): int((evaluation.analysed[tr] == 1).sum()),
             ("control", "after"): int((evaluation.analysed[tr] == 0).sum())}
    bal_pub = balance_published(bal.summary() if hasattr(bal, "summary") else pd.DataFrame(bal), sizes, threshold)
    csv["balance"] = bal_pub
    shown_cols = [c for c in ["covariate", "type", "smd_before", "smd_after", "var_ratio_before", "var_ratio_after",
                              "ecdf_max_before", "ecdf_max_after"] if c in bal_pub.columns]
    bal_shown = relabel(bal_pub[shown_cols], lang, values=False)  # type: ignore[arg-type]
    sheets["balance"] = relabel(bal_pub, lang, values=False)  # type: ignore[arg-type]
    parts = []
    header = getattr(evaluation.matching, "design_rows", None)
    if callable(header):
        rows = [(k, v) for k, v in header() if k != "number of obs."]
        parts.append(_html_table(pd.DataFrame(rows, columns=[L("setting"), L("value")]), lang))
    bal = evaluation.balance()
    if hasattr(bal, "plot"):
        parts.append(_fig_to_img(_figure_of(bal.plot()), "Love plot"))
    parts.append(_html_table(bal_shown, lang))
    parts.append(f"<p class='note'>{html.escape(L('report_note_balance'))}</p>")
    sections.append(("design", L("report_design"), "".join(parts)))

    # effects ---------------------------------------------------------------------------------
    parts = [_fig_to_img(_figure_of(plot_effect_curves(eff.curves, lang=lang)), "curves"),
             _fig_to_img(_figure_of(plot_forest(effects_pub, lang=lang)), "forest plot"),
             _html_table(_compact_effects(effects_pub, lang), lang, index=True),
             f"<p class='note'>{html.escape(L('report_note_effects', threshold=threshold))}</p>"]
    naive = effects_published(evaluation.naive.summary(), threshold)
    naive = naive[naive["estimand"].isin(["share_diff", "hazard_ratio"])].reset_index(drop=True)
    csv["naive_effects"] = naive
    sheets["naive_effects"] = relabel(naive, lang)  # type: ignore[arg-type]
    parts.append(f"<h3>{html.escape(L('report_naive'))}</h3>")
    parts.append(_html_table(_compact_effects(naive, lang), lang, index=True))
    parts.append(f"<p class='note'>{html.escape(L('report_note_naive'))}</p>")
    sections.append(("effects", L("report_effects"), "".join(parts)))

    for col, res in getattr(evaluation, "subgroup_effects", {}).items():
        pub = effects_published(res.summary(), threshold)
        name = f"effects_by_{col}"
        csv[name] = pub.assign(subgroup_column=col)
        sheets[name[:31]] = relabel(pub, lang)  # type: ignore[arg-type]
        sg = _name(col, lang).lower()
        keep = pub[pub["estimand"].isin(["share_diff", "hazard_ratio"])]
        sections.append((name, L("report_effects_by", subgroup=sg),
                         _html_table(_compact_effects(keep, lang), lang, index=True) +
                         f"<p class='note'>{html.escape(L('report_note_effects', threshold=threshold))}</p>"))

    if evaluation.truth is not None:
        truth = evaluation.truth
        est = effects_pub[effects_pub["estimand"].isin(["share_diff", "hazard_ratio"])]
        cmp = est.merge(truth.rename(columns={"value": "true_value"}), on=["subgroup", "estimand", "horizon"],
                        how="inner")[["subgroup", "estimand", "horizon", "true_value", "estimate", "ci_low", "ci_high"]]
        cmp["covered"] = (cmp["ci_low"] <= cmp["true_value"]) & (cmp["true_value"] <= cmp["ci_high"])
        csv["truth_check"] = cmp
        sheets["truth_check"] = relabel(cmp, lang)  # type: ignore[arg-type]
        sections.append(("truth", L("report_truth"), _html_table(relabel(cmp, lang), lang) +  # type: ignore[arg-type]
                         f"<p class='note'>{html.escape(L('report_data_note'))}</p>"))

    # goals -----------------------------------------------------------------------------------
    notes: list[str] = list(getattr(evaluation.matching, "notes", ()))
    if hasattr(bal, "notes"):
        notes += list(bal.notes)
    notes += list(eff.notes)
    if evaluation.goals is not None:
        g = evaluation.goals
        pub = g.published(lang, threshold)
        csv["goal_fulfilment"] = pub.reset_index()
        sheets["goal_fulfilment"] = pub.reset_index()
        body = _published_html(pub)
        for key in ("achieved", "partly_achieved", "not_achieved"):  # colour the judgements
            body = body.replace(f"<td class='text'>{html.escape(L(key))}</td>",
                                f"<td class='text {key}'>{html.escape(L(key))}</td>")
        body += _fig_to_img(g.plot(lang=lang).figure, "goal fulfilment")
        sections.append(("goals", L("title_goal_fulfilment"), body))
        notes += list(g.notes)

    # monitoring ------------------------------------------------------------------------------
    mon = getattr(evaluation, "monitoring", {}) or {}
    if mon:
        parts = []
        titles = {"to_work_or_studies": "title_to_work_or_studies",
                  "outcomes_after_employment": "title_outcomes_after_employment",
                  "hires_by_subsidy": "title_hires_by_subsidy", "households": "title_households",
                  "household_exits": "report_household_exits"}
        for name, res in mon.items():
            pub = res.published(lang, threshold)
            csv[f"monitoring_{name}"] = pub.reset_index()
            sheets[name[:31]] = pub.reset_index()
            parts.append(f"<h3>{html.escape(L(titles.get(name, name)) if has_label(titles.get(name, '')) else name)}</h3>")
            if name == "households":
                change = res.change_text(lang=lang)
                if change:
                    month = format_month(res.table.index.max(), lang)  # type: ignore[arg-type]
                    parts.append(f"<p><b>{html.escape(month)}</b>: {html.escape(change)}</p>")
                parts.append(_fig_to_img(res.plot(lang=lang, threshold=threshold).figure, name))
                shown = pub.tail(24)
            else:
                try:
                    parts.append(_fig_to_img(res.plot(lang=lang, threshold=threshold).figure, name))
                except Exception:  # a table too sparse to draw is still published  # pragma: no cover
                    plt.close("all")
                shown = pub
            parts.append(_published_html(shown))
            notes += list(res.notes)
        parts.append(f"<p class='note'>{html.escape(L('suppressed_note', mark=MARK, threshold=threshold))}</p>")
        sections.append(("monitoring", L("report_monitoring"), "".join(parts)))

    # methods ---------------------------------------------------------------------------------
    methods = _methods(evaluation, flow_pub, threshold, lang)
    parts = [f"<p>{html.escape(p)}</p>" for p in methods]
    parts.append(f"<h3>{html.escape(L('report_technical_notes'))}</h3><ul>")
    notes = [scrub_counts(str(n), threshold) for n in dict.fromkeys(notes)]
    parts += [f"<li>{html.escape(n)}</li>" for n in notes]
    parts.append("</ul>")
    sections.append(("methods", L("report_methods"), "".join(parts)))

    # settings and reproducibility ------------------------------------------------------------
    now = datetime.now(timezone.utc)
    fingerprints = dict(s.get("fingerprints") or {})
    if not fingerprints:
        fingerprints = {"data": data_fingerprint(evaluation.validated.data, exclude=[roles.id])}
    config = getattr(evaluation, "config", None)
    settings_rows = [(k, json.dumps(v, ensure_ascii=False, default=str)) for k, v in s.items()
                     if k not in ("fingerprints", "report")]
    settings_rows += [("roles", json.dumps({k: v for k, v in vars(roles).items()}, ensure_ascii=False, default=str)),
                      ("threshold", str(threshold)), ("title", title), ("versions", _versions()),
                      ("generated_utc", f"{now:%Y-%m-%d %H:%M}")]
    settings_rows += [(f"fingerprint_{k}", v) for k, v in fingerprints.items()]
    settings_df = pd.DataFrame(settings_rows, columns=["setting", "value"])
    csv["settings"] = settings_df
    config_text = _to_toml(config) if config else _to_toml({k: v for k, v in s.items() if k != "fingerprints"})
    files = ["tables.xlsx"] * excel + [f"{n}.csv" for n in csv]
    links = " · ".join(f"<a href='{html.escape(f)}'>{html.escape(f)}</a>" for f in files)
    sections.append(("files", L("report_files"), f"<p>{links}</p>"))
    foot = [f"<h2 id='reproducibility'>{html.escape(L('report_reproducibility'))}</h2>",
            f"<p>{html.escape(L('footer', when=f'{now:%Y-%m-%d %H:%M}', versions=_versions(), seed=s.get('random_state'), hash=fingerprints.get('data', '')))}</p>",
            f"<p>{html.escape(L('report_fingerprints'))}: " +
            ", ".join(f"{html.escape(k)} <code>{html.escape(v)}</code>" for k, v in fingerprints.items()) + "</p>",
            f"<p>{html.escape(L('report_configuration'))}:</p><pre>{html.escape(config_text)}</pre>"]

    # assemble --------------------------------------------------------------------------------
    nav = "".join(f"<li><a href='#{a}'>{html.escape(h)}</a></li>" for a, h, _ in sections)
    nav += f"<li><a href='#reproducibility'>{html.escape(L('report_reproducibility'))}</a></li>"
    body = [f"<h1>{html.escape(title)}</h1>",
            f"<p class='sub'>{now:%Y-%m-%d}</p>",
            f"<nav><h2>{html.escape(L('report_contents'))}</h2><ol>{nav}</ol></nav>"]
    body += [f"<section><h2 id='{a}'>{html.escape(h)}</h2>{content}</section>" for a, h, content in sections]
    body.append(f"<footer class='foot'>{''.join(foot)}</footer>")
    page = (f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>{''.join(body)}</body></html>")
    path = folder / "report.html"
    path.write_text(page, encoding="utf-8")
    for name, df in csv.items():
        df.to_csv(folder / f"{name}.csv", index=False)
    if excel:
        about = pd.DataFrame({L("report_methods"): methods + ["", L("report_technical_notes") + ":"] + notes +
                              ["", L("report_configuration") + ":"] + config_text.splitlines()})
        sheets["settings"] = relabel(settings_df, lang)  # type: ignore[arg-type]
        _write_workbook(folder / "tables.xlsx", {"methods": about, **sheets})
    plt.close("all")
    return path


def _write_workbook(path: Path, sheets: dict[str, pd.DataFrame]) -> None:
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, df in sheets.items():
            out = df.copy()
            out.columns = [str(c) for c in out.columns]
            out.to_excel(writer, sheet_name=name[:31], index=False)
            ws = writer.sheets[name[:31]]
            for k, col in enumerate(out.columns):
                width = max([len(str(col))] + [len(str(v)) for v in out[col].head(200)])
                ws.column_dimensions[ws.cell(row=1, column=k + 1).column_letter].width = min(max(width + 2, 8), 80)
