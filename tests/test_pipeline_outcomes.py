"""Issue 12 in the main flow: time in states, the effect curve, AIPTW shares and hidden-bias sensitivity
reach evaluate, the evaluation file, effects.csv and the report, through the publication rules.

Oracles: the mean difference in effects.csv against the plain difference of means on the matched
sets with complete follow-up (1:1 matching, weights 1), recomputed here from time_in_states; the
withheld rows against the rule (fewer than min_effect_n people in an arm); named errors.
"""

from __future__ import annotations

import re
import textwrap

import numpy as np
import pandas as pd
import pytest

import impact
from impact._errors import ParameterError
from impact.pipeline import ConfigError, run
from impact.publish import MARK
from impact.registers import RegisterExtract, time_in_states
from impact.synthetic import simulate_extract, write_extract

TOML = """\
seed = 1
[registers]
persons = "persons.csv"
spells = "spells.csv"
programme = "programme.csv"
benefits = "benefits.csv"
cutoff = "2022-10-31"
[design]
covariates = ["age", "elapsed_days", "earlier_spells", "economic_assistance_months_12m"]
[outcomes]
horizons = [180]
time_in_work = [365]
benefit_months = 12
[effects]
curve = true
aiptw = true
sensitivity = false
adjust_means = false
[sensitivity]
evalue = true
rosenbaum = true
gammas = [1, 1.5, 2]
placebo = ["days_registered_24m"]
[report]
out = "report"
"""


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    f = tmp_path_factory.mktemp("states")
    write_extract(simulate_extract(n_persons=1500, random_state=7), f)
    return f


def _write(folder, text, name="eval.toml"):
    p = folder / name
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return p


@pytest.fixture(scope="module")
def toml_run(folder):
    ev = run(_write(folder, TOML))
    return ev, folder / "report"


def test_toml_run_writes_mean_diff_rows_by_gender(toml_run):
    ev, out = toml_run
    eff = pd.read_csv(out / "effects.csv")
    rows = eff[(eff["outcome"] == "days_in_work_365") & (eff["estimand"] == "mean_diff")]
    assert rows["subgroup"].tolist() == ["all", "female", "male", "female - male"]
    assert (rows["horizon"] == 365).all()
    assert np.isfinite(rows[["estimate", "se", "ci_low", "ci_high"]].to_numpy(float)).all()
    # the time-to-event rows are still there, named
    assert {"share_diff", "hazard_ratio"} <= set(eff.loc[eff["outcome"] == "time_to_work_or_studies", "estimand"])
    assert {"aiptw_share_diff", "gformula_share_diff", "iptw_share_diff"} <= set(eff["estimand"])
    assert "economic_assistance_months_after_12m" in set(eff["outcome"])
    # the same rows as Evaluation.summary()
    s = ev.summary()
    mine = s[(s["outcome"] == "days_in_work_365") & (s["estimand"] == "mean_diff")]
    np.testing.assert_allclose(mine["estimate"].to_numpy(), rows["estimate"].to_numpy(), rtol=1e-9)


def test_mean_diff_is_the_difference_of_means_on_complete_sets(toml_run, folder):
    """Oracle: time_in_states recomputed on the analysed rows, complete sets, plain means (1:1, weights 1)."""
    ev, out = toml_run
    a = ev.analysed
    ext = impact.pipeline.read_registers(impact.pipeline.read_config(folder / "eval.toml"))
    days = time_in_states(ext, a, horizons=[365], months=None)["days_in_work_365"]
    ok = days.notna().groupby(a["subclass"]).transform("all")
    assert (a.loc[ok, "weights"] == 1).all()
    d, t, g = days[ok], a.loc[ok, "entering"], a.loc[ok, "gender"]
    eff = pd.read_csv(out / "effects.csv")
    rows = eff[(eff["outcome"] == "days_in_work_365") & (eff["estimand"] == "mean_diff")].set_index("subgroup")
    want = {"all": d[t == 1].mean() - d[t == 0].mean()}
    for sex in ("female", "male"):
        want[sex] = d[(t == 1) & (g == sex)].mean() - d[(t == 0) & (g == sex)].mean()
    want["female - male"] = want["female"] - want["male"]
    for k, v in want.items():
        assert rows.loc[k, "estimate"] == pytest.approx(v, rel=1e-9), k
    # the drop for incomplete follow-up is a counted step of the follow-up flow, with its reason
    flow = ev.flow_details["follow_up"]
    step = [s for s in flow.index if s == "followed up: days_in_work_365"]
    assert step and flow.loc[step[0], "dropped"] > 0 and "cut-off" in flow.loc[step[0], "reason"]
    assert flow.loc[step[0], "all"] == int(ok.sum()) == flow.iloc[0]["all"] - flow.loc[step[0], "dropped"]
    pub = pd.read_csv(out / "follow_up.csv")
    assert pub["step"].tolist() == list(flow.index)
    # the main flow (and so the methods text's count of the analysed) is unchanged
    assert ev.flow.table().index[-1] == "analysed (persons)"


