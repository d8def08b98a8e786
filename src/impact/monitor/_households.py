"""Unique households with economic assistance per month, and the change against earlier years."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from impact._errors import ImpactWarning, ParameterError, data_error
from impact._validation import InstanceOf, check_columns, validate_params
from impact.labels import Lang, format_change, format_percent, label, month_name, relabel
from impact.monitor._common import (COLUMN, DATA, DISCLOSURE, LANG, LANG_OR_NONE, MONTH, PTABLE_, SECRET, THRESHOLD,
                                    Display, MonthLike, cell_records, disclosure_params, flag_missing, months_of,
                                    no_cells, number_format, perturbed, published_params, to_month)
from impact.publish import MARK, CellKeyTable, Suppression, suppress


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
    cells : DataFrame
        The households behind each month: ``row`` (the month's ordinal, ``Period.ordinal``),
        ``column`` (``households``), ``id``. Not for publication: what
        ``published(disclosure="cellkey")`` keys its noise on.
    """

    table: pd.DataFrame
    n_duplicates: int = 0
    missing_months: tuple = ()
    notes: tuple[str, ...] = ()
    lang: Lang = "en"
    cells: pd.DataFrame = field(default_factory=no_cells, repr=False, compare=False)
    _TITLE: ClassVar[str] = "title_households"

    def summary(self) -> pd.DataFrame:
        """Long-ish tidy form: ``month``, ``year``, ``month_of_year``, ``households``, ``change_1y``, ``change_2y``."""
        out = self.table.reset_index()
        out.insert(1, "year", out["month"].dt.year)
        out.insert(2, "month_of_year", out["month"].dt.month)
        return out

    @validate_params({"month": MONTH, "lang": LANG_OR_NONE, "threshold": THRESHOLD, "disclosure": DISCLOSURE,
                      "secret": SECRET}, name="HouseholdSeries.change_text")
    def change_text(self, month: MonthLike = None, lang: Lang | None = None, *, threshold: int = 5,
                    disclosure: str = "threshold", secret: str | None = None) -> str:
        """``"-17.7% compared with the same month 2021, -26.2% compared with the same month 2020"``,
        from the published counts only.

        A change is computed from the counts as :meth:`published` shows them: with threshold
        suppression a change that involves a hidden month is left out; with the cell-key method
        it is the change between the perturbed counts (so it tells nothing the table does not).

        Parameters
        ----------
        month : month-like, optional
            Default: the last month of the series.
        lang : {"en", "sv"}
        threshold, disclosure, secret
            As in :meth:`published`.
        """
        lang_: Lang = self.lang if lang is None else lang
        m = to_month(month, "month", "HouseholdSeries.change_text")
        if m is None:
            m = self.table.index.max()
        if m not in self.table.index:
            raise ParameterError(f"The 'month' parameter of HouseholdSeries.change_text must be in the series "
                                 f"({self.table.index.min()} to {self.table.index.max()}). Got {month!r}.")
        changes = self._changes(self._shown(threshold, disclosure, secret))
        parts = [format_change(changes.loc[m, f"change_{k}y"], m.year - k, lang_) for k in (1, 2)]
        return ", ".join(p for p in parts if p)

    @validate_params({"secret": SECRET, "ptable": PTABLE_},
                     name="HouseholdSeries.perturbation")
    def perturbation(self, secret: str | None, ptable: Mapping[int, Mapping[int, float]] | None = None) -> CellKeyTable:
        """The household counts with cell-key noise (:func:`impact.publish.cell_key_counts`), each
        month keyed on its households (``.counts`` are the true ones; not for publication)."""
        ck = perturbed(self.cells, secret, "HouseholdSeries.perturbation", index=list(self.table.index.asi8),
                       columns=["households"], ptable=ptable)
        return CellKeyTable(*(t.set_axis(self.table.index, axis=0) for t in (ck.published, ck.counts, ck.keys)))

    def _shown(self, threshold: int, disclosure: str, secret: str | None) -> pd.Series:
        """The household counts as published, as numbers: ``NaN`` where hidden or missing."""
        t = self.table["households"]
        if disclosure == "cellkey":
            out = self.perturbation(secret).published["households"].astype(float)
        else:
            out = t.astype(float).copy()
            res = self.suppression(threshold)
            if res is not None:
                out.loc[res.mask.index[res.mask["households"].to_numpy()]] = np.nan
        return out.where(t.notna())

    def _changes(self, shown: pd.Series) -> pd.DataFrame:
        """The change against one and two years earlier, of the published counts ``shown``."""
        out = pd.DataFrame(index=self.table.index)
        ordinals = self.table.index.asi8
        by_ordinal = pd.Series(shown.to_numpy(), index=ordinals)
        for k in (1, 2):
            lag = by_ordinal.reindex(ordinals - 12 * k).to_numpy(dtype=float)
            with np.errstate(divide="ignore", invalid="ignore"):
                change = shown.to_numpy() / lag - 1
            out[f"change_{k}y"] = np.where(np.isfinite(change), change, np.nan)
        return out

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

    @validate_params(disclosure_params(), name="HouseholdSeries.published")
    def published(self, lang: Lang | None = None, threshold: int = 5, mark: str = MARK, *,
                  disclosure: str = "threshold", secret: str | None = None) -> pd.DataFrame:
        """Households and changes as strings: small counts hidden (``disclosure="threshold"``) or
        every count perturbed by the cell-key method (``disclosure="cellkey"``, with the office's
        ``secret``); the changes are computed from the published counts (hidden where a count is)."""
        lang_: Lang = self.lang if lang is None else lang
        t = self.table
        out = pd.DataFrame(label("missing", lang_), index=t.index, columns=t.columns, dtype=object)
        shown = self._shown(threshold, disclosure, secret)
        fmt = number_format(lang_)
        present = t["households"].notna().to_numpy()
        out.loc[present, "households"] = [mark if np.isnan(v) else fmt(int(v)) for v in shown[present]]
        changes = self._changes(shown)
        for k in (1, 2):
            col = f"change_{k}y"
            lag_present = t["households"].reindex(t.index - 12 * k).notna().to_numpy()
            text = changes[col].map(lambda v: format_percent(v, lang_, 1, sign=True))
            # a change is unknown where a month is missing, withheld where a count is hidden
            hidden = changes[col].isna().to_numpy() & present & (lag_present | t[col].notna().to_numpy())
            out[col] = np.where(hidden, mark, text)
            out.loc[~present, col] = label("missing", lang_)
        return relabel(out, lang_)

    @validate_params({"years": [InstanceOf((list, tuple, range), "a list of years"), None], "lang": LANG_OR_NONE,
                      "threshold": THRESHOLD, "disclosure": DISCLOSURE, "secret": SECRET},
                     name="HouseholdSeries.plot")
    def plot(self, ax: Any = None, *, years: Sequence[int] | None = None, lang: Lang | None = None,
             threshold: int = 5, disclosure: str = "threshold", secret: str | None = None) -> Any:
        """One line per year over January to December (the seed's figure), the latest year bold,
        as published (hidden months are not drawn); the title says what is counted and the
        change of the last month. Returns the Axes."""
        import matplotlib.pyplot as plt

        lang_: Lang = self.lang if lang is None else lang
        v = self._shown(threshold, disclosure, secret)
        all_years = sorted({p.year for p in v.index})
        shown = list(years) if years is not None else all_years
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4.5))
            ax.figure.set_layout_engine("tight")
        x = np.arange(1, 13)
        last = max(shown)
        for y in sorted(shown, reverse=True):
            s = [v.get(pd.Period(f"{y}-{m:02d}", "M"), np.nan) for m in x]
            if not np.isfinite(np.asarray(s, dtype=float)).any():  # a year without data gets no legend entry
                continue
            ax.plot(x, s, marker="o" if y == last else None, linewidth=2.5 if y == last else 1.2,
                    label=f"{label('year', lang_)} {y}")
        ax.set_xticks(x, [month_name(m, lang_)[:3] for m in range(1, 13)])
        ax.set_ylabel(label("households", lang_))
        title = label(self.title_key, lang_)
        change = self.change_text(lang=lang_, threshold=threshold, disclosure=disclosure, secret=secret)
        ax.set_title(title + (f"\n{change}" if change else ""), fontsize=10)
        if ax.get_legend_handles_labels()[0]:
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
    >>> res.change_text(lang="sv", threshold=1)  # 2021-01 is not published in this series: no change is told
    ''
    >>> full = households_on_assistance(df)  # 2021-01 to 2022-01 (the months between are missing)
    >>> full.change_text(lang="sv", threshold=1)  # from the published counts (4 and 3 show at threshold 1)
    '−25,0 % jämfört med samma månad 2021'
    >>> full.change_text(lang="sv")  # at the default threshold of 5 both counts are hidden
    ''
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
    uniq = df.drop_duplicates()
    cells = cell_records(uniq["month"], np.full(len(uniq), "households", dtype=object), uniq["id"])
    return HouseholdSeries(table=table, n_duplicates=n_dup, missing_months=tuple(missing),
                           notes=tuple(notes), lang=lang, cells=cells)
