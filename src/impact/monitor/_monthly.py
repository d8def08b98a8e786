"""People (or households) reaching an outcome per month, for women, men and total."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

import numpy as np
import pandas as pd

from impact._errors import DataError, data_error
from impact._validation import Options, check_columns, check_params, validate_params
from impact.labels import Lang, format_month, label, month_name, relabel
from impact.monitor._common import (CODES, COLOURS, COLUMN, COLUMN_OR_NONE, DATA, DATE, DISCLOSURE, GENDER_MAP,
                                    GENDERS, INT_OR_NONE, LANG, LANG_OR_NONE, PTABLE_, SECRET, THRESHOLD, DateLike,
                                    Display, cell_records, check_codes, dates_of, disclosure_params, flag_missing,
                                    gender_of, no_cells, number_format, period, perturbed, published_params,
                                    record_ids)
from impact.publish import MARK, CellKeyTable, Suppression, suppress

#: the title of a series by what it counts
_TITLES = {"to_work_or_studies": "title_to_work_or_studies", "household_exits": "report_household_exits"}

#: outcome codes of programme participants
PARTICIPANT_OUTCOMES: tuple[str, ...] = ("to_work", "to_studies", "other", "ongoing")


@dataclass(frozen=True)
class MonthlySeries(Display):
    """People (or households) reaching an outcome per month, for women, men and total.

    Attributes
    ----------
    table : DataFrame
        Index ``month`` (monthly Period); columns ``women``, ``men``, ``total`` (only ``total``
        without a gender column). Months without records are ``NaN`` unless declared zero.
    missing_months : tuple of Period
        Months in the range with no records at all (flagged, not zero).
    notes : tuple of str
    lang : {"en", "sv"}
    kind : {"to_work_or_studies", "household_exits"}
        What is counted (it titles the table and the chart).
    cells : DataFrame
        The records behind each inner cell: ``row`` (month), ``column`` (gender, or ``total``),
        ``id`` (the person or household). Not for publication: what the cell-key method
        (``published(disclosure="cellkey")``) keys its noise on.
    """

    table: pd.DataFrame
    missing_months: tuple = ()
    notes: tuple[str, ...] = ()
    lang: Lang = "en"
    cells: pd.DataFrame = field(default_factory=no_cells, repr=False, compare=False)
    kind: str = "to_work_or_studies"
    _TITLE: ClassVar[str] = "title_to_work_or_studies"

    @property
    def title_key(self) -> str:
        """The label key of the title: what the series counts (people, or households leaving assistance)."""
        return _TITLES.get(self.kind, self._TITLE)

    def summary(self) -> pd.DataFrame:
        """Long form: ``month``, ``gender``, ``n``, ``missing``."""
        long = self.table.reset_index().melt(id_vars="month", var_name="gender", value_name="n")
        long["missing"] = long["month"].isin(list(self.missing_months))
        return long

    @validate_params(published_params(), name="MonthlySeries.suppression")
    def suppression(self, threshold: int = 5, mark: str = MARK, lang: Lang | None = None) -> Suppression | None:
        """The :class:`~impact.publish.Suppression` of the months with records behind :meth:`published`
        (``None`` when every month is missing)."""
        present = self.table.drop(index=list(self.missing_months))
        if present.empty:
            return None
        total_col = "total" if "women" in present.columns else None
        # each month on its own (no sum over months is published): the same month is hidden the
        # same way in every monthly release, however many months the series has by then
        return suppress(present.astype(int), threshold, mark, total_col=total_col, hidden_totals="ignore",
                        fmt=number_format(self.lang if lang is None else lang))

    @validate_params({"secret": SECRET, "ptable": PTABLE_},
                     name="MonthlySeries.perturbation")
    def perturbation(self, secret: str | None, ptable: Mapping[int, Mapping[int, float]] | None = None) -> CellKeyTable:
        """The table with cell-key noise (:func:`impact.publish.cell_key_counts`): every month's
        cells and its total keyed on the records behind them (``.counts`` are the true ones; not
        for publication)."""
        inner = [c for c in self.table.columns if c != "total"] or ["total"]
        total = "total" if inner != ["total"] else None
        return perturbed(self.cells, secret, "MonthlySeries.perturbation", index=list(self.table.index),
                         columns=inner, total_col=total, additive=True, ptable=ptable)

    def _shown(self, threshold: int, disclosure: str, secret: str | None) -> pd.DataFrame:
        """The counts as published, as numbers: ``NaN`` where hidden or missing."""
        if disclosure == "cellkey":
            out = self.perturbation(secret).published[list(self.table.columns)].astype(float)
        else:
            out = self.table.astype(float).copy()
            res = self.suppression(threshold)
            if res is not None:
                out[res.mask.reindex(out.index, fill_value=False).to_numpy()] = np.nan
        out.loc[list(self.missing_months)] = np.nan
        return out

    @validate_params(disclosure_params(), name="MonthlySeries.published")
    def published(self, lang: Lang | None = None, threshold: int = 5, mark: str = MARK, *,
                  disclosure: str = "threshold", secret: str | None = None) -> pd.DataFrame:
        """Counts as strings, months and columns labelled: small cells suppressed
        (``disclosure="threshold"``) or every count perturbed by the cell-key method
        (``disclosure="cellkey"``, with the office's ``secret``)."""
        lang_: Lang = self.lang if lang is None else lang
        out = pd.DataFrame(label("missing", lang_), index=self.table.index, columns=self.table.columns, dtype=object)
        if disclosure == "cellkey":
            shown = self._shown(threshold, disclosure, secret)
            fmt = number_format(lang_)
            present = ~self.table.index.isin(list(self.missing_months))
            out.loc[present] = shown.loc[present].map(lambda v: fmt(int(v)))
            return relabel(out, lang_)
        res = self.suppression(threshold, mark, lang_)
        if res is not None:
            out.loc[res.published.index] = res.published
        return relabel(out, lang_)

    @validate_params({"year": INT_OR_NONE, "gender": ["column"], "lang": LANG_OR_NONE, "threshold": THRESHOLD,
                      "disclosure": DISCLOSURE, "secret": SECRET}, name="MonthlySeries.plot")
    def plot(self, ax: Any = None, *, year: int | None = None, gender: str = "total",
             lang: Lang | None = None, threshold: int = 5, disclosure: str = "threshold",
             secret: str | None = None) -> Any:
        """Bars per month of ``year`` (default: the last) against a line for the year before, as
        published (hidden months are not drawn). Returns the Axes."""
        import matplotlib.pyplot as plt

        lang_: Lang = self.lang if lang is None else lang
        check_params("MonthlySeries.plot", {"gender": [Options(self.table.columns)]}, {"gender": gender})
        values = self._shown(threshold, disclosure, secret)[gender]
        year = year or int(self.table.index.max().year)
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4))
            ax.figure.set_layout_engine("tight")
        x = np.arange(1, 13)
        for y, style in ((year, "bar"), (year - 1, "line")):
            s = pd.Series([values.get(pd.Period(f"{y}-{m:02d}", "M"), np.nan) for m in x], index=x, dtype=float)
            if not s.notna().any():  # a year without data gets no legend entry
                continue
            if style == "bar":
                ax.bar(x, s.to_numpy(), color=COLOURS.get(gender, "#555555"), label=str(y))
            else:
                ax.plot(x, s.to_numpy(), color="black", marker="o", label=str(y))
        ax.set_xticks(x, [month_name(m, lang_)[:3] for m in range(1, 13)])
        ax.set_ylabel(label("n", lang_))
        ax.set_title(f"{label(self.title_key, lang_)}, {label(gender, lang_).lower()}")
        if ax.get_legend_handles_labels()[0]:
            ax.legend()
        if self.kind == "to_work_or_studies" and len(self.table):
            # the goal table counts the whole programme: say which months these are (gid 'alt': also in the alt text)
            months = label("monthly_period", lang_, first=format_month(self.table.index.min(), lang_),
                           last=format_month(self.table.index.max(), lang_))
            ax.annotate(months, (0, 0), xycoords="axes fraction", xytext=(0, -30), textcoords="offset points",
                        va="top", ha="left", fontsize=9, color="#444", gid="alt")
        return ax

    def __repr__(self) -> str:
        idx = self.table.index
        return (f"MonthlySeries({len(idx)} months {idx.min()} to {idx.max()}, "
                f"{int(np.nansum(self.table['total']))} in total, {len(self.missing_months)} missing months)")


