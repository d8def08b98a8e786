"""Sensitivity to hidden bias, as ordinary results: E-values, Rosenbaum bounds and placebo outcomes.

Every function returns a frozen dataclass with ``.summary()``. This layer sits above
:mod:`impact.effects` and may use it and everything below.
"""

from impact.sensitivity._evalue import EValueResult, evalue, evalues
from impact.sensitivity._placebo import PlaceboResult, placebo_outcomes
from impact.sensitivity._rosenbaum import RosenbaumResult, rosenbaum_binary, rosenbaum_bounds

__all__ = ["EValueResult", "evalue", "evalues", "PlaceboResult", "placebo_outcomes", "RosenbaumResult",
           "rosenbaum_binary", "rosenbaum_bounds"]
