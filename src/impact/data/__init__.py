"""Column roles, validation, the covariate builders, the flow table (who was dropped where and why)
and the one TOML reader."""

from impact._validation import check_treatment, parse_dates
from impact.data._covariates import covariate_matrix, expand_covariates, is_categorical
from impact.data._fingerprint import data_fingerprint
from impact.data._flow import Flow
from impact.data._roles import Roles, Validated, ValidationError, require_subgroup_levels, validate
from impact.data._toml import read_toml

__all__ = ["Roles", "Validated", "ValidationError", "validate", "require_subgroup_levels", "Flow", "expand_covariates",
           "covariate_matrix", "is_categorical", "data_fingerprint", "parse_dates", "check_treatment", "read_toml"]
