"""The regression fitters' shared scaffold: categorical covariates, Fine-Gray as its own model,
renamed arguments, the faces of a fitted model, frozen results.

Oracles: R's ``coxph`` with a ``factor()`` covariate (tests/reference/survival_factor.R writes
survival_cox_factor.csv); the same model with the dummies made by hand; ``fine_gray`` against the
explicit ``FineGray`` fit; the old argument names against the new ones; the rule itself for the
architecture checks (no ``object.__setattr__`` on results, settings checked from the tables).
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from impact import ParameterError
from impact.survival import (
    AFT,
    CoxPH,
    FineGray,
    aalen_johansen,
    fine_gray,
    kaplan_meier,
)

FIX = Path(__file__).parent / "reference" / "fixtures"
SRC = Path(__file__).resolve().parents[1] / "src" / "impact" / "survival"
TOL_COX_REL = 1e-6    # Cox coefficients and variances (iterative fit), as test_survival_reference


@pytest.fixture(scope="module")
def rossi() -> pd.DataFrame:
    r = pd.read_csv(FIX / "rossi.csv", comment="#")
    r["prio_grp"] = np.where(r["prio"] == 0, "none", np.where(r["prio"] <= 3, "few", "many"))
    return r


def _hand_dummies(r: pd.DataFrame) -> pd.DataFrame:
    return r.assign(many=(r["prio_grp"] == "many").astype(float), none=(r["prio_grp"] == "none").astype(float))


# ---------------------------------------------------------------------------------------------
# one covariate builder: CoxPH and AFT take the categorical covariates match takes
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("model, kw", [("plain", {}), ("weighted_cluster", {"weights": "w", "cluster": "clus"})])
def test_cox_with_a_string_covariate_matches_r_factor(rossi: pd.DataFrame, model: str, kw: dict) -> None:
    ref = pd.read_csv(FIX / "survival_cox_factor.csv", comment="#").query("model == @model")
    cox = CoxPH().fit(rossi, "week", "arrest", covariates=["fin", "age", "prio_grp"], **kw)
    assert list(cox.params_.index) == ["fin", "age", "prio_grp[many]", "prio_grp[none]"]
    assert ref["term"].tolist() == ["fin", "age", "prio_grpmany", "prio_grpnone"]  # R's names, same order
    np.testing.assert_allclose(cox.params_.to_numpy(), ref["coef"], rtol=TOL_COX_REL)
    np.testing.assert_allclose(np.sqrt(np.diag(cox.cov_)), ref["se"], rtol=TOL_COX_REL)
    np.testing.assert_allclose(np.sqrt(np.diag(cox.naive_cov_)), ref["naive_se"], rtol=TOL_COX_REL)
    assert cox.loglik_ == pytest.approx(ref["loglik"].iloc[0], rel=1e-9)


@pytest.mark.parametrize("kind", ["object", "string", "category"])
def test_cox_string_covariate_equals_hand_made_dummies(rossi: pd.DataFrame, kind: str) -> None:
    data = rossi.assign(prio_grp=rossi["prio_grp"].astype(kind))
    auto = CoxPH().fit(data, "week", "arrest", covariates=["fin", "age", "prio_grp"], weights="w",
                       cluster="clus")
    hand = CoxPH().fit(_hand_dummies(rossi), "week", "arrest", covariates=["fin", "age", "many", "none"],
                       weights="w", cluster="clus")
    np.testing.assert_array_equal(auto.params_.to_numpy(), hand.params_.to_numpy())
    np.testing.assert_array_equal(auto.cov_.to_numpy(), hand.cov_.to_numpy())


def test_category_order_sets_the_reference(rossi: pd.DataFrame) -> None:
    """A pandas Categorical's first category is the reference (as R's factor levels)."""
    data = rossi.assign(prio_grp=pd.Categorical(rossi["prio_grp"], categories=["none", "few", "many"]))
    cox = CoxPH().fit(data, "week", "arrest", covariates=["fin", "prio_grp"])
    assert list(cox.params_.index) == ["fin", "prio_grp[few]", "prio_grp[many]"]
    hand = CoxPH().fit(rossi.assign(few=(rossi["prio_grp"] == "few").astype(float),
                                    many=(rossi["prio_grp"] == "many").astype(float)),
                       "week", "arrest", covariates=["fin", "few", "many"])
    np.testing.assert_array_equal(cox.params_.to_numpy(), hand.params_.to_numpy())


def test_aft_and_fine_gray_take_string_covariates_too(rossi: pd.DataFrame) -> None:
    auto = AFT().fit(rossi, "week", "arrest", ["fin", "age", "prio_grp"])
    hand = AFT().fit(_hand_dummies(rossi), "week", "arrest", ["fin", "age", "many", "none"])
    np.testing.assert_array_equal(auto.params_.to_numpy(), hand.params_.to_numpy())
    assert list(auto.params_.index)[-2:] == ["prio_grp[many]", "prio_grp[none]"]
    exit_ = np.where(rossi["arrest"] == 1, np.where(rossi["wexp"] == 1, "a", "b"), "censored")
    fa = fine_gray(rossi.assign(exit=exit_), "week", "exit", "a", covariates=["fin", "prio_grp"])
    fh = fine_gray(_hand_dummies(rossi).assign(exit=exit_), "week", "exit", "a", covariates=["fin", "many", "none"])
    np.testing.assert_array_equal(fa.params_.to_numpy(), fh.params_.to_numpy())
    np.testing.assert_array_equal(fa.cov_.to_numpy(), fh.cov_.to_numpy())


# ---------------------------------------------------------------------------------------------
# Fine-Gray is its own fitted model
# ---------------------------------------------------------------------------------------------
def test_fine_gray_returns_a_fine_gray_fit(rossi: pd.DataFrame) -> None:
    data = rossi.assign(exit=np.where(rossi["arrest"] == 1, np.where(rossi["prio"] > 3, "a", "b"), "censored"))
    fg = fine_gray(data, "week", "exit", "a", covariates=["fin", "age"], weights="w", ties="breslow")
    direct = FineGray(ties="breslow").fit(data, "week", "exit", "a", covariates=["fin", "age"], weights="w")
    assert type(fg) is FineGray and not isinstance(fg, CoxPH)  # its own model, not a patched CoxPH
    np.testing.assert_array_equal(fg.params_.to_numpy(), direct.params_.to_numpy())
    np.testing.assert_array_equal(fg.cov_.to_numpy(), direct.cov_.to_numpy())
    assert fg.duration_col_ == "week" and fg.event_col_ == "exit" and fg.cause_ == "a"
    assert fg.n_persons_ == len(data) and fg.n_ == len(data) + fg.n_extension_rows_
    assert fg.cov_type_ == "cluster" and any("Fine-Gray for cause 'a'" in n for n in fg.notes_)
    assert repr(fg).startswith("FineGray(ties='breslow', n=") and "\n" not in repr(fg)
    assert "Fine-Gray" in fg._repr_html_()
    with pytest.raises(ParameterError, match=r"'ties' parameter of FineGray must be one of 'efron', 'breslow'"):
        FineGray(ties="exact").fit(data, "week", "exit", "a")
    with pytest.raises(ParameterError, match=r"'conf_level' parameter of fine_gray must be < 1"):
        fine_gray(data, "week", "exit", "a", conf_level=95)


# ---------------------------------------------------------------------------------------------
# renamed arguments: df -> data
# ---------------------------------------------------------------------------------------------
def test_old_df_keyword_warns_and_gives_the_same_fit(rossi: pd.DataFrame) -> None:
    new = CoxPH().fit(data=rossi, duration="week", event="arrest", covariates=["fin", "age"])
    with pytest.warns(FutureWarning, match="'df' parameter of fit is now called 'data'"):
        old = CoxPH().fit(df=rossi, duration="week", event="arrest", covariates=["fin", "age"])
    np.testing.assert_array_equal(new.params_.to_numpy(), old.params_.to_numpy())
    new_a = AFT().fit(data=rossi, duration="week", event="arrest", covariates=["fin", "age"])
    with pytest.warns(FutureWarning, match="'df' parameter"):
        old_a = AFT().fit(df=rossi, duration="week", event="arrest", covariates=["fin", "age"])
    np.testing.assert_array_equal(new_a.params_.to_numpy(), old_a.params_.to_numpy())
    data = rossi.assign(exit=np.where(rossi["arrest"] == 1, np.where(rossi["fin"] == 1, "a", "b"), "censored"))
    new_f = fine_gray(data=data, duration="week", event="exit", cause="a", covariates=["age"])
    with pytest.warns(FutureWarning, match="'df' parameter of fine_gray is now called 'data'"):
        old_f = fine_gray(df=data, duration="week", event="exit", cause="a", covariates=["age"])
    np.testing.assert_array_equal(new_f.params_.to_numpy(), old_f.params_.to_numpy())


# ---------------------------------------------------------------------------------------------
# the faces of a fitted model (shared by CoxPH, AFT, FineGray)
# ---------------------------------------------------------------------------------------------
def test_settings_are_stored_and_checked_in_fit(rossi: pd.DataFrame) -> None:
    cox = CoxPH(ties="nope", conf_level=2)  # __init__ stores, fit checks
    assert cox.get_params() == {"ties": "nope", "robust": None, "conf_level": 2, "max_iter": 50, "tol": 1e-10}
    with pytest.raises(ParameterError, match=r"'ties' parameter of CoxPH must be one of 'efron', 'breslow'"):
        cox.fit(rossi, "week", "arrest")
    with pytest.raises(ParameterError, match=r"'conf_level' parameter of AFT must be < 1\. Got 2\."):
        AFT(conf_level=2).fit(rossi, "week", "arrest")
    with pytest.raises(ParameterError, match=r"'tol' parameter of AFT must be > 0"):
        AFT(tol=0).fit(rossi, "week", "arrest")
    with pytest.raises(ParameterError, match=r"not fitted yet"):
        CoxPH().plot()


@pytest.mark.parametrize("make", [
    lambda r: CoxPH(conf_level=0.9).fit(r, "week", "arrest", ["fin", "age", "prio"]),
    lambda r: AFT(conf_level=0.9).fit(r, "week", "arrest", ["fin", "age", "prio"]),
    lambda r: FineGray(conf_level=0.9).fit(r.assign(c=np.where(r["arrest"] == 1, np.where(r["fin"] == 1, 1, 2), 0)),
                                           "week", "c", 1, ["fin", "age", "prio"]),
], ids=["cox", "aft", "finegray"])
def test_summary_repr_html_and_plot(rossi: pd.DataFrame, make) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = make(rossi)
    s = m.summary()
    ratio = "time_ratio" if isinstance(m, AFT) else "hazard_ratio"
    assert list(s.columns) == ["term", "estimate", "se", ratio, "ci_low", "ci_high", "p_value"]
    assert s.attrs["conf_level"] == 0.9 and s.attrs["cov_type"] == m.cov_type_
    z = 1.6448536269514722  # the 95% quantile: a 90% interval
    np.testing.assert_allclose(s["ci_high"], np.exp(s["estimate"] + z * s["se"]), rtol=1e-12)
    r = repr(m)
    assert "\n" not in r and r.startswith(type(m).__name__ + "(") and f"cov_type='{m.cov_type_}'" in r
    assert "<table" in m._repr_html_()
    _, ax = plt.subplots()
    assert m.plot(ax) is ax and m.plot(ax=ax) is ax
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["fin", "age", "prio"]  # no intercept
    one = m.plot(terms=["age"])
    assert [t.get_text() for t in one.get_yticklabels()] == ["age"]
    with pytest.raises(ParameterError, match=r"'terms' parameter of \w+\.plot"):
        m.plot(terms=["nope"])
    plt.close("all")


# ---------------------------------------------------------------------------------------------
# frozen results are never mutated
# ---------------------------------------------------------------------------------------------
def test_no_result_is_mutated_after_construction() -> None:
    """No ``object.__setattr__`` anywhere in impact.survival (results are built complete)."""
    offenders = []
    for path in SRC.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "__setattr__"
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "object"):
                offenders.append(f"{path.name}:{node.lineno}")
    assert offenders == []


def test_curve_results_are_frozen_and_complete(rossi: pd.DataFrame) -> None:
    cause = np.where(rossi["arrest"] == 1, np.where(rossi["fin"] == 1, "a", "b"), "censored")
    aj = aalen_johansen(rossi["week"], cause)
    assert len(aj.table) == rossi["week"].nunique() and aj.notes
    with pytest.raises(dataclasses.FrozenInstanceError):
        aj.table = pd.DataFrame()  # type: ignore[misc]
    km = kaplan_meier(rossi["week"], rossi["arrest"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        km.notes = ()  # type: ignore[misc]
    relabelled = dataclasses.replace(aj, notes=("x",))
    assert relabelled.notes == ("x",) and aj.notes != ("x",)


# ---------------------------------------------------------------------------------------------
# renamed arguments: the lifelines-style *_col names -> the names every other verb uses
# ---------------------------------------------------------------------------------------------
def test_old_col_keywords_warn_and_give_the_same_fit(rossi: pd.DataFrame) -> None:
    d = rossi.assign(w=1.0 + (rossi["age"] % 3), g=rossi.index // 2)
    new = CoxPH().fit(d, duration="week", event="arrest", covariates=["fin", "age"], weights="w", cluster="g")
    with pytest.warns(FutureWarning) as rec:
        old = CoxPH().fit(d, duration_col="week", event_col="arrest", covariates=["fin", "age"],
                          weights_col="w", cluster_col="g")
    assert {str(w.message).split("'")[1] for w in rec} == {"duration_col", "event_col", "weights_col", "cluster_col"}
    assert "'duration_col' parameter of fit is now called 'duration'" in str(rec[0].message)
    np.testing.assert_array_equal(new.params_.to_numpy(), old.params_.to_numpy())
    np.testing.assert_array_equal(new.cov_.to_numpy(), old.cov_.to_numpy())
    new_a = AFT().fit(d, duration="week", event="arrest", covariates=["fin"], cluster="g")
    with pytest.warns(FutureWarning, match="'cluster_col' parameter"):
        old_a = AFT().fit(d, duration="week", event="arrest", covariates=["fin"], cluster_col="g")
    np.testing.assert_array_equal(new_a.cov_.to_numpy(), old_a.cov_.to_numpy())
    data = d.assign(exit=np.where(d["arrest"] == 1, np.where(d["fin"] == 1, "a", "b"), "censored"))
    new_f = fine_gray(data, "week", "exit", "a", covariates=["age"], cluster="g")
    with pytest.warns(FutureWarning) as rec:
        old_f = fine_gray(data, duration="week", cause_col="exit", cause="a", covariates=["age"], cluster_col="g")
    assert any("'cause_col' parameter of fine_gray is now called 'event'" in str(w.message) for w in rec)
    np.testing.assert_array_equal(new_f.cov_.to_numpy(), old_f.cov_.to_numpy())
