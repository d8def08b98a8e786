"""Goal fulfilment and the monthly monitoring tables.

Two kinds of descriptive tables sit beside the effect estimates:

* a **goal-fulfilment** assessment (:func:`goal_fulfilment`): each goal, its target, the measured
  value and a judgement (achieved, partly achieved, not achieved) with the rule used; goals are
  declared in code (:class:`CountGoal`, :class:`ShareGoal`, :class:`GenderBalanceGoal`,
  :class:`BeforeAfterGoal`, :class:`ManualGoal`; each judges itself) or in a config
  (:func:`goals_from_config`);
* **monitoring tables** for women, men and total: people to work or studies per month
  (:func:`to_work_or_studies_by_month`), results 90 days after an ended labour-market employment
  (:func:`outcomes_after_employment`), new hires by employment subsidy (:func:`hires_by_subsidy`)
  and unique households with economic assistance per month with the change against the same
  month one and two years earlier (:func:`households_on_assistance`).

Every result is a frozen dataclass with tidy snake_case tables (``.table``, ``.summary()``);
``.published(lang=...)`` gives the table to print: small cells suppressed by
:func:`impact.publish.suppress`, or with ``disclosure="cellkey"`` (recommended for monthly
reporting) every count perturbed by the cell-key method, keyed on the records behind each cell
(``.cells``, kept by every result and never published; :func:`impact.publish.cell_key_counts`),
and labels in Swedish or English from :mod:`impact.labels`. Plots take ``ax=None`` first and
return the Axes; they draw only what the published table shows; the notebook display shows only
the published table.

Bad input is never repaired silently: months missing from a series are flagged (``NaN`` and a
warning, never zero), duplicate household-month rows are counted once and the number of duplicates
is reported, unknown category codes raise an error listing them, and a goal that names a column
that does not exist raises an error naming it. Dates and months are read by the one parser of
the validation layer (ISO 8601); errors give row positions in the caller's data.

Modules: ``_common`` (shared checks, gender mapping, display), ``_goals`` (the goal kinds),
``_goals_config`` (goals from a config), ``_fulfilment`` (the goal table), ``_monthly``,
``_employment``, ``_households`` (the monitoring tables).
"""

from impact.monitor._employment import OUTCOMES_90, SUBSIDIES, GenderTable, hires_by_subsidy, outcomes_after_employment
from impact.monitor._fulfilment import GoalFulfilment, goal_fulfilment
from impact.monitor._goals import JUDGEMENTS, BeforeAfterGoal, CountGoal, GenderBalanceGoal, Goal, ManualGoal, ShareGoal
from impact.monitor._goals_config import goals_from_config
from impact.monitor._households import HouseholdSeries, households_on_assistance
from impact.monitor._monthly import PARTICIPANT_OUTCOMES, MonthlySeries, to_work_or_studies_by_month

__all__ = ['CountGoal', 'ShareGoal', 'GenderBalanceGoal', 'BeforeAfterGoal', 'ManualGoal', 'Goal',
           'goals_from_config', 'goal_fulfilment', 'GoalFulfilment', 'to_work_or_studies_by_month',
           'MonthlySeries', 'outcomes_after_employment', 'hires_by_subsidy', 'GenderTable',
           'households_on_assistance', 'HouseholdSeries', 'PARTICIPANT_OUTCOMES', 'OUTCOMES_90', 'SUBSIDIES',
           'JUDGEMENTS']
