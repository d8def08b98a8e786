"""Greedy nearest-neighbour matching on a scalar distance: one sort and one sweep.

The rule is MatchIt's (4.5.1 ``nn_matchC_vec`` with the upstream ``std::abs`` fix):

* all units of an exact stratum are put in ascending order of the score; ties are ordered by the
  tie-break key (MatchIt uses row order there; we use the id or a stable hash, see
  :func:`impact.match`);
* treated units are processed in ``m_order``; for ``ratio = k`` the outer loop is the round
  ``r = 1..k``, so every treated unit gets its first control before any gets its second;
* a treated unit's candidates are the nearest still-available control on its left and on its right
  in that order; a candidate farther than the caliper is dropped; the nearer one wins and an exact
  tie goes to the left (lower score) one;
* without replacement a used control is no longer available.

Cost: one ``argsort`` (O(n log n)) plus, without replacement, an amortised near-constant-time
"next available" lookup per match (union-find with path compression over the sorted controls,
stored in dicts so memory grows with the number of matches, not the number of controls). With
replacement every treated unit is independent and the sweep is vectorised.
No treated x controls matrix is ever built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["sort_units", "greedy_nearest", "Pairs"]

RankFn = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Pairs:
    """Matched pairs as row positions: ``treated[i]`` is matched to ``control[i]`` in ``round[i]``."""

    treated: np.ndarray
    control: np.ndarray
    round: np.ndarray
    distance: np.ndarray

    @staticmethod
    def empty() -> "Pairs":
        e = np.empty(0, dtype=np.int64)
        return Pairs(e, e, e, np.empty(0))

    @staticmethod
    def concat(parts: list["Pairs"]) -> "Pairs":
        parts = [p for p in parts if len(p.treated)]
        if not parts:
            return Pairs.empty()
        return Pairs(*(np.concatenate([getattr(p, f) for p in parts])
                       for f in ("treated", "control", "round", "distance")))


def sort_units(score: np.ndarray, strata: np.ndarray | None, rank_fn: RankFn) -> np.ndarray:
    """Positions in ascending (stratum, score, tie key) order.

    The tie key is only computed for the rows whose (stratum, score) is shared with another row.
    """
    # Any sort will do for the score: rows with equal scores are re-ordered by the tie key below.
    order = np.argsort(score)
    if strata is not None:
        st = strata[order]
        if st.max() < 2**15:          # numpy's stable argsort is a radix sort for 16-bit ints
            st = st.astype(np.int16)
        order = order[np.argsort(st, kind="stable")]
    s_o = score[order]
    eq = s_o[1:] == s_o[:-1]
    if strata is not None:
        st_o = strata[order]
        eq &= st_o[1:] == st_o[:-1]
    if not eq.any():
        return order
    in_tie = np.zeros(len(order), dtype=bool)
    in_tie[1:] |= eq
    in_tie[:-1] |= eq
    tie_units = order[in_tie]
    rank = np.zeros(len(score), dtype=np.int64)
    rank[tie_units] = rank_fn(tie_units)
    keys: tuple[np.ndarray, ...] = (rank[order], s_o)
    if strata is not None:
        keys = keys + (strata[order],)
    return order[np.lexsort(keys)]


def processing_order(t_units: np.ndarray, score: np.ndarray, t_rank: np.ndarray, m_order: str,
                     rng: np.random.Generator) -> np.ndarray:
    """Order in which treated units choose, as indices into ``t_units``.

    ``t_rank`` is the rank of each treated unit's tie key (a total order, row-order free).
    """
    ts = score[t_units]
    if m_order == "largest":
        return np.lexsort((t_rank, -ts))
    if m_order == "smallest":
        return np.lexsort((t_rank, ts))
    by_key = np.argsort(t_rank, kind="stable")
    if m_order == "data":
        return by_key
    return by_key[rng.permutation(len(by_key))]  # "random"


def greedy_nearest(score: np.ndarray, treated: np.ndarray, strata: np.ndarray | None,
                   rank_fn: RankFn, *, ratio: int = 1, replace: bool = False,
                   caliper: float | None = None, m_order: str = "largest",
                   rng: np.random.Generator | None = None) -> Pairs:
    """Greedy k:1 nearest-neighbour matching on ``score`` (see the module docstring for the rule).

    Parameters
    ----------
    score : ndarray of float, shape (n,)
    treated : ndarray of bool, shape (n,)
    strata : ndarray of int or None
        Exact-matching stratum codes; units match only inside their stratum.
    rank_fn : callable
        ``rank_fn(positions) -> ranks``: ranks of the tie-break key of those rows (a total order).
    ratio, replace, caliper, m_order
        As in :func:`impact.match`; ``caliper`` is the width on the score scale.

    Returns
    -------
    Pairs
        Row positions of the pairs, in the order they were made.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    order = sort_units(score, strata, rank_fn)
    is_c = ~treated[order]
    n_c = int(is_c.sum())
    t_at = np.flatnonzero(~is_c)
    t_units = order[t_at]
    if n_c == 0 or len(t_units) == 0:
        return Pairs.empty()
    ins = np.cumsum(is_c)[t_at]            # controls before each treated unit in the merged order
    c_units = order[is_c]
    c_score = score[c_units]
    if strata is not None:
        c_str = strata[c_units]
        t_str = strata[t_units]
        lo = np.searchsorted(c_str, t_str, side="left")
        hi = np.searchsorted(c_str, t_str, side="right")
    else:
        lo = np.zeros(len(t_units), dtype=np.int64)
        hi = np.full(len(t_units), n_c, dtype=np.int64)
    t_score = score[t_units]
    width = np.inf if caliper is None else float(caliper)

    if replace:
        return _sweep_replace(t_units, c_units, t_score, c_score, ins, lo, hi, ratio, width)

    t_rank = rank_fn(t_units)
    proc = processing_order(t_units, score, t_rank, m_order, rng)
    return _sweep_no_replace(t_units, c_units, t_score, c_score, ins, lo, hi, proc, ratio, width)


