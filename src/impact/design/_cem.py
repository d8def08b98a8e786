"""Coarsened exact matching (MatchIt's ``method = "cem"``): strata of the coarsened covariates."""

from __future__ import annotations

from impact.design._engine import Allocation, Design, strata_allocation
from impact.design._strata import cem_strata

__all__ = ["allocate"]


def allocate(design: Design) -> Allocation:
    """The engine's method table entry: strata of the covariates cut into bins (``cutpoints``)."""
    codes, notes = cem_strata(design.work, list(design.covariates), design.active, design.spec.cutpoints,
                              coarsen=True)
    return strata_allocation(design, codes, notes, "stratum without both treated and controls")