def test_report_shows_the_sections_curve_and_tables(toml_run):
    ev, out = toml_run
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "Time in work, the effect over time and doubly robust shares" in text
    assert "days in work or studies within 365 days" in text
    assert "Sensitivity to hidden bias" in text and "Rosenbaum bounds" in text and "E-values" in text
    assert 'alt="Effect over time: difference in the share in work or studies' in text
    assert "Time in states. Days in work or studies" in text        # methods text
    assert "followed up: days in work or studies within 365 days" in text   # the follow-up flow
    for name in ("effect_curve", "aiptw", "evalues", "rosenbaum", "placebo"):
        assert (out / f"{name}.csv").exists(), name
    curve = pd.read_csv(out / "effect_curve.csv")
    assert {"band_low", "band_high", "ci_low", "ci_high"} <= set(curve.columns)
    shown = curve[curve["withheld"].isna()]
    assert (shown["band_low"] <= shown["ci_low"] + 1e-12).all() and len(shown) > 10
    rb = pd.read_csv(out / "rosenbaum.csv")
    assert sorted(set(rb["gamma"])) == [1.0, 1.5, 2.0]
    assert ev.settings["time_in_work"] == [365] and ev.settings["rosenbaum"] is True


def test_unknown_key_is_named(folder):
    with pytest.raises(ConfigError, match=r"unknown key '\[outcomes\] time_in_wrok'.*Did you mean 'time_in_work'"):
        run(_write(folder, TOML.replace("time_in_work = [365]", "time_in_wrok = [365]"), "bad1.toml"))
    with pytest.raises(ConfigError, match=r"unknown key '\[sensitivity\] gamma'"):
        run(_write(folder, TOML.replace("gammas = [1, 1.5, 2]", "gamma = [1, 1.5, 2]"), "bad2.toml"))


@pytest.mark.parametrize("value", ["[0]", "[-30, 365]", "[365.5]", "[]"])
def test_non_positive_window_is_named(folder, value):
    with pytest.raises(ConfigError, match=r"\[outcomes\] time_in_work must be a non-empty list of whole days >= 1"):
        run(_write(folder, TOML.replace("time_in_work = [365]", f"time_in_work = {value}"), "bad3.toml"))


def test_gamma_below_one_and_bad_months_are_named(folder):
    with pytest.raises(ConfigError, match=r"\[sensitivity\] gammas must be a non-empty list of numbers >= 1"):
        run(_write(folder, TOML.replace("gammas = [1, 1.5, 2]", "gammas = [0.5, 2]"), "bad4.toml"))
    with pytest.raises(ConfigError, match=r"\[outcomes\] benefit_months must be a whole number of months >= 1"):
        run(_write(folder, TOML.replace("benefit_months = 12", "benefit_months = 0"), "bad5.toml"))


def test_horizon_beyond_follow_up_names_the_key(folder):
    text = TOML.replace("time_in_work = [365]", "time_in_work = [5000]").replace("curve = true", "curve = false")
    with pytest.raises(ConfigError, match=r"\[outcomes\] time_in_work has a horizon beyond follow-up: 5000 days"):
        run(_write(folder, text, "bad6.toml"))


def test_register_only_keys_with_data_of_one_row_per_person(folder):
    text = """\
    [data]
    path = "x.csv"
    [columns]
    id = "i"
    treatment = "t"
    start = "s"
    [outcomes]
    time_in_work = [365]
    """
    with pytest.raises(ConfigError, match=r"\[outcomes\] time_in_work is for a register extract"):
        impact.pipeline.read_config(_write(folder, text, "bad7.toml"))
    sim = impact.simulate(n_pool=600, random_state=1)
    with pytest.raises(ParameterError, match="The 'curve' parameter of evaluate is for a register extract"):
        impact.evaluate(sim.registers, sim.roles, curve=True)


# --- Python API: errors, and a small group withheld ---------------------------------------------------


def _few_men(n_men: int) -> RegisterExtract:
    """The synthetic extract with all but ``n_men`` male participants (and their spells) taken out."""
    e = simulate_extract(n_persons=3000, random_state=11).extract
    men = e.persons.loc[e.persons["gender"] == "male", "person_id"]
    part = set(e.programme["person_id"])
    male_part = [p for p in men if p in part]
    gone = set(male_part[n_men:])
    keep = lambda df: df[~df["person_id"].isin(gone)].reset_index(drop=True)  # noqa: E731
    return RegisterExtract(persons=keep(e.persons), spells=keep(e.spells), programme=keep(e.programme),
                           cutoff=e.cutoff, benefits={k: keep(v) for k, v in e.benefits.items()}, codes=e.codes,
                           genders=e.genders)


