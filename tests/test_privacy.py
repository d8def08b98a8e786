"""Small-cell suppression: known answers on hand-built tables, and an attacker who must fail.

Oracles
-------
* hand-computed patterns and intervals for small tables (derived in comments below);
* an attacker written here, independently of :mod:`impact.publish`, who reads only the published
  strings and the totals a reader knows, and (a) solves every row/column with one unknown, again
  and again, and (b) bounds each hidden cell by linear programming (``scipy.optimize.linprog``).
  Every primary cell must survive both attacks on every table, including random ones.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from impact import DataError, ParameterError
from impact.publish import feasible_intervals, suppress

# ----------------------------------------------------------------------------------------------
# the attacker


def _equations(counts: pd.DataFrame, total_row, total_col, hidden_totals: str):
    """Linear equations a reader knows: list of (cells, coefficients, constant) meaning
    sum(coef * x[cell]) == constant, with cells as (row position, col position)."""
    R, C = counts.shape
    tr = None if total_row is None else counts.index.get_loc(total_row)
    tc = None if total_col is None else counts.columns.get_loc(total_col)
    rows_in = [i for i in range(R) if i != tr]
    cols_in = [j for j in range(C) if j != tc]
    eqs = []
    for i in range(R):
        cells = [(i, j) for j in cols_in]
        if tc is not None:
            eqs.append((cells + [(i, tc)], [1.0] * len(cells) + [-1.0], 0.0))
        elif hidden_totals == "known" and len(cols_in) >= 2:
            # the reader knows the row's sum from elsewhere
            eqs.append((cells, [1.0] * len(cells), float(counts.iloc[i, cols_in].sum())))
    for j in range(C):
        cells = [(i, j) for i in rows_in]
        if tr is not None:
            eqs.append((cells + [(tr, j)], [1.0] * len(cells) + [-1.0], 0.0))
        elif hidden_totals == "known" and len(rows_in) >= 2:
            eqs.append((cells, [1.0] * len(cells), float(counts.iloc[rows_in, j].sum())))
    return eqs


def _published_values(published: pd.DataFrame, mark: str) -> tuple[np.ndarray, np.ndarray]:
    hidden = (published == mark).to_numpy()
    vals = np.where(hidden, np.nan, published.replace(mark, "nan").astype(float).to_numpy())
    return vals, hidden


def subtraction_attack(published, mark, eqs) -> set[tuple[int, int]]:
    """Solve any equation with a single unknown, repeatedly. Returns the recovered cells."""
    vals, hidden = _published_values(published, mark)
    unknown = {tuple(map(int, c)) for c in zip(*np.nonzero(hidden))}
    recovered: set[tuple[int, int]] = set()
    progress = True
    while progress:
        progress = False
        for cells, coefs, const in eqs:
            todo = [(c, w) for c, w in zip(cells, coefs) if c in unknown]
            if len(todo) == 1:
                (cell, w), = todo
                known = sum(w2 * vals[c2] for c2, w2 in zip(cells, coefs) if c2 not in unknown)
                vals[cell] = (const - known) / w
                unknown.discard(cell)
                recovered.add(cell)
                progress = True
    return recovered


def lp_bounds(published, mark, eqs, hide_all_real: bool = False) -> dict[tuple[int, int], tuple[float, float]]:
    """Lower and upper bound of every hidden cell given the published cells (linprog)."""
    vals, hidden = _published_values(published, mark)
    if hide_all_real:
        hidden = np.ones_like(hidden)
    var = [tuple(map(int, c)) for c in zip(*np.nonzero(hidden))]
    k = {c: n for n, c in enumerate(var)}
    A, b = [], []
    for cells, coefs, const in eqs:
        a = np.zeros(len(var))
        rhs = const
        for c, w in zip(cells, coefs):
            if c in k:
                a[k[c]] += w
            else:
                rhs -= w * vals[c]
        if a.any():
            A.append(a)
            b.append(rhs)
    out = {}
    for c in var:
        obj = np.zeros(len(var))
        obj[k[c]] = 1
        if not A:
            out[c] = (0.0, np.inf)
            continue
        lo = linprog(obj, A_eq=np.array(A), b_eq=np.array(b), bounds=(0, None), method="highs")
        hi = linprog(-obj, A_eq=np.array(A), b_eq=np.array(b), bounds=(0, None), method="highs")
        assert lo.status == 0, "the published table must be consistent"
        out[c] = (lo.fun, -hi.fun if hi.status == 0 else np.inf)
    return out


def assert_protected(counts, res, threshold=5, total_row=None, total_col=None, hidden_totals="known",
                     zeros="publish"):
    """Both attacks fail on every primary cell; each hidden cell's interval is wide enough."""
    eqs = _equations(counts, total_row, total_col, hidden_totals)
    v = counts.to_numpy()
    small = (v < threshold) if zeros == "suppress" else (v > 0) & (v < threshold)
    primary = {tuple(map(int, c)) for c in zip(*np.nonzero(small))}
    assert (res.primary.to_numpy() == small).all()
    published = res.published
    assert (published.to_numpy() == res.mark).sum() == res.mask.to_numpy().sum()
    # published cells show the true counts
    shown = ~res.mask.to_numpy()
    assert (published.to_numpy()[shown].astype(float) == v[shown]).all()
    assert not (subtraction_attack(published, res.mark, eqs) & primary)
    bounds = lp_bounds(published, res.mark, eqs)
    best = None
    for cell in primary:
        lo, hi = bounds[cell]
        assert lo - 1e-6 <= v[cell] <= hi + 1e-6
        width = np.floor(hi + 1e-7) - np.ceil(lo - 1e-7)
        if width >= threshold:
            continue
        # narrower than the threshold is only acceptable when nothing wider is possible, i.e.
        # even with every printed cell hidden (known totals that are themselves small)
        best = best or lp_bounds(published, res.mark, eqs, hide_all_real=True)
        possible = np.floor(best[cell][1] + 1e-7) - np.ceil(best[cell][0] - 1e-7)
        assert width >= possible - 1e-9, (cell, lo, hi)
        assert width > 0 or possible == 0


