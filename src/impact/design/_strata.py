"""Strata for coarsened exact matching, exact matching and subclassification on the score."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from impact._errors import ParameterError
from impact.data import is_categorical

__all__ = ["cem_strata", "score_subclasses"]


def _sturges(n: int) -> int:
    return int(np.ceil(np.log2(n) + 1))


def cem_strata(data: pd.DataFrame, covariates: Sequence[str], active: np.ndarray,
               cutpoints: Mapping[str, int | Sequence[float]] | None, *, coarsen: bool
               ) -> tuple[np.ndarray, list[str]]:
    """Stratum code per row (-1 for inactive rows) and the notes on how each column was cut.

    Numeric columns with more than two distinct values are cut into equal-width bins over their
    range among active rows: Sturges' number of bins by default (MatchIt's ``cutpoints =
    "sturges"``), or ``cutpoints[col]`` bins, or at the given cut points. Categorical, boolean and
    two-valued columns are matched exactly. ``coarsen=False`` (method "exact") cuts nothing.
    """
    cutpoints = dict(cutpoints or {})
    unknown = [c for c in cutpoints if c not in covariates]
    if unknown:
        raise ParameterError(f"The 'cutpoints' parameter of match names {unknown!r}, which are not "
                             "in covariates.")
    keys = []
    described = []
    n_act = int(active.sum())
    for c in covariates:
        s = data[c]
        if not coarsen or is_categorical(s) or pd.api.types.is_bool_dtype(s) or s.nunique() <= 2:
            keys.append(pd.factorize(s, sort=True)[0])
            continue
        x = s.to_numpy(dtype=float)
        spec = cutpoints.get(c)
        if spec is None or isinstance(spec, (int, np.integer)):
            nb = _sturges(n_act) if spec is None else int(spec)
            lo, hi = x[active].min(), x[active].max()
            edges = np.linspace(lo, hi, nb + 1)[1:-1]
            described.append(f"{c}: {nb} equal-width bins" + (" (Sturges)" if spec is None else ""))
        else:
            edges = np.sort(np.asarray(spec, dtype=float))
            described.append(f"{c}: cut at {', '.join(f'{e:g}' for e in edges)}")
        keys.append(np.searchsorted(edges, x, side="right"))
    codes = _combined_codes(keys, len(data))
    codes[~active] = -1
    notes = []
    if coarsen and described:
        notes.append("Coarsened exact matching: " + "; ".join(described)
                     + "; other covariates matched exactly.")
    elif not coarsen:
        notes.append("Exact matching on every covariate.")
    return codes, notes


def _combined_codes(keys: list[np.ndarray], n: int) -> np.ndarray:
    """One code per row for the combination of its integer keys: the observed combinations
    numbered 0.. in sorted (lexicographic) order, as ``DataFrame.groupby(columns, sort=True)
    .ngroup()`` numbers them (a key of -1, a missing categorical value, is a value like any
    other), without grouping rows: the keys are packed into one integer column by column,
    renumbered by one ``np.unique`` whenever the packed range would grow too wide."""
    if not keys or n == 0:
        return np.zeros(n, dtype=np.int64)
    codes = np.zeros(n, dtype=np.int64)
    levels = 1                                    # the packed codes lie in [0, levels)
    for k in keys:
        kk = np.asarray(k, dtype=np.int64)
        kk = kk - kk.min()                        # order kept, smallest 0
        width = int(kk.max()) + 1
        if levels * width > 4 * n + 65536:        # renumber the observed combinations first
            _, inv = np.unique(codes, return_inverse=True)
            codes = inv.reshape(-1).astype(np.int64)
            levels = int(codes.max()) + 1
        codes = codes * width + kk
        levels *= width
    _, inv = np.unique(codes, return_inverse=True)
    return inv.reshape(-1).astype(np.int64)


def score_subclasses(score: np.ndarray, focal: np.ndarray, active: np.ndarray, k: int,
                     estimand: str) -> np.ndarray:
    """Subclass 0..k-1 from quantiles of the score among the focal units (ATT/ATC) or all (ATE),
    as MatchIt's ``method = "subclass"``: R's ``quantile`` type 7 and ``findInterval(all.inside)``."""
    base = score[active & focal] if estimand in ("ATT", "ATC") else score[active]
    q = np.quantile(base, np.linspace(0, 1, k + 1))
    sub = np.clip(np.searchsorted(q, score, side="right"), 1, k) - 1
    sub = sub.astype(np.int64)
    sub[~active] = -1
    return sub
