"""Design: the propensity score, matching and weighting that build the comparison group.

Public names: :func:`match` (every method, MatchIt's argument names), :class:`MatchResult`,
:class:`Propensity`, :func:`expand_covariates`.
"""

from __future__ import annotations

from ._match import match
from ._propensity import Propensity, expand_covariates
from ._result import MatchResult

__all__ = ["match", "MatchResult", "Propensity", "expand_covariates"]
