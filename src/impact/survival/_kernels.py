"""Compiled loops (numba) for the clustered variance of the curves on large inputs.

The clustered IJ variance at a few times is ``sum_g (sum_{i in g} U_i(t))^2`` with
``U_i(t) = w_i * tab_t[x_i]`` (minus the entry correction with delayed entry). In numpy that is
one ``np.bincount`` by cluster per time, and with millions of clusters each bincount is a random
scatter into an array larger than the caches: at 5M rows / 2.5M clusters one costs more than the
whole Kaplan-Meier point estimate. Here all the times share one pass, made cache-local by a radix
partition of the rows on the high bits of their cluster code (one counting pass and one sequential
scatter into a few dozen buckets); each bucket's cluster totals then fit in the L2 cache.

Imported only by :func:`impact.survival._common.var_at` for large inputs (numba loads on first
use; ``import impact`` does not load it). The kernels are compiled once per machine and cached
next to this file (``cache=True``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["clustered_square_sums"]

#: the rows are partitioned into about this many buckets (few enough write streams for the
#: scatter to stay sequential; each bucket's totals a few MB at most)
_BUCKETS = 24
#: cluster totals up to this size need no partition (they stay in the L2 cache)
_DIRECT_BYTES = 1 << 19
#: at least this many cluster codes per bucket (2 ** _MIN_SHIFT)
_MIN_SHIFT = 10


@njit(cache=True, nogil=True)
def _accumulate(acc: np.ndarray, out: np.ndarray, x: np.ndarray, w: np.ndarray, c: np.ndarray,
                tabf: np.ndarray, lo: np.ndarray, Bf: np.ndarray, kk: np.ndarray,
                a: int, b: int, M: int) -> None:  # pragma: no cover - compiled
    """Add rows ``a:b`` to the cluster totals ``acc`` (flat, M per cluster), then their squares to
    ``out`` and zero ``acc`` again."""
    entry = lo.size > 0
    for p in range(a, b):
        q = np.uint64(c[p]) * M
        k = np.uint64(x[p]) * M
        wi = w[p]
        if entry:
            e = np.uint64(lo[p])
            for m in range(M):
                acc[q + m] += wi * (tabf[k + m] - Bf[min(e, np.uint64(kk[m] + 1)) * M + m])
        else:
            for m in range(M):
                acc[q + m] += wi * tabf[k + m]
    for r in range(0, acc.size, M):
        for m in range(M):
            v = acc[r + m]
            out[m] += v * v
            acc[r + m] = 0.0


@njit(cache=True, nogil=True)
def _square_sums(x: np.ndarray, w: np.ndarray, codes: np.ndarray, n_codes: int, tabf: np.ndarray,
                 lo: np.ndarray, Bf: np.ndarray, kk: np.ndarray, M: int, shift: int,
                 acc: np.ndarray, px: np.ndarray, pc: np.ndarray, pw: np.ndarray,
                 plo: np.ndarray) -> np.ndarray:  # pragma: no cover - compiled
    n = x.size
    out = np.zeros(M)
    if shift < 0:  # the totals fit in the cache: no partition
        _accumulate(acc, out, x, w, codes, tabf, lo, Bf, kk, 0, n, M)
        return out
    entry = lo.size > 0
    nb = (n_codes >> shift) + 1
    start = np.zeros(nb + 1, np.int64)
    for i in range(n):
        start[(codes[i] >> shift) + 1] += 1
    for b in range(nb):
        start[b + 1] += start[b]
    pos = start[:nb].copy()
    mask = (1 << shift) - 1
    for i in range(n):
        c = codes[i]
        b = c >> shift
        p = pos[b]
        pos[b] = p + 1
        px[p] = x[i]
        pc[p] = c & mask
        pw[p] = w[i]
        if entry:
            plo[p] = lo[i]
    for b in range(nb):
        _accumulate(acc, out, px, pw, pc, tabf, plo, Bf, kk, start[b], start[b + 1], M)
    return out


def clustered_square_sums(x: np.ndarray, w: np.ndarray, codes: np.ndarray, n_codes: int,
                          tabs: list[np.ndarray], lo: np.ndarray | None = None,
                          Bs: list[np.ndarray] | None = None, ks: list[int] | None = None) -> np.ndarray:
    """``sum_g (sum_{i in g} U_i)^2`` for every table at once (see :func:`var_at`); O(n).

    ``U_i = w_i * tab[x_i]``, with delayed entry ``w_i * (tab[x_i] - B[min(lo_i, k + 1)])``.
    Keys, entry indices and the cluster codes within a bucket must fit in 31 bits (the caller
    checks the tables' size).
    """
    M = len(tabs)
    tabf = np.ascontiguousarray(np.column_stack(tabs), dtype=np.float64).ravel()
    if lo is None:
        lo_a = np.zeros(0, np.int64)
        Bf = np.zeros(M)
        kk = np.zeros(M, np.int64)
    else:
        assert Bs is not None and ks is not None
        lo_a = np.ascontiguousarray(lo, dtype=np.int64)
        Bf = np.ascontiguousarray(np.column_stack(Bs), dtype=np.float64).ravel()
        kk = np.asarray(ks, dtype=np.int64)
    if n_codes * M * 8 <= _DIRECT_BYTES:
        shift = -1
        per = n_codes
    else:
        shift = max(_MIN_SHIFT, (max(1, n_codes // _BUCKETS) - 1).bit_length())
        per = 1 << shift
    # the buffers are allocated here, by numpy: large arrays get huge pages (far fewer page faults
    # and TLB misses than numba's own allocations)
    acc = np.zeros(per * M)
    m = x.size if shift >= 0 else 0
    px, pc = np.empty(m, np.int32), np.empty(m, np.int32)
    pw, plo = np.empty(m), np.empty(m if lo is not None else 0, np.int32)
    return _square_sums(np.ascontiguousarray(x, dtype=np.int64), np.ascontiguousarray(w, dtype=np.float64),
                        np.ascontiguousarray(codes, dtype=np.int64), int(n_codes), tabf, lo_a, Bf, kk, M,
                        shift, acc, px, pc, pw, plo)
