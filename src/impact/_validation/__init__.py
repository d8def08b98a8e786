"""The one validation layer: parameter checks, column checks and random states.

Every check names the column or parameter, the rule and the row positions, and says how to fix it.
"""

from impact._validation._checks import (check_columns, check_number, check_option, check_random_state, spawn_seeds,
                                        suggest)
from impact._validation._columns import (as_1d, check_cluster, check_cluster_unordered, check_conf_level,
                                         check_duration, check_entry, check_event, check_length, check_times, check_treatment,
                                         check_weights, column_error, looks_like_date, parse_date, parse_dates,
                                         parse_months)
from impact._validation._params import (Constraint, InstanceOf, Interval, Options, check_params, constraints_of,
                                        invalid_values, validate_params)

__all__ = ["check_columns", "check_number", "check_option", "check_random_state", "spawn_seeds", "suggest", "as_1d",
           "check_cluster", "check_cluster_unordered", "check_conf_level", "check_duration", "check_entry", "check_event",
           "check_length", "check_times", "check_treatment", "check_weights", "column_error", "looks_like_date",
           "parse_date", "parse_dates", "parse_months",
           "Constraint", "InstanceOf", "Interval", "Options", "check_params", "constraints_of", "invalid_values",
           "validate_params"]
