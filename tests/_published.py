"""Shared by the attack tests: a CSV beside the report holds what the published table prints."""

from __future__ import annotations

import pandas as pd
import pytest

from impact.publish import MARK
from impact.report._tables import parse_number


def same_as_published(csv: pd.DataFrame, pub: pd.DataFrame) -> None:
    """The CSV holds the numbers the published table prints (real numbers: ``"1,800"`` is 1800,
    ``"-17.7%"`` is -0.177) and the withheld mark where the table has it; nothing else."""
    shown = pub.astype(str).to_numpy()
    assert csv.shape == shown.shape
    for c, p in zip(csv.to_numpy().ravel(), shown.ravel()):
        x = parse_number(p, "en") if p not in (MARK, "", "nan") else None
        if x is None:
            assert c == p or (p == "nan" and c == ""), (c, p)
        else:
            assert float(c) == pytest.approx(x, abs=1e-9), (c, p)
