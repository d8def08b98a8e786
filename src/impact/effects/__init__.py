"""Effects on the matched or weighted sample, for all, women and men, with tests of the difference."""

from impact.effects._effects import EffectsResult, estimate_effects

__all__ = ["EffectsResult", "estimate_effects"]
