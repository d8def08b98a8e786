"""Compiled loops (numba) for the clustered variance of the curves on large inputs.

The clustered IJ variance at a few times is ``sum_g (sum_{i in g} U_i(t))^2`` with
``U_i(t) = w_i * tab_t[x_i]`` (minus the entry correction with delayed entry). In numpy that is
one ``np.bincount`` by cluster per time, and with millions of clusters each bincount is a random
scatter into an array larger than the caches: at 5M rows / 2.5M clusters one costs more than the
whole Kaplan-Meier point estimate. Here the times are taken four at a time (the tables padded to a
multiple of four columns, so that the inner loop has a fixed width the compiler unrolls), and the
passes are made cache-local by a radix partition of the rows on the high bits of their cluster
code (one counting pass and one scatter into buckets of 8,192 cluster codes); each bucket's cluster
totals then stay in the L2 cache.

Imported only by :func:`impact.survival._common.var_at` for large inputs (numba loads on first
use; ``import impact`` does not load it). The kernels are compiled once per machine and cached
next to this file (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["clustered_square_sums"]

#: times per pass: the width of the inner loop (one 32-byte block of totals per cluster)
_W = 4
#: cluster totals up to this size need no partition (they stay in the cache)
_DIRECT_BYTES = 1 << 22
#: cluster codes per bucket of the partition: 2 ** _SHIFT (256 KB of totals, inside a core's L2
#: cache; measured best at 1M and 5M rows against 2 ** 15 to 2 ** 18)
_SHIFT = 13


@njit(cache=True, nogil=True)
def _accumulate(acc: np.ndarray, out: np.ndarray, pk: np.ndarray, pw: np.ndarray, plo: np.ndarray,
                tabf: np.ndarray, Bf: np.ndarray, kk: np.ndarray, a: int, b: int, W: int, g: int,
                shift: int) -> None:  # pragma: no cover - compiled
    """Add rows ``a:b`` of the partition to the cluster totals ``acc`` (4 per cluster) for the
    columns ``4g..4g+3`` of the ``W``-column tables, then their squares to ``out`` and zero ``acc``.
    ``pk`` packs each row's key and cluster code: ``key << shift | code``."""
    o = 4 * g
    mask = (1 << shift) - 1
    if plo.size > 0:
        for p in range(a, b):
            q = (pk[p] & mask) * 4
            k = (pk[p] >> shift) * W + o
            wi = pw[p]
            e = plo[p]
            for m in range(4):
                acc[q + m] += wi * (tabf[k + m] - Bf[min(e, kk[o + m] + 1) * W + o + m])
    else:
        for p in range(a, b):
            q = (pk[p] & mask) * 4
            k = (pk[p] >> shift) * W + o
            wi = pw[p]
            for m in range(4):
                acc[q + m] += wi * tabf[k + m]
    for r in range(0, acc.size, 4):
        for m in range(4):
            v = acc[r + m]
            out[o + m] += v * v
            acc[r + m] = 0.0


@njit(cache=True, nogil=True)
def _partition(x: np.ndarray, w: np.ndarray, codes: np.ndarray, lo: np.ndarray, shift: int,
               start: np.ndarray, pk: np.ndarray, pw: np.ndarray,
               plo: np.ndarray) -> None:  # pragma: no cover - compiled
    """Counting sort of the rows on ``codes >> shift`` (stable): bucket ``b`` is
    ``start[b]:start[b+1]``; each row's key and the low ``shift`` bits of its code packed in ``pk``."""
    n = x.size
    nb = start.size - 1
    for i in range(n):
        start[(codes[i] >> shift) + 1] += 1
    for b in range(nb):
        start[b + 1] += start[b]
    pos = start[:nb].copy()
    mask = (1 << shift) - 1
    entry = lo.size > 0
    for i in range(n):
        c = codes[i]
        b = c >> shift
        p = pos[b]
        pos[b] = p + 1
        pk[p] = (x[i] << shift) | (c & mask)
        pw[p] = w[i]
        if entry:
            plo[p] = lo[i]


def clustered_square_sums(x: np.ndarray, w: np.ndarray, codes: np.ndarray, n_codes: int,
                          tabs: list[np.ndarray], lo: np.ndarray | None = None,
                          Bs: list[np.ndarray] | None = None, ks: list[int] | None = None) -> np.ndarray:
    """``sum_g (sum_{i in g} U_i)^2`` for every table at once (see :func:`var_at`); O(n) per four
    tables. ``U_i = w_i * tab[x_i]``, with delayed entry ``w_i * (tab[x_i] - B[min(lo_i, k + 1)])``.
    """
    M = len(tabs)
    W = -(-M // _W) * _W
    nkeys = tabs[0].size
    pad = [np.zeros(nkeys)] * (W - M)
    tabf = np.ascontiguousarray(np.column_stack(list(tabs) + pad), dtype=np.float64).ravel()
    if lo is None:
        lo_a = np.zeros(0, np.int64)
        Bf = np.zeros(W)
        kk = np.zeros(W, np.int64)
    else:
        assert Bs is not None and ks is not None
        lo_a = np.ascontiguousarray(lo, dtype=np.int64)
        Bf = np.ascontiguousarray(np.column_stack(list(Bs) + [np.zeros_like(Bs[0])] * (W - M)),
                                  dtype=np.float64).ravel()
        kk = np.asarray(list(ks) + [0] * (W - M), dtype=np.int64)
    # one bucket when the totals stay in the cache anyway, else buckets of 2 ** _SHIFT codes
    shift = _SHIFT if n_codes * 8 * _W > _DIRECT_BYTES else max(1, (n_codes - 1).bit_length())
    nbits = max(1, (nkeys - 1).bit_length()) + shift
    n = x.size
    # buffers are allocated by numpy (large arrays get huge pages: fewer page faults and TLB misses
    # than numba's own allocations); the packed key and code take 4 bytes a row where they fit
    pk = np.empty(n, np.int32 if nbits <= 31 else np.int64)
    pw = np.empty(n)
    plo = np.empty(n if lo is not None else 0, np.int32)
    start = np.zeros((n_codes >> shift) + 2, np.int64)
    _partition(np.ascontiguousarray(x, dtype=np.int64), np.ascontiguousarray(w, dtype=np.float64),
               np.ascontiguousarray(codes, dtype=np.int64), lo_a, shift, start, pk, pw, plo)
    acc = np.zeros(min(1 << shift, n_codes) * _W)  # local codes are < 2 ** shift and < n_codes
    out = np.zeros(W)
    for b in range(start.size - 1):
        if start[b + 1] > start[b]:
            for g in range(W // _W):
                _accumulate(acc, out, pk, pw, plo, tabf, Bf, kk, int(start[b]), int(start[b + 1]), W, g,
                            shift)
    return out[:M]