def lonely_lines(counts, res, total_row, total_col, hidden_totals="known") -> list:
    """Equations that hold exactly one hidden cell (each could be solved for it)."""
    m = res.mask.to_numpy()
    return [cells for cells, _, _ in _equations(counts, total_row, total_col, hidden_totals)
            if sum(m[c] for c in cells) == 1]


def with_totals(inner: pd.DataFrame, row: bool = True, col: bool = True) -> pd.DataFrame:
    t = inner.copy()
    if col:
        t["total"] = inner.sum(axis=1)
    if row:
        t.loc["total"] = t.sum(axis=0)
    return t


# ----------------------------------------------------------------------------------------------
# known answers


def test_one_small_cell_in_a_2x2_table_hides_the_whole_inner_table():
    # x,a = 1 is primary. Row x needs a partner: b (10) is preferred to the row total (11).
    # Column a needs a partner: y (20, in a row that will need one anyway). Then column b and row y
    # each hold one hidden cell, and (y, b) closes both. Reader's interval for (x, a):
    # a in [0, 11] since (x, b) = 11 - a >= 0 and every other cell stays >= 0.
    t = with_totals(pd.DataFrame({"a": [1, 20], "b": [10, 30]}, index=["x", "y"]))
    res = suppress(t, total_row="total", total_col="total")
    expected = pd.DataFrame(False, index=t.index, columns=t.columns)
    expected.loc[["x", "y"], ["a", "b"]] = True
    pd.testing.assert_frame_equal(res.mask, expected)
    row = res.summary().set_index(["row", "column"]).loc[("x", "a")]
    assert (row["lower"], row["upper"]) == (0.0, 11.0)
    assert res.published.loc["total", "total"] == str(1 + 20 + 10 + 30)
    assert_protected(t, res, total_row="total", total_col="total")


def test_seed_hires_table():
    # AMA's table of 835 hires in 2022 by subsidy type (seed): Extratjänster women 2, men 0.
    inner = pd.DataFrame(
        {"women": [2, 42, 220, 147, 27], "men": [0, 46, 189, 114, 48]},
        index=["extratjanster", "lonebidrag_osa", "nystartsjobb", "introduktionsjobb", "no_subsidy"])
    t = with_totals(inner)
    res = suppress(t, total_row="total", total_col="total")
    assert res.published.loc["total", "total"] == "835"
    # the two cells holding the 2 women are primary; the men's zero is shown
    assert res.primary.to_numpy().sum() == 2
    assert res.primary.loc["extratjanster", "women"] and res.primary.loc["extratjanster", "total"]
    assert res.published.loc["extratjanster", "men"] == "0"
    assert lonely_lines(t, res, "total", "total") == []
    assert_protected(t, res, total_row="total", total_col="total")


