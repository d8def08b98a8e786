"""Category x gender tables of labour-market employments: results 90 days after an ended
employment, and new hires by employment subsidy."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd

from impact._errors import data_error
from impact._validation import Interval, check_columns, validate_params
from impact.labels import Lang, format_percent, has_label, label, relabel
from impact.monitor._common import (CODES, COLOURS, COLUMN, COLUMN_OR_NONE, DATA, DATE, DISCLOSURE, GENDER_MAP,
                                    GENDERS, LANG, LANG_OR_NONE, PTABLE_, SECRET, THRESHOLD, DateLike, Display,
                                    cell_records, check_codes, dates_of, disclosure_params, gender_of, no_cells,
                                    number_format, period, perturbed, published_params, record_ids)
from impact.publish import MARK, CellKeyTable, Suppression, suppress

#: results 90 days after an ended labour-market employment, in the seed's order
OUTCOMES_90: tuple[str, ...] = ("to_work", "to_studies", "continued_planning", "new_planning_af",
                                "interrupted_planning", "other_reasons")
#: employment-subsidy types, in the seed's order
SUBSIDIES: tuple[str, ...] = ("extratjanster", "lonebidrag_osa", "nystartsjobb",
                              "introduktionsjobb", "no_subsidy")


@dataclass(frozen=True)
class GenderTable(Display):
    """Counts by category (rows, with ``all`` last) for women, men and total (columns).

    Attributes
    ----------
    table : DataFrame
        Index: the category keys and ``all``; columns ``women``, ``men``, ``total``.
    kind : str
        ``"outcomes_after_employment"`` or ``"hires_by_subsidy"``.
    notes : tuple of str
    lang : {"en", "sv"}
    cells : DataFrame
        The records behind each inner cell: ``row`` (category), ``column`` (gender), ``id`` (the
        employment). Not for publication: what ``published(disclosure="cellkey")`` keys its noise on.
    """

    table: pd.DataFrame
    kind: str = ""
    notes: tuple[str, ...] = ()
    lang: Lang = "en"
    cells: pd.DataFrame = field(default_factory=no_cells, repr=False, compare=False)

    @property
    def title_key(self) -> str:
        """The label key of the title: ``title_<kind>``."""
        return f"title_{self.kind}"

    def summary(self) -> pd.DataFrame:
        """Long form: the row key (``outcome`` or ``subsidy``), ``gender``, ``n``, ``share`` of the gender's total."""
        name = self.table.index.name
        share = self.table / self.table.loc["all"]
        long = self.table.reset_index().melt(id_vars=name, var_name="gender", value_name="n")
        long["share"] = share.reset_index().melt(id_vars=name, var_name="gender", value_name="s")["s"]
        return long

    @validate_params(published_params(), name="GenderTable.suppression")
    def suppression(self, threshold: int = 5, mark: str = MARK, lang: Lang | None = None) -> Suppression:
        """The :class:`~impact.publish.Suppression` behind :meth:`published`."""
        return suppress(self.table, threshold, mark, total_row="all", total_col="total",
                        fmt=number_format(self.lang if lang is None else lang))

    @validate_params({"secret": SECRET, "ptable": PTABLE_},
                     name="GenderTable.perturbation")
    def perturbation(self, secret: str | None, ptable: Mapping[int, Mapping[int, float]] | None = None) -> CellKeyTable:
        """The table with cell-key noise (:func:`impact.publish.cell_key_counts`): every cell, row
        total, column total (``all``) and the grand total keyed on its own records (``.counts``
        are the true ones; not for publication)."""
        return perturbed(self.cells, secret, "GenderTable.perturbation",
                         index=[i for i in self.table.index if i != "all"], columns=list(GENDERS),
                         total_row="all", total_col="total", additive=True, ptable=ptable)

    @validate_params(disclosure_params(shares=["boolean"]), name="GenderTable.published")
    def published(self, lang: Lang | None = None, threshold: int = 5, mark: str = MARK, *,
                  shares: bool = False, disclosure: str = "threshold", secret: str | None = None) -> pd.DataFrame:
        """The table to print, labelled: small cells suppressed (``disclosure="threshold"``) or
        every count perturbed by the cell-key method (``disclosure="cellkey"``, with the office's
        ``secret``); ``shares=True`` gives each cell's share of its column total instead (hidden
        wherever the count or the total is hidden; with cell-key noise, the share of the
        published counts)."""
        lang_: Lang = self.lang if lang is None else lang
        if disclosure == "cellkey":
            pub = self.perturbation(secret).published.loc[self.table.index, self.table.columns]
            if shares:
                share = pub.astype(float).div(pub.loc["all"].astype(float).replace(0, np.nan), axis=1)
                out = share.map(lambda v: format_percent(v, lang_, 1)).astype(object)
            else:
                out = pub.map(number_format(lang_)).astype(object)
            return relabel(out, lang_)
        res = self.suppression(threshold, mark, lang_)
        out = res.shares("column", lang=lang_) if shares else res.published
        return relabel(out, lang_)

    @validate_params({"lang": LANG_OR_NONE, "threshold": THRESHOLD, "disclosure": DISCLOSURE, "secret": SECRET},
                     name="GenderTable.plot")
    def plot(self, ax: Any = None, *, lang: Lang | None = None, threshold: int = 5, disclosure: str = "threshold",
             secret: str | None = None) -> Any:
        """Horizontal bars by category, one for women and one for men, as published (hidden cells
        are not drawn). Returns the Axes."""
        import matplotlib.pyplot as plt

        lang_: Lang = self.lang if lang is None else lang
        t = self.table.drop(index="all")
        if disclosure == "cellkey":
            shown = self.perturbation(secret).published.loc[t.index].astype(float)
        else:
            res = self.suppression(threshold, lang=lang_)
            shown = t.astype(float).where(~res.mask.loc[t.index, t.columns])
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 0.6 * len(t) + 1.5))
            ax.figure.set_layout_engine("tight")
        y = np.arange(len(t))[::-1]
        h = 0.38
        hidden = False
        for k, g in enumerate(GENDERS):
            v = shown[g]
            at = y + (h / 2 if k == 0 else -h / 2)
            ax.barh(at, v.to_numpy(), height=h, color=COLOURS[g], label=label(g, lang_))
            # a hidden cell and a zero would both draw no bar: write '..' and '0' at the axis
            for pos, value in zip(at, v.to_numpy(), strict=True):
                if np.isnan(value) or value == 0:
                    hidden |= bool(np.isnan(value))
                    ax.annotate(MARK if np.isnan(value) else "0", (0, pos), xytext=(3, -1 if np.isnan(value) else 0),
                                textcoords="offset points", va="baseline" if np.isnan(value) else "center",
                                ha="left", fontsize=14 if np.isnan(value) else 9, fontweight="bold",
                                color="#444" if np.isnan(value) else COLOURS[g])
        ax.set_yticks(y, [label(i, lang_) if has_label(i) else str(i) for i in t.index])
        ax.set_xlabel(label("n", lang_))
        ax.set_title(label(self.title_key, lang_))
        handles, names = ax.get_legend_handles_labels()
        if hidden:   # said in the legend, and (gid 'alt') in the report's alt text
            from matplotlib.lines import Line2D
            handles.append(Line2D([], [], linestyle="none", marker=r"$\cdot\!\cdot$", markersize=14, color="#444"))
            names.append(label("legend_hidden_cell", lang_, mark=MARK))
        legend = ax.legend(handles, names)
        if hidden:
            legend.get_texts()[-1].set_gid("alt")
        return ax

    def __repr__(self) -> str:
        a = self.table.loc["all"]
        return (f"GenderTable({self.kind}: {int(a['total'])} in total, {int(a['women'])} women, "
                f"{int(a['men'])} men, {len(self.table) - 1} categories)")


