"""Risk-set (dynamic) matching for rolling programme entry."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from numbers import Integral
from typing import Any, Literal

import numpy as np
import pandas as pd

from impact._compat import renamed_parameters
from impact._errors import DataError, ParameterError, data_error
from impact._validation import Interval, Options, check_columns, validate_params
from impact.data import Flow, expand_covariates, is_categorical
from impact.design._engine import (
    RESERVED,
    Allocation,
    Design,
    _check_constant,
    _rank_from_key,
    active_subset,
    assemble,
    bincount_chunked,
    counter_state,
    isna_values,
    make_spec,
    pair_allocation,
    prepare,
    warn_short_supply,
)
from impact.design._flowcount import FlowCounter
from impact.design._match import CALIPER, COLUMNS, DATA
from impact.design._methods import method_for
from impact.design._nearest import greedy_nearest
from impact.design._pairs import Pairs
from impact.design._propensity import Propensity, _Columns, _fit_glm, _user_score
from impact.design._result import MatchResult

__all__ = ["match_riskset"]

RiskSetEstimand = Literal["join_vs_wait", "join_vs_never"]
Reuse = Literal["across_periods", "never"]


#: the parameter table of :func:`match_riskset`
RISKSET_PARAMS: dict[str, list[Any]] = {
    "data": [DATA],
    "id": ["column"],
    "period": ["column"],
    "entry": ["column"],
    "covariates": [COLUMNS],
    "eligible": ["column", None],
    "exact": [COLUMNS, None],
    "estimand": [Options(["join_vs_wait", "join_vs_never"])],
    "link": [Options(["logit", "linear_logit"])],
    "caliper": [CALIPER, None],
    "ratio": [Interval(Integral, 1, None)],
    "reuse": [Options(["across_periods", "never"])],
    "missing": [Options(["error", "drop"])],
    "subgroup": ["column", None],
    "random_state": ["random_state"],
    "n_jobs": [Interval(Integral, 1, None), Interval(Integral, None, -1)],
}
TREATMENT = "entering"      # the treatment column of the risk sets: enters the programme in that period


@renamed_parameters({"panel": "data"})
@validate_params(RISKSET_PARAMS)
def match_riskset(data: pd.DataFrame, *, id: str, period: str, entry: str,
                  covariates: Sequence[str], eligible: str | None = None,
                  exact: Sequence[str] | str | None = None, estimand: RiskSetEstimand = "join_vs_wait",
                  distance: Any = "glm", link: Literal["logit", "linear_logit"] = "logit",
                  caliper: float | None = 0.2, ratio: int = 1, reuse: Reuse = "across_periods",
                  missing: Literal["error", "drop"] = "error",
                  subgroup: str | None = None,
                  random_state: int | np.random.Generator | None = 0, n_jobs: int = 1) -> MatchResult:
    """Match each participant, at its own start, to people still at risk of entering then.

    For a participant who starts in period ``t``, the candidates are the people who are eligible in
    ``t`` (registered and still unemployed: the ``eligible`` column) and have not entered the
    programme by ``t`` (no entry, or a later one: a later participant may serve as a control until
    its own start). Covariates are read from each person's record *for period t*, so everything is
    as known at that date. Matching is exact on the period (and on ``exact``), greedy nearest
    neighbour on a score, within a caliper; the score is by default a logistic regression of
    "enters in this period" on the covariates, pooled over all risk sets (a discrete-time hazard
    model of entry).

    Parameters
    ----------
    data : DataFrame
        One row per person and period (e.g. month) in which the person could be a candidate, with
        the covariates as of that period. Index labels must be unique; they are kept. (Called
        ``panel`` before; the old name still works with a FutureWarning.)
    id : str
        Person identifier (also the tie-break key, so row order does not matter).
    period : str
        Calendar period of the row (int, date or pandas Period: anything that sorts).
    entry : str
        Period in which the person entered the programme, missing for people who never did
        (the same value on all of a person's rows).
    covariates : sequence of str
        Time-varying or fixed covariates, as of ``period``.
    eligible : str, optional
        Boolean column: the person is registered and unemployed in that period. Default: every row.
    exact : str or sequence of str, optional
        Further exact-matching columns (e.g. ``"gender"``), besides the period.
    estimand : {"join_vs_wait", "join_vs_never"}
        ``"join_vs_wait"`` (Sianesi 2004, dynamic matching): joining now versus waiting; a control
        who enters later keeps its outcome, ``censor_at`` is missing. ``"join_vs_never"`` (Li,
        Propert and Rosenbaum 2001, risk-set matching): joining versus never joining; a control's
        follow-up must be censored on the day it enters, given in ``censor_at``.
    reuse : {"across_periods", "never"}
        ``"across_periods"`` (default): a person may be a control in several periods (once per
        period), as in Sianesi's dynamic matching. ``"never"``: a person is a control in at most
        one matched set overall, as in Li, Propert and Rosenbaum's risk-set matching: periods are
        matched in time order and whoever is used as a control leaves every later risk set (a
        later participant used as a control may still be matched at its own start). With
        ``estimand="join_vs_never"`` this is their design.
    distance, link, caliper, ratio, missing
        As in :func:`impact.match` (the caliper is in SDs of the score over all risk-set rows).
    subgroup : str, optional
        Column to break the flow counts down by. Default: the period, so the flow counts the
        participants left unmatched in each period (and why).
    random_state : int, numpy Generator or None
        As in :func:`impact.match` (seeds a scikit-learn ``distance=`` estimator).
    n_jobs : int
        With ``reuse="across_periods"`` the periods are matched independently (controls may be
        reused across periods, never within one), one joblib task per period:
        ``joblib.Parallel(n_jobs=n_jobs)``, so ``joblib.parallel_config(backend="dask")`` spreads
        them over a Dask cluster. The matched sets are the same for every ``n_jobs`` and backend
        (the score is fitted once, on all risk sets, before the tasks). ``-1``: every core.

    Returns
    -------
    MatchResult
        ``method="riskset"``. ``matched_data`` has one row per person *per matched set* (its record
        in the set's period), with ``distance``, ``weights``, ``subclass``, and:
        ``index_date`` (the set's period: the participant's start, and the start of the control's
        outcome clock), ``censor_at`` (see ``estimand``). A person can be a candidate in several
        periods and a control in several sets (never twice in one set, never in a set of its own
        period after entering); ``matched_data[id]`` shows it and ``times_used`` counts the sets
        the person is a control in (at most 1 with ``reuse="never"``). ``unmatched`` lists the
        participants left without a control, with their ``period`` and the reason.

    Notes
    -----
    R has no direct equivalent; in MatchIt one would stack the risk sets and call
    ``matchit(enter ~ x, data = risksets, exact = ~period)``, which is what this does, with the
    bookkeeping of who is at risk. By default controls may be reused across periods (as in
    Sianesi's dynamic matching); within a period each person is used at most once.
    ``reuse="never"`` has no MatchIt equivalent (it needs the sequential bookkeeping).

    Cost: the persons, periods and entries are integer codes (one sort, no grouping of rows);
    every row at risk, the data's columns are shared with the matching frame, not copied. Time is
    linear in person-periods up to the sorts (O(n log n)); the pooled score model needs the
    design matrix of all rows at once.

    Examples
    --------
    >>> import pandas as pd
    >>> from impact.design import match_riskset
    >>> panel = pd.DataFrame({
    ...     "pid":   [1, 1, 2, 2, 3, 3, 4, 4],
    ...     "month": [1, 2, 1, 2, 1, 2, 1, 2],
    ...     "entry": [1, 1, 2, 2, None, None, None, None],
    ...     "age":   [30, 30, 41, 41, 29, 29, 43, 43],
    ... })
    >>> m = match_riskset(panel, id="pid", period="month", entry="entry", covariates=["age"],
    ...                   distance="age", caliper=None)
    >>> m.matched_data[["pid", "index_date", "subclass"]].sort_values(["subclass", "pid"]).to_numpy().tolist()
    [[1, 1, 1], [3, 1, 1], [2, 2, 2], [4, 2, 2]]
    """
    panel = data
    exact_cols = [exact] if isinstance(exact, str) else list(exact or [])
    check_columns(panel, [id, period, entry, *covariates, *exact_cols]
                  + ([eligible] if eligible else []))
    if TREATMENT in panel.columns:
        raise ParameterError(f"The data already have a column '{TREATMENT}', which match_riskset adds "
                             f"(1 = enters in that period). Rename it first, e.g. "
                             f"df = df.rename(columns={{'{TREATMENT}': '{TREATMENT}_input'}}).")
    if not panel.index.is_unique:
        raise DataError("match_riskset needs unique index labels on the panel (one per person and "
                        "period); use panel = panel.reset_index(drop=True).", rule="unique index")
    for col in (id, period):
        na = isna_values(panel[col])
        if na.any():
            raise data_error(col, f"'{col}' must not be missing", na)
    del na
    # persons and periods as integer codes, in sorted order: every check and key below is
    # arithmetic on them (no grouping of rows, no set operations on the ids)
    pcode_all, id_levels = _sorted_codes(panel[id])
    if len(pcode_all) and int(pcode_all.max()) < 2**31:
        pcode_all = pcode_all.astype(np.int32)      # held to the end (the tie key): 4 bytes a row
    tcode_all, per_levels = pd.factorize(panel[period], sort=True)
    n_per = max(len(per_levels), 1)
    if n_per < 2**15:                  # the key holds the order; the codes alone need 2 bytes
        tcode_all = tcode_all.astype(np.int16)
    skey = _tie_key(pcode_all, tcode_all, n_per)
    skey.sort()                        # in place: one int64 array for the duplicate check
    if len(skey) > 1 and bool((skey[1:] == skey[:-1]).any()):
        dup = panel.duplicated([id, period], keep=False).to_numpy()
        raise data_error(period, "one row per person and period", dup,
                         f"Check panel[panel.duplicated(['{id}', '{period}'], keep=False)].")
    del skey                  # ranks come from the codes later (_code_rank): no key is held
    per = panel[period]
    ent = panel[entry]
    ent_na = isna_values(ent)
    ecode, _ = pd.factorize(ent, sort=True)
    has = np.flatnonzero(~ent_na)
    first = np.full(int(pcode_all.max()) + 1 if len(pcode_all) else 0, -1, dtype=np.int64)
    first[pcode_all[has[::-1]]] = ecode[has[::-1]]     # each person's first non-missing entry
    differs = np.zeros(len(first), dtype=bool)
    differs[pcode_all[has[ecode[has] != first[pcode_all[has]]]]] = True
    if differs.any():
        raise data_error(entry, "a person's entry period must be the same on all its rows", differs[pcode_all])
    if ent.dtype == per.dtype and ent.dtype.kind == "M":
        # numpy dates: compared as numpy compares them (NaT never equal or after), which is what
        # pandas gives, without the missing-value mask pandas caches on each column's array
        ent_v, per_v = ent.to_numpy(), per.to_numpy()
        at_risk = ent_na | (ent_v >= per_v)
        enters = ent_v == per_v
        del ent_v, per_v
    else:
        at_risk = ent_na | (ent >= per).to_numpy(dtype=bool)
        enters = (ent == per).to_numpy(dtype=bool)
    if eligible is not None:
        at_risk &= panel[eligible].fillna(False).to_numpy(dtype=bool)
    entered = np.unique(pcode_all[has])
    starting = np.unique(pcode_all[enters & at_risk])
    lost_codes = np.setdiff1d(entered, starting, assume_unique=True)
    lost = np.asarray(id_levels)[lost_codes]
    del id_levels, lost_codes
    whole = bool(at_risk.all())
    # every row at risk (risk sets built as such): the columns are shared, not copied
    rs = pd.DataFrame(dict(panel.items()), copy=False) if whole else panel.loc[at_risk].copy()
    rs[TREATMENT] = (enters if whole else enters[at_risk]).astype(np.int8)
    del ecode, has, first, differs, ent_na, enters
    by = subgroup or period
    spec = make_spec("match_riskset", method="nearest", distance=distance, link=link, caliper=caliper,
                     exact=[period, *exact_cols], ratio=ratio, replace=False, missing=missing,
                     subgroup=by, random_state=random_state)
    lean = _lean_propensity(rs, list(covariates), [period, *exact_cols], distance, link) if _LEAN else None
    rows = np.flatnonzero(at_risk)     # made after the score: not held while the design matrix is
    del at_risk
    seq = {}
    if reuse == "never":
        seq = dict(block=tcode_all if whole else tcode_all[rows],
                   group=(pcode_all if whole else pcode_all[rows]).astype(np.int64))
    # tie-break key: person id then period, as one sortable int (pcode * n_per + tcode), formed
    # for the rows being ranked only (the codes are held, not an n-long int64 key)
    tie_rank = _code_rank(pcode_all, tcode_all, n_per, None if whole else rows)
    # the flow counts by period (the default): from the period codes, not a second factorization
    counter = None if subgroup is not None else _period_counter(
        rs[TREATMENT].to_numpy(dtype=bool), tcode_all if whole else tcode_all[rows], per_levels)
    # the engine's distance of the lean score, as fit_propensity makes it of an array, without
    # a copy of the scores (its checks run on the same values)
    fitted = None if lean is None else _user_score(lean.score, "logit", "user-supplied score (array)")
    design = prepare(rs, TREATMENT, list(covariates), spec if lean is None else replace(spec, distance=lean.score),
                     func="match_riskset", origin=rows, tie_rank=tie_rank, counter=counter, narrow_strata=True,
                     fitted=fitted,
                     flow=_at_risk_step(panel, rs, lost, id=id, entry=entry, column=by,
                                        is_period=subgroup is None, counter=counter),
                     settings={"method": "riskset", "estimand_riskset": estimand, "reuse": reuse,
                               "period": period, "entry": entry, "id": id}, **seq)
    del counter, seq, rows, fitted
    if lean is not None:       # the score was fitted here (see _lean_propensity): the design says so
        if len(design.score) == len(lean.score):    # the design's copy of the same values: keep one
            lean = replace(lean, score=design.score, probability=design.score)
        design = replace(design, spec=spec, propensity=lean, notes=(*lean.notes, *design.notes),
                         settings={**design.settings, "distance_text": lean.description})
    if reuse == "across_periods" and _per_period(design):
        if design.strata is not None and len(design.strata) and int(design.strata.max()) < 2**31:
            # held through the per-period matching and the flow (bincounts, masks): 2 or 4
            # bytes a row (the codes are >= 0: no missing values in the exact columns)
            narrow = np.int16 if int(design.strata.max()) < 2**14 else np.int32   # room for code + 1
            design = replace(design, strata=design.strata.astype(narrow, copy=False))
        every = whole and len(design.positions) == len(tcode_all)   # positions 0..n-1: no gathers
        alloc = _allocate_by_period(design, tcode_all if every else tcode_all[design.positions],
                                    pcode_all if every else pcode_all[design.positions], n_per, n_jobs)
    else:
        alloc = method_for(spec)(design)
    # the tie key's codes are not needed past the allocation (assemble does not rank): let go
    design = replace(design, rank_fn=_released_rank)
    del pcode_all, tcode_all
    fields = assemble(design, alloc, method="riskset")
    del design, alloc          # the result holds what it needs; the strata, counts, masks go
    md = fields["matched_data"]
    md["index_date"] = md[period]
    if estimand == "join_vs_never":
        md["censor_at"] = np.where(md[TREATMENT] == 1, None, md[entry])
        md["censor_at"] = md["censor_at"].where(md[TREATMENT] == 0)
    else:
        md["censor_at"] = pd.Series([pd.NA] * len(md), index=md.index, dtype="object")
    as_control = md.loc[md[TREATMENT] == 0].groupby(id).size()
    md["times_used"] = md[id].map(as_control).fillna(0).astype(np.int64)
    notes = list(fields["notes"]) + [
        f"Risk sets: for each period, people eligible then{' (' + eligible + ')' if eligible else ''} "
        "who have not entered yet; a later participant can be a control before its own start.",
        f"Exact on the period '{period}'" + (f" and {', '.join(exact_cols)}" if exact_cols else "")
        + "; ties broken on (id, period), not on row order.",
        {"join_vs_wait": "estimand 'join_vs_wait' (Sianesi): controls who enter later keep their "
                         "outcome (censor_at is empty).",
         "join_vs_never": "estimand 'join_vs_never' (Li, Propert and Rosenbaum): censor a control's "
                          "follow-up at its own entry (censor_at)."}[estimand],
        "Controls may be reused in different periods (times_used counts it); within a period each "
        "person is used at most once." if reuse == "across_periods" else
        "reuse='never': periods are matched in time order and each person is a control in at most "
        "one matched set overall (times_used <= 1).",
        f"The flow counts by '{by}': participants left unmatched, and why, per "
        f"{'period' if subgroup is None else 'level'}; result.unmatched lists them.",
    ]
    if len(lost):
        notes.append(f"{len(lost)} participants are not in any risk set at their own entry period "
                     "(no eligible row for that period) and cannot be matched.")
    un = fields["unmatched"]
    un_pos = un["position"].to_numpy()
    unmatched = pd.DataFrame({"position": un_pos, period: panel[period].to_numpy()[un_pos],
                              "reason": un["reason"].to_numpy()})
    return MatchResult(**{**fields, "matched_data": md, "unmatched": unmatched,
                          "notes": tuple(dict.fromkeys(notes))})


def _sorted_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(values, sort=True)`` (no missing values): hash once, then sort the distinct
    values only (for object ids, faster than pandas' safe sort of them)."""
    if values.dtype != object:             # numbers, dates, categories: pandas' sort is fast (and
        c2, u2 = pd.factorize(values, sort=True)   # a categorical sorts in its categories' order)
        return c2, np.asarray(u2)
    codes, uniques = pd.factorize(values)
    u = np.asarray(uniques)
    try:
        o = np.argsort(u, kind="stable")
    except TypeError:                      # values that do not sort together: pandas' own rule
        c2, u2 = pd.factorize(values, sort=True)
        return c2, np.asarray(u2)
    rank = np.empty(len(o), dtype=np.int64)
    rank[o] = np.arange(len(o))
    return rank[codes], u[o]


#: fit the pooled score from a design matrix built a column at a time (see :func:`_lean_propensity`)
_LEAN = True


def _lean_propensity(rs: pd.DataFrame, covariates: list[str], exact_cols: list[str], distance: Any,
                     link: str) -> Propensity | None:
    """The pooled logistic score of entry, as the engine's ``distance="glm"`` fits it, without
    an ``n x p`` float design matrix.

    The engine's path (:func:`impact.data.expand_covariates`) stacks a float copy of every column
    into the matrix (8 bytes per value, two copies at the peak); here the design is handed to the
    fit column by column (:class:`impact.design._propensity._Columns`): each numeric column as the
    frame holds it, each categorical one as its level codes and the dummies of its distinct
    values. The fit keeps a sorted copy in the narrowest exact dtypes and writes each block as
    float64 when it reads it: the same matrix values, column names, fit (:func:`_fit_glm`) and
    description as :func:`impact.design._propensity.fit_propensity`. None (the engine's path)
    unless the call is the plain case: ``distance="glm"``, ``link="logit"``, no missing values in
    the matching columns, both groups present and no reserved column (so that every error the
    engine would raise first is still raised by the engine, in its order).
    """
    if not (isinstance(distance, str) and distance in ("glm", "logit")) or link != "logit" or not covariates:
        return None
    if any(c in rs.columns for c in RESERVED):
        return None
    t = rs[TREATMENT].to_numpy(dtype=np.int8)
    if t.all() or not t.any():
        return None
    got = _design_columns(rs, covariates, exact_cols)
    if got is None:
        return None
    # the fit lets go of the columns once it has its sorted copy (X.parts emptied): nothing here
    # keeps a reference to them (they were made in _design_columns)
    X = _Columns(got[0], len(rs))
    all_names = got[1]
    del got
    prob, _, coef, llf, notes = _fit_glm(X, all_names, t, covariates, linear=False)
    del X
    desc = ("propensity score from a logistic regression (binomial, logit link, fitted as R's glm) "
            "of treatment on " + ", ".join(covariates)
            + "; categorical covariates in treatment coding with the first sorted level as reference")
    return Propensity("glm", prob, prob, coef, llf, desc, tuple(notes))


def _design_columns(rs: pd.DataFrame, covariates: list[str], exact_cols: list[str]
                    ) -> tuple[list[tuple[np.ndarray, np.ndarray | None]], list[str]] | None:
    """The parts of the :class:`impact.design._propensity._Columns` design of ``covariates`` and
    their column names, or None when the engine's path must run (see :func:`_lean_propensity`).
    A function of its own so that no local variable outlives it holding a column."""
    # the source of each covariate's columns: ("num", values), ("cat", codes, dummies of the
    # distinct values) or ("other", the engine's own conversion, for other dtypes)
    sources: list[tuple[str, np.ndarray, np.ndarray, list[str]]] = []
    none = np.empty(0)
    for c in covariates:
        s = rs[c]
        if is_categorical(s):
            codes, uniques = pd.factorize(s)
            if len(codes) and int(codes.min()) < 0:
                return None
            if len(uniques) < 2**15:                   # held until the fit's sorted copy is made: keep it small
                codes = codes.astype(np.int8 if len(uniques) < 2**7 else np.int16)
            Xu, names = expand_covariates(pd.DataFrame({c: uniques}), [c])
            sources.append(("cat", codes, Xu, names))
        elif isinstance(s.dtype, np.dtype) and s.dtype.kind in "biuf":
            v = s.to_numpy()
            if v.dtype.kind == "f" and not np.isfinite(v).all():
                return None
            sources.append(("num", v, none, [c]))
        elif s.isna().to_numpy().any():
            return None
        else:
            sources.append(("other", none, none, [c]))
    for c in dict.fromkeys(exact_cols):
        if c not in covariates and rs[c].isna().to_numpy().any():
            return None
    _check_constant(rs, covariates)
    for i, (kind, _, _, names) in enumerate(sources):
        if kind == "other":                            # e.g. nullable integers: as the engine converts them
            Xc, names = expand_covariates(rs, [names[0]])
            sources[i] = (kind, Xc, none, names)
    all_names = [name for *_, names in sources for name in names]
    parts: list[tuple[np.ndarray, np.ndarray | None]] = []
    for kind, v, Xu, names in sources:
        if kind == "cat":
            parts.append((v, Xu))
        elif v.ndim == 1:
            parts.append((v, None))
        else:                                           # an "other" column converted by the engine's rule
            parts.extend((v[:, j], None) for j in range(v.shape[1]))
    return parts, all_names


def _per_period(design: Design) -> bool:
    """Whether the periods can be matched apart: greedy nearest neighbour on a score, without
    replacement, no calipers on covariates, treated units choosing in an order of their own
    (not a random one drawn over all periods)."""
    spec = design.spec
    return (spec.method == "nearest" and not spec.is_mahalanobis and not spec.replace
            and not design.covariate_width and (design.m_order or "largest") != "random"
            and design.block is None and design.group is None)


def _match_period(score: np.ndarray, treated: np.ndarray, strata: np.ndarray | None, key: np.ndarray,
                  ratio: int, caliper: float | None, m_order: str) -> Pairs:
    """One period's greedy matching (a joblib task): positions within the period's rows."""
    return greedy_nearest(score, treated, strata, _rank_from_key(key), ratio=ratio, replace=False,
                          caliper=caliper, m_order=m_order, rng=np.random.default_rng(0))


def _released_rank(pos: np.ndarray) -> np.ndarray:
    raise AssertionError("match_riskset: the tie key was released after the allocation")


def _tie_key(pcode: np.ndarray, tcode: np.ndarray, n_per: int, rows: np.ndarray | None = None) -> np.ndarray:
    """The tie key ``person code * n_per + period code`` of ``rows`` (every row for None), int64."""
    key = (pcode if rows is None else pcode[rows]).astype(np.int64)
    key *= n_per
    key += tcode if rows is None else tcode[rows]
    return key


def _code_rank(pcode: np.ndarray, tcode: np.ndarray, n_per: int, rows: np.ndarray | None
               ) -> Callable[[np.ndarray], np.ndarray]:
    """``rank(positions)``: the order of the tie key (:func:`_tie_key`) of the matching frame's
    rows at ``positions`` (``rows``: their positions in the codes, None for the same), as
    :func:`impact.design._engine._rank_from_key` ranks the key."""
    def rank(pos: np.ndarray) -> np.ndarray:
        key = _tie_key(pcode, tcode, n_per, pos if rows is None else rows[pos])
        o = np.argsort(key, kind="stable")
        r = np.empty(len(pos), dtype=np.int64)
        r[o] = np.arange(len(pos))
        return r
    return rank


#: rows per chunk of the per-row passes of :class:`_PeriodCounter` and :func:`_stable_order_by`
_CHUNK_ROWS = 1 << 20


class _PeriodCounter(FlowCounter):
    """The :class:`FlowCounter` of the risk sets by period, from the period codes (sorted, as
    ``pd.factorize(sort=True)`` numbers them) rather than a factorization of the period column:
    the same states and labels (the periods present, as ``str``), one int16 code a row made a
    chunk at a time."""

    def __init__(self, treated: np.ndarray, codes: np.ndarray, levels: Any) -> None:
        n_lv = len(levels)
        present = bincount_chunked(codes, n_lv) > 0 if n_lv else np.zeros(0, dtype=bool)
        remap = np.cumsum(present) - 1          # observed levels renumbered 0.. in their order
        # the levels as pandas boxes them (Timestamp, Period, Python int): FlowCounter's labels
        self.labels = [str(u) for u in pd.Index(levels)[present]] if n_lv else []
        self.k = len(self.labels) + 1
        # one byte a row for up to 63 periods (FlowCounter's int16 otherwise): the counts are the same
        dt = np.dtype(np.int8 if 2 * self.k <= 2**7 else np.int16 if 2 * self.k < 2**15 else
                      np.int32 if 2 * self.k < 2**31 else np.intp)
        lut = (remap + 1).astype(dt)
        code: np.ndarray = np.empty(len(codes), dtype=dt)
        step = _CHUNK_ROWS
        for a in range(0, len(codes), step):
            blk = code[a:a + step]
            np.multiply(treated[a:a + step], self.k, out=blk, casting="unsafe")
            blk += lut[codes[a:a + step]]
        self.code = code


def _period_counter(treated: np.ndarray, codes: np.ndarray, levels: Any) -> FlowCounter:
    return _PeriodCounter(treated, codes, levels)


def _stable_order_by(code: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """``np.argsort(code, kind="stable")`` as int32 (int64 from 2**31 rows), by one counting pass
    a chunk of rows at a time: no n-long int64 scratch. ``counts``: ``np.bincount(code)``."""
    n = len(code)
    order = np.empty(n, dtype=np.int32 if n < 2**31 else np.int64)
    nxt = np.r_[0, np.cumsum(counts)][:-1].astype(np.int64)   # where each code's next row goes
    step = _CHUNK_ROWS
    k = len(counts)
    for a in range(0, n, step):
        c = code[a:a + step]
        o = np.argsort(c, kind="stable")
        cc = np.bincount(c, minlength=k)
        start = np.r_[0, np.cumsum(cc)][:-1]             # the chunk's first row of each code, sorted
        sc = c[o]
        dest = nxt[sc] + (np.arange(len(c)) - start[sc])
        order[dest] = o + a
        nxt += cc
    return order


def _allocate_by_period(design: Design, period_code: np.ndarray, pcode: np.ndarray, n_per: int,
                        n_jobs: int) -> Allocation:
    """``method="nearest"`` (see :func:`impact.design._nearest.allocate`), one period at a time.

    The exact strata include the period, so a period's matches depend on its own rows only: the
    greedy rule run on each period alone gives the pairs it gives on all periods at once (the
    order in which treated units choose is the same within a period, and the tie key orders the
    same rows the same way). Each period is a joblib task; periods without participants are
    skipped. The rows are grouped by period with one stable counting sort of the period codes;
    each task's tie key (:func:`_tie_key` of ``pcode`` and ``period_code``, the design's rows)
    is formed for its rows only.
    """
    from joblib import Parallel, delayed

    warn_short_supply(design)
    spec = design.spec
    every = not bool(design.discarded.any())        # every row active: views, no gathered copies
    idx, _, strata = (None, None, design.strata) if every else active_subset(design)
    code = period_code if every else period_code[idx]
    pc = pcode if every else pcode[idx]
    if len(code) and code.dtype != np.int16 and int(code.max()) < 2**15:
        code = code.astype(np.int16)
    counts = bincount_chunked(code, int(code.max()) + 1 if len(code) else 0)
    order = _stable_order_by(code, counts)          # rows of each period together, in row order
    cut = np.r_[0, np.cumsum(counts)]
    focal = design.focal if every else design.focal[idx]
    fpos = np.flatnonzero(focal)
    n_treated = np.bincount(code[fpos], minlength=len(counts))
    matched_periods = np.flatnonzero((n_treated > 0) & (counts > n_treated))
    chunks = [order[cut[k]:cut[k + 1]] for k in matched_periods]     # views: hold the order
    del order
    score = design.score if every else design.score[idx]
    m_order = design.m_order or "largest"
    tasks = (delayed(_match_period)(score[r], focal[r], None if strata is None else strata[r],
                                    _tie_key(pc, code, n_per, r), spec.ratio, design.width, m_order)
             for r in chunks)
    parts = Parallel(n_jobs=n_jobs)(tasks)
    local = [p.take(r.astype(np.int64)) for p, r in zip(parts, chunks)]   # positions as int64
    del parts, chunks                               # the order goes (4 bytes a row)
    pairs = Pairs.concat(local)
    no_cand = [p.no_candidate for p in local if p.no_candidate is not None and len(p.no_candidate)]
    pairs = replace(pairs, no_candidate=np.concatenate(no_cand) if no_cand else np.empty(0, dtype=np.int64))
    # participants of periods with no candidate (no task): sorted positions, as np.flatnonzero
    has_task = np.zeros(len(counts), dtype=bool)
    has_task[matched_periods] = True
    no_control = fpos[~has_task[code[fpos]]]
    del code, pc
    if len(no_control):
        pairs = replace(pairs, no_candidate=np.concatenate([pairs.no_candidate, no_control]))
    return pair_allocation(design, pairs if idx is None or len(idx) == design.n else pairs.take(idx))


def _at_risk_step(panel: pd.DataFrame, rs: pd.DataFrame, lost: np.ndarray, *, id: str, entry: str,
                  column: str, is_period: bool, counter: FlowCounter | None = None) -> Flow:
    """First flow step: participants with no risk-set row at their own entry period leave here.

    Its rows are those of the risk sets (person-periods), plus, before the step, one row per
    participant who is not in the risk set of its own entry period. ``counter``: the risk sets'
    counter by ``column``, when made already."""
    if counter is None:
        counter = FlowCounter(rs[TREATMENT].to_numpy(dtype=bool), rs[column])
    cout = counter.counts(counter_state(counter))
    cin = dict(cout)
    if len(lost):
        labels = {v: str(v) for v in pd.unique(rs[column])}
        rows = panel[panel[id].isin(lost)].drop_duplicates(id)
        vals = rows[entry] if is_period else rows[column]
        for v in vals.tolist():
            lab = labels.get(v, str(v))
            for key in (("all", "all"), ("treated", "all"), ("treated", lab), ("all", lab)):
                cin[key] = cin.get(key, 0) + 1
    return Flow().add_counts("at risk at entry", "participant not eligible (or no row) in its own entry period",
                             cin, cout)
