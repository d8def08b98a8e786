"""Risk-set matching for rolling entry. Oracle: the defining properties of a risk set (who may be
a candidate when), checked row by row on a simulated panel, and row-order invariance."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pandas as pd
import pytest

from impact import DataError
from impact.design import match_riskset


def make_panel(n_people: int = 3000, n_periods: int = 12, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pid = np.arange(n_people)
    female = rng.integers(0, 2, n_people)
    age = rng.integers(20, 60, n_people)
    hazard = 1 / (1 + np.exp(-(-4.5 + 0.03 * (age - 40) + 0.3 * female)))
    entry = np.full(n_people, np.nan)
    exit_ = np.full(n_people, n_periods + 1.0)  # leaves unemployment (no longer eligible)
    for p in range(1, n_periods + 1):
        free = np.isnan(entry) & (exit_ > p)
        entry[free & (rng.random(n_people) < hazard)] = p
        leaves = free & np.isnan(entry) & (rng.random(n_people) < 0.05)
        exit_[leaves] = p
    rows = []
    for p in range(1, n_periods + 1):
        rows.append(pd.DataFrame({"pid": pid, "month": p, "entry": entry, "gender": np.where(female, "f", "m"),
                                  "age": age, "months_unemployed": p + rng.integers(0, 24, n_people),
                                  "eligible": exit_ > p}))
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def panel() -> pd.DataFrame:
    return make_panel()


@pytest.mark.parametrize("estimand", ["join_vs_wait", "join_vs_never"])
def test_riskset_defining_properties(panel, estimand):
    m = match_riskset(panel, id="pid", period="month", entry="entry",
                      covariates=["age", "months_unemployed"], eligible="eligible", exact="gender",
                      caliper=0.2, estimand=estimand)
    md = m.matched_data
    tr = md[md["entering"] == 1]
    co = md[md["entering"] == 0]
    # participants are matched at their own start, with their record of that month
    assert (tr["month"] == tr["entry"]).all()
    # controls: eligible in the set's month and not entered yet (a later entrant is allowed)
    assert co["eligible"].all()
    assert (co["entry"].isna() | (co["entry"] > co["index_date"])).all()
    assert (co["entry"] > co["index_date"]).any()  # later participants do serve as controls
    # exact on month and gender within each set; one treated and one control per set
    g = md.groupby("subclass")
    assert (g["month"].nunique() == 1).all() and (g["gender"].nunique() == 1).all()
    assert (g["entering"].sum() == 1).all() and (g.size() == 2).all()
    # nobody twice in one month; reuse across months is counted
    assert not co.duplicated(["pid", "month"]).any()
    assert (co.groupby("pid").size() == co.groupby("pid")["times_used"].first()).all()
    if estimand == "join_vs_never":
        assert (co["censor_at"].dropna() == co.loc[co["censor_at"].notna(), "entry"]).all()
        assert co["censor_at"].notna().sum() == co["entry"].notna().sum()
    else:
        assert co["censor_at"].isna().all()
    # every participant with an eligible row at entry is either matched or counted unmatched
    starters = panel[(panel["entry"] == panel["month"]) & panel["eligible"]]
    assert len(tr) + m.n_unmatched == len(starters)
    assert (m.matched_pairs["distance_diff"] <= m.settings["caliper_width"]).all()


def test_riskset_row_order_invariance(panel):
    kw = dict(id="pid", period="month", entry="entry", covariates=["age", "months_unemployed"],
              eligible="eligible", exact="gender", caliper=0.2)
    a = match_riskset(panel, **kw).matched_data
    b = match_riskset(panel.sample(frac=1, random_state=1), **kw).matched_data
    pd.testing.assert_frame_equal(a.sort_index(), b.sort_index())


def test_riskset_rejects_two_entry_periods(panel):
    from impact import DataError
    bad = panel.copy()
    bad.loc[(bad["pid"] == 0) & (bad["month"] == 3), "entry"] = 5
    bad.loc[(bad["pid"] == 0) & (bad["month"] == 4), "entry"] = 6
    with pytest.raises(DataError, match="Column 'entry': a person's entry period must be the same"):
        match_riskset(bad, id="pid", period="month", entry="entry", covariates=["age"])


# -- reuse="never": a person is a control in at most one matched set (Li, Propert and Rosenbaum) ----
@pytest.fixture(scope="module")
def scarce_panel() -> pd.DataFrame:
    """Many participants for few candidates, so that using a control once changes later periods."""
    rng = np.random.default_rng(11)
    n, periods = 300, 8
    entry = np.where(rng.random(n) < 0.45, rng.integers(1, periods + 1, n), np.nan)
    rows = [pd.DataFrame({"pid": np.arange(n), "month": p, "entry": entry,
                          "gender": np.where(np.arange(n) % 2, "f", "m"),
                          "age": 20 + np.arange(n) % 40, "months_unemployed": p + np.arange(n) % 7,
                          "eligible": rng.random(n) < 0.9}) for p in range(1, periods + 1)]
    return pd.concat(rows, ignore_index=True)


def _sequential_by_hand(m, caliper_width: float) -> set[tuple]:
    """Oracle: match period by period with impact.match on the period's risk set, minus everyone
    already used as a control, on the same score and caliper width."""
    import impact

    d = m.data.assign(score=m.distance)
    used: set = set()
    out = set()
    for month in sorted(d["month"].unique()):
        rs = d[(d["month"] == month) & ~((d["entering"] == 0) & d["pid"].isin(used))]
        if rs["entering"].sum() == 0 or (rs["entering"] == 0).sum() == 0:
            continue
        with _quiet():
            r = impact.match(rs, "entering", [], distance="score", caliper=caliper_width,
                             std_caliper=False, exact=["gender"], id="pid")
        p = r.matched_pairs
        tp = rs["pid"].to_numpy()
        for t, c in zip(p["treated_pos"], p["control_pos"]):
            out.add((month, tp[t], tp[c]))
            used.add(tp[c])
    return out


@contextlib.contextmanager
def _quiet():
    """Short-supply warnings are expected on these scarce data."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _pairs_of(m) -> set[tuple]:
    md = m.data
    pid = md["pid"].to_numpy()
    month = md["month"].to_numpy()
    pos = pd.Series(np.arange(len(m.positions)), index=m.positions)
    p = m.matched_pairs
    t = pos.loc[p["treated_pos"]].to_numpy()
    c = pos.loc[p["control_pos"]].to_numpy()
    return set(zip(month[t], pid[t], pid[c]))


