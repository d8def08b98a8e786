"""The fast paths of issue 14 against their oracles (small data: the speed targets live in benchmarks/)."""

from __future__ import annotations


import numpy as np
import pandas as pd
import pytest

import impact
from impact._errors import ImpactWarning


# -- the propensity logit: the separation warning names columns, never categorical levels -----------
def _separated_by_region(n: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    t = (rng.random(n) < 0.3).astype(int)
    region = np.where(t == 1, rng.choice(["north", "tinytown"], n), rng.choice(["south", "east"], n))
    return pd.DataFrame({"treat": t, "age": rng.normal(40, 10, n), "region": region})


def test_separation_warning_names_the_column_not_the_level():
    with pytest.warns(ImpactWarning, match="Perfect separation") as rec:
        impact.match(_separated_by_region(), "treat", ["age", "region"])
    msg = next(str(w.message) for w in rec if "Perfect separation" in str(w.message))
    assert "covariate(s) 'region' separate" in msg
    assert "tinytown" not in msg and "north" not in msg and "region[" not in msg
    assert " rows have a fitted probability" in msg


def test_separation_warning_counts_rows_only_from_five():
    from impact.design._propensity import _separation_message

    assert "fewer than 5 rows have" in _separation_message(["region"], 3)
    assert "fewer than 5 rows have" in _separation_message(["region"], 0)
    assert "5 rows have" in _separation_message(["region"], 5)
    assert "3" not in _separation_message(["region"], 3)


# -- Mahalanobis: the batched search gives the pairs of the old one-query-per-unit loop -------------
def _old_mahalanobis_pairs(X, treated, rank_fn):
    """The previous algorithm (1:1, no strata, data order): one KD-tree query per treated unit,
    widened until the free controls found hold every one tied with the nearest."""
    from scipy.spatial import cKDTree

    from impact.design._mahalanobis import whiten

    def tied(d, best):
        return d <= best * (1 + 1e-9) + 1e-12

    Z = whiten(X, treated)
    t_units, c_units = np.flatnonzero(treated), np.flatnonzero(~treated)
    c_rank = rank_fn(c_units)
    tree = cKDTree(Z[c_units])
    nc = len(c_units)
    free = np.ones(nc, dtype=bool)
    out = set()
    for i in np.argsort(rank_fn(t_units), kind="stable").tolist():
        q = min(nc, 9)
        while True:
            d, j = tree.query(Z[t_units[i]], k=q)
            d, j = np.atleast_1d(d), np.atleast_1d(j)
            ok = np.isfinite(d) & free[np.minimum(j, nc - 1)]
            if q >= nc or (ok.sum() > 1 and not tied(np.array([d[-1]]), float(d[ok][0]))[0]):
                break
            q = min(nc, 4 * q)
        d, j = d[ok], j[ok]
        best = tied(d, float(d.min()))
        pick = np.flatnonzero(best)[np.argmin(c_rank[j[best]])]
        free[j[pick]] = False
        out.add((int(t_units[i]), int(c_units[j[pick]])))
    return out


@pytest.mark.parametrize("finder", ["tree", "products"])
@pytest.mark.parametrize("seed", [0, 1])
def test_mahalanobis_pairs_equal_the_old_loop_on_register_like_data(seed, finder, monkeypatch):
    import impact.design._mahalanobis as M
    from impact.design._mahalanobis import mahalanobis_nearest

    # both candidate finders (the choice between them is timed, so force each in turn)
    monkeypatch.setattr(M, "_candidates", (lambda Zt, Zc, q: M._Tree(Zt, Zc, q)) if finder == "tree"
                        else (lambda Zt, Zc, q: M._Products(Zt, Zc, q)))

    rng = np.random.default_rng(seed)
    n_t, n_c = 450, 10_000                    # n_t * n_c above the brute-force size: the KD-tree path
    n = n_t + n_c
    treated = np.r_[np.ones(n_t, bool), np.zeros(n_c, bool)]
    cols = [rng.integers(18, 64, n) + 3 * treated, rng.integers(0, 731, n)]
    cols += [(rng.random(n) < 0.15 + 0.05 * k + 0.1 * treated).astype(float) for k in range(8)]
    X = np.column_stack(cols).astype(float)
    key = rng.permutation(n)

    def rank_fn(pos):
        o = np.argsort(key[pos], kind="stable")
        r = np.empty(len(pos), dtype=np.int64)
        r[o] = np.arange(len(pos))
        return r

    new = mahalanobis_nearest(X, treated, None, rank_fn, rng=np.random.default_rng(0))
    assert set(zip(new.treated.tolist(), new.control.tolist())) == _old_mahalanobis_pairs(X, treated, rank_fn)
    assert len(new.treated) == n_t


# -- effects without matched sets: rows of different subgroups are different clusters ---------------
def test_subgroup_difference_without_sets_adds_the_variances():
    sim = impact.simulate(3000, random_state=5)
    from impact.pipeline._evaluate import time_to_event   # noqa: PLC0415  (a test may read the pipeline)

    v = impact.validate(sim.registers, sim.roles)
    data = time_to_event(v.data, sim.roles, clock="own")
    tab = impact.estimate_effects(data, treatment=sim.roles.treatment, by=sim.roles.subgroup,
                                  horizons=(180,), weights=None, cluster=None, subdistribution=False).table
    levels = sorted(data[sim.roles.subgroup].unique())
    for est in ("share_diff", "rmst_diff"):
        se = {r.subgroup: r.se for r in tab[tab["estimand"] == est].itertuples()}
        assert se[f"{levels[0]} - {levels[1]}"] == pytest.approx(np.hypot(se[levels[0]], se[levels[1]]), rel=1e-10)
