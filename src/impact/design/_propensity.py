"""Covariate expansion and the distance (propensity score) used for matching and weighting."""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, cast

import numpy as np
import pandas as pd

from impact.data import expand_covariates
from impact._errors import EstimationError, ImpactWarning, ParameterError
from impact.design._rows import canonical_order, canonical_order_of
from impact.design._stack import external_stacklevel

__all__ = ["Propensity", "fit_propensity"]

Link = Literal["logit", "linear_logit"]


@dataclass(frozen=True)
class Propensity:
    """The distance used for matching, and the model that made it.

    Attributes
    ----------
    kind : str
        ``"glm"`` (logistic regression), ``"sklearn"``, ``"user"`` (a column or array given) or
        ``"mahalanobis"``.
    score : ndarray
        The distance on the scale matching uses (probability, or its logit for
        ``link="linear_logit"``); empty for Mahalanobis.
    probability : ndarray or None
        The fitted probability of treatment, when there is one.
    coefficients : DataFrame or None
        For ``kind="glm"``: ``term``, ``estimate``, ``se``, ``z``, ``p_value`` (model-based SEs,
        ``cov_type="nonrobust"``, as R's ``summary(glm(...))``).
    """

    kind: str
    score: np.ndarray
    probability: np.ndarray | None = None
    coefficients: pd.DataFrame | None = None
    loglik: float | None = None
    description: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def _columns_of(terms: list[str], covariates: Sequence[str]) -> list[str]:
    """The covariates behind model terms (a dummy ``column[level]`` belongs to ``column``), in
    the order of ``covariates``: messages name columns, never categorical levels (a level can
    be a small group)."""
    cols = [str(c) for c in covariates]
    hit = set()
    for term in terms:
        owners = [c for c in cols if term == c or term.startswith(c + "[")]
        if owners:
            hit.add(max(owners, key=len))
    return [c for c in cols if c in hit]


def _separation_message(culprits: list[str], n_extreme: int) -> str:
    """The separation warning: the columns and the rule; the count of rows with a fitted
    probability of 0 or 1 only when it is at least 5 (a smaller count could point at a few
    people), never a categorical level."""
    which = (f"covariate(s) {', '.join(repr(c) for c in culprits)} separate treated from controls"
             if culprits else "a combination of covariates separates treated from controls")
    count = f"{n_extreme} rows have" if n_extreme >= 5 else "fewer than 5 rows have"
    return (f"Perfect separation in the propensity model: {which} (a covariate, or a category "
            "of one, takes values among the treated that it never takes among the controls, or "
            f"the reverse); {count} a fitted probability of 0 or 1 (within 10 machine epsilons, "
            "R's glm rule) and the coefficients are not identified. Drop or coarsen those "
            "covariates, or match exactly on them with exact=[...].")


def _separating_columns(X: np.ndarray | _Packed, names: list[str], t: np.ndarray) -> list[str]:
    """Columns that on their own separate treated from controls (completely or quasi-completely)."""
    out = []
    t1 = t == 1
    for j, name in enumerate(names):
        x = _column(X, j)
        lo1, hi1, lo0, hi0 = x[t1].min(), x[t1].max(), x[~t1].min(), x[~t1].max()
        if hi1 <= lo0 or hi0 <= lo1:
            out.append(name)
    return out


# R's glm.fit: eps <- 10 * .Machine$double.eps; warns when any fitted mu > 1 - eps or mu < eps
_R_GLM_EPS = 10 * float(np.finfo(float).eps)
# statsmodels' (and R's mu.eta) floor on the fitted probability in the IRLS weights
_FLOAT_EPS = float(np.finfo(float).eps)
# R's glm.fit: the QR of the weighted design uses tol = min(1e-07, epsilon / 1000) = 1e-11
_RANK_TOL = 1e-11
#: bytes of one block of design rows gathered at a time (bounds the memory beyond X itself)
_BLOCK_BYTES = 1 << 21
#: rows per chunk of the passes over the fitted probabilities (counts of extreme values)
_SCORE_CHUNK = 1 << 20


def _narrow_dtype(v: np.ndarray) -> np.dtype:
    """The narrowest dtype whose values convert to the same float64 values as ``v``'s: int8/16/32
    for integers, booleans and whole-numbered floats that fit (never a float ``-0.0``), else
    ``v``'s own integer dtype or float64."""
    v = np.asarray(v)
    if v.dtype.kind == "b" or not len(v):
        return np.dtype(np.int8)
    if v.dtype.kind not in "iuf":
        return np.dtype(np.float64)
    lo, hi = v.min(), v.max()
    if v.dtype.kind == "f":
        if not (np.isfinite(lo) and np.isfinite(hi)) or lo < -(2**31) or hi >= 2**31:
            return np.dtype(np.float64)
        iv = v.astype(np.int32)
        whole = bool(np.all(iv == v)) and not bool(np.signbit(v[iv == 0]).any())
        del iv
        if not whole:
            return np.dtype(np.float64)
    for dt in (np.int8, np.int16, np.int32):
        info = np.iinfo(dt)
        if info.min <= lo and hi <= info.max:
            return np.dtype(dt)
    return v.dtype