def test_riskset_reuse_never_is_sequential_matching_without_reuse(scarce_panel):
    kw = dict(id="pid", period="month", entry="entry", covariates=["age", "months_unemployed"],
              eligible="eligible", exact="gender", caliper=0.5, estimand="join_vs_never")
    with _quiet():
        never = match_riskset(scarce_panel, reuse="never", **kw)
        across = match_riskset(scarce_panel, **kw)
    co = never.matched_data[never.matched_data["entering"] == 0]
    # the defining property: nobody is a control twice, and the matched data say so
    assert not co["pid"].duplicated().any()
    assert (co["times_used"] == 1).all()
    assert (co["index_date"] == co["month"]).all()
    assert (co["censor_at"].dropna() == co.loc[co["censor_at"].notna(), "entry"]).all()
    # the default does reuse controls on these data, so the option changes something
    co_a = across.matched_data[across.matched_data["entering"] == 0]
    assert co_a["pid"].duplicated().any() and co_a["times_used"].max() > 1
    # oracle: the same pairs as matching period by period, removing each used control
    assert _pairs_of(never) == _sequential_by_hand(never, never.settings["caliper_width"])
    # participants left unmatched: counted per period in the flow, listed with their reason
    un = never.unmatched
    assert len(un) == never.n_unmatched > across.n_unmatched
    fl = never.flow.to_frame()
    tr = fl[(fl["treatment"] == "treated") & (fl["subgroup"] != "all") & (fl["step"] != "at risk at entry")]
    by_month = tr.groupby("subgroup")["n_dropped"].sum()
    expect = un.groupby(un["month"].astype(str)).size()
    pd.testing.assert_series_equal(by_month[by_month > 0], expect, check_names=False)
    assert set(un["reason"]) <= {"no control in the same exact stratum",
                                 "no control within the caliper",
                                 "every control within the caliper already used by other treated units"}
    assert (scarce_panel["entry"].to_numpy()[un["position"]] == un["month"].to_numpy()).all()
    # participants not at risk in their own entry month leave the flow at its first step, per month
    first = fl[fl["step"] == "at risk at entry"]
    entered = scarce_panel.drop_duplicates("pid").dropna(subset=["entry"])
    starters = scarce_panel[(scarce_panel["entry"] == scarce_panel["month"]) & scarce_panel["eligible"]]
    n_lost = len(entered) - len(starters)
    assert n_lost > 0
    row = first[(first["treatment"] == "treated") & (first["subgroup"] == "all")].iloc[0]
    assert row.n_in == len(entered) and row.n_dropped == n_lost
    assert set(first["subgroup"]) <= {"all", *map(str, range(1, 9))}
    assert (first[first["treatment"] == "control"]["n_dropped"] == 0).all()
    assert never.settings["reuse"] == "never"


