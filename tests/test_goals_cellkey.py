"""Goal fulfilment under the cell-key method (``GoalFulfilment.published(disclosure="cellkey")``).

In cell-key mode the monthly tables carry noise; a goal table published with exact counts beside
them would tell the reader the exact sum of the monthly noise, and verdicts judged on true counts
could contradict the published numbers. So the goal counts are perturbed with the same record
keys, and every measure, share and judgement is computed from the perturbed counts.

Oracles: the p-table's definition (every published count within ±2 of its true count, a published
0 exactly an empty cell), the judgement rules as the goal table states them (recomputed here from
the published numbers), and scipy's ``milp`` for the reader's attack on the goal table and the
monthly table together.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from impact.cli import DEMO_GOALS
from impact.monitor import CountGoal, GenderBalanceGoal, goal_fulfilment, to_work_or_studies_by_month
from impact import ParameterError
from impact.publish import MAX_NOISE
from impact.synthetic import simulate_monitoring

SECRET = "goal-test-secret"


@pytest.fixture(scope="module")
def small():
    """60 participants: small counts everywhere. The monthly series spans every outcome date, so
    every goal person is in it once (the attacker's strongest relation: months add up to the goal)."""
    mon = simulate_monitoring(random_state=1, n_participants=60, n_hires_2022=30, n_ended_employments=30,
                              n_households=30)
    goals = goal_fulfilment(mon.participants, DEMO_GOALS)
    monthly = to_work_or_studies_by_month(mon.participants, empty_months="zero")
    return mon, goals, monthly


def _number(text: str) -> float:
    return float(re.sub(r"[^\d.]", "", text.split("%")[0]))


def test_every_goal_count_is_perturbed_within_the_noise_and_judged_from_it(small):
    _, goals, _ = small
    pub = goals.perturbed(SECRET)
    assert pub.disclosure == "cellkey" and pub.cells.empty   # for publication: no identifiers inside
    true_parts = goals.perturbation(SECRET).counts
    moved = 0
    for true, shown in zip(goals.records, pub.records, strict=True):
        for t, s in zip(true["counts"], shown["counts"], strict=True):
            parts = len(true["parts"]) if true["kind"] == "count" else 1
            assert abs(s - t) <= MAX_NOISE * parts            # a count is the sum of its perturbed parts
            assert (s == 0) == (t == 0)                         # a published 0 is an empty cell
            moved += s != t
        if true["kind"] == "count":   # the judgement follows the published count, by the stated rule
            m = shown["measured"]
            expect = ("achieved" if m >= shown["target"] else "partly_achieved"
                      if m >= 0.75 * shown["target"] else "not_achieved")
            assert shown["judgement"] == expect
        if true["kind"] == "share":
            yes, no = shown["counts"]
            assert shown["measured"] == pytest.approx(yes / (yes + no))
        if true["kind"] == "before_after":
            for state, (b, a) in shown["changes"].items():
                assert shown["judgement"] != "achieved" or a < b
    assert moved, "some count carries noise"
    assert int(true_parts.to_numpy().sum()) > 0


def test_the_same_people_get_the_same_noise_in_the_goal_and_the_monthly_table():
    """Two goals over the same people (all participants, and their gender balance) and a month that
    holds exactly the people of a goal: the same perturbed counts (the same record keys)."""
    rng = np.random.default_rng(3)
    n = 37
    df = pd.DataFrame({"person_id": [f"X{i}" for i in range(n)], "gender": rng.choice(["female", "male"], n),
                       "outcome": ["to_work"] * 20 + ["other"] * (n - 20),
                       "end_date": pd.to_datetime(["2022-03-15"] * 20 + [None] * (n - 20))})
    g = goal_fulfilment(df, [CountGoal("participants", 30), GenderBalanceGoal("balance"),
                             CountGoal("to_work", 10, column="outcome", values="to_work")])
    pert = g.perturbation(SECRET).published
    assert pert.loc["participants", "women"] == pert.loc["balance", "women"]
    assert pert.loc["participants", "men"] == pert.loc["balance", "men"]
    month = to_work_or_studies_by_month(df, outcomes=("to_work",)).perturbation(SECRET).published
    assert month.loc[pd.Period("2022-03", "M"), "women"] == pert.loc["to_work", "women"]
    assert month.loc[pd.Period("2022-03", "M"), "men"] == pert.loc["to_work", "men"]
    shown = g.published("en", disclosure="cellkey", secret=SECRET)
    assert shown.iloc[0, 1] == f"{int(pert.loc['participants', ['women', 'men']].sum()):,}"


def test_cellkey_needs_the_secret(small):
    _, goals, _ = small
    with pytest.raises(ParameterError, match="secret"):
        goals.published("en", disclosure="cellkey")


# -- the reader's attack: the goal table and the monthly table solved together ----------------------

class _Model:
    """Integer variables: per perturbed cell its true count t and its published count p, with
    p - t in [-2, 2] and p = 0 exactly when t = 0 (the p-table: a count of 1 or more is never 0)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.lo: list[float] = []
        self.hi: list[float] = []
        self.rows: list[tuple[dict[str, float], float, float]] = []

    def var(self, name: str, lo: float = 0, hi: float = 10 ** 5) -> str:
        self.names.append(name)
        self.lo.append(lo)
        self.hi.append(hi)
        return name

    def add(self, coefs: dict[str, float], lo: float, hi: float) -> None:
        self.rows.append((coefs, lo, hi))

    def cell(self, name: str, published: float | None = None) -> str:
        t = self.var(f"t:{name}")
        p = self.var(f"p:{name}", *((published, published) if published is not None else (0, 10 ** 5)))
        z = self.var(f"z:{name}", 0, 1)
        self.add({p: 1, t: -1}, -MAX_NOISE, MAX_NOISE)
        for v in (t, p):
            self.add({v: 1, z: -10 ** 5}, -np.inf, 0)   # v > 0 only if z = 1
            self.add({v: 1, z: -1}, 0, np.inf)           # z = 1 only if v >= 1
        return name

    def bounds(self, target: dict[str, float]) -> tuple[int, int]:
        idx = {n: i for i, n in enumerate(self.names)}
        a = np.zeros((len(self.rows), len(self.names)))
        for k, (coefs, _, _) in enumerate(self.rows):
            for n, c in coefs.items():
                a[k, idx[n]] += c
        cons = LinearConstraint(a, [r[1] for r in self.rows], [r[2] for r in self.rows])
        c = np.zeros(len(self.names))
        for n, w in target.items():
            c[idx[n]] = w
        kw = dict(constraints=cons, integrality=np.ones(len(self.names)), bounds=Bounds(self.lo, self.hi))
        lo, hi = milp(c, **kw), milp(-c, **kw)
        assert lo.status == 0 and hi.status == 0, (lo.message, hi.message)
        return round(lo.fun), round(-hi.fun)


def _attack(goal_table: pd.DataFrame, monthly: pd.DataFrame, exact_goals: dict[str, int] | None = None):
    """The model of a reader who has the published goal table and the published monthly table, and
    knows that every person to work or studies is in one month (true here: the series spans them)."""
    m = _Model()
    months = list(monthly.index)
    for i in months:
        for g in ("women", "men"):
            m.cell(f"month{i}:{g}", float(str(monthly.at[i, g]).replace(",", "")))
    rows = dict(zip(goal_table["goal"], goal_table["measured"], strict=True))
    for goal in ("participants", "to_work_or_studies", "to_work"):
        for g in ("women", "men"):
            m.cell(f"{goal}:{g}")
    for goal in ("participants", "to_work_or_studies"):   # a count goal: the sum of its perturbed parts
        total = exact_goals[goal] if exact_goals else rows[goal]
        pre = "t" if exact_goals else "p"
        m.add({f"{pre}:{goal}:women": 1, f"{pre}:{goal}:men": 1}, total, total)
    for goal, key in (("participants", "participants"), ("to_work", "to_work")):   # shares of women, 1 % steps
        s = rows[f"share_{key}"] / 100
        w, mn = f"p:{goal}:women", f"p:{goal}:men"
        m.add({w: 1 - (s - 0.005), mn: -(s - 0.005)}, 0, np.inf)
        m.add({w: 1 - (s + 0.005), mn: -(s + 0.005)}, -np.inf, 0)
    for g in ("women", "men"):   # what the reader knows of the true counts
        m.add({f"t:month{i}:{g}": 1 for i in months} | {f"t:to_work_or_studies:{g}": -1}, 0, 0)
        m.add({f"t:to_work:{g}": 1, f"t:to_work_or_studies:{g}": -1}, -np.inf, 0)
        m.add({f"t:to_work_or_studies:{g}": 1, f"t:participants:{g}": -1}, -np.inf, 0)
    return m


def _published_goals(goals, **kw) -> pd.DataFrame:
    """The numbers of the published goal table: counts, and the shares of women in whole percent."""
    pub = goals.published("en", **kw)
    measured = dict(zip(goals.table["goal"], pub["Measured"], strict=True))
    rows = {"participants": _number(measured["participants"]),
            "to_work_or_studies": _number(measured["to_work_or_studies"]),
            "share_participants": _number(measured["gender_balance_participants"]),
            "share_to_work": _number(measured["gender_balance_to_work"])}
    return pd.DataFrame({"goal": list(rows), "measured": list(rows.values())})


def test_no_goal_count_is_recovered_from_the_goal_and_monthly_tables_together(small):
    _, goals, monthly = small
    true = goals.perturbation(SECRET).counts
    month_true = monthly.table[["women", "men"]]
    # the relation the attacker is given holds in the data
    assert (month_true.sum() == true.loc["to_work_or_studies", ["women", "men"]]).all()
    monthly_pub = monthly.published("en", disclosure="cellkey", secret=SECRET)
    monthly_pub.index = monthly.table.index
    monthly_pub.columns = list(monthly.table.columns)
    goal_pub = _published_goals(goals, disclosure="cellkey", secret=SECRET)
    model = _attack(goal_pub, monthly_pub)
    targets = {"participants": {"t:participants:women": 1, "t:participants:men": 1},
               "to_work_or_studies": {"t:to_work_or_studies:women": 1, "t:to_work_or_studies:men": 1}}
    truth = {"participants": int(true.loc["participants", ["women", "men"]].sum()),
             "to_work_or_studies": int(true.loc["to_work_or_studies", ["women", "men"]].sum())}
    for g in ("women", "men"):
        for goal, row in (("participants", "participants"), ("to_work_or_studies", "to_work_or_studies"),
                          ("to_work", "gender_balance_to_work")):
            targets[f"{goal}:{g}"] = {f"t:{goal}:{g}": 1}
            truth[f"{goal}:{g}"] = int(true.loc[row, g])
    for i in monthly.table.index:   # and no month of the monthly table is pinned by the goals either
        for g in ("women", "men"):
            if month_true.at[i, g] > 0:
                targets[f"month{i}:{g}"] = {f"t:month{i}:{g}": 1}
                truth[f"month{i}:{g}"] = int(month_true.at[i, g])
    for name, target in targets.items():
        lo, hi = model.bounds(target)
        assert lo <= truth[name] <= hi, (name, lo, hi, truth[name])   # the model is the reader's true knowledge
        assert hi > lo, (name, lo, hi)


def test_the_attack_has_teeth_a_goal_table_with_exact_counts_beside_the_noisy_months(small):
    """Goal counts left exact beside the perturbed months (the old behaviour): the exact total
    with the monthly cells pins the sum of the monthly noise, and a month's women and men with it
    are narrowed; the count itself is simply published."""
    _, goals, monthly = small
    true = goals.perturbation(SECRET).counts
    monthly_pub = monthly.published("en", disclosure="cellkey", secret=SECRET)
    monthly_pub.index = monthly.table.index
    monthly_pub.columns = list(monthly.table.columns)
    exact = {"participants": int(goals.table.set_index("goal").at["participants", "measured"]),
             "to_work_or_studies": int(goals.table.set_index("goal").at["to_work_or_studies", "measured"])}
    model = _attack(_published_goals(goals), monthly_pub, exact_goals=exact)
    target = {"t:to_work_or_studies:women": 1, "t:to_work_or_studies:men": 1}
    lo, hi = model.bounds(target)
    assert lo == hi == int(true.loc["to_work_or_studies", ["women", "men"]].sum())
    months = list(monthly.table.index)
    noise_sum = {f"p:month{i}:{g}": 1 for i in months for g in ("women", "men")} | \
                {f"t:month{i}:{g}": -1 for i in months for g in ("women", "men")}
    lo, hi = model.bounds(noise_sum)
    assert lo == hi   # the reader learns the exact sum of the monthly noise


def test_a_cell_key_report_publishes_the_perturbed_goal_table(tmp_path, monkeypatch):
    """``write_report`` in cell-key mode: the goal CSV is the perturbed goal table (the same
    numbers as ``goals.perturbed(secret)``, different from the true counts somewhere, nothing
    suppressed), the methods text says the goal table was perturbed too, and the secret is in no file."""
    import dataclasses

    import impact
    from impact.report import write_report
    sim = impact.simulate(n_pool=400, random_state=4)
    mon = simulate_monitoring(random_state=1, n_participants=60, n_hires_2022=30, n_ended_employments=30,
                              n_households=30)
    ev = impact.evaluate(sim.registers, sim.roles, random_state=0, goals=DEMO_GOALS, monitoring=mon,
                         monitoring_start="2022-01-01", monitoring_end="2022-10-31")
    monkeypatch.setenv("GOAL_SECRET", SECRET)
    ev = dataclasses.replace(ev, config={"report": {"disclosure": "cellkey", "secret_env": "GOAL_SECRET"}})
    folder = tmp_path / "report"
    write_report(ev, folder, excel=False)
    csv = pd.read_csv(folder / "goal_fulfilment.csv", dtype=str, keep_default_na=False)
    perturbed = ev.goals.perturbed(SECRET)
    measured = pd.to_numeric(csv.iloc[:, 2], errors="coerce")
    counts = perturbed.table.reset_index(drop=True)
    is_count = (counts["kind"] == "count").to_numpy()
    assert is_count.any()
    np.testing.assert_array_equal(measured[is_count].to_numpy(), counts.loc[is_count, "measured"].astype(float))
    true = ev.goals.table.reset_index(drop=True)
    assert (counts["measured"] != true["measured"]).any()          # the noise reached the report
    assert not csv.isin([".."]).any().any()                          # nothing hidden under cell-key
    html_text = (folder / "report.html").read_text(encoding="utf-8")
    assert "goal table" in html_text
    text = " ".join(p.read_text(encoding="utf-8", errors="ignore") for p in folder.iterdir() if p.is_file())
    assert SECRET not in text