def test_seed_outcome_table_has_nothing_to_hide():
    # results 90 days after an ended employment (seed): every cell is at least 6
    inner = pd.DataFrame({"women": [64, 20, 208, 6, 14, 32], "men": [87, 15, 242, 14, 51, 16]})
    t = with_totals(inner)
    res = suppress(t, total_row="total", total_col="total")
    assert not res.mask.to_numpy().any()
    assert res.published.loc["total"].tolist() == ["344", "425", "769"]
    assert res.published.to_numpy().tolist() == t.astype(int).astype(str).to_numpy().tolist()


def test_partner_that_creates_a_lonely_cell_in_its_column_gets_a_partner_too():
    # Only (x, a) = 3 is small. Whatever partner row x gets (a cell of column b, c or the total)
    # is alone in its column until that column gets a partner, which is alone in its row, ...
    inner = pd.DataFrame({"a": [3, 40, 70], "b": [50, 9, 80], "c": [60, 30, 90]}, index=["x", "y", "z"])
    t = with_totals(inner)
    res = suppress(t, total_row="total", total_col="total")
    assert res.n_primary == 1
    assert res.n_secondary >= 3
    assert lonely_lines(t, res, "total", "total") == []
    assert_protected(t, res, total_row="total", total_col="total")


def test_two_small_cells_in_one_row_do_not_protect_each_other():
    # (x, a) = 1 and (x, b) = 2 hide each other, but a + b = 3 is then known: the interval of
    # each is [0, 3], narrower than 5. A third cell must join.
    t = with_totals(pd.DataFrame({"a": [1, 30], "b": [2, 40], "c": [50, 60]}, index=["x", "y"]))
    res = suppress(t, total_row="total", total_col="total")
    assert res.mask.loc["x"].drop("total").sum() + res.mask.loc["x", "total"] >= 3
    assert_protected(t, res, total_row="total", total_col="total")


def test_small_total_cell_is_primary():
    t = with_totals(pd.DataFrame({"a": [1, 30], "b": [2, 40]}, index=["x", "y"]))
    res = suppress(t, total_row="total", total_col="total")
    assert res.primary.loc["x", "total"]  # 1 + 2 = 3
    assert_protected(t, res, total_row="total", total_col="total")


def test_known_totals_that_are_small_cap_the_protection():
    # no total column printed, but the row sum (3) is known: no interval can be wider than 3
    t = pd.DataFrame({"a": [1, 20], "b": [2, 30]}, index=["x", "y"])
    res = suppress(t)
    assert res.mask.loc["x"].all()
    assert (res.summary().query("reason == 'primary'")["required"] == 3).all()
    assert any("at most" in n for n in res.notes)
    assert_protected(t, res)


def test_zeros_are_shown_by_default_and_hidden_on_request():
    t = with_totals(pd.DataFrame({"a": [0, 30, 25], "b": [12, 40, 0], "c": [50, 60, 7]}, index=["x", "y", "z"]))
    shown = suppress(t, total_row="total", total_col="total")
    assert not shown.mask.to_numpy().any()
    hidden = suppress(t, total_row="total", total_col="total", zeros="suppress")
    assert hidden.primary.loc["x", "a"] and hidden.primary.loc["z", "b"]
    assert_protected(t, hidden, total_row="total", total_col="total", zeros="suppress")


def test_series_without_meaningful_sums_gets_primary_suppression_only():
    s = pd.DataFrame({"households": [2100, 3, 1980, 2050]},
                     index=pd.period_range("2022-01", periods=4, freq="M"))
    res = suppress(s, hidden_totals="ignore")
    assert res.mask["households"].tolist() == [False, True, False, False]
    assert res.n_secondary == 0


