"""The Excel workbook: one sheet per table, numbers as numbers, columns sized to their content.

Every number is written as a number (the cell's ``data_type`` is ``"n"``), so that Excel can sum
it; how it looks is the cell's number format only: whole numbers ``#,##0``, other numbers
``0.000``, proportions given a ``0.0%`` format where the report says so. A workbook stores formats
in Excel's invariant notation, and Excel shows them in the reader's locale: a Swedish Excel shows
``#,##0`` as ``20 000`` and ``0.000`` as ``0,032``. Withheld cells hold the withheld mark as text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Number
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["write_workbook", "WHOLE", "DECIMAL", "PERCENT", "number_format_of"]

#: number formats (Excel's invariant notation; shown in the reader's locale)
WHOLE = "#,##0"
DECIMAL = "0.000"
PERCENT = "0.0%"

Formats = Mapping[str, Mapping[str, str | Sequence[str]]]


def _is_number(v: object) -> bool:
    return isinstance(v, (Number, np.number)) and not isinstance(v, (bool, np.bool_))


def number_format_of(values: pd.Series) -> str:
    """The default format of a column: whole numbers ``#,##0``, anything else ``0.000``."""
    nums = [float(v) for v in values if _is_number(v)]
    finite = [x for x in nums if np.isfinite(x)]
    return WHOLE if finite and all(x.is_integer() for x in finite) else DECIMAL


def write_workbook(path: Path, sheets: Mapping[str, pd.DataFrame], formats: Formats | None = None) -> None:
    """Write each table on its own sheet (names cut to Excel's 31 characters).

    ``formats`` gives, per sheet and column, a number format for the whole column or one per row
    (or a sheet carries its own in ``df.attrs["number_formats"]``); other numeric cells get
    :func:`number_format_of` their column.
    """
    formats = formats or {}
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, df in sheets.items():
            out = df.copy()
            out.columns = [str(c) for c in out.columns]
            out.to_excel(writer, sheet_name=name[:31], index=False)
            ws = writer.sheets[name[:31]]
            given = {**df.attrs.get("number_formats", {}), **formats.get(name, {})}
            for k, col in enumerate(out.columns):
                letter = ws.cell(row=1, column=k + 1).column_letter
                width = max([len(str(col))] + [len(str(v)) for v in out[col].head(200)])
                ws.column_dimensions[letter].width = min(max(width + 2, 8), 80)
                spec = given.get(col)
                default = number_format_of(out[col])
                for i in range(len(out)):
                    cell = ws.cell(row=i + 2, column=k + 1)
                    if cell.data_type != "n" or cell.value is None:
                        continue
                    if spec is None:
                        fmt = default
                    elif isinstance(spec, str):
                        fmt = spec
                    else:
                        fmt = spec[i] if i < len(spec) else default
                    cell.number_format = fmt if fmt != "General" else default
