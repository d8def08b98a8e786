"""Seeded register-like data with a *known* true effect for women and men.

The generator draws a pool of registered job seekers, lets some of them enter the programme on
their own start dates (rolling entry), with a probability that depends on their characteristics
(so a naive comparison of participants with everyone else is biased), and draws the time from
start to an exit to work, to studies or to another destination (a competing exit) from
cause-specific exponential hazards. Programme participation multiplies the hazard of work or
studies by a hazard ratio that differs for women and men. Follow-up ends at the data cut-off.

Both potential outcomes are known to the generator, so the true effects among participants
(the ATT) are returned beside the data: the difference in the share in work or studies at
90/180/365 days (exact, from the cumulative incidence functions), the difference in restricted
mean time not yet in work or studies, and the marginal hazard ratio.

Nothing here is real: identifiers are ``"P"`` followed by a number, and every value is drawn.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path

import numpy as np
import pandas as pd

from impact._validation import InstanceOf, Interval, check_random_state, validate_params
from impact.data import Roles

__all__ = ["SyntheticEvaluation", "simulate", "write_synthetic", "read_synthetic", "COVARIATES"]

DISTRICTS = ("Centrum", "Fosie", "Hyllie", "Husie", "Kirseberg", "Limhamn-Bunkeflo", "Oxie",
             "Rosengård", "Södra innerstaden", "Västra innerstaden")
REGIONS = ("Sweden", "Europe", "Outside Europe")
EDUCATION = ("primary", "secondary", "tertiary")

COVARIATES: tuple[str, ...] = (
    "age", "region_of_birth", "education", "days_unemployed_2y", "social_assistance",
    "sickness_benefit", "disability", "district",
)

#: hazard ratio of work or studies for participants (the true conditional effect)
DEFAULT_HAZARD_RATIO = {"female": 1.45, "male": 1.20}


@dataclass(frozen=True)
class SyntheticEvaluation:
    """Synthetic registers, the column roles to use them with, and the true effects.

    Attributes
    ----------
    registers : DataFrame
        One row per person: ``person_id``, ``participant`` (0/1), ``start_date`` (programme
        start, or for non-participants the date their characteristics were measured),
        ``registered_date``, ``gender`` and the covariates, ``exit_date`` and ``exit_type``
        ("work", "studies", "other"; both missing when still registered at the cut-off).
    truth : DataFrame
        ``subgroup`` (all, female, male), ``estimand``, ``horizon``, ``value``: the true ATT.
    roles : Roles
        Column roles for :func:`impact.validate`.
    params : dict
        The settings the data were drawn with.
    """

    registers: pd.DataFrame
    truth: pd.DataFrame
    roles: Roles
    params: dict = field(default_factory=dict)

    def true_value(self, estimand: str, subgroup: str = "all", horizon: float | None = None) -> float:
        t = self.truth
        rows = (t["estimand"] == estimand) & (t["subgroup"] == subgroup)
        if horizon is not None:
            rows &= t["horizon"] == horizon
        if rows.sum() != 1:
            raise KeyError(f"no single true value for {estimand!r}, {subgroup!r}, horizon {horizon!r}")
        return float(t.loc[rows, "value"].iloc[0])

    def __repr__(self) -> str:
        n_t = int(self.registers["participant"].sum())
        return f"SyntheticEvaluation({len(self.registers)} people, {n_t} participants, seed {self.params.get('random_state')})"


def _roles(cutoff: str) -> Roles:
    return Roles(id="person_id", treatment="participant", start="start_date",
                 exit_date="exit_date", exit_type="exit_type", cutoff=cutoff,
                 subgroup="gender", covariates=COVARIATES)


@validate_params({"n_pool": [Interval(Integral, 100, None)], "random_state": ["random_state"],
                  "first_start": [InstanceOf(str, "a date (str)")], "last_start": [InstanceOf(str, "a date (str)")],
                  "cutoff": [InstanceOf(str, "a date (str)")],
                  "hazard_ratio": [InstanceOf(Mapping, "a mapping of gender to hazard ratio"), None],
                  "participation": [Interval(Real, 0, 1, closed="neither")],
                  "horizons": [InstanceOf((tuple, list), "a tuple of days")],
                  "truth_replicates": [Interval(Integral, 1, None)]})
def simulate(n_pool: int = 20_000, random_state: int | np.random.Generator | None = 0, *,
             first_start: str = "2020-01-01", last_start: str = "2022-06-30",
             cutoff: str = "2022-10-31", hazard_ratio: Mapping[str, float] | None = None,
             participation: float = 0.15, horizons: tuple[int, ...] = (90, 180, 365),
             truth_replicates: int = 40) -> SyntheticEvaluation:
    """Draw synthetic registers shaped like the Malmökraften registers, with the true effects.

    Parameters
    ----------
    n_pool : int
        Number of registered job seekers (participants included).
    random_state : int or numpy Generator
        Seed; the same seed gives byte-identical data.
    first_start, last_start : str
        Window of programme start dates (rolling entry).
    cutoff : str
        Data cut-off; exits after it are not yet observed (censored).
    hazard_ratio : dict
        True hazard ratio of work or studies for participants, by gender
        (default ``{"female": 1.45, "male": 1.20}``).
    participation : float
        Approximate share of the pool that participates.
    horizons : tuple of int
        Days at which the true difference in the share in work or studies is computed.
    truth_replicates : int
        Potential-outcome replicates used to compute the marginal hazard ratio.

    Examples
    --------
    >>> sim = simulate(n_pool=2000, random_state=1)
    >>> sim.registers.shape[0]
    2000
    >>> round(sim.true_value("share_diff", "female", 180), 3) > 0
    True
    """
    hr = dict(DEFAULT_HAZARD_RATIO if hazard_ratio is None else hazard_ratio)
    rng = check_random_state(random_state)
    n = int(n_pool)

    female = rng.random(n) < 0.5
    gender = np.where(female, "female", "male")
    age = np.clip(np.round(18 + rng.gamma(4.0, 5.5, n)), 18, 64).astype(int)
    region = rng.choice(len(REGIONS), n, p=[0.40, 0.18, 0.42])
    edu_p = np.where(region[:, None] == 2, [[0.50, 0.35, 0.15]], [[0.25, 0.50, 0.25]])
    education = (rng.random(n)[:, None] > np.cumsum(edu_p, axis=1)).sum(axis=1)
    days_unemployed = np.clip(np.round(rng.gamma(2.2, 150.0, n)), 0, 730).astype(int)
    sa_logit = -1.2 + 0.9 * (region == 2) + 0.6 * (education == 0) + 0.0015 * (days_unemployed - 300)
    social_assistance = (rng.random(n) < _expit(sa_logit)).astype(int)
    sickness = (rng.random(n) < _expit(-2.3 + 0.03 * (age - 40) + 0.2 * female)).astype(int)
    disability = (rng.random(n) < _expit(-2.4 + 0.9 * sickness)).astype(int)
    district_p = np.array([0.12, 0.12, 0.08, 0.07, 0.07, 0.06, 0.05, 0.16, 0.15, 0.12])
    district = rng.choice(len(DISTRICTS), n, p=district_p / district_p.sum())
    deprived = np.isin(district, [1, 7]).astype(float)  # Fosie, Rosengård

    t0 = pd.Timestamp(first_start)
    window = (pd.Timestamp(last_start) - t0).days + 1
    start_offset = rng.integers(0, window, n)
    start_date = t0 + pd.to_timedelta(start_offset, unit="D")
    registered_date = start_date - pd.to_timedelta(
        np.minimum(days_unemployed + rng.integers(0, 60, n), 1500), unit="D")

    # selection into the programme: worse prospects -> more likely to participate
    lin_p = (0.85 * social_assistance + 0.55 * (region == 2) + 0.45 * (education == 0)
             + 0.0018 * (days_unemployed - 300) + 0.6 * sickness - 0.025 * (age - 35)
             + 0.35 * deprived + 0.15 * female)
    intercept = _calibrate_intercept(lin_p, participation)
    participant = (rng.random(n) < _expit(intercept + lin_p)).astype(int)

    # cause-specific hazards per day
    lin_w = (-0.45 * social_assistance - 0.35 * (region == 2) - 0.40 * (education == 0)
             + 0.20 * (education == 2) - 0.0012 * (days_unemployed - 300) - 0.55 * sickness
             - 0.45 * disability - 0.018 * (age - 35) - 0.20 * deprived + 0.10 * (~female))
    lam_ws0 = np.exp(np.log(1 / 420) + lin_w)
    beta = np.where(female, np.log(hr["female"]), np.log(hr["male"]))
    lam_ws1 = lam_ws0 * np.exp(beta)
    lam_o = np.exp(np.log(1 / 1400) + 0.35 * sickness + 0.012 * (age - 35))
    p_studies = _expit(-0.9 - 0.08 * (age - 25) + 0.3 * (education == 1))

    lam_ws = np.where(participant == 1, lam_ws1, lam_ws0)
    lam_tot = lam_ws + lam_o
    u_time, u_cause, u_kind = rng.random(n), rng.random(n), rng.random(n)
    # day of exit counted from the start day as day 1 (an exit on the start day has duration 1)
    t_exit = np.ceil(-np.log(u_time) / lam_tot).astype(np.int64)
    to_ws = u_cause < lam_ws / lam_tot
    kind = np.where(to_ws, np.where(u_kind < p_studies, "studies", "work"), "other")

    cut = pd.Timestamp(cutoff)
    follow = (cut - start_date).days.to_numpy() + 1  # days of follow-up, cut-off day included
    exit_date = start_date + pd.to_timedelta(t_exit - 1, unit="D")
    observed = t_exit <= follow
    exit_date = pd.Series(exit_date).where(observed, pd.NaT)
    exit_type = pd.Series(kind, dtype=object).where(observed, None)

    registers = pd.DataFrame({
        "person_id": [f"P{i:07d}" for i in range(1, n + 1)],
        "participant": participant,
        "start_date": start_date,
        "registered_date": registered_date,
        "gender": gender,
        "age": age,
        "region_of_birth": np.asarray(REGIONS, dtype=object)[region],
        "education": np.asarray(EDUCATION, dtype=object)[education],
        "days_unemployed_2y": days_unemployed,
        "social_assistance": social_assistance,
        "sickness_benefit": sickness,
        "disability": disability,
        "district": np.asarray(DISTRICTS, dtype=object)[district],
        "exit_date": exit_date.to_numpy(),
        "exit_type": exit_type.to_numpy(),
    })

    # ---- the truth among participants (ATT), from both potential outcomes ----
    treated = participant == 1
    rows: list[tuple[str, str, float, float]] = []
    groups = {"all": treated, "female": treated & female, "male": treated & ~female}
    lam0_tot, lam1_tot = lam_ws0 + lam_o, lam_ws1 + lam_o
    for h in horizons:
        cif1 = lam_ws1 / lam1_tot * (1 - np.exp(-lam1_tot * h))
        cif0 = lam_ws0 / lam0_tot * (1 - np.exp(-lam0_tot * h))
        # durations are whole days (ceil of the continuous time), so the restricted mean of the
        # observable step function is h - sum over days k < h of F(k), taken exactly
        rm1, rm0 = np.full(n, float(h)), np.full(n, float(h))
        days = np.arange(1, int(np.ceil(h)))[None, :]
        sel = treated
        rm1[sel] -= (lam_ws1[sel, None] / lam1_tot[sel, None] * (1 - np.exp(-lam1_tot[sel, None] * days))).sum(axis=1)
        rm0[sel] -= (lam_ws0[sel, None] / lam0_tot[sel, None] * (1 - np.exp(-lam0_tot[sel, None] * days))).sum(axis=1)
        for g, m in groups.items():
            rows.append((g, "share_treated", h, cif1[m].mean()))
            rows.append((g, "share_control", h, cif0[m].mean()))
            rows.append((g, "share_diff", h, (cif1[m] - cif0[m]).mean()))
            rows.append((g, "rmst_diff", h, (rm1[m] - rm0[m]).mean()))
    hr_rng = np.random.default_rng(rng.integers(2**63))
    for g, m in groups.items():
        rows.append((g, "hazard_ratio", np.nan,
                     _marginal_hazard_ratio(lam_ws0[m], lam_ws1[m], lam_o[m], follow[m],
                                            truth_replicates, hr_rng)))
        rows.append((g, "conditional_hazard_ratio", np.nan,
                     float(np.exp(beta[m]).mean()) if m.any() else np.nan))
    truth = pd.DataFrame(rows, columns=["subgroup", "estimand", "horizon", "value"])

    params = dict(n_pool=n, random_state=random_state if not isinstance(random_state, np.random.Generator) else None,
                  first_start=first_start, last_start=last_start, cutoff=cutoff,
                  hazard_ratio=hr, participation=participation, horizons=tuple(horizons))
    return SyntheticEvaluation(registers=registers, truth=truth, roles=_roles(cutoff), params=params)


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _calibrate_intercept(lin: np.ndarray, share: float) -> float:
    lo, hi = -20.0, 20.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if _expit(mid + lin).mean() < share:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def _marginal_hazard_ratio(lam0: np.ndarray, lam1: np.ndarray, lam_o: np.ndarray,
                           follow: np.ndarray, reps: int, rng: np.random.Generator) -> float:
    """Hazard ratio a matched, unadjusted Cox model targets: participants under both treatments.

    Each participant appears once with its treated and once with its untreated potential
    outcome (independent draws, censored at its own follow-up and at competing exits); the
    one-covariate Cox partial likelihood (Breslow, ties rare) is maximised by Newton steps.
    """
    if lam0.size == 0:
        return float("nan")
    k = lam0.size
    lam0, lam1, lam_o, follow = (np.tile(a, reps) for a in (lam0, lam1, lam_o, follow))
    z = np.r_[np.zeros(k * reps), np.ones(k * reps)]
    lam_ws = np.r_[lam0, lam1]
    lam_c = np.r_[lam_o, lam_o]
    f = np.r_[follow, follow]
    tot = lam_ws + lam_c
    time = np.ceil(-np.log(rng.random(z.size)) / tot)
    event = (rng.random(z.size) < lam_ws / tot) & (time <= f)
    time = np.minimum(time, f)
    order = np.argsort(-time, kind="stable")
    time, event, z = time[order], event[order], z[order]
    beta = 0.0
    for _ in range(30):
        w = np.exp(beta * z)
        s0, s1 = np.cumsum(w), np.cumsum(w * z)
        # risk set of a time = everyone with time >= it: take the last index of each tied block
        last = np.searchsorted(-time, -time, side="right") - 1
        p = s1[last] / s0[last]
        grad = np.sum(event * (z - p))
        info = np.sum(event * p * (1 - p))
        step = grad / info
        beta += step
        if abs(step) < 1e-10:
            break
    return float(np.exp(beta))


#: the bundled folder of a source checkout (a register extract since the risk-set design is the main flow)
_BUNDLED = (Path(__file__).resolve().parents[3] / "data" / "synthetic").resolve()


@validate_params({"sim": [InstanceOf(SyntheticEvaluation, "a SyntheticEvaluation (the result of simulate)")],
                  "folder": [InstanceOf((str, os.PathLike), "a folder (str or Path)")]})
def write_synthetic(sim: SyntheticEvaluation, folder: str | os.PathLike[str]) -> list[Path]:
    """Write ``registers.csv`` and ``truth.csv``, byte-identical for the same seed."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    reg = sim.registers.copy()
    for c in ("start_date", "registered_date", "exit_date"):
        reg[c] = pd.to_datetime(reg[c]).dt.strftime("%Y-%m-%d")
    paths = [folder / "registers.csv", folder / "truth.csv"]
    reg.to_csv(paths[0], index=False, lineterminator="\n")
    sim.truth.to_csv(paths[1], index=False, float_format="%.10g", lineterminator="\n")
    return paths