@pytest.fixture(scope="module")
def few_men_extract():
    return _few_men(18)


@pytest.fixture(scope="module")
def small_men(few_men_extract):
    ext = few_men_extract
    ev = impact.evaluate(ext, sensitivity=False, horizons=(90, 365), time_in_work=[365],
                         covariates=["age", "elapsed_days", "earlier_spells"], evalue=True, rosenbaum=True)
    return ext, ev


def test_small_subgroup_mean_difference_is_withheld_in_csv_and_html(small_men, tmp_path):
    ext, ev = small_men
    res = ev.outcome_effects["days_in_work_365"].summary()
    md = res[res["estimand"] == "mean_diff"].set_index("subgroup")
    assert md.loc["male", "n_treated"] < 20 <= md.loc["female", "n_treated"]   # the rule's premise
    path = impact.write_report(ev, tmp_path / "r")
    eff = pd.read_csv(tmp_path / "r" / "effects.csv")
    rows = eff[(eff["outcome"] == "days_in_work_365")].set_index(["subgroup", "estimand"])
    for est in ("mean_treated", "mean_control", "mean_diff"):
        assert np.isnan(rows.loc[("male", est), "estimate"]) and rows.loc[("male", est), "withheld"] == "group_size"
        assert np.isnan(rows.loc[("male", est), "se"])
    assert rows.loc[("female - male", "mean_diff"), "withheld"] == "difference"
    assert np.isfinite(rows.loc[("all", "mean_diff"), "estimate"])
    # HTML: the men's column of the time-in-states table shows no number, and their estimate appears nowhere
    text = path.read_text(encoding="utf-8")
    section = text.split("<h3>days in work or studies within 365 days</h3>", 1)[1].split("</table>", 1)[0]
    cells = re.findall(r"<td[^>]*>([^<]*)</td>", section)
    assert any(c == impact.labels.label("suppressed", "en") for c in cells)
    male = md.loc["male", "estimate"]
    assert f"{male:.3f}" not in section
    ev_csv = pd.read_csv(tmp_path / "r" / "evalues.csv")
    hidden = ev_csv[ev_csv["subgroup"] == "male"]
    assert hidden["evalue"].isna().all() and (hidden["withheld"] == "effect withheld").all()
    rb = pd.read_csv(tmp_path / "r" / "rosenbaum.csv")
    assert rb.loc[rb["subgroup"] == "male", "p_upper"].isna().all()
    assert not {"n_sets", "n_informative"} & set(rb.columns)       # all minus women would give the men's back
    assert ev.rosenbaum.loc[ev.rosenbaum["subgroup"] == "male", "p_upper"].notna().all()   # withheld, not missing
    assert MARK == ".."


def test_placebo_measured_after_the_start_and_matched_on_are_errors(small_men):
    ext, _ = small_men
    with pytest.raises(ParameterError, match="measured on or after the index date: duration"):
        impact.evaluate(ext, sensitivity=False, horizons=(90,), placebo=["duration"],
                        covariates=["age", "elapsed_days", "earlier_spells"])
    with pytest.raises(ParameterError, match="matched on"):
        impact.evaluate(ext, sensitivity=False, horizons=(90,), placebo=["age"],
                        covariates=["age", "elapsed_days", "earlier_spells"])


def test_bad_parameters_of_evaluate(small_men):
    ext, _ = small_men
    with pytest.raises(ParameterError, match="The 'time_in_work' parameter of evaluate must be a list of whole days"):
        impact.evaluate(ext, time_in_work=[0])
    with pytest.raises(ParameterError, match="The 'gammas' parameter of evaluate"):
        impact.evaluate(ext, rosenbaum=True, gammas=[0.9])
    with pytest.raises(ParameterError, match="The 'benefits' parameter of evaluate names registers"):
        impact.evaluate(ext, sensitivity=False, benefit_months=12, benefits=["sickness"],
                        covariates=["age", "elapsed_days", "earlier_spells"])


def test_without_the_new_options_nothing_changes(small_men):
    ext, ev = small_men
    plain = impact.evaluate(ext, sensitivity=False, horizons=(90, 365),
                            covariates=["age", "elapsed_days", "earlier_spells"])
    assert "outcome" not in plain.summary().columns
    assert plain.outcome_effects == {} and plain.effect_curve is None and plain.aiptw is None
    pd.testing.assert_frame_equal(plain.effects.summary(), ev.effects.summary())


