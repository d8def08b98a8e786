"""Unique households with economic assistance per month, and the change against earlier years."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from impact._errors import ImpactWarning, ParameterError, data_error
from impact._validation import InstanceOf, check_columns, validate_params
from impact.labels import Lang, format_change, format_percent, label, month_name, relabel
from impact.monitor._common import (COLUMN, DATA, LANG, LANG_OR_NONE, MONTH, THRESHOLD, Display, MonthLike,
                                    flag_missing, months_of, number_format, published_params, to_month)
from impact.publish import MARK, Suppression, suppress


@dataclass(frozen=True)
class HouseholdSeries(Display):
    """Unique households with economic assistance per month and the change against earlier years.

    Attributes
    ----------
    table : DataFrame
        Index ``month``; columns ``households`` (unique households; ``NaN`` where the month is
        missing from the data), ``change_1y`` and ``change_2y`` (relative change against the same
        month one and two years earlier; ``NaN`` where either month is missing).
    n_duplicates : int
        Household-month rows that repeat a household already counted in that month.
    missing_months : tuple of Period
    notes : tuple of str
    lang : {"en", "sv"}
    """

    table: pd.DataFrame
    n_duplicates: int = 0
    missing_months: tuple = ()
    notes: tuple[str, ...] = ()
    lang: Lang = "en"
    _TITLE: ClassVar[str] = "title_households"

    def summary(self) -> pd.DataFrame:
        """Long-ish tidy form: ``month``, ``year``, ``month_of_year``, ``households``, ``change_1y``, ``change_2y``."""
        out = self.table.reset_index()
        out.insert(1, "year", out["month"].dt.year)
        out.insert(2, "month_of_year", out["month"].dt.month)
        return out

    @validate_params({"month": MONTH, "lang": LANG_OR_NONE}, name="HouseholdSeries.change_text")
    def change_text(self, month: MonthLike = None, lang: Lang | None = None) -> str:
        """``"-17.7% compared with the same month 2021, -26.2% compared with the same month 2020"``.

        Parameters
        ----------
        month : month-like, optional
            Default: the last month of the series.
        lang : {"en", "sv"}
        """
        lang_: Lang = self.lang if lang is None else lang
        m = to_month(month, "month", "HouseholdSeries.change_text")
        if m is None:
            m = self.table.index.max()
        if m not in self.table.index:
            raise ParameterError(f"The 'month' parameter of HouseholdSeries.change_text must be in the series "
                                 f"({self.table.index.min()} to {self.table.index.max()}). Got {month!r}.")
        row = self.table.loc[m]
        parts = [format_change(row[f"change_{k}y"], m.year - k, lang_) for k in (1, 2)]
        return ", ".join(p for p in parts if p)

    @validate_params(published_params(), name="HouseholdSeries.suppression")
    def suppression(self, threshold: int = 5, mark: str = MARK, lang: Lang | None = None) -> Suppression | None:
        """The :class:`~impact.publish.Suppression` of the household counts behind :meth:`published`
        (months with rows only; a sum over months means nothing, so it is not a known total).
        ``None`` when every month is missing."""
        present = self.table["households"].dropna()
        if not len(present):
            return None
        return suppress(present.astype(int).to_frame(), threshold, mark, hidden_totals="ignore",
                        fmt=number_format(self.lang if lang is None else lang))

    @validate_params(published_params(), name="HouseholdSeries.published")
    def published(self, lang: Lang | None = None, threshold: int = 5, mark: str = MARK) -> pd.DataFrame:
        """Households and changes as strings; small counts and changes computed from them hidden."""
        lang_: Lang = self.lang if lang is None else lang
        t = self.table
        out = pd.DataFrame(label("missing", lang_), index=t.index, columns=t.columns, dtype=object)
        hidden = pd.Series(False, index=t.index)
        res = self.suppression(threshold, mark, lang_)
        if res is not None:
            out.loc[res.published.index, "households"] = res.published["households"]
            hidden.loc[res.mask.index] = res.mask["households"].to_numpy()
        for k in (1, 2):
            col = f"change_{k}y"
            lag_hidden = hidden.reindex(t.index - 12 * k, fill_value=False).to_numpy(dtype=bool)
            text = t[col].map(lambda v: format_percent(v, lang_, 1, sign=True))
            out[col] = np.where(hidden.to_numpy() | lag_hidden, mark, text)
            out.loc[t["households"].isna(), col] = label("missing", lang_)
        return relabel(out, lang_)

    @validate_params({"years": [InstanceOf((list, tuple, range), "a list of years"), None], "lang": LANG_OR_NONE,
                      "threshold": THRESHOLD}, name="HouseholdSeries.plot")
    def plot(self, ax: Any = None, *, years: Sequence[int] | None = None, lang: Lang | None = None,
             threshold: int = 5) -> Any:
        """One line per year over January to December (the seed's figure), the latest year bold. Returns the Axes."""
        import matplotlib.pyplot as plt

        lang_: Lang = self.lang if lang is None else lang
        v = self.table["households"].copy()
        v[(v > 0) & (v < threshold)] = np.nan
        all_years = sorted({p.year for p in v.index})
        shown = list(years) if years is not None else all_years
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4.5))
            ax.figure.set_layout_engine("tight")
        x = np.arange(1, 13)
        last = max(shown)
        for y in sorted(shown, reverse=True):
            s = [v.get(pd.Period(f"{y}-{m:02d}", "M"), np.nan) for m in x]
            ax.plot(x, s, marker="o" if y == last else None, linewidth=2.5 if y == last else 1.2,
                    label=f"{label('year', lang_)} {y}")
        ax.set_xticks(x, [month_name(m, lang_)[:3] for m in range(1, 13)])
        ax.set_ylabel(label("households", lang_))
        title = label(self.title_key, lang_)
        change = self.change_text(lang=lang_)
        ax.set_title(title + (f"\n{change}" if change else ""), fontsize=10)
        ax.legend(fontsize=8)
        return ax

    def __repr__(self) -> str:
        idx = self.table.index
        return (f"HouseholdSeries({len(idx)} months {idx.min()} to {idx.max()}, "
                f"{self.n_duplicates} duplicate rows, {len(self.missing_months)} missing months)")


