"""Matched pairs as row positions: what every pair-matching method returns to the engine."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Pairs"]


@dataclass(frozen=True)
class Pairs:
    """Matched pairs as row positions: ``treated[i]`` is matched to ``control[i]`` in ``round[i]``."""

    treated: np.ndarray
    control: np.ndarray
    round: np.ndarray
    distance: np.ndarray
    no_candidate: np.ndarray | None = None   # treated with no control within the caliper at all

    @staticmethod
    def empty(no_candidate: np.ndarray | None = None) -> "Pairs":
        e = np.empty(0, dtype=np.int64)
        return Pairs(e, e, e, np.empty(0), no_candidate)

    @staticmethod
    def concat(parts: list["Pairs"]) -> "Pairs":
        parts = [p for p in parts if len(p.treated)]
        if not parts:
            return Pairs.empty()
        return Pairs(*(np.concatenate([getattr(p, f) for p in parts])
                       for f in ("treated", "control", "round", "distance")))

    def take(self, idx: np.ndarray) -> "Pairs":
        """The same pairs with positions mapped through ``idx`` (positions in a subset -> in the whole)."""
        nc = None if self.no_candidate is None else idx[self.no_candidate]
        return Pairs(idx[self.treated], idx[self.control], self.round, self.distance, nc)
