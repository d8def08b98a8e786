"""Small-cell suppression for every published count table.

A published table of counts about people must not reveal small groups. :func:`suppress` applies
the threshold rule (*primary* suppression: cells with fewer than ``threshold`` people are shown as a
mark) and then *secondary* suppression: more cells are hidden until no primary cell can be
recalculated from the rest of the table and its row and column totals.

How secondary suppression works
-------------------------------
The table is seen as a grid of inner cells with a margin row and a margin column of totals
(the corner is the grand total). Each row and each column is a linear equation: its inner cells
sum to its total. The totals are part of the system whether or not they are printed in the
table: with ``hidden_totals="known"`` (the default) a total that is not in the table is assumed to
be known to a reader anyway (it is usually printed elsewhere in the report), so it is a fixed
number in the equations; with ``hidden_totals="ignore"`` such sums are left out (use this when
the sum has no meaning, e.g. unique households summed over months).

1. *No lonely suppression.* Every equation (row or column, totals included) that holds exactly
   one suppressed cell gets a partner: the cell of that equation whose suppression creates the
   fewest new lonely cells in the crossing equations, preferring inner cells to totals, then
   cells big enough to give protection, then the smallest. This repeats until no equation has
   exactly one suppressed cell, so a partner that creates a new lonely suppression in its
   column gets a partner in turn.
2. *Audit by linear programming.* For every primary cell the reader's best bounds are found with
   :func:`scipy.optimize.linprog`: minimise and maximise the cell subject to every row and column
   equation, the published cells fixed and every suppressed cell ``>= 0``. A cell is protected when
   the width of this interval is at least ``margin`` (default: ``threshold``), or as wide as it
   can be when every cell that may be hidden is hidden (e.g. a row whose known total is 3 can
   never give an interval wider than 3).
3. *Repair.* A primary cell that fails the audit gets the further suppression that widens its
   interval most (then the cheapest one), step 1 runs again, and the audit repeats.

True zeros are published by default (``zeros="publish"``): a zero cell counts nobody, so it
discloses nothing about a person, and hiding zeros makes tables unreadable. Zeros may still be
hidden as secondary partners. Use ``zeros="suppress"`` when a zero is itself sensitive (e.g.
"no woman in this unit was ..." about a group of known people).

Examples
--------
>>> import pandas as pd
>>> t = pd.DataFrame({"women": [2, 42, 220], "men": [0, 46, 189]},
...                  index=["extratjanster", "lonebidrag_osa", "nystartsjobb"])
>>> t["total"] = t.sum(axis=1)
>>> res = suppress(t, total_col="total")
>>> res.published
               women  men total
extratjanster     ..    0    ..
lonebidrag_osa    ..   46    ..
nystartsjobb     220  189   409
"""

from __future__ import annotations

import html
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from numbers import Integral
from typing import Any, Literal

import numpy as np
import pandas as pd

from impact._errors import DataError, ParameterError, data_error
from impact._validation import InstanceOf, Interval, Options, suggest, validate_params
from impact.labels import LANGS, Lang, format_percent

__all__ = ["MARK", "Suppression", "suppress", "feasible_intervals"]

_TOL = 1e-7
#: what a hidden cell shows (Statistics Sweden's mark for "not shown")
MARK = ".."

#: parameter constraints shared by the functions of this module (see impact._validation.validate_params)
_TABLE = [InstanceOf(pd.DataFrame, "a pandas DataFrame of counts")]
_MARK = [InstanceOf(str, "a str")]
_LABEL = [InstanceOf(Hashable, "a label of the table"), None]


