"""The one call (``evaluate``), evaluation files (TOML) and ``run``, the only place that calls both.

One job per module: ``_evaluate`` (:func:`evaluate` and :class:`Evaluation`), ``_monitoring``
(:func:`monitoring_tables`: which table from which input), ``_config`` (the evaluation file and
its checks), ``_files`` (reading data files), ``_run`` (:func:`run`), ``_progress`` (the bar).
"""

from impact.pipeline._config import CONFIG_KEYS, ConfigError, EvaluationConfig, read_config
from impact.pipeline._evaluate import Evaluation, evaluate
from impact.pipeline._files import read_inputs, read_monitoring, read_registers, read_table, recode_values
from impact.pipeline._monitoring import MONITORING_INPUTS, monitoring_tables
from impact.pipeline._run import run, write_design_tables

__all__ = ["Evaluation", "evaluate", "monitoring_tables", "run", "MONITORING_INPUTS", "ConfigError",
           "EvaluationConfig", "read_config", "read_table", "read_inputs", "CONFIG_KEYS", "read_registers",
           "read_monitoring", "recode_values", "write_design_tables"]
