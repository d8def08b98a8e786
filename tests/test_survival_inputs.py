"""impact.survival: bad inputs (mutation -> exception -> message) and metamorphic checks.

Oracles: the table of bad inputs is reviewed message text; the metamorphic checks compare an
estimator with itself (row shuffle, relabelled clusters, integer weights == duplicated rows,
determinism), never with hard-coded numbers.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from lifelines.datasets import load_rossi

from impact import DataError, EstimationError, ParameterError
from impact.survival import CoxPH, aalen_johansen, kaplan_meier


@pytest.fixture(scope="module")
def rossi() -> pd.DataFrame:
    return load_rossi()


def _km(df: pd.DataFrame, **kw: Any) -> Any:
    return kaplan_meier(df["week"], df["arrest"], **kw)


def _cause(df: pd.DataFrame) -> np.ndarray:
    return np.where(df["arrest"] == 1, np.where(df["fin"] == 1, "work", "studies"), "censored")


# mutation of the Rossi data -> call -> exception -> message pattern
BAD_INPUTS: list[tuple[str, Callable[[pd.DataFrame], Any], type[Exception], str]] = [
    ("zero duration", lambda d: _km(d.assign(week=d["week"].where(d.index != 3, 0))),
     DataError, r"Column 'duration': durations must be > 0.*position 3"),
    ("negative duration", lambda d: _km(d.assign(week=d["week"].where(d.index > 1, -2))),
     DataError, r"durations must be > 0.*2 rows \(positions 0, 1\)"),
    ("NaN duration", lambda d: _km(d.assign(week=d["week"].where(d.index != 7, np.nan))),
     DataError, r"must not be missing.*position 7"),
    ("event code 2", lambda d: _km(d.assign(arrest=d["arrest"].where(d.index != 5, 2))),
     DataError, r"Column 'event': event must be 0 \(censored\) or 1.*position 5"),
    ("negative weight", lambda d: _km(d, weights=np.where(d.index == 4, -1.0, 1.0)),
     DataError, r"Column 'weights': weights must be >= 0.*position 4"),
    ("all-zero weights", lambda d: _km(d, weights=np.zeros(len(d))),
     DataError, r"weights are all zero"),
    ("weights of wrong length", lambda d: _km(d, weights=np.ones(3)),
     ParameterError, r"'weights' parameter must have one value per row"),
    ("missing cluster label", lambda d: _km(d, cluster=np.where(d.index == 9, None, "a")),
     DataError, r"Column 'cluster': cluster labels must not be missing.*position 9"),
    ("conf_level 95", lambda d: _km(d, conf_level=95),
     ParameterError, r"'conf_level' parameter of kaplan_meier must be < 1"),
    ("undeclared cause", lambda d: aalen_johansen(d["week"], _cause(d),
                                                  causes=["work"]),
     DataError, r"Column 'cause': cause codes must be.*declared causes \['work'\]"),
    ("unknown cause asked", lambda d: aalen_johansen(d["week"], _cause(d)).cif("wrok", [10]),
     ParameterError, r"'cause' parameter must be one of.*Did you mean 'work'"),
    ("cox: NaN covariate", lambda d: CoxPH().fit(d.assign(age=d["age"].where(d.index != 2)),
                                                 "week", "arrest"),
     DataError, r"Column 'age': covariates must not be missing.*position 2"),
    ("cox: zero duration", lambda d: CoxPH().fit(d.assign(week=d["week"].where(d.index != 0, 0)),
                                                 "week", "arrest"),
     DataError, r"Column 'week': durations must be > 0.*position 0"),
    ("cox: missing column", lambda d: CoxPH().fit(d, "weeks", "arrest"),
     DataError, r"'weeks' is not in the data.*Did you mean 'week'"),
    ("cox: no events", lambda d: CoxPH().fit(d.assign(arrest=0), "week", "arrest"),
     EstimationError, r"no events"),
    ("cox: too few events", lambda d: CoxPH().fit(
        d.assign(arrest=(d.index < 3).astype(int)), "week", "arrest"),
     EstimationError, r"Too few events.*3 event\(s\) for 7 covariate\(s\)"),
    ("cox: constant covariate", lambda d: CoxPH().fit(d.assign(one=1.0), "week", "arrest"),
     DataError, r"'one' are constant"),
    ("cox: date covariate", lambda d: CoxPH().fit(d.assign(g=pd.Timestamp("2020-01-01")
                                                             + pd.to_timedelta(d["age"], "D")),
                                                  "week", "arrest", covariates=["g", "age"]),
     DataError, r"Column 'g': covariates must be numbers, booleans or categories \(CoxPH\)"),
    ("cox: missing string covariate", lambda d: CoxPH().fit(
        d.assign(g=np.where(d["fin"] == 1, "a", "b")).assign(g=lambda x: x["g"].where(x.index != 6)),
        "week", "arrest", covariates=["g", "age"]),
     DataError, r"Column 'g': covariates must not be missing.*position 6"),
    ("cox: robust not a bool", lambda d: CoxPH(robust="yes").fit(d, "week", "arrest"),
     ParameterError, r"The 'robust' parameter of CoxPH must be True or False or None\. Got 'yes'\."),
    ("cox: max_iter 0", lambda d: CoxPH(max_iter=0).fit(d, "week", "arrest"),
     ParameterError, r"The 'max_iter' parameter of CoxPH must be >= 1\. Got 0\."),
    ("cox: data not a frame", lambda d: CoxPH().fit(d.to_numpy(), "week", "arrest"),
     ParameterError, r"The 'data' parameter of CoxPH.fit must be a pandas DataFrame"),
    ("cox: bad ties", lambda d: CoxPH(ties="exact").fit(d, "week", "arrest"),
     ParameterError, r"'ties' parameter of CoxPH must be one of 'efron', 'breslow'"),
    ("cox: event 2", lambda d: CoxPH().fit(d.assign(arrest=d["arrest"] * 2), "week", "arrest"),
     DataError, r"Column 'arrest': event must be 0"),
]


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_inputs(rossi: pd.DataFrame, case: tuple) -> None:
    _, call, exc, pattern = case
    with pytest.raises(exc, match=pattern):
        call(rossi)


def test_errors_carry_positions(rossi: pd.DataFrame) -> None:
    with pytest.raises(DataError) as info:
        _km(rossi.assign(week=rossi["week"].where(rossi.index % 100 != 1, 0)))
    assert info.value.column == "duration"
    assert info.value.positions == (1, 101, 201, 301, 401)


def test_horizon_beyond_follow_up_is_flagged_not_extrapolated(rossi: pd.DataFrame) -> None:
    km = _km(rossi)
    out = km.at([52, 53, 400])
    assert out["beyond_follow_up"].tolist() == [False, True, True]
    assert out.loc[1:, ["survival", "se", "ci_low", "ci_high"]].isna().all().all()
    assert np.isnan(km.influence([400])).all()
    aj = aalen_johansen(rossi["week"], _cause(rossi))
    c = aj.cif("work", [60])
    assert bool(c["beyond_follow_up"].item()) and np.isnan(c["estimate"].item())


def test_before_first_time_is_start_of_curve(rossi: pd.DataFrame) -> None:
    km = _km(rossi)
    out = km.at([0, 0.5])
    assert (out["survival"] == 1.0).all() and (out["se"] == 0.0).all()
    assert (km.influence([0.5]) == 0).all()


# ---------------------------------------------------------------------------------------------
# metamorphic checks
# ---------------------------------------------------------------------------------------------
def test_row_shuffle_and_relabelled_clusters_give_same_answers(rossi: pd.DataFrame) -> None:
    rng = np.random.default_rng(1)
    w = 0.5 + rng.random(len(rossi))
    cl = np.arange(len(rossi)) // 4
    perm = rng.permutation(len(rossi))
    relabel = rng.permutation(cl.max() + 1)[cl]  # same partition, other labels
    a = kaplan_meier(rossi["week"], rossi["arrest"], weights=w, cluster=cl)
    b = kaplan_meier(rossi["week"].to_numpy()[perm], rossi["arrest"].to_numpy()[perm],
                     weights=w[perm], cluster=relabel[perm].astype(str))
    pd.testing.assert_frame_equal(a.table, b.table, rtol=1e-12)
    Ua, Ub = a.influence([20, 40]), b.influence([20, 40])
    np.testing.assert_allclose(Ua[perm], Ub, atol=1e-14)
    df = rossi.assign(w=w, cl=cl)
    ca = CoxPH().fit(df, "week", "arrest", weights="w", cluster="cl",
                     covariates=["fin", "age", "prio"])
    cb = CoxPH().fit(df.iloc[perm].assign(cl=relabel[perm]), "week", "arrest", weights="w",
                     cluster="cl", covariates=["fin", "age", "prio"])
    np.testing.assert_allclose(ca.params_, cb.params_, rtol=1e-10)
    np.testing.assert_allclose(ca.cov_, cb.cov_, rtol=1e-8)


def test_integer_weights_equal_duplicated_rows(rossi: pd.DataFrame) -> None:
    w = (np.arange(len(rossi)) % 3) + 1
    rep = rossi.loc[rossi.index.repeat(w)]
    a = kaplan_meier(rossi["week"], rossi["arrest"], weights=w)
    b = kaplan_meier(rep["week"], rep["arrest"])
    np.testing.assert_allclose(a.table["survival"], b.table["survival"], rtol=1e-12)
    np.testing.assert_allclose(a.table["n_risk"], b.table["n_risk"])
    # clustering the duplicates back together gives the weighted, per-row variance
    c = kaplan_meier(rep["week"], rep["arrest"], cluster=rep.index)
    np.testing.assert_allclose(a.table["se"], c.table["se"], rtol=1e-10)
    # Breslow ties: weights are frequencies exactly (Efron's approximation with R's mean weight
    # of tied deaths is not invariant to splitting a row into copies, in R either)
    ca = CoxPH(ties="breslow").fit(rossi.assign(w=w), "week", "arrest", weights="w")
    cb = CoxPH(ties="breslow").fit(rep, "week", "arrest")
    np.testing.assert_allclose(ca.params_, cb.params_, rtol=1e-8)
    np.testing.assert_allclose(ca.naive_cov_, cb.naive_cov_, rtol=1e-8)


def test_aj_is_deterministic_and_consistent_with_km(rossi: pd.DataFrame) -> None:
    cause = _cause(rossi)
    a1 = aalen_johansen(rossi["week"], cause, cluster=rossi.index // 2)
    a2 = aalen_johansen(rossi["week"], cause, cluster=rossi.index // 2)
    pd.testing.assert_frame_equal(a1.cif(["work", "studies"]), a2.cif(["work", "studies"]))
    km = kaplan_meier(rossi["week"], rossi["arrest"], cluster=rossi.index // 2)
    both = a1.cif(["work", "studies"])
    np.testing.assert_allclose(both["estimate"], 1 - km.table["survival"], atol=1e-12)
    np.testing.assert_allclose(both["se"], km.table["se"], atol=1e-12)
    t = [10, 30, 50]
    np.testing.assert_allclose(a1.influence(["work", "studies"], t), -km.influence(t), atol=1e-12)
    # the sum of the two causes' influences is the influence of their sum
    np.testing.assert_allclose(a1.influence("work", t) + a1.influence("studies", t),
                               a1.influence(["work", "studies"], t), atol=1e-12)


def test_cause_labels_ints_and_none(rossi: pd.DataFrame) -> None:
    codes = np.where(rossi["arrest"] == 1, np.where(rossi["fin"] == 1, 1, 2), 0)
    labels = pd.Series(np.where(codes == 1, "work", np.where(codes == 2, "studies", None)))
    a = aalen_johansen(rossi["week"], codes)
    b = aalen_johansen(rossi["week"], labels)
    assert a.causes == (1, 2) and b.causes == ("studies", "work")
    np.testing.assert_allclose(a.cif(1)["estimate"], b.cif("work")["estimate"])


def test_influence_convention_variance_is_sum_of_squared_cluster_sums(rossi: pd.DataFrame) -> None:
    cl = rossi.index // 3
    w = 0.5 + (rossi.index % 5) / 4
    aj = aalen_johansen(rossi["week"], _cause(rossi), weights=w, cluster=cl)
    times = [8, 26, 52]
    U = aj.influence("work", times)
    agg = pd.DataFrame(U).groupby(cl.to_numpy()).sum().to_numpy()
    np.testing.assert_allclose(np.sqrt((agg ** 2).sum(axis=0)), aj.cif("work", times)["se"],
                               rtol=1e-10)


def test_cox_summary_shape(rossi: pd.DataFrame) -> None:
    cox = CoxPH().fit(rossi, "week", "arrest", cluster=None)
    s = cox.summary()
    assert list(s.columns) == ["term", "estimate", "se", "hazard_ratio", "ci_low", "ci_high",
                               "p_value"]
    assert s.attrs["cov_type"] == "naive" and s.attrs["conf_level"] == 0.95
    np.testing.assert_allclose(s["hazard_ratio"], np.exp(s["estimate"]))
    assert (s["ci_low"] < s["hazard_ratio"]).all() and (s["hazard_ratio"] < s["ci_high"]).all()
    assert re.match(r"CoxPH\(ties='efron', n=432", repr(cox))


def test_rmst_beyond_follow_up_and_aj_rmtl(rossi: pd.DataFrame) -> None:
    km = _km(rossi)
    out = km.rmst([30, 80])
    assert out["beyond_follow_up"].tolist() == [False, True]
    assert np.isnan(out.loc[1, "estimate"]) and np.isnan(km.rmst_influence([80])).all()
    # time lost to any cause + RMST of the all-cause curve = horizon
    aj = aalen_johansen(rossi["week"], _cause(rossi))
    lost = aj.rmtl(["work", "studies"], [30])
    assert lost["estimate"].item() + km.rmst([30])["estimate"].item() == pytest.approx(30)
    assert lost["se"].item() == pytest.approx(km.rmst([30])["se"].item(), rel=1e-10)


def test_logrank_needs_two_groups(rossi: pd.DataFrame) -> None:
    from impact.survival import logrank_test

    with pytest.raises(DataError, match="at least two groups"):
        logrank_test(rossi["week"], rossi["arrest"], np.zeros(len(rossi)))


def test_plots_return_axes(rossi: pd.DataFrame) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from impact.survival import plot_cif, plot_survival

    _, ax = plt.subplots()
    km = {g: _km(d) for g, d in rossi.groupby("fin")}
    assert plot_survival(km, ax=ax) is ax
    texts = [t.get_text() for t in ax.texts]
    assert "At risk" in texts and "216" in texts  # n at risk at time 0 per group
    aj = aalen_johansen(rossi["week"], _cause(rossi))
    ax2 = plot_cif(aj, causes={"work or studies": ["work", "studies"]})
    assert len(ax2.get_lines()) == 1
    assert km[0].plot() is not None and aj.plot() is not None
    _, ax3 = plt.subplots()
    assert km[0].plot(ax3) is ax3 and aj.plot(ax3, causes="work") is ax3  # ax first, positionally too
    plt.close("all")


def test_old_plot_order_warns_and_draws_the_same(rossi: pd.DataFrame) -> None:
    """``plot_cif(aj, causes)`` and ``aj.plot(causes)`` (the old order) warn and draw what the new order draws."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from impact.survival import plot_cif

    aj = aalen_johansen(rossi["week"], _cause(rossi))
    new = plot_cif(aj, causes=["work"])
    with pytest.warns(FutureWarning, match="'ax' is now the first parameter"):
        old = plot_cif(aj, ["work"])
    with pytest.warns(FutureWarning, match="AalenJohansen.plot"):
        old2 = aj.plot("work")
    for a in (old, old2):
        np.testing.assert_array_equal(a.get_lines()[0].get_xydata(), new.get_lines()[0].get_xydata())
    plt.close("all")