@validate_params({"folder": [InstanceOf((str, os.PathLike), "a folder (str or Path)")],
                  "cutoff": [InstanceOf(str, "a date (str)")]})
def read_synthetic(folder: str | os.PathLike[str], cutoff: str = "2022-10-31") -> SyntheticEvaluation:
    """Read what :func:`write_synthetic` wrote (dates parsed).

    The bundled folder ``data/synthetic`` holds a register extract now (see
    :func:`impact.synthetic.read_extract`); for it, this draws the one-row-per-person table it used
    to hold in memory (``simulate(20_000, random_state=2022)``, the same generator and seed), so
    that code reading the old bundle keeps working.

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> _ = write_synthetic(simulate(500, random_state=1), folder)
    >>> read_synthetic(folder).registers.shape[0] > 0
    True
    """
    folder = Path(folder)
    if not (folder / "registers.csv").exists() and folder.resolve() == _BUNDLED:
        sim = simulate(20_000, random_state=2022)
        return SyntheticEvaluation(registers=sim.registers, truth=sim.truth, roles=_roles(cutoff),
                                   params={**sim.params, "source": "drawn in memory (the bundle is a register extract)"})
    reg = pd.read_csv(folder / "registers.csv", parse_dates=["start_date", "registered_date", "exit_date"])
    truth = pd.read_csv(folder / "truth.csv")
    return SyntheticEvaluation(registers=reg, truth=truth, roles=_roles(cutoff),
                               params={"source": str(folder)})
