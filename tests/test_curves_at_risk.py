"""The number at risk in the curve tables, and the published curves cut where an arm has few people left.

Oracles: a hand count of durations >= t and lifelines' ``KaplanMeierFitter.event_table`` ``at_risk``
(number at risk); data built so that the last time with 20 (or ``threshold``) people at risk in each arm
is known in closed form (the cut); a recount from the data of every published row (the last step rests
on at least ``MIN_AT_RISK`` people per arm).
"""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

import impact
from impact.effects import effect_curve, estimate_effects
from impact.publish import curves_published, publish
from impact.publish._publication import MIN_AT_RISK
from impact.report._results import _curve_published, curve_end_note

NONE_WITHHELD = pd.DataFrame({"subgroup": pd.Series([], dtype=str), "estimand": pd.Series([], dtype=str),
                              "withheld": pd.Series([], dtype=str)})


@pytest.fixture(scope="module")
def small():
    """12 people, ties, censoring and the competing exit: the number at risk by hand."""
    return pd.DataFrame({"duration": [2, 3, 3, 5, 7, 8, 1, 3, 4, 4, 6, 9],
                         "event": [1, 0, 1, 2, 1, 1, 1, 1, 0, 1, 2, 1],
                         "participant": [1] * 6 + [0] * 6, "gender": list("ffmmff" "fmfmmf")})


@pytest.fixture(scope="module")
def built():
    """Treated: 100 people, exits to work on days 1..100 (at risk on day t: 101 - t). Controls: 100
    people, exits on days 2, 4, ..., 200 (at risk on day 2k: 101 - k). 20 at risk: treated to day 81,
    controls to day 162; 30 at risk: treated to day 71."""
    t = pd.DataFrame({"duration": np.arange(1, 101, dtype=float), "event": 1, "participant": 1})
    c = pd.DataFrame({"duration": np.arange(2, 201, 2, dtype=float), "event": 1, "participant": 0})
    return pd.concat([t, c], ignore_index=True)


@pytest.fixture(scope="module")
def matched():
    sim = impact.simulate(n_pool=1500, random_state=3)
    v = impact.validate(sim.registers, sim.roles)
    m = impact.match(v.data, treatment="participant", covariates=list(sim.roles.covariates), caliper=0.2,
                     exact=["gender"], id="person_id")
    return impact.time_to_event(m.matched_data, sim.roles)


def _count(data, mask, times):
    dur = data.loc[mask, "duration"].to_numpy(float)
    return np.array([(dur >= t).sum() for t in times])


def test_effects_curves_number_at_risk_by_hand_and_lifelines(small):
    from lifelines import KaplanMeierFitter
    eff = estimate_effects(small, treatment="participant", by="gender", horizons=(3,), weights=None, cluster=None, subdistribution=False)
    c = eff.curves
    assert c["n_at_risk"].dtype.kind == "i"
    for (g, arm), x in c.groupby(["subgroup", "arm"]):
        mask = (small["participant"] == (arm == "treated")) & ((small["gender"] == g) if g != "all" else True)
        assert x["n_at_risk"].tolist() == _count(small, mask, x["time"]).tolist()
        sub = small[mask]
        et = KaplanMeierFitter().fit(sub["duration"], sub["event"] == 1).event_table
        want = et["at_risk"].reindex(x["time"]).to_numpy()
        assert x["n_at_risk"].tolist() == want.tolist(), (g, arm)
    # by hand: all treated (durations 2, 3, 3, 5, 7, 8) at days 0, 2, 3, 7, 8
    tr = c[(c["subgroup"] == "all") & (c["arm"] == "treated")]
    assert tr["time"].tolist() == [0, 2, 3, 7, 8] and tr["n_at_risk"].tolist() == [6, 6, 5, 2, 1]


