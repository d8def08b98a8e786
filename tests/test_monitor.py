"""Goal fulfilment and monitoring tables.

Oracles
-------
* known answers on small hand-built records, with the expected counts computed here by plain
  Python loops over the rows (not by the library's pandas code);
* the seed's published tables (AMA 2022): individual records are built from the seed's counts and
  the tables must come back exactly;
* the recovery attack of ``test_privacy`` on every published count table;
* metamorphic: shuffling the rows changes nothing.
"""

from __future__ import annotations

import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from impact import DataError, ImpactWarning, ParameterError  # noqa: E402
from impact.labels import label  # noqa: E402
from impact.monitor import (OUTCOMES_90, BeforeAfterGoal, CountGoal,  # noqa: E402
                            GenderBalanceGoal, ManualGoal, ShareGoal, goal_fulfilment, goals_from_config,
                            hires_by_subsidy, households_on_assistance, outcomes_after_employment,
                            to_work_or_studies_by_month)
from test_privacy import assert_protected  # noqa: E402

SEED_HIRES = {"extratjanster": (2, 0), "lonebidrag_osa": (42, 46), "nystartsjobb": (220, 189),
              "introduktionsjobb": (147, 114), "no_subsidy": (27, 48)}
SEED_OUTCOMES = {"to_work": (64, 87), "to_studies": (20, 15), "continued_planning": (208, 242),
                 "new_planning_af": (6, 14), "interrupted_planning": (14, 51), "other_reasons": (32, 16)}


def _expand(counts: dict[str, tuple[int, int]], column: str, rng: np.random.Generator) -> pd.DataFrame:
    rows = [{"gender": g, column: cat} for cat, (w, m) in counts.items()
            for g, n in (("female", w), ("male", m)) for _ in range(n)]
    df = pd.DataFrame(rows)
    return df.iloc[rng.permutation(len(df))].reset_index(drop=True)


@pytest.fixture
def people() -> pd.DataFrame:
    """Ten participants (one listed twice) with everything the seed's goals need."""
    return pd.DataFrame({
        "person_id": ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "a"],
        "gender": ["female", "male", "female", "male", "male", "male", "female", "male", "male", "female", "female"],
        "outcome": ["to_work", "to_work", "to_studies", "other", "other", "to_work", "ongoing", "other",
                    "to_work", "other", "to_work"],
        "joint_plan": [False, False, False, True, True, False, False, False, False, True, False],
        "referred_by_fk": [True, True, False, True, False, False, True, False, False, False, True],
        "enhanced_cooperation": [True, False, False, True, False, False, True, False, False, False, True],
        "sa_start": [True, True, False, True, True, False, True, False, True, False, True],
        "sa_end": [False, True, False, True, False, False, None, False, False, False, False],
        "sb_start": [False, False, False, True, False, False, True, False, False, False, False],
        "sb_end": [False, False, False, True, False, False, None, False, True, False, False],
    })


# ----------------------------------------------------------------------------------------------
# goal fulfilment


def _unique_where(df: pd.DataFrame, cond) -> set:
    return {r["person_id"] for _, r in df.iterrows() if cond(r)}


