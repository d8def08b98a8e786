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
``<table>.csv``               every table: in an English report with stable snake_case columns
                              and codes, in a Swedish one labelled in Swedish (as its sheet);
                              monitoring and goal tables as published, in the report's language
============================  ===================================================================

CSV files and the workbook hold real numbers: no thousands separators, no rounding to text, and
in CSV a ``.`` as decimal mark with ``,`` between fields (in every language: open ``tables.xlsx``
in a Swedish Excel, or read the CSV with ``sep=","``, ``decimal="."``); the workbook's cells are
numbers whose look is the cell's number format only (``#,##0``, ``0.000``, ``0.0%``), so Excel
can sum them. Withheld cells hold the withheld mark ``..`` as text. The HTML shows every number as
its language writes it (Swedish: a no-break space between thousands, U+2212 minus, decimal comma).
User labels (``labels=``, or ``[labels]`` of the evaluation file) name covariates and codes
everywhere: tables, methods text, figures and the CSV of a Swedish report.
"""

from __future__ import annotations

import html
import json
import os
from datetime import datetime, timezone
from functools import partial
from numbers import Integral
from pathlib import Path
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any, cast

import pandas as pd

from impact._errors import ImpactError
from impact._validation import InstanceOf, Interval, Options, check_params, validate_params
from impact.data import data_fingerprint
from impact.labels import (LANGS, Lang, LabelMap, covariate_label, format_month, has_label, label,
                           localise_ticks, reader_note, relabel, translate_note, use_labels, with_user_labels)
from impact.publish import (DISCLOSURES, MARK, MIN_EFFECT_N, cell_key_secret, disclosure_note, publish,
                            share_numerators, withheld_note)
from impact.report._atomic import ReportError, failure_message, folder_lock, write_folder
from impact.report._headline import headline_html, headline_messages
from impact.report._html import fig_to_img, figure_of, html_table, page, published_html
from impact.report._methods import methods, versions
from impact.report._protocol import EvaluationLike
from impact.report._results import curve_end_note, results_part, with_outcome_rows
from impact.report._safe import file_stem, neutralise, sheet_name
from impact.report._tables import (compact_effects, covariate_names, design_table, goals_numbers,
                                   headline, headline_labels, headline_numbers, integral, labelled, lower_first,
                                   numeric_cells, settings_shown)
from impact.report._toml import to_toml
from impact.report._workbook import PERCENT, write_workbook

__all__ = ["write_report", "REPORT_FILES"]

#: tables every report has (more follow from subgroups, goals and monitoring)
REPORT_FILES: tuple[str, ...] = ("report.html", "tables.xlsx", "headline.csv", "flow.csv", "balance.csv",
                                 "effects.csv", "naive_effects.csv", "settings.csv")


@validate_params({"evaluation": [InstanceOf(EvaluationLike, "an Evaluation (the result of impact.evaluate)")],
                  "folder": [InstanceOf((str, os.PathLike), "a folder (str or Path)")],
                  "title": [InstanceOf(str, "a str")],
                  "threshold": [Interval(Integral, 1, None)],
                  "lang": [Options(LANGS), None],
                  "excel": ["boolean"],
                  "min_effect_n": [Interval(Integral, 1, None)],
                  "disclosure": [Options(DISCLOSURES), None],
                  "secret": [InstanceOf(str, "a str (the cell-key secret)"), None],
                  "labels": [InstanceOf((LabelMap, Mapping), "a LabelMap or a [labels] table (a mapping)"), None]})
def write_report(evaluation: EvaluationLike, folder: str | os.PathLike[str], *, title: str = "Programme evaluation",
                 threshold: int = 5, lang: Lang | None = None, excel: bool = True,
                 min_effect_n: int = MIN_EFFECT_N, disclosure: str | None = None,
                 secret: str | None = None, labels: LabelMap | Mapping[str, Any] | None = None) -> Path:
    """Write the report of an evaluation into ``folder``; return the path of ``report.html``.

    Writes ``report.html`` (self-contained: figures embedded, no external files), every table as
    CSV and, with ``excel=True``, one workbook ``tables.xlsx`` with a sheet per table and one
    with the methods and settings.

    Parameters
    ----------
    evaluation : Evaluation
        The result of :func:`impact.evaluate` (or :func:`impact.run`).
    folder : str or Path
        Created if it does not exist. The report replaces the whole folder, in one rename once
        every file is complete (files of an earlier report that this one does not write are
        gone); a folder holding files that are not from a report is refused.
    title : str
        Title of the report.
    threshold : int
        Smallest count of people shown; smaller counts (and those that would reveal them) are
        replaced by ``".."``, and estimates for groups under it are hidden.
    lang : {"en", "sv"}, optional
        Language of the report; default the evaluation's (``evaluate(..., lang=)``).
    excel : bool
        Also write ``tables.xlsx`` (needs openpyxl, a dependency of impact).
    min_effect_n : int, default 20
        Smallest number of people per arm for an effect estimate of a group to be published at
        all (stated in the methods text). Every table goes through one publication step
        (:func:`impact.publish.publish`): shares resting on fewer than ``threshold`` people,
        values that subtraction would give back, and differences and tests involving a withheld
        group are withheld too, in every file and figure.
    disclosure : {"threshold", "cellkey"}, optional
        How the monthly monitoring tables are protected: ``"threshold"`` suppresses small cells;
        ``"cellkey"`` (recommended for reports published every month) adds the cell-key method's
        small noise to every count, the same noise for the same people in every release (see
        docs/monitoring.md). Default: the evaluation file's ``[report] disclosure``, else
        ``"threshold"``.
    secret : str, optional
        The cell-key secret (never written to the report). Default: read from the file named by
        ``[report] secret_file`` or the environment variable named by ``[report] secret_env``
        (default ``IMPACT_CELLKEY_SECRET``).
    labels : LabelMap or mapping, optional
        User labels for covariates and codes (:func:`impact.labels.with_user_labels`; a mapping is
        the ``[labels]`` table of an evaluation file), used in every table, text, figure and CSV
        header of the report. They are layered over the ``[labels]`` of the evaluation's own
        configuration (``evaluate(..., config=)``, as :func:`impact.run` passes the file), which
        are used when this is None.

    Returns
    -------
    Path

    Raises
    ------
    ReportError
        Another run is writing into ``folder``, the disk is full, or anything else failed while
        the report was written; the previous report in ``folder`` is then unchanged.

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

    if lang is None:  # the evaluation's language, checked as if it had been passed
        check_params("write_report", {"lang": [Options(LANGS)]}, {"lang": evaluation.lang})
        lang = cast(Lang, evaluation.lang)
    lg: Lang = lang
    disclosure, secret = _disclosure(evaluation, disclosure, secret)
    lm = _user_labels(evaluation, labels)
    folder = Path(folder).absolute()
    with folder_lock(folder), use_labels(lm):
        try:
            return _write_report(evaluation, folder, title, threshold, lg, excel, min_effect_n, disclosure, secret)
        except ImpactError:
            plt.close("all")
            raise
        except Exception as exc:
            plt.close("all")
            raise ReportError(failure_message(folder, exc)) from exc


