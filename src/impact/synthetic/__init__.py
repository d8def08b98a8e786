"""Seeded generators of synthetic registers (with a known true effect) and of monitoring records."""

from impact.synthetic._extract import (EXTRACT_FILES, EXTRACT_HAZARD_RATIO, SyntheticExtract, read_extract,
                                       simulate_extract, write_extract)
from impact.synthetic._monitoring import OUTCOME_90_MIX, SUBSIDY_MIX, MonitoringRecords, simulate_monitoring
from impact.synthetic._registers import COVARIATES, SyntheticEvaluation, read_synthetic, simulate, write_synthetic

__all__ = ["SyntheticEvaluation", "simulate", "write_synthetic", "read_synthetic", "COVARIATES",
           "MonitoringRecords", "simulate_monitoring", "SUBSIDY_MIX", "OUTCOME_90_MIX",
           "SyntheticExtract", "simulate_extract", "EXTRACT_HAZARD_RATIO", "EXTRACT_FILES", "write_extract",
           "read_extract"]