def test_custom_mark_and_format():
    t = with_totals(pd.DataFrame({"a": [1, 2000], "b": [1500, 3000]}, index=["x", "y"]))
    res = suppress(t, mark="–", total_row="total", total_col="total",
                   fmt=lambda v: f"{int(v):,}".replace(",", " "))
    assert res.published.loc["total", "total"] == "6 501"
    assert res.published.loc["x", "a"] == "–"


def test_shares_from_hidden_counts_are_hidden():
    t = with_totals(pd.DataFrame({"women": [2, 42, 220], "men": [7, 46, 189]},
                                 index=["extratjanster", "lonebidrag_osa", "nystartsjobb"]))
    res = suppress(t, total_row="total", total_col="total")
    shares = res.shares("column")
    assert (shares.to_numpy() == "..")[res.mask.to_numpy()].all()
    # a published count over a published total: 220 / (2 + 42 + 220) = 83.3%
    assert not res.mask.loc["nystartsjobb", "women"]
    assert shares.loc["nystartsjobb", "women"] == f"{100 * 220 / 264:.1f}%"
    assert res.shares("column", lang="sv").loc["nystartsjobb", "women"] == f"{100 * 220 / 264:.1f} %".replace(".", ",")
    # hiding a denominator hides every share computed from it
    t2 = with_totals(pd.DataFrame({"a": [1, 2], "b": [30, 40]}, index=["x", "y"]))
    res2 = suppress(t2, total_row="total", total_col="total")
    row_shares = res2.shares("row")
    for r in t2.index:
        if res2.mask.loc[r, "total"]:
            assert (row_shares.loc[r] == "..").all()


def test_apply_hides_the_same_cells_in_a_derived_table():
    t = with_totals(pd.DataFrame({"a": [1, 20], "b": [10, 30]}, index=["x", "y"]))
    res = suppress(t, total_row="total", total_col="total")
    rates = t / 100
    out = res.apply(rates)
    assert (out.to_numpy() == "..").sum() == res.mask.to_numpy().sum()
    assert out.loc["total", "total"] == rates.loc["total", "total"]


def test_same_input_same_pattern():
    rng = np.random.default_rng(7)
    t = with_totals(pd.DataFrame(rng.integers(0, 12, size=(5, 4)), columns=list("abcd")))
    a = suppress(t, total_row="total", total_col="total")
    b = suppress(t.copy(), total_row="total", total_col="total")
    pd.testing.assert_frame_equal(a.mask, b.mask)


# ----------------------------------------------------------------------------------------------
# random tables: the attack must fail on every one


def _random_table(seed: int) -> tuple[pd.DataFrame, object, object, str]:
    rng = np.random.default_rng(seed)
    r, c = int(rng.integers(1, 6)), int(rng.integers(2, 5))
    if seed % 5 == 0:
        r, c = c, 1
    lam = rng.choice([3.0, 8.0, 30.0], size=(r, c))
    values = rng.poisson(lam)
    inner = pd.DataFrame(values, index=[f"r{i}" for i in range(r)], columns=[f"c{j}" for j in range(c)])
    kind = seed % 4
    row, col = kind in (0, 1), kind in (0, 2)
    t = with_totals(inner, row=row, col=col)
    hidden = "ignore" if seed % 7 == 3 else "known"
    return t, ("total" if row else None), ("total" if col else None), hidden


@pytest.mark.parametrize("seed", range(40))
def test_random_tables_resist_recovery(seed):
    t, tr, tc, hidden = _random_table(seed)
    res = suppress(t, total_row=tr, total_col=tc, hidden_totals=hidden)
    assert_protected(t, res, total_row=tr, total_col=tc, hidden_totals=hidden)
    assert lonely_lines(t, res, tr, tc, hidden) == []


def test_library_audit_agrees_with_the_attacker():
    t, tr, tc, hidden = with_totals(pd.DataFrame({"a": [1, 20, 4], "b": [10, 30, 9]})), "total", "total", "known"
    res = suppress(t, total_row=tr, total_col=tc)
    mine = lp_bounds(res.published, "..", _equations(t, tr, tc, hidden))
    lib = feasible_intervals(res.published, total_row=tr, total_col=tc)
    for _, row in lib.iterrows():
        cell = (t.index.get_loc(row["row"]), t.columns.get_loc(row["column"]))
        assert row["lower"] == pytest.approx(mine[cell][0], abs=1e-6)
        assert row["upper"] == pytest.approx(mine[cell][1], abs=1e-6)


