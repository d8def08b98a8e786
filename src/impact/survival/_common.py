"""Input checks and the infinitesimal-jackknife machinery shared by the curve estimators.

Notation used throughout (R's ``survfit`` conventions):

* rows ``i`` with follow-up time ``T_i``, case weight ``w_i`` and cluster (matched set) ``g_i``;
* the distinct observed times ``t_0 < t_1 < ... < t_{K-1}`` and ``j_i``, the index of ``T_i``;
* a row's infinitesimal-jackknife (IJ) influence on an estimate at time ``t`` is ``w_i`` times the
  derivative of the estimate with respect to ``w_i``; the variance is the sum over clusters of the
  squared cluster totals (``se^2 = sum_g (sum_{i in g} U_i)^2``), exactly as R computes it for
  ``survfit(..., weights=, cluster=)``.

For the right-censored estimators here (Kaplan-Meier, Aalen-Johansen, and the restricted mean built on
them) each row's influence has the shape::

    U_i(t) = w_i * ( sum_m P_im f_m(t) )   if T_i <= t      (the row has left the risk set)
    U_i(t) = w_i * R(t)                     if T_i >  t      (the row is still at risk)

With ``a_g(t) = (sum_{i in g, T_i<=t} w_i P_i, sum_{i in g, T_i>t} w_i)`` and ``z(t) = (f(t), R(t))``
the clustered variance is ``z(t)' Q(t) z(t)`` with ``Q(t) = sum_g a_g(t) a_g(t)'``. ``Q`` is a step
function that changes only where a row leaves, so bincounts by time and cumulative sums give it at
every observed time, never O(n x times) or O(n^2): in closed form for rows alone and for clusters
of two (no sort, O(n)), by within-cluster cumulative sums after one sort for larger clusters.
Whole-number durations are indexed by counting, without a sort.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from numbers import Real
from typing import TypeVar

import numpy as np
import pandas as pd
from scipy import stats

from impact._validation import InstanceOf, Interval

__all__ = [
    "ARRAY",
    "CAUSES",
    "CONF_LEVEL",
    "FEW_TIMES",
    "ClusterIndex",
    "Memo",
    "TimeIndex",
    "cluster_count",
    "cluster_index",
    "entry_index",
    "ij_quadratic",
    "risk_set",
    "influence_at",
    "keyed_time_index",
    "log_ci",
    "quad_form",
    "step_index",
    "var_at",
    "z_value",
]

#: at most this many distinct requested times: the variance by one bincount per time (O(n) each);
#: more: the quadratic form at every time (O(n) once), read off at the requested ones
FEW_TIMES = 16
#: from this many rows the clustered variance at a few times is one compiled pass for all the times
#: (:mod:`impact.survival._kernels`, numba); below it one bincount per time (nothing to compile)
COMPILED_ROWS = 1_000_000


# ----------------------------------------------------------------------------------------------
# parameter constraints shared by the survival functions' tables
# ----------------------------------------------------------------------------------------------
#: one value per row: a list, a numpy array or a pandas Series / Index / extension array
ARRAY = InstanceOf((np.ndarray, pd.Series, pd.Index, pd.api.extensions.ExtensionArray, list, tuple),
                   "an array-like (a list, numpy array or pandas Series)")
#: declared causes of competing exits
CAUSES = InstanceOf((list, tuple, np.ndarray, pd.Index), "a list of causes")
CONF_LEVEL = Interval(Real, 0, 1, closed="neither")

T_ = TypeVar("T_")



def z_value(conf_level: float) -> float:
    return float(stats.norm.ppf(0.5 + conf_level / 2.0))


def log_ci(estimate: np.ndarray, se: np.ndarray, z: float,
           cap: float | None = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """R's default ``conf.type="log"``: ``exp(log(p) -/+ z se/p)``, upper capped at 1."""
    est = np.asarray(estimate, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        width = z * np.asarray(se, dtype=np.float64) / est
        low = est * np.exp(-width)
        high = est * np.exp(width)
    bad = ~(est > 0) | ~np.isfinite(width)
    low = np.where(bad, np.nan, low)
    high = np.where(bad, np.nan, high)
    if cap is not None:
        high = np.minimum(high, cap)
    return low, high


# ----------------------------------------------------------------------------------------------
# sorting and the IJ quadratic form
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class TimeIndex:
    """Distinct times and where each row falls among them (computed once).

    ``key // stride`` is each row's time slot: its whole-number duration itself when durations
    are indexed by counting (then ``slot[v]`` is the index of the last distinct time <= ``v``),
    else its index among the distinct times (``slot`` is the identity). With ``stride > 1``
    ``key`` is the row key of :func:`keyed_time_index` (slot * stride + class), stored once.
    """

    times: np.ndarray  # (K,) distinct observed times, ascending
    key: np.ndarray    # (n,) time slot of each row (times ``stride``, plus its class)
    slot: np.ndarray   # (V,) index among the distinct times of each time slot
    #: whole-number durations: ``lut[v]`` is the number of distinct times <= v (None: sorted path)
    lut: np.ndarray | None = None
    stride: int = 1

    @property
    def index(self) -> np.ndarray:
        """``j_i``: each row's index among the distinct times (one lookup when counted)."""
        v = self.key if self.stride == 1 else self.key // self.stride
        return v if self.lut is None else np.take(self.slot, v)

    def keyed(self, tab: np.ndarray) -> np.ndarray:
        """A ``(K, c)`` table by distinct time and class as a flat table by row key
        ``slot * c + class`` (see :func:`keyed_time_index`)."""
        return (tab if self.lut is None else np.take(tab, self.slot, axis=0)).ravel()

    def count_le(self, values: np.ndarray) -> np.ndarray:
        """For each value ``v >= 0`` the number of distinct times ``<= v`` (counting when it can)."""
        if self.lut is not None:
            return np.take(self.lut, np.minimum(values, self.lut.size - 1).astype(np.int64))
        return np.searchsorted(self.times, values, side="right")


def _whole(duration: np.ndarray) -> np.ndarray | None:
    """The durations as int64 when they are whole numbers of modest range (else None)."""
    n = duration.size
    top = float(duration.max()) if n else 0.0
    if top <= 4 * n + 1024:
        whole = duration.astype(np.int64)
        if np.array_equal(whole, duration):
            return whole
    return None


def keyed_time_index(duration: np.ndarray, cls: np.ndarray, n_cls: int,
                     w: np.ndarray) -> tuple[TimeIndex, np.ndarray, np.ndarray]:
    """The time index, each row's key ``x_i = slot_i * n_cls + class_i`` and the weighted counts
    by distinct time and class ``(K, n_cls)``, in one bincount.

    A row's influence at any time depends on its key only (and, with delayed entry, on its entry
    index), so per-time values are lookups in small tables (:meth:`TimeIndex.keyed`). ``cls``
    holds whole numbers ``0..n_cls-1`` (any numeric dtype). The key is built in place: no other
    array of n rows is kept.
    """
    whole = _whole(duration)
    if whole is not None:
        V = int(whole.max()) + 1
        allpos = bool(w.min() > 0) if w.size else True
        present = None if allpos else np.bincount(whole, minlength=V) > 0  # rows of weight 0 make a time
        x = whole
        x *= n_cls
        if cls.dtype.kind == "f":  # whole numbers 0..n_cls-1: adding them as small integers is cheaper
            cls = cls.astype(np.int8 if n_cls <= 127 else np.int64)
        np.add(x, cls, out=x, casting="unsafe")
        cd = np.bincount(x, weights=w, minlength=V * n_cls).reshape(V, n_cls)
        if present is None:
            present = cd.sum(axis=1) > 0
        lut = np.cumsum(present)
        ti = TimeIndex(times=np.flatnonzero(present).astype(np.float64), key=x,
                       slot=np.maximum(lut - 1, 0), lut=lut, stride=n_cls)
        return ti, x, cd[present]
    times, index = np.unique(duration, return_inverse=True)
    K = times.size
    x = index.reshape(-1).astype(np.int64, copy=False)
    x *= n_cls
    np.add(x, cls, out=x, casting="unsafe")
    ti = TimeIndex(times=times, key=x, slot=np.arange(K), stride=n_cls)
    return ti, x, np.bincount(x, weights=w, minlength=K * n_cls).reshape(K, n_cls)


@dataclass(frozen=True)
class ClusterIndex:
    """How the rows fall into clusters, for the clustered IJ variance (computed once per fit).

    Rows alone in their cluster (``single``) and pairs (``first``/``second``: the two rows of each
    cluster of two) are handled in closed form without a sort; the rows of larger clusters
    (``big``) are sorted by (cluster, time) once.
    """

    codes: np.ndarray    # (n,) cluster code of each row (0..n_codes-1, not all used)
    n_clusters: int      # clusters that occur
    single: np.ndarray   # positions of rows alone in their cluster
    first: np.ndarray    # (pairs,) one row of each cluster of two
    second: np.ndarray   # (pairs,) the other row
    big: np.ndarray      # positions of rows in larger clusters, sorted by (cluster, time)


def cluster_index(codes: np.ndarray, n_codes: int, ti: TimeIndex) -> ClusterIndex:
    """The cluster structure from codes in ``0..n_codes-1`` (:func:`check_cluster_unordered`)."""
    n = codes.size
    size = np.bincount(codes, minlength=n_codes)
    n_clusters = int(np.count_nonzero(size))
    rep = np.empty(size.size, dtype=np.int64)  # one member of each cluster
    if size.max() <= 2:
        big = np.zeros(0, dtype=np.int64)
        pos = np.arange(n)
        rep[codes] = pos  # whichever write lands last: any member will do
        mate = np.take(rep, codes)  # the cluster's member: the row itself or its partner
        is_rep = mate == pos
        del pos
        second = np.flatnonzero(~is_rep)
        first = mate[second]
        if 2 * n_clusters == n:  # every cluster a pair
            single = np.zeros(0, dtype=np.int64)
        else:
            single = np.flatnonzero(is_rep & (np.take(size, codes) == 1))
    else:
        in_small = np.take(size, codes) <= 2
        rows = np.flatnonzero(in_small)
        bigrows = np.flatnonzero(~in_small)
        key = codes[bigrows] * np.int64(ti.times.size) + ti.index[bigrows]
        big = bigrows[np.argsort(key)]  # any order within a (cluster, time) cell will do
        sub = codes[rows]
        rep[sub] = rows
        mate = np.take(rep, sub)
        is_rep = mate == rows
        second = rows[~is_rep]
        first = mate[~is_rep]
        single = rows[is_rep & (np.take(size, sub) == 1)]
    return ClusterIndex(codes=codes, n_clusters=n_clusters, single=single, first=first,
                        second=second, big=big)


#: rows per block in the closed-form loops: the temporaries stay in cache
_BLOCK = 1 << 16


def _q_single(j: np.ndarray, U: list[np.ndarray], v: np.ndarray, rows: np.ndarray | None, K: int,
              Q: np.ndarray) -> None:
    """Add to ``Q`` the rows alone in their cluster: ``a_i(t)`` is ``(0, v_i)``, then ``(u_i, 0)``.

    ``rows`` selects them (``None``: every row).
    """
    m = len(U)
    ent = [(a, b) for a in range(m) for b in range(a, m)]
    acc = np.zeros((len(ent) + 1, K))
    total_vv = 0.0
    n = j.size if rows is None else rows.size
    for s in range(0, n, _BLOCK):
        sl = slice(s, s + _BLOCK)
        if rows is None:
            jj, uu, vv = j[sl], [u[sl] for u in U], v[sl]
        else:
            r = rows[sl]
            jj, uu, vv = np.take(j, r), [np.take(u, r) for u in U], np.take(v, r)
        for e, (a, b) in enumerate(ent):
            acc[e] += np.bincount(jj, weights=uu[a] * uu[b], minlength=K)
        v2 = vv * vv
        total_vv += float(np.sum(v2))
        acc[-1] += np.bincount(jj, weights=v2, minlength=K)
    cs = np.cumsum(acc, axis=1)
    for e, (a, b) in enumerate(ent):
        Q[:, a, b] += cs[e]
    Q[:, m, m] += total_vv - cs[-1]


def _q_pairs(j: np.ndarray, U: list[np.ndarray], v: np.ndarray, first: np.ndarray, second: np.ndarray,
             K: int, Q: np.ndarray) -> None:
    """Add to ``Q`` the clusters of two rows ``a = first``, ``b = second``, in closed form.

    With times ``j_lo <= j_hi`` the cluster's vector ``a_g(t)`` is ``(0, v_a + v_b)`` before
    ``j_lo``, ``(u_lo, v_hi)`` until ``j_hi`` and ``(u_a + u_b, 0)`` after: each row adds its
    step at its own time (a tie splits the cross terms half and half), so two bincounts per entry
    of ``Q`` give it at every time. Blocks of pairs keep the temporaries in cache.
    """
    m = len(U)
    ent = [(a, b) for a in range(m) for b in range(a, m)]
    ne = len(ent)
    acc = np.zeros((ne + m + 1, K))
    total_vv = 0.0
    # the values two by two as complex numbers: one random gather fetches both
    vals = [*U, v]
    packed = []
    for c in range(0, m + 1, 2):
        z = np.empty(v.size, dtype=np.complex128)
        z.real = vals[c]
        z.imag = vals[c + 1] if c + 1 <= m else 0.0
        packed.append(z)

    def unpack(idx: np.ndarray) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        for z in packed:
            g = np.take(z, idx)
            out += [g.real, g.imag]
        return out[:m + 1]

    for s in range(0, first.size, _BLOCK):
        ia, ib = first[s:s + _BLOCK], second[s:s + _BLOCK]
        ja, jb = np.take(j, ia), np.take(j, ib)
        *Ua, va = unpack(ia)
        *Ub, vb = unpack(ib)
        h = (ja > jb) + 0.5 * (ja == jb)  # 1: a is the later row
        hb = 1.0 - h
        for e, (a, b) in enumerate(ent):
            cross = Ua[a] * Ub[b] + Ub[a] * Ua[b]
            acc[e] += np.bincount(ja, weights=Ua[a] * Ua[b] + h * cross, minlength=K)
            acc[e] += np.bincount(jb, weights=Ub[a] * Ub[b] + hb * cross, minlength=K)
        for a in range(m):
            c = hb * Ua[a] * vb - h * Ub[a] * va  # a leaves first: (u_a, v_b) until b leaves
            acc[ne + a] += np.bincount(ja, weights=c, minlength=K)
            acc[ne + a] -= np.bincount(jb, weights=c, minlength=K)
        vab = va * vb
        V = va + vb
        total_vv += float(np.dot(V, V))
        acc[-1] += np.bincount(ja, weights=va * va + 2.0 * hb * vab, minlength=K)
        acc[-1] += np.bincount(jb, weights=vb * vb + 2.0 * h * vab, minlength=K)
    cs = np.cumsum(acc, axis=1)
    for e, (a, b) in enumerate(ent):
        Q[:, a, b] += cs[e]
    for a in range(m):
        Q[:, a, m] += cs[ne + a]
    Q[:, m, m] += total_vv - cs[-1]


def _q_sorted(js: np.ndarray, Us: np.ndarray, vs: np.ndarray, cl: np.ndarray, K: int) -> np.ndarray:
    """``Q`` for rows sorted by (cluster, time): within-cluster cumulative sums."""
    n, m = Us.shape
    delta = np.empty((n, m + 1))
    delta[:, :m] = Us
    delta[:, m] = -vs
    cum = np.cumsum(delta, axis=0)
    starts = np.flatnonzero(np.r_[True, cl[1:] != cl[:-1]])
    run = np.diff(np.r_[starts, n])
    base = np.zeros((starts.size, m + 1))
    base[1:] = cum[starts[1:] - 1]
    cum -= np.repeat(base, run, axis=0)  # within-cluster cumulative sums
    w_tot = np.add.reduceat(vs, starts)
    after = cum
    after[:, m] += np.repeat(w_tot, run)
    before = after - delta
    Q = np.empty((K, m + 1, m + 1))
    for a in range(m + 1):
        for b in range(a, m + 1):
            dq = after[:, a] * after[:, b] - before[:, a] * before[:, b]
            Q[:, a, b] = Q[:, b, a] = np.cumsum(np.bincount(js, weights=dq, minlength=K))
    Q[:, m, m] += np.sum(w_tot * w_tot)
    return Q


def ij_quadratic(ti: TimeIndex, w: np.ndarray, P: np.ndarray, ci: ClusterIndex | None) -> np.ndarray:
    """``Q(t_k) = sum_g a_g a_g'`` at every distinct time (shape ``(K, M+1, M+1)``).

    ``P`` is ``(n, M)``: the coefficients of a row's influence once it has left the risk set.
    ``ci=None`` means every row is its own cluster. Rows alone or in pairs cost O(n) (closed
    form, no sort); only rows of larger clusters are sorted, once.
    """
    K = ti.times.size
    j = ti.index
    m = P.shape[1]
    Q = np.zeros((K, m + 1, m + 1))
    U = [P[:, a] * w for a in range(m)]
    if ci is None:
        _q_single(j, U, w, None, K, Q)
    else:
        s = ci.single
        if s.size:
            _q_single(j, U, w, None if s.size == j.size else s, K, Q)
        if ci.first.size:
            _q_pairs(j, U, w, ci.first, ci.second, K, Q)
        b = ci.big
        if b.size:
            Q += _q_sorted(j[b], np.column_stack([u[b] for u in U]), w[b], ci.codes[b], K)
    for a in range(m + 1):
        for b2 in range(a + 1, m + 1):
            Q[:, b2, a] = Q[:, a, b2]
    return Q


def quad_form(Q: np.ndarray, z: np.ndarray) -> np.ndarray:
    """``z_k' Q_k z_k`` for every k (``Q`` is ``(K, M, M)``, ``z`` is ``(K, M)``)."""
    return np.einsum("ka,kab,kb->k", z, Q, z)


def step_index(grid: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Index of the last grid time <= t (-1 before the first)."""
    return np.searchsorted(grid, times, side="right") - 1


class Memo:
    """Values derived from a fitted curve on first use (the cluster structure, the variance at
    every time): a cache, not part of the result's state, so the frozen result stays as made."""

    __slots__ = ("_values",)

    def __init__(self) -> None:
        self._values: dict[object, object] = {}

    def get(self, key: object, make: Callable[[], T_]) -> T_:
        if key not in self._values:
            self._values[key] = make()
        return self._values[key]  # type: ignore[return-value]  # stored by make() under this key

    def __repr__(self) -> str:
        return "Memo()"


def cluster_count(codes: np.ndarray | None, n_codes: int, n: int) -> int:
    """Number of clusters that occur (codes from :func:`check_cluster_unordered`)."""
    if codes is None:
        return n
    return int(np.count_nonzero(np.bincount(codes, minlength=n_codes)))


def entry_index(ti: TimeIndex, entry: np.ndarray) -> np.ndarray:
    """For each row the number of distinct times ``<= entry``: the row is at risk from the
    time of that index on (0-based), i.e. at ``t_k`` when ``lo_i <= k <= j_i``."""
    return ti.count_le(entry)


def risk_set(ti: TimeIndex, n_exit: np.ndarray, start: np.ndarray | None, w: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray | None]:
    """The (weighted) number at risk at each distinct time, and each row's entry index
    (:func:`entry_index`; ``None`` without delayed entry). With entry a row is at risk at ``t_k``
    when ``lo_i <= k <= j_i``: (exits at or after ``t_k``) - (entries after ``t_k``), both reverse
    sums, so that the risk set is exact where it ends (no running +/- round-off)."""
    at_or_after = np.cumsum(n_exit[::-1])[::-1]
    if start is None:
        return at_or_after, None
    lo = entry_index(ti, start)
    enter = np.bincount(lo, weights=w, minlength=ti.times.size)
    return at_or_after - np.r_[np.cumsum(enter[::-1])[::-1][1:], 0.0], lo


def influence_at(x: np.ndarray, w: np.ndarray, tab: np.ndarray, lo: np.ndarray | None = None,
                 B: np.ndarray | None = None, k: int = 0, out: np.ndarray | None = None) -> np.ndarray:
    """Per-row influence at one time: ``w_i * tab[x_i]``; with delayed entry minus the at-risk part
    accrued before the row entered, ``w_i * (tab[x_i] - B[min(lo_i, k + 1)])`` (``B[0] = 0``).
    ``out``: a buffer of n rows to write into (reused across times: no fresh pages per time)."""
    U = np.take(tab, x, out=out)
    if lo is not None:
        assert B is not None
        U -= np.take(B, np.minimum(lo, k + 1))
    U *= w
    return U


def var_at(x: np.ndarray, w: np.ndarray, codes: np.ndarray | None, n_codes: int,
           tabs: list[np.ndarray], lo: np.ndarray | None = None,
           Bs: list[np.ndarray] | None = None, ks: list[int] | None = None) -> np.ndarray:
    """Clustered IJ variance at a few times: ``sum_g (sum_{i in g} U_i)^2`` for each table.

    One lookup and one bincount by cluster per time (O(n), no sort, no n x times matrix); from
    :data:`COMPILED_ROWS` rows with clusters, one compiled cache-local pass for all the times;
    rows alone (``codes=None``) without entry: one bincount of the squared weights by key.
    """
    if codes is not None and x.size >= COMPILED_ROWS and tabs:
        from impact.survival._kernels import clustered_square_sums

        return clustered_square_sums(x, w, codes, n_codes, tabs, lo, Bs, ks)
    out = np.empty(len(tabs))
    if codes is None and lo is None:
        size = tabs[0].size if tabs else 0
        w2 = np.bincount(x, weights=w * w, minlength=size)[:size]
        for c, tab in enumerate(tabs):
            out[c] = float(np.dot(w2, tab * tab))
        return out
    buf = np.empty(x.size)
    for c, tab in enumerate(tabs):
        U = influence_at(x, w, tab, lo, None if Bs is None else Bs[c], 0 if ks is None else ks[c], out=buf)
        if codes is None:
            out[c] = float(np.dot(U, U))
        else:
            s = np.bincount(codes, weights=U, minlength=n_codes)
            out[c] = float(np.dot(s, s))
    return out