def _gender_table(data: pd.DataFrame, rows: np.ndarray, column: str, categories: Sequence[str], gender: str,
                  genders: Mapping[Any, str] | None, name: str, func: str,
                  id: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts of ``column`` by gender over ``rows`` (a mask over ``data``; errors name positions in
    ``data``), and the records behind each cell."""
    g = gender_of(data, gender, genders, func, rows=rows)
    cells = cell_records(data[column].to_numpy()[rows], g.to_numpy()[rows], record_ids(data, id)[rows])
    t = pd.crosstab(data[column].to_numpy()[rows], g.to_numpy()[rows]).reindex(
        index=list(categories), columns=list(GENDERS), fill_value=0)
    t["total"] = t.sum(axis=1)
    t.loc["all"] = t.sum(axis=0)
    t.index.name = name
    t.columns.name = None
    return t.astype(int), cells


@validate_params({"data": DATA, "outcome": COLUMN, "gender": COLUMN, "genders": GENDER_MAP, "end_date": COLUMN,
                  "start": DATE, "end": DATE, "days": [Interval(Integral, 0, None)], "categories": CODES,
                  "id": COLUMN_OR_NONE, "lang": LANG})
def outcomes_after_employment(data: pd.DataFrame, *, outcome: str = "outcome_90", gender: str = "gender",
                              genders: Mapping[Any, str] | None = None, end_date: str = "end_date",
                              start: DateLike = None, end: DateLike = None, days: int = 90,
                              categories: Sequence[str] = OUTCOMES_90, id: str | None = None,
                              lang: Lang = "en") -> GenderTable:
    """Results ``days`` after an ended labour-market employment, for women, men and total.

    Counts the employments whose day ``days`` after ``end_date`` falls between ``start`` and
    ``end`` (inclusive; "participants who reached day 90 between 1 January and 30 November").

    Parameters
    ----------
    data : DataFrame
        One row per employment: end date, gender and the result code.
    outcome, gender, end_date : str
        Columns (``end_date`` in ISO 8601, ``"2022-01-31"``, or datetimes; missing: not ended).
    genders : mapping, optional
    start, end : date-like, optional
        Period in which day ``days`` is reached (default: no limit).
    days : int
    categories : sequence of str
        The allowed result codes, in display order (default :data:`OUTCOMES_90`).
    id : str or None
        The employment's identifier (e.g. ``"employment_id"``): what the cell-key method keys a
        record on. ``None``: a row is identified by its content.
    lang : {"en", "sv"}

    Returns
    -------
    GenderTable
        Rows: the categories and ``all``.

    Raises
    ------
    DataError
        Unknown result codes (listing them), a missing result for an employment that reached day
        ``days``, unknown gender codes; row positions are positions in ``data``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"gender": ["female", "male", "male"],
    ...                    "end_date": pd.to_datetime(["2021-12-01", "2022-03-01", "2022-10-01"]),
    ...                    "outcome_90": ["to_work", "to_studies", "to_work"]})
    >>> outcomes_after_employment(df, start="2022-01-01", end="2022-11-30").table.loc[["to_work", "all"]]
    ... # doctest: +NORMALIZE_WHITESPACE
             women  men  total
    outcome
    to_work      1    0      1
    all          1    1      2
    """
    func = "outcomes_after_employment"
    check_columns(data, [c for c in (outcome, gender, end_date, id) if c is not None])
    s, e = period(start, end, func)
    ends = dates_of(data, end_date)
    reached = ends + pd.Timedelta(days=days)
    keep = ends.notna().to_numpy()
    if s is not None:
        keep &= (reached >= s).to_numpy()
    if e is not None:
        keep &= (reached <= e).to_numpy()
    check_codes(data, outcome, categories, rows=keep, fix=f"Every employment that reached day {days} needs a "
                "result; drop the others explicitly if that is intended.")
    # no counts in the notes: the number of rows counted is the table's grand total, which the
    # cell-key method publishes with noise only
    notes = [f"employments that ended and reached day {days}"
             + (f" between {s.date()} and {e.date()}" if s is not None and e is not None else "")]
    table, cells = _gender_table(data, keep, outcome, categories, gender, genders, "outcome", func, id)
    return GenderTable(table=table, kind="outcomes_after_employment", notes=tuple(notes), lang=lang, cells=cells)


@validate_params({"data": DATA, "subsidy": COLUMN, "gender": COLUMN, "genders": GENDER_MAP, "hire_date": COLUMN,
                  "start": DATE, "end": DATE, "categories": CODES, "id": COLUMN_OR_NONE, "lang": LANG})
def hires_by_subsidy(data: pd.DataFrame, *, subsidy: str = "subsidy", gender: str = "gender",
                     genders: Mapping[Any, str] | None = None, hire_date: str = "hire_date",
                     start: DateLike = None, end: DateLike = None,
                     categories: Sequence[str] = SUBSIDIES, id: str | None = None,
                     lang: Lang = "en") -> GenderTable:
    """New hires by employment-subsidy type, for women, men and total.

    Parameters
    ----------
    data : DataFrame
        One row per employment: hire date, subsidy code, gender.
    subsidy, gender, hire_date : str
        Columns (``hire_date`` in ISO 8601, ``"2022-01-31"``, or datetimes).
    genders : mapping, optional
    start, end : date-like, optional
        Hires from ``start`` to ``end`` inclusive (e.g. ``"2022-01-01"``, ``"2022-12-31"``).
    categories : sequence of str
        Allowed subsidy codes in display order (default :data:`SUBSIDIES`).
    id : str or None
        The employment's identifier (e.g. ``"employment_id"``): what the cell-key method keys a
        record on. ``None``: a row is identified by its content.
    lang : {"en", "sv"}

    Returns
    -------
    GenderTable
        Rows: the subsidy types and ``all``.

    Raises
    ------
    DataError
        Unknown subsidy or gender codes among the hires counted, a missing hire date when a period
        is given; row positions are positions in ``data``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"gender": ["female", "male", "female"], "subsidy": ["nystartsjobb"] * 2 + ["no_subsidy"],
    ...                    "hire_date": pd.to_datetime(["2022-02-01", "2022-05-01", "2021-05-01"])})
    >>> hires_by_subsidy(df, start="2022-01-01", end="2022-12-31").table.loc["all"].tolist()
    [1, 1, 2]
    """
    func = "hires_by_subsidy"
    check_columns(data, [c for c in (subsidy, gender, hire_date, id) if c is not None])
    s, e = period(start, end, func)
    hires = dates_of(data, hire_date)
    keep = np.ones(len(data), dtype=bool)
    if s is not None or e is not None:
        no_date = hires.isna().to_numpy()
        if no_date.any():
            raise data_error(hire_date, "hire dates must not be missing when a period is given", no_date)
    if s is not None:
        keep &= (hires >= s).to_numpy()
    if e is not None:
        keep &= (hires <= e).to_numpy()
    check_codes(data, subsidy, categories, rows=keep, fix="Code hires without a subsidy as 'no_subsidy'.")
    table, cells = _gender_table(data, keep, subsidy, categories, gender, genders, "subsidy", func, id)
    when = "".join([f" from {s.date()}" if s is not None else "", f" to {e.date()}" if e is not None else ""])
    notes = [f"hires{when}" if when else "all hires"]
    return GenderTable(table=table, kind="hires_by_subsidy", notes=tuple(notes), lang=lang, cells=cells)
