"""The Excel workbook: one sheet per table, columns sized to their content."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

__all__ = ["write_workbook"]


def write_workbook(path: Path, sheets: Mapping[str, pd.DataFrame]) -> None:
    """Write each table on its own sheet (names cut to Excel's 31 characters)."""
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, df in sheets.items():
            out = df.copy()
            out.columns = [str(c) for c in out.columns]
            out.to_excel(writer, sheet_name=name[:31], index=False)
            ws = writer.sheets[name[:31]]
            for k, col in enumerate(out.columns):
                width = max([len(str(col))] + [len(str(v)) for v in out[col].head(200)])
                ws.column_dimensions[ws.cell(row=1, column=k + 1).column_letter].width = min(max(width + 2, 8), 80)