def test_goal_fulfilment_known_answers(people):
    goals = [
        CountGoal("participants", 10),
        CountGoal("to_work_or_studies", 6, column="outcome", values=("to_work", "to_studies")),
        ShareGoal("fk_enhanced_cooperation", 0.75, column="enhanced_cooperation", among="referred_by_fk"),
        ShareGoal("needs_clarified", 1.0, column="joint_plan", among="outcome", among_values=("other",)),
        GenderBalanceGoal("gender_balance_participants", tolerance=0.1),
        GenderBalanceGoal("gender_balance_to_work", tolerance=0.1, column="outcome", values=("to_work",)),
        ManualGoal("method_support", "partly_achieved"),
    ]
    res = goal_fulfilment(people, goals)
    t = res.table.set_index("goal")
    everyone = _unique_where(people, lambda r: True)
    ws = _unique_where(people, lambda r: r["outcome"] in ("to_work", "to_studies"))
    fk = _unique_where(people, lambda r: r["referred_by_fk"])
    fk_enh = _unique_where(people, lambda r: r["referred_by_fk"] and r["enhanced_cooperation"])
    others = _unique_where(people, lambda r: r["outcome"] == "other")
    others_plan = _unique_where(people, lambda r: r["outcome"] == "other" and r["joint_plan"])
    women = _unique_where(people, lambda r: r["gender"] == "female")
    work = _unique_where(people, lambda r: r["outcome"] == "to_work")
    assert t.loc["participants", "measured"] == len(everyone) == 10
    assert t.loc["participants", "judgement"] == "achieved"
    assert t.loc["to_work_or_studies", "measured"] == len(ws)           # 5 of target 6: >= 75%
    assert t.loc["to_work_or_studies", "judgement"] == "partly_achieved"
    assert t.loc["fk_enhanced_cooperation", "measured"] == pytest.approx(len(fk_enh) / len(fk))  # 3/4
    assert t.loc["fk_enhanced_cooperation", "judgement"] == "achieved"
    assert t.loc["needs_clarified", "measured"] == pytest.approx(len(others_plan) / len(others))  # 3/4
    share_plan = len(others_plan) / len(others)
    expected = ("achieved" if share_plan >= 1.0 else "partly_achieved" if share_plan >= 0.75 else "not_achieved")
    assert expected == "partly_achieved"
    assert t.loc["needs_clarified", "judgement"] == expected
    share_w = len(women) / len(everyone)                                  # 4/10: 10 points off 50%
    assert t.loc["gender_balance_participants", "measured"] == pytest.approx(share_w)
    assert t.loc["gender_balance_participants", "judgement"] == "achieved"
    share_w_work = len(work & women) / len(work)                          # 1/4: 25 points off
    assert t.loc["gender_balance_to_work", "measured"] == pytest.approx(share_w_work)
    assert t.loc["gender_balance_to_work", "judgement"] == "not_achieved"
    assert t.loc["method_support", "judgement"] == "partly_achieved"
    assert any("1 rows repeat a person" in n for n in res.notes)


def test_gender_balance_rates(people):
    g = GenderBalanceGoal("rates", tolerance=0.05, partly_tolerance=0.3, column="outcome",
                          values=("to_work", "to_studies"), measure="rates")
    res = goal_fulfilment(people, [g]).table.iloc[0]
    women = _unique_where(people, lambda r: r["gender"] == "female")
    men = _unique_where(people, lambda r: r["gender"] == "male")
    ws = _unique_where(people, lambda r: r["outcome"] in ("to_work", "to_studies"))
    diff = len(ws & women) / len(women) - len(ws & men) / len(men)        # 2/4 - 3/6 = 0
    assert res["measured"] == pytest.approx(diff)
    assert res["judgement"] == "achieved"


def test_before_after_counts_the_same_people(people):
    g = BeforeAfterGoal("fewer_on_benefits", pairs={"social_assistance": ("sa_start", "sa_end"),
                                                    "sickness_benefit": ("sb_start", "sb_end")})
    res = goal_fulfilment(people, [g])
    rec = res.records[0]
    # person g has no end values: left out of both counts
    same = people[people["sa_end"].notna() & people["sb_end"].notna()].drop_duplicates("person_id")
    sa = (int(same["sa_start"].sum()), int(same["sa_end"].astype(bool).sum()))
    sb = (int(same["sb_start"].sum()), int(same["sb_end"].astype(bool).sum()))
    assert rec["changes"] == {"social_assistance": sa, "sickness_benefit": sb}
    # social assistance fell (5 -> 2), sickness benefit did not (1 -> 2): partly achieved
    assert sa[1] < sa[0] and sb[1] >= sb[0]
    assert res.table.iloc[0]["judgement"] == "partly_achieved"
    assert any("1 people without both" in n for n in res.notes)
    pub = res.published("sv", threshold=2)
    # 3 left social assistance and none entered it: McNemar exact p = 2 * 0.5**3 = 0.25 (by hand); the
    # sickness-benefit p-value rests on a hidden count (1) and is hidden with it
    sa_test = next(t for t in rec["tests"] if t["state"] == "social_assistance" and t["group"] == "all")
    assert (sa_test["fell"], sa_test["rose"]) == (3, 0) and sa_test["p_value"] == pytest.approx(2 * 0.5 ** 3)
    assert "Försörjningsstöd: 5 → 2 (p = 0,250); Sjukpenning: .. → 2" in pub.iloc[0][label("measured", "sv")]


