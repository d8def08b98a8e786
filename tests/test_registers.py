"""The register adapter: risk sets with covariates as known on the date, exit codes, outcomes, flow.

Oracles: hand-computed values on a tiny extract (days counted on a calendar); metamorphic
relations (changing or deleting everything dated on or after the index date leaves the covariates
unchanged; shuffling the rows of the input tables changes nothing); the named-error rule table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from impact import DataError, ParameterError
from impact.registers import (
    DEFAULT_CODES,
    HISTORY,
    ExitCodes,
    RegisterColumns,
    RegisterExtract,
    covariates_at,
    outcomes_from_spells,
    recode_unknown,
    risk_sets,
)
from impact.synthetic import simulate_extract

IDS = ["sec-1001", "sec-1002", "sec-1003", "sec-1004"]


def tiny(**changes):
    """Four persons; a: two spells, starts 2021-03-15; b: never; c: starts 2021-04-01; d: registers mid-March."""
    persons = pd.DataFrame({"person_id": IDS, "gender": ["female", "male", "female", "male"],
                            "birth_year": [1980, 1990, 1975, 2000], "born_abroad": [1, 0, 0, 1]})
    spells = pd.DataFrame({
        "person_id": [IDS[0], IDS[0], IDS[1], IDS[2], IDS[3]],
        "registered": ["2019-06-01", "2020-11-20", "2021-01-01", "2020-02-10", "2021-03-10"],
        "deregistered": ["2019-09-01", "2021-05-01", "2021-03-20", None, None],
        "code": ["80", "12", "90", None, None],
    })
    programme = pd.DataFrame({"person_id": [IDS[0], IDS[2], IDS[3]],
                              "start": ["2021-03-15", "2021-04-01", "2021-03-25"]})
    ea = pd.DataFrame({"person_id": [IDS[0]] * 4 + [IDS[1]],
                       "month": ["2020-02", "2020-12", "2021-02", "2021-03", "2021-02"]})
    kw = dict(persons=persons, spells=spells, programme=programme, cutoff="2021-12-31",
              benefits={"economic_assistance": ea}, genders=("female", "male"))
    kw.update(changes)
    return RegisterExtract(**kw)


def test_hand_computed_risk_sets():
    rs = risk_sets(tiny())
    assert list(rs.periods.strftime("%Y-%m")) == ["2021-03", "2021-04"]
    march, april = list(rs)
    m = march.set_index("person_id")
    # on 2021-03-01: a (spell since 2020-11-20), b (since 2021-01-01), c (since 2020-02-10); d registers later
    assert list(m.index) == IDS[:3]
    assert m["treated"].tolist() == [1, 0, 0]
    assert m.loc[IDS[0], "index_date"] == pd.Timestamp("2021-03-15")
    assert m.loc[IDS[1], "index_date"] == pd.Timestamp("2021-03-01")
    # elapsed: 2020-11-20 -> 2021-03-01 = 10 + 31 + 31 + 28 = 101 days
    assert m["elapsed_days"].tolist() == [101.0, 59.0, 385.0]
    # days registered in [2019-03-01, 2021-03-01): a: 92 (Jun-Aug 2019) + 101; b: 59; c: 385
    assert m["days_registered_24m"].tolist() == [193, 59, 385]
    assert m["earlier_spells"].tolist() == [1, 0, 0]
    # economic assistance in Mar 2020 .. Feb 2021: a: 2020-12, 2021-02 (2020-02 too early, 2021-03 the month itself)
    assert m["economic_assistance_months_12m"].tolist() == [2, 1, 0]
    assert m["age"].tolist() == [41, 31, 46]
    assert m["born_abroad"].tolist() == [1, 0, 0]
    assert m["entry"].tolist()[:1] == [pd.Timestamp("2021-03-01")] and pd.isna(m.loc[IDS[1], "entry"])
    a = april.set_index("person_id")
    # on 2021-04-01: a and d are in the programme, b deregistered 2021-03-20, c starts that day
    assert list(a.index) == [IDS[2]] and a["treated"].tolist() == [1]
    assert a.loc[IDS[2], "elapsed_days"] == 416.0
    assert set(rs.covariates) == {*HISTORY, "economic_assistance_months_12m", "gender", "born_abroad"}


def test_flow_counts_and_participants_without_a_row():
    fl = risk_sets(tiny()).flow().set_index(pd.Index(["2021-03", "2021-04"]))
    assert fl.loc["2021-03", ["registered", "in_programme", "at_risk", "starting", "treated", "controls",
                              "not_registered_on_first_day"]].tolist() == [3, 0, 3, 2, 1, 2, 1]
    assert fl.loc["2021-04", ["registered", "in_programme", "at_risk", "starting", "treated"]].tolist() == [3, 2, 1, 1, 1]
    assert fl["no_one_at_risk"].tolist() == [False, True]  # in April only c, who starts
    s = risk_sets(tiny()).summary().set_index("step")
    assert s.loc["participants", "persons"] == 3 and s.loc["treated rows", "persons"] == 2
    assert s.loc["at risk (registered, not yet in the programme)", "person_periods"] == 4


def test_treated_covariates_as_of_their_own_start():
    rs = risk_sets(tiny(), treated_covariates="start")
    march = rs.frame(0).set_index("person_id")
    # d registered 2021-03-10 and starts 2021-03-25: a row as of its start (elapsed 15 days)
    assert march.loc[IDS[3], "treated"] == 1 and march.loc[IDS[3], "elapsed_days"] == 15.0
    assert march.loc[IDS[0], "elapsed_days"] == 115.0 and march.loc[IDS[0], "asof"] == pd.Timestamp("2021-03-15")
    assert rs.flow()["not_registered_on_first_day"].sum() == 0
    # the same look-ups as covariates_at on (person, start)
    tr = march[march["treated"] == 1].reset_index()
    direct = covariates_at(tiny(), tr.rename(columns={"asof": "d"}), date="d")
    for col in HISTORY:
        np.testing.assert_array_equal(direct[col].to_numpy(), tr[col].to_numpy())


def test_a_period_with_participants_but_no_one_at_risk_is_in_the_flow():
    ext = tiny(programme=pd.DataFrame({"person_id": [IDS[0], IDS[1], IDS[2]],
                                       "start": ["2021-03-15", "2021-03-02", "2021-03-03"]}))
    fl = risk_sets(ext).flow()
    assert fl["no_one_at_risk"].tolist() == [True] and fl["controls"].tolist() == [0]


def test_hand_computed_outcomes_and_censoring_at_entry():
    idx = pd.DataFrame({"person_id": [IDS[0], IDS[1], IDS[2], IDS[1]],
                        "index_date": ["2021-03-15", "2021-03-01", "2021-03-01", "2021-03-20"]})
    out = outcomes_from_spells(tiny(), idx, unregistered="keep")
    # a: 2021-03-15 -> 2021-05-01 nystartsjobb; b: 19 days to an unknown exit; c: open: to 2022-01-01
    assert out["duration"].tolist()[:3] == [47.0, 19.0, 306.0]
    assert out["role"].tolist() == ["event", "competing", "censored", "not registered"]
    assert out["cause"].tolist()[:2] == ["nystartsjobb", "unknown"]
    assert out["status"].tolist()[:3] == [1, 2, 0] and out["event"].tolist() == [1, 0, 0, 0]
    assert out["end"].tolist()[:3] == ["exit", "exit", "cutoff"]
    assert out["exit_date"].iloc[0] == pd.Timestamp("2021-05-01") and pd.isna(out["exit_date"].iloc[2])
    never = outcomes_from_spells(tiny(), idx.iloc[:3], censor_at_entry=True)
    # c is a control on 2021-03-01 and starts 2021-04-01: censored after 31 days (join_vs_never)
    assert never["duration"].tolist() == [47.0, 19.0, 31.0] and never["end"].tolist()[2] == "programme"
    assert never["role"].tolist()[2] == "censored"
    with pytest.raises(DataError, match=r"index, column 'index_date': no registration spell .* open .*position 3\)"):
        outcomes_from_spells(tiny(), idx)


def test_exit_codes_override_and_unknown_sensitivity():
    codes = DEFAULT_CODES.with_roles({"90": "censored", 77: "event"}, causes={"77": "studies"})
    assert codes.role_of(["90", "77", 11]).tolist() == ["censored", "event", "event"]
    assert codes.cause_of(["77"]).tolist() == ["studies"]
    assert DEFAULT_CODES.role_of(["90"]).tolist() == ["competing"]  # the default is unchanged
    idx = pd.DataFrame({"person_id": [IDS[1]], "index_date": ["2021-03-01"]})
    out = outcomes_from_spells(tiny(), idx)
    assert out["role"].tolist() == ["competing"]
    for role, status in (("censored", 0), ("event", 1), ("competing", 2)):
        r = recode_unknown(out, role)
        assert r["role"].tolist() == [role] and r["status"].tolist() == [status]
        via = outcomes_from_spells(tiny(), idx, codes=DEFAULT_CODES.unknown_as(role))
        assert via["role"].tolist() == [role]
    with pytest.raises(ParameterError, match="must be one of 'event', 'competing', 'censored'"):
        ExitCodes({"11": "work"})
    with pytest.raises(ParameterError, match=r"The 'role' parameter of recode_unknown must be one of"):
        recode_unknown(out, "work")


def _set(df, col, pos, value):
    df = df.copy()
    df[col] = df[col].astype(object)
    df.iloc[pos, df.columns.get_loc(col)] = value
    return df


def _mut(table, col, pos, value):
    def apply(ext):
        return {table: _set(getattr(ext, table), col, pos, value)}
    return apply


def _benefit(col, pos, value):
    def apply(ext):
        ea = ext.benefits["economic_assistance"]
        return {"benefits": {"economic_assistance": _set(ea, col, pos, value)}}
    return apply


def _dup_benefit(ext):
    ea = ext.benefits["economic_assistance"]
    return {"benefits": {"economic_assistance": pd.concat([ea, ea.iloc[[1]]], ignore_index=True)}}


def _dup_person(ext):
    return {"persons": pd.concat([ext.persons, ext.persons.iloc[[2]]], ignore_index=True)}


ERRORS = [
    ("overlapping spells", _mut("spells", "registered", 1, "2019-08-01"),
     r"^spells, column 'registered': overlapping spells of one person .*2 rows \(positions 0, 1\)"),
    ("deregistered before registered", _mut("spells", "deregistered", 2, "2020-12-01"),
     r"^spells, column 'deregistered': deregistered before registered; 1 row \(position 2\)"),
    ("start outside every spell", _mut("programme", "start", 1, "2020-01-01"),
     r"^programme, column 'start': programme starts outside every registration spell .*position 1\)"),
    ("start after the cut-off", _mut("programme", "start", 0, "2022-03-01"),
     r"^programme, column 'start': programme starts after the cut-off 2021-12-31; 1 row \(position 0\)"),
    ("participant with no spell", _mut("programme", "person_id", 0, IDS[1]) ,
     r"^programme, column 'person_id': participants with no registration spell|duplicate"),
    ("unknown codes", _mut("spells", "code", 0, "47"),
     r"^spells, column 'code': unknown deregistration codes \(47\); 1 row \(position 0\)\. Give them a role"),
    ("benefit month not YYYY-MM", _benefit("month", 3, "2021-3"),
     r"^benefits 'economic_assistance', column 'month': months must be written YYYY-MM .*position 3\)"),
    ("benefit month of no known person", _benefit("person_id", 4, "sec-9999"),
     r"^benefits 'economic_assistance', column 'person_id': benefit months of no known person.*position 4\)"),
    ("benefit month twice", _dup_benefit,
     r"^benefits 'economic_assistance', column 'month': one row per person and month; 2 rows \(positions 1, 5\)"),
    ("duplicate persons", _dup_person,
     r"^persons, column 'person_id': duplicate persons \(one row per person\); 2 rows \(positions 2, 4\)"),
    ("gender outside the declared ones", _mut("persons", "gender", 1, "K"),
     r"^persons, column 'gender': gender codes outside the declared ones \(female, male\); 1 row \(position 1\)"),
    ("missing birth year", _mut("persons", "birth_year", 3, None),
     r"^persons, column 'birth_year': missing values; 1 row \(position 3\)"),
    ("missing registration date", _mut("spells", "registered", 4, None),
     r"^spells, column 'registered': missing values; 1 row \(position 4\)"),
    ("missing code of a deregistered spell", _mut("spells", "code", 2, None),
     r"^spells, column 'code': missing values .*position 2\)"),
    ("spell of no known person", _mut("spells", "person_id", 3, "sec-9999"),
     r"^spells, column 'person_id': spells of no known person .*position 3\)"),
    ("registered after the cut-off", _mut("spells", "registered", 4, "2022-02-01"),
     r"^spells, column 'registered': registered after the cut-off"),
    ("not a date", _mut("spells", "deregistered", 0, "2019-02-30"),
     r"^spells, Column 'deregistered': values that are not dates.*position 0\)"),
]


@pytest.mark.parametrize("name, mutation, message", ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_register_input_gets_a_named_error(name, mutation, message):
    base = tiny()
    if name == "participant with no spell":  # a new person without spells who is a participant
        persons = pd.concat([base.persons, pd.DataFrame({"person_id": ["sec-1005"], "gender": ["male"],
                                                          "birth_year": [1970], "born_abroad": [0]})],
                            ignore_index=True)
        prog = _set(base.programme, "person_id", 0, "sec-1005")
        ext = tiny(persons=persons, programme=prog)
        message = r"^programme, column 'person_id': participants with no registration spell; 1 row \(position 0\)"
    else:
        ext = tiny(**mutation(base))
    with pytest.raises(DataError, match=message) as info:
        ext.validate()
    assert not any(i in str(info.value) for i in [*IDS, "sec-9999", "sec-1005"])  # never an id
    assert info.value.positions


def test_no_covariate_uses_information_dated_on_or_after_the_period_start():
    """Metamorphic: delete or change everything dated on/after the first day of a period."""
    sim = simulate_extract(3_000, random_state=7)
    ext = sim.extract
    rs = risk_sets(ext)
    rng = np.random.default_rng(0)
    cols = ["person_id", "treated", "index_date", "asof", *rs.covariates]
    for t in (3, 11, 20):
        d = rs.periods[t]
        d2 = rs.periods[t + 1]
        sp = ext.spells.copy()
        starting = ext.programme[(ext.programme["start"] >= d) & (ext.programme["start"] < d2)]
        start_of = sp["person_id"].map(starting.set_index("person_id")["start"])
        holds_start = (sp["registered"] <= start_of) & (sp["deregistered"].isna() | (sp["deregistered"] > start_of))
        sp = sp[(sp["registered"] <= d) | holds_start]                   # later spells deleted
        holds_start = holds_start[sp.index]
        later = sp["deregistered"].isna() | (sp["deregistered"] > d)    # the open spell's deregistration ...
        n = int(later.sum())
        floor = start_of[sp.index].where(holds_start, d)[later]          # ... moved, but after the start it holds
        new = pd.DatetimeIndex(floor.to_numpy()) + pd.to_timedelta(rng.integers(1, 200, n), unit="D")
        new = new.where(new <= ext.cutoff, pd.NaT).where(rng.random(n) < 0.5, pd.NaT)
        sp.loc[later, "deregistered"] = new.to_numpy()
        sp.loc[later, "code"] = np.where(new.isna(), None, rng.choice(["11", "31", "80", "90"], n))
        ea = ext.benefits["economic_assistance"]
        ea = ea[ea["month"] < d.strftime("%Y-%m")]                      # later benefit months deleted ...
        extra = pd.DataFrame({"person_id": rng.choice(ext.persons["person_id"], 500, replace=False),
                              "month": d.strftime("%Y-%m")})              # ... and invented in the month itself
        pr = ext.programme[ext.programme["start"] < d2]                   # later starts deleted
        mutated = RegisterExtract(persons=ext.persons, spells=sp, programme=pr, cutoff=ext.cutoff,
                                  benefits={"economic_assistance": pd.concat([ea, extra])}, genders=ext.genders)
        before = rs.frame(t)
        after = risk_sets(mutated, first=rs.periods[0], last=d).frame(t)
        pd.testing.assert_frame_equal(before[cols].reset_index(drop=True), after[cols].reset_index(drop=True))
        assert len(before) > 300 and before["treated"].sum() > 5 and n > 300


def test_covariates_at_any_date_use_only_earlier_information():
    sim = simulate_extract(3_000, random_state=8)
    ext = sim.extract
    day = pd.Timestamp("2021-03-17")
    idx = pd.DataFrame({"person_id": ext.persons["person_id"], "index_date": day})
    before = covariates_at(ext, idx)
    sp = ext.spells[ext.spells["registered"] <= day].copy()
    later = sp["deregistered"].isna() | (sp["deregistered"] > day)
    sp.loc[later, ["deregistered", "code"]] = [pd.NaT, None]
    ea = ext.benefits["economic_assistance"]
    mutated = RegisterExtract(persons=ext.persons, spells=sp, programme=ext.programme.iloc[:0], cutoff=ext.cutoff,
                              benefits={"economic_assistance": ea[ea["month"] < "2021-03"]})
    after = covariates_at(mutated, idx)
    pd.testing.assert_frame_equal(before, after)
    assert before["registered"].sum() > 500


def test_row_order_of_the_inputs_does_not_matter():
    ext = simulate_extract(1_500, random_state=3).extract
    rng = np.random.default_rng(1)

    def shuffle(df):
        return df.iloc[rng.permutation(len(df))].reset_index(drop=True)

    shuffled = RegisterExtract(persons=ext.persons, spells=shuffle(ext.spells), programme=shuffle(ext.programme),
                               cutoff=ext.cutoff, genders=ext.genders,
                               benefits={k: shuffle(v) for k, v in ext.benefits.items()})
    a = risk_sets(ext).to_frame()
    b = risk_sets(shuffled).to_frame()
    pd.testing.assert_frame_equal(a, b)


def test_streaming_quarters_and_columns():
    ext = simulate_extract(1_500, random_state=4).extract
    rs = risk_sets(ext, "quarter")
    frames = list(rs)
    assert len(frames) == len(rs) == 10 and all((f["period"] == p).all() for f, p in zip(frames, rs.periods))
    assert sum(len(f) for f in frames) == len(rs.to_frame()) == rs.flow()["at_risk"].sum()
    renamed = RegisterExtract(persons=ext.persons.rename(columns={"person_id": "lopnr", "birth_year": "fodar"}),
                              spells=ext.spells.rename(columns={"person_id": "lopnr"}),
                              programme=ext.programme.rename(columns={"person_id": "lopnr"}), cutoff=ext.cutoff,
                              columns=RegisterColumns(id="lopnr", birth="fodar"))
    r2 = risk_sets(renamed, "quarter").frame(2)
    assert "lopnr" in r2.columns and r2["age"].equals(frames[2]["age"])


def test_birth_dates_give_completed_years():
    persons = tiny().persons.assign(birth_year=["1980-03-02", "1990-02-28", "1975-03-01", "2000-01-01"])
    m = risk_sets(tiny(persons=persons)).frame(0)
    assert m["age"].tolist() == [40, 31, 46]


def test_parameters_are_checked():
    with pytest.raises(ParameterError, match=r"The 'period' parameter of risk_sets must be one of 'month', 'quarter'"):
        risk_sets(tiny(), "week")
    with pytest.raises(ParameterError, match=r"The 'first' and 'last' parameters of risk_sets must be on or before"):
        risk_sets(tiny(), last="2023-01-01")
    with pytest.raises(ParameterError, match=r"'unregistered' parameter of outcomes_from_spells"):
        outcomes_from_spells(tiny(), pd.DataFrame(), unregistered="drop")
    with pytest.raises(ParameterError, match=r"The 'cutoff' parameter of RegisterExtract must be a date"):
        tiny(cutoff="soon")


@pytest.mark.parametrize("treated_covariates", ["period_start", "start"])
def test_stacked_frame_is_the_periods_one_after_another(treated_covariates):
    """Oracle: the per-period frames, concatenated. to_frame writes every column in place (one
    frame's worth of memory) and must give exactly that, dtypes included; the history columns are
    narrow integers holding the same values as covariates_at's int64 look-ups."""
    ext = simulate_extract(1_500, random_state=5).extract
    rs = risk_sets(ext, treated_covariates=treated_covariates)
    stacked = rs.to_frame()
    pd.testing.assert_frame_equal(stacked, pd.concat(list(rs), ignore_index=True))
    assert stacked["age"].dtype == np.int16 and stacked["days_registered_24m"].dtype == np.int32
    assert stacked["economic_assistance_months_12m"].dtype == np.int16
    assert stacked["gender"].dtype == ext.persons["gender"].dtype == object
    look = covariates_at(ext, stacked.rename(columns={"index_date": "x"}), date="asof")
    for col in HISTORY:
        np.testing.assert_array_equal(stacked[col].to_numpy(), look[col].to_numpy())
    # every column of the stacked frame has its own memory (no view into the extract's tables)
    assert not np.shares_memory(stacked["born_abroad"].to_numpy(), ext.persons["born_abroad"].to_numpy())