def _sweep_replace(t_units, c_units, t_score, c_score, ins, lo, hi, ratio, width) -> Pairs:
    lp = ins - 1
    rp = ins.copy()
    alive = np.ones(len(t_units), dtype=bool)
    n_c = len(c_units)
    out_t, out_c, out_r, out_d = [], [], [], []
    for r in range(ratio):
        okl = lp >= lo
        okr = rp < hi
        dl = np.where(okl, t_score - c_score[np.clip(lp, 0, n_c - 1)], np.inf)
        dr = np.where(okr, c_score[np.clip(rp, 0, n_c - 1)] - t_score, np.inf)
        left = dl <= dr
        d = np.where(left, dl, dr)
        ok = alive & np.isfinite(d) & (d <= width)
        chosen = np.where(left, lp, rp)
        out_t.append(t_units[ok])
        out_c.append(c_units[chosen[ok]])
        out_r.append(np.full(int(ok.sum()), r, dtype=np.int64))
        out_d.append(d[ok])
        lp = np.where(ok & left, lp - 1, lp)
        rp = np.where(ok & ~left, rp + 1, rp)
        alive &= ok
    return Pairs(np.concatenate(out_t), np.concatenate(out_c), np.concatenate(out_r),
                 np.concatenate(out_d))


def _sweep_no_replace(t_units, c_units, t_score, c_score, ins, lo, hi, proc, ratio, width) -> Pairs:
    left: dict[int, int] = {}    # used control j -> a smaller index to look at next
    right: dict[int, int] = {}   # used control j -> a larger index to look at next
    ins_l = ins.tolist()
    lo_l = lo.tolist()
    hi_l = hi.tolist()
    ts_l = t_score.tolist()
    cs = c_score
    out_i: list[int] = []
    out_j: list[int] = []
    out_r: list[int] = []
    out_d: list[float] = []
    active = proc.tolist()
    inf = float("inf")
    for r in range(ratio):
        still: list[int] = []
        for i in active:
            t = ts_l[i]
            # nearest available on the left
            j = ins_l[i] - 1
            path = []
            while j in left:
                path.append(j)
                j = left[j]
            for p in path:
                left[p] = j
            dl = t - float(cs[j]) if j >= lo_l[i] else inf
            jl = j
            # nearest available on the right
            j = ins_l[i]
            path = []
            while j in right:
                path.append(j)
                j = right[j]
            for p in path:
                right[p] = j
            dr = float(cs[j]) - t if j < hi_l[i] else inf
            if dl <= dr:
                d, k = dl, jl
            else:
                d, k = dr, j
            if d > width or d == inf:
                continue
            out_i.append(i)
            out_j.append(k)
            out_r.append(r)
            out_d.append(d)
            left[k] = k - 1
            right[k] = k + 1
            still.append(i)
        active = still
        if not active:
            break
    ii = np.asarray(out_i, dtype=np.int64)
    jj = np.asarray(out_j, dtype=np.int64)
    return Pairs(t_units[ii], c_units[jj], np.asarray(out_r, dtype=np.int64),
                 np.asarray(out_d, dtype=float))