def test_config_goals_equal_code_goals(people, tmp_path):
    code = [CountGoal("participants", 10),
            CountGoal("to_work_or_studies", 6, column="outcome", values=("to_work", "to_studies")),
            ShareGoal("fk_enhanced_cooperation", 0.75, column="enhanced_cooperation", among="referred_by_fk"),
            GenderBalanceGoal("gender_balance_participants", tolerance=0.1),
            BeforeAfterGoal("fewer_on_benefits", pairs={"social_assistance": ("sa_start", "sa_end")}),
            ManualGoal("method_support", "achieved")]
    config = [{"kind": "count", "name": "participants", "target": 10},
              {"kind": "outcome_count", "name": "to_work_or_studies", "target": 6},
              {"kind": "share", "name": "fk_enhanced_cooperation", "target": 0.75,
               "column": "enhanced_cooperation", "among": "referred_by_fk"},
              {"kind": "gender_balance", "name": "gender_balance_participants", "tolerance": 0.1},
              {"kind": "before_after", "name": "fewer_on_benefits",
               "pairs": {"social_assistance": ["sa_start", "sa_end"]}},
              {"kind": "manual", "name": "method_support", "judgement": "achieved"}]
    toml = tmp_path / "goals.toml"
    toml.write_text("""
[[goals]]
kind = "count"
name = "participants"
target = 10

[[goals]]
kind = "outcome_count"
name = "to_work_or_studies"
target = 6

[[goals]]
kind = "share"
name = "fk_enhanced_cooperation"
target = 0.75
column = "enhanced_cooperation"
among = "referred_by_fk"

[[goals]]
kind = "gender_balance"
name = "gender_balance_participants"
tolerance = 0.1

[[goals]]
kind = "before_after"
name = "fewer_on_benefits"
pairs = { social_assistance = ["sa_start", "sa_end"] }

[[goals]]
kind = "manual"
name = "method_support"
judgement = "achieved"
""", encoding="utf-8")
    expected = goal_fulfilment(people, code).table
    pd.testing.assert_frame_equal(goal_fulfilment(people, config).table, expected)
    pd.testing.assert_frame_equal(goal_fulfilment(people, str(toml)).table, expected)
    assert goals_from_config({"goals": config}) == goals_from_config(config)


def test_goal_table_published_in_swedish(people):
    res = goal_fulfilment(people, [CountGoal("participants", 4000),
                                   ShareGoal("fk_enhanced_cooperation", 0.75, column="enhanced_cooperation",
                                             among="referred_by_fk")], lang="sv")
    pub = res.published()
    assert list(pub.columns) == ["Målvärde", "Utfall", "Bedömning", "Bedömningsregel"]
    assert pub.index[0] == "4\u00a0000 Malmöbor har deltagit"
    assert pub.iloc[0]["Bedömning"] == "ej uppnått"        # 10 of 4,000
    # a share over 4 people (3 yes, 1 no) rests on cells under 5: hidden
    assert pub.iloc[1]["Utfall"] == ".."
    assert pub.iloc[1]["Målvärde"] == "75 %"
    assert res.published("en", threshold=1).iloc[1]["Measured"] == "75%"
    assert "Bedömning av måluppfyllelse" in res._repr_html_()