def test_effect_curve_number_at_risk_by_hand(small):
    cur = effect_curve(small, by="gender", times=[1, 3, 4, 5], weights=None, cluster=None, n_boot=100)
    t = cur.table
    assert list(t.columns[-2:]) == ["n_at_risk_treated", "n_at_risk_control"]
    rows = t[t["subgroup"] == "all"]
    assert rows["n_at_risk_treated"].tolist() == [6, 5, 3, 3]    # durations 2 3 3 5 7 8
    assert rows["n_at_risk_control"].tolist() == [6, 5, 4, 2]    # durations 1 3 4 4 6 9
    for g in ("f", "m"):
        x = t[t["subgroup"] == g]
        for arm, col in ((1, "n_at_risk_treated"), (0, "n_at_risk_control")):
            mask = (small["participant"] == arm) & (small["gender"] == g)
            assert x[col].tolist() == _count(small, mask, x["time"]).tolist()


@pytest.mark.parametrize("threshold,end", [(5, 81.0), (20, 81.0), (30, 71.0)])
def test_published_curves_stop_at_the_known_cut(built, threshold, end):
    eff = estimate_effects(built, treatment="participant", by=None, horizons=(30,), weights=None, cluster=None, subdistribution=False)
    assert eff.curves["time"].max() == 200          # the curves themselves go to the end
    pub = curves_published(eff.curves, NONE_WITHHELD, threshold=threshold)
    assert not [c for c in pub.columns if c.startswith("n_at_risk")]    # the counts are not published
    assert pub["time"].max() == end
    assert pub.loc[pub["arm"] == "treated", "time"].max() == end
    assert pub.loc[pub["arm"] == "control", "time"].max() == end - 1    # control steps on even days
    # every row up to the cut is kept
    kept = eff.curves[eff.curves["time"] <= end].drop(columns="n_at_risk").reset_index(drop=True)
    pd.testing.assert_frame_equal(pub, kept)


def test_published_effect_curve_stops_at_the_known_cut(built):
    cur = effect_curve(built, by=None, times=[10, 50, 80, 81, 82, 100], weights=None, cluster=None, n_boot=100)
    pub = curves_published(cur.table, NONE_WITHHELD)
    assert pub["time"].tolist() == [10, 50, 80, 81]
    assert "n_at_risk_treated" not in pub.columns and "n_at_risk_control" not in pub.columns
    assert curves_published(cur.table, NONE_WITHHELD, min_at_risk=50)["time"].max() == 50


def test_a_group_with_too_few_at_the_start_is_not_drawn(built):
    eff = estimate_effects(built, treatment="participant", by=None, horizons=(30,), weights=None, cluster=None, subdistribution=False)
    assert curves_published(eff.curves, NONE_WITHHELD, min_at_risk=101).empty


def test_curves_without_numbers_at_risk_are_refused():
    c = pd.DataFrame({"subgroup": ["all"], "arm": "treated", "time": [1.0], "estimate": [0.1]})
    with pytest.raises(impact.ParameterError, match="no numbers at risk"):
        curves_published(c, NONE_WITHHELD)


def test_last_published_step_rests_on_min_at_risk_people_per_arm(matched):
    eff = estimate_effects(matched, treatment="participant", by="gender", horizons=(180,), subdistribution=False)
    pub = curves_published(eff.curves, NONE_WITHHELD)
    t = matched["participant"] == 1
    cut_somewhere = False
    for g, x in pub.groupby("subgroup"):
        sub = np.ones(len(matched), bool) if g == "all" else (matched["gender"] == g).to_numpy()
        last = x["time"].max()
        for arm, mask in (("treated", sub & t), ("control", sub & ~t)):
            rows = x[x["arm"] == arm]
            # recounted from the data: every published row, the last step included, rests on >= MIN_AT_RISK
            assert (_count(matched, mask, rows["time"]) >= MIN_AT_RISK).all()
            assert _count(matched, mask, [last])[0] >= MIN_AT_RISK
        full = eff.curves[eff.curves["subgroup"] == g]
        cut_somewhere |= bool(full["time"].max() > last)
        # nothing at or before the cut was dropped
        assert len(x) == int((full["time"] <= last).sum())
    assert cut_somewhere