@dataclass(frozen=True)
class Suppression:
    """A count table made safe to publish, and how.

    Attributes
    ----------
    published : DataFrame
        The table as strings: counts, or ``mark`` where suppressed.
    mask : DataFrame
        Boolean, same shape: True where a cell is suppressed (primary or secondary).
    primary : DataFrame
        Boolean: True where a cell is below the threshold.
    counts : DataFrame
        The input counts. Not for publication.
    intervals : DataFrame
        For every suppressed cell: ``row``, ``column``, ``reason`` (primary/secondary), ``lower``
        and ``upper`` (the bounds a reader can derive from the published table and the totals),
        and ``required`` (the width a primary cell needs).
    threshold, margin, mark, zeros, hidden_totals, total_row, total_col
        The settings used.
    notes : tuple of str
        Each default assumed, and any cell that could not be given the full margin.

    Examples
    --------
    >>> import pandas as pd
    >>> res = suppress(pd.DataFrame({"women": [3, 40], "men": [20, 30]}, index=["work", "studies"]))
    >>> res
    Suppression(2x2 table, threshold 5, 1 primary, 3 secondary)
    >>> res.secondary.to_numpy().tolist()
    [[False, True], [True, True]]
    """

    published: pd.DataFrame
    mask: pd.DataFrame
    primary: pd.DataFrame
    counts: pd.DataFrame
    intervals: pd.DataFrame
    threshold: int
    margin: int
    mark: str
    zeros: str
    hidden_totals: str
    total_row: Hashable | None = None
    total_col: Hashable | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def secondary(self) -> pd.DataFrame:
        """Boolean: True where a cell was hidden only to protect a primary cell."""
        return self.mask & ~self.primary

    @property
    def n_primary(self) -> int:
        """Cells hidden because they are small."""
        return int(self.primary.to_numpy().sum())

    @property
    def n_secondary(self) -> int:
        """Cells hidden to protect the small ones."""
        return int(self.secondary.to_numpy().sum())

    def summary(self) -> pd.DataFrame:
        """One row per suppressed cell: ``row``, ``column``, ``reason``, ``lower``, ``upper``, ``required``."""
        return self.intervals.copy()

    @validate_params({"other": [InstanceOf(pd.DataFrame, "a pandas DataFrame")], "mark": _MARK + [None]},
                     name="Suppression.apply")
    def apply(self, other: pd.DataFrame, mark: str | None = None) -> pd.DataFrame:
        """Hide in ``other`` (same row and column labels) every cell hidden here.

        Use it for any table derived cell by cell from the counts (shares, rates).

        Parameters
        ----------
        other : DataFrame
            A table with the rows and columns of the suppressed one (it may have more).
        mark : str, optional
            Default: the mark of this suppression.

        Returns
        -------
        DataFrame of object

        Examples
        --------
        >>> import pandas as pd
        >>> res = suppress(pd.DataFrame({"n": [3, 40, 50]}, index=["a", "b", "c"]), hidden_totals="ignore")
        >>> res.apply(pd.DataFrame({"n": [0.03, 0.4, 0.5]}, index=["a", "b", "c"]))["n"].tolist()
        ['..', 0.4, 0.5]
        """
        missing_rows = [r for r in self.mask.index if r not in other.index]
        missing_cols = [c for c in self.mask.columns if c not in other.columns]
        if missing_rows or missing_cols:
            raise ParameterError(
                "The table passed to Suppression.apply must have the rows and columns of the "
                f"suppressed table; it lacks rows {missing_rows} and columns {missing_cols}.")
        out = other.astype(object).copy()
        m = self.mask.reindex(index=other.index, columns=other.columns, fill_value=False)
        out = out.mask(m.to_numpy(), mark if mark is not None else self.mark)
        return out

    @validate_params({"within": [Options(["column", "row"])], "decimals": [Interval(Integral, 0, None)],
                      "lang": [Options(LANGS)]}, name="Suppression.shares")
    def shares(self, within: Literal["column", "row"] = "column", *, decimals: int = 1,
               lang: Lang = "en") -> pd.DataFrame:
        """Each count as a share of its column (or row) total, suppressed where it could leak.

        A share is hidden when its count is hidden, and when the total it is divided by is hidden
        (a published count divided by a published share would give that total back).

        Parameters
        ----------
        within : {"column", "row"}
            Shares of the column totals (e.g. the outcome mix of women) or of the row totals.
        decimals : int
        lang : {"en", "sv"}
            Decimal mark and percent sign (``46.2%`` or ``46,2 %``).

        Returns
        -------
        DataFrame of str

        Examples
        --------
        >>> import pandas as pd
        >>> t = pd.DataFrame({"women": [3, 40, 43], "men": [20, 30, 50]}, index=["work", "studies", "all"])
        >>> suppress(t, total_row="all", hidden_totals="ignore").shares("column", lang="sv")
                  women     men
        work         ..  40,0 %
        studies      ..  60,0 %
        all     100,0 % 100,0 %
        """
        counts = self.counts.astype(float)
        total_label = self.total_row if within == "column" else self.total_col
        axis_index = counts.index if within == "column" else counts.columns
        if total_label is not None:
            denom = counts.loc[total_label] if within == "column" else counts[total_label]
            denom_hidden = (self.mask.loc[total_label] if within == "column"
                            else self.mask[total_label])
        else:
            inner = list(axis_index)
            denom = counts.loc[inner].sum(axis=0) if within == "column" else counts[inner].sum(axis=1)
            known = self.hidden_totals == "known" and len(inner) >= 2
            denom_hidden = pd.Series(not known, index=denom.index)
        if within == "column":
            share = counts.div(denom.replace(0, np.nan), axis=1)
            hidden = self.mask | np.broadcast_to(denom_hidden.to_numpy()[None, :], counts.shape)
        else:
            share = counts.div(denom.replace(0, np.nan), axis=0)
            hidden = self.mask | np.broadcast_to(denom_hidden.to_numpy()[:, None], counts.shape)
        text = share.map(lambda v: format_percent(v, lang, decimals)).astype(object)
        return text.mask(hidden.to_numpy(), self.mark)

    def __repr__(self) -> str:
        r, c = self.mask.shape
        return (f"Suppression({r}x{c} table, threshold {self.threshold}, {self.n_primary} primary, "
                f"{self.n_secondary} secondary)")

    def _repr_html_(self) -> str:
        head = (f"<p><b>Small-cell suppression</b>: threshold {self.threshold}, margin "
                f"{self.margin}, mark <code>{html.escape(self.mark)}</code>; "
                f"{self.n_primary} primary, {self.n_secondary} secondary cells hidden.</p>")
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return head + self.published.to_html() + (f"<ul>{notes}</ul>" if notes else "")


