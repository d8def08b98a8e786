"""The cell-key method (Statistics Sweden, ABS): deterministic noise for tables published again and again.

Threshold suppression hides a small cell in one table, but a table published every month is
published again with one more month, new totals and revised cells: a reader who solves the
releases together (differences of consecutive cumulative totals, a month hidden this time and
shown the next) gets hidden counts back. The cell-key method instead adds a small noise to every
count, and the noise of a cell is fixed by *the records behind it*:

1. every record (person, household) gets a fixed random key in ``[0, 1)``, from a keyed hash of
   its identifier and a secret (:func:`record_keys`); the secret is a setting that is never
   published, so nobody can compute the keys;
2. a cell's key is the fractional part of the sum of its records' keys (:func:`cell_keys`);
3. the noise is read from a fixed table of probabilities (the *p-table*, :data:`PTABLE`) at the
   cell key: noise in ``{-2, ..., +2}``, with mean 0 for counts of 2 or more, never negative
   results, no noise for an empty cell, and no count of 1 or more published as 0 (a published 0
   is an empty cell; a count of 1 can only go up).

The same cell (the same records) gets the same noise in every release, so publishing it again
tells nothing new. Totals are either cells of their own (their own records, their own key:
perturbed consistently in every table in which they appear), or, with ``additive=True`` (what
the monitoring tables use), the sums of the published cells: a total perturbed on its own beside
its perturbed parts is one more equation for a reader, and a period-to-date table republished
every month gives many (tests/test_releases.py pins small counts that way without it). The identifiers never leave the
function: only the keys' sums do.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from impact._errors import ParameterError
from impact._validation import InstanceOf, validate_params

__all__ = ["PTABLE", "record_keys", "cell_keys", "cell_key_noise", "CellKeyTable", "cell_key_table",
           "cell_key_counts", "cell_key_secret", "DISCLOSURES", "MAX_NOISE", "SECRET_ENV"]

#: the environment variable a report reads the cell-key secret from, unless told another
SECRET_ENV = "IMPACT_CELLKEY_SECRET"

#: the disclosure-control modes of a report: threshold suppression, or cell-key noise
DISCLOSURES: tuple[str, ...] = ("threshold", "cellkey")

#: noise -> probability, by the count it is added to (the last row for every larger count)
#: A count of 1 or more is never published as 0 (so a published 0 is an empty cell): were a total of
#: 2 shown as 0 beside parts shown as 1 and 1, the parts would be pinned to 1 each (the ten-release
#: attack of tests/test_releases.py found exactly that). So a count of 1 can only go up (mean
#: noise +0.7); from 2 on the noise has mean 0.
PTABLE: Mapping[int, Mapping[int, float]] = {
    0: {0: 1.0},
    1: {0: 0.5, 1: 0.3, 2: 0.2},
    2: {-1: 0.4, 0: 0.3, 1: 0.2, 2: 0.1},
    3: {-2: 0.1, -1: 0.2, 0: 0.4, 1: 0.2, 2: 0.1},
}
_MAX_NOISE = 2
#: the largest noise the default p-table adds or takes away
MAX_NOISE = _MAX_NOISE


def _check_ptable(ptable: Mapping[int, Mapping[int, float]]) -> None:
    if 0 not in ptable or dict(ptable[0]) != {0: 1.0}:
        raise ParameterError("The 'ptable' parameter must give an empty cell no noise ({0: {0: 1.0}}).")
    for n, row in ptable.items():
        total = sum(row.values())
        if abs(total - 1) > 1e-9 or any(p < 0 for p in row.values()):
            raise ParameterError(f"The 'ptable' row for count {n} must hold probabilities that sum to 1. Got {total}.")
        if any(n + v < 0 for v in row):
            raise ParameterError(f"The 'ptable' row for count {n} would publish a negative count.")


@validate_params({"ids": [InstanceOf((pd.Series, pd.Index, np.ndarray, list, tuple), "a column of identifiers")],
                  "secret": [InstanceOf(str, "a str")]})
def record_keys(ids: Sequence[Any] | pd.Series | np.ndarray, secret: str) -> np.ndarray:
    """A fixed random key in ``[0, 1)`` for each record: HMAC-SHA256 of its identifier under ``secret``.

    Parameters
    ----------
    ids : sequence
        The identifiers of the records (a person's id, a household's id).
    secret : str
        A setting that is kept, never published: the same secret gives the same keys (and so the
        same noise) in every release.

    Returns
    -------
    ndarray of float

    Examples
    --------
    >>> k = record_keys(["A1", "A2", "A1"], secret="s3cret")
    >>> bool(k[0] == k[2]), bool(0 <= k.min() and k.max() < 1)
    (True, True)
    """
    if not secret:
        raise ParameterError("The 'secret' parameter of record_keys must not be empty.")
    key = secret.encode("utf-8")
    codes, uniques = pd.factorize(pd.Series(list(ids), dtype=object).map(str))
    ukeys = np.empty(len(uniques))
    for i, v in enumerate(uniques):  # each identifier hashed once
        digest = hmac.new(key, str(v).encode("utf-8"), hashlib.sha256).digest()
        ukeys[i] = int.from_bytes(digest[:7], "big") / 2.0 ** 56
    return ukeys[codes] if len(codes) else np.empty(0)


@validate_params({"keys": [InstanceOf(pd.Series, "a pandas Series of record keys")],
                  "cells": [InstanceOf((pd.Series, pd.DataFrame), "a pandas Series or DataFrame of cell labels")]})
def cell_keys(keys: pd.Series, cells: pd.Series | pd.DataFrame) -> pd.Series:
    """The key of each cell: the fractional part of the sum of its records' keys.

    Examples
    --------
    >>> import pandas as pd
    >>> cell_keys(pd.Series([0.7, 0.6, 0.2]), pd.Series(["a", "a", "b"])).round(2).tolist()
    [0.3, 0.2]
    """
    return keys.groupby([cells[c] for c in cells.columns] if isinstance(cells, pd.DataFrame) else cells,
                        observed=True).sum() % 1.0


_ARRAY = [InstanceOf((list, tuple, np.ndarray, pd.Series, pd.DataFrame), "array-like")]


@validate_params({"counts": _ARRAY, "keys": _ARRAY,
                  "ptable": [InstanceOf(Mapping, "a mapping of count to {noise: probability}"), None]})
def cell_key_noise(counts: Any, keys: Any, ptable: Mapping[int, Mapping[int, float]] | None = None) -> np.ndarray:
    """The noise of each cell, read from the p-table at the cell's key.

    Parameters
    ----------
    counts, keys : array-like
        The true count and the cell key of each cell.
    ptable : mapping, optional
        ``{count: {noise: probability}}``; the largest count's row serves every larger count.
        Default :data:`PTABLE`.

    Returns
    -------
    ndarray of int

    Examples
    --------
    >>> cell_key_noise([0, 1, 7, 7], [0.99, 0.05, 0.05, 0.55]).tolist()
    [0, 0, -2, 0]
    """
    table = PTABLE if ptable is None else ptable
    _check_ptable(table)
    n = np.asarray(counts, dtype=float).astype(int)
    k = np.asarray(keys, dtype=float)
    top = max(table)
    out = np.zeros(n.shape, dtype=int)
    for i, (c, key) in enumerate(zip(n.ravel(), k.ravel(), strict=True)):
        row = table[min(int(c), top)]
        values = sorted(row)
        cum = np.cumsum([row[v] for v in values])
        out.flat[i] = values[min(int(np.searchsorted(cum, key, side="right")), len(values) - 1)]
    return out


@dataclass(frozen=True)
class CellKeyTable:
    """A count table perturbed with the cell-key method.

    Attributes
    ----------
    published : DataFrame
        The perturbed counts (whole numbers, never negative), totals included. For publication.
    counts : DataFrame
        The true counts. Not for publication.
    keys : DataFrame
        The cell keys. Not for publication.
    """

    published: pd.DataFrame
    counts: pd.DataFrame
    keys: pd.DataFrame

    def __repr__(self) -> str:
        r, c = self.published.shape
        return f"CellKeyTable({r}x{c} table, noise within ±{_MAX_NOISE})"


@validate_params({"data": [InstanceOf(pd.DataFrame, "a pandas DataFrame")], "rows": ["column"],
                  "columns": ["column", None], "id": ["column"], "secret": [InstanceOf(str, "a str")],
                  "total": [InstanceOf(str, "a str"), None],
                  "ptable": [InstanceOf(Mapping, "a mapping of count to {noise: probability}"), None]})
def cell_key_table(data: pd.DataFrame, rows: Hashable, columns: Hashable | None = None, *, id: Hashable,
                   secret: str, total: str | None = "total",
                   ptable: Mapping[int, Mapping[int, float]] | None = None) -> CellKeyTable:
    """Count the records of ``data`` by ``rows`` (and ``columns``), with cell-key noise.

    Every cell, and every total (row totals, column totals, the grand total, when ``total`` is
    given), is counted from its records and perturbed by the noise its own records' keys give.

    Parameters
    ----------
    data : DataFrame
        One row per record.
    rows, columns : column
        What the table is by (e.g. month, and gender).
    id : column
        The records' identifiers (never published; only their keys' sums are used).
    secret : str
        See :func:`record_keys`.
    total : str or None, default "total"
        The label of the totals; None for no totals.
    ptable : mapping, optional
        See :func:`cell_key_noise`.

    Returns
    -------
    CellKeyTable

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"pid": range(40), "month": ["2022-01"] * 25 + ["2022-02"] * 15,
    ...                   "gender": ["women", "men"] * 20})
    >>> t = cell_key_table(d, "month", "gender", id="pid", secret="s")
    >>> int(t.counts.loc["2022-01", "total"]), bool(abs(t.published - t.counts).max().max() <= 2)
    (25, True)
    """
    if id not in data.columns:
        raise ParameterError(f"The 'id' parameter of cell_key_table must be a column of data. Got {id!r}.")
    keys = pd.Series(record_keys(data[id].to_numpy(), secret), index=data.index)
    one = pd.Series(1, index=data.index)
    r = data[rows].astype(str)
    if columns is None:
        c = pd.Series(total or "count", index=data.index)
        counts = one.groupby(r).sum().to_frame(total or "count")
        key = (keys.groupby(r).sum() % 1.0).to_frame(total or "count")
    else:
        c = data[columns].astype(str)
        counts = one.groupby([r, c]).sum().unstack(fill_value=0)
        key = (keys.groupby([r, c]).sum() % 1.0).unstack(fill_value=0.0)
        if total:
            counts[total] = one.groupby(r).sum()
            key[total] = keys.groupby(r).sum() % 1.0
    if total and columns is not None:
        col_counts = one.groupby(c).sum()
        col_keys = keys.groupby(c).sum() % 1.0
        counts.loc[total] = [col_counts.get(k, len(data)) if k != total else len(data) for k in counts.columns]
        key.loc[total] = [col_keys.get(k, 0.0) if k != total else float(keys.sum() % 1.0) for k in key.columns]
    elif total:
        counts.loc[total] = len(data)
        key.loc[total] = float(keys.sum() % 1.0)
    counts = counts.astype(int)
    noise = cell_key_noise(counts.to_numpy(), key.to_numpy(), ptable)
    published = counts + noise
    counts.index.name = key.index.name = published.index.name = str(rows)
    return CellKeyTable(published=published, counts=counts, keys=key)


_LABELS = [InstanceOf((list, tuple, pd.Index), "a list of labels"), None]


@validate_params({"records": [InstanceOf(pd.DataFrame, "a pandas DataFrame")], "secret": [InstanceOf(str, "a str")],
                  "index": _LABELS, "columns": _LABELS, "total_row": [InstanceOf(str, "a str"), None],
                  "total_col": [InstanceOf(str, "a str"), None], "additive": ["boolean"],
                  "ptable": [InstanceOf(Mapping, "a mapping of count to {noise: probability}"), None]})
def cell_key_counts(records: pd.DataFrame, secret: str, *, index: Sequence[Hashable] | pd.Index | None = None,
                    columns: Sequence[Hashable] | pd.Index | None = None, total_row: str | None = None,
                    total_col: str | None = None, additive: bool = False,
                    ptable: Mapping[int, Mapping[int, float]] | None = None) -> CellKeyTable:
    """A count table with cell-key noise, from the records behind each of its cells.

    This is how the monitoring tables publish with ``disclosure="cellkey"``: each table keeps, for
    itself and never for publication, which records (people, households, employments) each cell
    counts; this function counts them again, keys every cell by its records and perturbs it.

    Parameters
    ----------
    records : DataFrame
        One row per record and inner cell, columns ``row``, ``column`` and ``id`` (a record
        counted in a cell once, however many rows repeat it).
    secret : str
        See :func:`record_keys`.
    index, columns : list of labels, optional
        The table's inner rows and columns, in order (default: those in ``records``); cells
        without records are empty (0, no noise).
    total_row, total_col : str, optional
        Labels of a row of column totals and a column of row totals. A total is a cell of its
        own: its records are the union of the records of its row (column), so it gets its own
        key and noise, the same in every table and release in which the same records appear.
    additive : bool, default False
        Publish each total as the sum of the published cells it adds up instead (a table that
        adds up). Use this for tables whose totals appear nowhere else: a total perturbed on its
        own beside its perturbed parts gives a reader one more equation, and with a table
        republished every month (period to date) these equations together can pin small
        counts (tests/test_releases.py found it).
    ptable : mapping, optional
        See :func:`cell_key_noise`.

    Returns
    -------
    CellKeyTable

    Examples
    --------
    >>> import pandas as pd
    >>> rec = pd.DataFrame({"row": ["2022-01"] * 3 + ["2022-02"] * 7, "column": ["women", "men"] * 5,
    ...                     "id": [f"p{i}" for i in range(10)]})
    >>> t = cell_key_counts(rec, "s", columns=["women", "men"], total_col="total")
    >>> t.counts.loc["2022-02"].tolist(), bool((t.published - t.counts).abs().max().max() <= 2)
    ([3, 4, 7], True)
    """
    missing = {"row", "column", "id"} - set(records.columns)
    if missing:
        raise ParameterError(f"The 'records' parameter of cell_key_counts must have the columns 'row', 'column' "
                             f"and 'id'. Missing: {', '.join(sorted(missing))}.")
    rec = records[["row", "column", "id"]].drop_duplicates()
    keys = pd.Series(record_keys(rec["id"].to_numpy(), secret), index=rec.index)
    rows = list(index) if index is not None else list(pd.unique(rec["row"]))
    cols = list(columns) if columns is not None else list(pd.unique(rec["column"]))
    grouped = keys.groupby([rec["row"], rec["column"]])
    counts = grouped.size().unstack().reindex(index=rows, columns=cols).fillna(0)
    key = (grouped.sum() % 1.0).unstack().reindex(index=rows, columns=cols).fillna(0.0)
    if total_col is not None:
        by_row = rec.drop_duplicates(["row", "id"])
        k = keys.loc[by_row.index].groupby(by_row["row"])
        counts[total_col] = k.size().reindex(rows).fillna(0).to_numpy()
        key[total_col] = (k.sum() % 1.0).reindex(rows).fillna(0.0).to_numpy()
    if total_row is not None:
        by_col = rec.drop_duplicates(["column", "id"])
        k = keys.loc[by_col.index].groupby(by_col["column"])
        c_n, c_k = k.size(), k.sum() % 1.0
        every = rec.drop_duplicates(["id"])
        grand_n, grand_k = len(every), float(keys.loc[every.index].sum() % 1.0)
        counts.loc[total_row] = [grand_n if c == total_col else c_n.get(c, 0) for c in counts.columns]
        key.loc[total_row] = [grand_k if c == total_col else c_k.get(c, 0.0) for c in key.columns]
    counts = counts.astype(int)
    noise = cell_key_noise(counts.to_numpy(), key.to_numpy(), ptable)
    published = counts + noise
    if additive:
        inner_rows = [r for r in published.index if r != total_row]
        inner_cols = [c for c in published.columns if c != total_col]
        if total_col is not None:
            published[total_col] = published[inner_cols].sum(axis=1)
        if total_row is not None:
            published.loc[total_row] = published.loc[inner_rows].sum(axis=0)
    for t in (counts, key, published):
        t.index.name, t.columns.name = records.index.name, None
    return CellKeyTable(published=published, counts=counts, keys=key)


@validate_params({"env": [InstanceOf(str, "the name of an environment variable"), None],
                  "file": [InstanceOf((str, os.PathLike), "a file (str or Path)"), None]})
def cell_key_secret(env: str | None = None, file: str | os.PathLike[str] | None = None) -> str:
    """The cell-key secret, read from a file or an environment variable (never from the evaluation file).

    Parameters
    ----------
    env : str, optional
        The environment variable that holds it (default :data:`SECRET_ENV`, used when neither is given).
    file : str or Path, optional
        A file whose content (stripped of surrounding white space) is the secret.

    Returns
    -------
    str

    Raises
    ------
    ParameterError
        The variable is not set, the file cannot be read, or the secret is empty; the message
        names the variable or file, never a secret.

    Examples
    --------
    >>> import os
    >>> os.environ["MY_SECRET"] = "kept-in-the-safe"
    >>> cell_key_secret(env="MY_SECRET") == "kept-in-the-safe"
    True
    """
    if file is not None:
        try:
            with open(file, encoding="utf-8") as fh:
                secret = fh.read().strip()
        except OSError as exc:
            raise ParameterError(f"The cell-key secret file {os.fspath(file)!r} cannot be read "
                                 f"({type(exc).__name__}).") from None
        where = f"the file {os.fspath(file)!r}"
    else:
        name = env or SECRET_ENV
        secret = os.environ.get(name, "").strip()
        where = f"the environment variable {name}"
        if name not in os.environ:
            raise ParameterError(f"disclosure = \"cellkey\" needs a secret: set {where} (a long random text "
                                 "kept by the office, the same every month), or name a file with [report] "
                                 "secret_file.")
    if not secret:
        raise ParameterError(f"The cell-key secret in {where} is empty.")
    return secret