def test_publish_cuts_the_curves_and_says_its_setting(matched):
    eff = estimate_effects(matched, treatment="participant", by="gender", horizons=(180,), subdistribution=False)
    flow = pd.DataFrame({"step": ["analysed"], "reason": [""], "all": [len(matched)],
                         "treated": [int(matched["participant"].sum())],
                         "control": [int((matched["participant"] == 0).sum())]})
    bal = pd.DataFrame({"covariate": ["age"], "type": ["continuous"], "smd_after": [0.01]})
    pub = publish({"effects": (eff.summary(), None)}, eff.curves, flow, bal, {}, threshold=5, min_at_risk=40)
    assert pub.min_at_risk == 40
    pd.testing.assert_frame_equal(pub.curves, curves_published(eff.curves, pub.effects["effects"], min_at_risk=40))
    assert pub.curves["time"].max() < eff.curves["time"].max()


def test_report_curve_csv_has_no_time_beyond_the_cut(built):
    """The report's effect_curve table (effect_curve.csv) from a default grid of every exit day."""
    data = built.assign(gender="all")
    cur = effect_curve(data, by=None, weights=None, cluster=None, n_boot=100)
    assert cur.table["time"].max() == 100              # the shorter follow-up of the two arms
    ev = SimpleNamespace(effect_curve=cur, analysed=data, roles=SimpleNamespace(treatment="participant"),
                         settings={"subgroup": None})
    shown = _curve_published(ev, NONE_WITHHELD, threshold=5, min_at_risk=MIN_AT_RISK)
    assert shown["time"].max() == 81 and not (shown["time"] > 81).any()
    assert not [c for c in shown.columns if c.startswith("n_at_risk")]
    assert shown["withheld"].eq("").any()
    for lang, text in (("en", "all: day 81"), ("sv", "samtliga: dag 81")):
        note = curve_end_note(shown, lang, MIN_AT_RISK)
        assert text in note and "20" in note
    assert curve_end_note(shown.iloc[:0], "en", 20) == ""