# --------------------------------------------------------------------------------------------
# the linear system of a table with margins


@dataclass
class _Grid:
    values: np.ndarray            # (R, C) float, including margin row/col if any
    real: np.ndarray              # (R, C) bool: the cell is in the published table
    is_total: np.ndarray          # (R, C) bool: a margin cell
    position: list[list[tuple[int, int] | None]]   # grid cell -> (row, col) in the table
    equations: list[tuple[np.ndarray, np.ndarray]]  # (flat cell indices, coefficients)
    cache: dict = field(default_factory=dict)       # (hidden cells, target) -> bounds, within one call

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape


def _build_grid(counts: np.ndarray, rows_in: list[int], cols_in: list[int], total_row: int | None,
                total_col: int | None, hidden_totals: str) -> _Grid:
    nr, nc = len(rows_in), len(cols_in)
    row_margin = total_row is not None or (hidden_totals == "known" and nr >= 2)
    col_margin = total_col is not None or (hidden_totals == "known" and nc >= 2)
    R, C = nr + row_margin, nc + col_margin
    vals = np.zeros((R, C))
    real = np.zeros((R, C), bool)
    is_total = np.zeros((R, C), bool)
    pos: list[list[tuple[int, int] | None]] = [[None] * C for _ in range(R)]
    row_src: list[int | None] = [*rows_in, *([total_row] if row_margin else [])]
    col_src: list[int | None] = [*cols_in, *([total_col] if col_margin else [])]
    for i, r in enumerate(row_src):
        for j, c in enumerate(col_src):
            is_total[i, j] = (row_margin and i == R - 1) or (col_margin and j == C - 1)
            if r is not None and c is not None:
                vals[i, j] = counts[r, c]
                real[i, j] = True
                pos[i][j] = (r, c)
    # virtual margins: sums of what they total
    if col_margin and total_col is None:
        vals[:, C - 1] = vals[:, :nc].sum(axis=1)
    if row_margin and total_row is None:
        vals[R - 1, :] = vals[:nr, :].sum(axis=0)
    if row_margin and col_margin and not real[R - 1, C - 1]:
        vals[R - 1, C - 1] = vals[:nr, :nc].sum()
    eqs: list[tuple[np.ndarray, np.ndarray]] = []
    if col_margin:
        for i in range(R):
            idx = np.array([i * C + j for j in range(C)])
            coef = np.r_[np.ones(nc), -1.0]
            eqs.append((idx, coef))
    if row_margin:
        for j in range(C):
            idx = np.array([i * C + j for i in range(R)])
            coef = np.r_[np.ones(nr), -1.0]
            eqs.append((idx, coef))
    return _Grid(vals, real, is_total, pos, eqs)


