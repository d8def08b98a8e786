"""Data-generating process of the coverage benchmark and its exact true values.

One simulated data set is ``n`` people, half women, with three correlated normal covariates ``x1,
x2, x3`` (independent of gender) and a participation probability ``e = expit(a_g + b'x)`` (a
logistic model, so the matching score and the AIPTW treatment model are correct). Three outcomes:

* ``earnings``: a continuous outcome, ``Y0 = m(x) + eps`` with heteroskedastic normal noise and
  ``Y1 = Y0 + tau_g + d'x`` (a heterogeneous effect, so the ATT differs from the ATE);
* a spell process from the start date, a three-state Markov chain with rates per day:
  registered (U) -> work or studies (W) at ``lam_g exp(c'x) HR(t)``, U -> other exit (O,
  absorbing) at ``kap_g exp(0.5 c'x)`` and W -> U (registering again) at ``mu``. The
  treatment's hazard ratio ``HR(t)`` is ``exp(LOCK_IN)`` for the first ``LOCK_DAYS`` days
  (lock-in) and ``exp(theta_g)`` after. From it:
  - ``days_work``: the number of days ``k = 1..H_DAYS`` on which the person is in W (a register
    counting days out of registration after a deregistration to work or studies, until the next
    registration): bounded, with a point mass at 0 (never in work) and a small one at ``H_DAYS``;
  - ``time, exit``: the first exit from U in whole days (``ceil``), 1 = work or studies, 2 =
    other, 0 = censored at an administrative cut-off uniform on ``CENS_DAYS`` days, independent
    of everything (for the AIPTW of the share in work or studies by ``AIPTW_H``).

True values (all exact up to quadrature error below 1e-9, checked against 80-node rules):

* matching estimands are ATTs, ``E[Y1 - Y0 | T = 1, gender]``: for ``earnings``
  ``tau_g + Cov(d'x, v) / Var(v) E[v e(v)] / E[e(v)]`` with ``v = b'x`` (normal), a 1-D
  Gauss-Hermite rule; for ``days_work`` ``E[(D1(u) - D0(u)) e(v)] / E[e(v)]`` with ``u = c'x``,
  ``D_a(u) = sum_k P_a(state at day k = W | u)`` from products of matrix exponentials of the
  generator, and ``(u, v)`` bivariate normal, a 2-D Gauss-Hermite rule;
* the AIPTW estimand is the ATE of the cumulative incidence of work or studies by day ``h``,
  ``E[F1(h | x) - F0(h | x) | gender]``, over everyone of that gender (``ate_competing`` averages
  the predicted risks over the whole sample), with ``F_a`` from the same chain with W absorbing.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy.linalg import expm
from scipy.special import expit

GENDERS = ("female", "male")
SIGMA = np.array([[1.0, 0.3, 0.0], [0.3, 1.0, 0.2], [0.0, 0.2, 1.0]])
# participation (logit): intercept by gender, slopes on x
PS_A = {"female": -1.45, "male": -1.15}
PS_B = np.array([0.7, -0.5, 0.4])
# continuous outcome
M_COEF = np.array([3.0, 2.0, -1.5])
M_FEMALE = -1.0
TAU = {"female": 2.0, "male": 1.0}
TAU_D = np.array([1.0, 0.0, 0.5])
NOISE_SD = 4.0
# spell process (rates per day)
LAM = {"female": 1 / 220, "male": 1 / 180}
OUT_C = np.array([0.4, 0.3, -0.2])
KAP = {"female": 1 / 700, "male": 1 / 600}
KAP_SCALE = 0.5
MU = 1 / 300
LOCK_IN = -0.6
LOCK_DAYS = 60
THETA = {"female": 0.45, "male": 0.25}
H_DAYS = 365
CENS_DAYS = (200, 900)
AIPTW_H = (180.0, 365.0)


@dataclass(frozen=True)
class Truth:
    """True values by estimand, gender and horizon, and the estimand each one is."""

    att_earnings: dict[str, float]
    att_days: dict[str, float]
    ate_share: dict[tuple[str, float], float]

    def value(self, outcome: str, group: str, horizon: float | None = None) -> float:
        """``group`` is a gender or ``"female - male"``."""
        if group == "female - male":
            return self.value(outcome, "female", horizon) - self.value(outcome, "male", horizon)
        if outcome == "earnings":
            return self.att_earnings[group]
        if outcome == "days_work":
            return self.att_days[group]
        if outcome == "share_work":
            assert horizon is not None
            return self.ate_share[(group, float(horizon))]
        raise KeyError(outcome)


# ---------------------------------------------------------------------------------------------
# simulation


def _rates(u: np.ndarray, female: np.ndarray, treat: np.ndarray, late: bool) -> tuple[np.ndarray, np.ndarray]:
    """(U -> W, U -> O) rates per day for index ``u``; ``late`` after the lock-in days."""
    lam0 = np.where(female, LAM["female"], LAM["male"])
    kap0 = np.where(female, KAP["female"], KAP["male"])
    theta = np.where(female, THETA["female"], THETA["male"])
    hr = np.where(treat == 1, np.exp(theta if late else LOCK_IN), 1.0)
    return lam0 * np.exp(u) * hr, kap0 * np.exp(KAP_SCALE * u)


def _exit_from_u(rng: np.random.Generator, t0: np.ndarray, u: np.ndarray, female: np.ndarray,
                 treat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Time and cause (1 W, 2 O) of the exit from U entered at ``t0`` (piecewise-constant rates)."""
    le, ke = _rates(u, female, treat, late=False)
    ll, kl = _rates(u, female, treat, late=True)
    e = rng.exponential(size=u.size)
    re, rl = le + ke, ll + kl
    before = np.maximum(LOCK_DAYS - t0, 0.0)
    t = np.where(e < re * before, t0 + e / re, np.maximum(t0, LOCK_DAYS) + (e - re * before) / rl)
    early = t < LOCK_DAYS
    p_w = np.where(early, le / re, ll / rl)
    cause = np.where(rng.random(u.size) < p_w, 1, 2)
    return t, cause