def test_ipcw_curves_number_at_risk_is_the_rows_still_followed():
    """The risk-set design's curves (delayed-entry pieces of 30 days): at risk at t = rows with duration >= t
    (a row's pieces cover (0, duration] without overlap), whatever the weights."""
    from impact.effects import censoring_weights, ipcw_effects
    rng = np.random.default_rng(11)
    n = 400
    x = (rng.random(n) < 0.5).astype(int)
    treated = (np.arange(n) % 2 == 0).astype(int)
    te = rng.exponential(np.where(x == 1, 300, 100))
    tj = np.where(treated == 0, rng.exponential(np.where(x == 1, 80, 1500)), np.inf)
    t = np.minimum.reduce([te, tj, np.full(n, 400.0)])
    d = pd.DataFrame({"duration": np.ceil(t), "event": (te <= np.minimum(tj, 400.0)).astype(int),
                      "censored": ((tj < te) & (tj < 400.0)).astype(int), "entering": treated, "x": x,
                      "subclass": np.arange(n) // 2, "weights": 1.0})
    eff = ipcw_effects(d, censoring_weights(d, covariates=["x"], truncate=None), by=None, horizons=[90])
    for arm, x_ in eff.curves.groupby("arm"):
        mask = d["entering"] == (arm == "treated")
        assert x_["n_at_risk"].tolist() == _count(d, mask, x_["time"]).tolist()
    pub = curves_published(eff.curves, NONE_WITHHELD)
    for arm, x_ in pub.groupby("arm"):
        assert (_count(d, d["entering"] == (arm == "treated"), x_["time"]) >= MIN_AT_RISK).all()


def _count_persons(data, mask, times, person="person"):
    """Hand count: persons with any row still followed at t (a person's longest row)."""
    longest = data.loc[mask].groupby(person)["duration"].max().to_numpy(float)
    return np.array([(longest >= t).sum() for t in times])


@pytest.fixture(scope="module")
def reused():
    """The risk-set design's shape: 60 participants, 60 control rows from 20 persons, each a
    control in three sets (periods) with different follow-up."""
    rng = np.random.default_rng(5)
    t = pd.DataFrame({"duration": np.ceil(rng.exponential(60, 60)), "event": rng.integers(0, 3, 60),
                      "participant": 1, "person": np.arange(60), "subclass": np.arange(60)})
    c = pd.DataFrame({"duration": np.ceil(rng.exponential(80, 60)), "event": rng.integers(0, 3, 60),
                      "participant": 0, "person": 100 + np.arange(60) % 20, "subclass": np.arange(60)})
    d = pd.concat([t, c], ignore_index=True)
    d["weights"] = 1.0
    d["gender"] = np.where(d["person"] % 2 == 0, "female", "male")
    return d


def test_numbers_at_risk_count_persons_not_set_memberships(reused):
    """With persons=, a control in three sets is one person at risk while its longest row is
    followed (estimate_effects and effect_curve), not three; without it, rows (the old count)."""
    eff = estimate_effects(reused, treatment="participant", by="gender", horizons=(30,), subdistribution=False,
                           persons="person")
    rows = estimate_effects(reused, treatment="participant", by="gender", horizons=(30,), subdistribution=False)
    for (sub, arm), x_ in eff.curves.groupby(["subgroup", "arm"]):
        mask = (reused["participant"] == (arm == "treated")) & ((reused["gender"] == sub) | (sub == "all"))
        assert x_["n_at_risk"].tolist() == _count_persons(reused, mask, x_["time"]).tolist()
        r = rows.curves.query("subgroup == @sub and arm == @arm")
        assert r["n_at_risk"].tolist() == _count(reused, mask, r["time"]).tolist()
    first = eff.curves.query("subgroup == 'all' and arm == 'control' and time == 0")["n_at_risk"].item()
    assert first == 20   # 20 persons, 60 rows
    cur = effect_curve(reused, treatment="participant", by=None, persons="person", times=[1.0, 10.0, 40.0])
    mask = reused["participant"] == 0
    assert cur.table["n_at_risk_control"].tolist() == _count_persons(reused, mask, [1.0, 10.0, 40.0]).tolist()
    # the published curves of the control arm end where fewer than 20 persons remain
    pub = curves_published(eff.curves, NONE_WITHHELD)
    ctrl = pub.query("subgroup == 'all' and arm == 'control'")
    assert ctrl.empty or (_count_persons(reused, mask, ctrl["time"]) >= MIN_AT_RISK).all()


def test_ipcw_numbers_at_risk_count_persons(reused):
    from impact.effects import censoring_weights, ipcw_effects
    d = reused.assign(censored=(np.arange(len(reused)) % 7 == 0) & (reused["participant"] == 0),
                      x=np.arange(len(reused)) % 2)
    d["censored"] = d["censored"].astype(int)
    d["event"] = np.where(d["censored"] == 1, 0, d["event"])
    cw = censoring_weights(d, covariates=["x"], truncate=None, treatment="participant")
    eff = ipcw_effects(d, cw, by=None, horizons=[30], treatment="participant", persons="person")
    for arm, x_ in eff.curves.groupby("arm"):
        mask = d["participant"] == (arm == "treated")
        assert x_["n_at_risk"].tolist() == _count_persons(d, mask, x_["time"]).tolist()


def test_missing_person_identifiers_are_named(reused):
    from impact._errors import DataError
    bad = reused.assign(person=reused["person"].astype(float))
    bad.loc[[3, 70], "person"] = np.nan
    with pytest.raises(DataError, match=r"person.*must not be missing.*3"):
        estimate_effects(bad, treatment="participant", by=None, horizons=(30,), subdistribution=False,
                         persons="person")