def test_shuffled_rows_give_the_same_goal_table(people):
    goals = [CountGoal("participants", 10), GenderBalanceGoal("gender_balance_participants"),
             ShareGoal("fk_enhanced_cooperation", 0.75, column="enhanced_cooperation", among="referred_by_fk")]
    a = goal_fulfilment(people, goals).table
    b = goal_fulfilment(people.sample(frac=1, random_state=3), goals).table
    pd.testing.assert_frame_equal(a, b)


# ----------------------------------------------------------------------------------------------
# monthly series


def _events() -> pd.DataFrame:
    return pd.DataFrame({
        "person_id": [1, 2, 3, 4, 5, 6, 7, 8, 8],
        "gender": ["female", "male", "male", "female", "female", "male", "female", "male", "male"],
        "outcome": ["to_work", "to_studies", "to_work", "other", "to_work", "to_work", "ongoing", "to_work", "to_work"],
        "end_date": pd.to_datetime(["2022-01-03", "2022-01-31", "2022-02-01", "2022-02-02", "2022-04-15",
                                    "2022-04-30", None, "2022-04-02", "2022-04-20"]),
    })


def test_to_work_or_studies_by_month_known_answer():
    df = _events()
    with pytest.warns(ImpactWarning, match=r"1 month\(s\) without any records: 2022-03"):
        res = to_work_or_studies_by_month(df)
    expected: dict = {}
    seen = set()
    for _, r in df.iterrows():
        if r["outcome"] in ("to_work", "to_studies"):
            key = (r["end_date"].strftime("%Y-%m"), r["person_id"])
            if key in seen:  # person 8 twice in April: once
                continue
            seen.add(key)
            g = "women" if r["gender"] == "female" else "men"
            expected[(key[0], g)] = expected.get((key[0], g), 0) + 1
    for m in ("2022-01", "2022-02", "2022-04"):
        for g in ("women", "men"):
            assert res.table.loc[pd.Period(m, "M"), g] == expected.get((m, g), 0)
        assert res.table.loc[pd.Period(m, "M"), "total"] == sum(expected.get((m, g), 0) for g in ("women", "men"))
    # March has no records: missing, never zero
    assert res.missing_months == (pd.Period("2022-03", "M"),)
    assert res.table.loc[pd.Period("2022-03", "M")].isna().all()
    assert (res.published("sv").loc["mars 2022"] == "saknas").all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        zero = to_work_or_studies_by_month(df, empty_months="zero")
    assert zero.table.loc[pd.Period("2022-03", "M")].tolist() == [0, 0, 0]


def test_monthly_series_published_is_suppressed_and_protected():
    rng = np.random.default_rng(1)
    n = 400
    df = pd.DataFrame({"person_id": np.arange(n), "gender": rng.choice(["female", "male"], n, p=[0.3, 0.7]),
                       "outcome": "to_work",
                       "end_date": pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 365, n) ** 2 // 365, "D")})
    res = to_work_or_studies_by_month(df, empty_months="zero")
    t = res.table
    sup = res.suppression(5, "..")
    assert sup.n_primary == int(((t[["women", "men", "total"]] > 0) & (t[["women", "men", "total"]] < 5)).to_numpy().sum())
    assert sup.n_primary > 0
    assert_protected(t, sup, total_col="total")


def test_household_exits_without_gender():
    exits = pd.DataFrame({"household_id": ["h1", "h2", "h3", "h1"], "reason": ["to_work", "other", "to_studies", "to_work"],
                          "exit_date": pd.to_datetime(["2022-01-05", "2022-01-09", "2022-02-01", "2022-02-11"])})
    res = to_work_or_studies_by_month(exits, date="exit_date", outcome="reason", gender=None,
                                      id="household_id", codes=("to_work", "to_studies", "other"))
    assert list(res.table.columns) == ["total"]
    assert res.table["total"].tolist() == [1, 2]


# ----------------------------------------------------------------------------------------------
# the seed's two gender tables


def test_seed_hires_table_comes_back_from_records():
    rng = np.random.default_rng(0)
    df = _expand(SEED_HIRES, "subsidy", rng)
    df["hire_date"] = pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 330, len(df)), "D")
    old = df.iloc[:3].assign(hire_date=pd.Timestamp("2021-12-31"))  # hired in 2021: not counted
    res = hires_by_subsidy(pd.concat([df, old]), start="2022-01-01", end="2022-12-31")
    for cat, (w, m) in SEED_HIRES.items():
        assert res.table.loc[cat].tolist() == [w, m, w + m]
    assert res.table.loc["all"].tolist() == [438, 397, 835]
    pub = res.published("sv")
    assert pub.loc["Samtliga"].tolist() == ["438", "397", "835"]
    assert pub.loc["Extratjänster", "Kvinnor"] == ".."
    assert list(pub.columns) == ["Kvinnor", "Män", "Totalt"]
    assert_protected(res.table, res.suppression(), total_row="all", total_col="total")


