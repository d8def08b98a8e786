"""Flow steps counted with ``np.bincount`` on integer codes.

:meth:`impact.data.Flow.add` counts two DataFrames with pandas ``groupby``; on a pool of a
million controls that is most of the cost of a matching call. :class:`FlowCounter` makes the same
records (same keys, labels and order, so ``Flow.table()`` and ``Flow.to_frame()`` read them
unchanged) from one integer code per row: ``treated * k + subgroup code``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from impact.data import Flow

__all__ = ["FlowCounter"]



class FlowCounter:
    """Counts by treatment group and subgroup for row masks or row positions of one frame.

    A state is a ``(2, k)`` integer array: row 0 controls, row 1 treated; column 0 rows with a
    missing subgroup, column ``s + 1`` subgroup level ``s`` (levels sorted, as ``value_counts``
    labels them: ``str(level)``).
    """

    def __init__(self, treated: np.ndarray, subgroup: pd.Series | None) -> None:
        t = np.asarray(treated, dtype=bool)
        if subgroup is None:
            self.labels: list[str] = []
            self.k = 1
            self.code = t.astype(np.intp)
        else:
            codes, uniques = _factorize(subgroup)
            self.labels = [str(u) for u in uniques]
            self.k = len(uniques) + 1
            # the smallest integer type that holds the codes (one per row, kept for every step)
            dt: type[np.signedinteger[Any]] = (np.int16 if 2 * self.k < 2**15 else np.int32
                                                if 2 * self.k < 2**31 else np.intp)
            code: np.ndarray = t.astype(dt)
            code *= self.k
            code += (codes + 1).astype(dt)
            self.code = code

    def of_mask(self, mask: np.ndarray | None = None) -> np.ndarray:
        """State of the rows where ``mask`` is true (all rows if None)."""
        c = self.code if mask is None or mask.all() else self.code[mask]
        return np.bincount(c, minlength=2 * self.k).reshape(2, self.k)

    def of_positions(self, pos: np.ndarray) -> np.ndarray:
        """State of the rows at these positions (cheap when there are few)."""
        return np.bincount(self.code[pos], minlength=2 * self.k).reshape(2, self.k)

    def _dict(self, c: np.ndarray) -> dict[tuple[str, str], int]:
        out = {("all", "all"): int(c.sum())}
        for gi, g in ((1, "treated"), (0, "control")):
            n = int(c[gi].sum())
            if n:
                out[(g, "all")] = n
            for s, lab in enumerate(self.labels):
                if c[gi, s + 1]:
                    out[(g, lab)] = int(c[gi, s + 1])
        for s, lab in enumerate(self.labels):
            n = int(c[:, s + 1].sum())
            if n:
                out[("all", lab)] = n
        return out

    def add(self, flow: Flow, step: str, reason: str, before: np.ndarray, after: np.ndarray) -> Flow:
        """``flow.add(step, reason, before_rows, after_rows, ...)`` from two states."""
        return flow.add_counts(step, reason, self._dict(before), self._dict(after))

    def counts(self, state: np.ndarray) -> dict[tuple[str, str], int]:
        """A state as ``{(treatment group, subgroup): count}``, the keys ``Flow`` uses."""
        return self._dict(state)


def _factorize(s: pd.Series) -> tuple[np.ndarray, list]:
    """Sorted codes (-1 = missing) and levels; a fast path for small-range integer columns."""
    v = s.to_numpy() if not isinstance(s.dtype, pd.CategoricalDtype) else None
    if v is not None and v.dtype.kind in "biu" and len(v):
        v = v.astype(np.int64, copy=False)
        lo, hi = int(v.min()), int(v.max())
        if hi - lo < 4096:
            present = np.bincount(v - lo, minlength=hi - lo + 1) > 0
            lut = np.cumsum(present) - 1
            levels = (np.flatnonzero(present) + lo).tolist()
            if s.dtype.kind == "b":
                levels = [bool(x) for x in levels]
            return lut[v - lo], levels
    if isinstance(s.dtype, pd.CategoricalDtype):
        # value_counts labels categories, observed or not; keep the observed ones in category order
        cat = s.cat.remove_unused_categories()
        return cat.cat.codes.to_numpy().astype(np.intp), list(cat.cat.categories)
    codes, uniques = pd.factorize(s, sort=True)
    return codes.astype(np.intp), list(uniques)