@validate_params({"data": DATA, "date": COLUMN, "outcome": COLUMN, "outcomes": CODES, "codes": CODES + [None],
                  "gender": COLUMN_OR_NONE, "genders": GENDER_MAP, "id": COLUMN_OR_NONE, "start": DATE,
                  "end": DATE, "empty_months": [Options(["flag", "zero"])], "kind": [Options(list(_TITLES))],
                  "lang": LANG})
def to_work_or_studies_by_month(data: pd.DataFrame, *, date: str = "end_date", outcome: str = "outcome",
                                outcomes: Sequence[str] = ("to_work", "to_studies"),
                                codes: Sequence[str] | None = PARTICIPANT_OUTCOMES,
                                gender: str | None = "gender", genders: Mapping[Any, str] | None = None,
                                id: str | None = "person_id", start: DateLike = None, end: DateLike = None,
                                empty_months: Literal["flag", "zero"] = "flag",
                                kind: str = "to_work_or_studies", lang: Lang = "en") -> MonthlySeries:
    """People who went to work or studies, per month, for women, men and total.

    Parameters
    ----------
    data : DataFrame
        One row per person (or event) with an outcome and its date.
    date, outcome : str
        Columns: the date of the outcome (ISO 8601, ``"2022-01-31"``, or datetimes) and its code.
    outcomes : sequence of str
        Codes that count (default work and studies).
    codes : sequence of str or None
        Every code allowed in ``outcome``; others raise an error listing them. ``None``: no check.
    gender : str or None
        Gender column; ``None`` gives a total only (e.g. households leaving economic assistance).
    genders : mapping, optional
        Record codes -> ``"women"``/``"men"``.
    id : str or None
        Identifier: a person counts once per month. ``None`` counts rows.
    start, end : date-like, optional
        First and last month of the series (default: the first and last month with an outcome).
    empty_months : {"flag", "zero"}
        A month without any record is missing data unless you say it was truly zero.
    kind : {"to_work_or_studies", "household_exits"}
        What the series counts: people to work or studies, or households leaving economic
        assistance for work or studies (the title of its table and chart).
    lang : {"en", "sv"}

    Returns
    -------
    MonthlySeries

    Raises
    ------
    DataError
        Unknown outcome codes, dates that are not dates, an outcome that counts without a date,
        unknown gender codes (naming the row positions in ``data``).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"person_id": [1, 2, 3, 4], "gender": ["female", "male", "male", "female"],
    ...                    "outcome": ["to_work", "to_studies", "to_work", "other"],
    ...                    "end_date": pd.to_datetime(["2022-01-10", "2022-01-20", "2022-02-03", "2022-02-05"])})
    >>> to_work_or_studies_by_month(df).table  # doctest: +NORMALIZE_WHITESPACE
             women  men  total
    month
    2022-01      1    1      2
    2022-02      0    1      1
    """
    func = "to_work_or_studies_by_month"
    check_columns(data, [c for c in (date, outcome, gender, id) if c is not None])
    if codes is not None:
        check_codes(data, outcome, codes)
    s, e = period(start, end, func)
    hit = data[outcome].isin(list(outcomes)).to_numpy()
    dates = dates_of(data, date)
    no_date = hit & dates.isna().to_numpy()
    if no_date.any():
        raise data_error(date, f"an outcome in {list(outcomes)} must have a date", no_date)
    g = gender_of(data, gender, genders, func) if gender is not None else pd.Series("total", index=data.index)
    df = pd.DataFrame({"month": dates.dt.to_period("M"), "gender": g,
                       "id": record_ids(data, id)})[hit]
    if s is not None:
        df = df[df["month"] >= s.to_period("M")]
    if e is not None:
        df = df[df["month"] <= e.to_period("M")]
    first = s.to_period("M") if s is not None else (df["month"].min() if len(df) else None)
    last = e.to_period("M") if e is not None else (df["month"].max() if len(df) else None)
    if first is None or last is None:
        raise DataError(f"No rows with {outcome!r} in {list(outcomes)} in the period; nothing to count.",
                        column=outcome, rule="at least one outcome")
    months = pd.period_range(first, last, freq="M", name="month")
    df = df.drop_duplicates(["month", "id"])
    columns = list(GENDERS) if gender is not None else ["total"]
    table = (df.groupby(["month", "gender"]).size().unstack("gender")
             .reindex(index=months, columns=columns).fillna(0))
    if gender is not None:
        table["total"] = table[list(GENDERS)].sum(axis=1)
    table = table.astype(int)
    table.index.name = "month"
    table.columns.name = None
    observed = set(df["month"].unique())
    missing = [m for m in months if m not in observed]
    notes = [f"a person counts once per month ({id!r})" if id else "each row counts",
             f"the monthly counts cover {first} to {last} only; a goal table counting the whole programme "
             "covers a different period, so its totals differ"]
    if empty_months == "flag" and missing:
        flag_missing(missing, "records", func)
        table = table.astype(float)
        table.loc[missing] = np.nan
        notes.append(f"{len(missing)} month(s) without records are shown as missing: "
                     + ", ".join(map(str, missing)))
    elif missing:
        notes.append(f"{len(missing)} month(s) without records are declared zero (empty_months='zero')")
        missing = []
    cells = cell_records(df["month"], df["gender"], df["id"])
    return MonthlySeries(table=table, missing_months=tuple(missing), notes=tuple(notes), lang=lang, cells=cells,
                         kind=kind)
