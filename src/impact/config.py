"""Moved to :mod:`impact.pipeline`; this path keeps working for this version with a FutureWarning."""

from __future__ import annotations

from impact._compat import moved
from impact.pipeline import CONFIG_KEYS, ConfigError, EvaluationConfig, read_config, read_inputs, read_table

__all__ = ["ConfigError", "EvaluationConfig", "read_config", "read_table", "read_inputs", "CONFIG_KEYS"]

moved("config", "pipeline")