def _write_report(evaluation: EvaluationLike, folder: Path, title: str, threshold: int, lang: Lang,
                  excel: bool, min_effect_n: int, disclosure: str = "threshold", secret: str | None = None) -> Path:
    import matplotlib.pyplot as plt

    from impact.plotting import plot_effect_curves, plot_forest

    lg: Lang = lang
    L = lambda key, **kw: label(key, lg, **kw)  # noqa: E731
    img = lambda fig, alt: fig_to_img(localise_ticks(fig, lg), alt)  # noqa: E731  (Swedish tick numbers)
    roles = evaluation.roles
    eff = evaluation.effects
    s = evaluation.settings
    csv: dict[str, pd.DataFrame] = {}       # name -> tidy table (snake_case), as published
    sheets: dict[str, pd.DataFrame] = {}    # name -> labelled table for the workbook
    formats: dict[str, dict[str, Any]] = {}  # sheet -> column -> number format (else by value)
    sections: list[tuple[str, str, str]] = []   # (anchor, heading, html)
    used_files = {"headline", "flow", "balance", "effects", "naive_effects", "settings", "truth_check",
                  "goal_fulfilment", "report", "tables"}
    used_sheets = {"methods", "settings", "headline", "flow", "balance", "effects", "naive_effects", "truth_check",
                   "goal_fulfilment"}

    # the publication: every table with the people behind it, the rules applied to all at once --
    bal = evaluation.balance()
    tr = evaluation.roles.treatment
    sizes = {("treated", "before"): int((evaluation.validated.data[tr] == 1).sum()),
             ("control", "before"): int((evaluation.validated.data[tr] == 0).sum()),
             ("treated", "after"): int((evaluation.analysed[tr] == 1).sum()),
             ("control", "after"): int((evaluation.analysed[tr] == 0).sum())}
    notes: list[str] = list(getattr(evaluation.matching, "notes", ()))
    if hasattr(bal, "notes"):
        notes += list(bal.notes)
    notes += list(eff.notes)
    goals = evaluation.goals   # with the cell-key method: perturbed like the monitoring tables
    if goals is not None and disclosure == "cellkey":
        goals = goals.perturbed(secret)
    if goals is not None:
        notes += list(goals.notes)
    for res in (evaluation.monitoring or {}).values():
        notes += list(res.notes)
    tables = {"effects": (eff.summary(), _numerators(evaluation.analysed, eff.settings)),
              "naive_effects": (evaluation.naive.summary(), _numerators(evaluation.validated.data,
                                                                         evaluation.naive.settings))}
    sub_names = {}
    for col, res in evaluation.subgroup_effects.items():
        sub_names[col] = file_stem(f"effects_by_{col}", used_files)
        tables[sub_names[col]] = (res.summary(), _numerators(evaluation.analysed, res.settings))
    pub = publish(tables, eff.curves, evaluation.flow.table(),
                  bal.summary() if hasattr(bal, "summary") else pd.DataFrame(bal), sizes, notes,
                  threshold=threshold, min_effect_n=min_effect_n, lang=lang)

    # flow ------------------------------------------------------------------------------------
    flow_pub = pub.flow.copy()
    for c in [c for c in ["all", "treated", "control"] if c in flow_pub.columns]:
        flow_pub[c] = integral(flow_pub[c])   # real numbers in CSV and the workbook; '..' where hidden
    csv["flow"] = flow_pub
    flow_shown = labelled(flow_pub, lang)
    sheets["flow"] = flow_shown

    # effects ---------------------------------------------------------------------------------
    effects_pub = pub.effects["effects"]
    extra = results_part(evaluation, effects_pub, threshold=threshold, min_effect_n=min_effect_n, lang=lang,
                         conf_level=eff.conf_level,
                         min_at_risk=pub.min_at_risk)   # time in states, curve, AIPTW, hidden bias (issue 12)
    csv["effects"] = with_outcome_rows(effects_pub, extra)
    sheets["effects"] = labelled(csv["effects"], lang)
    head = headline(effects_pub, lang)
    csv["headline"] = headline_numbers(effects_pub)   # numbers; the HTML shows them formatted
    head_shown = headline_labels(head, lang)
    sheets["headline"] = labelled(csv["headline"], lang)
    level = f"{eff.conf_level:.0%}".replace("%", " %" if lang == "sv" else "%")

    words = headline_messages(effects_pub, pub.balance, conf_level=eff.conf_level, by=eff.settings.get("by"))
    parts = [headline_html(words, lang), html_table(head_shown, lang),
             f"<p class='note'>{html.escape(L('report_note_headline', level=level))}</p>"]
    sections.append(("headline", L("report_headline"), "".join(parts)))

    sections.append(("flow", L("report_flow"), html_table(flow_shown, lang) +
                     f"<p class='note'>{html.escape(L('report_note_flow', threshold=threshold, mark=MARK))}</p>"))

    # design and balance ----------------------------------------------------------------------
    bal_pub = pub.balance
    csv["balance"] = bal_pub
    shown_cols = [c for c in ["covariate", "type", "smd_before", "smd_after", "var_ratio_before", "var_ratio_after",
                              "ecdf_max_before", "ecdf_max_after"] if c in bal_pub.columns]
    bal_shown = labelled(bal_pub[shown_cols], lang)
    sheets["balance"] = labelled(bal_pub, lang)
    parts = []
    design = design_table(evaluation.matching, lang)
    if design is not None:
        parts.append(html_table(design, lang))
    if hasattr(bal, "plot"):
        parts.append(img(figure_of(_love_plot(bal, lang)), L("title_love_plot")))
    parts.append(html_table(bal_shown, lang))
    parts.append(f"<p class='note'>{html.escape(L('report_note_balance'))}</p>")
    sections.append(("design", L("report_design"), "".join(parts)))

    # effects ---------------------------------------------------------------------------------
    curves_end = curve_end_note(pub.curves, lang, max(threshold, pub.min_at_risk))   # where and why they end
    parts = [img(figure_of(plot_effect_curves(_drawable(pub.curves), lang=lang)), L("title_effect_curves"))
             if len(pub.curves) else "",
             f"<p class='note'>{html.escape(curves_end)}</p>" if curves_end else "",
             img(figure_of(plot_forest(effects_pub, lang=lang)), L("title_forest")),
             html_table(compact_effects(effects_pub, lang), lang, index=True),
             f"<p class='note'>{html.escape(L('report_note_effects', threshold=threshold, n=max(min_effect_n, threshold)))}</p>"]
    naive = pub.effects["naive_effects"]
    naive = naive[naive["estimand"].isin(["share_diff", "hazard_ratio"])].reset_index(drop=True)
    csv["naive_effects"] = naive
    sheets["naive_effects"] = labelled(naive, lang)
    parts.append(f"<h3>{html.escape(L('report_naive'))}</h3>")
    parts.append(html_table(compact_effects(naive, lang), lang, index=True))
    parts.append(f"<p class='note'>{html.escape(L('report_note_naive'))}</p>")
    sections.append(("effects", L("report_effects"), "".join(parts)))

    for col, res in evaluation.subgroup_effects.items():
        sub = pub.effects[sub_names[col]]
        name = sub_names[col]
        csv[name] = sub.assign(subgroup_column=col)
        sheets[sheet_name(name, used_sheets)] = labelled(sub, lang)
        sg = covariate_names([col], lang)
        keep = sub[sub["estimand"].isin(["share_diff", "hazard_ratio"])]
        sections.append((name, L("report_effects_by", subgroup=sg),
                         html_table(compact_effects(keep, lang), lang, index=True) +
                         f"<p class='note'>{html.escape(L('report_note_effects', threshold=threshold, n=max(min_effect_n, threshold)))}</p>"))

    sections += extra.sections
    csv.update(extra.csv)
    sheets.update({sheet_name(k, used_sheets): relabel(v, lang, values=False) for k, v in extra.sheets.items()})

    if evaluation.truth is not None:
        truth = evaluation.truth
        est = effects_pub[effects_pub["estimand"].isin(["share_diff", "hazard_ratio"])]
        cmp = est.merge(truth.rename(columns={"value": "true_value"}), on=["subgroup", "estimand", "horizon"],
                        how="inner")[["subgroup", "estimand", "horizon", "true_value", "estimate", "ci_low", "ci_high"]]
        cmp["covered"] = (cmp["ci_low"] <= cmp["true_value"]) & (cmp["true_value"] <= cmp["ci_high"])
        csv["truth_check"] = cmp
        sheets["truth_check"] = labelled(cmp, lang)
        sections.append(("truth", L("report_truth"), html_table(labelled(cmp, lang), lang) +
                         f"<p class='note'>{html.escape(L('report_data_note'))}</p>"))

    # goals -----------------------------------------------------------------------------------
    if goals is not None:
        g = goals
        goals_pub = g.published(lang, threshold)
        csv["goal_fulfilment"], formats["goal_fulfilment"] = goals_numbers(g, lang, threshold)
        sheets["goal_fulfilment"] = csv["goal_fulfilment"]
        body = published_html(goals_pub)
        for key in ("achieved", "partly_achieved", "not_achieved"):  # colour the judgements
            body = body.replace(f"<td class='text'>{html.escape(L(key))}</td>",
                                f"<td class='text {key}'>{html.escape(L(key))}</td>")
        body += img(g.plot(lang=lang).figure, L("title_goal_fulfilment"))
        sections.append(("goals", L("title_goal_fulfilment"), body))

    # monitoring ------------------------------------------------------------------------------
    mon = evaluation.monitoring
    if mon:
        parts = []
        how = {"threshold": threshold, "disclosure": disclosure, "secret": secret}  # one rule for all tables
        for name, res in mon.items():
            mon_pub = res.published(lang, **how)
            mon_num = numeric_cells(mon_pub, res.table, {MARK, L("missing")}, lang).reset_index()   # real numbers
            csv[file_stem(f"monitoring_{name}", used_files)] = mon_num
            sheet = sheet_name(name, used_sheets)
            sheets[sheet] = mon_num
            formats[sheet] = {str(mon_num.columns[k + 1]): PERCENT for k, c in enumerate(res.table.columns)
                              if str(c).startswith("change_")}
            heading = L(res.title_key) if has_label(res.title_key) else name
            parts.append(f"<h3>{html.escape(heading)}</h3>")
            if name == "households":
                change = res.change_text(lang=lang, **how)  # from the published counts only
                if change:
                    month = format_month(res.table.index.max(), lang)
                    parts.append(f"<p><b>{html.escape(month)}</b>: {html.escape(change)}</p>")
                parts.append(img(res.plot(lang=lang, **how).figure, heading))
                shown = mon_pub.tail(24)
            else:
                try:
                    parts.append(img(res.plot(lang=lang, **how).figure, heading))
                except Exception:  # a table too sparse to draw is still published  # pragma: no cover
                    plt.close("all")
                shown = mon_pub
            parts.append(published_html(shown))
        parts.append(f"<p class='note'>{html.escape(disclosure_note(disclosure, threshold, lang, MARK))}</p>")
        sections.append(("monitoring", L("report_monitoring"), "".join(parts)))

    # methods ---------------------------------------------------------------------------------
    method_text = methods(evaluation, flow_pub, threshold, lang, min_effect_n=min_effect_n,
                          disclosure=disclosure,
                          goals_disclosure=goals.disclosure if goals is not None else "threshold") + extra.methods
    parts = [f"<p>{html.escape(p)}</p>" for p in method_text]
    notes, untranslated = _notes_in(list(pub.notes), lang, threshold)
    parts.append(f"<h3>{html.escape(L('report_technical_notes'))}</h3><ul>")
    parts += [f"<li>{html.escape(n)}</li>" for n in notes]
    parts.append("</ul>")
    if untranslated:   # notes of the lower layers that have no Swedish text yet: shown, and said to be English
        parts.append(f"<h3>{html.escape(L('report_untranslated_notes'))}</h3><ul lang='en'>")
        parts += [f"<li>{html.escape(n)}</li>" for n in untranslated]
        parts.append("</ul>")
        notes = notes + untranslated
    sections.append(("methods", L("report_methods"), "".join(parts)))

    # settings and reproducibility ------------------------------------------------------------
    now = datetime.now(timezone.utc)
    fingerprints = dict(s.get("fingerprints") or {})
    if not fingerprints:
        fingerprints = {"data": data_fingerprint(evaluation.validated.data, exclude=[roles.id])}
    config = evaluation.config
    settings_rows = [(k, json.dumps(v, ensure_ascii=False, default=str)) for k, v in s.items()
                     if k not in ("fingerprints", "report")]
    settings_rows += [("roles", json.dumps({k: v for k, v in vars(roles).items()}, ensure_ascii=False, default=str)),
                      ("threshold", str(threshold)), ("disclosure", disclosure), ("title", title), ("versions", versions()),
                      ("generated_utc", f"{now:%Y-%m-%d %H:%M}")]
    settings_rows += [(f"fingerprint_{k}", v) for k, v in fingerprints.items()]
    settings_df = pd.DataFrame(settings_rows, columns=["setting", "value"])
    csv["settings"] = settings_df
    config_text = to_toml(config) if config else to_toml({k: v for k, v in s.items()
                                                         if k not in ("fingerprints", "estimand_reason")})
    files = ["tables.xlsx"] * excel + [f"{n}.csv" for n in csv]
    links = " · ".join(f"<a href='{html.escape(f)}'>{html.escape(f)}</a>" for f in files)
    sections.append(("files", L("report_files"), f"<p>{links}</p>"))
    foot = [f"<p>{html.escape(L('footer', when=f'{now:%Y-%m-%d %H:%M}', versions=versions(), seed=s.get('random_state'), hash=fingerprints.get('data', '')))}</p>",
            f"<p>{html.escape(L('report_fingerprints'))}: " +
            ", ".join(f"{html.escape(_input_name(k, lang))} <code>{html.escape(v)}</code>"
                      for k, v in fingerprints.items()) + "</p>",
            f"<p>{html.escape(L('report_configuration'))}:</p><pre>{html.escape(config_text)}</pre>"]
    text = page(title, lang, f"{now:%Y-%m-%d}", L("report_contents"), sections,
                (L("report_reproducibility"), "".join(foot)))
    writers: dict[str, Callable[[Path], None]] = {"report.html": lambda p: _write_text(p, text)}
    for key, df in csv.items():   # numbers as numbers; a Swedish report's CSV is labelled in Swedish
        writers[f"{key}.csv"] = partial(_write_csv, _csv_table(key, df, lang))
    if excel:
        about = pd.DataFrame({L("report_methods"): method_text + ["", L("report_technical_notes") + ":"] + notes +
                              ["", L("report_configuration") + ":"] + config_text.splitlines()})
        sheets["settings"] = settings_shown(settings_df, lang)
        book = {"methods": about, **sheets}
        for key, fmt in formats.items():   # the number formats travel with their sheet (DataFrame.attrs)
            if key in book:
                book[key] = book[key].copy()
                book[key].attrs["number_formats"] = fmt
        writers["tables.xlsx"] = lambda p: write_workbook(p, {k: neutralise(v) for k, v in book.items()})
    plt.close("all")
    write_folder(folder, writers)
    return folder / "report.html"


