"""Effects on the matched or weighted sample, for all, women and men, with tests of the difference."""

from impact.effects._effects import EffectsResult, estimate_effects

# effect over time (issue 12)
from impact.effects._curve import EffectCurveResult, effect_curve

__all__ = ["EffectsResult", "estimate_effects"]
__all__ += ["EffectCurveResult", "effect_curve"]
