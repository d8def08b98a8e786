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

Cost: one sort (O(n log n); see :func:`sort_units`) plus, without replacement, an amortised near-constant-time
"next available" lookup per match (union-find with path compression over the sorted controls,
stored in dicts so memory grows with the number of matches, not the number of controls). With
replacement every treated unit is independent and the sweep is vectorised.
No treated x controls matrix is ever built.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from impact._errors import DataError

from impact.design._engine import Allocation, Design, active_subset, pair_allocation, warn_short_supply
from impact.design._pairs import Pairs

__all__ = ["allocate", "sort_units", "greedy_nearest", "processing_order", "Pairs"]

RankFn = Callable[[np.ndarray], np.ndarray]


def _sortable_u64(x: np.ndarray) -> np.ndarray:
    """Unsigned 64-bit keys in the order of the float64 values ``x`` (no NaN; -0.0 == 0.0)."""
    b = (np.asarray(x, dtype=np.float64) + 0.0).view(np.uint64)   # + 0.0 turns -0.0 into 0.0
    neg = b >= np.uint64(1 << 63)
    return np.where(neg, ~b, b | np.uint64(1 << 63))


def sort_units(score: np.ndarray, strata: np.ndarray | None, rank_fn: RankFn) -> np.ndarray:
    """Positions in ascending (stratum, score, tie key) order.

    One ``np.sort`` of packed 64-bit integers (stratum code | leading bits of the score | row
    position), which numpy sorts with SIMD far faster than ``argsort`` of the floats; the few runs
    whose leading score bits coincide are then re-sorted on the full score. The tie key is only
    computed for rows whose (stratum, score) is shared with another row.
    """
    n = len(score)
    ib = max(1, (n - 1).bit_length())
    sb = 0 if strata is None or n == 0 else max(1, int(strata.max()).bit_length())
    kb = 64 - ib - sb                               # leading score bits that fit in the key
    if n == 0:
        return np.empty(0, dtype=np.int64)
    if kb < 16 or (strata is not None and sb and int(strata.min()) < 0):   # too many rows or strata: plain argsort
        return _sort_units_lexsort(score, strata, rank_fn)
    order, head = _packed_sort(score, strata, ib, kb, sb)
    eq = head[1:] == head[:-1]
    if not eq.any():
        return order
    if int(np.count_nonzero(eq)) > n // 4:
        # mostly ties (few distinct scores): rank every row once and sort on it in the packed key
        del order, head, eq
        try:
            return _sort_units_ranked(score, strata, rank_fn, ib, kb, sb)
        except DataError:      # the tie key fails somewhere: the per-run path names the rows
            order, head = _packed_sort(score, strata, ib, kb, sb)
            eq = head[1:] == head[:-1]
    # runs of equal leading bits: order them on the full score, then on the tie key where equal
    in_run = np.zeros(n, dtype=bool)
    in_run[1:] |= eq
    in_run[:-1] |= eq
    at = np.flatnonzero(in_run)
    units = order[at]
    h = head[at]
    s = score[units]
    o = np.lexsort((s, h))
    units, h, s = units[o], h[o], s[o]
    tie = (s[1:] == s[:-1]) & (h[1:] == h[:-1])
    if tie.any():
        in_tie = np.zeros(len(units), dtype=bool)
        in_tie[1:] |= tie
        in_tie[:-1] |= tie
        rank = np.zeros(len(units), dtype=np.int64)
        rank[in_tie] = rank_fn(units[in_tie])
        o = np.lexsort((rank, s, h))
        units = units[o]
    order[at] = units
    return order


