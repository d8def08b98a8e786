"""Subclassification on the score (MatchIt's ``method = "subclass"``)."""

from __future__ import annotations

from impact.design._engine import Allocation, Design, strata_allocation
from impact.design._strata import score_subclasses

__all__ = ["allocate"]


def allocate(design: Design) -> Allocation:
    """The engine's method table entry: ``subclasses`` strata on quantiles of the score."""
    spec = design.spec
    codes = score_subclasses(design.score, design.focal, design.active, spec.subclasses, spec.estimand)
    among = "treated" if spec.estimand == "ATT" else "control" if spec.estimand == "ATC" else "all"
    note = (f"{spec.subclasses} subclasses on quantiles of the score among {among} units"
            " (MatchIt's default 6).")
    return strata_allocation(design, codes, [note], "subclass without both treated and controls")
