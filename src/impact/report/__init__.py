"""The self-contained HTML report, CSV tables and the workbook, laid out from what ``publish`` allows.

One job per module: :mod:`~impact.report._write` (``write_report``: which tables, in which order),
``_html`` (page and table layout), ``_tables`` (labelled and compact tables), ``_methods`` (the
methods text), ``_toml`` (the configuration written back), ``_workbook`` (the Excel file) and
``_protocol`` (:class:`EvaluationLike`, what the report reads from an evaluation).
"""

from impact.report._atomic import ReportError
from impact.report._protocol import EvaluationLike
from impact.report._write import REPORT_FILES, write_report

__all__ = ["write_report", "REPORT_FILES", "EvaluationLike", "ReportError"]
