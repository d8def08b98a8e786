"""impact.survival.gray_test: Gray's test for equal cumulative incidence.

Oracles, named per test: R fixtures (tests/reference/survival_models.R, cmprsk 2.2-11
cuminc()$Tests on mgus2; 1e-9 relative, the same closed-form estimator) and metamorphic checks
(row shuffle, relabelled groups, a constant stratum).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from impact import DataError, ParameterError
from impact.survival import GrayTestResult, gray_test

FIX = Path(__file__).parent / "reference" / "fixtures"
TOL_REL = 1e-9
SPECS = {"sex": ("sex", None, 0), "sex_strata_old": ("sex", "old", 0), "agegrp": ("agegrp", None, 0),
         "agegrp_strata_sex": ("agegrp", "sex", 0), "sex_rho1": ("sex", None, 1)}


@pytest.fixture(scope="module")
def mgus() -> pd.DataFrame:
    m = pd.read_csv(FIX / "mgus2.csv", comment="#")
    m["cause"] = m["event"].where(m["event"] != "censor", 0)
    m["agegrp"] = pd.cut(m["age"], [0, 60, 75, np.inf], labels=["young", "mid", "old"]).astype(str)
    m["old"] = (m["age"] >= 70).astype(int)
    return m


@pytest.mark.parametrize("cause", ["pcm", "death"])
@pytest.mark.parametrize("test", list(SPECS))
def test_gray_matches_cuminc(mgus: pd.DataFrame, test: str, cause: str) -> None:
    """Oracle: cmprsk::cuminc(...)$Tests (statistic, p-value, df)."""
    fx = pd.read_csv(FIX / "survival_gray.csv", comment="#")
    row = fx[(fx["test"] == test) & (fx["cause"] == cause)].iloc[0]
    g, s, rho = SPECS[test]
    res = gray_test(mgus["etime"], mgus["cause"], mgus[g], cause,
                    strata=None if s is None else mgus[s], rho=rho)
    assert res.statistic == pytest.approx(row["stat"], rel=TOL_REL)
    assert res.p_value == pytest.approx(row["p"], rel=1e-8, abs=1e-14)
    assert res.df == row["df"]


def test_gray_invariances(mgus: pd.DataFrame) -> None:
    """Metamorphic: row order, group labels and a single constant stratum change nothing."""
    a = gray_test(mgus["etime"], mgus["cause"], mgus["agegrp"], "pcm")
    sh = mgus.sample(frac=1, random_state=1)
    relabel = sh["agegrp"].map({"young": "c", "mid": "a", "old": "b"})
    b = gray_test(sh["etime"], sh["cause"], relabel, "pcm", strata=np.ones(len(sh)))
    assert b.statistic == pytest.approx(a.statistic, rel=1e-12)


def test_gray_result(mgus: pd.DataFrame) -> None:
    res = gray_test(mgus["etime"], mgus["cause"], mgus["sex"], "pcm")
    assert isinstance(res, GrayTestResult) and res.groups == ("F", "M") and res.cause == "pcm"
    assert res.score.shape == (1,) and res.variance.shape == (1, 1)
    assert res.statistic == pytest.approx(res.score[0] ** 2 / res.variance[0, 0])
    assert list(res.summary().columns) == ["test", "cause", "statistic", "df", "p_value"]
    assert repr(res).startswith("GrayTestResult(cause='pcm'") and "Gray" in res._repr_html_()


def test_gray_bad_inputs(mgus: pd.DataFrame) -> None:
    t, c, g = mgus["etime"], mgus["cause"], mgus["sex"]
    with pytest.raises(ParameterError, match=r"'cause_of_interest' parameter of gray_test must be one of"):
        gray_test(t, c, g, "work")
    with pytest.raises(DataError, match=r"'group'.*at least two groups"):
        gray_test(t, c, np.ones(len(t)), "pcm")
    with pytest.raises(DataError, match=r"'group'.*missing.*position 3"):
        gray_test(t, c, g.where(g.index != 3), "pcm")
    with pytest.raises(DataError, match=r"'duration'.*> 0.*position 0"):
        gray_test(t.where(t.index != 0, 0), c, g, "pcm")
    with pytest.raises(ParameterError, match="'group' parameter must have one value per row"):
        gray_test(t, c, g[:10], "pcm")
    with pytest.raises(DataError, match=r"'strata'.*missing"):
        gray_test(t, c, g, "pcm", strata=pd.Series(np.where(np.arange(len(t)) == 5, None, "a")))
