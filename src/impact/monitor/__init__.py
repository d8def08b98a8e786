"""Goal fulfilment and the monthly monitoring tables."""

from impact.monitor._monitor import (JUDGEMENTS, OUTCOMES_90, PARTICIPANT_OUTCOMES, SUBSIDIES, BeforeAfterGoal,
                                     CountGoal, GenderBalanceGoal, GenderTable, Goal, GoalFulfilment,
                                     HouseholdSeries, ManualGoal, MonthlySeries, ShareGoal, goal_fulfilment,
                                     goals_from_config, hires_by_subsidy, households_on_assistance,
                                     outcomes_after_employment, to_work_or_studies_by_month)

__all__ = ['CountGoal', 'ShareGoal', 'GenderBalanceGoal', 'BeforeAfterGoal', 'ManualGoal', 'Goal',
           'goals_from_config', 'goal_fulfilment', 'GoalFulfilment', 'to_work_or_studies_by_month',
           'MonthlySeries', 'outcomes_after_employment', 'hires_by_subsidy', 'GenderTable',
           'households_on_assistance', 'HouseholdSeries', 'PARTICIPANT_OUTCOMES', 'OUTCOMES_90', 'SUBSIDIES',
           'JUDGEMENTS']
