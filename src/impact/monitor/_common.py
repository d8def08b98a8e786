"""What every monitoring table shares: the parameter constraints, the gender mapping, the column
checks (codes, dates, months, periods) and the notebook display of a published table.

Row positions in every error are positions in the caller's ``data`` (as ``df.iloc`` takes them),
also when a function counts only some of its rows (a period): checks take the full data and a
boolean mask of the rows they apply to, never a filtered subset.
"""

from __future__ import annotations

import datetime
import html
import warnings
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from numbers import Integral
from typing import Any, ClassVar, Union

import numpy as np
import pandas as pd

from impact._errors import ImpactWarning, ParameterError, data_error
from impact._validation import InstanceOf, Interval, Options, parse_dates, parse_months, suggest
from impact.labels import LANGS, Lang, format_number, has_label, label
from impact.publish import DISCLOSURES, MARK, CellKeyTable, cell_key_counts

#: the gender columns of every table, in display order
GENDERS: tuple[str, str] = ("women", "men")
#: record codes -> table columns, unless a function is given ``genders=``
DEFAULT_GENDERS: Mapping[Any, str] = {"female": "women", "male": "men"}
COLOURS = {"women": "#b5446e", "men": "#2a6f97", "total": "#555555"}

DateLike = Union[str, datetime.date, None]
MonthLike = Union[str, datetime.date, pd.Period, None]

# ---------------------------------------------------------------------------------------------
# parameter constraints shared by the tables (see impact._validation.validate_params)

DATA: list[Any] = [InstanceOf(pd.DataFrame, "a pandas DataFrame")]
LANG: list[Any] = [Options(LANGS)]
LANG_OR_NONE: list[Any] = [Options(LANGS), None]
COLUMN: list[Any] = ["column"]
COLUMN_OR_NONE: list[Any] = ["column", None]
GENDER_MAP: list[Any] = [InstanceOf(Mapping, "a mapping of record codes to 'women' or 'men'"), None]
CODES: list[Any] = [InstanceOf((list, tuple, set, frozenset), "a list or tuple of codes")]
DATE: list[Any] = [InstanceOf((str, datetime.date, np.datetime64), "a date (e.g. '2022-01-31')"), None]
MONTH: list[Any] = [InstanceOf((str, datetime.date, np.datetime64, pd.Period), "a month (e.g. '2022-01') or a date"),
                    None]
THRESHOLD: list[Any] = [Interval(Integral, 1, None)]
MARK_: list[Any] = [InstanceOf(str, "a str")]
INT_OR_NONE: list[Any] = [Interval(Integral, 1, None), None]


DISCLOSURE: list[Any] = [Options(DISCLOSURES)]
SECRET: list[Any] = [InstanceOf(str, "a str (the cell-key secret)"), None]
PTABLE_: list[Any] = [InstanceOf(Mapping, "a mapping of count to {noise: probability}"), None]


def published_params(**more: list[Any]) -> dict[str, list[Any]]:
    """The table of every ``suppression`` method: ``lang``, ``threshold``, ``mark`` (and ``more``)."""
    return {"lang": LANG_OR_NONE, "threshold": THRESHOLD, "mark": MARK_, **more}


def disclosure_params(**more: list[Any]) -> dict[str, list[Any]]:
    """The table of every ``published`` method: those of :func:`published_params`, ``disclosure`` and ``secret``."""
    return published_params(disclosure=DISCLOSURE, secret=SECRET, **more)


def no_cells() -> pd.DataFrame:
    """The records behind the cells of a table made without them."""
    return pd.DataFrame({"row": [], "column": [], "id": []})


def record_ids(data: pd.DataFrame, id: str | None) -> np.ndarray:
    """What identifies each record for the cell key: the ``id`` column, else the row's own content
    and how many identical rows come before it (the same row gives the same key in every release;
    every row counts)."""
    if id is not None:
        return data[id].to_numpy()
    if not len(data):
        return np.array([], dtype=object)
    content = data.astype(str).agg("\x1f".join, axis=1)
    nth = content.groupby(content).cumcount().astype(str)
    return (content + "\x1e" + nth).to_numpy()