def _packed_sort(score: np.ndarray, strata: np.ndarray | None, ib: int, kb: int, sb: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``(order, head)``: positions sorted on (stratum, leading score bits, position), and the
    (stratum, leading score bits) part of each sorted key."""
    key = (_sortable_u64(score) >> np.uint64(64 - kb)) << np.uint64(ib)
    key |= np.arange(len(score), dtype=np.uint64)
    if strata is not None and sb:
        key |= strata.astype(np.uint64) << np.uint64(ib + kb)
    key.sort()
    order = (key & np.uint64((1 << ib) - 1)).astype(np.int64)
    key >>= np.uint64(ib)                            # stratum and leading score bits
    return order, key


def _sort_units_ranked(score: np.ndarray, strata: np.ndarray | None, rank_fn: RankFn,
                       ib: int, kb: int, sb: int) -> np.ndarray:
    """:func:`sort_units` when most rows share their score with others.

    The packed key holds the tie rank of the row (a permutation of ``0..n-1``) instead of its
    position, so one sort puts equal scores in tie-key order; only runs whose leading score
    bits coincide while their full scores differ are re-sorted. A few arrays of ``n`` integers,
    never ``n``-sized index lists per run.
    """
    n = len(score)
    rank = rank_fn(np.arange(n)).astype(np.uint64)
    pos_of = np.empty(n, dtype=np.int64)
    pos_of[rank] = np.arange(n)
    key = (_sortable_u64(score) >> np.uint64(64 - kb)) << np.uint64(ib)
    key |= rank
    del rank
    if strata is not None and sb:
        key |= strata.astype(np.uint64) << np.uint64(ib + kb)
    key.sort()
    low = np.uint64((1 << ib) - 1)
    order = pos_of[(key & low).astype(np.int64)]
    del pos_of
    s_o = score[order]
    head = key >> np.uint64(ib)
    bad = (head[1:] == head[:-1]) & (s_o[1:] != s_o[:-1])
    if bad.any():
        # runs of equal leading bits holding different scores: re-sort them on (score, rank)
        run = np.cumsum(np.r_[True, head[1:] != head[:-1]])
        at = np.flatnonzero(np.isin(run, np.unique(run[1:][bad])))
        sub = np.lexsort(((key[at] & low), s_o[at], head[at]))
        order[at] = order[at][sub]
    return order


def _sort_units_lexsort(score: np.ndarray, strata: np.ndarray | None, rank_fn: RankFn) -> np.ndarray:
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
                   rng: np.random.Generator, block: np.ndarray | None = None,
                   group: np.ndarray | None = None,
                   covariate_caliper: tuple[np.ndarray, np.ndarray] | None = None) -> Pairs:
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
    block : ndarray of int, optional
        Sequential blocks (e.g. entry periods, coded in time order): all treated units of block 0
        choose (every round) before any of block 1, and so on.
    group : ndarray of int, optional
        Rows of one person: once a control row is used, every control row of its group is used
        too (risk-set matching where a person is a control at most once overall). Only without
        replacement.
    covariate_caliper : (X, widths), optional
        Calipers on covariates: ``X`` has one column per caliper (shape (n, p)), ``widths`` the
        widths (p,) in the units of ``X``. A control is a candidate only within every caliper.

    Returns
    -------
    Pairs
        Row positions of the pairs, in the order they were made, and ``no_candidate``: the treated
        units with no control of their stratum within the caliper, used or not.
    """
    order = sort_units(score, strata, rank_fn)
    is_c = ~treated[order]
    t_at = np.flatnonzero(~is_c)
    n_c = len(order) - len(t_at)
    t_units = order[t_at]
    if n_c == 0 or len(t_units) == 0:
        return Pairs.empty(no_candidate=t_units)
    ins = t_at - np.arange(len(t_at))       # controls before each treated unit in the merged order
    c_units = order[is_c]
    c_score = score[c_units]
    if strata is not None:
        # controls are in stratum order: stratum s holds controls [start[s], start[s + 1])
        k = int(strata.max()) + 1
        cnt = np.bincount(strata[~treated], minlength=k)
        start = np.r_[0, np.cumsum(cnt)]
        t_str = strata[t_units]
        lo, hi = start[t_str], start[t_str + 1]
    else:
        lo = np.zeros(len(t_units), dtype=np.int64)
        hi = np.full(len(t_units), n_c, dtype=np.int64)
    t_score = score[t_units]
    width = np.inf if caliper is None else float(caliper)
    if covariate_caliper is not None:
        X, cw = covariate_caliper
        t_rank = rank_fn(t_units)
        proc = processing_order(t_units, score, t_rank, m_order, rng)
        bounds, rows_of, proc = _blocks_and_groups(proc, t_units, c_units, block, group)
        p, has = _sweep_covariate_calipers(t_units, c_units, t_score, c_score, ins, lo, hi, proc,
                                           ratio, width, bounds, rows_of, replace, X[t_units],
                                           X[c_units], np.asarray(cw, dtype=float))
        return Pairs(p.treated, p.control, p.round, p.distance, t_units[~has])
    # nearest control of the stratum on either side, used or not
    dl = np.where(ins > lo, t_score - c_score[np.maximum(ins - 1, 0)], np.inf)
    dr = np.where(ins < hi, c_score[np.minimum(ins, n_c - 1)] - t_score, np.inf)
    no_cand = t_units[~(np.minimum(dl, dr) <= width)]

    if replace:
        p = _sweep_replace(t_units, c_units, t_score, c_score, ins, lo, hi, ratio, width)
        return Pairs(p.treated, p.control, p.round, p.distance, no_cand)

    t_rank = rank_fn(t_units)
    proc = processing_order(t_units, score, t_rank, m_order, rng)
    bounds, rows_of, proc = _blocks_and_groups(proc, t_units, c_units, block, group)
    p = _sweep_no_replace(t_units, c_units, t_score, c_score, ins, lo, hi, proc, ratio, width,
                          bounds, rows_of)
    return Pairs(p.treated, p.control, p.round, p.distance, no_cand)


def allocate(design: Design) -> Allocation:
    """``method="nearest"`` on a score: greedy k:1 matching (the engine's method table entry)."""
    warn_short_supply(design)
    spec = design.spec
    whole = bool(design.active.all())
    # every row active: no index array (positions are already those of the design)
    idx, rank, strata = ((None, design.rank_fn, design.strata) if whole
                         else active_subset(design))
    cw = design.covariate_width
    pl = greedy_nearest(design.score if whole else design.score[idx],
                        design.focal if whole else design.focal[idx], strata, rank,
                        ratio=spec.ratio, replace=spec.replace, caliper=design.width,
                        m_order=design.m_order or "largest", rng=spec.rng,
                        block=design.block if design.block is None or idx is None else design.block[idx],
                        group=design.group if design.group is None or idx is None else design.group[idx],
                        covariate_caliper=None if not cw else (
                            _rows_of(design.work[list(cw)].to_numpy(dtype=float), idx),
                            np.array(list(cw.values()))))
    return pair_allocation(design, pl if idx is None else pl.take(idx))


def _rows_of(a: np.ndarray, idx: np.ndarray | None) -> np.ndarray:
    return a if idx is None else a[idx]


def _blocks_and_groups(proc, t_units, c_units, block, group):
    """Processing order by block (stable), block bounds, and each control row's group slice."""
    bounds = [0, len(proc)]
    if block is not None:
        tb = block[t_units][proc]
        o = np.argsort(tb, kind="stable")
        proc, tb = proc[o], tb[o]
        bounds = np.r_[0, np.flatnonzero(tb[1:] != tb[:-1]) + 1, len(proc)].tolist()
    rows_of = None
    if group is not None:
        gc = group[c_units]
        go = np.argsort(gc, kind="stable")
        gs = gc[go]
        cut = np.r_[0, np.flatnonzero(gs[1:] != gs[:-1]) + 1, len(gs)]
        first = np.empty(len(gc), dtype=np.int64)   # each control row -> its group's slice
        first[go] = np.repeat(np.arange(len(cut) - 1), np.diff(cut))
        rows_of = (go, cut, first)
    return bounds, rows_of, proc


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


def _sweep_no_replace(t_units, c_units, t_score, c_score, ins, lo, hi, proc, ratio, width,
                      bounds, rows_of) -> Pairs:
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
    proc_l = proc.tolist()
    if rows_of is not None:
        go, cut, first = rows_of
        go_l, cut_l, first_l = go.tolist(), cut.tolist(), first.tolist()
    inf = float("inf")
    for b in range(len(bounds) - 1):
        active = proc_l[bounds[b]:bounds[b + 1]]
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
                if rows_of is None:
                    left[k] = k - 1
                    right[k] = k + 1
                else:                      # the person is used: all its control rows go
                    g = first_l[k]
                    for kk in go_l[cut_l[g]:cut_l[g + 1]]:
                        left[kk] = kk - 1
                        right[kk] = kk + 1
                still.append(i)
            active = still
            if not active:
                break
    ii = np.asarray(out_i, dtype=np.int64)
    jj = np.asarray(out_j, dtype=np.int64)
    return Pairs(t_units[ii], c_units[jj], np.asarray(out_r, dtype=np.int64),
                 np.asarray(out_d, dtype=float))


def _sweep_covariate_calipers(t_units, c_units, t_score, c_score, ins, lo, hi, proc, ratio, width,
                              bounds, rows_of, replace, Xt, Xc, cov_width) -> tuple[Pairs, np.ndarray]:
    """The greedy rule with calipers on covariates too (MatchIt's named ``caliper``).

    A control is a candidate only if it is within every caliper; each treated unit takes the
    nearest candidate on the score on its left and on its right (skipping used ones, and
    non-candidates, which stay free for others), the nearer one, left on a tie. The scan outward
    stops at the score caliper, or at the stratum's end without one (then it can cost up to the
    stratum size per treated unit, as in MatchIt). Returns the pairs and, per treated unit,
    whether it has any candidate at all (used or not).
    """
    inf = float("inf")
    ts_l, ins_l, lo_l, hi_l = t_score.tolist(), ins.tolist(), lo.tolist(), hi.tolist()
    cs = c_score

    def ok(i: int, j: int) -> bool:
        return bool(np.all(np.abs(Xt[i] - Xc[j]) <= cov_width))

    def nearest(i: int, left: dict, right: dict) -> tuple[float, int]:
        t = ts_l[i]
        best_l, jl = inf, -1
        j = ins_l[i] - 1
        while True:
            while j in left:
                j = left[j]
            if j < lo_l[i] or t - float(cs[j]) > width:
                break
            if ok(i, j):
                best_l, jl = t - float(cs[j]), j
                break
            j -= 1
        best_r, jr = inf, -1
        j = ins_l[i]
        while True:
            while j in right:
                j = right[j]
            if j >= hi_l[i] or float(cs[j]) - t > width:
                break
            if ok(i, j):
                best_r, jr = float(cs[j]) - t, j
                break
            j += 1
        return (best_l, jl) if best_l <= best_r else (best_r, jr)

    has_cand = np.array([nearest(i, {}, {})[0] < inf for i in range(len(t_units))], dtype=bool)
    out_i: list[int] = []
    out_j: list[int] = []
    out_r: list[int] = []
    out_d: list[float] = []
    proc_l = proc.tolist()
    if replace:                      # each treated unit alone: its k nearest candidates
        for i in proc_l:
            left: dict[int, int] = {}
            right: dict[int, int] = {}
            for r in range(ratio):
                d, k = nearest(i, left, right)
                if d == inf:
                    break
                out_i.append(i)
                out_j.append(k)
                out_r.append(r)
                out_d.append(d)
                left[k], right[k] = k - 1, k + 1
    else:
        left, right = {}, {}
        if rows_of is not None:
            go, cut, first = rows_of
        for b in range(len(bounds) - 1):
            active = proc_l[bounds[b]:bounds[b + 1]]
            for r in range(ratio):
                still = []
                for i in active:
                    d, k = nearest(i, left, right)
                    if d == inf:
                        continue
                    out_i.append(i)
                    out_j.append(k)
                    out_r.append(r)
                    out_d.append(d)
                    used = [k] if rows_of is None else go[cut[first[k]]:cut[first[k] + 1]].tolist()
                    for kk in used:
                        left[kk], right[kk] = kk - 1, kk + 1
                    still.append(i)
                active = still
                if not active:
                    break
    ii = np.asarray(out_i, dtype=np.int64)
    jj = np.asarray(out_j, dtype=np.int64)
    return (Pairs(t_units[ii], c_units[jj], np.asarray(out_r, dtype=np.int64),
                  np.asarray(out_d, dtype=float)), has_cand)
