"""Register extracts as evaluators receive them: persons, registration spells, programme starts and
monthly benefit registers; risk sets with covariates as known on each date; exit codes; outcomes.

Public names: :class:`RegisterExtract`, :class:`RegisterColumns`, :func:`risk_sets` (streamed,
:class:`RiskSets`), :func:`covariates_at`, :func:`outcomes_from_spells`, :func:`time_in_states`, :class:`ExitCodes`,
:data:`DEFAULT_CODES`, :func:`recode_unknown`. See ``docs/registers.md``.
"""

from impact.registers._codes import (
           CAUSES,
           DEFAULT_CODES,
           ROLES,
           ExitCodes,
           normalise_codes,
           recode_unknown,
)
from impact.registers._extract import RegisterColumns, RegisterExtract
from impact.registers._outcomes import outcomes_from_spells
from impact.registers._risksets import HISTORY, RiskSets, covariates_at, risk_sets
from impact.registers._states import benefit_column, time_in_states, work_column

__all__ = [
           "CAUSES",
           "DEFAULT_CODES",
           "HISTORY",
           "ROLES",
           "ExitCodes",
           "RegisterColumns",
           "RegisterExtract",
           "RiskSets",
           "covariates_at",
           "normalise_codes",
           "outcomes_from_spells",
           "recode_unknown",
           "risk_sets",
           "time_in_states",
           "work_column",
           "benefit_column",
]
