"""Optimal pair (k:1) matching: scipy's sparse min-weight bipartite matching on the caliper graph."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from impact._errors import ParameterError
from impact.design._engine import Allocation, Design, active_subset, pair_allocation, warn_short_supply
from impact.design._nearest import sort_units
from impact.design._pairs import Pairs

__all__ = ["allocate", "optimal_pairs"]

_DENSE_LIMIT = 4_000_000
_NEIGHBOURS = 50


def allocate(design: Design) -> Allocation:
    """``method="optimal"`` (the engine's method table entry)."""
    warn_short_supply(design)
    spec = design.spec
    idx, rank, strata = active_subset(design)
    pl = optimal_pairs(design.score[idx], design.focal[idx], strata, rank, ratio=spec.ratio,
                       caliper=design.width, max_edges=spec.max_edges)
    return pair_allocation(design, pl.take(idx))


def _candidate_edges(t_s: np.ndarray, c_s: np.ndarray, width: float | None, ratio: int,
                     max_edges: int) -> tuple[np.ndarray, np.ndarray]:
    """(treated index, control index) of candidate edges; controls ``c_s`` sorted ascending."""
    nt, nc = len(t_s), len(c_s)
    if width is not None:
        lo = np.searchsorted(c_s, t_s - width, side="left")
        hi = np.searchsorted(c_s, t_s + width, side="right")
    elif nt * nc <= _DENSE_LIMIT:
        lo = np.zeros(nt, dtype=np.int64)
        hi = np.full(nt, nc, dtype=np.int64)
    else:
        # the nearest neighbours on each side in score order (documented restriction)
        m = _NEIGHBOURS * ratio
        ins = np.searchsorted(c_s, t_s)
        lo = np.maximum(ins - m, 0)
        hi = np.minimum(ins + m, nc)
    cnt = hi - lo
    total = int(cnt.sum())
    if total > max_edges:
        raise ParameterError(
            f"Optimal matching would need {total} candidate pairs (more than max_edges="
            f"{max_edges}); use a narrower caliper, exact= strata, or method='nearest'.")
    ti = np.repeat(np.arange(nt), cnt)
    start = np.repeat(lo - np.r_[0, np.cumsum(cnt)[:-1]], cnt)
    ci = start + np.arange(total)
    return ti, ci


def optimal_pairs(score: np.ndarray, treated: np.ndarray, strata: np.ndarray | None,
                  rank_fn: Callable[[np.ndarray], np.ndarray], *, ratio: int = 1,
                  caliper: float | None = None, max_edges: int = 20_000_000) -> Pairs:
    """Pairs that match as many treated units (x ratio) as possible and, among those matchings,
    minimise the total absolute score difference; only pairs within the caliper are allowed.

    Each treated unit gets ``ratio`` slots; each slot may also go to a private "unmatched" node
    whose cost exceeds any possible total, so the solver first maximises the number of matches.
    Without a caliper and with more than 4 million possible pairs in a stratum, the graph keeps
    each treated unit's 50 x ratio nearest controls on either side in score order.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import min_weight_full_bipartite_matching

    order = sort_units(score, strata, rank_fn)   # deterministic, row-order free node order
    codes = np.zeros(len(score), dtype=np.int64) if strata is None else strata
    parts = []
    no_cand = []     # treated units with no control of their stratum within the caliper
    for s in np.unique(codes[order]):
        idx = order[codes[order] == s]
        t_units = idx[treated[idx]]
        c_units = idx[~treated[idx]]
        if not len(c_units):
            no_cand.append(t_units)
        if not len(t_units) or not len(c_units):
            continue
        t_s, c_s = score[t_units], score[c_units]
        if caliper is not None:
            ins = np.searchsorted(c_s, t_s)
            dl = np.where(ins > 0, t_s - c_s[np.maximum(ins - 1, 0)], np.inf)
            dr = np.where(ins < len(c_s), c_s[np.minimum(ins, len(c_s) - 1)] - t_s, np.inf)
            no_cand.append(t_units[~(np.minimum(dl, dr) <= caliper)])
        ti, ci = _candidate_edges(t_s, c_s, caliper, ratio, max_edges)
        if not len(ti):
            continue
        d = np.abs(t_s[ti] - c_s[ci])
        shift = 1.0 + float(d.max()) if len(d) else 1.0   # strictly positive edge weights
        nt, nc = len(t_units), len(c_units)
        rows_n = nt * ratio
        big = shift * 2 + (float(d.max()) + shift) * rows_n
        rr = (ti[:, None] * ratio + np.arange(ratio)[None, :]).ravel()
        cc = np.repeat(ci, ratio)
        ww = np.repeat(d + shift, ratio)
        # private dummy column for every row slot
        rr = np.r_[rr, np.arange(rows_n)]
        cc = np.r_[cc, nc + np.arange(rows_n)]
        ww = np.r_[ww, np.full(rows_n, big)]
        G = csr_matrix((ww, (rr, cc)), shape=(rows_n, nc + rows_n))
        _, col = min_weight_full_bipartite_matching(G)
        real = col < nc
        slot = np.flatnonzero(real)
        tt = slot // ratio
        c = col[real]
        dist = np.abs(t_s[tt] - c_s[c])
        # rounds: within a treated unit, nearer controls first
        o = np.lexsort((dist, tt))
        tt, c, dist = tt[o], c[o], dist[o]
        first = np.r_[True, tt[1:] != tt[:-1]]
        grp_start = np.maximum.accumulate(np.where(first, np.arange(len(tt)), 0))
        rnd = np.arange(len(tt)) - grp_start
        parts.append(Pairs(t_units[tt], c_units[c], rnd.astype(np.int64), dist))
    p = Pairs.concat(parts)
    no = np.concatenate(no_cand) if no_cand else np.empty(0, dtype=np.int64)
    return Pairs(p.treated, p.control, p.round, p.distance, no.astype(np.int64))