def _interval(grid: _Grid, supp: np.ndarray, target: int) -> tuple[float, float]:
    """Reader's bounds on flat cell ``target`` given the suppressed flat mask ``supp`` (computed once)."""
    key = (np.asarray(supp, dtype=bool).tobytes(), int(target))
    if key not in grid.cache:
        grid.cache[key] = _bounds(grid, supp, target)
    return grid.cache[key]


def _bounds(grid: _Grid, supp: np.ndarray, target: int) -> tuple[float, float]:
    from scipy.optimize import linprog

    flat = grid.values.ravel()
    # only the equations connected to the target through hidden cells bound it
    active = [(idx, coef) for idx, coef in grid.equations if supp[idx].any()]
    seen, frontier, eqs = {int(target)}, [int(target)], []
    used = [False] * len(active)
    while frontier:
        cell = frontier.pop()
        for e, (idx, coef) in enumerate(active):
            if not used[e] and cell in idx:
                used[e] = True
                eqs.append((idx, coef))
                for c in idx[supp[idx]]:
                    if int(c) not in seen:
                        seen.add(int(c))
                        frontier.append(int(c))
    if len(eqs) == 1:  # one equation sum(a_i x_i) = r over x >= 0: the bounds by hand
        idx, coef = eqs[0]
        hidden = supp[idx]
        pos = list(idx[hidden]).index(target)
        a_h = coef[hidden]
        a_t = float(a_h[pos])
        others = np.delete(a_h, pos)
        r = -float(np.dot(coef[~hidden], flat[idx[~hidden]]))
        r = 0.0 if abs(r) < _TOL else r
        at_r = r / a_t  # the target's value when every other hidden cell is 0
        high = np.inf if (others * a_t < 0).any() else at_r
        low = 0.0 if (r == 0.0 or (np.sign(others) == np.sign(r)).any()) else at_r
        if low <= high + _TOL and high >= -_TOL:
            return (float(low), float(high))
    var = np.array(sorted(seen))
    col_of = {int(v): k for k, v in enumerate(var)}
    rows, rhs = [], []
    for idx, coef in eqs:
        hidden = supp[idx]
        a = np.zeros(len(var))
        for cell, w in zip(idx[hidden], coef[hidden], strict=True):
            a[col_of[int(cell)]] += w
        rows.append(a)
        rhs.append(-float(np.dot(coef[~hidden], flat[idx[~hidden]])))
    if not rows:
        return (-np.inf, np.inf)
    A, b = np.array(rows), np.array(rhs)
    c = np.zeros(len(var))
    c[col_of[target]] = 1.0
    lo = linprog(c, A_eq=A, b_eq=b, bounds=(0, None), method="highs")
    hi = linprog(-c, A_eq=A, b_eq=b, bounds=(0, None), method="highs")
    low = lo.fun if lo.status == 0 else (0.0 if lo.status != 3 else -np.inf)
    high = -hi.fun if hi.status == 0 else np.inf
    return float(low), float(high)


def _width(grid: _Grid, supp: np.ndarray, target: int) -> float:
    lo, hi = _interval(grid, supp, target)
    if not np.isfinite(hi) or not np.isfinite(lo):
        return np.inf
    return float(np.floor(hi + _TOL) - np.ceil(lo - _TOL))


