"""Row-order-free arithmetic on design matrices: a canonical row order, and one value per distinct row.

A matrix product such as ``X @ beta`` can round differently for two identical rows at different
positions (BLAS blocks the rows), and a sum over rows depends on their order. The design layer
therefore fits in a canonical row order and evaluates per distinct row, so identical rows get
bit-identical scores and the answer does not depend on how the data are sorted.
"""

from __future__ import annotations

import numpy as np

__all__ = ["canonical_order", "distinct_rows"]


def canonical_order(X: np.ndarray, last: np.ndarray | None = None) -> np.ndarray:
    """Row positions sorted on the columns of ``X`` (first column first), then on ``last``.

    Identical rows end up adjacent, in an order that depends on the values only (their relative
    order is immaterial: they are identical). One quicksort of the first column; only runs tied
    there are sorted on the remaining columns (all rows at once, by one ``lexsort`` of the
    column views, when most are tied: no stacked copy of the keys).
    """
    n = len(X)
    cols = [] if X.ndim != 2 else [X[:, j] for j in range(X.shape[1])]
    if last is not None:
        cols.append(np.asarray(last))
    if not cols or n < 2:
        return np.arange(n)
    o = np.argsort(cols[0])
    k0 = cols[0][o]
    tie = k0[1:] == k0[:-1]
    del k0
    if len(cols) > 1 and tie.any():
        if int(np.count_nonzero(tie)) > n // 4:
            return np.lexsort(cols[::-1])
        in_run = np.zeros(n, dtype=bool)
        in_run[1:] |= tie
        in_run[:-1] |= tie
        at = np.flatnonzero(in_run)
        run = np.cumsum(np.r_[True, ~tie])[at]
        sub = o[at]
        o[at] = sub[np.lexsort((*(c[sub] for c in cols[:0:-1]), run))]
    return o


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
