"""The fast paths of issue 14 against their oracles (small data: the speed targets live in benchmarks/)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

import impact
from impact._errors import ImpactWarning


# -- the propensity logit: the separation warning names columns, never categorical levels -----------
def _separated_by_region(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    t = (rng.random(n) < 0.3).astype(int)
    region = np.where(t == 1, rng.choice(["north", "tinytown"], n), rng.choice(["south", "east"], n))
    return pd.DataFrame({"treat": t, "age": rng.normal(40, 10, n), "region": region})


def test_separation_warning_names_the_column_not_the_level():
    with pytest.warns(ImpactWarning, match="Perfect separation") as rec:
        impact.match(_separated_by_region(), "treat", ["age", "region"])
    msg = next(str(w.message) for w in rec if "Perfect separation" in str(w.message))
    assert "covariate(s) 'region' separate" in msg
    assert "tinytown" not in msg and "north" not in msg and "region[" not in msg
    assert " rows have a fitted probability" in msg


def test_separation_warning_counts_rows_only_from_five():
    from impact.design._propensity import _separation_message

    assert "fewer than 5 rows have" in _separation_message(["region"], 3)
    assert "fewer than 5 rows have" in _separation_message(["region"], 0)
    assert "5 rows have" in _separation_message(["region"], 5)
    assert "3" not in _separation_message(["region"], 3)
