"""Row-order-free arithmetic on design matrices: a canonical row order, and one value per distinct row.

A matrix product such as ``X @ beta`` can round differently for two identical rows at different
positions (BLAS blocks the rows), and a sum over rows depends on their order. The design layer
therefore fits in a canonical row order and evaluates per distinct row, so identical rows get
bit-identical scores and the answer does not depend on how the data are sorted.
"""

from __future__ import annotations

import numpy as np

__all__ = ["canonical_order", "canonical_order_of", "dense_rank", "distinct_rows", "packed_order"]


def canonical_order(X: np.ndarray, last: np.ndarray | None = None) -> np.ndarray:
    """Row positions sorted on the columns of ``X`` (first column first), then on ``last``.

    Identical rows end up adjacent, in an order that depends on the values only (their relative
    order is immaterial: they are identical). One quicksort of the first column; only runs tied
    there are sorted on the remaining columns (all rows at once, by :func:`packed_order`, when
    most are tied: no stacked copy of the keys).
    """
    cols = [] if X.ndim != 2 else [X[:, j] for j in range(X.shape[1])]
    if last is not None:
        cols.append(np.asarray(last))
    return canonical_order_of(cols, len(X))


def canonical_order_of(cols: list[np.ndarray], n: int) -> np.ndarray:
    """:func:`canonical_order` of the rows whose columns (keys) are ``cols``, each of length ``n``
    (any sortable numeric dtypes: the order compares values, as ``<`` on floats would)."""
    if not cols or n < 2:
        return np.arange(n)
    if len(cols) > 1:
        ranked = _table_rank(np.ascontiguousarray(cols[0]))
        if ranked is not None and n - ranked[1] > n // 4:
            return packed_order(cols, ranked)        # most rows tied on the first column
        del ranked
    o = np.argsort(cols[0])
    k0 = cols[0][o]
    tie = k0[1:] == k0[:-1]
    del k0
    if len(cols) > 1 and tie.any():
        if int(np.count_nonzero(tie)) > n // 4:
            return packed_order(cols)
        in_run = np.zeros(n, dtype=bool)
        in_run[1:] |= tie
        in_run[:-1] |= tie
        at = np.flatnonzero(in_run)
        run = np.cumsum(np.r_[True, ~tie])[at]
        sub = o[at]
        o[at] = sub[np.lexsort((*(c[sub] for c in cols[:0:-1]), run))]
    return o


#: the packed key of :func:`packed_order` stays below this (one more column could overflow int64)
_PACK_LIMIT = 1 << 62


def _table_rank(x: np.ndarray) -> tuple[np.ndarray, int] | None:
    """:func:`dense_rank` by a table of the values present, for integers, booleans and
    whole-numbered floats whose range is at most ``4 n + 65536`` wide; None otherwise."""
    n = len(x)
    if x.dtype.kind == "b":
        x = x.view(np.uint8)
    if x.dtype.kind in "iu":
        lo, hi = int(x.min()), int(x.max())
        if hi - lo > 4 * n + 65536:
            return None
        v = x.astype(np.int64)
    elif x.dtype.kind == "f":
        lo_f, hi_f = float(x.min()), float(x.max())
        if not (np.isfinite(lo_f) and np.isfinite(hi_f) and hi_f - lo_f <= 4 * n + 65536):
            return None                               # (a NaN makes min and max NaN)
        v = x.astype(np.int64)                        # exact for the whole numbers of this range
        if not bool(np.all(v == x)):
            return None
        lo = int(lo_f)
    else:
        return None
    if lo:
        v -= lo
    present = np.zeros(int(v.max()) + 1, dtype=bool)
    present[v] = True
    remap = np.cumsum(present, dtype=np.int64)
    remap -= 1
    np.take(remap, v, out=v)
    return v, int(remap[-1]) + 1


def dense_rank(x: np.ndarray) -> tuple[np.ndarray, int]:
    """``(codes, levels)``: each value's rank among the distinct values of ``x`` (0 for the
    smallest, ties equal; ``-0.0`` equals ``0.0``, as ``==`` has it), as int64.

    Integers, booleans and whole-numbered floats in a range at most ``4 n + 65536`` wide are ranked
    by one table of the values present (no sort); anything else by ``np.unique``.
    """
    x = np.asarray(x)
    if len(x) == 0:
        return np.zeros(0, dtype=np.int64), 0
    got = _table_rank(x)
    if got is not None:
        return got
    _, inv = np.unique(x, return_inverse=True)
    codes = inv.reshape(-1).astype(np.int64, copy=False)
    return codes, int(codes.max()) + 1


def packed_order(keys: list[np.ndarray], first: tuple[np.ndarray, int] | None = None) -> np.ndarray:
    """Row positions in the lexicographic order of the ``keys`` (first key first), as
    ``np.lexsort(keys[::-1])`` up to the order of rows equal on every key (immaterial: equal
    rows are interchangeable).

    Each key is replaced by its :func:`dense_rank`; the ranks are packed into one int64 code,
    key after key (``code * levels + rank``, which keeps the lexicographic order), the code
    renumbered by ``np.unique`` only when the next key would overflow it; then one argsort of
    the code. ``first``: the :func:`dense_rank` of ``keys[0]``, when known. Far cheaper than a lexsort of many columns with many ties (a lexsort sorts once
    per key).
    """
    n = len(keys[0]) if keys else 0
    if not keys or n < 2:
        return np.arange(n)
    code: np.ndarray | None = None
    levels = 1
    for i, k in enumerate(keys):
        r, lv = first if (i == 0 and first is not None) else dense_rank(k)
        if code is None:
            code, levels = r, lv
            continue
        if levels * lv >= _PACK_LIMIT:
            _, inv = np.unique(code, return_inverse=True)
            code = inv.reshape(-1).astype(np.int64, copy=False)
            levels = int(code.max()) + 1
        code *= lv
        code += r
        levels *= lv
        del r
    assert code is not None
    return np.argsort(code)


def distinct_rows(X: np.ndarray, order: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(rows, inverse)``: the distinct rows of ``X`` (in canonical order) and, for each row of
    ``X``, the index of its distinct row (``rows[inverse]`` equals ``X``).

    ``order`` may be a :func:`canonical_order` of ``X`` (with any ``last`` key) computed already.
    """
    n = len(X)
    if X.shape[1] == 0 or n == 0:
        return X[:1], np.zeros(n, dtype=np.intp)
    o = canonical_order(X) if order is None else order
    Xs = X[o]
    new = np.r_[True, np.any(Xs[1:] != Xs[:-1], axis=1)]
    inv = np.empty(n, dtype=np.intp)
    inv[o] = np.cumsum(new) - 1
    return Xs[new], inv