def test_riskset_reuse_never_row_order_invariance(scarce_panel):
    kw = dict(id="pid", period="month", entry="entry", covariates=["age", "months_unemployed"],
              eligible="eligible", exact="gender", caliper=0.5, reuse="never")
    with _quiet():
        a = match_riskset(scarce_panel, **kw).matched_data
        b = match_riskset(scarce_panel.sample(frac=1, random_state=2), **kw).matched_data
    pd.testing.assert_frame_equal(a.sort_index(), b.sort_index())


def test_riskset_rejects_unknown_reuse(panel):
    from impact import ParameterError
    with pytest.raises(ParameterError, match="'reuse' parameter of match_riskset"):
        match_riskset(panel, id="pid", period="month", entry="entry", covariates=["age"],
                      reuse="once")


def test_riskset_is_match_on_the_stacked_risk_sets(panel):
    """Oracle: the definition. Risk-set matching is ``match`` on the stacked risk sets (rows at
    risk, 1 = enters that month), exact on the month, ties broken on (person, month): the same
    engine, so the same pairs, weights, sample sizes and flow steps after the at-risk step."""
    import impact

    kw = dict(covariates=["age", "months_unemployed"], caliper=0.2)
    m = match_riskset(panel, id="pid", period="month", entry="entry", eligible="eligible",
                      exact="gender", **kw)
    at_risk = (panel["entry"].isna() | (panel["entry"] >= panel["month"])) & panel["eligible"]
    rs = panel[at_risk].assign(entering=(panel["entry"] == panel["month"]).astype(np.int8))
    rs = rs.assign(key=rs["pid"] * 100 + rs["month"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = impact.match(rs, "entering", exact=["month", "gender"], id="key", subgroup="month", **kw)
    cols = ["subclass", "treated", "control", "round", "distance_diff"]
    pd.testing.assert_frame_equal(m.matched_pairs[cols], ref.matched_pairs[cols])
    rows = np.flatnonzero(at_risk.to_numpy())
    assert (m.matched_pairs["treated_pos"].to_numpy() == rows[ref.matched_pairs["treated_pos"]]).all()
    np.testing.assert_array_equal(m.weights, ref.weights)
    pd.testing.assert_frame_equal(m.sample_sizes, ref.sample_sizes)
    steps = m.flow.to_frame()
    pd.testing.assert_frame_equal(steps[steps["step"] != "at risk at entry"].reset_index(drop=True),
                                  ref.flow.to_frame())
    assert m.method == "riskset" and m.settings["method"] == "riskset" and m.settings["id"] == "pid"


def test_riskset_old_panel_keyword_warns_and_gives_the_same_result(panel):
    kw = dict(id="pid", period="month", entry="entry", covariates=["age"], caliper=0.2)
    new = match_riskset(data=panel, **kw)
    with pytest.warns(FutureWarning, match="'panel' parameter of match_riskset is now called 'data'"):
        old = match_riskset(panel=panel, **kw)
    pd.testing.assert_frame_equal(new.matched_data, old.matched_data)


@pytest.fixture(scope="module")
def wide_panel(panel) -> pd.DataFrame:
    p = panel.copy()
    p["region"] = np.where(p["pid"] % 3 == 0, "north", np.where(p["pid"] % 3 == 1, "south", "west"))
    p["flag"] = (p["months_unemployed"] > 12)
    return p


@pytest.mark.parametrize("kw", [dict(), dict(ratio=2, exact="gender"), dict(caliper=None, estimand="join_vs_never"),
                                dict(eligible="eligible")])
def test_periods_matched_apart_and_lean_score_equal_the_engine(wide_panel, monkeypatch, kw):
    """Oracle: the engine's own path (one greedy sweep over every period at once, the score fitted
    by fit_propensity from expand_covariates). match_riskset matches each period as its own joblib
    task and fits the pooled score from a matrix written in blocks: every field of the result
    must be the same, and the same again with two workers."""
    import impact.design._riskset as RS

    args = dict(id="pid", period="month", entry="entry", covariates=["age", "months_unemployed", "region", "flag"],
                **kw)
    fast = match_riskset(wide_panel, **args)
    monkeypatch.setattr(RS, "_LEAN", False)
    monkeypatch.setattr(RS, "_per_period", lambda design: False)
    slow = match_riskset(wide_panel, **args)
    monkeypatch.undo()
    for m in (fast, match_riskset(wide_panel, n_jobs=2, **args)):
        pd.testing.assert_frame_equal(m.matched_data, slow.matched_data)
        pd.testing.assert_frame_equal(m.matched_pairs, slow.matched_pairs)
        pd.testing.assert_frame_equal(m.unmatched, slow.unmatched)
        pd.testing.assert_frame_equal(m.flow.to_frame(), slow.flow.to_frame())
        pd.testing.assert_frame_equal(m.propensity.coefficients, slow.propensity.coefficients)
        for f in ("weights", "subclass", "distance", "positions"):
            np.testing.assert_array_equal(getattr(m, f), getattr(slow, f))
        assert (m.notes, m.settings, m.propensity.kind, m.propensity.description, m.propensity.loglik) == \
            (slow.notes, slow.settings, slow.propensity.kind, slow.propensity.description, slow.propensity.loglik)
    assert fast.propensity.kind == "glm" and len(fast.matched_data) > 100


def test_matching_frame_shares_the_panels_columns(panel):
    """With every row at risk (as risk_sets builds them) the matching frame shares the panel's
    columns instead of copying them; the caller's panel is left as it was."""
    p = panel[panel["entry"].isna() | (panel["entry"] >= panel["month"])].reset_index(drop=True)
    before = p.copy()
    m = match_riskset(p, id="pid", period="month", entry="entry", covariates=["age", "months_unemployed"])
    assert np.shares_memory(m.data["age"].to_numpy(), p["age"].to_numpy())
    pd.testing.assert_frame_equal(p, before)
    assert "entering" not in p.columns


def test_entry_must_be_constant_per_person_named_by_rows(panel):
    p = panel.copy()
    p.loc[(p["pid"] == 7) & (p["month"] == 3), "entry"] = 5.0
    p.loc[(p["pid"] == 7) & (p["month"] == 4), "entry"] = 6.0
    with pytest.raises(DataError, match="a person's entry period must be the same on all its rows") as err:
        match_riskset(p, id="pid", period="month", entry="entry", covariates=["age"])
    rows = np.flatnonzero((p["pid"] == 7).to_numpy())
    assert list(err.value.positions) == rows[:5].tolist()
