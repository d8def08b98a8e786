"""The one call (``evaluate``), evaluation files (TOML) and ``run``, the only place that calls both."""

from impact.pipeline._config import CONFIG_KEYS, ConfigError, EvaluationConfig, read_config, read_inputs, read_table
from impact.pipeline._evaluate import MONITORING_INPUTS, Evaluation, evaluate, monitoring_tables, run

__all__ = ["Evaluation", "evaluate", "monitoring_tables", "run", "MONITORING_INPUTS", "ConfigError",
           "EvaluationConfig", "read_config", "read_table", "read_inputs", "CONFIG_KEYS"]
