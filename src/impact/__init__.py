"""impact: evaluate labour-market programmes with register microdata.

One flow, left to right; each package imports only the packages to its left::

    _errors, _validation ─► labels ─► data ─► datasets, synthetic ─► diagnostics (balance) ─► design
      ─► outcomes ─► survival ─► plotting ─► effects ─► publish ─► monitor ─► report ─► pipeline ─► cli

``import impact`` stays light: the modules behind each name load the first time it is used.
"""

from __future__ import annotations

import importlib
from typing import Any

from impact._errors import DataError, EstimationError, ImpactError, ImpactWarning, ParameterError

from impact._version import __version__ as __version__

# public name -> module that defines it (imported on first use)
_LAZY = {
    "Flow": "impact.data",
    "Roles": "impact.data",
    "ValidationError": "impact.data",
    "ReportError": "impact.report",
    "validate": "impact.data",
    "match": "impact.design",
    "match_riskset": "impact.design",
    "MatchResult": "impact.design",
    "balance": "impact.diagnostics",
    "time_to_event": "impact.outcomes",
    "estimate_effects": "impact.effects",
    "simulate": "impact.synthetic",
    "simulate_monitoring": "impact.synthetic",
    "simulate_extract": "impact.synthetic",
    "RegisterExtract": "impact.registers",
    "risk_sets": "impact.registers",
    "outcomes_from_spells": "impact.registers",
    "time_in_states": "impact.registers",
    "evaluate": "impact.pipeline",
    "run": "impact.pipeline",
    "monitoring_tables": "impact.pipeline",
    "write_report": "impact.report",
    "goal_fulfilment": "impact.monitor",
    "suppress": "impact.publish",
    "label": "impact.labels",
    "relabel": "impact.labels",
}

__all__ = [
    "DataError", "EstimationError", "ImpactError", "ImpactWarning", "ParameterError",
    *_LAZY,
]


#: the layer packages, in flow order; ``impact.survival.CoxPH`` works after a bare ``import impact``
PACKAGES = ("labels", "data", "registers", "datasets", "synthetic", "diagnostics", "design", "outcomes", "survival",
            "plotting", "effects", "sensitivity", "publish", "monitor", "report", "pipeline", "cli")


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in PACKAGES:
        return importlib.import_module(f"impact.{name}")
    raise AttributeError(f"module 'impact' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
