"""Notebook displays (``_repr_html_``) shared by the result classes: escaped, with counts as integers.

A sample size is a count of people: it is shown as ``1234``, never ``1234.0``; a weighted size
(an effective sample size, a sum of weights) that is not whole keeps one decimal. Every label,
note and cell is HTML-escaped, so a column name can never inject markup into a notebook.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable
from typing import Any

__all__ = ["frame_html", "notes_html", "pairs_html", "title_html"]


def _number(v: Any, digits: int) -> str:
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float) or type(v).__module__ == "numpy":
        try:
            x = float(v)
        except (TypeError, ValueError):
            return html.escape(str(v))
        if math.isnan(x):
            return ""
        if math.isinf(x):
            return "∞" if x > 0 else "−∞"
        if x.is_integer() and abs(x) < 1e15:
            return str(int(x))
        return f"{x:.{digits}g}"
    return html.escape(str(v))


def frame_html(df: Any, *, index: bool = True, digits: int = 4, count_columns: Iterable[str] = ()) -> str:
    """A DataFrame as an escaped HTML table; whole numbers print as integers, others with
    ``digits`` significant digits; ``count_columns`` are always whole (rounded) counts."""
    counts = set(count_columns)
    cols = [str(c) for c in df.columns]
    head = ("<th></th>" if index else "") + "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = []
    for label, row in zip(df.index, df.itertuples(index=False)):
        cells = []
        for c, v in zip(cols, row):
            if c in counts and isinstance(v, (int, float)) and not (isinstance(v, float) and math.isnan(v)):
                cells.append(f"<td style='text-align:right'>{int(round(float(v)))}</td>")
            else:
                text = _number(v, digits)
                align = " style='text-align:right'" if text and text[-1].isdigit() and not isinstance(v, str) else ""
                cells.append(f"<td{align}>{text}</td>")
        lead = f"<th style='text-align:left'>{html.escape(str(label))}</th>" if index else ""
        body.append(f"<tr>{lead}{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def pairs_html(pairs: Iterable[tuple[Any, Any]]) -> str:
    """Key-value rows (settings, counts) as an escaped two-column table."""
    rows = "".join(f"<tr><th style='text-align:left'>{html.escape(str(k))}</th><td>{_number(v, 4)}</td></tr>"
                   for k, v in pairs)
    return f"<table>{rows}</table>"


def notes_html(notes: Iterable[Any]) -> str:
    """Notes as an escaped list (empty string when there are none)."""
    items = "".join(f"<li>{html.escape(str(n))}</li>" for n in notes)
    return f"<ul>{items}</ul>" if items else ""


def title_html(name: str, subtitle: str = "") -> str:
    sub = f" <span style='color:#555'>{html.escape(subtitle)}</span>" if subtitle else ""
    return f"<p><b>{html.escape(name)}</b>{sub}</p>"
