"""Exact matching (MatchIt's ``method = "exact"``): strata of every covariate as it is."""

from __future__ import annotations

from impact.design._engine import Allocation, Design, strata_allocation
from impact.design._strata import cem_strata

__all__ = ["allocate"]


def allocate(design: Design) -> Allocation:
    """The engine's method table entry: one stratum per distinct combination of the covariates."""
    codes, notes = cem_strata(design.work, list(design.covariates), design.active, None, coarsen=False)
    return strata_allocation(design, codes, notes, "stratum without both treated and controls")
