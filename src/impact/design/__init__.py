"""Design: the propensity score, matching and weighting that build the comparison group.

Public names: :func:`match` (every method, MatchIt's argument names), :func:`match_riskset` (rolling
entry), :class:`MatchResult`,
:class:`Propensity`, :func:`expand_covariates`.
"""

from __future__ import annotations

from impact.design._match import match
from impact.design._propensity import Propensity
from impact.data import expand_covariates
from impact.design._result import MatchResult
from impact.design._riskset import match_riskset

__all__ = ["match", "match_riskset", "MatchResult", "Propensity", "expand_covariates"]
