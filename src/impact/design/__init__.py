"""Design: the propensity score, matching and weighting that build the comparison group.

Public names: :func:`match` (every method, MatchIt's argument names), :func:`match_riskset` (rolling
entry), :class:`MatchResult`,
:class:`Propensity`, :func:`expand_covariates`.
"""

from __future__ import annotations

from ._match import match
from ._propensity import Propensity, expand_covariates
from ._result import MatchResult
from ._riskset import match_riskset

__all__ = ["match", "match_riskset", "MatchResult", "Propensity", "expand_covariates"]