def cell_records(row: Any, column: Any, ids: Any) -> pd.DataFrame:
    """The records behind each inner cell (``row``, ``column``, ``id``), duplicates dropped. Not for publication."""
    return pd.DataFrame({"row": np.asarray(row, dtype=object), "column": np.asarray(column, dtype=object),
                         "id": np.asarray(ids, dtype=object)}).drop_duplicates().reset_index(drop=True)


def perturbed(cells: pd.DataFrame, secret: str | None, func: str, **kw: Any) -> CellKeyTable:
    """:func:`impact.publish.cell_key_counts` of a result's cells; the secret is required."""
    if not secret:
        raise ParameterError(f"The 'secret' parameter of {func} must be given with disclosure='cellkey' (a text "
                             "kept by the office and never published, the same in every release).")
    return cell_key_counts(cells, secret, **kw)


# ---------------------------------------------------------------------------------------------
# column checks


def all_rows(data: pd.DataFrame) -> np.ndarray:
    return np.ones(len(data), dtype=bool)


def gender_of(data: pd.DataFrame, gender: str, genders: Mapping[Any, str] | None, func: str,
              rows: np.ndarray | None = None) -> pd.Series:
    """Record gender codes -> ``"women"`` / ``"men"``; unknown or missing codes in ``rows`` raise, listing them.

    Rows outside ``rows`` (a boolean mask over ``data``, default all) are not checked and map to NaN
    when their code is unknown.
    """
    mapping = dict(DEFAULT_GENDERS if genders is None else genders)
    bad_targets = sorted({str(v) for v in mapping.values()} - set(GENDERS))
    if bad_targets:
        raise ParameterError(f"The 'genders' parameter of {func} must map codes to 'women' or 'men'. "
                             f"Got {bad_targets}.")
    use = all_rows(data) if rows is None else rows
    col = data[gender]
    missing = col.isna().to_numpy() & use
    if missing.any():
        raise data_error(gender, "gender must not be missing", missing,
                         "Drop or recode those rows first; each count is published by gender.")
    unknown = ~col.isin(list(mapping)).to_numpy() & use & ~missing
    if unknown.any():
        codes = sorted(map(str, col[unknown].unique()))
        raise data_error(
            gender, f"unknown codes {', '.join(repr(c) for c in codes)} (known: "
            f"{', '.join(repr(k) for k in mapping)})", unknown,
            "Pass genders={code: 'women' or 'men', ...} to map your codes.")
    return col.map(mapping)


def check_codes(data: pd.DataFrame, column: str, allowed: Sequence[str], *, rows: np.ndarray | None = None,
                allow_missing: bool = False, fix: str | None = None) -> None:
    """Every code of ``column`` in ``rows`` (a boolean mask over ``data``, default all) is one of ``allowed``."""
    use = all_rows(data) if rows is None else rows
    col = data[column]
    missing = col.isna().to_numpy() & use
    if missing.any() and not allow_missing:
        raise data_error(column, "codes must not be missing", missing, fix)
    bad = use & ~col.isna().to_numpy() & ~col.isin(list(allowed)).to_numpy()
    if bad.any():
        codes = sorted(map(str, col[bad].unique()))
        hint = suggest(codes[0], allowed).strip()
        raise data_error(
            column, f"unknown codes {', '.join(repr(c) for c in codes)} (allowed: "
            f"{', '.join(repr(a) for a in allowed)})", bad,
            (f"{hint} " if hint else "") + f"Recode them first, e.g. df['{column}'].replace({{...}}).")


def dates_of(data: pd.DataFrame, column: str) -> pd.Series:
    """The column as dates (missing allowed), parsed by the one date parser of :mod:`impact._validation`."""
    return parse_dates(data[column], column, allow_missing=True)


def months_of(data: pd.DataFrame, column: str) -> pd.Series:
    """The column as monthly periods (none missing), parsed by the one month parser."""
    return parse_months(data[column], column)


def _timestamp(value: Any, name: str, func: str) -> pd.Timestamp:
    try:
        ts = pd.to_datetime(value, format="ISO8601") if isinstance(value, str) else pd.Timestamp(value)
    except (ValueError, TypeError):
        ts = pd.NaT
    if pd.isna(ts):
        raise ParameterError(f"The '{name}' parameter of {func} must be a date (YYYY-MM-DD). Got {value!r}.")
    return pd.Timestamp(ts)


