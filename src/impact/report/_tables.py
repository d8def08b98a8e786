"""The report's tables as a reader sees them: labels for steps, reasons and columns, and effects laid out
compactly (estimate [interval], subgroups across)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from impact.labels import Lang, format_number, has_label, label, subgroup_label

__all__ = ["join", "name", "flow_labels", "compact_effects", "headline", "headline_labels"]


def join(items: list[str], lang: Lang) -> str:
    items = [i for i in items if i]
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {label('and', lang)} " + items[-1]


def name(key: Any, lang: Lang) -> str:
    """The label of a key, or the key with spaces for underscores (column names in running text)."""
    return subgroup_label(key, lang)


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
        return f"{f(r.estimate)} [{f(r.ci_low)}; {f(r.ci_high)}]"
    t = pub.copy()
    t["value"] = [fmt(r) for r in t.itertuples()]
    t["row"] = [name(e, lang) + ("" if pd.isna(h) else f", {h:g} " + ("dagar" if lang == "sv" else "days"))
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
            text = f"{f(r.estimate)} [{f(r.ci_low)}; {f(r.ci_high)}]"
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

