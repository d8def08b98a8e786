"""impact: evaluate labour-market programmes with register microdata.

One flow, left to right::

    data ──► design ──► balance ──► outcomes ──► effects ──► report

``import impact`` stays light: the modules behind each name load the first time it is used.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._errors import DataError, EstimationError, ImpactError, ImpactWarning, ParameterError
from ._flow import Flow

__version__ = "0.1.0"

# public name -> module that defines it (imported on first use)
_LAZY = {
    "Roles": "impact.data",
    "validate": "impact.data",
    "match": "impact.design",
    "match_riskset": "impact.design",
    "MatchResult": "impact.design",
    "balance": "impact.balance",
    "time_to_event": "impact.outcomes",
    "estimate_effects": "impact.effects",
    "simulate": "impact.synthetic",
    "evaluate": "impact.evaluation",
    "run": "impact.evaluation",
    "monitoring_tables": "impact.evaluation",
    "write_report": "impact.report",
    "goal_fulfilment": "impact.monitor",
    "suppress": "impact.privacy",
    "label": "impact.labels",
    "relabel": "impact.labels",
    "simulate_monitoring": "impact.synthetic_monitoring",
}

__all__ = [
    "DataError", "EstimationError", "Flow", "ImpactError", "ImpactWarning", "ParameterError",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'impact' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
