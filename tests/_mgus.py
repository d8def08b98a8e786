"""R's ``survival::mgus2`` as the fixtures hold it (tests/reference/fixtures/mgus2.csv), shared by the
tests of ``ate_competing``: rows with haemoglobin, the competing outcome coded 0 censored, 1 PCM, 2 death."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

FIX = Path(__file__).parent / "reference" / "fixtures"


def mgus_frame() -> pd.DataFrame:
    m = pd.read_csv(FIX / "mgus2.csv", comment="#")
    m = m[m["hgb"].notna()].reset_index(drop=True)
    return pd.DataFrame({"etime": m["etime"].astype(float),
                         "status": m["event"].map({"censor": 0, "pcm": 1, "death": 2}),
                         "male": m["male"], "age": m["age"].astype(float), "hgb": m["hgb"]})