def simulate(n: int, seed: int | np.random.SeedSequence, treatment: int | None = None,
             spells: bool = False) -> pd.DataFrame:
    """One data set: ``id, gender, x1..x3, treat, earnings, days_work, time, exit``.

    Reproducible from ``seed`` alone (a fresh generator per call). ``treatment=0`` or ``1`` sets
    everyone's treatment after the assignment draw (the same people and noise, the potential
    outcomes under that arm: for brute-force checks of the truths). ``spells=True`` also puts
    the registration spells of the first ``H_DAYS`` days in ``df.attrs["spells"]`` (``id,
    registered, deregistered, code`` in days from the start date, day 0; the first spell
    registered on day -100; ``deregistered`` NaN when still open on day ``H_DAYS - 1``; code
    ``"11"`` work, ``"80"`` other exit), without changing any random draw.
    """
    rng = np.random.default_rng(seed)
    female = rng.random(n) < 0.5
    x = rng.multivariate_normal(np.zeros(3), SIGMA, size=n, method="cholesky")
    a = np.where(female, PS_A["female"], PS_A["male"])
    treat = (rng.random(n) < expit(a + x @ PS_B)).astype(np.int64)
    if treatment is not None:
        treat = np.full(n, int(treatment), dtype=np.int64)
    # continuous outcome
    noise = rng.normal(size=n) * NOISE_SD * np.exp(0.15 * x[:, 0])
    y0 = 20.0 + x @ M_COEF + M_FEMALE * female + noise
    tau = np.where(female, TAU["female"], TAU["male"]) + x @ TAU_D
    earnings = y0 + treat * tau
    # spell process over [0, H_DAYS]
    u = x @ OUT_C
    days = np.zeros(n, dtype=np.int64)
    first_t = np.full(n, np.inf)
    first_c = np.zeros(n, dtype=np.int64)
    t0 = np.zeros(n)
    active = np.arange(n)
    first = True
    rec: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    while active.size:
        t, cause = _exit_from_u(rng, t0[active], u[active], female[active], treat[active])
        if spells:
            reg = -100.0 if first else np.floor(t0[active])
            rec.append((active, np.broadcast_to(reg, active.shape).astype(float),
                        np.where(t < H_DAYS, np.floor(t), np.nan), np.where(cause == 1, "11", "80")))
        if first:
            first_t[active], first_c[active] = t, cause
            first = False
        to_w = (cause == 1) & (t < H_DAYS)
        s = t[to_w]
        e = s + rng.exponential(1 / MU, size=s.size)
        # integers k in [s, e) and in [1, H_DAYS]
        cnt = np.minimum(np.ceil(e), H_DAYS + 1) - np.maximum(np.ceil(s), 1)
        idx = active[to_w]
        days[idx] += np.maximum(cnt, 0).astype(np.int64)
        back = e < H_DAYS
        t0[idx[back]] = e[back]
        active = idx[back]
    # first exit, in whole days, with administrative censoring
    t_day = np.ceil(first_t).astype(np.int64)
    t_day = np.maximum(t_day, 1)
    c_day = rng.integers(CENS_DAYS[0], CENS_DAYS[1] + 1, size=n)
    time = np.minimum(t_day, c_day)
    exit_ = np.where(t_day <= c_day, first_c, 0)
    out = pd.DataFrame({
        "id": np.arange(1, n + 1), "gender": np.where(female, "female", "male"),
        "x1": x[:, 0], "x2": x[:, 1], "x3": x[:, 2], "treat": treat,
        "earnings": earnings, "days_work": days, "time": time, "exit": exit_,
    })
    if spells:
        sp = pd.DataFrame({"id": np.concatenate([r[0] for r in rec]) + 1,
                           "registered": np.concatenate([r[1] for r in rec]).astype(np.int64),
                           "deregistered": np.concatenate([r[2] for r in rec]),
                           "code": np.concatenate([r[3] for r in rec])})
        sp.loc[sp["deregistered"].isna(), "code"] = None
        out.attrs["spells"] = sp.sort_values(["id", "registered"], kind="stable").reset_index(drop=True)
    return out