def test_seed_outcome_table_comes_back_from_records():
    rng = np.random.default_rng(1)
    df = _expand(SEED_OUTCOMES, "outcome_90", rng)
    # day 90 reached between 1 January and 30 November 2022, both ends included
    day90 = pd.Series(pd.Timestamp("2022-01-01") + pd.to_timedelta(rng.integers(0, 334, len(df)), "D"))
    day90.iloc[0], day90.iloc[1] = pd.Timestamp("2022-01-01"), pd.Timestamp("2022-11-30")
    df["end_date"] = day90 - pd.Timedelta(days=90)
    late = df.iloc[:5].assign(end_date=pd.Timestamp("2022-09-02"))   # day 90 on 1 December
    ongoing = df.iloc[:4].assign(end_date=pd.NaT, outcome_90=None)
    res = outcomes_after_employment(pd.concat([df, late, ongoing]), start="2022-01-01", end="2022-11-30")
    for cat, (w, m) in SEED_OUTCOMES.items():
        assert res.table.loc[cat].tolist() == [w, m, w + m]
    assert res.table.loc["all"].tolist() == [344, 425, 769]
    pub = res.published("sv")
    assert pub.loc["Avslutad till arbete"].tolist() == ["64", "87", "151"]
    assert pub.loc["Avslutad till ny planering på Arbetsförmedlingen"].tolist() == ["6", "14", "20"]
    shares = res.published("en", shares=True)
    assert shares.loc["Ended to work", "Women"] == f"{100 * 64 / 344:.1f}%"
    assert list(res.table.index) == [*OUTCOMES_90, "all"]
    long = res.summary()
    assert list(long.columns) == ["outcome", "gender", "n", "share"]


# ----------------------------------------------------------------------------------------------
# households


def _households(counts: dict[str, int]) -> pd.DataFrame:
    rows = [(f"h{i}", m) for m, n in counts.items() for i in range(n)]
    return pd.DataFrame(rows, columns=["household_id", "month"])


def test_households_change_known_answer():
    counts = {"2020-10": 1000, "2020-11": 990, "2021-10": 897, "2021-11": 880, "2022-10": 738, "2022-11": 725}
    months = pd.period_range("2020-10", "2022-11", freq="M")
    full = {str(m): counts.get(str(m), 800) for m in months}
    res = households_on_assistance(_households(full))
    oct22 = res.table.loc[pd.Period("2022-10", "M")]
    assert oct22["households"] == 738
    assert oct22["change_1y"] == pytest.approx(738 / 897 - 1)
    assert oct22["change_2y"] == pytest.approx(738 / 1000 - 1)
    assert res.change_text("2022-10", "en") == (
        f"{100 * (738 / 897 - 1):.1f}% compared with the same month 2021, "
        f"{100 * (738 / 1000 - 1):.1f}% compared with the same month 2020")
    # Swedish: decimal comma, minus sign U+2212, space before the per cent sign
    sv = f"{100 * (738 / 897 - 1):.1f} %".replace(".", ",").replace("-", "\u2212")
    assert res.change_text("2022-10", "sv").startswith(sv + " jämfört med samma månad 2021")
    # no month two years before November 2020 in the data
    assert np.isnan(res.table.loc[pd.Period("2021-11", "M"), "change_2y"])