# ----------------------------------------------------------------------------------------------
# bad input


def _base():
    return pd.DataFrame({"women": [10, 20, 30], "men": [15, 25, 35]}, index=["a", "b", "c"])


@pytest.mark.parametrize("mutate, kwargs, exc, pattern", [
    (lambda t: t.assign(men=[15, np.nan, 35]), {}, DataError,
     r"Column 'men': counts must not be missing; 1 row \(position 1\)\. .*fillna\(0\)"),
    (lambda t: t.assign(women=[10, -1, 30]), {}, DataError,
     r"Column 'women': counts must be >= 0; 1 row \(position 1\)"),
    (lambda t: t.assign(women=[10.5, 20, 30]), {}, DataError,
     r"Column 'women': counts must be whole numbers; 1 row \(position 0\)"),
    (lambda t: t.assign(total=[25, 45, 66]), {"total_col": "total"}, DataError,
     r"Column 'total': the total column must equal the sum of the other columns; 1 row \(position 2\)"),
    (lambda t: pd.concat([t, pd.DataFrame({"women": [61], "men": [70]}, index=["total"])]),
     {"total_row": "total"}, DataError, r"Row 'total': the total row must equal the sum .* 'women', 'men'"),
    (lambda t: t, {"total_row": "totl"}, ParameterError, r"'total_row' .* Got 'totl'"),
    (lambda t: t.assign(total=t.sum(axis=1)), {"total_col": "Total"}, ParameterError, r"Did you mean 'total'\?"),
    (lambda t: t, {"threshold": 0}, ParameterError, r"'threshold' parameter of suppress must be >= 1"),
    (lambda t: t, {"zeros": "hide"}, ParameterError, r"'zeros' parameter of suppress must be one of"),
    (lambda t: t, {"hidden_totals": "unknown"}, ParameterError, r"Did you mean 'known'\?"),
    (lambda t: t.rename(index={"b": "a"}), {}, ParameterError, r"duplicate row labels \['a'\]"),
])
def test_bad_input(mutate, kwargs, exc, pattern):
    with pytest.raises(exc, match=pattern):
        suppress(mutate(_base()), **kwargs)


def test_error_names_positions_not_labels():
    # row labels may be identifiers: the message gives positions only
    t = pd.DataFrame({"n": [3, np.nan]}, index=["199001011234", "198502029876"])
    with pytest.raises(DataError) as info:
        suppress(t)
    assert "1985" not in str(info.value) and info.value.positions == (1,)


def test_one_equation_bounds_by_hand_agree_with_linear_programming():
    """The audit's shortcut for a hidden cell bound by one equation only (a month's women + men =
    total) gives linprog's bounds. Oracle: scipy's linprog on 300 random consistent equations."""
    from scipy.optimize import linprog

    from impact.publish._suppress import _Grid, _interval
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(300):
        n = int(rng.integers(2, 6))
        coef = rng.choice([1.0, -1.0], size=n)
        vals = rng.integers(0, 9, size=n).astype(float)
        vals[-1] = -(coef[:-1] @ vals[:-1]) / coef[-1]
        supp = rng.random(n) < 0.6
        if vals[-1] < 0 or not supp.any():
            continue
        grid = _Grid(vals.reshape(1, -1), np.ones((1, n), bool), np.zeros((1, n), bool), [[None] * n],
                     [(np.arange(n), coef)])
        for t in np.flatnonzero(supp):
            lo, hi = _interval(grid, supp.copy(), int(t))
            c = (np.flatnonzero(supp) == t).astype(float)
            A, b = coef[supp][None, :], [-(coef[~supp] @ vals[~supp])]
            low, high = linprog(c, A_eq=A, b_eq=b, bounds=(0, None)), linprog(-c, A_eq=A, b_eq=b, bounds=(0, None))
            assert low.status == 0 and np.isclose(low.fun, lo)
            assert (high.status == 3 and np.isinf(hi)) or np.isclose(-high.fun, hi)
            checked += 1
    assert checked > 200
