"""Risk-set matching for rolling entry. Oracle: the defining properties of a risk set (who may be
a candidate when), checked row by row on a simulated panel, and row-order invariance."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

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
