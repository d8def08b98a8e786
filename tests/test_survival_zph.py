"""impact.survival.cox_zph: the proportional-hazards check.

Oracles, named per test: R fixtures (tests/reference/survival_models.R, cox.zph in survival 3.5-3;
chi-square 1e-6 relative and residuals 1e-6 absolute, since R's coxph stops its iterations at
1e-9 relative change in the log-likelihood), and metamorphic checks (row shuffle).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
import pytest

from impact import ParameterError
from impact.survival import CoxPH, CoxZPH, cox_zph

matplotlib.use("Agg")

FIX = Path(__file__).parent / "reference" / "fixtures"
COVS = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
NO_WEXP = ["fin", "age", "race", "mar", "paro", "prio"]
TOL_CHISQ_REL = 1e-6
TOL_RESID_ABS = 1e-6

MODELS = {
    "efron_plain": ("efron", {"covariates": COVS}),
    "efron_weighted": ("efron", {"covariates": COVS, "weights": "w"}),
    "efron_strata_weighted": ("efron", {"covariates": NO_WEXP, "weights": "w", "strata": "wexp"}),
    "breslow_plain": ("breslow", {"covariates": COVS}),
}


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(FIX / name, comment="#")


@pytest.fixture(scope="module")
def rossi() -> pd.DataFrame:
    return _read("rossi.csv")


@pytest.mark.parametrize("transform", ["km", "identity", "rank"])
@pytest.mark.parametrize("model", list(MODELS))
def test_zph_matches_r(rossi: pd.DataFrame, model: str, transform: str) -> None:
    """Oracle: R cox.zph (chisq, df, p per term and GLOBAL; transformed time; scaled residuals)."""
    ties, kw = MODELS[model]
    cox = CoxPH(ties=ties).fit(rossi, "week", "arrest", **kw)
    z = cox.zph(transform) if model != "efron_plain" else cox_zph(cox, transform=transform)
    tab = _read("survival_zph.csv")
    tab = tab[(tab["model"] == model) & (tab["transform"] == transform)]
    assert list(z.table["term"]) == list(tab["term"])
    np.testing.assert_allclose(z.table["chisq"], tab["chisq"], rtol=TOL_CHISQ_REL)
    np.testing.assert_array_equal(z.table["df"], tab["df"])
    np.testing.assert_allclose(z.table["p_value"], tab["p"], rtol=TOL_CHISQ_REL, atol=1e-12)
    res = _read("survival_zph_resid.csv")
    res = res[(res["model"] == model) & (res["transform"] == transform)]
    np.testing.assert_allclose(z.residuals["time"], res["time"], atol=0)
    np.testing.assert_allclose(z.residuals["x"], res["x"], atol=1e-12)
    covs = kw["covariates"]
    np.testing.assert_allclose(z.residuals[covs], res[covs], atol=TOL_RESID_ABS)


def test_zph_row_shuffle(rossi: pd.DataFrame) -> None:
    """Metamorphic: the test does not depend on row order."""
    a = CoxPH().fit(rossi, "week", "arrest", COVS, weights="w").zph()
    b = CoxPH().fit(rossi.sample(frac=1, random_state=5), "week", "arrest", COVS, weights="w").zph()
    np.testing.assert_allclose(a.table["chisq"], b.table["chisq"], rtol=1e-9)


def test_zph_result_and_plot(rossi: pd.DataFrame) -> None:
    import matplotlib.pyplot as plt

    z = CoxPH().fit(rossi, "week", "arrest", COVS).zph()
    assert isinstance(z, CoxZPH)
    assert list(z.summary().columns) == ["term", "chisq", "df", "p_value"]
    assert z.summary()["term"].iloc[-1] == "GLOBAL"
    assert "GLOBAL" not in z.var.index and z.var.shape == (7, 7)
    assert repr(z).startswith("CoxZPH(transform='km'") and "<table" in z._repr_html_()
    _, ax = plt.subplots()
    out = z.plot(ax, term="age")
    assert out is ax and len(ax.collections) == 1 and len(ax.lines) >= 4
    assert isinstance(z.plot(term="fin", band=False), plt.Axes)
    # the old order plot(term) still works this version, with a FutureWarning, and draws the same
    with pytest.warns(FutureWarning, match="'ax' is now the first parameter"):
        old = z.plot("age")
    np.testing.assert_array_equal(old.lines[0].get_xydata(), ax.lines[0].get_xydata())
    plt.close("all")
    with pytest.raises(ParameterError, match=r"'term' parameter of CoxZPH.plot must be one of"):
        z.plot(term="nope")


def test_zph_bad_inputs(rossi: pd.DataFrame) -> None:
    cox = CoxPH().fit(rossi, "week", "arrest", COVS)
    with pytest.raises(ParameterError, match=r"'transform' parameter of cox_zph must be one of"):
        cox_zph(cox, transform="log2")
    with pytest.raises(ParameterError, match="fitted CoxPH"):
        cox_zph("not a fit")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="not fitted"):
        cox_zph(CoxPH())
    r = rossi.assign(entry=0.0)
    late = CoxPH().fit(r, "week", "arrest", COVS, entry="entry")
    with pytest.raises(ParameterError, match="right-censored fits only"):
        late.zph()