def true_score(df: pd.DataFrame) -> np.ndarray:
    """The true participation probability ``e(x)`` of each row."""
    x = df[["x1", "x2", "x3"]].to_numpy()
    a = np.where(df["gender"].to_numpy() == "female", PS_A["female"], PS_A["male"])
    return np.asarray(expit(a + x @ PS_B))


def prognostic(df: pd.DataFrame) -> dict[str, pd.Series]:
    """``E[Y0 | x, gender]`` of each row for ``earnings`` and ``days_work`` (index of ``df``)."""
    x = df[["x1", "x2", "x3"]].to_numpy()
    female = df["gender"].to_numpy() == "female"
    earn = 20.0 + x @ M_COEF + M_FEMALE * female
    u = x @ OUT_C
    days = np.empty(len(df))
    for fem in (True, False):
        s = female == fem
        days[s] = expected_days(u[s], fem, 0)
    return {"earnings": pd.Series(earn, index=df.index), "days_work": pd.Series(days, index=df.index)}


# ---------------------------------------------------------------------------------------------
# truth


def _gh(n_nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights for E[f(Z)], Z standard normal."""
    z, w = np.polynomial.hermite_e.hermegauss(n_nodes)
    return z, w / np.sqrt(2 * np.pi)


def _generators(u: np.ndarray, female: bool, treat: int, late: bool) -> np.ndarray:
    """Generators (k x 3 x 3) of the chain U, W, O at indices ``u``."""
    lam, kap = _rates(u, np.full(u.size, female), np.full(u.size, treat), late)
    Q = np.zeros((u.size, 3, 3))
    Q[:, 0, 1], Q[:, 0, 2], Q[:, 0, 0] = lam, kap, -(lam + kap)
    Q[:, 1, 0], Q[:, 1, 1] = MU, -MU
    return Q


def expected_days(u: np.ndarray, female: bool, treat: int, h: int = H_DAYS) -> np.ndarray:
    """``sum_{k=1..h} P(state at day k = W | start in U)`` at each index ``u``.

    With ``Q = V diag(l) V^-1`` the day's transition matrix is ``V diag(exp l) V^-1``, so the sum
    of its powers is a geometric series per eigenvalue (``l = 0``, the absorbing state, gives
    ``k``); the lock-in days use the early generator, the rest the late one.
    """
    def power_sum(Q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        lam, V = np.linalg.eig(Q)
        lam, V = lam.real, V.real            # the chain is reversible on U, W: real spectrum
        Vi = np.linalg.inv(V)
        rho = np.exp(lam)
        with np.errstate(divide="ignore", invalid="ignore"):
            geo = np.where(np.abs(lam) < 1e-13, float(k), rho * (1 - rho ** k) / (1 - rho))
        S = np.einsum("nij,nj,njk->nik", V, geo, Vi)
        Pk = np.einsum("nij,nj,njk->nik", V, rho ** k, Vi)
        return S, Pk

    k_early = min(h, LOCK_DAYS)
    S_e, P_e = power_sum(_generators(u, female, treat, late=False), k_early)
    total = S_e[:, 0, 1]
    if h > LOCK_DAYS:
        S_l, _ = power_sum(_generators(u, female, treat, late=True), h - LOCK_DAYS)
        total = total + np.einsum("nj,nj->n", P_e[:, 0, :], S_l[:, :, 1])
    return total


def expected_days_stepwise(u: np.ndarray, female: bool, treat: int, h: int = H_DAYS) -> np.ndarray:
    """:func:`expected_days` by stepping day by day (matrix exponentials), the slow oracle."""
    Pe = expm(_generators(u, female, treat, late=False))
    Pl = expm(_generators(u, female, treat, late=True))
    p = np.zeros((u.size, 3))
    p[:, 0] = 1.0
    total = np.zeros(u.size)
    for k in range(1, h + 1):
        P = Pe if k <= LOCK_DAYS else Pl
        p = np.einsum("ni,nij->nj", p, P)
        total += p[:, 1]
    return total


def cif_work(u: np.ndarray, female: bool, treat: int, h: float) -> np.ndarray:
    """``P(first exit from U is to W by time h)`` (W absorbing), for integer-valued or real ``h``."""
    def gen(late: bool) -> np.ndarray:
        Q = _generators(u, female, treat, late)
        Q[:, 1, :] = 0.0
        return Q
    he = min(h, LOCK_DAYS)
    P = expm(gen(False) * he)
    if h > LOCK_DAYS:
        P = P @ expm(gen(True) * (h - LOCK_DAYS))
    return P[:, 0, 1]


def _index_moments() -> tuple[float, float, float, float]:
    """Var(v), Var(u), Cov(u, v), Cov(w, v) for v = b'x, u = c'x, w = d'x."""
    return (float(PS_B @ SIGMA @ PS_B), float(OUT_C @ SIGMA @ OUT_C), float(OUT_C @ SIGMA @ PS_B),
            float(TAU_D @ SIGMA @ PS_B))


@lru_cache(maxsize=4)
def truth(n_nodes: int = 40) -> Truth:
    """Exact true values (Gauss-Hermite rules with ``n_nodes`` per dimension)."""
    var_v, var_u, cov_uv, cov_wv = _index_moments()
    sd_v = np.sqrt(var_v)
    z, wz = _gh(n_nodes)
    v = sd_v * z
    att_e: dict[str, float] = {}
    att_d: dict[str, float] = {}
    for g in GENDERS:
        e = expit(PS_A[g] + v)
        att_e[g] = TAU[g] + cov_wv / var_v * float((wz * v * e).sum() / (wz * e).sum())
        # u | v ~ N(beta v, s2)
        beta = cov_uv / var_v
        s_r = np.sqrt(var_u - cov_uv ** 2 / var_v)
        uu = (beta * v[:, None] + s_r * z[None, :]).ravel()
        ww = (wz[:, None] * e[:, None] * wz[None, :]).ravel()
        fem = g == "female"
        diff = expected_days(uu, fem, 1) - expected_days(uu, fem, 0)
        att_d[g] = float((ww * diff).sum() / ww.sum())
    ate: dict[tuple[str, float], float] = {}
    sd_u = np.sqrt(var_u)
    for g in GENDERS:
        fem = g == "female"
        for h in AIPTW_H:
            uu = sd_u * z
            ate[(g, float(h))] = float((wz * (cif_work(uu, fem, 1, h) - cif_work(uu, fem, 0, h))).sum())
    return Truth(att_earnings=att_e, att_days=att_d, ate_share=ate)


def truth_error() -> float:
    """Largest absolute change of any true value from 40 to 80 quadrature nodes."""
    a, b = truth(40), truth(80)
    gaps = [abs(a.att_earnings[g] - b.att_earnings[g]) for g in GENDERS]
    gaps += [abs(a.att_days[g] - b.att_days[g]) for g in GENDERS]
    gaps += [abs(a.ate_share[k] - b.ate_share[k]) for k in a.ate_share]
    return float(max(gaps))
