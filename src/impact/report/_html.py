"""HTML layout: the page, its tables (numbers in the language's format) and embedded figures."""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from impact.labels import Lang, format_number, reader_note
from impact.publish import MARK
from impact.report._safe import anchor

__all__ = ["fig_to_img", "figure_of", "looks_numeric", "html_table", "published_html", "page"]

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
.flag{background:#fdecea;border-left:4px solid #a12d3b;padding:.5em .8em;margin:.6em 0;max-width:60em}
.findings{display:grid;grid-template-columns:repeat(auto-fit,minmax(24em,1fr));gap:0 1.8em}
.finding h3{margin:.9em 0 .3em 0}.finding ul{margin:0;padding-left:1.2em}.finding li{margin:.15em 0}
@page{size:A4;margin:14mm 13mm 15mm 13mm}
@media print{
body{max-width:none;margin:0;padding:0;font-size:9pt;line-height:1.32;color:#000}
h1{font-size:16pt;margin:0 0 .1em 0}h2{font-size:12.5pt;margin-top:0}h3{font-size:10pt;margin-top:1em}
nav{display:none}
section,footer.foot{break-before:page}
section.summary{break-before:auto}
h2,h3{break-after:avoid}
.scroll,pre{overflow:visible}
table{max-width:100%;font-size:7.5pt}
th,td{white-space:normal;padding:.18em .4em}th,td.text{overflow-wrap:break-word}
thead{display:table-header-group}
tr,img,.flag,.finding{break-inside:avoid}
img{max-width:100%;max-height:235mm;width:auto}
.summary .finding h3{margin:.5em 0 .15em 0}.summary .finding li{margin:.05em 0}
.summary table{font-size:7.5pt}.summary .note{font-size:8pt}
.findings{grid-template-columns:1fr 1fr;gap:0 1.4em}
a{color:inherit;text-decoration:none}
.foot{margin-top:0}
}
"""


def _titles(fig: Any) -> str:
    """The titles of a figure, for its alt text: the figure's own, then each panel's."""
    sup = fig.get_suptitle()
    parts = [sup] if sup.strip() else []
    parts += [ax.get_title() for ax in fig.axes if ax.get_title().strip()]
    for ax in fig.axes:   # legend entries a figure marks for its alt text (gid 'alt': what a hidden cell looks like)
        legend = ax.get_legend()
        if legend is not None:
            parts += [t.get_text() for t in legend.get_texts() if t.get_gid() == "alt"]
        parts += [t.get_text() for t in ax.texts if t.get_gid() == "alt"]
    return "; ".join(" ".join(p.split()) for p in dict.fromkeys(parts))


def fig_to_img(fig: Any, alt: str) -> str:
    """The figure as an embedded PNG; its alt text is the figure's titles (``alt`` when it has none)."""
    import matplotlib.pyplot as plt
    alt = _titles(fig) or alt
    _thin_ticks(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


def _thin_ticks(fig: Any) -> None:
    """Every second (third, ...) x tick label only, on axes whose tick labels would run into each
    other (``-0.075-0.050-0.025`` on a narrow panel); the labels kept are the ones drawn."""
    try:
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
    except Exception:  # pragma: no cover - a backend without a renderer: leave the figure as it is
        return
    for ax in fig.axes:
        locs = list(ax.get_xticks())
        texts = ax.get_xticklabels()
        lo, hi = sorted(ax.get_xlim())
        inside = [(x, t) for x, t in zip(locs, texts, strict=False) if lo <= x <= hi and t.get_text().strip()]
        if len(inside) < 3:
            continue
        boxes = [t.get_window_extent(renderer) for _, t in inside]
        for step in range(1, len(inside)):
            kept = boxes[::step]
            if all(a.x1 + 4 <= b.x0 for a, b in zip(kept, kept[1:])):
                break
        if step > 1:
            xlim = ax.get_xlim()
            # keep the tick at 0 (the reference line of a difference) when there is one
            start = next((i % step for i, (x, _) in enumerate(inside) if abs(x) < 1e-12), 0)
            chosen = inside[start::step]
            ax.set_xticks([x for x, _ in chosen], [t.get_text() for _, t in chosen])
            ax.set_xlim(xlim)


def figure_of(axes: Any) -> Any:
    return np.atleast_1d(axes).ravel()[0].figure


_NUMERIC = re.compile(r"^[-−+]?[\d\s.,\xa0]+( ?%)?( \[[-−+\d\s.,;\xa0]+\])?$")


def looks_numeric(v: Any) -> bool:
    """Numbers, formatted numbers ('1 800', '-17,7 %'), intervals ('0.12 [0.10; 0.14]') and '..'."""
    if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool):
        return True
    if isinstance(v, str):
        return v == MARK or bool(_NUMERIC.match(v.strip()))
    return False


def _cell(x: Any, lang: Lang, digits: int = 3) -> str:
    if x is None:
        return ""
    if isinstance(x, (bool, np.bool_)):
        return "✓" if x else "✗"
    if isinstance(x, (float, np.floating)):
        return "" if np.isnan(x) else format_number(float(x), lang, digits)
    if isinstance(x, (int, np.integer)):
        return format_number(int(x), lang)
    return str(x)


def html_table(df: pd.DataFrame, lang: Lang, index: bool = False, digits: int = 3) -> str:
    """A table as HTML: numbers in the language's format, text columns left-aligned, scrollable."""
    shown = df.reset_index() if index else df
    numeric = [pd.api.types.is_numeric_dtype(shown[c]) and not pd.api.types.is_bool_dtype(shown[c])
               for c in shown.columns]
    whole = []
    for c, num in zip(shown.columns, numeric, strict=True):
        v = shown[c].to_numpy(dtype=float) if num else np.array([np.nan])
        whole.append(bool(num and np.isfinite(v).any() and np.allclose(v[np.isfinite(v)] % 1, 0)))
    head = "".join(f"<th class='{'' if num else 'text'}'>{html.escape(str(c))}</th>"
                   for c, num in zip(shown.columns, numeric, strict=True))
    rows = []
    for rec in shown.itertuples(index=False):
        cells = []
        for v, num, w in zip(rec, numeric, whole, strict=True):
            cls = "" if num or looks_numeric(v) else "text"
            extra = f" {v}" if isinstance(v, str) and v in ("achieved", "partly_achieved", "not_achieved") else ""  # fixed words only
            text = _cell(v, lang, 0 if w else digits).replace(" %", "\u00a0%")  # '75 %' on one line
            cells.append(f"<td class='{cls}{extra}'>{html.escape(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<div class='scroll'><table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}"
            "</tbody></table></div>")


def published_html(df: pd.DataFrame) -> str:
    """A table already published as strings (monitoring, goals): keep its index as the first column."""
    shown = df.reset_index()
    shown.columns = [str(c) for c in shown.columns]
    return html_table(shown.astype(str).replace({"nan": ""}), "en")

_ITEM = re.compile(r"<li>(.*?)</li>", re.S)


def _reader_notes(content: str, lang: Lang) -> str:
    """The methods section's technical notes as a reader reads them: an English note that names code
    (``m_order='largest'``, ``result.unmatched``) or prints a bare count said in words, with counts in
    the report's format (:func:`impact.labels.reader_note`; the Swedish notes are translated already)."""
    if lang != "en":
        return content

    def one(m: re.Match[str]) -> str:
        shown = reader_note(html.unescape(m.group(1)), "en")
        return f"<li>{html.escape(shown if shown is not None else html.unescape(m.group(1)))}</li>"
    return _ITEM.sub(one, content)


def page(title: str, lang: Lang, date: str, contents_heading: str, sections: Sequence[tuple[str, str, str]],
         footer: tuple[str, str], *, summary_first: bool = True) -> str:
    """The whole self-contained page: title, contents, each ``(anchor, heading, html)`` section, footer.

    ``footer`` is ``(heading, html)``; it is linked from the contents as ``#reproducibility``. With
    ``summary_first`` the first section (the headline) comes before the contents, so that it opens
    the page on screen and fills the first printed page (the print stylesheet starts every other
    section on a new A4 page and leaves the contents, links without page numbers, out of print).
    """
    used = {"reproducibility"}
    sections = [(a, h, _reader_notes(c, lang) if a == "methods" else c) for a, h, c in sections]
    ids = [anchor(a, used) for a, _, _ in sections]  # never a column name raw inside id='...'
    nav = "".join(f"<li><a href='#{a}'>{html.escape(h)}</a></li>" for a, (_, h, _) in zip(ids, sections, strict=True))
    nav += f"<li><a href='#reproducibility'>{html.escape(footer[0])}</a></li>"
    summary = " class='summary'"
    shown = [f"<section{summary if i == 0 and summary_first else ''}><h2 id='{a}'>{html.escape(h)}</h2>{content}"
             "</section>" for i, (a, (_, h, content)) in enumerate(zip(ids, sections, strict=True))]
    body = [f"<h1>{html.escape(title)}</h1>", f"<p class='sub'>{html.escape(date)}</p>"]
    contents = f"<nav><h2>{html.escape(contents_heading)}</h2><ol>{nav}</ol></nav>"
    body += [shown[0], contents, *shown[1:]] if summary_first and shown else [contents, *shown]
    body.append(f"<footer class='foot'><h2 id='reproducibility'>{html.escape(footer[0])}</h2>{footer[1]}</footer>")
    return (f"<!doctype html><html lang='{html.escape(lang)}'><head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>{''.join(body)}</body></html>")