@validate_params({"data": DATA, "household": COLUMN, "month": COLUMN, "start": MONTH, "end": MONTH, "lang": LANG})
def households_on_assistance(data: pd.DataFrame, *, household: str = "household_id", month: str = "month",
                             start: MonthLike = None, end: MonthLike = None,
                             lang: Lang = "en") -> HouseholdSeries:
    """Unique households with economic assistance per month, with the change against the same month
    one and two years earlier.

    Parameters
    ----------
    data : DataFrame
        One row per household and month with assistance (duplicates are counted once, and reported).
    household, month : str
        Columns: household identifier; month (a monthly Period, a date, or ISO 8601 text:
        ``"2022-10"`` or ``"2022-10-31"``).
    start, end : month-like, optional
        First and last month (default: the first and last month in the data). Months in the range
        without any row are flagged as missing (``NaN`` and a warning), never zero.
    lang : {"en", "sv"}

    Returns
    -------
    HouseholdSeries

    Raises
    ------
    DataError
        Missing household identifiers, months that are not months or are missing (naming the row
        positions in ``data``, never the identifiers).

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"household_id": ["a", "b", "c", "d", "a", "b", "c", "c"],
    ...                    "month": ["2021-01"] * 4 + ["2022-01"] * 4})
    >>> res = households_on_assistance(df, start="2022-01")
    >>> res.table  # doctest: +NORMALIZE_WHITESPACE
             households  change_1y  change_2y
    month
    2022-01         3.0      -0.25        NaN
    >>> res.n_duplicates
    1
    >>> res.change_text(lang="sv")
    '−25,0 % jämfört med samma månad 2021'
    """
    func = "households_on_assistance"
    check_columns(data, [household, month])
    ids = data[household]
    if ids.isna().any():
        raise data_error(household, "household identifiers must not be missing", ids.isna().to_numpy())
    months = months_of(data, month)
    # work on integer month ordinals: boxing 100,000s of Period objects is slow
    df = pd.DataFrame({"month": months.array.asi8, "id": ids.to_numpy()})
    n_dup = int(df.duplicated().sum())
    notes = []
    if n_dup:
        warnings.warn(f"{func}: {n_dup} duplicate household-month row(s); each household is counted once "
                      "per month.", ImpactWarning, stacklevel=3)  # the caller of the public function
        notes.append(f"{n_dup} duplicate household-month rows counted once")
    first = to_month(start, "start", func)
    last = to_month(end, "end", func)
    if first is None:
        first = pd.Period(ordinal=int(df["month"].min()), freq="M")
    if last is None:
        last = pd.Period(ordinal=int(df["month"].max()), freq="M")
    if last < first:
        raise ParameterError(f"The 'end' parameter of {func} must not be before 'start'. Got {start!r} to {end!r}.")
    rng_months = pd.period_range(first, last, freq="M", name="month")
    counts = df.drop_duplicates().groupby("month")["id"].size()
    n = pd.Series(counts.reindex(rng_months.asi8).to_numpy(dtype=float), index=rng_months)
    missing = [m for m, v in zip(rng_months, n.to_numpy(), strict=True) if np.isnan(v)]
    if missing:
        flag_missing(missing, "household rows", func, zero_hint=False)
        notes.append(f"{len(missing)} month(s) without rows are shown as missing: " + ", ".join(map(str, missing)))
    table = pd.DataFrame({"households": n})
    for k in (1, 2):
        lag = counts.reindex(rng_months.asi8 - 12 * k).to_numpy(dtype=float)
        table[f"change_{k}y"] = n.to_numpy() / lag - 1
    table.index.name = "month"
    return HouseholdSeries(table=table, n_duplicates=n_dup, missing_months=tuple(missing),
                           notes=tuple(notes), lang=lang)