def _close(grid: _Grid, supp: np.ndarray, allowed: np.ndarray, margin: int) -> np.ndarray:
    """Give every equation that holds exactly one suppressed cell a partner, until none does."""
    supp = supp.copy()
    flat = grid.values.ravel()
    is_total = grid.is_total.ravel()
    cell_eqs: dict[int, list[int]] = {}
    for e, (idx, _) in enumerate(grid.equations):
        for cell in idx:
            cell_eqs.setdefault(int(cell), []).append(e)
    changed = True
    while changed:
        changed = False
        for e, (idx, _) in enumerate(grid.equations):
            if supp[idx].sum() != 1:
                continue
            cand = [int(c) for c in idx if not supp[c] and allowed[c]]
            if not cand:
                continue

            def cost(cell: int, e: int = e) -> tuple:
                new_lonely = sum(1 for f in cell_eqs[cell] if f != e
                                 and supp[grid.equations[f][0]].sum() == 0)
                v = flat[cell]
                size = 2 if v == 0 else (1 if v < margin else 0)
                return (new_lonely, bool(is_total[cell]), size, v, cell)

            supp[min(cand, key=cost)] = True
            changed = True
    return supp


def _protect(grid: _Grid, sensitive: np.ndarray, allowed: np.ndarray, margin: int
             ) -> tuple[np.ndarray, dict[int, float], dict[int, float]]:
    """Secondary suppression; returns the flat mask, required widths and achieved widths."""
    targets = [int(t) for t in np.flatnonzero(sensitive)]
    everything = sensitive | allowed
    if grid.real.all():
        # with every cell hideable nothing is fixed, the system is homogeneous: any width is possible
        required = {t: float(margin) for t in targets}
    else:
        required = {t: min(float(margin), _width(grid, everything, t)) for t in targets}
    supp = _close(grid, sensitive.copy(), allowed, margin)
    for _ in range(int(allowed.sum()) + 1):
        widths = {t: _width(grid, supp, t) for t in targets}
        failing = [t for t in targets if widths[t] < required[t] - _TOL]
        if not failing:
            return supp, required, widths
        t = failing[0]
        best: tuple | None = None
        for cand in np.flatnonzero(allowed & ~supp):
            trial = supp.copy()
            trial[cand] = True
            trial = _close(grid, trial, allowed, margin)
            w = min(_width(grid, trial, t), required[t])
            added = trial & ~supp
            score = (-w, float(grid.values.ravel()[added].sum()), int(added.sum()), int(cand))
            if best is None or score < best[0]:
                best = (score, trial)
        if best is None:  # nothing left to hide
            break
        supp = best[1]
    widths = {t: _width(grid, supp, t) for t in targets}
    return supp, required, widths


# --------------------------------------------------------------------------------------------
# validation


def _resolve_total(name: str, label: Hashable | None, axis: pd.Index, func: str) -> int | None:
    if label is None:
        return None
    if label not in axis:
        where = "rows" if name == "total_row" else "columns"
        raise ParameterError(
            f"The '{name}' parameter of {func} must be one of the table's {where}. "
            f"Got {label!r}.{suggest(str(label), [str(a) for a in axis])}")
    loc = axis.get_loc(label)
    if not isinstance(loc, int):
        raise ParameterError(f"The '{name}' label {label!r} occurs more than once in the table.")
    return loc


def _validate_counts(table: pd.DataFrame) -> np.ndarray:
    if table.empty:
        raise ParameterError("suppress expects a table with at least one row and one column.")
    for axis_name, axis in (("row", table.index), ("column", table.columns)):
        if axis.has_duplicates:
            dup = list(axis[axis.duplicated()].unique())
            raise ParameterError(f"The table has duplicate {axis_name} labels {dup}; make them unique.")
    for col in table.columns:
        s = table[col]
        if not (pd.api.types.is_numeric_dtype(s) or s.dtype == object):
            raise data_error(str(col), "counts must be numbers", np.ones(len(s), bool))
        num = pd.to_numeric(s, errors="coerce")
        bad = num.isna().to_numpy()
        if bad.any():
            raise data_error(str(col), "counts must not be missing", bad,
                             "If a missing count is a true zero, say so with table.fillna(0).")
        arr = num.to_numpy(dtype=float)
        if (arr < 0).any():
            raise data_error(str(col), "counts must be >= 0", arr < 0)
        frac = np.abs(arr - np.round(arr)) > 1e-9
        if frac.any():
            raise data_error(str(col), "counts must be whole numbers", frac,
                             "Suppress counts, then compute shares with Suppression.shares().")
    return table.apply(pd.to_numeric).to_numpy(dtype=float)