def test_households_duplicates_counted_once_and_reported():
    df = _households({"2022-01": 10, "2022-02": 12})
    dup = pd.concat([df, df.iloc[[0, 0, 5]]], ignore_index=True)
    with pytest.warns(ImpactWarning, match=r"3 duplicate household-month row"):
        res = households_on_assistance(dup)
    assert res.n_duplicates == 3
    assert res.table["households"].tolist() == [10, 12]
    assert any("3 duplicate" in n for n in res.notes)


def test_households_missing_month_is_flagged_not_zero():
    df = _households({"2022-01": 10, "2022-03": 12})
    with pytest.warns(ImpactWarning, match=r"2022-02"):
        res = households_on_assistance(df)
    assert res.missing_months == (pd.Period("2022-02", "M"),)
    assert np.isnan(res.table.loc[pd.Period("2022-02", "M"), "households"])
    assert res.published("en").loc["February 2022", "Households"] == "missing"


def test_households_published_hides_small_counts_and_their_changes():
    full = {str(m): 50 for m in pd.period_range("2021-01", "2022-03", freq="M")}
    full["2021-02"] = 3
    res = households_on_assistance(_households(full))
    pub = res.published("en")
    assert pub.loc["February 2021", "Households"] == ".."
    # February 2022 compared with the hidden February 2021: hidden too
    assert pub.loc["February 2022", label("change_1y")] == ".."
    assert pub.loc["March 2022", label("change_1y")] == "0.0%"


# ----------------------------------------------------------------------------------------------
# plots and display


def test_plots_return_axes(people):
    rng = np.random.default_rng(0)
    hires = _expand(SEED_HIRES, "subsidy", rng).assign(hire_date=pd.Timestamp("2022-03-01"))
    series = to_work_or_studies_by_month(_events(), empty_months="zero")
    hh = households_on_assistance(_households({"2021-01": 20, "2022-01": 15}), start="2022-01")
    results = [goal_fulfilment(people, [CountGoal("participants", 10)]), series, hires_by_subsidy(hires), hh]
    for r in results:
        fig, ax = plt.subplots()
        assert r.plot(ax=ax) is ax
        assert r.plot().figure is not None
        assert isinstance(r._repr_html_(), str) and isinstance(repr(r), str)
        plt.close("all")


@pytest.fixture(scope="module")
def monthly_tables():
    from impact.pipeline import monitoring_tables
    from impact.synthetic import simulate_monitoring
    rec = simulate_monitoring(random_state=1, n_participants=300, n_hires_2022=60, n_ended_employments=60,
                              n_households=60)
    return monitoring_tables(rec, start="2022-01-01", end="2022-10-31")


def test_household_exits_chart_is_titled_for_households_and_no_legend_for_an_empty_year(monthly_tables):
    """Oracle: the Axes. The household-exits chart says it counts households (not "individuals"),
    and a monthly bar chart of 2022 alone has no legend entry for 2021 (no data)."""
    for lang in ("en", "sv"):
        ax = monthly_tables["household_exits"].plot(lang=lang)
        assert ax.get_title().startswith(label("report_household_exits", lang))
        assert label("title_to_work_or_studies", lang) not in ax.get_title()
        legend = ax.get_legend()
        assert legend is None or [t.get_text() for t in legend.get_texts()] == ["2022"]
        plt.close("all")
    ax = monthly_tables["to_work_or_studies"].plot()
    assert ax.get_title().startswith(label("title_to_work_or_studies", "en"))
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["2022"]
    two_years = to_work_or_studies_by_month(_events(), start="2021-01-01", end="2022-12-31", empty_months="zero")
    labels = [t.get_text() for t in two_years.plot().get_legend().get_texts()]
    assert sorted(labels) == ["2021", "2022"]
    plt.close("all")


