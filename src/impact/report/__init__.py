"""The self-contained HTML report, CSV tables and the workbook, laid out from what ``publish`` allows."""

from impact.report._report import REPORT_FILES, write_report

__all__ = ["write_report", "REPORT_FILES"]