def _check_totals(table: pd.DataFrame, counts: np.ndarray, rows_in: list[int], cols_in: list[int],
                  total_row: int | None, total_col: int | None) -> None:
    if total_col is not None:
        rows = list(range(counts.shape[0]))
        diff = np.abs(counts[rows][:, cols_in].sum(axis=1) - counts[rows, total_col]) > 1e-9
        if diff.any():
            raise data_error(str(table.columns[total_col]), "the total column must equal the sum of the other columns",
                             diff, "Recompute it, e.g. t['total'] = t.drop(columns='total').sum(axis=1), "
                             "or pass total_col=None.")
    if total_row is not None:
        cols = list(range(counts.shape[1]))
        diff = np.abs(counts[rows_in][:, cols].sum(axis=0) - counts[total_row, cols]) > 1e-9
        if diff.any():
            bad = [str(table.columns[j]) for j in np.flatnonzero(diff)]
            raise DataError(
                f"Row {table.index[total_row]!r}: the total row must equal the sum of the other rows; "
                f"it does not in column(s) {', '.join(repr(b) for b in bad)}. Recompute it, e.g. "
                "t.loc['total'] = t.drop(index='total').sum(), or pass total_row=None.",
                column=bad[0], rule="the total row must equal the sum of the other rows")


# --------------------------------------------------------------------------------------------
# public functions


@validate_params({"table": _TABLE, "threshold": [Interval(Integral, 1, None)], "mark": _MARK,
                  "total_row": _LABEL, "total_col": _LABEL, "hidden_totals": [Options(["known", "ignore"])],
                  "zeros": [Options(["publish", "suppress"])], "margin": [Interval(Integral, 0, None), None],
                  "fmt": [InstanceOf(Callable, "a function of a count to str"), None]})