class _Columns:
    """A design matrix held column by column, never as one ``n x p`` float matrix.

    ``parts``: ``(values, None)`` for one numeric column (any real dtype; read as float64), or
    ``(codes, table)`` for the dummy columns of a categorical (``table[codes]`` are its rows: one
    float64 row per level, distinct levels with distinct rows). :meth:`take` gives the rows the
    fit reads (a :class:`_Packed` copy in canonical order).
    """

    def __init__(self, parts: list[tuple[np.ndarray, np.ndarray | None]], n: int) -> None:
        self.parts = parts
        self.n = n
        self.p = sum(1 if tab is None else tab.shape[1] for _, tab in parts)

    @property
    def shape(self) -> tuple[int, int]:
        return self.n, self.p

    def keys(self) -> list[np.ndarray]:
        """One sortable key per part whose lexicographic order is that of the design's columns
        (a categorical's codes replaced by the rank of their dummy row)."""
        out = []
        for v, tab in self.parts:
            if tab is None:
                out.append(v)
                continue
            o = np.lexsort(tab.T[::-1]) if tab.shape[1] else np.arange(len(tab))
            rank = np.empty(len(tab), dtype=v.dtype if v.dtype.kind in "iu" else np.int64)
            rank[o] = np.arange(len(tab))                  # the codes' dtype holds every rank
            out.append(rank[v])
        return out

    def take(self, idx: np.ndarray) -> _Packed:
        """The rows ``idx`` as a :class:`_Packed` design (gathered a chunk of rows at a time): the
        numeric columns in runs of one narrow dtype, each categorical as its level codes (a byte
        for up to 127 levels) with its table of dummy rows, not as its dummy columns."""
        # the dtype of each numeric design column, then runs of neighbouring columns of one dtype;
        # a categorical's columns stay apart (None)
        dts: list[np.dtype | None] = []
        for v, tab in self.parts:
            if tab is None:
                dts.append(_narrow_dtype(v))
            else:
                dts.extend([None] * tab.shape[1])
        runs: list[tuple[int, np.ndarray]] = []
        j = 0
        while j < self.p:
            dt = dts[j]
            if dt is None:
                j += 1
                continue
            k = j
            while k < self.p and dts[k] == dt:
                k += 1
            runs.append((j, np.empty((len(idx), k - j), dtype=dt)))
            j = k
        col_run = {j: (r, j - j0) for r, (j0, arr) in enumerate(runs) for j in range(j0, j0 + arr.shape[1])}
        coded: list[tuple[int, np.ndarray, np.ndarray]] = []
        j = 0
        for v, tab in self.parts:
            if tab is None:
                j += 1
            elif tab.shape[1]:
                dt = _narrow_dtype(np.array([0, len(tab) - 1]))
                coded.append((j, np.empty(len(idx), dtype=dt), np.ascontiguousarray(tab, dtype=np.float64)))
                j += tab.shape[1]
        step = 1 << 16
        for a in range(0, len(idx), step):
            rows = idx[a:a + step]
            j = 0
            c = 0
            for v, tab in self.parts:
                if tab is None:
                    r, cc = col_run[j]
                    runs[r][1][a:a + len(rows), cc] = v[rows]
                    j += 1
                elif tab.shape[1]:
                    coded[c][1][a:a + len(rows)] = v[rows]
                    c += 1
                    j += tab.shape[1]
        return _Packed(runs, len(idx), self.p, coded)