def test_mean_outcomes_are_regression_adjusted_by_default(folder, tmp_path):
    """Default: the matching covariates adjust the mean differences (oracle: estimate_effects with
    adjust=, R-checked in test_effects_means_adjusted, on the same complete sets); a rank problem
    falls back to the plain difference with a note."""
    from impact.pipeline import _outcomes
    ext = impact.pipeline.read_registers(impact.pipeline.read_config(folder / "eval.toml"))
    ev = impact.evaluate(ext, sensitivity=False, horizons=(365,), time_in_work=[365], random_state=0)
    res = ev.outcome_effects["days_in_work_365"]
    assert res.settings["adjust"] and "gender" not in res.settings["adjust"]
    assert any("adjust" in n.lower() for n in res.notes)
    a = ev.analysed
    days = time_in_states(ext, a, horizons=[365], months=None)["days_in_work_365"]
    ok = (days.notna().groupby(a["subclass"]).transform("all")).to_numpy()
    rows = a.loc[ok].assign(days_in_work_365=days[ok].to_numpy()).reset_index(drop=True)
    want = impact.estimate_effects(rows, outcome="days_in_work_365", treatment="entering", by="gender",
                                   weights="weights", cluster="subclass", adjust=list(res.settings["adjust"]))
    pd.testing.assert_frame_equal(res.summary(), want.summary())
    text = impact.write_report(ev, tmp_path / "r", excel=False).read_text(encoding="utf-8")
    assert "regression-adjusted on the matched sample" in text

    def rank_problem(*args, **kw):
        if kw.get("adjust"):
            raise impact.EstimationError("not of full rank")
        return impact.estimate_effects(*args, **kw)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(_outcomes, "estimate_effects", rank_problem)
        out = _outcomes.mean_effects({"days_in_work_365": rows}, treatment="entering", gender="gender",
                                     conf_level=0.95, adjust=["age"])
    plain = out["days_in_work_365"]
    assert not plain.settings.get("adjust") and any("unadjusted mean difference is shown" in n for n in plain.notes)


def test_aiptw_shares_are_clustered_on_the_person(toml_run):
    """In the dynamic design a person can be a control in several sets (or a control before
    joining): the AIPTW shares' SEs sum the influence within each person. Oracle:
    ``ate_competing(..., cluster=<person id>)`` on the analysed rows, and the row-independent
    SEs differ from them."""
    from impact.effects import ate_competing
    from impact.pipeline._evaluate import TREATMENT
    ev, out = toml_run
    a = ev.analysed
    assert a["person_id"].duplicated().any()      # the clustering matters here
    t = ev.aiptw.set_index(["subgroup", "estimand", "horizon"])
    covs = [c for c in ev.settings["covariates"] if c != "gender" and a[c].nunique(dropna=False) > 1]
    h = float(t.index.get_level_values("horizon")[0])
    ref = ate_competing(a, "duration", "event", TREATMENT, covs, horizons=[h], estimator=["aiptw"],
                        cluster="person_id")
    plain = ate_competing(a, "duration", "event", TREATMENT, covs, horizons=[h], estimator=["aiptw"])
    r = ref.summary().query("arm == 'treated - control'").iloc[0]
    p = plain.summary().query("arm == 'treated - control'").iloc[0]
    got = t.loc[("all", "aiptw_share_diff", h)]
    assert got["estimate"] == pytest.approx(r["estimate"], rel=1e-9)
    assert got["se"] == pytest.approx(r["se"], rel=1e-9)
    assert r["se"] != pytest.approx(p["se"], rel=1e-6)
    assert ref.settings["cluster"] == "person_id" and ref.settings["n_clusters"] == a["person_id"].nunique()


def test_report_effect_curve_csv_ends_where_an_arm_has_fewer_than_20_at_risk(toml_run):
    """Oracle: recounted from the analysed rows, the last published day of each group is the last grid day at
    which both arms still have >= 20 rows with duration >= day (MIN_AT_RISK; threshold 5)."""
    ev, out = toml_run
    curve = pd.read_csv(out / "effect_curve.csv")
    assert not [c for c in curve.columns if c.startswith("n_at_risk")]    # the counts are not published
    a, tr, by = ev.analysed, ev.roles.treatment, ev.settings.get("subgroup")
    full = ev.effect_curve.table
    cut = False
    for g, x in curve.groupby("subgroup"):
        d = a if g == "all" else a[a[by].astype(str) == g]
        grid = full.loc[full["subgroup"] == g, "time"].to_numpy(float)
        n = [np.array([(d.loc[d[tr] == arm, "duration"] >= t).sum() for t in grid]) for arm in (1, 0)]
        ok = (n[0] >= 20) & (n[1] >= 20)
        assert x["time"].max() == grid[ok].max()
        cut |= bool(grid.max() > x["time"].max())
    assert cut    # the rule ends at least one group's curve early here
    text = (out / "report.html").read_text(encoding="utf-8")
    assert "Each curve ends at the last day at which the participants and the controls" in text