def suppress(table: pd.DataFrame, threshold: int = 5, mark: str = MARK, *,
             total_row: Hashable | None = None, total_col: Hashable | None = None,
             hidden_totals: Literal["known", "ignore"] = "known",
             zeros: Literal["publish", "suppress"] = "publish",
             margin: int | None = None,
             fmt: Callable[[float], str] | None = None) -> Suppression:
    """Hide small cells of a count table, and enough other cells that they cannot be recalculated.

    Parameters
    ----------
    table : DataFrame
        Counts (non-negative whole numbers), any shape, with or without a total row and column.
    threshold : int, default 5
        Cells with ``0 < count < threshold`` are suppressed (primary suppression).
    mark : str, default ".."
        What a suppressed cell shows (Statistics Sweden's mark for "not shown").
    total_row, total_col : label, optional
        The label of the row (column) that holds the totals of the other rows (columns). It must
        equal their sum; it is protected like any other cell.
    hidden_totals : {"known", "ignore"}
        Totals that are not in the table: ``"known"`` treats them as known to the reader (safe when
        they are printed elsewhere); ``"ignore"`` leaves them out (when such a sum means nothing).
    zeros : {"publish", "suppress"}
        Whether true zeros are shown (default; a zero discloses no person) or treated as small.
    margin : int, optional
        The width a primary cell's feasible interval must reach. Default: ``threshold``.
    fmt : callable, optional
        Formats a published count (default: the integer, e.g. ``"1800"``).

    Returns
    -------
    Suppression
        ``.published`` (strings), ``.mask`` (True = hidden), ``.primary``, ``.intervals``.

    Raises
    ------
    DataError
        Missing, negative or fractional counts (naming column and row positions); totals that do
        not add up.
    ParameterError
        Unknown options, or a total label that is not in the table.

    Notes
    -----
    Equivalent in spirit to tau-Argus's hypercube method with an audit by linear programming;
    the suppression pattern is deterministic (ties break on cell position).

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"a": [1, 20, 21], "b": [10, 30, 40]}, index=["x", "y", "total"])
    >>> t["total"] = t.sum(axis=1)
    >>> res = suppress(t, total_row="total", total_col="total")
    >>> res.published
            a   b total
    x      ..  ..    11
    y      ..  ..    50
    total  21  40    61
    >>> res.summary()
      row column     reason  lower  upper  required
    0   x      a    primary    0.0   11.0       5.0
    1   x      b  secondary    0.0   11.0       NaN
    2   y      a  secondary   10.0   21.0       NaN
    3   y      b  secondary   29.0   40.0       NaN
    """
    counts = _validate_counts(table)
    tr = _resolve_total("total_row", total_row, table.index, "suppress")
    tc = _resolve_total("total_col", total_col, table.columns, "suppress")
    rows_in = [i for i in range(counts.shape[0]) if i != tr]
    cols_in = [j for j in range(counts.shape[1]) if j != tc]
    if not rows_in or not cols_in:
        raise ParameterError("suppress needs at least one row and one column besides the totals.")
    _check_totals(table, counts, rows_in, cols_in, tr, tc)
    margin_ = int(threshold if margin is None else margin)

    grid = _build_grid(counts, rows_in, cols_in, tr, tc, hidden_totals)
    v = grid.values.ravel()
    real = grid.real.ravel()
    low = v < threshold if zeros == "suppress" else (v > 0) & (v < threshold)
    sensitive = real & low
    allowed = real.copy()
    supp, required, widths = _protect(grid, sensitive, allowed, margin_)

    mask = np.zeros(counts.shape, bool)
    primary = np.zeros(counts.shape, bool)
    R, C = grid.shape
    records = []
    notes = [f"threshold {threshold}: cells with {'' if zeros == 'suppress' else '1 to '}"
             f"{threshold - 1} people are hidden ({'zeros too' if zeros == 'suppress' else 'true zeros are shown'})",
             f"a hidden small cell must have a feasible interval at least {margin_} wide",
             "totals not in the table are " + ("assumed known to the reader" if hidden_totals == "known"
                                               else "ignored")]
    for flat_i in np.flatnonzero(supp):
        i, j = divmod(int(flat_i), C)
        p = grid.position[i][j]
        if p is None:
            continue
        mask[p] = True
        primary[p] = bool(sensitive[flat_i])
        lo, hi = _interval(grid, supp, int(flat_i))
        records.append(dict(row=table.index[p[0]], column=table.columns[p[1]],
                            reason="primary" if sensitive[flat_i] else "secondary",
                            lower=float(np.ceil(lo - _TOL)) + 0.0, upper=float(np.floor(hi + _TOL)) if np.isfinite(hi) else np.inf,
                            required=float(required[int(flat_i)]) if sensitive[flat_i] else np.nan,
                            _pos=p))
        if sensitive[flat_i] and required[int(flat_i)] < margin_:
            notes.append(f"cell ({table.index[p[0]]!r}, {table.columns[p[1]]!r}) can at most be given an "
                         f"interval {required[int(flat_i)]:.0f} wide: its known totals are that small")
    records.sort(key=lambda r: r.pop("_pos"))
    intervals = pd.DataFrame(records, columns=["row", "column", "reason", "lower", "upper", "required"])
    fmt_ = fmt or (lambda x: str(int(round(x))))
    published = pd.DataFrame(
        [[mark if mask[i, j] else fmt_(counts[i, j]) for j in range(counts.shape[1])]
         for i in range(counts.shape[0])], index=table.index, columns=table.columns, dtype=object)
    return Suppression(
        published=published,
        mask=pd.DataFrame(mask, index=table.index, columns=table.columns),
        primary=pd.DataFrame(primary, index=table.index, columns=table.columns),
        counts=table.copy(), intervals=intervals, threshold=int(threshold), margin=margin_,
        mark=mark, zeros=zeros, hidden_totals=hidden_totals, total_row=total_row,
        total_col=total_col, notes=tuple(notes))


@validate_params({"published": [InstanceOf(pd.DataFrame, "a pandas DataFrame")], "mark": _MARK,
                  "total_row": _LABEL, "total_col": _LABEL,
                  "known_totals": [InstanceOf(Mapping, "a mapping with 'rows' and/or 'columns'"), None]})
