"""Effects on the matched or weighted sample, for all, women and men, with tests of the difference."""

from impact.effects._effects import EffectsResult, estimate_effects

__all__ = ["EffectsResult", "estimate_effects"]

# doubly robust competing-risks effects (riskRegression::ate)
from impact.effects._aiptw import CompetingATEResult, ate_competing  # noqa: E402

__all__ += ["CompetingATEResult", "ate_competing"]
