"""Write the notebooks of this folder from plain code cells: ``python notebooks/build_notebooks.py``.

The notebooks are stored without outputs; ``tests/test_notebooks.py`` executes every one of them.
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


QUICKSTART = [
    ("md", "# Quickstart: from a register extract to effects for women and men\n\n"
           "This notebook runs a whole programme evaluation on the synthetic register extract bundled with "
           "`impact` (`data/synthetic`: persons, registration spells at the employment service, programme "
           "starts and economic-assistance months; nothing here is real). Each step is one public function; "
           "`impact.evaluate` chains them."),
    ("code", "import impact\nimport pandas as pd\nfrom impact.cli import load_bundled\n\n"
             "sim = load_bundled()          # data/synthetic, or the same drawn in memory\n"
             "extract = sim.extract.validate()\nextract"),
    ("md", "## 1. Risk sets\n\nFor each calendar month: the people registered on its first day who have not "
           "started the programme, with their covariates as known on that day. Participants are the "
           "treated rows of the month they start."),
    ("code", "from impact.registers import risk_sets, outcomes_from_spells\n"
             "rs = risk_sets(extract)\nrs.summary()"),
    ("code", "panel = rs.to_frame().rename(columns={'index_date': 'start_date'})\n"
             "panel.groupby('treated')[['elapsed_days', 'economic_assistance_months_12m', 'age']].mean().round(1)"),
    ("md", "## 2. Risk-set matching\n\nExact on the month, gender and 60-day bands of elapsed time in the open "
           "spell; greedy nearest neighbour on the propensity score of starting in that month, caliper 0.2 "
           "SD; the estimand `join_vs_never` (a control who later joins is censored the day it starts)."),
    ("code", "import numpy as np\nfrom impact.design import match_riskset\n"
             "panel['elapsed_band'] = np.minimum(panel['elapsed_days'] // 60, 7).astype(int)\n"
             "panel['economic_assistance_any_12m'] = (panel['economic_assistance_months_12m'] > 0).astype(int)\n"
             "covariates = ['age', 'elapsed_days', 'days_registered_24m', 'earlier_spells',\n"
             "              'economic_assistance_months_12m', 'economic_assistance_any_12m', 'born_abroad',\n"
             "              'education', 'district']\n"
             "m = match_riskset(panel.drop(columns='treated'), id='person_id', period='period', entry='entry',\n"
             "                  covariates=covariates, exact=['gender', 'elapsed_band'], estimand='join_vs_never')\n"
             "m.balance().summary()[['smd_before', 'smd_after']].round(3).head(8)"),
    ("md", "## 3. Outcomes from the spell open on the participant's start date\n\n"
           "Each control's clock starts on its participant's start date."),
    ("code", "md = m.matched_data.copy()\n"
             "md['index_date'] = md['subclass'].map(md[md['entering'] == 1].set_index('subclass')['start_date'])\n"
             "out = outcomes_from_spells(extract, md, censor_at_entry=True, unregistered='keep')\n"
             "md = pd.concat([md.drop(columns=['event'], errors='ignore'),\n"
             "                out.rename(columns={'event': 'work_or_studies', 'status': 'event'})], axis=1)\n"
             "md = md[md.groupby('subclass')['duration'].transform(lambda d: d.notna().all())]\n"
             "md[['person_id', 'entering', 'index_date', 'duration', 'role', 'cause', 'end']].head()"),
    ("md", "## 4. Effects for all, women and men"),
    ("code", "eff = impact.estimate_effects(md, treatment='entering', by='gender', horizons=(90, 180, 365),\n"
             "                              cluster='subclass', subdistribution=False)\n"
             "eff.headline()"),
    ("md", "The generator knows the true share differences among participants (joining versus never joining):"),
    ("code", "sim.truth.query(\"estimand == 'share_diff'\").pivot(index='subgroup', columns='horizon', values='value').round(3)"),
    ("md", "## 5. Everything at once, and a report\n\n`impact.evaluate` on the extract runs exactly these "
           "steps (and the flow of people, the naive comparison, the unknown-exit sensitivity)."),
    ("code", "import tempfile\nev = impact.evaluate(extract, truth=sim.truth)\n"
             "path = impact.write_report(ev, tempfile.mkdtemp())\nev.flow.table()"),
]

MATCHING = [
    ("md", "# Matching diagnostics for the dynamic design\n\n"
           "An effect estimate is only as good as its comparison group. This notebook checks the risk-set "
           "design of the bundled register extract the way MatchIt and cobalt users do: sample sizes, "
           "balance before and after, the Love plot, who was left unmatched and why, and how many controls "
           "later joined the programme (the contamination every dynamic design must report)."),
    ("code", "import impact\nimport pandas as pd\nfrom impact.cli import load_bundled\n\n"
             "sim = load_bundled()\nev = impact.evaluate(sim.extract, sensitivity=False)\nev"),
    ("md", "## 1. Balance before and after matching\n\nThe usual rule of thumb: every |SMD| under 0.1."),
    ("code", "bal = ev.balance()\nbal.summary()[['smd_before', 'smd_after', 'balanced_smd']].round(3)"),
    ("code", "bal.plot();   # the Love plot"),
    ("md", "## 2. The flow of people: persons and person-periods"),
    ("code", "ev.flow.table()"),
    ("code", "ev.flow_details['unmatched'].groupby('reason')['participants'].sum()"),
    ("md", "## 3. Contamination: controls who later joined"),
    ("code", "ev.flow_details['contamination']"),
    ("md", "## 4. The two estimands\n\n`join_vs_never` censors a control on the day it joins; `join_vs_wait` "
           "keeps its whole follow-up (joining now versus waiting)."),
    ("code", "wait = impact.evaluate(sim.extract, estimand='join_vs_wait', sensitivity=False)\n"
             "pd.concat({'join_vs_never': ev.effects.headline(), 'join_vs_wait': wait.effects.headline()})"),
    ("md", "## 5. A naive comparison on the same data\n\nParticipants from their start against never-"
           "participants from their first registration: the wrong sign."),
    ("code", "ev.naive.headline()"),
]

MALMOKRAFTEN = [
    ("md", "# A Malmökraften-style evaluation: effects, goal fulfilment and monitoring\n\n"
           "The three things the evaluations of Malmökraften 2.0 reported, from one call:\n\n"
           "1. the **effect** on time to work or studies against controls matched at each participant's start "
           "(risk-set design), for women and men;\n"
           "2. the **goal fulfilment** table (SWECO's assessment);\n"
           "3. the **monthly monitoring** tables (AMA's reports).\n\n"
           "Everything here is synthetic: a register extract with a known true effect, and monitoring records "
           "shaped like the 2022 reports."),
    ("code", "import tempfile\nimport impact\nfrom impact.cli import DEMO_GOALS, load_bundled\n"
             "from impact.synthetic import simulate_monitoring\n\n"
             "sim = load_bundled()\nrecords = simulate_monitoring(random_state=0)\nrecords"),
    ("md", "## The goals, as in the evaluation file\n\n"
           "The same list can be written as `[[goals]]` tables in `evaluation.toml`."),
    ("code", "DEMO_GOALS"),
    ("md", "## One call"),
    ("code", "ev = impact.evaluate(sim.extract, estimand='join_vs_never', truth=sim.truth, random_state=0,\n"
             "                     goals=DEMO_GOALS, monitoring=records,\n"
             "                     monitoring_start='2022-01-01', monitoring_end='2022-10-31', lang='sv')\n"
             "ev"),
    ("md", "## 1. Effects for all, women and men\n\n"
           "Share difference in work or studies at 90, 180 and 365 days and the hazard ratio, with 95% "
           "intervals; `female - male` tests whether the effect differs between women and men."),
    ("code", "ev.flow.table()"),
    ("code", "ev.effects.headline()"),
    ("code", "from impact.plotting import plot_effect_curves\nplot_effect_curves(ev.effects.curves, lang='sv');"),
    ("md", "On synthetic data the truth is known, so we can see whether the intervals cover it:"),
    ("code", "est = ev.effects.summary().query(\"estimand == 'share_diff'\")[['subgroup', 'horizon', 'estimate', 'ci_low', 'ci_high']]\n"
             "est.merge(ev.truth.rename(columns={'value': 'true'}).query(\"estimand == 'share_diff'\"), on=['subgroup', 'horizon'])"),
    ("md", "## Unknown exits and causes\n\nMany exits with an unknown reason are in fact work: the headline with "
           "them as censored, competing and work, and the shares by cause."),
    ("code", "ev.sensitivity_unknown.query(\"estimand == 'share_diff' and horizon == 365\")"),
    ("code", "ev.cause_shares.query(\"estimand == 'share_diff' and horizon == 365 and subgroup == 'all'\")"),
    ("md", "## 2. Goal fulfilment\n\nEach judgement comes with the rule that produced it; measures based on "
           "fewer than five people are hidden."),
    ("code", "ev.goals.published('sv')"),
    ("code", "ev.goals.plot(lang='sv');"),
    ("md", "## 3. Monthly monitoring"),
    ("code", "ev.monitoring['to_work_or_studies'].published('sv')"),
    ("code", "ev.monitoring['hires_by_subsidy'].published('sv')   # '..': fewer than 5, or would reveal such a cell"),
    ("code", "hh = ev.monitoring['households']\nprint(hh.change_text(lang='sv'))\nhh.plot(lang='sv');"),
    ("md", "## 4. The report for the steering group\n\n"
           "One self-contained HTML file, every table as CSV and one Excel workbook, in Swedish."),
    ("code", "folder = tempfile.mkdtemp()\n"
             "path = impact.write_report(ev, folder, title='Malmökraften 2.0 (syntetiska data)')\n"
             "sorted(p.name for p in path.parent.iterdir())"),
]


def main() -> None:
    for name, cells in (("quickstart.ipynb", QUICKSTART), ("matching_diagnostics.ipynb", MATCHING),
                        ("malmokraften_evaluation.ipynb", MALMOKRAFTEN)):
        print("wrote", _write(name, cells))


if __name__ == "__main__":
    main()
