"""Synthetic monitoring records shaped like the Malmökraften / AMA reports of 2022.

Nothing here is real: identifiers are ``"P"``, ``"E"`` or ``"H"`` followed by a number and every
value is drawn. The shapes follow the seed (see ``CONTEXT.md``): 835 people newly employed by AMA
in 2022 with the seed's mix of employment subsidies for women and men; 769 ended labour-market
employments whose day 90 falls between 1 January and 30 November 2022, with the seed's mix of
results; unique households with economic assistance per month from January 2018 to October 2022,
falling so that October 2022 is about 17.7% below October 2021 and 26.2% below October 2020; and
about 4,300 programme participants 2020 to mid-2022 for the goal-fulfilment table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from numbers import Integral

import numpy as np
import pandas as pd

from impact._validation import Interval, check_random_state, validate_params

__all__ = ["MonitoringRecords", "simulate_monitoring", "SUBSIDY_MIX", "OUTCOME_90_MIX"]

#: the seed's hires in 2022 by subsidy type: (women, men)
SUBSIDY_MIX: dict[str, tuple[int, int]] = {
    "extratjanster": (2, 0),
    "lonebidrag_osa": (42, 46),
    "nystartsjobb": (220, 189),
    "introduktionsjobb": (147, 114),
    "no_subsidy": (27, 48),
}
#: the seed's results 90 days after an ended employment: (women, men)
OUTCOME_90_MIX: dict[str, tuple[int, int]] = {
    "to_work": (64, 87),
    "to_studies": (20, 15),
    "continued_planning": (208, 242),
    "new_planning_af": (6, 14),
    "interrupted_planning": (14, 51),
    "other_reasons": (32, 16),
}
#: unique households in October of each year, relative to October 2020
# 2021 is set so that October 2022 is 17.7% below October 2021 and 26.2% below October 2020
_OCTOBER_LEVEL = {2017: 1.06, 2018: 1.05, 2019: 1.03, 2020: 1.00, 2021: (1 - 0.262) / (1 - 0.177),
                  2022: 1 - 0.262}

_DAY = np.timedelta64(1, "D")


@dataclass(frozen=True)
class MonitoringRecords:
    """Synthetic individual-level records for goal fulfilment and monthly monitoring.

    Attributes
    ----------
    participants : DataFrame
        One row per programme participant: ``person_id``, ``gender`` ("female"/"male"),
        ``start_date``, ``end_date`` (missing while ongoing), ``outcome`` ("to_work", "to_studies",
        "other", "ongoing"), ``joint_plan`` (needs clarified in a joint individual plan),
        ``referred_by_fk`` (came from the Social Insurance Agency), ``enhanced_cooperation``
        (moved on to AF/FK enhanced cooperation), ``social_assistance_start``,
        ``social_assistance_end``, ``sickness_benefit_start``, ``sickness_benefit_end`` (the
        ``_end`` columns are missing while the participation is ongoing).
    employments : DataFrame
        One row per labour-market employment at AMA: ``employment_id``, ``person_id``, ``gender``,
        ``hire_date``, ``subsidy``, ``end_date`` (missing while ongoing), ``outcome_90`` (result 90
        days after the end; missing until day 90 has passed).
    households : DataFrame
        One row per household and month with economic assistance: ``household_id``, ``month``
        (monthly Period), January 2018 to October 2022.
    household_exits : DataFrame
        Households leaving economic assistance: ``household_id``, ``exit_date``, ``reason``
        ("to_work", "to_studies", "other"), February 2018 to November 2022.
    params : dict
        Settings the records were drawn with.
    period : (str, str)
        First and last day the records are complete for (1 January to 31 October 2022, the data
        cut-off): :func:`impact.pipeline.monitoring_tables` uses it when given no period.
    """

    participants: pd.DataFrame
    employments: pd.DataFrame
    households: pd.DataFrame
    household_exits: pd.DataFrame
    params: dict = field(default_factory=dict)
    period: tuple[str, str] = ("2022-01-01", "2022-10-31")

    def __repr__(self) -> str:
        return (f"MonitoringRecords({len(self.participants)} participants, {len(self.employments)} "
                f"employments, {len(self.households)} household-months, seed "
                f"{self.params.get('random_state')})")


def _dates(rng: np.random.Generator, start: str, end: str, n: int) -> np.ndarray:
    lo, hi = np.datetime64(start, "D"), np.datetime64(end, "D")
    return lo + rng.integers(0, int((hi - lo) / _DAY) + 1, size=n) * _DAY


def _gendered_categories(rng: np.random.Generator, mix: dict[str, tuple[int, int]], n: int,
                         n_women: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    women_total = sum(w for w, _ in mix.values())
    men_total = sum(m for _, m in mix.values())
    if n_women is None:
        n_women = int(rng.binomial(n, women_total / (women_total + men_total)))
    cats = np.array(list(mix))
    pw = np.array([w for w, _ in mix.values()], float) / women_total
    pm = np.array([m for _, m in mix.values()], float) / men_total
    gender = np.array(["female"] * n_women + ["male"] * (n - n_women))
    cat = np.concatenate([rng.choice(cats, size=n_women, p=pw), rng.choice(cats, size=n - n_women, p=pm)])
    order = rng.permutation(n)
    return gender[order], cat[order]


def _participants(rng: np.random.Generator, n: int) -> pd.DataFrame:
    cutoff = np.datetime64("2022-10-31")
    start = np.sort(_dates(rng, "2020-01-01", "2022-06-30", n))
    female = rng.random(n) < 0.46
    fk = rng.random(n) < 0.12
    duration = np.ceil(rng.exponential(260, size=n)).astype(int) + 14
    end = start + duration * _DAY
    ended = end <= cutoff
    p_work = np.where(female, 0.50, 0.56) - 0.15 * fk
    u = rng.random(n)
    outcome = np.where(u < p_work * 0.8, "to_work", np.where(u < p_work, "to_studies", "other"))
    outcome = np.where(ended, outcome, "ongoing")
    sa_start = rng.random(n) < np.where(fk, 0.25, 0.50)
    sb_start = np.where(fk, rng.random(n) < 0.85, rng.random(n) < 0.05)
    to_ws = np.isin(outcome, ["to_work", "to_studies"])
    sa_end = sa_start & (rng.random(n) < np.where(to_ws, 0.25, 0.85)) | (~sa_start & (rng.random(n) < 0.04))
    sb_end = sb_start & (rng.random(n) < np.where(to_ws, 0.30, 0.80))
    df = pd.DataFrame({
        "person_id": [f"P{i:06d}" for i in rng.permutation(n) + 100001],
        "gender": np.where(female, "female", "male"),
        "start_date": pd.to_datetime(start),
        "end_date": pd.to_datetime(np.where(ended, end, np.datetime64("NaT"))),
        "outcome": outcome,
        "joint_plan": np.where(to_ws, rng.random(n) < 0.6, rng.random(n) < 0.93),
        "referred_by_fk": fk,
        "enhanced_cooperation": fk & (rng.random(n) < 0.71),
        "social_assistance_start": sa_start,
        "social_assistance_end": pd.array(np.where(ended, sa_end, False), dtype="boolean"),
        "sickness_benefit_start": sb_start,
        "sickness_benefit_end": pd.array(np.where(ended, sb_end, False), dtype="boolean"),
    })
    df.loc[~ended, ["social_assistance_end", "sickness_benefit_end"]] = pd.NA
    return df


def _employments(rng: np.random.Generator, n_hires_2022: int, n_ended: int) -> pd.DataFrame:
    # (a) hired in 2022, still employed or ended too late for day 90 before 1 December 2022
    g_a, s_a = _gendered_categories(rng, SUBSIDY_MIX, n_hires_2022)
    hire_a = _dates(rng, "2022-01-03", "2022-11-30", n_hires_2022)
    end_a = np.full(n_hires_2022, np.datetime64("NaT"), "datetime64[D]")
    late = (rng.random(n_hires_2022) < 0.1) & (hire_a < np.datetime64("2022-08-01"))
    end_a[late] = _dates(rng, "2022-09-03", "2022-11-30", int(late.sum()))
    # (b) ended so that day 90 falls between 1 January and 30 November 2022; hired before 2022
    n_w = int(rng.binomial(n_ended, 344 / 769))
    g_b, o_b = _gendered_categories(rng, OUTCOME_90_MIX, n_ended, n_women=n_w)
    _, s_b = _gendered_categories(rng, SUBSIDY_MIX, n_ended, n_women=n_w)
    day90 = _dates(rng, "2022-01-01", "2022-11-30", n_ended)
    end_b: np.ndarray = day90 - 90 * _DAY
    min_len = np.maximum(180, (end_b - np.datetime64("2021-12-31")) / _DAY + 1).astype(int)
    hire_b = end_b - rng.integers(min_len, 541) * _DAY
    # (c) ended earlier: day 90 in the second half of 2021 (outside the 2022 period)
    n_c = max(1, n_ended // 3)
    g_c, o_c = _gendered_categories(rng, OUTCOME_90_MIX, n_c)
    _, s_c = _gendered_categories(rng, SUBSIDY_MIX, n_c)
    end_c = _dates(rng, "2021-04-03", "2021-10-02", n_c)
    hire_c = end_c - rng.integers(180, 541, size=n_c) * _DAY
    n = n_hires_2022 + n_ended + n_c
    df = pd.DataFrame({
        "employment_id": [f"E{i:06d}" for i in range(1, n + 1)],
        "person_id": [f"P{i:06d}" for i in rng.permutation(n) + 500001],
        "gender": np.concatenate([g_a, g_b, g_c]),
        "hire_date": pd.to_datetime(np.concatenate([hire_a, hire_b, hire_c])),
        "subsidy": np.concatenate([s_a, s_b, s_c]),
        "end_date": pd.to_datetime(np.concatenate([end_a, end_b, end_c])),
        "outcome_90": np.concatenate([np.full(n_hires_2022, None, object), o_b, o_c]),
    })
    return df.sort_values(["hire_date", "employment_id"], kind="mergesort").reset_index(drop=True)


def _households(rng: np.random.Generator, level: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    months = pd.period_range("2018-01", "2022-11", freq="M")
    years = np.array(sorted(_OCTOBER_LEVEL))
    # log-linear between October anchors, a little winter seasonality, a little noise
    t = np.array([m.year + (m.month - 10) / 12 for m in months])
    log_level = np.interp(t, years, np.log([_OCTOBER_LEVEL[y] for y in years]))
    season = 0.012 * np.cos(2 * np.pi * (np.array([m.month for m in months]) - 1) / 12)
    season -= 0.012 * np.cos(2 * np.pi * 9 / 12)  # October is on the anchor
    target = np.round(level * np.exp(log_level + season + rng.normal(0, 0.003, len(months)))).astype(int)
    next_id = 1
    active = np.array([], dtype=np.int64)
    rows_h, rows_m, exits_h, exits_m = [], [], [], []
    for k in range(len(months)):
        stay = active[rng.random(active.size) < 0.93]
        if stay.size > target[k]:
            stay = np.sort(rng.choice(stay, size=target[k], replace=False))
        new = np.arange(next_id, next_id + target[k] - stay.size)
        next_id += new.size
        left = np.setdiff1d(active, stay)
        exits_h.append(left)
        exits_m.append(np.full(left.size, k))
        active = np.concatenate([stay, new])
        rows_h.append(active)
        rows_m.append(np.full(active.size, k))
    hh = np.concatenate(rows_h)
    mm = np.concatenate(rows_m)
    keep = mm < len(months) - 1  # household-months up to October 2022
    households = pd.DataFrame({
        "household_id": [f"H{i:06d}" for i in hh[keep]],
        "month": pd.PeriodIndex(months[mm[keep]], freq="M"),
    })
    eh, em = np.concatenate(exits_h), np.concatenate(exits_m)
    first_day = months[em].to_timestamp().to_numpy().astype("datetime64[D]")
    exit_date = first_day + rng.integers(0, 28, size=eh.size) * _DAY
    reason = rng.choice(np.array(["to_work", "to_studies", "other"]), size=eh.size, p=[0.24, 0.08, 0.68])
    exits = pd.DataFrame({"household_id": [f"H{i:06d}" for i in eh],
                          "exit_date": pd.to_datetime(exit_date), "reason": reason})
    return households, exits.sort_values(["exit_date", "household_id"], kind="mergesort").reset_index(drop=True)


@validate_params({"random_state": ["random_state"], "n_participants": [Interval(Integral, 1, None)],
                  "n_hires_2022": [Interval(Integral, 1, None)], "n_ended_employments": [Interval(Integral, 1, None)],
                  "n_households": [Interval(Integral, 1, None)]})
def simulate_monitoring(random_state: int | np.random.Generator | None = 0, *,
                        n_participants: int = 4300, n_hires_2022: int = 835,
                        n_ended_employments: int = 769, n_households: int = 2000
                        ) -> MonitoringRecords:
    """Draw synthetic monitoring records shaped like the seed's 2022 reports.

    Parameters
    ----------
    random_state : int, numpy Generator or None
        Seed; the same seed gives the same records.
    n_participants : int
        Programme participants starting January 2020 to June 2022 (data cut-off 31 October 2022).
    n_hires_2022 : int
        People newly employed by AMA in 2022 (the seed: 835).
    n_ended_employments : int
        Ended employments whose day 90 falls between 1 January and 30 November 2022 (the seed: 769).
    n_households : int
        Unique households with economic assistance in October 2020; other months follow a falling
        trend (October 2022 is about 17.7% below October 2021 and 26.2% below October 2020).

    Returns
    -------
    MonitoringRecords

    Examples
    --------
    >>> rec = simulate_monitoring(random_state=1)
    >>> int((rec.employments["hire_date"].dt.year == 2022).sum())
    835
    >>> sorted(rec.participants["gender"].unique())
    ['female', 'male']
    """
    seed = random_state if not isinstance(random_state, np.random.Generator) else None
    rng = check_random_state(random_state)
    # one independent stream per table, so changing one table's size leaves the others alone
    children = [np.random.default_rng(int(s)) for s in rng.integers(0, 2**63 - 1, size=3)]
    participants = _participants(children[0], n_participants)
    employments = _employments(children[1], n_hires_2022, n_ended_employments)
    households, exits = _households(children[2], n_households)
    return MonitoringRecords(
        participants=participants, employments=employments, households=households,
        household_exits=exits,
        params=dict(random_state=seed, n_participants=n_participants, n_hires_2022=n_hires_2022,
                    n_ended_employments=n_ended_employments, n_households=n_households))
