"""Inverse probability weights for the ATT, ATC, ATE and the overlap population (ATO)."""

from __future__ import annotations

import numpy as np

from impact.design._engine import Allocation, Design

__all__ = ["allocate", "ipw_weights"]


def ipw_weights(p: np.ndarray, treated: np.ndarray, estimand: str, trim: float | None,
                stabilize: bool) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Weights, the mask of trimmed units and notes.

    ATT: treated 1, controls p/(1-p). ATC: treated (1-p)/p, controls 1. ATE: 1/p and 1/(1-p)
    (times the group's share when ``stabilize``). ATO: treated 1-p, controls p (Li, Morgan and
    Zaslavsky 2018). R: ``WeightIt::weightit(..., method = "glm", estimand = ...)``.
    """
    p = np.asarray(p, dtype=float)
    t = treated
    notes: list[str] = []
    trimmed = np.zeros(len(p), dtype=bool)
    if trim is not None:
        trimmed = (p < trim) | (p > 1 - trim)
        notes.append(f"Units with a propensity score outside [{trim}, {1 - trim}] were dropped "
                     f"(trim={trim}; Crump et al. 2009): {int(trimmed.sum())} rows, see result.flow.")
    with np.errstate(divide="ignore", invalid="ignore"):
        if estimand == "ATT":
            w = np.where(t, 1.0, p / (1 - p))
        elif estimand == "ATC":
            w = np.where(t, (1 - p) / p, 1.0)
        elif estimand == "ATE":
            w = np.where(t, 1 / p, 1 / (1 - p))
            if stabilize:
                share = t[~trimmed].mean()
                w = w * np.where(t, share, 1 - share)
                notes.append("Stabilised ATE weights: multiplied by the share of the unit's group.")
        else:  # ATO
            w = np.where(t, 1 - p, p)
    w = np.where(trimmed, 0.0, w)
    if not np.isfinite(w).all():
        bad = ~np.isfinite(w)
        notes.append(f"{int(bad.sum())} rows have a propensity score of exactly 0 or 1 and get "
                     "weight 0; consider trim=.")
        w[bad] = 0.0
    if stabilize and estimand != "ATE":
        notes.append("stabilize= only changes ATE weights; ignored for " + estimand + ".")
    notes.append(f"Inverse probability weights for the {estimand} from the propensity score "
                 "(not normalised; effective sample sizes are in result.sample_sizes).")
    return w, trimmed, notes


def allocate(design: Design) -> Allocation:
    """``method="ipw"`` (the engine's method table entry): weights, and trimming counted in the flow."""
    spec = design.spec
    prop = design.propensity
    p = prop.probability if prop is not None and prop.probability is not None else design.score
    w, trimmed, notes = ipw_weights(p, design.t, spec.estimand, spec.trim, spec.stabilize)
    flow, discarded = design.flow, design.discarded
    if trimmed.any():
        c, trim = design.counter, float(spec.trim or 0.0)     # units are trimmed only with a trim
        flow = c.add(flow, "trimmed", f"propensity score outside [{spec.trim}, {1 - trim}]",
                     c.of_mask(design.active), c.of_mask(design.active & ~trimmed))
        discarded = discarded | trimmed
    w = np.where(discarded, 0.0, w)
    return Allocation(weights=w, subclass=np.full(design.n, -1, dtype=np.int64), notes=tuple(notes),
                      flow=flow, discarded=discarded, step=("weighted", "zero weight"), subclass_na=True)