class _Packed:
    """A design matrix in runs of neighbouring columns of one narrow dtype, each run an ``n x w``
    C-ordered array (int8 for 0/1 columns, int16 for days, ...: a byte or two per value, against 8
    for the float matrix), and categoricals as ``(first column, codes, table)``: the level code
    of each row (a byte) and one float64 dummy row per level (``table[codes]`` are the
    categorical's columns). :meth:`fill` writes a block of rows as float64, exactly the values of
    the float matrix, so every pass of the fit computes what it computes on the matrix."""

    def __init__(self, runs: list[tuple[int, np.ndarray]], n: int, p: int,
                 coded: list[tuple[int, np.ndarray, np.ndarray]] | None = None) -> None:
        self.runs, self.n, self.p = runs, n, p
        self.coded = coded or []

    @property
    def shape(self) -> tuple[int, int]:
        return self.n, self.p

    def fill(self, a: int, b: int, out: np.ndarray) -> np.ndarray:
        """Rows ``a:b`` as float64, written into ``out[: b - a]`` (returned)."""
        blk = out[: b - a]
        for j0, arr in self.runs:
            blk[:, j0:j0 + arr.shape[1]] = arr[a:b]
        for j0, codes, tab in self.coded:
            blk[:, j0:j0 + tab.shape[1]] = tab[codes[a:b]]
        return blk

    def fill_rows(self, idx: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Rows ``idx`` as float64, written into ``out[: len(idx)]`` (returned): the values
        ``self.take(idx).fill(0, len(idx), out)`` writes, without the copy."""
        blk = out[: len(idx)]
        for j0, arr in self.runs:
            blk[:, j0:j0 + arr.shape[1]] = arr[idx]
        for j0, codes, tab in self.coded:
            blk[:, j0:j0 + tab.shape[1]] = tab[codes[idx]]
        return blk

    def take(self, idx: np.ndarray) -> _Packed:
        return _Packed([(j0, arr[idx]) for j0, arr in self.runs], len(idx), self.p,
                       [(j0, codes[idx], tab) for j0, codes, tab in self.coded])

    def column(self, j: int) -> np.ndarray:
        """Column ``j`` as float64 (for the rare checks that need one whole column)."""
        for j0, arr in self.runs:
            if j0 <= j < j0 + arr.shape[1]:
                return arr[:, j - j0].astype(np.float64)
        for j0, codes, tab in self.coded:
            if j0 <= j < j0 + tab.shape[1]:
                return tab[:, j - j0][codes]
        raise IndexError(j)

    def new_rows(self) -> np.ndarray:
        """``new[i]``: row ``i`` differs from row ``i - 1`` (row 0 is new), a chunk at a time
        (distinct levels of a categorical have distinct dummy rows: their codes are compared)."""
        new = np.zeros(self.n, dtype=bool)
        if not self.n:
            return new
        new[0] = True
        step = 1 << 16
        for a in range(1, self.n, step):
            b = min(a + step, self.n)
            for _, arr in self.runs:
                new[a:b] |= np.any(arr[a:b] != arr[a - 1:b - 1], axis=1)
            for _, codes, _ in self.coded:
                new[a:b] |= codes[a:b] != codes[a - 1:b - 1]
        return new


def _column(X: np.ndarray | _Packed, j: int) -> np.ndarray:
    return X.column(j) if isinstance(X, _Packed) else X[:, j]


class _Blocks:
    """The rows of ``X`` in a fixed (canonical) order, a block at a time.

    Every sum over rows runs block by block in this order, so it does not depend on the row order
    of the data, and no second copy of ``X`` is made: when ``X`` is sorted already the blocks are
    views, otherwise they are gathered into one buffer. The intercept is not stored: the sums
    that involve it are formed separately (:func:`_accumulate`).
    """

    def __init__(self, X: np.ndarray | _Packed, order: np.ndarray | None) -> None:
        self.X, self.order = X, order
        self.n, self.k = X.shape[0], X.shape[1] + 1
        # blocks of about 2 MB, smaller for small data (the memory beyond X stays a fraction of it)
        self.size = max(256, min(_BLOCK_BYTES // (8 * self.k), -(-self.n // 4)))
        rows = min(self.size, max(self.n, 1))
        self.buf = None if order is None and not isinstance(X, _Packed) else np.empty((rows, self.k - 1))
        self.aux = np.empty((rows, self.k - 1))

    def __iter__(self) -> Iterator[tuple[int, int, np.ndarray]]:
        """``(start, stop, block)``: the rows ``start:stop`` of the canonical order of ``X``."""
        X = self.X
        for a in range(0, self.n, self.size):
            b = min(a + self.size, self.n)
            if isinstance(X, _Packed):                       # in canonical order, read as float64
                assert self.buf is not None
                yield a, b, X.fill(a, b, self.buf)
            elif self.order is None or self.buf is None:     # X is in canonical order already
                yield a, b, X[a:b]
            else:
                blk = self.buf[: b - a]
                np.take(X, self.order[a:b], axis=0, out=blk, mode="clip")
                yield a, b, blk


def _log1pexp(x: np.ndarray) -> np.ndarray:
    """``log(1 + exp(x))`` without overflow."""
    out = np.abs(x)
    np.negative(out, out=out)
    np.exp(out, out=out)
    np.log1p(out, out=out)
    out += np.maximum(x, 0.0)
    return out


def _accumulate(H: np.ndarray, g: np.ndarray, blocks: _Blocks, a: int, blk: np.ndarray,
                sw: np.ndarray | None, r: np.ndarray) -> None:
    """Add a block's ``[1, X]' W [1, X]`` (``sw = sqrt(w)``, None for ones) to ``H`` and
    ``[1, X]' r`` to ``g``."""
    if sw is None:
        aux = blk
        H[0, 1:] += blk.sum(axis=0)
        H[0, 0] += len(blk)
    else:
        aux = np.multiply(blk, sw[:, None], out=blocks.aux[: len(blk)])
        H[0, 1:] += sw @ aux
        H[0, 0] += sw @ sw
    H[1:, 1:] += aux.T @ aux                      # a symmetric rank-k update (BLAS syrk)
    g[0] += r.sum()
    g[1:] += blk.T @ r


def _symmetric(H: np.ndarray) -> np.ndarray:
    H[1:, 0] = H[0, 1:]
    return H


def _pass(blocks: _Blocks, beta: np.ndarray, t: np.ndarray, m: np.ndarray | None,
          mu: np.ndarray | None = None) -> tuple[float, bool, np.ndarray | None, np.ndarray | None]:
    """One pass over the rows at ``beta``: the deviance and whether every fitted probability
    equals its outcome (statsmodels' perfect-prediction check). ``m``: how many data rows each
    row stands for (distinct rows with counts), None for one each.

    With ``mu`` (an array of ``blocks.n``) the fitted probabilities are written there (canonical
    order) for :func:`_hessian_pass`, and no ``X'WX`` is formed (None, None): the Hessian only
    when another step is taken (the matrix is read again, a view a block at a time). Without,
    ``X'WX`` and ``X'(y - mu)`` are formed in the same pass, each block read (written as float64
    from a :class:`_Packed` design) once for everything: cheaper than a second pass whenever
    writing a block costs more than its ``X'WX``, although the last pass forms one unused.
    """
    k = blocks.k
    fused = mu is None
    H = np.zeros((k, k)) if fused else None
    g = np.zeros(k) if fused else None
    dev = 0.0
    perfect = True
    buf = np.empty(min(blocks.size, max(blocks.n, 1))) if fused else None
    for a, b, blk in blocks:
        eta = blk @ beta[1:]
        eta += beta[0]
        mb = buf[: b - a] if buf is not None else cast(np.ndarray, mu)[a:b]
        np.negative(eta, out=mb)
        np.exp(mb, out=mb)
        mb += 1.0
        np.reciprocal(mb, out=mb)
        y = t[a:b]
        # the deviance of a row is 2 log(1 + exp(-eta)) if treated, 2 log(1 + exp(eta)) if not
        eta *= (1 - 2 * y)
        dv = _log1pexp(eta)
        if perfect:
            perfect = bool(np.all(np.abs(y - mb) <= 1e-8))      # np.allclose(mu - y, 0)
        if m is not None:
            dv *= m[a:b]
        dev += 2.0 * float(dv.sum())
        if H is None or g is None:
            continue
        _accumulate_at(H, g, blocks, a, blk, y, mb, None if m is None else m[a:b])
    return dev, perfect, None if H is None else _symmetric(H), g


def _hessian_pass(blocks: _Blocks, mu: np.ndarray, t: np.ndarray, m: np.ndarray | None
                  ) -> tuple[np.ndarray, np.ndarray]:
    """``X'WX`` and ``X'(y - mu)`` at the fitted probabilities ``mu`` of :func:`_pass`."""
    k = blocks.k
    H = np.zeros((k, k))
    g = np.zeros(k)
    for a, b, blk in blocks:
        _accumulate_at(H, g, blocks, a, blk, t[a:b], mu[a:b], None if m is None else m[a:b])
    return _symmetric(H), g


def _accumulate_at(H: np.ndarray, g: np.ndarray, blocks: _Blocks, a: int, blk: np.ndarray, y: np.ndarray,
                   mb: np.ndarray, mblk: np.ndarray | None) -> None:
    """Add a block's Newton terms at its fitted probabilities ``mb`` to ``H`` and ``g``: weights
    ``mu (1 - mu)`` (floored as statsmodels clips mu to [eps, 1 - eps]), residuals ``y - mu``,
    both times the block's row counts ``mblk`` (None: one row each)."""
    r = y - mb
    w = mb * (1 - mb)
    np.maximum(w, _FLOAT_EPS * (1 - _FLOAT_EPS), out=w)
    if mblk is not None:
        w *= mblk
        r *= mblk
    _accumulate(H, g, blocks, a, blk, np.sqrt(w, out=w), r)


def _solve_spd(H: np.ndarray, g: np.ndarray) -> np.ndarray:
    """``H^-1 g`` for the (weighted) information matrix, by a Cholesky of its equilibrated form
    (LAPACK ``dpotrf``/``dpotrs`` called directly: the matrix is small, the wrappers' checks
    would cost more than the solve)."""
    from scipy.linalg import lapack

    d = 1.0 / np.sqrt(np.maximum(np.diag(H), 1e-300))
    Hs = H * d[:, None] * d[None, :]
    c, info = lapack.dpotrf(Hs, lower=1, clean=0)
    if info == 0:
        x, info = lapack.dpotrs(c, d[:, None] * g if g.ndim == 2 else d * g, lower=1)
        if info == 0:
            return d[:, None] * x if g.ndim == 2 else d * x
    # not positive definite (separation)
    return (d[:, None] if g.ndim == 2 else d) * np.linalg.lstsq(
        Hs, d[:, None] * g if g.ndim == 2 else d * g, rcond=None)[0]


def _start_and_rank(blocks: _Blocks, t: np.ndarray, m: np.ndarray | None
                    ) -> tuple[np.ndarray, np.ndarray, int, np.ndarray]:
    """R's first IRLS step (least squares of the working response on ``[1, X]``: its weights are
    constant at the start) and the rank of ``[1, X]``, from one tall-skinny QR of ``[1, X, z]``
    accumulated block by block, then one column-pivoted QR of the small triangular factor, with
    the columns scaled to unit norm (a column counts as dependent when its part not explained
    by the others is below ``1e-11`` of its norm: R's glm tolerance).

    Returns ``(beta, column norms, rank, pivot order)``.
    """
    import scipy.linalg as sla

    k = blocks.k
    # the working response from mu = (y + 0.5) / 2: one value for the treated, one for the others
    mu0 = np.array([0.25, 0.75])
    z01 = np.log(mu0 / (1 - mu0)) + (np.array([0.0, 1.0]) - mu0) / (mu0 * (1 - mu0))
    R = np.zeros((0, k + 1))
    aug = np.empty((blocks.aux.shape[0], k + 1))
    aug[:, 0] = 1.0
    for a, b, blk in blocks:
        aug[: b - a, 1:k] = blk
        aug[: b - a, k] = z01[t[a:b]]
        if m is not None:
            aug[: b - a] *= np.sqrt(m[a:b])[:, None]
        R = cast(np.ndarray, np.linalg.qr(np.vstack([R, aug[: b - a]]), mode="r"))  # mode="r": R only
    if R.shape[0] < k + 1:
        R = np.vstack([R, np.zeros((k + 1 - R.shape[0], k + 1))])
    Rx, qz = R[:k, :k], R[:k, k]
    norms = np.sqrt((Rx * Rx).sum(axis=0))
    _, R2, piv = sla.qr(Rx / np.where(norms > 0, norms, 1.0), pivoting=True, check_finite=False)
    diag = np.abs(np.diag(R2))
    rank = int((diag > _RANK_TOL).sum()) if (norms > 0).all() else int(((diag > _RANK_TOL) & (norms[piv] > 0)).sum())
    beta = np.zeros(k)
    if rank == k:
        beta = sla.solve_triangular(Rx, qz, check_finite=False)
    return beta, norms, rank, np.asarray(piv)


def _start_from_gram(blocks: _Blocks, t: np.ndarray, m: np.ndarray | None
                     ) -> tuple[np.ndarray, np.ndarray, int, np.ndarray] | None:
    """:func:`_start_and_rank` by the normal equations when they are safe, else None.

    One pass forms ``X'X`` and ``X'z`` (``z``: the starting working response); when the
    equilibrated ``X'X`` has a Cholesky factor with reciprocal condition above ``1e-8`` (so the
    design's condition number is below about ``1e4``, far from any rank question at R's
    ``1e-11``), the start is solved from it and the rank is read from one pivoted QR of that
    factor. Otherwise None: the caller takes the tall-skinny QR of the design itself.
    """
    import scipy.linalg as sla
    from scipy.linalg import lapack

    k = blocks.k
    mu0 = np.array([0.25, 0.75])
    z01 = np.log(mu0 / (1 - mu0)) + (np.array([0.0, 1.0]) - mu0) / (mu0 * (1 - mu0))
    G = np.zeros((k, k))
    c = np.zeros(k)
    for a, b, blk in blocks:
        z = z01[t[a:b]]
        _accumulate(G, c, blocks, a, blk, None if m is None else np.sqrt(m[a:b]),
                    z if m is None else z * m[a:b])
    G = _symmetric(G)
    norms = np.sqrt(np.maximum(np.diag(G), 0.0))
    if not (norms > 0).all():
        return None
    d = 1.0 / norms
    Gs = G * d[:, None] * d[None, :]
    try:
        R1 = sla.cholesky(Gs, lower=False, check_finite=False)
    except (np.linalg.LinAlgError, sla.LinAlgError):
        return None
    rcond, info = lapack.dpocon(R1, 1.0 if k == 0 else float(np.abs(Gs).sum(axis=0).max()))
    if info != 0 or not rcond > 1e-8:
        return None
    _, R2, piv = sla.qr(R1, pivoting=True, check_finite=False)
    rank = int((np.abs(np.diag(R2)) > _RANK_TOL * abs(R2[0, 0])).sum())
    beta = d * sla.cho_solve((R1, False), d * c, check_finite=False)
    return beta, norms, rank, np.asarray(piv)


def _fit_glm(X: np.ndarray | _Columns, names: list[str], t: np.ndarray, covariates: Sequence[str], *,
             reorder: bool = False, linear: bool = True
             ) -> tuple[np.ndarray, np.ndarray | None, pd.DataFrame, float, list[str]]:
    """Logistic regression as R's ``glm``; the score is computed once per distinct design row.

    Newton-Raphson (for the logit link the same iterates as R's IRLS), started and stopped as
    R's ``glm.fit``: the first step is the least-squares fit from ``mu = (y + 0.5) / 2``, then
    each step solves the weighted normal equations ``X'WX d = X'(y - mu)`` by a Cholesky of the
    equilibrated ``X'WX``, until ``|dev - dev_old| <= 1e-9 + 1e-8 |dev|`` (R: epsilon = 1e-8).
    The SEs come from the ``X'WX`` of the last step, as R's ``summary.glm()``. The rank of the
    design is checked once, before the fit, by a pivoted QR.

    The rows are visited in a canonical order (sorted on the design row, then treatment), a
    block at a time, so the coefficients do not depend on the row order of the data and no
    second copy of ``X`` is made; ``X @ beta`` is evaluated once per distinct row, so identical
    rows get bit-identical scores (BLAS rounding of a product can depend on a row's position).

    ``reorder=True`` lets the fit sort the rows of ``X`` in place (a column at a time, so the
    scratch memory is one column), so that every later pass reads contiguous blocks; the caller must not
    use ``X`` afterwards. Otherwise each pass gathers its blocks through the order.

    ``X`` may also be a :class:`_Columns` (the design column by column, as
    :func:`impact.design._riskset.match_riskset` builds it at national scale): the fit then keeps
    a sorted copy of the columns in their narrowest exact dtypes (a byte or two per value, a
    categorical as its level codes) and writes each block as float64 when a pass reads it, the
    same numbers without the ``n x p`` float matrix; it then lets go of ``X``'s columns
    (``X.parts`` is emptied). The score is streamed from the sorted copy into the data's order a
    block at a time. ``linear=False``: the linear predictor is not returned (None).
    """
    from scipy.special import ndtr

    D: np.ndarray | _Packed                     # the design the passes read
    rows: np.ndarray | None
    if isinstance(X, _Columns):
        n, p = X.shape
        order = canonical_order_of([*X.keys(), t], n) if p else np.argsort(t, kind="stable")
        if n < 2**31:
            order = order.astype(np.int32)      # held through the fit: half the bytes
        D = X.take(order)                       # sorted, packed: the passes read it in order
        X.parts = []                            # the caller's columns: not held through the fit
        del X
        rows = None
        new_x = D.new_rows()
    else:
        D = np.ascontiguousarray(X, dtype=np.float64)
        del X
        n, p = D.shape
        order = canonical_order(D, t) if p else np.argsort(t, kind="stable")
        rows = order                            # how the passes reach the canonical order
        if reorder and D.flags.writeable:
            for j in range(p):                  # a column at a time (the scratch: one column)
                D[:, j] = D[:, j].take(order)
            rows = None
        new_x = _new_rows(D, rows)              # distinct design rows (for the score)
    terms = ["Intercept", *names]
    notes: list[str] = []
    ts = t.take(order).astype(np.int8, copy=False)   # the outcome in canonical order (0/1)
    new = new_x.copy()
    new[1:] |= ts[1:] != ts[:-1]                # distinct (design row, treatment) pairs
    n_d = int(np.count_nonzero(new))
    m: np.ndarray | None = None
    sel: np.ndarray | None = None               # packed, compressed: D's rows of the distinct design rows
    if 2 * n_d <= n:
        # few distinct (row, outcome) pairs: fit on them, each counted as often as it occurs
        at = np.flatnonzero(new)
        m = np.diff(np.r_[at, n]).astype(np.float64)
        if isinstance(D, _Packed):
            # every distinct design row is among these rows (new marks a superset of new_x): the
            # fit, the score and the checks read them only, so the full sorted copy goes
            D = D.take(at)
            sel = np.flatnonzero(new_x[at])
            blocks = _Blocks(D, None)
        else:
            blocks = _Blocks(D[at if rows is None else rows[at]], None)
        ts = ts[at]
        del at
    else:
        blocks = _Blocks(D, rows)
    del new
    got = _start_from_gram(blocks, ts, m)
    beta, norms, rank, piv = _start_and_rank(blocks, ts, m) if got is None else got
    if rank < p + 1:
        const = [names[j] for j in range(p) if norms[j + 1] > 0 and np.ptp(_column(D, j)) == 0]
        dependent = [terms[j] for j in piv[rank:].tolist()]
        raise EstimationError(
            "The propensity model's design matrix is rank deficient"
            + (f": covariate(s) {', '.join(repr(c) for c in const)} are constant" if const else
               f": some covariates are collinear ({', '.join(repr(c) for c in dependent)} "
               f"{'is a linear combination' if len(dependent) == 1 else 'are linear combinations'} "
               "of the others)")
            + ". Remove them from covariates=[...]."
        )
    if not np.all(np.isfinite(beta)):
        raise EstimationError(
            f"The propensity model (logistic regression of treatment on {', '.join(covariates)}) "
            "could not be fitted: the starting values are not finite. Check for covariates that "
            "are constant or collinear.")
    # a packed design is written block by block: one fused pass per step; a matrix is read in
    # views: the Hessian in a second pass, only when another step follows
    mu = None if isinstance(blocks.X, _Packed) else np.empty(blocks.n)

    def hessian(Hf: np.ndarray | None, gf: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        if Hf is not None and gf is not None:
            return Hf, gf
        return _hessian_pass(blocks, cast(np.ndarray, mu), ts, m)

    dev, perfect, Hf, gf = _pass(blocks, beta, ts, m, mu)
    separated = perfect
    H, g = hessian(Hf, gf)
    for it in range(25):
        beta = beta + _solve_spd(H, g)
        dev_old = dev
        dev, perfect, Hf, gf = _pass(blocks, beta, ts, m, mu)
        separated = separated or perfect
        if not np.isfinite(dev):
            raise EstimationError(
                f"The propensity model (logistic regression of treatment on {', '.join(covariates)}) "
                "could not be fitted: the deviance is not finite. Check for covariates that are "
                "constant, collinear or that separate treated from controls.")
        if abs(dev_old - dev) <= 1e-9 + 1e-8 * abs(dev) or it == 24:
            break                               # H is the X'WX of the last step (R's SEs)
        H, g = hessian(Hf, gf)
    del mu, m, blocks                           # the Newton steps' rows and counts
    cov = _solve_spd(H, np.eye(p + 1))
    bse = np.sqrt(np.maximum(np.diag(cov), 0.0))

    # the score, once per distinct design row (in canonical order)
    lin: np.ndarray | None
    if isinstance(D, _Packed):
        # sorted, packed: the distinct rows' values, then back to the data's order a chunk at a
        # time (the distinct-row index of each row counted on the way: no n-long index array)
        size = max(256, _BLOCK_BYTES // (8 * max(p, 1)))
        lin, prob = (np.empty(n) if linear else None), np.empty(n)
        if sel is None and 2 * int(np.count_nonzero(new_x)) > n:
            # mostly distinct rows: streamed, a block at a time, straight into the data's order
            _scores_streamed(D, beta, new_x, size, order, prob, lin)
        else:
            # few distinct rows: each evaluated once (the rows sel of the compressed copy, or the
            # first of each run), then mapped to its rows
            lin_u = _values_at(D, np.flatnonzero(new_x) if sel is None else sel, beta, size)
            p_u = np.negative(lin_u, out=None if linear else lin_u)   # 1 / (1 + exp(-lin)), in place
            np.exp(p_u, out=p_u)
            p_u += 1.0
            np.divide(1.0, p_u, out=p_u)
            step = 1 << 20
            base = -1
            for a in range(0, n, step):
                o = order[a:a + step]
                iv = np.cumsum(new_x[a:a + step], dtype=np.int64)
                iv += base
                base = int(iv[-1])
                prob[o] = p_u[iv]
                if lin is not None:
                    lin[o] = lin_u[iv]
            del lin_u, p_u
        del new_x
    else:
        lin_u, inv = _distinct_linear(D, rows, beta, new_x)
        del new_x
        p_u = 1.0 / (1.0 + np.exp(-lin_u))
        if rows is None:                        # back from the canonical order to the data's
            lin, prob = (np.empty(n) if linear else None), np.empty(n)
            step = 1 << 20                      # a chunk at a time: no n-long scratch
            for a in range(0, n, step):
                o, iv = order[a:a + step], inv[a:a + step]
                prob[o] = p_u[iv]
                if lin is not None:
                    lin[o] = lin_u[iv]
        else:
            lin, prob = (lin_u[inv] if linear else None), p_u[inv]
        del inv
    n_extreme = _count_extreme(prob)
    if separated or n_extreme:
        t_of_d = ts if sel is not None else t if rows is not None else t[order]   # the outcomes of D's rows
        culprits = _columns_of(_separating_columns(D, names, t_of_d), covariates)
        msg = _separation_message(culprits, n_extreme)
        warnings.warn(msg, ImpactWarning, stacklevel=external_stacklevel())
        notes.append(msg)
    zval = beta / bse
    coef = pd.DataFrame({"term": terms, "estimate": beta, "se": bse,
                         "z": zval, "p_value": 2.0 * ndtr(-np.abs(zval))})
    return prob, lin, coef, -dev / 2.0, notes


def _new_rows(X: np.ndarray, order: np.ndarray | None, extra: np.ndarray | None = None) -> np.ndarray:
    """``new[i]``: row ``order[i]`` of ``X`` (with ``extra[i]``, given in canonical order)
    differs from row ``order[i - 1]``; compared a block at a time, ``X`` never copied whole."""
    n, p = X.shape
    new = np.empty(n, dtype=bool)
    if n == 0:
        return new
    size = max(256, _BLOCK_BYTES // (8 * max(p, 1)))
    prev = X[0 if order is None else order[0]]
    for a in range(0, n, size):
        b = min(a + size, n)
        blk = X[a:b] if order is None else X[order[a:b]]
        new[a] = a == 0 or bool(np.any(blk[0] != prev))
        new[a + 1:b] = np.any(blk[1:] != blk[:-1], axis=1) if p else False
        prev = blk[-1]
    if extra is not None:
        new[1:] |= extra[1:] != extra[:-1]
    return new


def _distinct_linear(X: np.ndarray | _Packed, order: np.ndarray | None, beta: np.ndarray,
                     new: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(beta0 + x'beta per distinct row, inverse)``: each distinct row of ``X`` evaluated once
    (the rows in canonical ``order``, None when ``X`` is sorted already, compared a block at a
    time, never copied whole). ``inverse`` maps the rows in canonical order (``order`` None) or
    in the order of ``X`` to their distinct row."""
    n, p = X.shape
    if p == 0 or n == 0:
        return np.full(1, float(beta[0])), np.zeros(n, dtype=np.intp)
    size = max(256, _BLOCK_BYTES // (8 * p))
    if isinstance(X, _Packed):
        new = X.new_rows() if new is None else new
        return _distinct_linear_columns(X, beta, new, size), np.cumsum(new) - 1
    if new is None:
        new = _new_rows(X, order)
    first = np.flatnonzero(new) if order is None else order[new]
    if order is None and 2 * len(first) > n:
        # mostly distinct rows, X sorted already: X b over views of X (no gathered copy), then
        # one value per distinct row (so identical rows still get bit-identical scores)
        lin_all = np.empty(n)
        for a in range(0, n, size):
            b = min(a + size, n)
            np.matmul(X[a:b], beta[1:], out=lin_all[a:b])
        lin_all += beta[0]
        lin_u = lin_all[first] if len(first) < n else lin_all
        return lin_u, np.cumsum(new) - 1
    lin_u = np.empty(len(first))
    for a in range(0, len(first), size):
        b = min(a + size, len(first))
        lin_u[a:b] = X[first[a:b]] @ beta[1:] + beta[0]
    if order is None:
        return lin_u, np.cumsum(new) - 1
    inv = np.empty(n, dtype=np.intp)
    inv[order] = np.cumsum(new) - 1
    return lin_u, inv


def _count_extreme(prob: np.ndarray) -> int:
    """How many fitted probabilities are within R's ``10 eps`` of 0 or 1 (a chunk at a time)."""
    out = 0
    step = _SCORE_CHUNK
    for a in range(0, len(prob), step):
        pb = prob[a:a + step]
        out += int(np.count_nonzero((pb < _R_GLM_EPS) | (pb > 1 - _R_GLM_EPS)))
    return out


def _scores_streamed(X: _Packed, beta: np.ndarray, new: np.ndarray, size: int, order: np.ndarray,
                     prob: np.ndarray, lin: np.ndarray | None) -> None:
    """``prob[order[i]]`` (and ``lin[order[i]]``) for every sorted packed row ``i`` (``new`` marks
    the first of each distinct row): each block's ``x'beta`` as :func:`_distinct_linear_columns`
    computes it (the same blocks, the same rounding), every row given the value of the first row
    of its distinct row (carried over block ends), so identical rows get bit-identical scores;
    then ``1 / (1 + exp(-lin))`` as the fit's score. No n-long array beyond ``prob`` and ``lin``."""
    n = X.n
    buf = np.empty((min(size, max(n, 1)), X.p))
    lb = np.empty(min(size, max(n, 1)))
    carry = 0.0
    for a in range(0, n, size):
        b = min(a + size, n)
        lblk = lb[: b - a]
        np.matmul(X.fill(a, b, buf), beta[1:], out=lblk)
        lblk += beta[0]
        nb = new[a:b]
        gi = np.cumsum(nb, dtype=np.int64)        # 1 + the distinct row within the block, 0: carried
        firsts = np.empty(int(gi[-1]) + 1)
        firsts[0] = carry
        firsts[1:] = lblk[nb]
        v = firsts[gi]
        carry = float(v[-1])
        o = order[a:b]
        if lin is not None:
            lin[o] = v
        np.negative(v, out=v)
        np.exp(v, out=v)
        v += 1.0
        np.divide(1.0, v, out=v)
        prob[o] = v


def _distinct_linear_columns(X: _Packed, beta: np.ndarray, new: np.ndarray, size: int) -> np.ndarray:
    """``beta0 + x'beta`` per distinct row of sorted packed rows (``new`` marks the first of
    each): the same blocks, and so the same rounding, as :func:`_distinct_linear` on the sorted
    matrix, each block written into one float64 buffer before its product."""
    n = X.n
    first = np.flatnonzero(new)
    buf = np.empty((min(size, max(n, 1)), X.p))
    if 2 * len(first) > n:
        lin_all = np.empty(n)
        for a in range(0, n, size):
            b = min(a + size, n)
            np.matmul(X.fill(a, b, buf), beta[1:], out=lin_all[a:b])
        lin_all += beta[0]
        if len(first) == n:
            return lin_all
        step = 1 << 20          # compact in place: first[k] >= k, so no value is overwritten unread
        for a in range(0, len(first), step):
            b = min(a + step, len(first))
            lin_all[a:b] = lin_all[first[a:b]]
        return lin_all[: len(first)]
    return _values_at(X, first, beta, size, buf)


def _values_at(X: _Packed, idx: np.ndarray, beta: np.ndarray, size: int, buf: np.ndarray | None = None
               ) -> np.ndarray:
    """``beta0 + x'beta`` of the rows ``idx`` of ``X``, ``size`` rows at a time (the values of
    ``X.take(idx)`` block by block, gathered into one float64 buffer: no copy of the rows)."""
    if buf is None:
        buf = np.empty((min(size, max(len(idx), 1)), X.p))
    lin_u = np.empty(len(idx))
    for a in range(0, len(idx), size):
        b = min(a + size, len(idx))
        lin_u[a:b] = X.fill_rows(idx[a:b], buf) @ beta[1:] + beta[0]
    return lin_u


def _is_sklearn_estimator(obj: Any) -> bool:
    return hasattr(obj, "fit") and (hasattr(obj, "predict_proba") or hasattr(obj, "decision_function"))


def fit_propensity(data: pd.DataFrame, treat: np.ndarray, covariates: Sequence[str],
                   distance: Any, link: Link, *, seed: int | None = None) -> Propensity:
    """Compute the distance for ``match``/``weight``; see :func:`impact.match` for ``distance``.

    ``seed`` seeds an unfitted scikit-learn ``distance=`` estimator: it is cloned and, when it
    has a ``random_state`` parameter left at ``None``, that parameter is set to ``seed`` (a child
    seed of the caller's ``random_state``), so the score is reproducible. The caller's estimator
    is never changed.
    """
    t = treat.astype(np.int8)
    if isinstance(distance, str) and distance in ("glm", "logit"):
        if not covariates:
            raise ParameterError("The 'covariates' parameter of match must name at least one column "
                                 "when distance='glm'.")
        X, names = expand_covariates(data, covariates)
        p, lin, coef, llf, notes = _fit_glm(X, names, t, covariates, reorder=True)
        del X
        assert lin is not None
        score = lin if link == "linear_logit" else p
        desc = ("propensity score from a logistic regression (binomial, logit link, fitted as R's glm) "
                "of treatment on " + ", ".join(covariates)
                + "; categorical covariates in treatment coding with the first sorted level as reference")
        if link == "linear_logit":
            desc += "; matched on the linear predictor (logit of the score)"
        return Propensity("glm", score, p, coef, llf, desc, tuple(notes))
    if isinstance(distance, str) and distance == "mahalanobis":
        return Propensity("mahalanobis", np.empty(0), None, None, None,
                          "Mahalanobis distance on the covariates (pooled within-group covariance)")
    if isinstance(distance, str):
        if distance not in data.columns:
            from impact._validation import suggest
            raise ParameterError(
                "The 'distance' parameter of match must be 'glm', 'mahalanobis', a column name, an "
                f"array or a scikit-learn classifier. Got {distance!r}, which is not a column."
                + suggest(distance, [*map(str, data.columns), "glm", "mahalanobis"]))
        score = data[distance].to_numpy(dtype=float)
        return _user_score(score, link, f"user-supplied score in column '{distance}'")
    if _is_sklearn_estimator(distance):
        from sklearn.base import clone
        from sklearn.exceptions import NotFittedError
        from sklearn.utils.validation import check_is_fitted

        X, names = expand_covariates(data, covariates)
        try:
            check_is_fitted(distance)
            est = distance
            how = "fitted scikit-learn classifier " + type(distance).__name__ + " (used as given)"
        except NotFittedError:
            est = clone(distance)
            params = est.get_params()
            if seed is not None and "random_state" in params and params["random_state"] is None:
                est.set_params(random_state=seed)
            est = est.fit(X, t)
            how = "scikit-learn classifier " + type(distance).__name__ + " fitted on the covariates"
        if hasattr(est, "predict_proba"):
            classes = list(getattr(est, "classes_", [0, 1]))
            p = est.predict_proba(X)[:, classes.index(1)]
        else:
            p = 1.0 / (1.0 + np.exp(-est.decision_function(X)))
        p = np.clip(np.asarray(p, dtype=float), 1e-12, 1 - 1e-12)
        score = np.log(p / (1 - p)) if link == "linear_logit" else p
        return Propensity("sklearn", score, p, None, None, "propensity score from a " + how)
    arr = np.asarray(distance)
    if arr.ndim == 1 and np.issubdtype(arr.dtype, np.number):
        if len(arr) != len(data):
            raise ParameterError(
                f"The 'distance' parameter of match has {len(arr)} values but the data have "
                f"{len(data)} rows.")
        return _user_score(arr.astype(float), link, "user-supplied score (array)")
    raise ParameterError(
        "The 'distance' parameter of match must be 'glm', 'mahalanobis', a column name, a 1-D "
        f"numeric array or a scikit-learn classifier. Got {type(distance).__name__}.")


def _user_score(score: np.ndarray, link: Link, desc: str) -> Propensity:
    bad = ~np.isfinite(score)
    if bad.any():
        from impact._errors import data_error
        raise data_error("distance", "the score must be finite (no NaN or inf)", bad,
                         "Fill or drop those rows first, e.g. df = df.dropna(subset=[...]).")
    prob = score if ((score >= 0) & (score <= 1)).all() else None
    if link == "linear_logit":
        if prob is None or ((score <= 0) | (score >= 1)).any():
            raise ParameterError("link='linear_logit' needs a score strictly between 0 and 1; "
                                 "pass link='logit' to match on the score as given.")
        return Propensity("user", np.log(score / (1 - score)), score, None, None,
                          desc + ", matched on its logit")
    return Propensity("user", score, prob, None, None, desc)
