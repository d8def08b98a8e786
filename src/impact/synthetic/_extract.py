"""A seeded synthetic register extract (persons, spells, programme starts, economic-assistance months)
with rolling entry, selection on the observed history and a known true effect.

Each person registers at the employment service on a day of the window, leaves to work or studies
(the event) or to another destination (competing) with cause-specific hazards that depend on age,
education, country of birth, economic assistance and elapsed duration (the hazard of work halves
after a year: negative duration dependence), and may come back after a gap. While the programme
takes participants, a registered person who has been registered for at least 60 days enters it with
a hazard that rises with economic assistance, birth abroad, low education and long elapsed duration:
selection on the observed history, so a naive comparison is biased. From the start on, the hazard of
work or studies is multiplied by the true hazard ratio (1.4 for women, 1.2 for men by default) until
the spell ends. Persons on economic assistance receive it in every month they are registered.

The truth returned beside the data is exact: the conditional hazard ratios, and among participants
the difference between the cumulative incidence of work or studies with and without the programme
(join versus never join) and between starting now and waiting (not starting in the start month,
free to start later: join versus wait) at 90, 180 and 365 days, computed in closed form from the
piecewise constant hazards (the wait arm with a Gauss-Legendre quadrature of a smooth integrand;
no simulation noise, no cut-off), on the pieces the data were drawn with.

Nothing here is real: identifiers are ``"P"`` followed by a number, and every value is drawn.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from impact._validation import InstanceOf, Interval, check_random_state, validate_params
from impact.registers import DEFAULT_CODES, RegisterExtract

__all__ = ["EXTRACT_FILES", "EXTRACT_HAZARD_RATIO", "SyntheticExtract", "read_extract", "simulate_extract",
           "write_extract"]

#: the programme multiplies the hazard of work or studies by these (conditional, cause-specific)
EXTRACT_HAZARD_RATIO = {"female": 1.4, "male": 1.2}

_DISTRICTS = ("Centrum", "Fosie", "Hyllie", "Husie", "Kirseberg", "Limhamn-Bunkeflo", "Oxie", "Rosengård",
              "Södra innerstaden", "Västra innerstaden")
_EDUCATION = ("primary", "secondary", "tertiary")
_EVENT_CODES = ("11", "12", "13", "14", "15", "31")
_EVENT_MIX = (0.45, 0.15, 0.05, 0.08, 0.07, 0.20)
_COMPETING_CODES = ("80", "90")
_COMPETING_MIX = (0.6, 0.4)
_LONG = 365.0      # elapsed days after which the hazard of work halves
_ELIGIBLE = 60.0   # elapsed days before which nobody enters the programme
_HORIZONS = (90, 180, 365)


@dataclass(frozen=True, eq=False)  # tables inside: compared and hashed by identity
class SyntheticExtract:
    """A synthetic register extract and its known truth.

    Attributes
    ----------
    extract : RegisterExtract
        Persons (``person_id``, ``gender``, ``birth_year``, ``born_abroad``, ``education``,
        ``district``), spells, programme starts and the ``economic_assistance`` months.
    truth : DataFrame
        ``subgroup`` (all, female, male), ``estimand`` (``hazard_ratio``: conditional, of work or
        studies; ``share_diff``: among participants, cumulative incidence of work or studies with
        minus without the programme, join versus never join), ``horizon`` (days; missing for the
        hazard ratio), ``value`` and ``estimand_design``; also ``share_treated`` and
        ``share_untreated``, the two cumulative incidences whose difference is ``share_diff``.
        These rows have ``estimand_design = "join_vs_never"``. Rows with ``"join_vs_wait"``:
        ``share_waiting`` (the incidence had the participant not started in its start month, free
        to start later) and ``share_diff_vs_wait`` (``share_treated`` minus it).
    hazard_ratio : dict
        The true hazard ratio by gender.
    params : dict
        The settings the data were drawn with.
    participants : DataFrame or None
        One row per participant (``person_id``, ``gender``, ``start``) with its own exact
        incidences at each horizon ``h`` (``share_treated_h``, ``share_untreated_h``,
        ``share_waiting_h``): ``truth`` is their mean over all participants; the mean over a
        subset (e.g. the matched participants, :meth:`truth_among`) is the truth of that
        subset. ``None`` when read from files (:func:`read_extract`).
    """

    extract: RegisterExtract
    truth: pd.DataFrame
    hazard_ratio: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)
    participants: pd.DataFrame | None = None

    def truth_among(self, ids: Any) -> pd.DataFrame:
        """The truth over the participants with these ids only (same rows and columns as ``truth``).

        The effect table of a matched design estimates the effect among the participants it kept
        (a participant without a control within the caliper is left out): this is its exact truth.
        Ids that are not participants are ignored.

        Examples
        --------
        >>> sim = simulate_extract(2_000, random_state=1)
        >>> everyone = sim.truth_among(sim.extract.programme["person_id"])
        >>> bool((everyone["value"] - sim.truth["value"]).abs().max() < 1e-15)
        True
        """
        if self.participants is None:
            from impact._errors import ParameterError

            raise ParameterError("This SyntheticExtract has no per-participant truth (read from files); "
                                 "draw it with simulate_extract.")
        keep = self.participants["person_id"].isin(pd.Series(ids, dtype=object)).to_numpy()
        return _truth_table(self.participants[keep].reset_index(drop=True), self.hazard_ratio)

    def __repr__(self) -> str:
        e = self.extract
        return (f"SyntheticExtract({len(e.persons)} persons, {len(e.spells)} spells, {len(e.programme)} participants, "
                f"seed {self.params.get('random_state')})")


def _draw(a: np.ndarray, breaks: np.ndarray, rates: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """First event time and cause of piecewise-constant cause-specific hazards.

    ``a``: (n,) start times; ``breaks``: (n, m) absolute break times (sorted, >= a); ``rates``:
    (n, m + 1, K) the rate of each cause in each piece. Returns times (inf when none) and causes (-1).
    """
    n = a.shape[0]
    edges = np.concatenate([a[:, None], breaks, np.full((n, 1), np.inf)], axis=1)
    length = np.diff(edges, axis=1)
    total = rates.sum(axis=2)
    with np.errstate(invalid="ignore"):
        piece = np.where(total > 0, total * length, 0.0)
    cum = np.cumsum(piece, axis=1)
    target = np.asarray(rng.exponential(1.0, n))
    idx = (cum < target[:, None]).sum(axis=1)
    hit = idx < edges.shape[1] - 1
    ii = np.minimum(idx, total.shape[1] - 1)
    rows = np.arange(n)
    before = np.where(ii > 0, cum[rows, np.maximum(ii - 1, 0)], 0.0)
    tot = total[rows, ii]
    with np.errstate(divide="ignore", invalid="ignore"):
        time = np.where(hit & (tot > 0), edges[rows, ii] + (target - before) / tot, np.inf)
    r = rates[rows, ii, :]
    u = np.asarray(rng.random(n))
    with np.errstate(divide="ignore", invalid="ignore"):
        cdf = np.cumsum(r, axis=1) / tot[:, None]
    cause = (cdf < u[:, None]).sum(axis=1)
    cause = np.where(np.isfinite(time), np.minimum(cause, r.shape[1] - 1), -1)
    return time, cause


def _cif(u0: np.ndarray, lam_e: np.ndarray, lam_c: np.ndarray, hr: np.ndarray,
         horizon: float | np.ndarray, long_at: float | np.ndarray = _LONG) -> np.ndarray:
    """Cumulative incidence of the event by ``horizon`` days (one, or one per row) after a start at
    elapsed ``u0``, closed form; the hazard of work halves from elapsed ``long_at`` (a year, or
    later where the generator's own piece flags say so: see :func:`_long_points`)."""
    t1 = np.clip(long_at - u0, 0.0, horizon)  # days of the first piece (short-term hazard)
    e1, e2 = lam_e * hr, 0.5 * lam_e * hr
    r1, r2 = e1 + lam_c, e2 + lam_c
    s1 = np.exp(-r1 * t1)
    cif1 = e1 / r1 * (1 - s1)
    cif2 = s1 * e2 / r2 * (1 - np.exp(-r2 * (horizon - t1)))
    return cif1 + cif2


_GL_X, _GL_W = np.polynomial.legendre.leggauss(12)   # nodes on [-1, 1] for the smooth pieces


def _long_points(reg: np.ndarray, p0: float, p1: float) -> tuple[np.ndarray, np.ndarray]:
    """Where the generator's "after a year" flag switches on, for spells registered at ``reg``.

    The generator flags a piece as long when ``piece start - reg >= 365`` in floating point, with
    the piece starting at ``reg + 365``: for a few spells (about 2%: those whose ``reg + 365``
    rounds down) that difference is a hair below 365, and the flag switches on only at the next
    piece start (the programme's first or last day, if later) or never. Returns the elapsed time
    from which the pre-entry pieces are long (``inf``: never) and whether the piece starting at
    ``reg + 365`` is long (after an entry before a year, the hazard halves there only then).
    """
    starts = np.concatenate([reg[:, None], np.sort(np.stack(
        [reg + _ELIGIBLE, reg + _LONG, np.maximum(np.full_like(reg, p0), reg),
         np.maximum(np.full_like(reg, p1), reg)], axis=1), axis=1)], axis=1)
    u = starts - reg[:, None]
    long = u >= _LONG
    first = np.where(long.any(axis=1), u[np.arange(len(reg)), np.argmax(long, axis=1)], np.inf)
    return first, ((reg + _LONG) - reg) >= _LONG


def _cif_wait(s: np.ndarray, reg: np.ndarray, opens: np.ndarray, closes: float, lam_e: np.ndarray,
              lam_c: np.ndarray, lam_in: np.ndarray, hr: np.ndarray, horizon: float,
              long_at: np.ndarray | None = None, year_flag: np.ndarray | None = None) -> np.ndarray:
    """Cumulative incidence of the event by ``horizon`` days after ``s`` for a person who does *not*
    start at ``s`` (nor before ``opens``, the first day of the next period) but may start later.

    The person registered at ``reg`` (absolute days, continuous) and is registered and not in the
    programme at ``s``. Until it starts, its hazards are those of the generator (work ``lam_e``,
    halved after a year registered; other exits ``lam_c``; entry ``lam_in``, doubled after a year,
    from ``opens`` until the programme stops taking participants at ``closes``); from a start at
    ``t`` on, the incidence is :func:`_cif` from elapsed ``t - reg`` with the hazard ratio, over
    the ``s + horizon - t`` days left. ``long_at`` and ``year_flag`` (default: a year, and true)
    are :func:`_long_points`. Exact on each piece where the hazards are constant: the
    work term in closed form, the entry term by 12-point Gauss-Legendre quadrature of a smooth
    integrand (a sum of exponentials; error far below 1e-8).
    """
    long_at = np.full_like(s, _LONG) if long_at is None else long_at
    year_flag = np.ones(s.shape[0], bool) if year_flag is None else year_flag
    end = s + horizon
    cuts = np.stack([opens, reg + np.minimum(long_at, 1e9), np.full_like(s, closes)], axis=1)
    edges = np.concatenate([s[:, None], np.sort(np.clip(cuts, s[:, None], end[:, None]), axis=1),
                            end[:, None]], axis=1)
    log_surv = np.zeros(s.shape[0])
    out = np.zeros(s.shape[0])
    for k in range(edges.shape[1] - 1):
        a, b = edges[:, k], edges[:, k + 1]
        length = b - a
        mid = 0.5 * (a + b)
        long = (mid - reg) >= long_at
        le = lam_e * np.where(long, 0.5, 1.0)
        li = lam_in * np.where(long, 2.0, 1.0) * ((mid >= opens) & (mid < closes))
        rate = le + lam_c + li
        surv_a = np.exp(log_surv)
        with np.errstate(invalid="ignore", divide="ignore"):
            out += np.where(length > 0, surv_a * le / rate * -np.expm1(-rate * length), 0.0)
        x = mid[:, None] + 0.5 * length[:, None] * _GL_X[None, :]          # (n, nodes)
        ux = (x - reg[:, None]).ravel()
        # after a start at x: halved from x on past a year, else from a year on where the flag holds
        post = np.where(ux >= _LONG, ux, np.where(np.repeat(year_flag, x.shape[1]), _LONG, np.inf))
        after = _cif(ux, np.repeat(lam_e, x.shape[1]), np.repeat(lam_c, x.shape[1]),
                     np.repeat(hr, x.shape[1]), (end[:, None] - x).ravel(), post).reshape(x.shape)
        dens = surv_a[:, None] * np.exp(-rate[:, None] * (x - a[:, None])) * li[:, None]
        out += 0.5 * length * (dens * after * _GL_W[None, :]).sum(axis=1)
        log_surv -= rate * length
    return out


@validate_params({"n_persons": [Interval(Integral, 10, None)],
                  "months": [Interval(Integral, 12, 600)],
                  "programme_months": [Interval(Integral, 1, 600)],
                  "cutoff": [InstanceOf(str, "a date (YYYY-MM-DD)")],
                  "entry_rate": [Interval(Real, 0, None, closed="neither")],
                  "hazard_ratio": [InstanceOf(dict, "a dict {'female': hr, 'male': hr}"), None],
                  "random_state": ["random_state"]})
def simulate_extract(n_persons: int = 40_000, *, months: int = 58, programme_months: int = 30,
                     cutoff: str = "2022-10-31", entry_rate: float = 1.0,
                     hazard_ratio: dict | None = None, random_state: Any = None) -> SyntheticExtract:
    """Draw a register extract with rolling entry and a known effect of the programme.

    Parameters
    ----------
    n_persons : int
        Number of persons (each registers at least once).
    months : int
        Length of the observation window in calendar months, ending with the month of the cut-off.
    programme_months : int
        Months during which the programme takes participants; they end four months before the
        cut-off month (follow-up for the last starters).
    cutoff : str
        The data cut-off (YYYY-MM-DD).
    entry_rate : float
        Multiplies the hazard of entering the programme (1: about one person in eight enters).
    hazard_ratio : dict, optional
        ``{"female": hr, "male": hr}``; default :data:`EXTRACT_HAZARD_RATIO` (1.4 and 1.2).
    random_state : int, Generator or None
        Same seed, same extract, byte for byte.

    Returns
    -------
    SyntheticExtract

    Examples
    --------
    >>> from impact.synthetic import simulate_extract
    >>> sim = simulate_extract(2_000, random_state=1)
    >>> sim.extract.persons.columns.tolist()
    ['person_id', 'gender', 'birth_year', 'born_abroad', 'education', 'district']
    >>> sim.hazard_ratio
    {'female': 1.4, 'male': 1.2}
    >>> float(sim.truth.query("estimand == 'share_diff' and subgroup == 'female' and horizon == 365")["value"].iloc[0]) > 0
    True
    """
    hr_by = dict(EXTRACT_HAZARD_RATIO if hazard_ratio is None else hazard_ratio)
    if set(hr_by) != {"female", "male"} or not all(float(v) > 0 for v in hr_by.values()):
        from impact._errors import ParameterError

        raise ParameterError("The 'hazard_ratio' parameter of simulate_extract must be {'female': hr, 'male': hr} "
                             "with hazard ratios > 0.")
    rng = check_random_state(random_state)
    n = int(n_persons)
    cut = pd.Timestamp(cutoff)
    t0 = (cut.to_period("M") - (months - 1)).start_time       # first day of the window
    cut_day = float((cut - t0).days)
    p_first = (cut.to_period("M") - (programme_months + 3)).start_time
    p0 = float((p_first - t0).days)
    p1 = float(((cut.to_period("M") - 3).start_time - t0).days)

    # persons
    female = rng.random(n) < 0.5
    age0 = rng.integers(18, 63, n)
    abroad = rng.random(n) < 0.5
    edu = rng.choice(3, n, p=[0.40, 0.40, 0.20])
    district = rng.integers(0, len(_DISTRICTS), n)
    ea = rng.random(n) < 1 / (1 + np.exp(-(-1.0 + 1.0 * abroad + 0.5 * (edu == 0))))
    agec = (age0 - 40) / 10.0
    lam_e = np.exp(-0.25 * agec - 0.3 * (edu == 0) + 0.3 * (edu == 2) - 0.35 * abroad - 0.5 * ea
                   - 0.1 * female) / 250.0
    lam_c = np.exp(0.1 * agec) / 900.0
    lam_in = entry_rate * np.exp(0.9 * ea + 0.4 * abroad + 0.3 * (edu == 0) - 0.15 * agec) / 3000.0
    hr = np.where(female, hr_by["female"], hr_by["male"])

    # spells, one round per spell number
    reg = rng.uniform(-365.0, cut_day - 30.0, n)
    active = np.ones(n, bool)
    entered = np.zeros(n, bool)
    start = np.full(n, np.nan)
    start_u0 = np.full(n, np.nan)
    start_abs = np.full(n, np.nan)
    start_reg = np.full(n, np.nan)
    out_p, out_reg, out_dereg, out_code = [], [], [], []
    for _ in range(12):
        idx = np.flatnonzero(active)
        if not len(idx):
            break
        r = reg[idx]
        rday = np.floor(r)
        br = np.sort(np.stack([r + _ELIGIBLE, r + _LONG, np.maximum(np.full_like(r, p0), r),
                               np.maximum(np.full_like(r, p1), r)], axis=1), axis=1)
        br = np.maximum(br, r[:, None])
        tau = np.concatenate([r[:, None], br], axis=1)             # start of each piece
        u = tau - r[:, None]
        long = u >= _LONG
        elig = (u >= _ELIGIBLE) & (tau >= p0) & (tau < p1) & ~entered[idx][:, None]
        le = lam_e[idx][:, None] * np.where(long, 0.5, 1.0)
        lc = np.broadcast_to(lam_c[idx][:, None], le.shape)
        li = lam_in[idx][:, None] * np.where(long, 2.0, 1.0) * elig
        time, cause = _draw(r, br, np.stack([le, lc, li], axis=2), rng)
        joins = cause == 2
        # post-entry exit for those who join (hazard of work times hr for the rest of the spell)
        j = np.flatnonzero(joins)
        s = time[j]
        rr = r[j]
        br2 = np.maximum(rr + _LONG, s)[:, None]
        tau2 = np.concatenate([s[:, None], br2], axis=1)
        long2 = (tau2 - rr[:, None]) >= _LONG
        le2 = lam_e[idx[j]][:, None] * np.where(long2, 0.5, 1.0) * hr[idx[j]][:, None]
        lc2 = np.broadcast_to(lam_c[idx[j]][:, None], le2.shape)
        time2, cause2 = _draw(s, br2, np.stack([le2, lc2], axis=2), rng)
        exit_time = time.copy()
        exit_cause = cause.copy()
        exit_time[j] = time2
        exit_cause[j] = cause2
        sday = np.floor(s)
        entered[idx[j]] = True
        start[idx[j]] = sday
        start_u0[idx[j]] = s - rr
        start_abs[idx[j]] = s
        start_reg[idx[j]] = rr
        dday = np.maximum(np.floor(exit_time), rday + 1)
        dday[j] = np.maximum(dday[j], sday + 1)
        is_open = ~np.isfinite(exit_time) | (dday > cut_day)
        ev = exit_cause == 0
        code = np.where(ev, rng.choice(np.array(_EVENT_CODES), len(idx), p=_EVENT_MIX),
                        rng.choice(np.array(_COMPETING_CODES), len(idx), p=_COMPETING_MIX)).astype(object)
        code[is_open] = None
        out_p.append(idx)
        out_reg.append(rday)
        out_dereg.append(np.where(is_open, np.nan, dday))
        out_code.append(code)
        # coming back
        back = ~is_open & (rng.random(len(idx)) < np.where(ev, 0.35, 0.5))
        gap = 30.0 + rng.exponential(200.0, len(idx))
        nxt = dday + 1.0 + gap
        back &= nxt <= cut_day
        active[:] = False
        active[idx[back]] = True
        reg[idx[back]] = nxt[back]

    sp_p = np.concatenate(out_p)
    sp_reg = np.concatenate(out_reg)
    sp_dereg = np.concatenate(out_dereg)
    sp_code = np.concatenate(out_code)
    order = np.lexsort((sp_reg, sp_p))
    sp_p, sp_reg, sp_dereg, sp_code = sp_p[order], sp_reg[order], sp_dereg[order], sp_code[order]
    width = max(6, len(str(n)))
    ids = np.array([f"P{i:0{width}d}" for i in range(1, n + 1)], dtype=object)
    base = np.datetime64(t0.date(), "D")

    def dates(days: np.ndarray) -> np.ndarray:
        out = np.full(days.shape, np.datetime64("NaT"), dtype="datetime64[D]")
        ok = np.isfinite(days)
        out[ok] = base + days[ok].astype(np.int64)
        return out.astype("datetime64[ns]")

    persons = pd.DataFrame({
        "person_id": ids, "gender": np.where(female, "female", "male").astype(object),
        "birth_year": (t0.year - age0).astype(np.int64), "born_abroad": abroad.astype(np.int64),
        "education": np.array(_EDUCATION, dtype=object)[edu],
        "district": np.array(_DISTRICTS, dtype=object)[district],
    })
    spells = pd.DataFrame({"person_id": ids[sp_p], "registered": dates(sp_reg), "deregistered": dates(sp_dereg),
                           "code": sp_code})
    part = np.flatnonzero(entered)
    programme = pd.DataFrame({"person_id": ids[part], "start": dates(start[part])})

    # economic assistance: every calendar month overlapping a registration spell, for persons with it
    on = ea[sp_p]
    m_first = (base + sp_reg[on].astype(np.int64)).astype("datetime64[M]").astype(np.int64)
    last_day = np.where(np.isnan(sp_dereg[on]), cut_day, sp_dereg[on] - 1)
    m_last = (base + last_day.astype(np.int64)).astype("datetime64[M]").astype(np.int64)
    n_m = m_last - m_first + 1
    bp = np.repeat(sp_p[on], n_m)
    offs = np.arange(int(n_m.sum())) - np.repeat(np.cumsum(n_m) - n_m, n_m)
    bm = np.repeat(m_first, n_m) + offs
    m0 = int(bm.min()) if len(bm) else 0
    key = np.sort(bp.astype(np.int64) * 100_000 + (bm - m0))
    key = key[np.concatenate([[True], key[1:] != key[:-1]])] if len(key) else key   # one row per person-month
    bp_u = key // 100_000
    rel = key % 100_000
    labels = np.array([str(np.datetime64(int(v) + m0, "M")) for v in range(int(rel.max()) + 1 if len(rel) else 0)],
                      dtype=object)
    benefits = pd.DataFrame({"person_id": ids[bp_u], "month": labels[rel]})

    extract = RegisterExtract(persons=persons, spells=spells, programme=programme, cutoff=cut,
                              benefits={"economic_assistance": benefits}, codes=DEFAULT_CODES,
                              genders=("female", "male"))

    # exact truth among participants, from the closed-form incidences: join versus never join, and
    # join now versus wait (not starting in the start month, free to start later)
    u0 = start_u0[part]
    sp = start_abs[part]
    rp = start_reg[part]
    pre_long, year_flag = _long_points(rp, p0, p1)          # the pieces the generator drew with
    post_long = np.where((sp - rp) >= _LONG, u0, np.where(year_flag, _LONG, np.inf))
    sday = np.floor(sp).astype(np.int64)
    opens = (((base + sday).astype("datetime64[M]") + 1).astype("datetime64[D]") - base).astype(np.float64)
    own: dict[str, Any] = {"person_id": ids[part], "gender": np.where(female[part], "female", "male").astype(object),
                           "start": dates(start[part])}
    for h in _HORIZONS:
        own[f"share_treated_{h}"] = _cif(u0, lam_e[part], lam_c[part], hr[part], float(h), post_long)
        own[f"share_untreated_{h}"] = _cif(u0, lam_e[part], lam_c[part], np.ones(len(part)), float(h), pre_long)
        own[f"share_waiting_{h}"] = _cif_wait(sp, rp, opens, p1, lam_e[part], lam_c[part], lam_in[part], hr[part],
                                              float(h), pre_long, year_flag)
    participants = pd.DataFrame(own)
    truth = _truth_table(participants, hr_by)
    params = dict(n_persons=n, months=months, programme_months=programme_months, cutoff=str(cut.date()),
                  entry_rate=entry_rate, hazard_ratio=hr_by,
                  random_state=random_state if not isinstance(random_state, np.random.Generator) else "Generator")
    return SyntheticExtract(extract=extract, truth=truth, hazard_ratio=hr_by, params=params,
                            participants=participants)


def _truth_table(participants: pd.DataFrame, hazard_ratio: dict) -> pd.DataFrame:
    """The truth rows (see :class:`SyntheticExtract`) as means of the participants' own incidences."""
    never, wait = "join_vs_never", "join_vs_wait"
    rows: list[dict[str, Any]] = [
        dict(subgroup=g, estimand="hazard_ratio", horizon=np.nan, value=float(hazard_ratio[g]), estimand_design=never)
        for g in ("female", "male")]
    fem = participants["gender"].to_numpy() == "female"
    groups = (("all", np.ones(len(fem), bool)), ("female", fem), ("male", ~fem))

    def col(name: str, h: int) -> np.ndarray:
        return participants[f"{name}_{h}"].to_numpy(dtype=np.float64)

    for h in _HORIZONS:
        treated, untreated = col("share_treated", h), col("share_untreated", h)
        for g, mask in groups:
            for name, values in (("share_diff", treated - untreated), ("share_treated", treated),
                                 ("share_untreated", untreated)):
                rows.append({"subgroup": g, "estimand": name, "horizon": float(h),
                             "value": float(values[mask].mean()) if mask.any() else np.nan, "estimand_design": never})
    for h in _HORIZONS:
        treated, waiting = col("share_treated", h), col("share_waiting", h)
        for g, mask in groups:
            for name, values in (("share_diff_vs_wait", treated - waiting), ("share_waiting", waiting)):
                rows.append({"subgroup": g, "estimand": name, "horizon": float(h),
                             "value": float(values[mask].mean()) if mask.any() else np.nan, "estimand_design": wait})
    return pd.DataFrame(rows, columns=["subgroup", "estimand", "horizon", "value", "estimand_design"])


#: the files of a register extract on disk (``impact simulate --registers``, ``data/synthetic``)
EXTRACT_FILES = ("persons.csv", "spells.csv", "programme.csv", "benefits.csv", "truth.csv")


@validate_params({"sim": [InstanceOf(SyntheticExtract, "a SyntheticExtract (the result of simulate_extract)")],
                  "folder": [InstanceOf((str, os.PathLike), "a folder (str or Path)")]})
def write_extract(sim: SyntheticExtract, folder: str | os.PathLike[str]) -> list[Path]:
    """Write the extract as evaluators receive it: persons, spells, programme, benefits and truth (CSV).

    Dates are written ``YYYY-MM-DD`` (an open spell has an empty ``deregistered``), benefit months
    ``YYYY-MM``; the same seed gives the same bytes.

    Examples
    --------
    >>> import tempfile
    >>> paths = write_extract(simulate_extract(500, random_state=1), tempfile.mkdtemp())
    >>> [p.name for p in paths]
    ['persons.csv', 'spells.csv', 'programme.csv', 'benefits.csv', 'truth.csv']
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    e = sim.extract
    if len(e.benefits) != 1:
        raise ValueError("write_extract writes one benefit register (benefits.csv).")
    benefits = next(iter(e.benefits.values()))
    tables = [e.persons, e.spells, e.programme, benefits]
    paths = [folder / name for name in EXTRACT_FILES]
    for table, path in zip(tables, paths):
        table.to_csv(path, index=False, lineterminator="\n", date_format="%Y-%m-%d")
    sim.truth.to_csv(paths[-1], index=False, float_format="%.10g", lineterminator="\n")
    return paths


@validate_params({"folder": [InstanceOf((str, os.PathLike), "a folder (str or Path)")],
                  "cutoff": [InstanceOf(str, "a date (YYYY-MM-DD)")]})
def read_extract(folder: str | os.PathLike[str], cutoff: str = "2022-10-31") -> SyntheticExtract:
    """Read what :func:`write_extract` wrote, as a :class:`SyntheticExtract` (benefits: economic assistance).

    Examples
    --------
    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> _ = write_extract(simulate_extract(500, random_state=1), folder)
    >>> read_extract(folder).extract.validate()
    RegisterExtract(500 persons, ... spells, ... participants, 1 benefit registers, cut-off 2022-10-31)
    """
    folder = Path(folder)
    missing = [n for n in EXTRACT_FILES if not (folder / n).exists()]
    if missing:
        from impact._errors import ParameterError

        raise ParameterError(f"{folder} is not a register extract: missing {', '.join(missing)}.")
    persons = pd.read_csv(folder / "persons.csv", dtype={"person_id": str})
    spells = pd.read_csv(folder / "spells.csv", dtype={"person_id": str, "code": str},
                         parse_dates=["registered", "deregistered"])
    programme = pd.read_csv(folder / "programme.csv", dtype={"person_id": str}, parse_dates=["start"])
    benefits = pd.read_csv(folder / "benefits.csv", dtype={"person_id": str, "month": str})
    truth = pd.read_csv(folder / "truth.csv")
    extract = RegisterExtract(persons=persons, spells=spells, programme=programme, cutoff=cutoff,
                              benefits={"economic_assistance": benefits}, codes=DEFAULT_CODES,
                              genders=("female", "male"))
    hr = {str(r.subgroup): float(r.value) for r in truth[truth["estimand"] == "hazard_ratio"].itertuples()}
    return SyntheticExtract(extract=extract, truth=truth, hazard_ratio=hr, params={"source": str(folder)})
