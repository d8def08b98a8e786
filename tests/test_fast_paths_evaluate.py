"""The fast paths behind ``impact.evaluate`` at register scale (issue 14, point 4) give what the
value-by-value code gave: the same messages, positions, counts, orders and numbers.

Oracle: each fast path against the code it replaced, kept here (or in the library as the fallback)
as the reference, on small inputs built to hit the edge cases (missing values, mixed types, text
dtypes, categorical levels, ties, bad rows).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import impact
from impact import DataError
from impact.data import Flow, Roles, ValidationError, require_subgroup_levels, validate
from impact.data._flow import _counts, _counts_pandas
from impact.data._roles import _numbers_as_text, _numbers_as_text_rows
from impact.effects._effects import _level_masks
from impact.outcomes import CENSORED, COMPETING, EVENT, time_to_event
from impact.pipeline._evaluate import _period_labels
from impact.survival import AFT, CoxPH
from impact.survival import _partial
from impact.survival._partial import _time_order


@pytest.fixture(scope="module")
def sim():
    return impact.simulate(n_pool=800, random_state=21)


# ---- validate ------------------------------------------------------------------------------------

def _error_fields(err):
    return None if err is None else (str(err), err.column, err.rule, tuple(err.positions), err.n_rows, err.fix)


TEXT_CASES = {
    "decimal comma": ["35,5", "40,0", None, "41,25", "35,5"] * 4,
    "unit": ["35 år", " 40 år ", "41 år", np.nan, "12 %"] * 4,
    "thousands": ["1 200", "3 400", "12", "5 600 000", "7"] * 4,
    "point": ["1.5", "2.25", "3", "4", "1.5"] * 4,
    "mixed objects": [1, 1.0, True, "2.5", "3.5", "4.5", "5.5", "6,5", "7", "8"] * 2,
    "too few numbers": ["a", "b", "c", "1,5", "d"] * 4,
    "integer codes": ["1280", "0180", "1280", "0114", None] * 4,
    "all missing": [None, np.nan, None, None] * 5,
    "words": ["north", "south", "east", "west"] * 5,
}


@pytest.mark.parametrize("case", list(TEXT_CASES))
@pytest.mark.parametrize("dtype", [object, "string"])
def test_numbers_as_text_on_distinct_values_equals_row_by_row(case, dtype):
    values = TEXT_CASES[case]
    if dtype == "string" and any(not isinstance(v, str) and v is not None and not
                                 (isinstance(v, float) and np.isnan(v)) for v in values):
        pytest.skip("a text dtype holds only strings")
    col = pd.Series(values, dtype=dtype, index=np.arange(100, 100 + len(values)))
    fast = _numbers_as_text(col, "x")
    slow = _numbers_as_text_rows(col, "x", col.notna().to_numpy())
    assert _error_fields(fast) == _error_fields(slow)
    if case in ("decimal comma", "unit", "thousands", "point"):
        assert fast is not None     # the case does reach the error


def test_validate_messages_and_positions_unchanged(sim):
    bad = sim.registers.copy()
    bad.loc[bad.index[[2, 7]], "person_id"] = bad["person_id"].iloc[11]   # duplicates at 2, 7, 11
    bad.loc[bad.index[[5]], "person_id"] = None                            # a missing id
    bad["education"] = bad["education"].astype(object)
    bad.loc[bad.index[[3]], "education"] = None
    bad["district"] = bad["age"].map(lambda v: f"{v},5")                   # numbers with a decimal comma
    with pytest.raises(ValidationError) as info:
        validate(bad, sim.roles)
    p = info.value.problems.set_index("rule")
    dup = p.loc["duplicate identifiers (each person must appear once)"]
    assert dup["first_positions"] == (2, 7, 11) and dup["n_rows"] == 3
    assert p.loc["missing identifiers", "first_positions"] == (5,)
    text = p[p["column"] == "district"].iloc[0]
    assert text["n_rows"] == len(bad) and text["first_positions"] == (0, 1, 2, 3, 4)
    assert f"as text it would become {bad['district'].nunique()} categories" in text.name
    assert f"(e.g. '{bad['district'].iloc[0]}')" in text.name
    miss = p[p["column"] == "education"].iloc[0]
    assert miss["first_positions"] == (3,) and "'education' (1)" in miss.name


def test_unique_ids_pass_and_the_flow_counts_match(sim):
    v = validate(sim.registers, sim.roles)
    t = sim.registers["participant"]
    table = v.flow.table()
    assert table.loc["eligible", "treated"] == int((t == 1).sum())
    assert table.loc["eligible", "control"] == int((t == 0).sum())


FLOW_FRAMES = {
    "int treatment, text subgroup": pd.DataFrame({"t": [1, 0, 0, 1, 0, 1], "s": list("fmfmff")}),
    "bool treatment, missing subgroup": pd.DataFrame({"t": [True, False, True, False, True, False],
                                                      "s": ["f", None, "m", "m", np.nan, "f"]}),
    "other treatment codes": pd.DataFrame({"t": [1, 0, 2, np.nan, 0, 1], "s": [1, 2, 1, 2, 2, 1]}),
    "float subgroup": pd.DataFrame({"t": [1, 0, 0, 1], "s": [1.0, 2.0, np.nan, 1.0]}),
    "no controls": pd.DataFrame({"t": [1, 1, 1], "s": list("fmf")}),
    "categorical subgroup": pd.DataFrame({"t": [1, 0, 0, 1],
                                          "s": pd.Categorical(list("ffmf"), categories=["f", "m", "x"])}),
    "colliding names": pd.DataFrame({"t": [1, 0, 0, 1], "s": pd.Series([1, "1", 2, 1], dtype=object)}),
}


@pytest.mark.parametrize("frame", list(FLOW_FRAMES))
@pytest.mark.parametrize("treatment, subgroup", [("t", "s"), ("t", None), (None, "s"), ("t", "absent")])
def test_flow_counts_by_bincount_equal_pandas(frame, treatment, subgroup):
    df = FLOW_FRAMES[frame]
    assert _counts(df, treatment, subgroup) == _counts_pandas(df, treatment, subgroup)


def test_flow_add_same_frame_once():
    df = FLOW_FRAMES["int treatment, text subgroup"]
    a = Flow().add("eligible", "rows", df, df, treatment="t", subgroup="s").to_frame()
    b = Flow().add("eligible", "rows", df, df.copy(), treatment="t", subgroup="s").to_frame()
    pd.testing.assert_frame_equal(a, b)


def _levels_reference(data, subgroup, treatment, step="after matching"):
    """require_subgroup_levels as it was (two comparisons per level)."""
    levels = sorted(pd.unique(data[subgroup]).tolist(), key=str)
    for lev in levels:
        rows = data[subgroup] == lev
        nt = int((data.loc[rows, treatment] == 1).sum())
        nc = int((data.loc[rows, treatment] == 0).sum())
        if nt == 0 or nc == 0:
            raise DataError(f"Column '{subgroup}': subgroup {lev!r} is empty {step} "
                            f"({nt} treated, {nc} controls); its effect cannot be estimated. "
                            "Drop the subgroup from `by`, or loosen the caliper.",
                            column=subgroup, rule="subgroup must have treated and controls")
    return levels


@pytest.mark.parametrize("s", [list("fmmfmf"), [2, 1, 10, 2, 1, 10], [True, False, True, False, True, False],
                               list("fmxfmf"), ["f", "m", None, "f", "m", "f"], [1.5, 2.5, 1.5, 2.5, 1.5, 2.5]])
def test_subgroup_levels_from_one_factorisation(s):
    data = pd.DataFrame({"t": [1, 0, 1, 0, 0, 1], "s": pd.Series(s, dtype=object if None in s else None)})
    try:
        expected = _levels_reference(data, "s", "t")
    except DataError as exc:
        with pytest.raises(DataError) as info:
            require_subgroup_levels(data, "s", "t")
        assert str(info.value) == str(exc)
        return
    got = require_subgroup_levels(data, "s", "t")
    assert got == expected and [type(v) for v in got] == [type(v) for v in expected]
    masks = _level_masks(data["s"], got)
    for lev, mask in zip(got, masks):
        np.testing.assert_array_equal(mask, (data["s"] == lev).to_numpy())


# ---- outcomes ------------------------------------------------------------------------------------

def _tte_reference(data, roles):
    """time_to_event(clock="own") as it was: pandas datetime arithmetic."""
    df = data.copy()
    start = pd.to_datetime(df[roles.start]).dt.normalize()
    exit_date = pd.to_datetime(df[roles.exit_date]).dt.normalize()
    cutoff = (pd.to_datetime(df[roles.cutoff]).dt.normalize() if roles.cutoff_is_column(df)
              else pd.Series(pd.Timestamp(roles.cutoff).normalize(), index=df.index))
    exit_type = df[roles.exit_type]
    observed = exit_date.notna() & (exit_date <= cutoff)
    end = exit_date.where(observed, cutoff)
    role = exit_type.map(roles.exit_codes)
    event = np.where(~observed, CENSORED, np.where(role == "event", EVENT, COMPETING))
    df["analysis_start"] = start
    df["duration"] = ((end - start).dt.days + 1).astype(np.int64)
    df["event"] = event.astype(np.int8)
    df["exit_cause"] = exit_type.where(observed, "censored").astype(object)
    return df


@pytest.mark.parametrize("exit_dtype", [object, "string"])
@pytest.mark.parametrize("cutoff_column", [False, True])
def test_time_to_event_on_day_numbers_equals_datetime_arithmetic(sim, exit_dtype, cutoff_column):
    data = sim.registers.copy()
    data["exit_type"] = data["exit_type"].astype(exit_dtype)
    roles = sim.roles
    if cutoff_column:
        data["cut"] = pd.Timestamp("2022-06-30") + pd.to_timedelta(np.arange(len(data)) % 90, unit="D")
        data["start_date"] = data["start_date"].where(data["start_date"] <= data["cut"], data["cut"])
        data.loc[data["exit_date"] < data["start_date"], ["exit_date", "exit_type"]] = None
        roles = Roles(**{**roles.__dict__, "cutoff": "cut"})
    got = time_to_event(data, roles)
    pd.testing.assert_frame_equal(got, _tte_reference(data, roles))
    assert set(got["event"]) == {CENSORED, EVENT, COMPETING}


def test_time_to_event_errors_unchanged(sim):
    data = sim.registers.copy()
    i = np.flatnonzero(data["exit_date"].notna().to_numpy())[[1, 4]]
    data.loc[data.index[i], "exit_date"] = data["start_date"].iloc[i] - pd.Timedelta(days=3)
    with pytest.raises(DataError, match=rf"exit before the start date; 2 rows \(positions {i[0]}, {i[1]}\)"):
        time_to_event(data, sim.roles)
    late = sim.registers.assign(start_date=sim.registers["start_date"].where(
        np.arange(len(sim.registers)) != 6, pd.Timestamp("2023-01-01")))
    with pytest.raises(DataError, match=r"clock starts after the data cut-off; 1 row \(position 6\)"):
        time_to_event(late, sim.roles)


@pytest.mark.parametrize("freq", ["M", "Q", "Y"])
def test_period_labels_equal_astype_str(sim, freq):
    dates = sim.registers["start_date"]
    pd.testing.assert_series_equal(_period_labels(dates, freq), dates.dt.to_period(freq).astype(str))


# ---- survival ------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["days", "weeks as fractions", "half days", "int events", "strata", "one row"])
def test_time_order_is_the_lexsort(kind):
    rng = np.random.default_rng(3)
    n = 1 if kind == "one row" else 5000
    T = rng.integers(1, 400, n).astype(float)
    d = rng.integers(0, 2, n).astype(float)
    strata = np.zeros(n, dtype=np.int64)
    if kind == "weeks as fractions":
        T = T / 7
    elif kind == "half days":
        T = T + 0.5
    elif kind == "int events":
        d = d.astype(np.int8)
    elif kind == "strata":
        strata = rng.integers(0, 3, n)
    np.testing.assert_array_equal(_time_order(T, d, strata), np.lexsort((1.0 - d, T, strata)))


@pytest.fixture(scope="module")
def register_like():
    rng = np.random.default_rng(8)
    n = 40_000
    t = rng.integers(0, 2, n)
    x = rng.integers(0, 3, n)
    dur = np.ceil(rng.weibull(1.3, n) * 200 * np.exp(0.2 * t - 0.1 * x)).clip(1, 365)
    event = ((dur < 365) & (rng.random(n) < 0.7)).astype(int)
    return pd.DataFrame({"duration": dur, "event": event, "treated": t.astype(float), "x": x.astype(float),
                         "w": np.where(rng.random(n) < 0.5, 1.0, 2.0)})


@pytest.mark.parametrize("dist, robust, weights", [("weibull", True, None), ("weibull", None, "w"),
                                                   ("lognormal", False, "w"), ("lognormal", True, "w")])
def test_aft_on_distinct_rows_equals_every_row(register_like, monkeypatch, dist, robust, weights):
    kw = dict(duration="duration", event="event", covariates=["treated", "x"], weights=weights)
    fast = AFT(dist=dist, robust=robust).fit(register_like, **kw)
    monkeypatch.setattr(_partial, "DISTINCT_MIN_ROWS", 10**9)
    slow = AFT(dist=dist, robust=robust).fit(register_like, **kw)
    np.testing.assert_allclose(fast.params_, slow.params_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fast.cov_full_, slow.cov_full_, rtol=1e-9)
    np.testing.assert_allclose(fast.naive_cov_full_, slow.naive_cov_full_, rtol=1e-9)
    assert fast.loglik_ == pytest.approx(slow.loglik_, rel=1e-12)
    assert (fast.cov_type_, fast.n_, fast.n_events_, fast.n_iter_, fast.notes_) == \
        (slow.cov_type_, slow.n_, slow.n_events_, slow.n_iter_, slow.notes_)


def test_distinct_rows_found(register_like):
    cols = [register_like[c].to_numpy() for c in ("duration", "event", "w", "treated", "x")]
    first, count = _partial.distinct_rows(cols)
    assert count.sum() == len(register_like) and first.size < len(register_like) // 4
    key = register_like.iloc[first][["duration", "event", "w", "treated", "x"]]
    assert not key.duplicated().any()
    sizes = register_like.groupby(["duration", "event", "w", "treated", "x"]).size()
    assert sizes.loc[list(key.itertuples(index=False, name=None))].to_numpy().tolist() == count.tolist()
    assert _partial.distinct_rows([c[:1000] for c in cols]) is None          # too few rows
    assert _partial.distinct_rows(cols + [np.arange(len(register_like), dtype=float)]) is None  # all distinct


@pytest.mark.parametrize("ties, robust, weights, strata", [("efron", True, None, None), ("efron", None, "w", "x"),
                                                           ("breslow", False, "w", None), ("efron", True, "w", None)])
def test_cox_on_distinct_rows_equals_every_row(register_like, monkeypatch, ties, robust, weights, strata):
    kw = dict(duration="duration", event="event", covariates=["treated"] + ([] if strata else ["x"]),
              weights=weights, strata=strata)
    fast = CoxPH(ties=ties, robust=robust).fit(register_like, **kw)
    assert fast._pl_rows is not None          # fitted on the distinct rows
    monkeypatch.setattr(_partial, "DISTINCT_MIN_ROWS", 10**9)
    slow = CoxPH(ties=ties, robust=robust).fit(register_like, **kw)
    np.testing.assert_allclose(fast.params_, slow.params_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(fast.cov_, slow.cov_, rtol=1e-9)
    np.testing.assert_allclose(fast.naive_cov_, slow.naive_cov_, rtol=1e-9)
    assert fast.loglik_ == pytest.approx(slow.loglik_, rel=1e-12)
    assert fast.loglik_null_ == pytest.approx(slow.loglik_null_, rel=1e-12)
    assert (fast.cov_type_, fast.n_, fast.n_events_, fast.n_iter_, fast.notes_) == \
        (slow.cov_type_, slow.n_, slow.n_events_, slow.n_iter_, slow.notes_)
    # what reads the fit row by row sees every row
    np.testing.assert_allclose(fast.dfbeta(), slow.dfbeta(), rtol=1e-8, atol=1e-14)
    pd.testing.assert_frame_equal(fast.zph().table, slow.zph().table, rtol=1e-8)


def test_aft_with_clusters_uses_every_row(register_like):
    data = register_like.assign(pair=np.arange(len(register_like)) // 2)
    assert AFT().fit(data, "duration", "event", ["treated"], cluster="pair").cov_type_ == "cluster"
