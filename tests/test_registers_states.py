"""Time in states from the register (issue 12 point 2): days in work or studies, benefit months after the index.

Oracles: hand-computed small cases (each expected value is written as a difference of calendar
dates) and, on the bundled synthetic extract, a slow per-person reference loop over the raw
tables with Python dates.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

import impact
from impact._errors import DataError, ParameterError
from impact.registers import DEFAULT_CODES, RegisterExtract, benefit_column, time_in_states, work_column

CUTOFF = "2021-12-31"


def d(s: str) -> date:
    return date.fromisoformat(s)


def days(a: str, b: str) -> float:
    """Days from a (inclusive) to b (exclusive)."""
    return float((d(b) - d(a)).days)


def _extract(spells: list[tuple[str, str, str | None, str | None]], benefits: list[tuple[str, str]] | None = None,
             cutoff: str = CUTOFF) -> RegisterExtract:
    ids = sorted({s[0] for s in spells})
    persons = pd.DataFrame({"person_id": ids, "gender": ["female"] * len(ids), "birth_year": [1980] * len(ids)})
    sp = pd.DataFrame(spells, columns=["person_id", "registered", "deregistered", "code"])
    # a programme start inside a spell open on it
    first = sp.iloc[[0]]
    programme = pd.DataFrame({"person_id": [first["person_id"].iloc[0]], "start": [first["registered"].iloc[0]]})
    ben = {}
    if benefits is not None:
        ben = {"economic_assistance": pd.DataFrame(benefits, columns=["person_id", "month"])}
    return RegisterExtract(persons=persons, spells=sp, programme=programme, cutoff=cutoff, benefits=ben)


def _index(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["person_id", "index_date"])


# --- hand-computed cases ------------------------------------------------------------------------------

SPELLS = [
    # a: work (11) then re-registration, studies (31) then re-registration, then open
    ("a", "2021-01-01", "2021-03-01", "11"), ("a", "2021-04-01", "2021-05-01", "31"), ("a", "2021-06-01", None, None),
    # b: deregistered to work and never back: the gap runs through the cut-off day
    ("b", "2021-01-01", "2021-06-01", "12"),
    # c: one spell open at the cut-off
    ("c", "2021-01-01", None, None),
    # d: a competing exit (unknown reason) is not work
    ("d", "2021-01-01", "2021-03-01", "90"), ("d", "2021-05-01", None, None),
    # e: work gaps that end before the index date
    ("e", "2020-01-01", "2020-03-01", "11"), ("e", "2020-06-01", "2020-09-01", "11"), ("e", "2021-01-01", None, None),
    # f: in a work gap on the index date (not registered then)
    ("f", "2020-10-01", "2021-01-01", "11"), ("f", "2021-03-01", None, None),
]


@pytest.fixture(scope="module")
def ext() -> RegisterExtract:
    return _extract(SPELLS)


def test_gaps_and_reregistration(ext):
    out = time_in_states(ext, _index([("a", "2021-02-01")]), horizons=[200], months=None)
    # the two gaps [03-01, 04-01) and [05-01, 06-01), both inside [02-01, 02-01 + 200)
    assert out[work_column(200)].iloc[0] == days("2021-03-01", "2021-04-01") + days("2021-05-01", "2021-06-01")


def test_gap_straddling_the_window_end(ext):
    out = time_in_states(ext, _index([("a", "2021-02-01")]), horizons=[40], months=None)
    end = (d("2021-02-01") + timedelta(days=40)).isoformat()          # 2021-03-13
    assert out["days_in_work_40"].iloc[0] == days("2021-03-01", end) == 12.0


def test_open_gap_runs_through_the_cutoff_day_and_incomplete_windows_are_missing(ext):
    t = "2021-01-15"
    full = int(days(t, "2022-01-01"))                                  # the window that ends with the cut-off day
    # a second, earlier row observes the longest window (a horizon no row observes is an error)
    out = time_in_states(ext, _index([("b", t), ("b", "2021-01-05")]), horizons=[300, full, full + 1], months=None)
    end300 = (d(t) + timedelta(days=300)).isoformat()
    assert out["days_in_work_300"].iloc[0] == days("2021-06-01", end300)
    assert out[f"days_in_work_{full}"].iloc[0] == days("2021-06-01", "2022-01-01")   # cut-off day counted
    assert np.isnan(out[f"days_in_work_{full + 1}"].iloc[0])                          # passes the cut-off
    end = (d("2021-01-05") + timedelta(days=full + 1)).isoformat()
    assert out[f"days_in_work_{full + 1}"].iloc[1] == days("2021-06-01", end)
    assert out["follow_up_days"].tolist() == [full, full + 10]


def test_open_spell_and_competing_exit_are_not_work(ext):
    out = time_in_states(ext, _index([("c", "2021-01-10"), ("d", "2021-01-10")]), horizons=[300], months=None)
    assert out["days_in_work_300"].tolist() == [0.0, 0.0]


def test_nothing_dated_before_the_index_date_counts(ext):
    out = time_in_states(ext, _index([("e", "2021-02-01"), ("f", "2021-02-01")]), horizons=[100], months=None)
    assert out["days_in_work_100"].iloc[0] == 0.0                      # e's gaps are all before the index date
    assert out["days_in_work_100"].iloc[1] == days("2021-02-01", "2021-03-01")   # f's gap counts from the index date
    # changing what happened before the index date changes nothing: e's earlier exits as unknown reason
    other = time_in_states(ext, _index([("e", "2021-02-01")]), horizons=[100], months=None,
                           codes=DEFAULT_CODES.with_roles({"11": "competing"}))
    assert other["days_in_work_100"].iloc[0] == 0.0
    # the same person, index date before its gaps: they count
    early = time_in_states(ext, _index([("e", "2020-01-15")]), horizons=[365], months=None)
    assert early["days_in_work_365"].iloc[0] == days("2020-03-01", "2020-06-01") + days("2020-09-01", "2021-01-01")


def test_several_rows_of_one_person_and_order_kept(ext):
    idx = _index([("a", "2021-05-15"), ("b", "2021-01-15"), ("a", "2021-02-01")]).set_index(pd.Index([7, 3, 5]))
    out = time_in_states(ext, idx, horizons=[30], months=None)
    assert out.index.tolist() == [7, 3, 5]
    assert out["days_in_work_30"].tolist() == [days("2021-05-15", "2021-06-01"), 0.0,
                                            days("2021-03-01", "2021-03-03")]


def test_benefit_months_after_the_index_month():
    months = ["2020-12", "2021-01", "2021-02", "2021-06", "2021-12", "2022-01"]
    ext = _extract([("a", "2020-01-01", None, None)], benefits=[("a", m) for m in months], cutoff="2022-12-31")
    out = time_in_states(ext, _index([("a", "2021-01-20")]), horizons=None, months=12)
    # the index month (2021-01) and before do not count; 2021-02 .. 2022-01 do: 02, 06, 12 and 2022-01
    assert out[benefit_column("economic_assistance", 12)].iloc[0] == 4.0
    out = time_in_states(ext, _index([("a", "2021-01-20")]), horizons=None, months=1)
    assert out["economic_assistance_months_after_1m"].iloc[0] == 1.0


def test_benefit_months_follow_up():
    ben = [("a", "2021-03")]
    # cut-off on the last day of December: December is observed
    ext = _extract([("a", "2020-01-01", None, None)], benefits=ben, cutoff="2021-12-31")
    out = time_in_states(ext, _index([("a", "2020-12-05"), ("a", "2021-01-05")]), horizons=None, months=12)
    assert out["economic_assistance_months_after_12m"].iloc[0] == 1.0
    assert np.isnan(out["economic_assistance_months_after_12m"].iloc[1])
    assert out["follow_up_months"].tolist() == [12, 11]
    # cut-off before the month's end: that month is not observed
    ext = _extract([("a", "2020-01-01", None, None)], benefits=ben, cutoff="2021-12-30")
    out = time_in_states(ext, _index([("a", "2020-12-05"), ("a", "2020-11-05")]), horizons=None, months=12)
    assert np.isnan(out["economic_assistance_months_after_12m"].iloc[0])
    assert out["economic_assistance_months_after_12m"].iloc[1] == 1.0


def test_named_errors(ext):
    with pytest.raises(ParameterError, match="beyond follow-up"):
        time_in_states(ext, _index([("a", "2021-02-01")]), horizons=[400], months=None)
    with pytest.raises(ParameterError, match="The 'horizons' parameter of time_in_states"):
        time_in_states(ext, _index([("a", "2021-02-01")]), horizons=[0])
    with pytest.raises(ParameterError, match="The 'horizons' parameter of time_in_states"):
        time_in_states(ext, _index([("a", "2021-02-01")]), horizons=-30)
    with pytest.raises(DataError, match="passes the cut-off") as err:
        time_in_states(ext, _index([("a", "2021-02-01"), ("b", "2021-06-01")]), horizons=[300], months=None,
                       incomplete="error")
    assert "position 1" in str(err.value)                      # names the row, never the id
    assert "'b'" not in str(err.value)
    with pytest.raises(DataError, match="ids that are not in the extract"):
        time_in_states(ext, _index([("zz", "2021-02-01")]), horizons=[30], months=None)
    with pytest.raises(ParameterError, match="benefits.*Valid"):
        time_in_states(ext, _index([("a", "2021-02-01")]), benefits="sickness")
    ben = _extract([("a", "2020-01-01", None, None)], benefits=[("a", "2021-03")], cutoff="2021-06-30")
    with pytest.raises(ParameterError, match="'months' parameter of time_in_states.*beyond follow-up"):
        time_in_states(ben, _index([("a", "2021-01-05")]), horizons=None, months=12)


def test_top_level_export():
    assert impact.time_in_states is time_in_states


# --- the bundled synthetic extract against a slow reference loop ----------------------------------------


def _reference_days(spells: pd.DataFrame, roles: dict, cutoff: date, pid: str, t: date, h: int) -> float:
    """Per person, with Python dates: each event exit starts a gap until the next registration."""
    own = spells[spells["person_id"] == pid].sort_values("registered")
    regs = [pd.Timestamp(x).date() for x in own["registered"]]
    deregs = [None if pd.isna(x) else pd.Timestamp(x).date() for x in own["deregistered"]]
    codes = list(own["code"])
    end_window = t + timedelta(days=h)
    if end_window > cutoff + timedelta(days=1):
        return float("nan")
    total = 0
    for i, (dr, code) in enumerate(zip(deregs, codes)):
        if dr is None or roles.get(str(code)) != "event":
            continue
        nxt = regs[i + 1] if i + 1 < len(regs) else cutoff + timedelta(days=1)
        lo, hi = max(dr, t), min(nxt, end_window)
        total += max(0, (hi - lo).days)
    return float(total)


def _reference_months(benefits: pd.DataFrame, pid: str, t: date, months: int) -> float:
    have = set(benefits.loc[benefits["person_id"] == pid, "month"])
    count = 0
    y, m = t.year, t.month
    for _ in range(months):
        m += 1
        if m > 12:
            y, m = y + 1, 1
        count += f"{y:04d}-{m:02d}" in have
    return float(count)


@pytest.fixture(scope="module")
def sim():
    return impact.synthetic.simulate_extract(n_persons=3000, random_state=12)


def test_bundled_data_agrees_with_a_per_person_loop(sim):
    ext = sim.extract
    idx = ext.programme.rename(columns={"start": "index_date"}).sample(150, random_state=0).reset_index(drop=True)
    out = time_in_states(ext, idx, horizons=[90, 365], months=12)
    roles = ext.codes.roles
    cutoff = ext.cutoff.date()
    ben = ext.benefits["economic_assistance"]
    n_work = 0
    for i, row in idx.iterrows():
        t = pd.Timestamp(row["index_date"]).date()
        for h in (90, 365):
            ref = _reference_days(ext.spells, roles, cutoff, row["person_id"], t, h)
            got = out.loc[i, f"days_in_work_{h}"]
            assert (np.isnan(ref) and np.isnan(got)) or ref == got, (i, h, ref, got)
            n_work += bool(ref > 0)
        ref_m = _reference_months(ben, row["person_id"], t, 12) if t.replace(day=1) <= date(2021, 10, 1) else np.nan
        got_m = out.loc[i, "economic_assistance_months_after_12m"]
        assert (np.isnan(ref_m) and np.isnan(got_m)) or ref_m == got_m, (i, ref_m, got_m)
    assert n_work > 20                                   # the comparison is not all zeros
    assert out["days_in_work_365"].notna().sum() > 50    # nor all missing


def test_controls_too_and_vectorised_speed(sim):
    """Every person at one index date: values bounded by the window, missing only past the cut-off."""
    ext = sim.extract
    idx = pd.DataFrame({"person_id": ext.persons["person_id"], "index_date": "2021-03-01"})
    out = time_in_states(ext, idx, horizons=[365], months=12)
    v = out["days_in_work_365"]
    assert v.notna().all() and (v >= 0).all() and (v <= 365).all() and (v > 0).any()
    assert out["economic_assistance_months_after_12m"].between(0, 12).all()