#: CSV files that are already labelled in the report's language (the goals and monitoring tables, as published)
_LABELLED_CSV = ("goal_fulfilment",)


def _csv_table(key: str, df: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """A table as its CSV holds it: real numbers (horizons as whole numbers), decimals with '.'; in
    English the stable snake_case columns and codes, in Swedish the labelled table (as its sheet)."""
    out = df.copy()
    if "horizon" in out.columns and pd.api.types.is_float_dtype(out["horizon"]):
        h = out["horizon"]
        if bool(((h % 1 == 0) | h.isna()).all()):
            out["horizon"] = h.astype("Int64")
    if lang == "en" or key in _LABELLED_CSV:
        return out
    return settings_shown(out, lang) if key == "settings" else labelled(out, lang)


def _user_labels(evaluation: EvaluationLike, labels: LabelMap | Mapping[str, Any] | None) -> LabelMap | None:
    """The ``[labels]`` of the evaluation's configuration, with ``labels`` over them."""
    config = getattr(evaluation, "config", None) or {}
    base = with_user_labels(config["labels"]) if isinstance(config.get("labels"), Mapping) else None
    if isinstance(labels, LabelMap):
        if base is None:
            return labels
        merged = with_user_labels({}, base=base)
        return LabelMap(labels={**merged.labels, **labels.labels}, codes={**merged.codes, **labels.codes})
    if labels is not None:
        return with_user_labels(labels, base=base)
    return base


def _love_plot(bal: Any, lang: Lang) -> Any:
    """The balance's Love plot in ``lang`` (a balance object whose plot takes no language: as it draws)."""
    import inspect
    try:
        takes_lang = "lang" in inspect.signature(bal.plot).parameters
    except (TypeError, ValueError):  # pragma: no cover - a builtin
        takes_lang = False
    return bal.plot(lang=lang) if takes_lang else bal.plot()


def _notes_in(notes: list[str], lang: Lang, threshold: int = 5) -> tuple[list[str], list[str]]:
    """The technical notes in ``lang``, and those (in English) that have no translation. The
    publication layer's own replacement for a withheld note is already in ``lang``."""
    if lang == "en":   # the notes in a reader's words (no code names; counts with separators)
        return [reader_note(n, lang) or n for n in notes], []
    done: list[str] = []
    left: list[str] = []
    own = withheld_note(threshold, lang)
    for n in notes:
        text = n if n == own else translate_note(n, lang)
        (done if text is not None else left).append(text if text is not None else n)
    return done, left


def _input_name(key: str, lang: Lang) -> str:
    """The name of an input in the fingerprint line: ``persons`` -> ``personer``."""
    if key.startswith("benefits_"):
        return f"{label('input_benefits', lang)}: {lower_first(covariate_label(key.removeprefix('benefits_'), lang))}"
    return label(f"input_{key}", lang) if has_label(f"input_{key}") else key


def _numerators(data: pd.DataFrame, settings: Mapping[str, Any]) -> pd.DataFrame | None:
    """The people behind each share, when ``data`` holds the columns the effects were computed from."""
    needed = [settings.get(k) for k in ("duration", "event", "treatment")] + \
             ([settings["by"]] if settings.get("by") else [])
    if not all(isinstance(c, str) and c in data.columns for c in needed):
        return None
    return share_numerators(data, settings)


def _drawable(curves: pd.DataFrame) -> pd.DataFrame:
    """Curves whose group names cannot be read as mathtext by matplotlib (a ``$`` in a label)."""
    out = curves.copy()
    out["subgroup"] = [str(v).replace("$", r"\$") for v in out["subgroup"]]
    return out


def _disclosure(evaluation: EvaluationLike, disclosure: str | None, secret: str | None) -> tuple[str, str | None]:
    """The monitoring tables' disclosure control, from the arguments or the evaluation file's
    ``[report]`` (``disclosure``, ``secret_file``, ``secret_env``); the secret only for the cell-key method."""
    report = dict((getattr(evaluation, "config", None) or {}).get("report", {}))
    mode = disclosure or report.get("disclosure") or "threshold"
    check_params("write_report", {"disclosure": [Options(DISCLOSURES)]}, {"disclosure": mode})
    if mode != "cellkey":
        return mode, None
    if secret is None:
        secret = cell_key_secret(env=report.get("secret_env"), file=report.get("secret_file"))
    return mode, secret


def _write_csv(df: pd.DataFrame, path: Path) -> None:
    neutralise(df).to_csv(path, index=False)


def _write_text(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
