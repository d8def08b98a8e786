"""Ten consecutive monthly reports (issue 11, point 3): the report's own monitoring tables,
published for the cut-offs January to October 2022 as an evaluator publishes the running series,
solved together.

Each release is ``monitoring_tables(records, start="2022-01-01", end=<month end>)`` published as
the report publishes it (``res.published(lang, threshold=5, disclosure=..., secret=...)``; the
test ``test_the_releases_are_the_reports_own_tables`` checks that the report's CSV files are
exactly these tables). The records are one small simulated monitoring set (300 participants, 60
hires, 60 ended employments, 60 households), so that small cells are common.

The attacker (oracle: scipy's ``milp``, an integer program independent of the library's audit)
knows how every published number is made: a month's cells, its total (= women + men), the
period-to-date tables' cells as sums of monthly increments that are never negative, the "all"
row and total column as sums, the same month republished in every release, the households'
changes against one and two years earlier as ratios; with the cell-key method, the p-table's
bounds (a published count is the true one within +-2, a count shown above 0 is not empty). For
every count of 1 to 4 people the attack could target -- a hidden cell (threshold mode), a
perturbed cell of any release, and the difference of a cell between consecutive releases (the
people added in one month) -- it computes the smallest and largest value consistent with all ten
releases together.

Results: with threshold suppression no hidden cell is pinned, but differences of consecutive
releases give small counts of people exactly (the hires of one month by subsidy and gender):
suppression alone leaks across releases. With the cell-key method no count of 1-4 people, and no
monthly difference of 1-4, is pinned to one value.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _published import same_as_published
from scipy.optimize import Bounds, LinearConstraint, milp

from impact.monitor import GenderTable, HouseholdSeries
from impact.pipeline import monitoring_tables
from impact.publish import MARK, MAX_NOISE
from impact.synthetic import simulate_monitoring

SECRET = "kept-in-the-office-safe-not-in-the-report"
CUTOFFS = [str(m.end_time.date()) for m in pd.period_range("2022-01", "2022-10", freq="M")]
MONTHS = list(pd.period_range("2022-01", "2022-10", freq="M"))


@pytest.fixture(scope="module")
def records():
    return simulate_monitoring(random_state=1, n_participants=300, n_hires_2022=60, n_ended_employments=60,
                               n_households=60)


@pytest.fixture(scope="module")
def releases(records):
    """The ten releases: ``[{name: result}]``, one per cut-off."""
    return [monitoring_tables(records, start="2022-01-01", end=c) for c in CUTOFFS]


def _number(text: str) -> float | None:
    """A published cell as a number; None where hidden or missing."""
    if text == MARK:
        return None
    t = str(text).replace(",", "").replace("\u00a0", "").replace(" ", "").replace("\u2212", "-")
    try:
        return float(t.rstrip("%")) / (100 if t.endswith("%") else 1)
    except ValueError:
        return None  # "missing"


class _Attack:
    """An integer program over the true counts behind every published number of every release."""

    def __init__(self, noise: int):
        self.noise = noise
        self.var: dict[tuple, int] = {}
        self.rows: list[tuple[dict[int, float], float, float]] = []

    def expr(self, keys) -> dict[int, float]:
        return {self.var.setdefault(k, len(self.var)): 1.0 for k in keys}

    def published(self, keys, y: float | None) -> None:
        e = self.expr(keys)  # a hidden cell's people are unknowns too
        if y is None:
            return
        if self.noise:  # the p-table: an empty cell stays 0, a count of 1 or more is never shown as 0
            self.rows.append((e, 0.0, 0.0) if y == 0 else (e, max(1.0, y - self.noise), y + self.noise))
        else:
            self.rows.append((e, y, y))

    def ratio(self, now, before, lo: float, hi: float) -> None:
        """lo <= x(now) / x(before) <= hi, as two linear rows."""
        a, b = self.expr(now), self.expr(before)
        for bound, sense in ((lo, 1), (hi, -1)):
            e = dict(a)
            for i, c in b.items():
                e[i] = e.get(i, 0.0) - bound * c
            self.rows.append((e, 0.0, np.inf) if sense == 1 else (e, -np.inf, 0.0))

    def _matrix(self):
        if getattr(self, "_built", None) is None or self._built[0].shape != (len(self.rows), len(self.var)):
            self._built = self._build()
        return self._built

    def _build(self):
        n = len(self.var)
        A = np.zeros((len(self.rows), n))
        for r, (e, _, _) in enumerate(self.rows):
            for i, c in e.items():
                A[r, i] = c
        return A, np.array([r[1] for r in self.rows]), np.array([r[2] for r in self.rows])

    def target(self, plus, minus=()) -> np.ndarray:
        t = np.zeros(len(self.var))
        for k in plus:
            t[self.var[k]] += 1
        for k in minus:
            t[self.var[k]] -= 1
        return t

    def bounds(self, plus, minus=()) -> tuple[float, float]:
        """The exact range of the target over every integer solution (two integer programs)."""
        A, lo, hi = self._matrix()
        t = self.target(plus, minus)
        out = []
        for sign in (1, -1):  # an upper bound no count reaches: the variables are bounded
            res = milp(sign * t, constraints=LinearConstraint(A, lo, hi), integrality=np.ones(len(t)),
                       bounds=Bounds(0, 10_000))
            assert res.status == 0, res.message
            out.append(round(sign * res.fun))
        return out[0], out[1]

    def pinned(self, plus, minus, truth: np.ndarray) -> bool:
        """Whether the target has one value only. A second integer solution with another value,
        one or two unknowns away from the truth, answers "no" at once; else the integer programs decide."""
        A, lo, hi = self._matrix()
        t = self.target(plus, minus)
        base = A @ truth
        n = len(t)
        for i in np.flatnonzero(t):
            for step in (1, -1):
                moves = np.zeros((n + 1, n))
                moves[:, i] += step
                moves[np.arange(n), np.arange(n)] -= step  # and one other unknown the other way (or not)
                moves = moves[(moves @ t) != 0]
                new = truth + moves
                ok = (new >= 0).all(axis=1)
                r = base + moves @ A.T
                ok &= ((r >= lo - 1e-9) & (r <= hi + 1e-9)).all(axis=1)
                if ok.any():
                    return False
        keys = {i: k for k, i in self.var.items()}
        for i in np.flatnonzero(t):  # a 4-cycle within one month of a table: every sum stays the same
            key = keys[i]
            if len(key) != 4:
                continue
            name, m, a, g = key
            other = "men" if g == "women" else "women"
            for (k2, i2) in self.var.items():
                if len(k2) != 4 or k2[1] != m or k2[2] == a or k2[3] != g:
                    continue
                j, l, o = self.var.get((name, m, a, other)), i2, self.var.get((name, m, k2[2], other))
                if j is None or o is None:
                    continue
                for step in (1, -1):
                    move = np.zeros(n)
                    move[[i, j, l, o]] = [step, -step, -step, step]
                    new = truth + move
                    r = base + A @ move
                    if move @ t != 0 and (new >= 0).all() and ((r >= lo - 1e-9) & (r <= hi + 1e-9)).all():
                        return False
        value = round(float(t @ truth))
        for sign in (-1, 1):  # the largest value, then the smallest: pinned when both are the truth
            res = milp(sign * t, constraints=LinearConstraint(A, lo, hi), integrality=np.ones(n),
                       bounds=Bounds(0, 10_000))
            assert res.status == 0, res.message
            if round(sign * res.fun) != value:
                return False
        return True

    def feasible(self, truth: np.ndarray) -> bool:
        A, lo, hi = self._matrix()
        r = A @ truth
        return bool(((r >= lo - 1e-9) & (r <= hi + 1e-9)).all() and (truth >= 0).all())


def _cells(name: str, res, k: int):
    """(row, column, keys of the base unknowns, true count) of every count cell of release ``k``."""
    t = res.table
    if isinstance(res, GenderTable):  # period to date: sums of monthly increments
        cats = [c for c in t.index if c != "all"]
        for r in t.index:
            for c in t.columns:
                rs = cats if r == "all" else [r]
                cs = ["women", "men"] if c == "total" else [c]
                keys = [(name, m, a, b) for m in MONTHS[:k + 1] for a in rs for b in cs]
                yield r, c, keys, int(t.loc[r, c])
    elif isinstance(res, HouseholdSeries):
        for m in t.index:
            if not np.isnan(t.loc[m, "households"]):
                yield m, "households", [(name, m)], int(t.loc[m, "households"])
    else:
        for m in t.index:
            for c in t.columns:
                cs = ["women", "men"] if (c == "total" and "women" in t.columns) else [c]
                if not np.isnan(t.loc[m, c]):
                    yield m, c, [(name, m, b) for b in cs], int(t.loc[m, c])


def _solve(releases, name: str, disclosure: str):
    """Every published number of ``name`` in all ten releases -> the attack; returns the attack,
    the targets ``(what, plus, minus, truth)`` of 1-4 people, and the hidden cells."""
    attack = _Attack(MAX_NOISE if disclosure == "cellkey" else 0)
    hidden, targets, cells_by_release = [], [], []
    base: dict[tuple, int] = {}  # the true value of each unknown (the oracle's, not the attacker's)
    for k, tabs in enumerate(releases):
        res = tabs[name]
        pub = res.published("en", threshold=5, disclosure=disclosure, secret=SECRET)
        assert pub.shape == res.table.shape
        cols = list(res.table.columns)
        cells = {}
        for r, c, keys, truth in _cells(name, res, k):
            text = pub.iloc[res.table.index.get_loc(r), cols.index(c)]
            y = _number(text)
            is_total = r == "all" or (c == "total" and "women" in cols)
            # with the cell-key method a total is the sum of its published parts: nothing new
            attack.published(keys, None if (disclosure == "cellkey" and is_total) else y)
            if disclosure == "cellkey" and is_total and y is not None:
                assert y == sum(_number(pub.iloc[res.table.index.get_loc(r), cols.index(b)]) for b in ("women", "men")) \
                    if r != "all" else y == sum(_number(pub.iloc[i, cols.index(c)]) for i in range(len(pub) - 1))
            cells[(r, c)] = (keys, truth)
            if len(keys) == 1 and not isinstance(res, GenderTable):
                base[keys[0]] = truth
            elif isinstance(res, GenderTable) and r != "all" and c != "total":
                before = cells_by_release[k - 1][(r, c)][1] if k else 0
                base[(name, MONTHS[k], r, c)] = truth - before
            if text == MARK:
                hidden.append((k, r, c, keys, truth))
            if 0 < truth < 5 and (disclosure == "cellkey" or text == MARK):
                targets.append(((k, r, c), keys, (), truth))
        if isinstance(res, HouseholdSeries):  # the changes: ratios of published counts
            t = res.table
            for m in t.index:
                for j in (1, 2):
                    y = _number(pub.iloc[t.index.get_loc(m), cols.index(f"change_{j}y")])
                    before = m - 12 * j
                    if y is None or before not in t.index:
                        continue
                    if disclosure == "threshold":  # a ratio of two true counts, rounded to 0.1 %
                        attack.ratio([(name, m)], [(name, before)], 1 + y - 0.0005, 1 + y + 0.0005)
        cells_by_release.append(cells)
    diffs = []  # the people added in one month: a cell of release k minus the same cell of release k-1
    for k in range(1, len(releases)):
        for cell, (keys, truth) in cells_by_release[k].items():
            if cell in cells_by_release[k - 1]:
                before, t0 = cells_by_release[k - 1][cell]
                if set(before) != set(keys) and 0 < truth - t0 < 5:
                    diffs.append(((k, *cell), keys, before, truth - t0))
    truth = np.zeros(len(attack.var))
    for key, i in attack.var.items():
        truth[i] = base[key]
    assert attack.feasible(truth)  # the attacker's model is right: the truth satisfies every published number
    uniq = {}
    for what, plus, minus, v in targets + diffs:
        uniq.setdefault((frozenset(plus), frozenset(minus)), (what, plus, minus, v))
    return attack, truth, targets, hidden, diffs, uniq


NAMES = ["to_work_or_studies", "outcomes_after_employment", "hires_by_subsidy", "households", "household_exits"]


def test_the_releases_are_the_reports_own_tables(releases, tmp_path, monkeypatch):
    """The report's monitoring CSVs are exactly ``published(...)`` of these results (one release,
    with the cell-key method as an evaluation file asks for it: ``[report] disclosure = "cellkey"``
    and the secret in an environment variable; tests/test_attack.py checks the same for threshold
    suppression). The secret is in no file."""
    import dataclasses

    import impact
    from impact.report import write_report
    sim = impact.simulate(n_pool=300, random_state=4)
    ev = impact.evaluate(sim.registers, sim.roles, random_state=0)
    monkeypatch.setenv("MONTHLY_SECRET", SECRET)
    ev = dataclasses.replace(ev, monitoring=releases[4],
                             config={"report": {"disclosure": "cellkey", "secret_env": "MONTHLY_SECRET"}})
    for disclosure in ("cellkey",):
        folder = tmp_path / disclosure
        write_report(ev, folder, excel=False)  # mode and secret from the evaluation file
        settings = pd.read_csv(folder / "settings.csv").set_index("setting")["value"]
        assert settings["disclosure"] == "cellkey"
        for name in NAMES:
            csv = pd.read_csv(folder / f"monitoring_{name}.csv", dtype=str, keep_default_na=False)
            mine = releases[4][name].published("en", threshold=5, disclosure=disclosure, secret=SECRET)
            same_as_published(csv.iloc[:, 1:], mine)
        text = " ".join(p.read_text(encoding="utf-8", errors="ignore") for p in folder.iterdir() if p.is_file())
        assert SECRET not in text


@pytest.mark.parametrize("name", NAMES)
def test_ten_cell_key_releases_solved_together_pin_no_small_count(releases, name):
    attack, truth, targets, hidden, diffs, uniq = _solve(releases, name, "cellkey")
    assert not hidden  # nothing is suppressed: every count is published with noise
    assert uniq or name == "households"  # (60 households a month: no small count to attack)
    pinned = [(what, v) for what, plus, minus, v in uniq.values() if attack.pinned(plus, minus, truth)]
    assert not pinned, pinned[:5]


def test_cell_key_noise_is_the_same_for_the_same_people_in_every_release(releases):
    for name in ("to_work_or_studies", "households", "household_exits"):
        last = releases[-1][name].published("en", disclosure="cellkey", secret=SECRET)
        for tabs in releases[:-1]:
            pub = tabs[name].published("en", disclosure="cellkey", secret=SECRET)
            assert last.loc[pub.index].equals(pub), name  # a month republished is unchanged
    true = releases[-1]["hires_by_subsidy"].table
    pub = releases[-1]["hires_by_subsidy"].perturbation(SECRET).published.loc[true.index, true.columns]
    assert (pub != true).any().any() and ((pub - true).abs() <= MAX_NOISE).all().all()


@pytest.mark.parametrize("name", NAMES)
def test_ten_threshold_releases_hide_their_cells_but_differences_leak(releases, name):
    attack, truth, targets, hidden, diffs, uniq = _solve(releases, name, "threshold")
    cells = {frozenset(keys): (k, r, c, keys, v) for k, r, c, keys, v in hidden}
    # no hidden cell, small or not, is pinned by all ten releases solved together
    pinned = [(k, r, c, v) for k, r, c, keys, v in cells.values() if attack.pinned(keys, (), truth)]
    assert not pinned, pinned[:5]
    leaked = [(what, v) for what, plus, minus, v in uniq.values() if minus and attack.pinned(plus, minus, truth)]
    if name in ("hires_by_subsidy", "outcomes_after_employment"):
        # suppression alone is unsafe across releases: this month's cell minus last month's gives
        # the 1-4 people added in one month, exactly (why cell-key is recommended for monthly reports)
        assert leaked, name
    else:
        assert not diffs  # a month's cells are the same people in every release: nothing to difference


def test_report_disclosure_key_in_the_evaluation_file(tmp_path, monkeypatch):
    """``[report] disclosure = "cellkey"`` needs its secret before any data are read, from an
    environment variable or a file, and never holds it; a wrong mode names the choices."""
    from impact.pipeline import ConfigError, read_config
    from impact.publish import cell_key_secret
    head = '[data]\npath = "x.csv"\n[columns]\nid = "i"\ntreatment = "t"\nstart = "s"\n[report]\n'
    p = tmp_path / "e.toml"
    monkeypatch.delenv("IMPACT_CELLKEY_SECRET", raising=False)
    p.write_text(head + 'disclosure = "cellkey"\n')
    with pytest.raises(ConfigError, match="IMPACT_CELLKEY_SECRET"):
        read_config(p)
    monkeypatch.setenv("IMPACT_CELLKEY_SECRET", SECRET)
    cfg = read_config(p)
    assert cfg.report["disclosure"] == "cellkey" and SECRET not in repr(cfg)
    (tmp_path / "key.txt").write_text(SECRET + "\n")
    p.write_text(head + 'disclosure = "cellkey"\nsecret_file = "key.txt"\n')
    cfg = read_config(p)
    assert cfg.report["secret_file"] == tmp_path / "key.txt" and SECRET not in repr(cfg)
    assert cell_key_secret(file=cfg.report["secret_file"]) == SECRET
    p.write_text(head + 'disclosure = "cellkey"\nsecret_file = "nowhere.txt"\n')
    with pytest.raises(ConfigError, match="nowhere.txt"):
        read_config(p)
    p.write_text(head + 'disclosure = "noise"\n')
    with pytest.raises(ConfigError, match="'threshold', 'cellkey'"):
        read_config(p)
    p.write_text(head + 'secret_env = "X"\n')
    with pytest.raises(ConfigError, match="for disclosure"):
        read_config(p)
    p.write_text(head)
    assert read_config(p).report["disclosure"] == "threshold"


def test_run_passes_the_disclosure_and_the_secret_from_the_files_folder(tmp_path, monkeypatch):
    """``impact run`` hands the mode and the secret read from ``secret_file`` (relative to the
    evaluation file, whatever the working folder) to the report writer."""
    import dataclasses

    import impact.pipeline._run as run_mod
    seen: dict = {}

    @dataclasses.dataclass(frozen=True)
    class _Ev:
        settings: dict
        report_path: object = None

    monkeypatch.setattr(run_mod, "read_inputs", lambda cfg: (None, {}))
    monkeypatch.setattr(run_mod, "evaluate", lambda *a, **k: _Ev(settings={}))
    monkeypatch.setattr(run_mod, "write_design_tables", lambda *a, **k: None)

    def fake_write(ev, folder, **kw):
        seen.update(kw)
        return tmp_path / "out" / "report.html"

    monkeypatch.setattr(run_mod, "write_report", fake_write)
    monkeypatch.delenv("IMPACT_CELLKEY_SECRET", raising=False)
    sub = tmp_path / "eval"
    sub.mkdir()
    (sub / "key.txt").write_text(SECRET + "\n")
    (sub / "e.toml").write_text('[data]\npath = "x.csv"\n[columns]\nid = "i"\ntreatment = "t"\nstart = "s"\n'
                                '[report]\ndisclosure = "cellkey"\nsecret_file = "key.txt"\n')
    monkeypatch.chdir(tmp_path)
    run_mod.run(sub / "e.toml")
    assert seen["disclosure"] == "cellkey" and seen["secret"] == SECRET
    (sub / "e.toml").write_text('[data]\npath = "x.csv"\n[columns]\nid = "i"\ntreatment = "t"\nstart = "s"\n')
    run_mod.run(sub / "e.toml")
    assert seen["disclosure"] == "threshold" and seen["secret"] is None
