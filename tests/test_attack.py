"""The attack suite (issue 11, points 1 and 4): a reader who reads every file of one report and
solves them together recovers no withheld value.

Two reports: a small evaluation (60 participants, ``impact.simulate(n_pool=400)``) and the demo
(the bundled registers, evaluated as ``impact demo`` does). The attacker parses the CSVs, checks
that the workbook and the HTML carry no number the CSVs withhold, and then solves:

* effects -- a linear program over every estimate of ``effects.csv`` with the exact relations
  (``share_diff = share_treated - share_control``, ``rmst_diff = ...``, a difference row
  ``a - b = a - b`` on the scale of the estimand, ratios on the log scale) and the approximate one
  ``all = sum of n_g / n * group g`` (the attacker is given every group size, a worst case): the
  interval of each withheld share, times its group size, is at least one person wide;
* flow -- an integer program over the flow chain (no step adds people, ``all = treated +
  control``): no hidden count and no small drop is pinned to one value;
* balance -- every pair of counts (with the characteristic, per arm) consistent with the
  published rounded means and SMDs is enumerated: no hidden mean has a single solution.

And every output byte is scanned for identifiers and for dates that belong to one person only.

Oracles: scipy's ``linprog``/``milp`` (independent of the library's own audit), exhaustive
enumeration, and the input data (identifiers and dates).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _published import same_as_published
from scipy.optimize import Bounds, LinearConstraint, linprog, milp

import impact
from impact.cli import BUNDLED_DIR, DEMO_GOALS
from impact.publish import MARK, share_numerators
from impact.report import write_report
from impact.synthetic import read_synthetic, simulate_monitoring

_RATIOS = ("hazard_ratio", "time_ratio", "subdistribution_hazard_ratio")


@pytest.fixture(scope="module", params=["small", "demo"])
def case(request, tmp_path_factory):
    if request.param == "small":  # 60 participants, and a small monitoring set (60 people): many small cells
        sim = impact.simulate(n_pool=400, random_state=4)
        assert sim.registers["participant"].sum() == 60
        mon = simulate_monitoring(random_state=1, n_participants=60, n_hires_2022=30, n_ended_employments=30,
                                  n_households=30)
    else:
        sim = read_synthetic(BUNDLED_DIR)
        mon = simulate_monitoring(random_state=0)
    ev = impact.evaluate(sim.registers, sim.roles, truth=sim.truth, random_state=0, goals=DEMO_GOALS, monitoring=mon,
                         monitoring_start="2022-01-01", monitoring_end="2022-10-31",
                         **({"subgroups": ["region_of_birth"]} if request.param == "demo" else {}))
    data = sim.registers
    folder = tmp_path_factory.mktemp(f"attack_{request.param}") / "report"
    write_report(ev, folder)
    return request.param, ev, data, folder, mon


def _texts(folder: Path) -> dict[str, str]:
    out = {}
    for f in sorted(folder.iterdir()):
        if f.suffix == ".xlsx":
            with zipfile.ZipFile(f) as z:
                out[f.name] = "\n".join(z.read(n).decode("utf-8", errors="ignore") for n in z.namelist())
        else:
            out[f.name] = f.read_text(encoding="utf-8", errors="ignore")
    return out


# -- effects ----------------------------------------------------------------------------------------

def _scale(est: str, v: float) -> float:
    return float(np.log(v)) if est in _RATIOS else float(v)


def _effects_attack(pub: pd.DataFrame, sizes: dict[tuple[str, str], int]) -> dict[tuple, tuple[float, float]]:
    """Bounds of every withheld estimate over all tables consistent with the published ones."""
    pub = pub.copy()
    pub["horizon"] = pub["horizon"].fillna(-1.0)
    cells = list(zip(pub["subgroup"].astype(str), pub["estimand"], pub["horizon"], strict=True))
    index = {c: i for i, c in enumerate(cells)}
    nv = len(cells)
    rows, lo_b, hi_b = [], [], []

    def add(coefs: dict[int, float], lo: float, hi: float) -> None:
        e = np.zeros(nv)
        for i, v in coefs.items():
            e[i] += v
        rows.append(e)
        lo_b.append(lo)
        hi_b.append(hi)
    bounds = []
    for (g, est, h), v in zip(cells, pub["estimate"], strict=True):
        if np.isfinite(v):
            x = _scale(est, v)
            bounds.append((x, x))
        elif est.startswith("share"):
            bounds.append((-1.0, 1.0) if est == "share_diff" else (0.0, 1.0))
        elif est.startswith("rmst"):
            bounds.append((-h, h) if est == "rmst_diff" else (0.0, h))
        else:
            bounds.append((-20.0, 20.0))
    levels = [g for g in dict.fromkeys(pub["subgroup"].astype(str)) if g != "all" and " - " not in g]
    for (g, est, h), i in index.items():
        for diff, a, b in (("share_diff", "share_treated", "share_control"),
                           ("rmst_diff", "rmst_treated", "rmst_control")):
            if est == diff and (g, a, h) in index and (g, b, h) in index:
                add({i: 1.0, index[(g, a, h)]: -1.0, index[(g, b, h)]: 1.0}, 0.0, 0.0)
        if " - " in g:
            a, b = g.split(" - ", 1)
            if (a, est, h) in index and (b, est, h) in index:
                add({i: 1.0, index[(a, est, h)]: -1.0, index[(b, est, h)]: 1.0}, -1e-9, 1e-9)
        if g == "all" and est.startswith(("share_t", "share_c", "rmst_t", "rmst_c")) and levels:
            arm = "treated" if est.endswith("treated") else "control"
            n_all = sum(sizes[(lv, arm)] for lv in levels)
            coefs = {i: 1.0}
            for lv in levels:
                if (lv, est, h) in index:
                    coefs[index[(lv, est, h)]] = -sizes[(lv, arm)] / n_all
            tol = 0.02 * (h if est.startswith("rmst") else 1.0)   # pooled vs. averaged estimators
            add(coefs, -tol, tol)
    a = np.array(rows) if rows else np.zeros((0, nv))
    out = {}
    for c, i in index.items():
        if np.isfinite(pub["estimate"].iloc[i]):
            continue
        target = np.zeros(nv)
        target[i] = 1
        kw = dict(bounds=bounds, method="highs")
        if len(rows):
            kw.update(A_ub=np.vstack([a, -a]), b_ub=np.concatenate([hi_b, -np.array(lo_b)]))
        lo = linprog(target, **kw)
        hi = linprog(-target, **kw)
        assert lo.status == 0 and hi.status == 0, (c, lo.message)
        out[c] = (lo.fun, -hi.fun)
    return out


def test_no_withheld_effect_is_recovered(case):
    name, ev, data, folder, mon = case
    pub = pd.read_csv(folder / "effects.csv", keep_default_na=True)
    withheld = pub[pub["estimate"].isna()]
    if name == "small":
        assert len(withheld), "the small evaluation withholds something"
    num = share_numerators(ev.analysed, ev.effects.settings)
    sizes = {(g, arm): int(n) for g, arm, n in zip(num["subgroup"], num["arm"], num["n"], strict=True)}
    bounds = _effects_attack(pub, sizes)
    for (g, est, h), (lo, hi) in bounds.items():
        if est in ("share_treated", "share_control"):
            n = sizes[(g, "treated" if est.endswith("treated") else "control")]
            assert (hi - lo) * n >= 1, (g, est, h, lo, hi, n)
        else:
            assert hi - lo > 1e-6, (g, est, h, lo, hi)


def test_withheld_values_appear_in_no_file(case):
    name, ev, data, folder, mon = case
    texts = _texts(folder)
    pub = pd.read_csv(folder / "effects.csv")
    full = ev.effects.summary().reset_index(drop=True)
    shown = {f"{v:.3f}" for v in pub["estimate"].dropna()} | {f"{v:.3f}" for v in pub["ci_low"].dropna()} | \
            {f"{v:.3f}" for v in pub["ci_high"].dropna()}
    for i in np.flatnonzero(pub["estimate"].isna().to_numpy() & np.isfinite(full["estimate"].to_numpy())):
        for col in ("estimate", "ci_low", "ci_high"):
            s = f"{full[col].iloc[i]:.3f}"
            if s in shown or s in ("0.000", "-0.000", "1.000"):
                continue
            pattern = re.compile(rf"(?<![\d.\-−]){re.escape(s)}(?= \[|;|\])")
            found = [f for f, t in texts.items() if pattern.search(t)]
            assert not found, (full.iloc[i][["subgroup", "estimand", "horizon"]].tolist(), col, s, found)


# -- flow -------------------------------------------------------------------------------------------

def test_flow_chain_gives_back_no_small_count(case):
    name, ev, data, folder, mon = case
    threshold = 5
    flow = pd.read_csv(folder / "flow.csv", dtype=str)
    true = ev.flow.table().reset_index()
    cols = ["all", "treated", "control"]
    pub = flow[cols].to_numpy()
    n = true[cols].to_numpy(dtype=float)
    rows, k = n.shape
    hidden = pub == MARK
    nv = rows * k
    cons = []
    for i in range(rows):
        e = np.zeros(nv)
        e[i * k] = 1
        e[i * k + 1] = -1
        e[i * k + 2] = -1
        cons.append((e, 0, 0))
        for j in range(k):
            if not hidden[i, j]:
                e = np.zeros(nv)
                e[i * k + j] = 1
                v = float(re.sub(r"[\s,\xa0]", "", str(pub[i, j])))
                assert v == n[i, j]
                cons.append((e, v, v))
            if i:
                e = np.zeros(nv)
                e[i * k + j] = 1
                e[(i - 1) * k + j] = -1
                cons.append((e, -np.inf, 0))
    a = LinearConstraint(np.array([c[0] for c in cons]), [c[1] for c in cons], [c[2] for c in cons])
    targets = []
    for i in range(rows):
        for j in range(k):
            if hidden[i, j]:
                e = np.zeros(nv)
                e[i * k + j] = 1
                targets.append((f"cell {i},{j}", e))
            if i and 0 < n[i - 1, j] - n[i, j] < threshold:
                e = np.zeros(nv)
                e[i * k + j] = -1
                e[(i - 1) * k + j] = 1
                targets.append((f"drop {i},{j}", e))
    for what, t in targets:
        lo = milp(t, constraints=a, integrality=np.ones(nv), bounds=Bounds(0, np.inf))
        hi = milp(-t, constraints=a, integrality=np.ones(nv), bounds=Bounds(0, np.inf))
        assert lo.status == 0 and hi.status == 0
        assert -hi.fun - lo.fun >= 1, (name, what, lo.fun, -hi.fun)


# -- balance ----------------------------------------------------------------------------------------

def test_hidden_balance_means_have_many_solutions(case):
    name, ev, data, folder, mon = case
    bal = pd.read_csv(folder / "balance.csv", dtype={"mean_treated_before": str, "mean_control_before": str,
                                                     "mean_treated_after": str, "mean_control_after": str})
    tr = ev.roles.treatment
    n = {("treated", "before"): int((ev.validated.data[tr] == 1).sum()),
         ("control", "before"): int((ev.validated.data[tr] == 0).sum()),
         ("treated", "after"): int((ev.analysed[tr] == 1).sum()),
         ("control", "after"): int((ev.analysed[tr] == 0).sum())}
    checked = 0
    for r in bal[bal["type"] == "binary"].itertuples():
        kt_b = _candidates(r.mean_treated_before, n[("treated", "before")])
        kc_b = _candidates(r.mean_control_before, n[("control", "before")])
        # SMD before: (pt - pc) / sqrt(pt (1 - pt)), the treated SD before matching (ATT, as MatchIt)
        pt = kt_b[:, None] / n[("treated", "before")]
        pc = kc_b[None, :] / n[("control", "before")]
        with np.errstate(divide="ignore", invalid="ignore"):
            sd = np.sqrt(pt * (1 - pt))
            smd = np.where(sd > 0, (pt - pc) / sd, 0.0)
        ok = np.abs(smd - r.smd_before) <= 0.005 + 1e-9
        solutions_t = set(kt_b[np.any(ok, axis=1)])
        solutions_c = set(kc_b[np.any(ok, axis=0)])
        if r.mean_treated_before == MARK:
            assert len(solutions_t) > 1, (name, r.covariate, solutions_t)
            checked += 1
        if r.mean_control_before == MARK:
            assert len(solutions_c) > 1, (name, r.covariate, solutions_c)
            checked += 1
        for col, arm in (("mean_treated_after", "treated"), ("mean_control_after", "control")):
            v = getattr(r, col)
            if v != MARK:
                assert len(_candidates(v, n[(arm, "after")])) > 1, (name, r.covariate, col)
                checked += 1
    assert checked


def _candidates(shown: str, size: int) -> np.ndarray:
    """Counts of people with the characteristic consistent with a published (rounded) mean."""
    if shown == MARK:
        return np.arange(size + 1)
    m = float(shown)
    decimals = len(shown.split(".")[1]) if "." in shown else 0
    half = 0.5 * 10 ** -decimals
    k = np.arange(size + 1)
    return k[np.abs(k / size - m) <= half + 1e-12]


# -- identifiers and single-person dates ------------------------------------------------------------

def test_no_identifier_or_single_person_date_in_any_byte(case):
    name, ev, data, folder, mon = case
    texts = _texts(folder)
    raw = {f.name: f.read_bytes() for f in folder.iterdir()}
    ids = set(data[ev.roles.id].astype(str))
    tokens = set()
    for t in texts.values():
        tokens |= set(re.findall(r"[A-Za-z]*\d[\w-]*", t))
    assert not (tokens & ids)
    for b in raw.values():
        assert not any(i.encode() in b for i in list(ids)[:3000] if len(i) >= 6)
    dates = pd.concat([pd.to_datetime(data[c], errors="coerce") for c in data.columns
                       if pd.api.types.is_datetime64_any_dtype(data[c])])
    counts = dates.dt.strftime("%Y-%m-%d").value_counts()
    single = set(counts[counts == 1].index)
    settings_dates = {str(v)[:10] for v in [ev.roles.cutoff, *ev.settings.values()] if isinstance(v, str)}
    found = set()
    for t in texts.values():
        found |= set(re.findall(r"\d{4}-\d{2}-\d{2}", t))
    assert not ((found & single) - settings_dates), name


def test_no_monitoring_identifier_or_single_person_date_in_any_byte_or_figure(case):
    """The monitoring records' identifiers (``P``, ``E``, ``H`` + digits) and dates of one person
    only appear in no file, no figure's PNG metadata or alt text."""
    import base64
    name, ev, data, folder, mon = case
    raw = {f.name: f.read_bytes() for f in folder.iterdir() if f.is_file()}
    with zipfile.ZipFile(folder / "tables.xlsx") as z:
        raw.update({f"xlsx:{n}": z.read(n) for n in z.namelist()})
    html_text = raw["report.html"].decode("utf-8")
    pngs = [base64.b64decode(m) for m in re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", html_text)]
    assert pngs
    raw.update({f"png{i}": b for i, b in enumerate(pngs)})
    alts = " ".join(re.findall(r"alt=['\"]([^'\"]*)['\"]", html_text))
    ids = set()
    for table in (mon.participants, mon.employments, mon.households, mon.household_exits):
        for col in [c for c in table.columns if c.endswith("_id")]:
            ids |= set(table[col].astype(str))
    assert any(re.fullmatch(r"P\d+", i) for i in ids)
    pattern = re.compile(rb"\b[PEH]\d{4,}\b")
    for fname, b in raw.items():
        found = {m.decode() for m in pattern.findall(b)} & ids
        assert not found, (name, fname, sorted(found)[:3])
    assert not re.findall(r"\b[PEH]\d{4,}\b", alts)
    dates = pd.concat([mon.participants[c] for c in mon.participants.columns
                       if pd.api.types.is_datetime64_any_dtype(mon.participants[c])]
                      + [mon.employments[c] for c in mon.employments.columns
                         if pd.api.types.is_datetime64_any_dtype(mon.employments[c])])
    counts = dates.dt.strftime("%Y-%m-%d").value_counts()
    single = set(counts[counts == 1].index) - {"2022-01-01", "2022-10-31"}  # the period is a setting
    for fname, b in raw.items():
        found = set(re.findall(rb"\d{4}-\d{2}-\d{2}", b))
        assert not ({f.decode() for f in found} & single), (name, fname)


# -- goals and monitoring: every number of the report's goal and monitoring tables and sentences ----

def _count(text: str) -> float | None:
    t = str(text).replace(",", "").replace("\u00a0", "").replace(" ", "")
    try:
        return float(t)
    except ValueError:
        return None


def _table_bounds(values: np.ndarray, hidden: np.ndarray, total_row: bool, total_col: bool,
                  extra=()) -> dict[tuple[int, int], tuple[int, int]]:
    """Integer bounds of every hidden cell of a count table, given its published cells, its sums
    (a total row and/or column) and ``extra`` rows ``(coefficients over cells, low, high)``."""
    r, c = values.shape
    nv = r * c
    rows, lo, hi = [], [], []
    def eq(cells, coefs, a, b):
        e = np.zeros(nv)
        for (i, j), w in zip(cells, coefs, strict=True):
            e[i * c + j] += w
        rows.append(e)
        lo.append(a)
        hi.append(b)
    for i in range(r):
        for j in range(c):
            if not hidden[i, j]:
                eq([(i, j)], [1], values[i, j], values[i, j])
    inner_r, inner_c = r - total_row, c - total_col
    if total_col:
        for i in range(r):
            eq([(i, j) for j in range(c)], [1] * inner_c + [-1], 0, 0)
    if total_row:
        for j in range(c):
            eq([(i, j) for i in range(r)], [1] * inner_r + [-1], 0, 0)
    for cells, a, b in extra:
        eq(cells, [1] * len(cells), a, b)
    if not rows:  # nothing published, no sums: every hidden cell is free
        return {(int(i), int(j)): (0, 10 ** 6) for i, j in zip(*np.nonzero(hidden), strict=True)}
    cons = LinearConstraint(np.array(rows), lo, hi)
    out = {}
    for i, j in zip(*np.nonzero(hidden), strict=True):
        t = np.zeros(nv)
        t[i * c + j] = 1
        a = milp(t, constraints=cons, integrality=np.ones(nv), bounds=Bounds(0, 10 ** 6))
        b = milp(-t, constraints=cons, integrality=np.ones(nv), bounds=Bounds(0, 10 ** 6))
        assert a.status == 0 and b.status == 0, (i, j, a.message)
        out[(int(i), int(j))] = (round(a.fun), round(-b.fun))
    return out


def test_monitoring_tables_and_sentence_give_back_no_hidden_count(case):
    """Every monitoring CSV is the table the monitoring result publishes; each is solved by integer
    programming with its sums (and, for the worst case, the goal of people to work or studies as the
    sum of the monthly series when that is true): no hidden cell has one value. The sentence on the
    households' change uses published months only and equals their ratio."""
    name, ev, data, folder, mon = case
    hidden_total = 0
    for key, res in ev.monitoring.items():
        csv = pd.read_csv(folder / f"monitoring_{key}.csv", dtype=str, keep_default_na=False)
        same_as_published(csv.iloc[:, 1:], res.published("en", 5))
        t = res.table
        cols = [c for c in t.columns if not c.startswith("change_")]
        shown = csv.iloc[:, 1:1 + len(cols)].to_numpy()
        keep = np.array([not all(_count(v) is None and v != MARK for v in row) for row in shown])
        shown, true = shown[keep], t[cols].to_numpy(dtype=float)[keep]
        hidden = shown == MARK
        if not hidden.any():
            continue
        values = np.array([[_count(v) or 0.0 for v in row] for row in shown])
        extra = []
        goal = ev.goals.table.set_index("goal")["measured"] if ev.goals is not None else {}
        if key == "to_work_or_studies" and "to_work_or_studies" in goal and \
                np.isclose(np.nansum(true[:, -1]), goal["to_work_or_studies"]):
            extra.append(([(i, true.shape[1] - 1) for i in range(len(true))], goal["to_work_or_studies"],
                          goal["to_work_or_studies"]))
        bounds = _table_bounds(values, hidden, total_row=key in ("outcomes_after_employment", "hires_by_subsidy"),
                               total_col="total" in cols and len(cols) > 1, extra=extra)
        for (i, j), (lo, hi) in bounds.items():
            assert lo <= true[i, j] <= hi, (key, i, j)
            assert hi > lo, (name, key, i, j, lo, hi, true[i, j])
            hidden_total += 1
    if name == "small":
        assert hidden_total, "the small monitoring set hides something"
    hh = ev.monitoring["households"]
    text = (folder / "report.html").read_text(encoding="utf-8")
    sentence = hh.change_text(lang="en")
    if sentence:
        assert sentence in text
        pub = hh.published("en")
        last = hh.table.index.max()
        for k in (1, 2):
            now, before = _count(pub.loc[pub.index[-1]].iloc[0]), _count(pub.iloc[len(pub) - 1 - 12 * k, 0])
            assert now is not None and before is not None  # both months are published
            assert f"{100 * (now / before - 1):+.1f}%".replace("-", "-") in sentence.replace("−", "-")
        assert last == hh.table.index[-1]


def test_hidden_goal_measures_have_many_solutions(case):
    """A goal's measure hidden for a small count: the target, the judgement and its rule, and every
    other published goal number leave it at least two values (oracle: enumeration)."""
    name, ev, data, folder, mon = case
    pub = pd.read_csv(folder / "goal_fulfilment.csv", dtype=str, keep_default_na=False)
    n_participants = _count(pub.iloc[0, 2])
    assert n_participants  # the participants' count is published
    checked = 0
    for rec, row in zip(ev.goals.records, pub.itertuples(index=False), strict=True):
        measured, judgement = row[2], rec["judgement"]
        if rec["kind"] == "share" and measured == MARK:
            target, partly = rec["target"], rec["rule_fields"].get("partly", 0.75)
            sols = {(k, n) for n in range(1, int(n_participants) + 1) for k in range(n + 1)
                    if (k / n >= target) == (judgement == "achieved")
                    and ((partly * target <= k / n < target) == (judgement == "partly_achieved"))}
            assert len({k for k, _ in sols}) > 1 and len({n for _, n in sols}) > 1, rec["goal"]
            checked += 1
        if rec["kind"] == "before_after" and MARK in measured:
            # a hidden "b -> a": only its direction follows from the judgement; many pairs remain
            for state, (b, a) in rec["changes"].items():
                if 0 < b < 5 or 0 < a < 5:
                    pairs = {(x, y) for x in range(0, int(n_participants) + 1) for y in range(0, x)}
                    assert len(pairs) > 1
                    checked += 1
        if rec["kind"] == "count" and measured == MARK:
            target = rec["target"]
            sols = [k for k in range(1, 5) if (k >= target) == (judgement == "achieved")]
            assert len(sols) > 1
            checked += 1
    if name == "small":
        assert checked, "the small evaluation hides a goal measure"


# -- the attacks have teeth: the cell-by-cell rules of before are broken by them ----------------------

def test_attack_recovers_what_cell_by_cell_suppression_leaves():
    from impact.publish import effects_published
    sim = impact.simulate(n_pool=400, random_state=4)
    ev = impact.evaluate(sim.registers, sim.roles, random_state=0)
    num = share_numerators(ev.analysed, ev.effects.settings)
    sizes = {(g, arm): int(n) for g, arm, n in zip(num["subgroup"], num["arm"], num["n"], strict=True)}
    women = min(n for (g, _), n in sizes.items() if g != "all")
    old = effects_published(ev.effects.summary(), threshold=women + 1)  # hides the smaller group only
    bounds = _effects_attack(old, sizes)
    pinned = [c for c, (lo, hi) in bounds.items() if hi - lo < 1e-6]
    assert pinned and any(" - " not in c[0] for c in pinned)  # women = men + difference