def feasible_intervals(published: pd.DataFrame, mark: str = MARK, *, total_row: Hashable | None = None,
                       total_col: Hashable | None = None, known_totals: Mapping[str, Any] | None = None
                       ) -> pd.DataFrame:
    """What a reader can derive about each hidden cell of a published table: its lower and upper bound.

    An auditing tool (the attack :func:`suppress` defends against): every hidden cell is
    minimised and maximised subject to the row and column sums, the published cells and
    non-negativity.

    Parameters
    ----------
    published : DataFrame
        Published table: numbers (as numbers or strings) and ``mark``.
    mark : str
    total_row, total_col : label, optional
        Labels of the total row and column in ``published``.
    known_totals : dict, optional
        Totals not printed in the table but known to the reader: ``{"rows": Series}`` (the sum of
        each row, indexed like ``published``) and/or ``{"columns": Series}``.

    Returns
    -------
    DataFrame
        ``row``, ``column``, ``lower``, ``upper``.

    Examples
    --------
    >>> import pandas as pd
    >>> pub = pd.DataFrame({"a": ["..", "5"], "total": ["12", "5"]}, index=["x", "y"])
    >>> pub["b"] = ["..", "0"]
    >>> feasible_intervals(pub, total_col="total")[["lower", "upper"]].to_numpy().tolist()
    [[0.0, 12.0], [0.0, 12.0]]
    """
    from scipy.optimize import linprog

    known = dict(known_totals or {})
    unknown = sorted(set(known) - {"rows", "columns"})
    if unknown:
        raise ParameterError(f"The 'known_totals' parameter of feasible_intervals takes the keys 'rows' and "
                             f"'columns'. Got {unknown}.{suggest(str(unknown[0]), ['rows', 'columns'])}")
    hidden = published.astype(str).eq(mark).to_numpy()
    vals = np.where(hidden, 0.0, published.astype(str).replace(mark, "0").apply(
        lambda s: pd.to_numeric(s.str.replace(" ", "").str.replace(",", ""))).to_numpy(dtype=float))
    R, C = vals.shape
    tr = _resolve_total("total_row", total_row, published.index, "feasible_intervals")
    tc = _resolve_total("total_col", total_col, published.columns, "feasible_intervals")
    rows_in = [i for i in range(R) if i != tr]
    cols_in = [j for j in range(C) if j != tc]
    var = [(int(i), int(j)) for i, j in zip(*np.nonzero(hidden), strict=True)]
    col_of = {cell: k for k, cell in enumerate(var)}
    A: list[np.ndarray] = []
    b: list[float] = []

    def add(cells: list[tuple[int, int]], coefs: list[float], const: float) -> None:
        a = np.zeros(len(var))
        rhs = -const
        for cell, w in zip(cells, coefs, strict=True):
            if cell in col_of:
                a[col_of[cell]] += w
            else:
                rhs -= w * vals[cell]
        if a.any():
            A.append(a)
            b.append(rhs)

    row_sums = known.get("rows")
    col_sums = known.get("columns")
    for i in range(R):
        cells = [(i, j) for j in cols_in]
        if tc is not None:
            add(cells + [(i, tc)], [1.0] * len(cells) + [-1.0], 0.0)
        elif row_sums is not None:
            add(cells, [1.0] * len(cells), -float(row_sums.iloc[i]))
    for j in range(C):
        cells = [(i, j) for i in rows_in]
        if tr is not None:
            add(cells + [(tr, j)], [1.0] * len(cells) + [-1.0], 0.0)
        elif col_sums is not None:
            add(cells, [1.0] * len(cells), -float(col_sums.iloc[j]))
    out = []
    for cell in var:
        c = np.zeros(len(var))
        c[col_of[cell]] = 1
        if A:
            lo = linprog(c, A_eq=np.array(A), b_eq=np.array(b), bounds=(0, None), method="highs")
            hi = linprog(-c, A_eq=np.array(A), b_eq=np.array(b), bounds=(0, None), method="highs")
            low = lo.fun if lo.status == 0 else 0.0
            high = -hi.fun if hi.status == 0 else np.inf
        else:
            low, high = 0.0, np.inf
        out.append(dict(row=published.index[cell[0]], column=published.columns[cell[1]],
                        lower=float(low), upper=float(high)))
    return pd.DataFrame(out, columns=["row", "column", "lower", "upper"])