def test_cell_key_publication_of_every_monitoring_table(monthly_tables):
    """``published(disclosure="cellkey")``: every count within the p-table's noise of the truth,
    empty cells 0, nothing hidden, totals the sums of the published cells, the same output for the
    same secret and another for another secret; changes computed from the published counts; no
    secret, an error that says so. Oracle: the true tables and the p-table's bounds."""
    from impact.publish import MARK, MAX_NOISE
    for name, res in monthly_tables.items():
        pub = res.published("en", disclosure="cellkey", secret="s1")
        assert pub.equals(res.published("en", disclosure="cellkey", secret="s1"))
        assert not pub.equals(res.published("en", disclosure="cellkey", secret="s2")), name
        assert MARK not in pub.to_numpy()
        counts = [c for c in res.table.columns if not c.startswith("change_")]
        shown = pub.iloc[:, :len(counts)].map(lambda v: float(str(v).replace(",", ""))).to_numpy()
        true = res.table[counts].to_numpy(dtype=float)
        inner = (slice(None, -1 if name in ("outcomes_after_employment", "hires_by_subsidy") else None),
                 slice(None, -1 if ("total" in counts and len(counts) > 1) else None))
        assert (np.abs(shown[inner] - true[inner]) <= MAX_NOISE).all(), name  # totals: sums of these
        assert ((true == 0) == (shown == 0)).all(), name
        if "total" in counts and len(counts) > 1:
            assert (shown[:, -1] == shown[:, :-1].sum(axis=1)).all()
        if name in ("outcomes_after_employment", "hires_by_subsidy"):
            assert (shown[-1] == shown[:-1].sum(axis=0)).all()
        with pytest.raises(ParameterError, match="'secret' parameter .* disclosure='cellkey'"):
            res.published("en", disclosure="cellkey")
    hh = monthly_tables["households"]
    pub = hh.published("en", disclosure="cellkey", secret="s1")
    n = pub.iloc[:, 0].map(lambda v: float(str(v).replace(",", "")))
    expected = f"{100 * (n.iloc[-1] / n.iloc[-13] - 1):+.1f}%".replace("-", "\u2212")
    assert hh.change_text(disclosure="cellkey", secret="s1").replace("-", "\u2212").startswith(expected)


# ----------------------------------------------------------------------------------------------
# bad input: mutation -> exception -> message


def _hires():
    return pd.DataFrame({"gender": ["female", "male", "male"], "subsidy": ["nystartsjobb", "no_subsidy", "nystartsjobb"],
                         "hire_date": pd.to_datetime(["2022-01-01", "2022-02-01", "2022-03-01"])})


def _ended():
    return pd.DataFrame({"gender": ["female", "male", "male"], "outcome_90": ["to_work", "to_studies", "to_work"],
                         "end_date": pd.to_datetime(["2022-01-01", "2022-02-01", "2022-03-01"])})


