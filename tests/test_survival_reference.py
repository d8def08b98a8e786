"""impact.survival against R's survival package (oracle: R fixtures).

The fixtures are written by tests/reference/survival.R (R 4.2.2, survival 3.5-3); this suite only
reads them. Tolerances are stated per quantity: 1e-9 absolute where the computation is the same
closed form (curves, standard errors, influence), 1e-6 relative for iterative fits (Cox).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from impact.survival import CoxPH, aalen_johansen, kaplan_meier

FIX = Path(__file__).parent / "reference" / "fixtures"
COVS = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]

# tolerances per quantity
TOL_CURVE = 1e-9      # survival / cumulative incidence (same closed form as R)
TOL_SE = 1e-9         # IJ standard errors and influence (same closed form as R)
TOL_SE_ABS_LOOSE = 1e-6  # se of "pcm or death" near 1 (R's influence sums carry rounding)
TOL_COX_REL = 1e-6    # Cox coefficients and variances (iterative fit)


def _read(name: str) -> pd.DataFrame:
    return pd.read_csv(FIX / name, comment="#")


@pytest.fixture(scope="module")
def rossi() -> pd.DataFrame:
    return _read("rossi.csv")


@pytest.fixture(scope="module")
def mgus() -> pd.DataFrame:
    m = _read("mgus2.csv")
    m["cause"] = m["event"].where(m["event"] != "censor", 0)
    return m


def test_fixture_headers_name_versions() -> None:
    for path in FIX.glob("survival_*.csv"):
        first = path.read_text().splitlines()[0]
        assert first.startswith("# R 4.2.2, survival 3.5.3"), path.name


# ---------------------------------------------------------------------------------------------
# Kaplan-Meier
# ---------------------------------------------------------------------------------------------
KM_VARIANTS = {
    "plain": {},
    "weighted": {"weights": "w"},
    "weighted_cluster": {"weights": "w", "cluster": "clus"},
}


@pytest.mark.parametrize("variant", list(KM_VARIANTS))
def test_km_table_matches_r(rossi: pd.DataFrame, variant: str) -> None:
    ref = _read("survival_km.csv").query("variant == @variant")
    kw = {k: rossi[c] for k, c in KM_VARIANTS[variant].items()}
    km = kaplan_meier(rossi["week"], rossi["arrest"], **kw)
    t = km.table
    np.testing.assert_array_equal(t["time"], ref["time"])
    np.testing.assert_allclose(t["n_risk"], ref["n_risk"], atol=1e-9)
    np.testing.assert_allclose(t["n_event"], ref["n_event"], atol=1e-9)
    np.testing.assert_allclose(t["n_censor"], ref["n_censor"], atol=1e-9)
    np.testing.assert_allclose(t["survival"], ref["surv"], atol=TOL_CURVE)
    np.testing.assert_allclose(t["se"], ref["se"], atol=TOL_SE)
    np.testing.assert_allclose(t["ci_low"], ref["lower"], atol=TOL_SE)
    np.testing.assert_allclose(t["ci_high"], ref["upper"], atol=TOL_SE)


def test_km_by_group_and_conf_level_match_r(rossi: pd.DataFrame) -> None:
    km_ref = _read("survival_km.csv")
    for g in (0, 1):
        ref = km_ref[(km_ref["variant"] == "group_weighted_cluster")
                     & (km_ref["group"].astype(str) == str(g))]
        assert len(ref) > 0
        d = rossi[rossi["fin"] == g]
        km = kaplan_meier(d["week"], d["arrest"], weights=d["w"], cluster=d["clus"])
        np.testing.assert_allclose(km.table["survival"], ref["surv"], atol=TOL_CURVE)
        np.testing.assert_allclose(km.table["se"], ref["se"], atol=TOL_SE)
    ref = km_ref.query("variant == 'weighted_cluster_90'")
    km = kaplan_meier(rossi["week"], rossi["arrest"], weights=rossi["w"], cluster=rossi["clus"],
                      conf_level=0.9)
    np.testing.assert_allclose(km.table["ci_low"], ref["lower"], atol=TOL_SE)
    np.testing.assert_allclose(km.table["ci_high"], ref["upper"], atol=TOL_SE)


def test_km_influence_summed_in_clusters_matches_r(rossi: pd.DataFrame) -> None:
    ref = _read("survival_km_influence.csv")
    km = kaplan_meier(rossi["week"], rossi["arrest"], weights=rossi["w"], cluster=rossi["clus"])
    times = [10, 30, 52]
    U = km.influence(times)
    assert U.shape == (len(rossi), 3)
    for c, t in enumerate(times):
        agg = pd.Series(U[:, c]).groupby(rossi["clus"].to_numpy()).sum()
        r = ref[ref["time"] == t].set_index("cluster")["influence"].reindex(agg.index)
        np.testing.assert_allclose(agg.to_numpy(), r.to_numpy(), atol=TOL_SE)
        # R's convention: se^2 = sum over clusters of squared cluster sums
        se = km.at([t])["se"].item()
        assert np.sqrt(np.sum(agg.to_numpy() ** 2)) == pytest.approx(se, abs=1e-12)


# ---------------------------------------------------------------------------------------------
# Aalen-Johansen on mgus2 (progression vs death), by sex
# ---------------------------------------------------------------------------------------------
AJ_VARIANTS = {"plain": {}, "weighted": {"weights": "w"},
               "weighted_cluster": {"weights": "w", "cluster": "clus"}}


@pytest.mark.parametrize("variant", list(AJ_VARIANTS))
@pytest.mark.parametrize("sex", ["F", "M"])
def test_aj_matches_r(mgus: pd.DataFrame, variant: str, sex: str) -> None:
    ref_all = _read("survival_aj.csv").query("variant == @variant and group == @sex")
    d = mgus[mgus["sex"] == sex]
    kw = {k: d[c] for k, c in AJ_VARIANTS[variant].items()}
    aj = aalen_johansen(d["etime"], d["cause"], **kw)
    for state in ("pcm", "death"):
        ref = ref_all[ref_all["state"] == state]
        got = aj.cif(state, ref["time"].to_numpy())
        np.testing.assert_allclose(got["estimate"], ref["pstate"], atol=TOL_CURVE)
        np.testing.assert_allclose(got["se"], ref["se"], atol=TOL_SE)
        ok = ref["lower"].notna().to_numpy()
        np.testing.assert_allclose(got["ci_low"].to_numpy()[ok], ref["lower"].to_numpy()[ok],
                                   atol=TOL_SE)
        np.testing.assert_allclose(got["ci_high"].to_numpy()[ok], ref["upper"].to_numpy()[ok],
                                   atol=TOL_SE)
    if variant != "weighted_cluster":  # the fixture holds the no-exit state for these two
        ref = ref_all[ref_all["state"] == "none"]
        assert len(ref) == len(aj.table)
        np.testing.assert_allclose(aj.table["survival"], ref["pstate"], atol=TOL_CURVE)
    if variant == "plain":  # R's multi-state n.risk counts rows even when weighted; ours sums weights
        np.testing.assert_allclose(aj.table["n_risk"], ref_all["n_risk"].iloc[:len(aj.table)],
                                   atol=1e-9)


@pytest.mark.parametrize("sex", ["F", "M"])
def test_aj_combined_causes_match_r(mgus: pd.DataFrame, sex: str) -> None:
    ref = _read("survival_aj_combined.csv").query("group == @sex")
    d = mgus[mgus["sex"] == sex]
    aj = aalen_johansen(d["etime"], d["cause"], weights=d["w"], cluster=d["clus"])
    got = aj.cif(["pcm", "death"], ref["time"].to_numpy())
    np.testing.assert_allclose(got["estimate"], ref["estimate"], atol=TOL_CURVE)
    np.testing.assert_allclose(got["se"], ref["se"], atol=TOL_SE_ABS_LOOSE)
    aj1 = aalen_johansen(d["etime"], d["cause"], weights=d["w"])
    got = aj1.cif(["pcm", "death"], ref["time"].to_numpy())
    np.testing.assert_allclose(got["se"], ref["se_unclustered"], atol=TOL_SE_ABS_LOOSE)


def test_aj_influence_matches_r(mgus: pd.DataFrame) -> None:
    ref = _read("survival_aj_influence.csv")
    d = mgus[mgus["sex"] == "F"]
    aj = aalen_johansen(d["etime"], d["cause"], weights=d["w"])
    times = [12, 60, 240]
    for state in ("pcm", "death"):
        U = aj.influence(state, times)
        for c, t in enumerate(times):
            r = ref[ref["time"] == t].set_index("id")[f"influence_{state}"].reindex(d["id"])
            np.testing.assert_allclose(U[:, c], r.to_numpy(), atol=TOL_SE)


# ---------------------------------------------------------------------------------------------
# Cox
# ---------------------------------------------------------------------------------------------
COX_SPECS = {
    "efron_plain": ({}, {}),
    "efron_weighted": ({}, {"weights": "w"}),
    "efron_robust": ({"robust": True}, {}),
    "efron_cluster": ({}, {"cluster": "clus"}),
    "efron_weighted_cluster": ({}, {"weights": "w", "cluster": "clus"}),
    "efron_strata_weighted_cluster": ({}, {"weights": "w", "cluster": "clus",
                                           "strata": "wexp"}),
    "breslow_weighted_cluster": ({"ties": "breslow"}, {"weights": "w", "cluster": "clus"}),
}


@pytest.mark.parametrize("model", list(COX_SPECS))
def test_cox_matches_r(rossi: pd.DataFrame, model: str) -> None:
    init, kw = COX_SPECS[model]
    covs = [c for c in COVS if c != kw.get("strata")]
    cox = CoxPH(**init).fit(rossi, "week", "arrest", covariates=covs, **kw)
    coef = _read("survival_cox_coef.csv").query("model == @model").set_index("term").loc[covs]
    vc = _read("survival_cox_vcov.csv").query("model == @model")
    V = vc.pivot(index="term1", columns="term2", values="var").loc[covs, covs].to_numpy()
    NV = vc.pivot(index="term1", columns="term2", values="naive_var").loc[covs, covs].to_numpy()
    np.testing.assert_allclose(cox.params_.to_numpy(), coef["coef"], rtol=TOL_COX_REL, atol=1e-9)
    np.testing.assert_allclose(cox.naive_cov_.to_numpy(), NV, rtol=TOL_COX_REL,
                               atol=TOL_COX_REL * np.abs(NV).max())
    np.testing.assert_allclose(cox.cov_.to_numpy(), V, rtol=TOL_COX_REL,
                               atol=TOL_COX_REL * np.abs(V).max())
    assert cox.loglik_ == pytest.approx(coef["loglik"].iloc[0], rel=1e-9)
    assert cox.loglik_null_ == pytest.approx(coef["loglik0"].iloc[0], rel=1e-9)
    assert (cox.cov_type_ != "naive") == bool(coef["robust"].iloc[0])
    s = cox.summary()
    np.testing.assert_allclose(s["se"], coef["robust_se"], rtol=TOL_COX_REL)


def test_cox_dfbeta_matches_r(rossi: pd.DataFrame) -> None:
    ref = _read("survival_cox_dfbeta.csv")
    cox = CoxPH().fit(rossi, "week", "arrest", covariates=COVS, weights="w")
    np.testing.assert_allclose(cox.dfbeta(), ref[COVS].to_numpy(), atol=1e-8)


def test_cause_specific_cox_matches_r(mgus: pd.DataFrame) -> None:
    ref = _read("survival_cause_specific.csv")
    for model, cause in (("cs_pcm", "pcm"), ("cs_death", "death")):
        df = mgus.assign(ev=(mgus["event"] == cause).astype(int))
        cox = CoxPH().fit(df, "etime", "ev", covariates=["age", "male"], weights="w",
                          cluster="clus")
        r = ref.query("model == @model").set_index("term").loc[["age", "male"]]
        np.testing.assert_allclose(cox.params_.to_numpy(), r["coef"], rtol=TOL_COX_REL)
        np.testing.assert_allclose(np.sqrt(np.diag(cox.cov_)), r["robust_se"], rtol=TOL_COX_REL)


# ---------------------------------------------------------------------------------------------
# restricted mean and log-rank
# ---------------------------------------------------------------------------------------------
def test_rmst_matches_r(rossi: pd.DataFrame) -> None:
    ref = _read("survival_rmst.csv")
    h = ref["horizon"].to_numpy()
    km0 = kaplan_meier(rossi["week"], rossi["arrest"])
    got = km0.rmst(h, variance="greenwood")
    np.testing.assert_allclose(got["estimate"], ref["rmean"], atol=1e-9)
    np.testing.assert_allclose(got["se"], ref["se_rmean"], atol=1e-9)
    km = kaplan_meier(rossi["week"], rossi["arrest"], weights=rossi["w"], cluster=rossi["clus"])
    got = km.rmst(h)
    np.testing.assert_allclose(got["estimate"], ref["rmean_weighted"], atol=1e-9)
    np.testing.assert_allclose(got["se"], ref["se_ij_weighted_cluster"], atol=1e-9)
    U = km.rmst_influence(h)
    agg = pd.DataFrame(U).groupby(rossi["clus"].to_numpy()).sum().to_numpy()
    np.testing.assert_allclose(np.sqrt((agg ** 2).sum(axis=0)), got["se"], rtol=1e-10)


def _agegrp(rossi: pd.DataFrame) -> pd.Series:
    return pd.cut(rossi["age"], [0, 20, 25, 100], labels=[0, 1, 2]).astype(int)


@pytest.mark.parametrize("test", ["fin", "fin_strata_race", "agegrp"])
def test_logrank_matches_survdiff(rossi: pd.DataFrame, test: str) -> None:
    from impact.survival import logrank_test

    ref = _read("survival_logrank.csv").query("test == @test")
    group = _agegrp(rossi) if test == "agegrp" else rossi["fin"]
    strata = rossi["race"] if "strata" in test else None
    res = logrank_test(rossi["week"], rossi["arrest"], group, strata=strata)
    assert res.method == "survdiff"
    assert res.statistic == pytest.approx(ref["chisq"].iloc[0], rel=1e-10)
    assert res.df == ref["df"].iloc[0]
    np.testing.assert_allclose(res.table["observed"], ref["observed"], atol=1e-9)
    np.testing.assert_allclose(res.table["expected"], ref["expected"], atol=1e-9)


@pytest.mark.parametrize("test", ["fin_weighted_cluster", "agegrp_weighted_cluster",
                                  "fin_strata_race_weighted_cluster"])
def test_weighted_clustered_logrank_matches_robust_score(rossi: pd.DataFrame, test: str) -> None:
    from impact.survival import logrank_test

    ref = _read("survival_logrank_robust.csv").query("test == @test")
    group = _agegrp(rossi) if test.startswith("agegrp") else rossi["fin"]
    strata = rossi["race"] if "strata" in test else None
    res = logrank_test(rossi["week"], rossi["arrest"], group, weights=rossi["w"],
                       cluster=rossi["clus"], strata=strata)
    assert res.method == "robust score"
    assert res.statistic == pytest.approx(ref["rscore"].iloc[0], rel=1e-9)
    assert res.df == ref["df"].iloc[0]


@pytest.mark.parametrize("model,cause,wcol", [("fg_pcm", "pcm", None), ("fg_death", "death", None),
                                              ("fg_pcm_weighted", "pcm", "w")])
def test_fine_gray_matches_r_finegray_coxph(mgus: pd.DataFrame, model: str, cause: str,
                                            wcol: str | None) -> None:
    from impact.survival import fine_gray

    ref = _read("survival_finegray.csv").query("model == @model").set_index("term").loc[["age", "male"]]
    fg = fine_gray(mgus, "etime", "cause", cause, covariates=["age", "male"], weights=wcol)
    np.testing.assert_allclose(fg.params_.to_numpy(), ref["coef"], rtol=TOL_COX_REL)
    np.testing.assert_allclose(np.sqrt(np.diag(fg.naive_cov_)), ref["se"], rtol=TOL_COX_REL)
    # robust variance clustered on the person, as coxph(..., cluster=id) on the expanded data
    np.testing.assert_allclose(np.sqrt(np.diag(fg.cov_)), ref["robust_se"], rtol=TOL_COX_REL)
