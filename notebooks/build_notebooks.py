"""Write the notebooks of this folder from plain code cells: ``python notebooks/build_notebooks.py``.

The notebooks are stored without outputs; ``tests/test_notebooks.py`` executes every one of them.
quickstart.ipynb was written the same way (it is kept as it is here).
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent


def _write(name: str, cells: list[tuple[str, str]]) -> Path:
    nb = new_notebook(cells=[new_markdown_cell(src) if kind == "md" else new_code_cell(src) for kind, src in cells])
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    path = HERE / name
    nbformat.write(nb, path)
    return path


MATCHING = [
    ("md", "# Matching diagnostics: is the comparison group comparable?\n\n"
           "An effect estimate is only as good as its comparison group. This notebook builds the matched "
           "comparison group step by step on the synthetic registers bundled with `impact` and checks it "
           "the way MatchIt and cobalt users do: sample sizes, balance before and after, the Love plot, "
           "the overlap of propensity scores, and how the choice of caliper and ratio trades bias against "
           "sample size."),
    ("code", "import impact\nimport pandas as pd\nfrom impact.cli import BUNDLED_DIR\n"
             "from impact.synthetic import read_synthetic\n\n"
             "sim = read_synthetic(BUNDLED_DIR)      # data/synthetic: 20,000 job seekers, 3,016 participants\n"
             "v = impact.validate(sim.registers, sim.roles)\n"
             "df = v.data.assign(start_period=v.data['start_date'].dt.to_period('Q').astype(str))\n"
             "covariates = list(sim.roles.covariates)\ncovariates"),
    ("md", "## 1. Before matching: how different are participants?\n\n"
           "Participants have been unemployed longer, more often receive social assistance and more often "
           "were born outside Europe: a naive comparison would be biased."),
    ("code", "before = impact.balance(df, treatment='participant', covariates=covariates)\n"
             "before.summary()[['mean_treated_before', 'mean_control_before', 'smd_before']].round(3)"),
    ("md", "## 2. Match: 1:1 nearest neighbour on the propensity score\n\n"
           "Caliper 0.2 standard deviations of the score, exact on gender and on the calendar quarter of "
           "the start date (participants are compared with people in the same labour market). The display "
           "states every default that was assumed."),
    ("code", "m = impact.match(df, treatment='participant', covariates=covariates, method='nearest', caliper=0.2,\n"
             "                 exact=['gender', 'start_period'], ratio=1, replace=False, random_state=0, id='person_id')\n"
             "m"),
    ("code", "for note in m.notes:\n    print('-', note)"),
    ("md", "## 3. Balance after matching\n\n"
           "The usual rule of thumb: every |SMD| under 0.1 and variance ratios between 0.5 and 2. "
           "`balanced_smd` and `balanced_var_ratio` apply it."),
    ("code", "bal = m.balance()\n"
             "bal.summary()[['type', 'smd_before', 'smd_after', 'var_ratio_after', 'ecdf_max_after',\n"
             "               'balanced_smd']].round(3)"),
    ("code", "print('largest |SMD| after matching:', round(bal.max_abs_smd, 4))\n"
             "bal.plot();   # the Love plot"),
    ("md", "## 4. Overlap of the propensity score\n\n"
           "Matching only works where participants have comparable non-participants. Participants with "
           "scores no control reaches are the ones left unmatched."),
    ("code", "m.plot(kind='overlap');"),
    ("code", "print(m.n_unmatched, 'participants found no control within the caliper')\n"
             "m.flow.table()"),
    ("md", "## 5. Choosing the caliper and the ratio\n\n"
           "A tighter caliper improves balance but leaves more participants unmatched (the estimand then "
           "describes fewer of them); more controls per participant lowers the variance but uses worse "
           "matches. Compare a few designs side by side:"),
    ("code", "rows = []\n"
             "for caliper in (0.05, 0.2, 0.5):\n"
             "    for ratio in (1, 2):\n"
             "        r = impact.match(df, treatment='participant', covariates=covariates, caliper=caliper, ratio=ratio,\n"
             "                         exact=['gender', 'start_period'], random_state=0, id='person_id')\n"
             "        rows.append(dict(caliper=caliper, ratio=ratio, unmatched=r.n_unmatched,\n"
             "                         controls=int((r.matched_data['participant'] == 0).sum()),\n"
             "                         max_abs_smd=round(r.balance().max_abs_smd, 4)))\n"
             "pd.DataFrame(rows)"),
    ("md", "## 6. The effect on the chosen design\n\n"
           "Only now look at the outcome: the design was chosen without it."),
    ("code", "data = impact.time_to_event(m.matched_data, sim.roles)\n"
             "eff = impact.estimate_effects(data, treatment='participant', by='gender', horizons=(90, 180, 365))\n"
             "eff.headline()"),
]

MALMOKRAFTEN = [
    ("md", "# A Malmökraften-style evaluation: effects, goal fulfilment and monitoring\n\n"
           "The three things the evaluations of Malmökraften 2.0 reported, from one call:\n\n"
           "1. the **effect** on time to work or studies against a matched comparison group, for women and men;\n"
           "2. the **goal fulfilment** table (SWECO's assessment);\n"
           "3. the **monthly monitoring** tables (AMA's reports).\n\n"
           "Everything here is synthetic: registers with a known true effect, and monitoring records shaped "
           "like the 2022 reports."),
    ("code", "import tempfile\nimport impact\nfrom impact.cli import BUNDLED_DIR, DEMO_GOALS\n"
             "from impact.synthetic import read_synthetic\nfrom impact.synthetic import simulate_monitoring\n\n"
             "sim = read_synthetic(BUNDLED_DIR)\nrecords = simulate_monitoring(random_state=0)\nrecords"),
    ("md", "## The goals, as in the evaluation file\n\n"
           "The same list can be written as `[[goals]]` tables in `evaluation.toml`."),
    ("code", "DEMO_GOALS"),
    ("md", "## One call"),
    ("code", "ev = impact.evaluate(sim.registers, sim.roles, truth=sim.truth, random_state=0,\n"
             "                     subgroups=['region_of_birth'], goals=DEMO_GOALS, monitoring=records,\n"
             "                     monitoring_start='2022-01-01', monitoring_end='2022-10-31', lang='sv')\n"
             "ev"),
    ("md", "## 1. Effects for all, women and men\n\n"
           "Share difference in work or studies at 90, 180 and 365 days and the hazard ratio, with 95% "
           "intervals; `female - male` tests whether the effect differs between women and men."),
    ("code", "ev.flow.table()"),
    ("code", "ev.effects.headline()"),
    ("code", "from impact.plotting import plot_effect_curves\nplot_effect_curves(ev.effects.curves, lang='sv');"),
    ("code", "ev.subgroup_effects['region_of_birth'].headline()"),
    ("md", "On synthetic data the truth is known, so we can see whether the intervals cover it:"),
    ("code", "truth = sim.truth.query(\"estimand == 'hazard_ratio'\")[['subgroup', 'value']]\n"
             "est = ev.effects.summary().query(\"estimand == 'hazard_ratio'\")[['subgroup', 'estimate', 'ci_low', 'ci_high']]\n"
             "est.merge(truth, on='subgroup')"),
    ("md", "## 2. Goal fulfilment\n\nEach judgement comes with the rule that produced it; measures based on "
           "fewer than five people are hidden."),
    ("code", "ev.goals.published('sv')"),
    ("code", "ev.goals.plot(lang='sv');"),
    ("md", "## 3. Monthly monitoring"),
    ("code", "ev.monitoring['to_work_or_studies'].published('sv')"),
    ("code", "ev.monitoring['outcomes_after_employment'].published('sv')"),
    ("code", "ev.monitoring['hires_by_subsidy'].published('sv')   # '..': fewer than 5, or would reveal such a cell"),
    ("code", "hh = ev.monitoring['households']\nprint(hh.change_text(lang='sv'))\nhh.plot(lang='sv');"),
    ("md", "## 4. The report for the steering group\n\n"
           "One self-contained HTML file, every table as CSV and one Excel workbook, in Swedish."),
    ("code", "folder = tempfile.mkdtemp()\n"
             "path = impact.write_report(ev, folder, title='Malmökraften 2.0 (syntetiska data)')\n"
             "sorted(p.name for p in path.parent.iterdir())"),
]


def main() -> None:
    for name, cells in (("matching_diagnostics.ipynb", MATCHING), ("malmokraften_evaluation.ipynb", MALMOKRAFTEN)):
        print("wrote", _write(name, cells))


if __name__ == "__main__":
    main()
