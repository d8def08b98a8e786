"""Outputs that are safe to open: ids and anchors, file and sheet names, and spreadsheet cells.

* :func:`anchor` -- an HTML id made only of ``[a-z0-9_-]`` (a column name never reaches an attribute raw);
* :func:`file_stem` / :func:`sheet_name` -- names of files and workbook sheets made from column
  names: no path separators, no characters Excel refuses (``[]:*?/\\``), unique;
* :func:`neutralise` -- a copy of a table whose text cells (and column names) cannot run as
  spreadsheet formulas: a text starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return
  gets a leading single quote, as OWASP advises for CSV injection. Numeric columns are left
  alone (numbers stay numbers, negative ones too); a text that is a plain formatted number
  (``"-17.7"``, ``"-17,7 %"``, ``"-0.12 [-0.2; 0.1]"``) is not a formula and is left alone.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

import pandas as pd

__all__ = ["anchor", "file_stem", "sheet_name", "neutralise", "neutralise_text", "unique"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"^[-−+]?\d[\d\s.,\xa0]*( ?%)?( \[[-−+]?\d[\d\s.,\xa0]*( ?%)?; ?[-−+]?\d[\d\s.,\xa0]*( ?%)?\])?$")


def _ascii_slug(text: str) -> str:
    flat = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^A-Za-z0-9_-]+", "_", flat).strip("_")


def unique(name: str, used: set[str], limit: int | None = None) -> str:
    """``name``, or ``name_2``, ``name_3``... (cut to ``limit`` characters) not yet in ``used``
    (case-insensitively); the result is added to ``used``."""
    base = name[:limit] if limit else name
    out, k = base, 1
    while out.lower() in used:
        k += 1
        suffix = f"_{k}"
        out = (name[:limit - len(suffix)] if limit else name) + suffix
    used.add(out.lower())
    return out


def anchor(text: Any, used: set[str]) -> str:
    """An HTML id for a section: lower-case ``[a-z0-9_-]`` only, unique within ``used``."""
    return unique(_ascii_slug(str(text)).lower() or "section", used)


def file_stem(text: Any, used: set[str]) -> str:
    """A file name (without extension) made from ``text``: ``[A-Za-z0-9_-]`` only, unique."""
    return unique(_ascii_slug(str(text)) or "table", used, limit=120)


def sheet_name(text: Any, used: set[str]) -> str:
    """A workbook sheet name: no ``[]:*?/\\``, no leading or trailing quote, at most 31 characters, unique."""
    clean = re.sub(r"[\[\]:*?/\\]", "_", str(text)).strip("'") or "sheet"
    return unique(clean, used, limit=31)


def neutralise_text(value: str) -> str:
    """``value`` with a leading ``'`` when a spreadsheet would read it as a formula."""
    if value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.match(value):
        return "'" + value
    return value


def _cell(v: Any) -> Any:
    return neutralise_text(v) if isinstance(v, str) else v


def neutralise(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``df`` whose text cells and column names cannot run as formulas (numbers untouched)."""
    out = df.copy()
    out.columns = pd.Index([_cell(c) if isinstance(c, str) else c for c in out.columns])
    for k in range(out.shape[1]):
        col = out.iloc[:, k]
        if pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            continue
        if isinstance(col.dtype, pd.CategoricalDtype):
            col = col.astype(object)
        out.isetitem(k, col.map(_cell))
    if not isinstance(out.index, pd.MultiIndex) and out.index.dtype == object:
        out.index = pd.Index([_cell(v) for v in out.index], name=out.index.name)
    return out
