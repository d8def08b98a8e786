"""Effects on the matched or weighted sample, for all, women and men, with tests of the difference.

* :func:`estimate_effects`: shares at horizons, restricted means, hazard, time and subdistribution hazard
  ratios, mean differences of numeric outcomes; by subgroup, with the joint and women-minus-men tests;
* :func:`effect_curve`: the difference in cumulative incidence over time with pointwise and simultaneous bands;
* :func:`ate_competing`: G-formula, IPTW and AIPTW shares with competing exits (as ``riskRegression::ate``).
"""

from impact.effects._aiptw import CompetingATEResult, ate_competing
from impact.effects._curve import EffectCurveResult, effect_curve
from impact.effects._effects import EffectsResult, estimate_effects

__all__ = ["EffectsResult", "estimate_effects", "EffectCurveResult", "effect_curve", "CompetingATEResult",
           "ate_competing"]

from impact.effects._ipcw import CensoringWeights, aalen_johansen_entry, censoring_weights, ipcw_effects

__all__ += ["CensoringWeights", "censoring_weights", "ipcw_effects", "aalen_johansen_entry"]

from impact.effects._means import ai2016_adjust

__all__ += ["ai2016_adjust"]