BAD = [
    ("unknown subsidy codes are listed",
     lambda: hires_by_subsidy(_hires().assign(subsidy=["nystartsjob", "osa", "nystartsjobb"])),
     DataError, r"Column 'subsidy': unknown codes 'nystartsjob', 'osa' \(allowed: .*\); 2 rows \(positions 0, 1\)\. "
                r"Did you mean 'nystartsjobb'\?"),
    ("unknown outcome codes are listed",
     lambda: outcomes_after_employment(_ended().assign(outcome_90=["work", "to_studies", "to_work"])),
     DataError, r"Column 'outcome_90': unknown codes 'work' .*1 row \(position 0\)"),
    ("an employment that reached day 90 needs a result",
     lambda: outcomes_after_employment(_ended().assign(outcome_90=["to_work", None, "to_work"])),
     DataError, r"Column 'outcome_90': codes must not be missing; 1 row \(position 1\)"),
    ("unknown gender codes are listed",
     lambda: hires_by_subsidy(_hires().assign(gender=["K", "M", "male"])),
     DataError, r"Column 'gender': unknown codes 'K', 'M' .*genders="),
    ("missing gender",
     lambda: hires_by_subsidy(_hires().assign(gender=["female", None, "male"])),
     DataError, r"Column 'gender': gender must not be missing; 1 row \(position 1\)"),
    ("a goal naming a column that does not exist",
     lambda: goal_fulfilment(pd.DataFrame({"person_id": [1], "gender": ["male"], "referred_by_fk": [True]}),
                             [ShareGoal("fk", 0.75, column="enhanced_cooperation", among="referred_by_fkk")]),
     DataError, r"Goal 'fk' refers to column 'enhanced_cooperation', which is not in the data\."),
    ("a goal column with a typo gets a suggestion",
     lambda: goal_fulfilment(pd.DataFrame({"person_id": [1], "gender": ["male"], "referred_by_fk": [True],
                                           "enhanced_cooperation": [True]}),
                             [ShareGoal("fk", 0.75, column="enhanced_cooperation", among="referred_by_fkk")]),
     DataError, r"Goal 'fk' refers to column 'referred_by_fkk', .* Did you mean 'referred_by_fk'\?"),
    ("unknown goal kind", lambda: goals_from_config([{"kind": "shares", "name": "x"}]),
     ParameterError, r"'kind' parameter of goals_from_config must be one of .* Did you mean 'share'\?"),
    ("unknown goal field", lambda: goals_from_config([{"kind": "share", "name": "x", "target": 0.5, "colum": "y"}]),
     ParameterError, r"unknown field 'colum'\. Did you mean 'column'\?"),
    ("duplicate goal names",
     lambda: goal_fulfilment(pd.DataFrame({"person_id": [1], "gender": ["male"]}),
                             [CountGoal("a", 1), CountGoal("a", 2)]),
     ParameterError, r"Goal names must be unique; \['a'\]"),
    ("a share goal with missing values",
     lambda: goal_fulfilment(pd.DataFrame({"person_id": [1, 2], "gender": ["male"] * 2, "x": [True, None]}),
                             [ShareGoal("s", 0.5, column="x")]),
     DataError, r"Column 'x': values used by goal 's' must not be missing; 1 row \(position 1\)"),
    ("a participant outcome without a date",
     lambda: to_work_or_studies_by_month(_events().assign(end_date=pd.NaT)),
     DataError, r"Column 'end_date': an outcome in \['to_work', 'to_studies'\] must have a date"),
    ("unparseable months",
     lambda: households_on_assistance(pd.DataFrame({"household_id": ["a", "b"], "month": ["2022-01", "jan"]})),
     DataError, r"Column 'month': values must be months .* 1 row \(position 1\)"),
    ("missing household identifiers",
     lambda: households_on_assistance(pd.DataFrame({"household_id": ["a", None], "month": ["2022-01"] * 2})),
     DataError, r"Column 'household_id': household identifiers must not be missing; 1 row \(position 1\)"),
    ("a missing column in a monitoring table",
     lambda: hires_by_subsidy(_hires().rename(columns={"subsidy": "subsidy_type"})),
     DataError, r"The column 'subsidy' is not in the data .*Did you mean 'subsidy_type'\?"),
    ("unknown language", lambda: hires_by_subsidy(_hires(), lang="se"),
     ParameterError, r"'lang' parameter of hires_by_subsidy must be one of 'en', 'sv'"),
    ("end before start", lambda: hires_by_subsidy(_hires(), start="2022-12-31", end="2022-01-01"),
     ParameterError, r"'end' parameter of hires_by_subsidy must not be before 'start'"),
]


@pytest.mark.parametrize("case, call, exc, pattern", BAD, ids=[b[0] for b in BAD])
def test_bad_input(case, call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_errors_never_print_identifiers():
    df = pd.DataFrame({"household_id": ["199001011234", None], "month": ["2022-01", "2022-01"]})
    with pytest.raises(DataError) as info:
        households_on_assistance(df)
    assert "19900101" not in str(info.value)
