"""The report's tables as a reader sees them: labels for steps, reasons and columns, and effects laid out
compactly (estimate [interval], subgroups across)."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pandas as pd

from impact.labels import (Lang, covariate_label, format_number, has_label, label, relabel, subgroup_label,
                           translate_note)
from impact.publish import MARK

__all__ = ["join", "name", "lower_first", "flow_labels", "compact_effects", "headline", "headline_labels",
           "headline_numbers", "labelled", "design_table", "numeric_cells", "goals_numbers", "integral",
           "settings_shown"]


def join(items: list[str], lang: Lang) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {label('and', lang)} " + items[-1]


def name(key: Any, lang: Lang) -> str:
    """The label of a key, or the key with spaces for underscores (column names in running text)."""
    return subgroup_label(key, lang)


def lower_first(text: str) -> str:
    """``"Ålder"`` -> ``"ålder"`` for running text; ``"AF/FK"`` and ``"SFI-studier"`` stay as they are."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def covariate_names(names: list[str], lang: Lang) -> str:
    """Covariates in running text: labels (the user's first), lower-case initial, joined with 'and'."""
    return join([lower_first(covariate_label(str(c), lang)) for c in names], lang)


def flow_labels(flow: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    out = flow.copy()
    out["step"] = [name(str(s).replace(" ", "_"), lang) if has_label(str(s).replace(" ", "_")) else s
                   for s in out["step"]]
    keys = ["reason_" + "_".join(str(r).split()) for r in out["reason"]]
    out["reason"] = [label(k, lang) if has_label(k) else r for k, r in zip(keys, out["reason"], strict=True)]
    return out


def compact_effects(pub: pd.DataFrame, lang: Lang, subgroup_name: str | None = None) -> pd.DataFrame:
    """Estimand and horizon down, subgroups across: 'estimate [ci_low; ci_high]'."""
    def fmt(r: Any) -> str:
        if not np.isfinite(r.estimate):
            return label("suppressed", lang) if pd.isna(r.estimate) else label("not_estimable", lang)
        d = 1 if r.estimand.startswith("rmst") else 3
        f = lambda v: format_number(v, lang, d)  # noqa: E731
        # an interval is never broken inside its brackets (a printed table may wrap before '[')
        return f"{f(r.estimate)} [{f(r.ci_low)};\u00a0{f(r.ci_high)}]"
    t = pub.copy()
    t["value"] = [fmt(r) for r in t.itertuples()]
    t["row"] = [name(e, lang) + ("" if pd.isna(h) else f", {format_number(h, lang)} {label('days', lang)}")
                for e, h in zip(t["estimand"], t["horizon"], strict=True)]
    order_rows = list(dict.fromkeys(t["row"]))
    order_cols = list(dict.fromkeys(t["subgroup"]))
    wide = t.pivot(index="row", columns="subgroup", values="value").reindex(index=order_rows, columns=order_cols)
    wide.columns = [name(c, lang) for c in wide.columns]
    wide.index.name = label("estimand", lang)
    return wide.fillna("")


def headline(pub: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    rows = pub[pub["estimand"].isin(["share_diff", "hazard_ratio"])]
    out: dict[str, dict[str, str]] = {}
    for r in rows.itertuples():
        col = ("hazard_ratio" if r.estimand == "hazard_ratio" else f"share_diff_{r.horizon:g}")
        if np.isfinite(r.estimate):
            f = lambda v: format_number(v, lang, 3)  # noqa: E731
            text = f"{f(r.estimate)} [{f(r.ci_low)};\u00a0{f(r.ci_high)}]"
        else:
            text = label("suppressed", lang) if pd.isna(r.estimate) else label("not_estimable", lang)
        out.setdefault(col, {})[r.subgroup] = text
    df = pd.DataFrame(out)
    df.index.name = "subgroup"
    return df.reset_index()


def headline_labels(df: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    cols = {}
    for c in df.columns:
        if c.startswith("share_diff_"):
            cols[c] = label("share_diff_at", lang, horizon=c.rsplit("_", 1)[1])
        else:
            cols[c] = name(c, lang)
    out = df.rename(columns=cols)
    first = out.columns[0]
    out[first] = [name(s, lang) for s in out[first]]
    return out



def headline_numbers(pub: pd.DataFrame) -> pd.DataFrame:
    """The headline as numbers (headline.csv, the workbook): the share differences and hazard ratios
    of the published effect table, one row each, with their intervals; withheld estimates are empty
    and ``withheld`` says why."""
    cols = [c for c in ("subgroup", "estimand", "horizon", "estimate", "ci_low", "ci_high", "p_value", "withheld")
            if c in pub.columns]
    return pub.loc[pub["estimand"].isin(["share_diff", "hazard_ratio"]), cols].reset_index(drop=True)


def labelled(df: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """A tidy table for reading (a workbook sheet; a CSV of a Swedish report): columns labelled, and the
    codes in it (subgroups, covariates, flow steps and reasons, estimands, types, withheld reasons)
    shown as labels. Numbers are left as they are."""
    out = df.copy()
    if "step" in out.columns and "reason" in out.columns:
        out = flow_labels(out, lang)
    if "subgroup" in out.columns:
        out["subgroup"] = [v if pd.isna(v) else name(v, lang) for v in out["subgroup"]]
    if "covariate" in out.columns:
        score = (out["covariate"] == "distance").to_numpy()   # MatchIt's name for the score matched on
        out["covariate"] = [covariate_label(str(v), lang) for v in out["covariate"]]
    if "subgroup_column" in out.columns:
        out["subgroup_column"] = [covariate_label(str(v), lang) for v in out["subgroup_column"]]
    if "withheld" in out.columns:
        out["withheld"] = [label(v, lang) if isinstance(v, str) and v and has_label(v) else v for v in out["withheld"]]
    shown = relabel(out, lang, values=True)
    if "covariate" in df.columns and score.any():
        shown.iloc[score, list(df.columns).index("covariate")] = label("balance_distance", lang)
    return shown


def _design_value(key: str, value: str, settings: dict[str, Any], method: str, lang: Lang) -> str:
    if key == "method":
        text = label(f"method_{method}", lang) if has_label(f"method_{method}") else value
        if method in ("nearest", "optimal") and "ratio" in settings:
            repl = label("methods_with_replacement" if settings.get("replace") else "methods_without_replacement",
                         lang)
            text = label("design_method_ratio", lang, ratio=settings["ratio"], method=text, replace=repl)
        return text
    if key == "estimand":
        return label(f"estimand_{value.lower()}", lang) if has_label(f"estimand_{value.lower()}") else value
    if key == "caliper" and settings.get("caliper_width") is not None:
        cal = settings["caliper"]["distance"] if isinstance(settings.get("caliper"), dict) else settings["caliper"]
        return label("design_caliper_sd" if settings.get("std_caliper") else "design_caliper_raw", lang,
                     caliper=format_number(float(cal), lang, _decimals(cal)),
                     width=format_number(float(settings["caliper_width"]), lang, 4 + _zeros(settings["caliper_width"])))
    if key == "exact" and settings.get("exact"):
        return ", ".join(lower_first(covariate_label(str(c), lang)) for c in settings["exact"])
    if key == "distance":
        return distance_in_words(value, lang)
    return translate_note(value, lang) or value


_DISTANCE = re.compile(r"(?P<head>.*?) of treatment on (?P<c>[^;]+)(?P<tail>;.*)?", re.S)


def distance_in_words(text: str, lang: Lang, *, covariates: bool = True) -> str:
    """The design's description of its distance for a reader: the covariates by their labels
    (``elapsed_days`` -> "days in the open registration spell"), or left out with
    ``covariates=False`` (a sentence that lists them itself)."""
    m = _DISTANCE.fullmatch(text.strip())
    if lang == "sv":
        shown = translate_note(text, lang) or text
        return shown if covariates else re.sub(r" av deltagande på [^;]+", "", shown)
    if m is None:
        return text
    tail = m.group("tail") or ""
    if not covariates:
        return m.group("head") + tail
    names = [c.strip() for c in re.split(r",\s*| and ", m.group("c")) if c.strip()]
    return f"{m.group('head')} of participation on {covariate_names(names, lang)}{tail}"


def _decimals(x: Any) -> int:
    text = repr(float(x)).rstrip("0")
    return max(len(text.split(".")[1]), 0) if "." in text and "e" not in text else 3


def _zeros(x: Any) -> int:
    """Leading zeros after the decimal mark (4 significant digits as the design's own text has them)."""
    v = abs(float(x))
    if not np.isfinite(v) or v == 0 or v >= 1:
        return 0
    return int(np.floor(-np.log10(v)))


def design_table(matching: Any, lang: Lang) -> pd.DataFrame | None:
    """The design's MatchIt-style header (``design_rows``) as a table in ``lang``: settings labelled,
    values written from the design's settings (method, distance, estimand, caliper, exact variables).
    ``None`` when the design has no header."""
    rows_of = getattr(matching, "design_rows", None)
    if not callable(rows_of):
        return None
    settings = dict(getattr(matching, "settings", {}) or {})
    method = str(getattr(matching, "method", settings.get("method", "")))
    rows = []
    for key, value in rows_of():
        if key == "number of obs.":
            continue
        cal = re.fullmatch(r"caliper on (.+)", key)
        if cal is not None:
            width = re.match(r"width (\S+)", value)
            rows.append((label("design_caliper_on", lang, covariate=lower_first(covariate_label(cal.group(1), lang))),
                         label("design_caliper_width", lang, covariate=lower_first(covariate_label(cal.group(1), lang)),
                               width=format_number(float(width.group(1)), lang, 4) if width else "")))
            continue
        shown_key = label(key, lang) if has_label(key) else key
        shown_key = shown_key[:1].upper() + shown_key[1:]
        rows.append((shown_key, _design_value(key, str(value), settings, method, lang)))
    return pd.DataFrame(rows, columns=[label("setting", lang), label("value", lang)])


def integral(values: pd.Series) -> pd.Series:
    """A column of numbers with whole values as ``int`` (so that CSV shows ``26``, not ``26.0``);
    anything else (text, NaN, fractions) as it is."""
    def one(v: Any) -> Any:
        if isinstance(v, (bool, np.bool_)) or isinstance(v, str):
            return v
        if isinstance(v, (int, np.integer)):
            return int(v)
        if isinstance(v, (float, np.floating)) and np.isfinite(v) and float(v).is_integer():
            return int(v)
        return v
    return values.map(one).astype(object)


def parse_number(text: str, lang: Lang) -> float | None:
    """A number as the report prints it (``"1,800"``, ``"1 800"``, ``"−17,7 %"``, ``"0.071"``) back
    to a float; None when ``text`` is not a number. Percentages come back as proportions."""
    t = text.strip().replace("\u2212", "-").replace("\u00a0", "").replace("\u202f", "").replace(" ", "")
    pct = t.endswith("%")
    if pct:
        t = t[:-1]
    t = t.replace(",", ".") if lang == "sv" else t.replace(",", "")
    try:
        x = float(t)
    except ValueError:
        return None
    return x / 100 if pct else x


def numeric_cells(shown: pd.DataFrame, raw: pd.DataFrame, keep: set[str], lang: Lang = "en") -> pd.DataFrame:
    """``shown`` (a table published as text) with every cell that is not one of ``keep`` (the withheld
    mark, "missing") read back as the number it PRINTS (never the unpublished value behind it: a
    perturbed or rounded count stays perturbed or rounded), for CSV and the workbook; columns of
    ``raw`` that are not numeric stay text. Columns of whole numbers come out as ints. ``shown``
    is returned as it is when the shapes differ."""
    if shown.shape != raw.shape:
        return shown
    out = shown.copy().astype(object)
    for j in range(shown.shape[1]):
        if not pd.api.types.is_numeric_dtype(raw.iloc[:, j]):
            continue
        values: list[Any] = []
        for i in range(shown.shape[0]):
            v = shown.iat[i, j]
            if isinstance(v, str):
                x = None if v in keep else parse_number(v, lang)
                values.append(v if x is None else x)
            else:
                values.append(np.nan if v is None or pd.isna(v) else float(v))
        nums = [x for x in values if isinstance(x, float) and np.isfinite(x)]
        if nums and all(x.is_integer() for x in nums):
            values = [int(x) if isinstance(x, float) and np.isfinite(x) else x for x in values]
        out.isetitem(j, pd.Series(values, index=out.index, dtype=object))
    return out


#: goal kinds whose target and measure are one number each (a count or a share)
_NUMERIC_GOALS = ("count", "outcome_count", "share")


def goals_numbers(goals: Any, lang: Lang, threshold: int) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """The published goal table with the target and measure of count and share goals as numbers
    (a share as a proportion, 0.9), and the workbook's number format of each of those cells;
    measures the publication withholds stay the withheld mark, and compound targets (a gender
    balance, before/after) stay text."""
    pub = goals.published(lang, threshold).reset_index()
    table = goals.table.reset_index(drop=True)
    out = pub.copy().astype(object)
    formats: dict[str, list[str]] = {str(c): ["General"] * len(out) for c in out.columns[1:3]}
    if len(table) != len(out):
        return pub, {}
    for i, kind in enumerate(table["kind"]):
        if kind not in _NUMERIC_GOALS:
            continue
        fmt = "0%" if kind == "share" else "#,##0"
        for j, col in ((1, "target"), (2, "measured")):
            shown = out.iat[i, j]
            if isinstance(shown, str) and (shown == MARK or not shown):
                continue
            x = table.at[i, col]
            if x is None or pd.isna(x):
                continue
            out.iat[i, j] = int(x) if kind != "share" and float(x).is_integer() else float(x)
            formats[str(out.columns[j])][i] = fmt
    return out, formats


#: settings whose values are column names (shown as their labels)
_COLUMN_SETTINGS = ("covariates", "exact", "subgroups", "subgroup", "subgroup_column", "id", "treatment", "start",
                    "exit_date", "exit_type", "cluster", "weights")


def _setting_text(key: str, value: Any, lang: Lang) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return {"en": ("yes", "no"), "sv": ("ja", "nej")}[lang][0 if value else 1]
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, list):
        return ", ".join(str(_setting_text(key, v, lang)) for v in value)
    if isinstance(value, dict):
        if key == "codes":
            return "; ".join(f"{k}: {label(v, lang) if has_label(str(v)) else v}" for k, v in value.items())
        return "; ".join(f"{label(k, lang) if has_label(str(k)) else k}: {_setting_text(str(k), v, lang)}"
                         for k, v in value.items())
    text = str(value)
    if key in _COLUMN_SETTINGS:
        return covariate_label(text, lang)
    if key == "clock" and has_label(f"clock_{text}"):
        return label(f"clock_{text}", lang)
    if key == "estimand" and has_label(text):
        return label(text, lang)
    if key in ("method", "design") and has_label(f"method_{text}"):
        return label(f"method_{text}", lang)
    translated = translate_note(text, lang)
    if translated is not None and translated != text:
        return translated
    return label(text, lang) if has_label(text) and len(text) > 2 else text


def settings_shown(settings: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """The settings table (``setting``, ``value`` as JSON text) for reading: settings labelled and, in
    Swedish, values too (column names as their labels, codes as words, numbers as numbers)."""
    if lang == "en":
        return relabel(settings, lang)
    rows = []
    for key, raw in zip(settings["setting"], settings["value"], strict=True):
        try:
            value = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError:
            value = raw
        shown_key = label(key, lang) if has_label(key) else key
        if str(key).startswith("fingerprint_benefits_"):
            shown_key = label("fingerprint_benefits", lang,
                              benefit=lower_first(covariate_label(str(key).removeprefix("fingerprint_benefits_"), lang)))
        rows.append((shown_key, _setting_text(str(key), value, lang)))
    return pd.DataFrame(rows, columns=[label("setting", lang), label("value", lang)])
