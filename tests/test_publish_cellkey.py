"""Repeated releases (issue 11, point 3): ten consecutive monthly reports.

The table: participants who left for studies, by month of exit and gender, with row totals, the
cumulative column totals and the grand total, published every month from January to October 2022
(the synthetic monitoring records). Oracle: an integer program over *every* cell of *all ten*
releases (scipy ``milp``), given the p-table's noise bounds: with cell-key noise no small count
(1-4) is pinned to one value; with threshold suppression alone (each release protected on its
own, totals published) the same attack gets hidden counts back exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import Bounds, LinearConstraint, milp

from impact.publish import MARK, PTABLE, cell_key_noise, cell_key_table, record_keys, suppress
from impact.synthetic import simulate_monitoring

MONTHS = pd.period_range("2022-01", "2022-10", freq="M")
SECRET = "kept-in-the-office-safe"


@pytest.fixture(scope="module")
def records():
    r = simulate_monitoring(random_state=0).participants
    r = r[(r["outcome"] == "to_studies") & r["end_date"].between("2022-01-01", "2022-10-31")].copy()
    r["month"] = r["end_date"].dt.to_period("M").astype(str)
    return r


def _release(records, t):
    """The table published in month t (January = 0): every month so far."""
    months = [str(m) for m in MONTHS[:t + 1]]
    return records[records["month"].isin(months)]


def _true(records):
    return pd.crosstab(records["month"], records["gender"]).reindex([str(m) for m in MONTHS], fill_value=0)


def _attack(releases, truth, noise):
    """Bounds of every true inner cell over all releases together. ``releases``: list of published
    DataFrames (rows = months so far + 'total', columns = genders + 'total'), MARK where hidden."""
    months = list(truth.index)
    genders = list(truth.columns)
    idx = {(m, g): i for i, (m, g) in enumerate((m, g) for m in months for g in genders)}
    nv = len(idx)
    rows, lo, hi = [], [], []
    lb, ub = np.zeros(nv), np.full(nv, np.inf)
    for pub in releases:
        so_far = [m for m in pub.index if m != "total"]
        for r in pub.index:
            for c in pub.columns:
                y = pub.loc[r, c]
                if isinstance(y, str) and y == MARK:
                    continue
                y = float(str(y).replace(",", "").replace(" ", ""))
                ms = so_far if r == "total" else [r]
                gs = genders if c == "total" else [c]
                e = np.zeros(nv)
                for m in ms:
                    for g in gs:
                        e[idx[(m, g)]] = 1
                low, high = (y - noise, y + noise)
                if noise and y > 0:
                    low = max(low, 1)  # only an empty cell shows 0 for sure; a shown count > 0 is not empty
                if noise == 0 or (noise and len(ms) * len(gs) == 1):
                    if len(ms) * len(gs) == 1:
                        i = int(np.flatnonzero(e)[0])
                        lb[i], ub[i] = max(lb[i], low), min(ub[i], high)
                        continue
                rows.append(e)
                lo.append(low)
                hi.append(high)
    cons = [LinearConstraint(np.array(rows), lo, hi)] if rows else []
    out = {}
    for (m, g), i in idx.items():
        t = np.zeros(nv)
        t[i] = 1
        a = milp(t, constraints=cons, integrality=np.ones(nv), bounds=Bounds(lb, ub))
        b = milp(-t, constraints=cons, integrality=np.ones(nv), bounds=Bounds(lb, ub))
        assert a.status == 0 and b.status == 0, (m, g, a.message)
        out[(m, g)] = (round(a.fun), round(-b.fun))
    return out


def test_same_cell_same_noise_in_every_release(records):
    tables = [cell_key_table(_release(records, t), "month", "gender", id="person_id", secret=SECRET)
              for t in range(10)]
    for t in range(1, 10):
        inner = tables[t - 1].published.drop(index="total")
        assert tables[t].published.loc[inner.index].equals(inner)  # republished months: unchanged
    last = tables[-1]
    assert (last.published >= 0).all().all()
    assert ((last.published - last.counts).abs() <= 2).all().all()
    assert ((last.counts != 0) | (last.published == 0)).all().all()  # an empty cell has no noise
    assert (last.published != last.counts).any().any()
    # another secret, other noise; no secret, no keys
    other = cell_key_table(_release(records, 9), "month", "gender", id="person_id", secret="another")
    assert not other.published.equals(last.published)
    with pytest.raises(Exception, match="secret"):
        record_keys(["a"], secret="")


def test_ten_monthly_cell_key_releases_solved_together_give_back_no_small_count(records):
    truth = _true(records)
    releases = [cell_key_table(_release(records, t), "month", "gender", id="person_id", secret=SECRET).published
                for t in range(10)]
    bounds = _attack(releases, truth, noise=2)
    small = [(m, g) for m in truth.index for g in truth.columns if 0 < truth.loc[m, g] < 5]
    assert len(small) >= 3
    for cell in small:
        lo, hi = bounds[cell]
        assert lo <= truth.loc[cell] <= hi
        assert hi > lo, (cell, lo, hi)
    # the published small cells are perturbed (not the true count) in some cases, never negative
    last = releases[-1]
    assert any(last.loc[m, g] != truth.loc[m, g] for m, g in small)


def test_threshold_suppression_alone_is_broken_across_releases(records):
    truth = _true(records)
    releases = []
    for t in range(10):
        table = pd.crosstab(_release(records, t)["month"], _release(records, t)["gender"])
        table["total"] = table.sum(axis=1)
        table.loc["total"] = table.sum()
        releases.append(suppress(table, 5, total_row="total", total_col="total").published)
    hidden_now = [(m, g) for pub in releases for m in pub.index for g in truth.columns
                  if m != "total" and pub.loc[m, g] == MARK]
    assert hidden_now
    bounds = _attack(releases, truth, noise=0)
    recovered = [c for c in set(hidden_now) if bounds[c][0] == bounds[c][1]]
    assert recovered  # e.g. this month's women = this month's column total - last month's


def test_ptable_rows_are_probabilities_and_symmetric():
    for n, row in PTABLE.items():
        assert abs(sum(row.values()) - 1) < 1e-12 and all(n + v >= 0 for v in row)
        assert n == 0 or all(n + v >= 1 for v in row)  # a count of 1 or more is never shown as 0
        if n >= 2:
            assert abs(sum(v * p for v, p in row.items())) < 1e-12  # no bias from 2 on (1 can only go up)
    keys = np.linspace(0, 1, 10001)[:-1]
    noise = cell_key_noise(np.full(len(keys), 10), keys)
    values, freq = np.unique(noise, return_counts=True)
    assert values.tolist() == [-2, -1, 0, 1, 2]
    np.testing.assert_allclose(freq / len(keys), [0.1, 0.2, 0.4, 0.2, 0.1], atol=1e-3)