def period(start: DateLike, end: DateLike, func: str) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    """``start`` and ``end`` as timestamps (``None`` stays ``None``); ``end`` before ``start`` raises."""
    s = _timestamp(start, "start", func) if start is not None else None
    e = _timestamp(end, "end", func) if end is not None else None
    if s is not None and e is not None and e < s:
        raise ParameterError(f"The 'end' parameter of {func} must not be before 'start'. Got {start!r} to {end!r}.")
    return s, e


def to_month(value: MonthLike, name: str, func: str) -> pd.Period | None:
    """A month parameter as a monthly period."""
    if value is None:
        return None
    if isinstance(value, pd.Period):
        return value.asfreq("M")
    return _timestamp(value, name, func).to_period("M")


def flag_missing(missing: Sequence[pd.Period], what: str, func: str, *, zero_hint: bool = True) -> None:
    """Warn that months in the range have no rows: they are shown as missing, not as zero.

    Called from the body of a public function (under its ``validate_params`` wrapper): the warning
    points at the caller of that function.
    """
    if missing:
        shown = ", ".join(str(m) for m in missing[:6]) + (", ..." if len(missing) > 6 else "")
        hint = " If there truly were none, pass empty_months='zero'." if zero_hint else ""
        warnings.warn(f"{func}: {len(missing)} month(s) without any {what}: {shown}. They are shown as missing, "
                      f"not as zero.{hint}", ImpactWarning, stacklevel=4)


# ---------------------------------------------------------------------------------------------
# display


def number_format(lang: Lang) -> Callable[[float], str]:
    """How a published count is written in ``lang`` (``1 800`` / ``1,800``)."""
    return lambda v: format_number(v, lang)


def fill_template(text: str, fields: Mapping[str, Any]) -> str:
    """``text`` with ``{name}`` replaced by ``fields[name]``: named fields only.

    A user's text is a template, never a Python format string: attribute access, indexing,
    conversions and unknown names (``{target.__class__}``, ``{0}``, ``{x!r}``) stay as written.

    Examples
    --------
    >>> fill_template("{target} people; {target.__class__.__mro__}", {"target": "4 000"})
    '4 000 people; {target.__class__.__mro__}'
    """
    import string

    out = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:  # unbalanced braces: the text as written
        return text
    for literal, name, spec, conv in parsed:
        out.append(literal)
        if name is None:
            continue
        if name.isidentifier() and name in fields and not spec and conv is None:
            out.append(str(fields[name]))
        else:
            out.append("{" + name + ("!" + conv if conv else "") + (":" + spec if spec else "") + "}")
    return "".join(out)


def text_of(text: str | Mapping[str, str] | None, key: str, lang: Lang, **fields: Any) -> str:
    """A user's text (one string, or one per language), else the label of ``key``, else ``key``."""
    if isinstance(text, str):
        return fill_template(text, fields)
    if isinstance(text, Mapping):
        t = text.get(lang) or next(iter(text.values()))
        return fill_template(t, fields)
    if has_label(key):
        return label(key, lang, **fields)
    return key


class Display(ABC):
    """Notebook display shared by the monitoring results: a title, the published (suppressed)
    table and the notes. Nothing else of a result is shown: the counts behind hidden cells stay in
    ``.table``, and the records behind each cell in ``.cells``; neither is for publication."""

    _TITLE: ClassVar[str] = ""
    lang: Lang
    notes: tuple[str, ...]

    @property
    def title_key(self) -> str:
        """The label key of the result's title."""
        return self._TITLE

    @abstractmethod
    def published(self, lang: Lang | None = None, threshold: int = 5, mark: str = MARK) -> pd.DataFrame:
        """The table to print: small cells suppressed (or every count perturbed), months and columns labelled."""

    def _repr_html_(self) -> str:
        lang = self.lang
        title = html.escape(label(self.title_key, lang))
        table = self.published(lang).to_html()
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        supp = html.escape(label("suppressed_note", lang, mark=MARK, threshold=5))
        return f"<h4>{title}</h4>{table}<p><small>{supp}</small></p>" + (f"<ul>{notes}</ul>" if notes else "")
