"""The matching engine: what every design shares, whatever the method.

One pass, in this order, for :func:`impact.match` and :func:`impact.design.match_riskset` alike:

1. :func:`make_spec` -- the parameters after the rules that tie several together (the constraint
   tables of the verbs check each parameter on its own);
2. :func:`prepare` -- column checks, complete cases (counted in the flow), the treatment check, the
   distance (propensity score), common support, calipers on the score scale, exact strata, the
   row-order-free tie key, the settings and notes: a :class:`Design`;
3. a method of :data:`impact.design._methods.METHODS` turns the design into an :class:`Allocation`
   (weights, subclasses, pairs);
4. :func:`assemble` -- the flow steps of matching, the unmatched units with their reasons, the
   matched data, sample sizes: the fields of a :class:`~impact.design.MatchResult`, built once.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any

import numpy as np
import pandas as pd

from impact._errors import DataError, EstimationError, ImpactWarning, ParameterError, data_error, format_positions
from impact._validation import Interval, check_columns, check_params, check_random_state, check_treatment, spawn_seeds
from impact.data import Flow
from impact.design._flowcount import FlowCounter
from impact.design._pairs import Pairs
from impact.design._propensity import Link, Propensity, fit_propensity
from impact.design._stack import external_stacklevel

__all__ = ["Spec", "Design", "Allocation", "make_spec", "prepare", "assemble", "make_rank_fn",
           "weights_from_pairs", "weights_from_subclass", "pair_allocation", "strata_allocation",
           "warn_short_supply", "active_subset", "count_chunked", "positions_chunked", "bincount_chunked",
           "counter_state", "isna_values"]

RESERVED = ("distance", "weights", "subclass")
ESTIMANDS = {"nearest": ("ATT", "ATC"), "optimal": ("ATT", "ATC"), "cem": ("ATT", "ATC", "ATE"),
             "exact": ("ATT", "ATC", "ATE"), "subclass": ("ATT", "ATC", "ATE"),
             "ipw": ("ATT", "ATC", "ATE", "ATO")}
_POSITIVE = [Interval(Real, 0, None, closed="neither")]


# -- the parameters ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Spec:
    """Every parameter of a design, after the rules that tie several parameters together."""

    method: str
    estimand: str
    distance: Any
    link: Link
    caliper: float | None            # on the distance; in SDs when std_caliper
    caliper_given: Any               # as the caller gave it (settings, display)
    std_caliper: bool
    covariate_caliper: Mapping[str, float]
    covariate_std: Mapping[str, bool]
    exact: tuple[str, ...]
    ratio: int
    replace: bool
    m_order: str | None
    discard: str
    id: str | None
    missing: str
    subgroup: str | None
    subclasses: int
    cutpoints: Mapping[str, Any] | None
    trim: float | None
    stabilize: bool
    max_edges: int
    rng: np.random.Generator
    distance_seed: int               # seeds a scikit-learn distance= estimator (a spawned child seed)

    @property
    def is_mahalanobis(self) -> bool:
        return isinstance(self.distance, str) and self.distance == "mahalanobis"


def make_spec(func: str, *, method: str = "nearest", distance: Any = "glm", link: Link = "logit",
              estimand: str = "ATT", caliper: float | Mapping[str, float] | None = None,
              std_caliper: bool | Mapping[str, bool] = True, exact: Sequence[str] | str | None = None,
              ratio: int = 1, replace: bool = False, m_order: str | None = None, discard: str = "none",
              id: str | None = None, missing: str = "error", subgroup: str | None = None,
              random_state: int | np.random.Generator | None = 0, subclasses: int = 6,
              cutpoints: Mapping[str, Any] | None = None, trim: float | None = None,
              stabilize: bool = False, max_edges: int = 20_000_000) -> Spec:
    """The :class:`Spec` of a call; raises :class:`ParameterError` on combinations that do not go together.

    ``random_state`` becomes a generator once (:func:`check_random_state`); a scikit-learn
    ``distance=`` estimator is seeded from a child seed of it (:func:`spawn_seeds`).
    """
    if estimand not in ESTIMANDS[method]:
        raise ParameterError(f"The 'estimand' parameter of {func} must be one of "
                             f"{', '.join(repr(e) for e in ESTIMANDS[method])} for method={method!r}. "
                             f"Got {estimand!r}.")
    cov_cal: dict[str, float] = {}
    cal_std: dict[str, bool] = {}
    dist_cal: float | None
    if isinstance(caliper, Mapping):
        check_params(func, {f"caliper[{k!r}]": _POSITIVE for k in caliper},
                     {f"caliper[{k!r}]": v for k, v in caliper.items()})
        cov_cal = {str(k): float(v) for k, v in caliper.items() if k != "distance"}
        if isinstance(std_caliper, Mapping):
            cal_std = {k: bool(std_caliper.get(k, True)) for k in caliper}
        else:
            cal_std = {k: bool(std_caliper) for k in caliper}
        if cov_cal and method != "nearest":
            raise ParameterError("Calipers on covariates (caliper={...}) are available for "
                                 f"method='nearest' only. Got method={method!r}.")
        d = caliper.get("distance")
        dist_cal = None if d is None else float(d)
        caliper_given: Any = dict(caliper)
        std = cal_std.get("distance", True)
    else:
        dist_cal = None if caliper is None else float(caliper)
        std = bool(std_caliper.get("distance", True)) if isinstance(std_caliper, Mapping) else bool(std_caliper)
        caliper_given = caliper
    exact_cols = (exact,) if isinstance(exact, str) else tuple(exact or ())
    is_maha = isinstance(distance, str) and distance == "mahalanobis"
    if is_maha and method != "nearest":
        raise ParameterError("distance='mahalanobis' is only available with method='nearest'.")
    if is_maha and (dist_cal is not None or cov_cal):
        raise ParameterError("A caliper on the Mahalanobis distance is not supported (as in "
                             "MatchIt); match on a propensity score to use caliper=.")
    if method in ("cem", "exact") and caliper_given is not None:
        raise ParameterError(f"The 'caliper' parameter does not apply to method={method!r}.")
    if replace and method == "optimal":
        raise ParameterError("replace=True is not available for method='optimal' (each control "
                             "is used once by definition); use method='nearest'.")
    rng = check_random_state(random_state)
    seed = int(spawn_seeds(rng, 1)[0].generate_state(1)[0])
    return Spec(method=method, estimand=estimand, distance=distance, link=link, caliper=dist_cal,
                caliper_given=caliper_given, std_caliper=std, covariate_caliper=cov_cal,
                covariate_std=cal_std, exact=exact_cols, ratio=int(ratio), replace=bool(replace),
                m_order=m_order, discard=discard, id=id, missing=missing, subgroup=subgroup,
                subclasses=int(subclasses), cutpoints=cutpoints, trim=trim, stabilize=bool(stabilize),
                max_edges=int(max_edges), rng=rng, distance_seed=seed)


# -- the prepared design -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Design:
    """The data and everything a method needs, prepared once (checks done, score fitted)."""

    spec: Spec
    treatment: str
    covariates: tuple[str, ...]
    work: pd.DataFrame                    # the complete-case rows
    positions: np.ndarray                 # their 0-based row positions in the caller's data
    t: np.ndarray                         # treated (bool)
    focal: np.ndarray                     # the group that chooses (treated for the ATT)
    discarded: np.ndarray                 # outside the common support
    score: np.ndarray                     # the distance (NaN when there is none)
    propensity: Propensity | None
    counter: FlowCounter
    flow: Flow
    notes: tuple[str, ...]
    strata: np.ndarray | None             # exact strata codes
    strata_labels: list[str]
    rank_fn: Callable[[np.ndarray], np.ndarray]
    width: float | None                   # caliper on the score scale
    covariate_width: Mapping[str, float]
    m_order: str | None
    settings: Mapping[str, Any]
    block: np.ndarray | None = None       # risk-set matching: sequential blocks (periods)
    group: np.ndarray | None = None       # risk-set matching: rows of one person

    @property
    def active(self) -> np.ndarray:
        return ~self.discarded

    @property
    def n(self) -> int:
        return len(self.work)


@dataclass(frozen=True)
class Allocation:
    """What a method made of a design: weights, subclasses and (for pair methods) the pairs."""

    weights: np.ndarray
    subclass: np.ndarray
    pairs: Pairs = field(default_factory=Pairs.empty)
    pair_set: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    notes: tuple[str, ...] = ()
    flow: Flow | None = None              # the design's flow with the method's own steps, if any
    discarded: np.ndarray | None = None   # when the method drops more units (IPW trimming)
    step: tuple[str, str] | None = None   # (step, reason) of a strata or weighting design; None = pairs
    subclass_na: bool = False             # subclass is missing for every row (weighting)


def _rank_from_key(key: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """``rank(positions)`` from a unique sortable key per row."""
    def rank(pos: np.ndarray) -> np.ndarray:
        o = np.argsort(key[pos], kind="stable")
        r = np.empty(len(pos), dtype=np.int64)
        r[o] = np.arange(len(pos))
        return r
    return rank


def _rank_of_subset(rank_fn: Callable[[np.ndarray], np.ndarray], keep: np.ndarray
                    ) -> Callable[[np.ndarray], np.ndarray]:
    """``rank_fn`` of the rows ``keep`` (positions among them in, ranks out)."""
    def rank(pos: np.ndarray) -> np.ndarray:
        return rank_fn(keep[pos])
    return rank


def prepare(data: pd.DataFrame, treatment: str, covariates: Sequence[str], spec: Spec, *,
            func: str = "match", origin: np.ndarray | None = None, flow: Flow | None = None,
            tie_key: np.ndarray | None = None, block: np.ndarray | None = None,
            group: np.ndarray | None = None, settings: Mapping[str, Any] | None = None,
            tie_rank: Callable[[np.ndarray], np.ndarray] | None = None,
            counter: FlowCounter | None = None, narrow_strata: bool = False,
            fitted: Propensity | None = None) -> Design:
    """Check the data and build the :class:`Design` every method starts from.

    ``origin`` (row positions of ``data`` in the caller's frame), ``flow`` (steps before this
    one), ``tie_key`` (a unique sortable tie key per row, instead of ``spec.id`` or the hash),
    ``block`` and ``group`` (see :func:`impact.design._nearest.greedy_nearest`) and ``settings``
    (merged into the result's) let a verb such as :func:`match_riskset` run the same engine on
    data it derived. ``tie_rank``: the rank function of such a tie key over the rows of ``data``
    (instead of the key itself, which then need not be held); ``counter``: the
    :class:`FlowCounter` of ``data``'s rows by treatment and subgroup, when the caller has one
    (used when every row is a complete case); ``narrow_strata``: the exact strata as int32 codes
    from the start (when they fit), not int64; ``fitted``: the :class:`Propensity` that
    ``fit_propensity`` would make of ``spec.distance`` (an array of scores), made by the caller
    without a copy of the scores (used when every row is a complete case).
    """
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    exact_cols = list(spec.exact)
    cov_cal = dict(spec.covariate_caliper)
    distance = spec.distance
    dist_col = distance if isinstance(distance, str) and distance not in ("glm", "logit", "mahalanobis") else None
    needed = [treatment, *covariates, *exact_cols] + ([spec.id] if spec.id else []) \
        + ([spec.subgroup] if spec.subgroup else []) + list(cov_cal)
    check_columns(data, needed)
    if spec.id is not None:
        pointing = [name for name, cols in (("treatment", [treatment]), ("covariates", list(covariates)),
                                            ("exact", exact_cols), ("subgroup", [spec.subgroup] if spec.subgroup else []),
                                            ("caliper", list(cov_cal))) if spec.id in cols]
        if pointing:
            raise ParameterError(
                f"The '{pointing[0]}' parameter of {func} points at the identifier column '{spec.id}'. "
                f"An identifier cannot be {'a ' + pointing[0] if pointing[0] != 'covariates' else 'a covariate'}: "
                f"name another column.")
    if dist_col is not None and dist_col not in data.columns:
        fit_propensity(data.iloc[:0], np.empty(0), covariates, distance, spec.link)  # raises, naming it
    clash = [c for c in RESERVED if c in data.columns and c != dist_col]
    if clash:
        raise ParameterError(
            f"The data already have column(s) {', '.join(repr(c) for c in clash)}, which {func} adds "
            f"to matched_data. Rename them first, e.g. df = df.rename(columns={{'{clash[0]}': "
            f"'{clash[0]}_input'}}).")
    if spec.id is not None:
        # uniqueness is checked where the id is used: among rows whose order it decides
        if data[spec.id].isna().any():
            raise data_error(spec.id, "the id must not be missing", data[spec.id].isna().to_numpy())

    # -- complete cases -----------------------------------------------------------------------------
    flow = Flow() if flow is None else flow
    subgroup = spec.subgroup
    if subgroup is None and len(exact_cols) == 1:
        subgroup = exact_cols[0]
    match_cols = [treatment, *covariates, *exact_cols, *cov_cal] + ([dist_col] if dist_col else [])
    complete = _check_missing(data, list(dict.fromkeys(match_cols)), spec.missing)
    positions = np.arange(len(data)) if origin is None else np.asarray(origin)
    notes: list[str] = []
    if not complete.all():
        kept = data.loc[complete]
        flow = flow.add("complete cases", "missing values in matching columns", data, kept,
                        treatment=treatment, subgroup=subgroup)
        notes.append(f"{int((~complete).sum())} rows with missing values in the matching columns "
                     f"were dropped (missing='drop'); see result.flow.")
        positions = positions[complete]
        work = kept
        block = None if block is None else block[complete]
        group = None if group is None else group[complete]
        tie_key = None if tie_key is None else tie_key[complete]
        if tie_rank is not None:
            tie_rank = _rank_of_subset(tie_rank, np.flatnonzero(complete))
        counter = None
    else:
        work = data
    if isinstance(distance, (np.ndarray, pd.Series, list)) and not complete.all():
        distance = np.asarray(distance)[complete]
    t = _treatment(work, treatment)
    if spec.method != "ipw" and (isinstance(distance, str) and distance in ("glm", "logit", "mahalanobis")):
        _check_constant(work, covariates)
    focal = ~t if spec.estimand == "ATC" else t

    # -- distance -----------------------------------------------------------------------------------
    prop: Propensity | None
    if spec.method in ("cem", "exact") and (isinstance(distance, str) and distance == "glm"):
        prop = None
        score = np.full(len(work), np.nan)
    elif fitted is not None and work is data:
        prop = fitted
        score = prop.score
        notes.extend(prop.notes)
    else:
        prop = fit_propensity(work, t.astype(np.int8), covariates, distance, spec.link,
                              seed=spec.distance_seed)
        score = prop.score if prop.kind != "mahalanobis" else np.full(len(work), np.nan)
        notes.extend(prop.notes)
    dist_text = "none (strata of the covariates)" if prop is None else prop.description
    if counter is None:
        counter = FlowCounter(t, None if subgroup is None else work[subgroup])

    # -- common support -------------------------------------------------------------------------------
    discarded = np.zeros(len(work), dtype=bool)
    if spec.discard != "none":
        if prop is None or prop.kind == "mahalanobis":
            raise ParameterError("discard= needs a score (distance='glm', a column, an array or a "
                                 "classifier).")
        lo = max(score[t].min(), score[~t].min())
        hi = min(score[t].max(), score[~t].max())
        outside = (score < lo) | (score > hi)
        if spec.discard == "control":
            outside &= ~t
        elif spec.discard == "treated":
            outside &= t
        discarded = outside
        if discarded.any():
            flow = counter.add(flow, "common support",
                               f"outside the common support of the distance (discard={spec.discard!r})",
                               counter.of_mask(), counter.of_mask(~discarded))

    # -- calipers -------------------------------------------------------------------------------------
    width: float | None = None
    if spec.caliper is not None:
        if spec.std_caliper:
            some = bool(discarded.any())            # none discarded: the score itself, not a copy
            sd = float(np.std(score[~discarded] if some else score, ddof=1))
            width = spec.caliper * sd
            notes.append(f"caliper={spec.caliper} is in standard deviations of the distance (SD over all "
                         f"{len(discarded) - int(np.count_nonzero(discarded))} units, n-1 denominator, as "
                         f"MatchIt): width {width:.6g} on the score scale.")
        else:
            width = float(spec.caliper)
    cov_width: dict[str, float] = {}
    for c, v in cov_cal.items():
        x = work[c]
        if not pd.api.types.is_numeric_dtype(x) or pd.api.types.is_bool_dtype(x):
            raise DataError(f"Column '{c}': a caliper needs a numeric column; it has dtype "
                            f"{x.dtype}. Match exactly on it with exact=['{c}'] instead.",
                            column=c, rule="caliper column must be numeric")
        xv = x.to_numpy(dtype=float)
        if spec.covariate_std.get(c, True):
            cov_width[c] = v * float(np.std(xv[~discarded], ddof=1))
            notes.append(f"caliper on '{c}' = {v} standard deviations of '{c}' (SD over all "
                         f"{int((~discarded).sum())} units, n-1 denominator, as MatchIt's "
                         f"std.caliper = TRUE): width {cov_width[c]:.6g} in its units; pass "
                         f"std_caliper={{'{c}': False}} for raw units.")
        else:
            cov_width[c] = float(v)

    # -- tie key, defaults said once ------------------------------------------------------------------
    if tie_rank is not None:
        rank_fn = tie_rank
    elif tie_key is not None:
        rank_fn = _rank_from_key(tie_key)
    else:
        rank_fn = make_rank_fn(work, spec.id, list(dict.fromkeys([treatment, *covariates, *exact_cols])))
        if spec.id is None and spec.method in ("nearest", "optimal"):
            notes.append("No id= given: ties in the score are broken on a stable hash of the matching "
                         "columns and treatment (then of the whole row), never on row order. Pass "
                         "id='your_id_column' to break them on the identifier.")
    m_order = spec.m_order
    if m_order is None and spec.method == "nearest":
        m_order = "data" if (prop is not None and prop.kind == "mahalanobis") else "largest"
        if m_order == "largest":
            notes.append("m_order='largest' assumed: treated units choose in decreasing order of "
                         "the score (MatchIt's default).")
    if spec.estimand == "ATT" and spec.method != "ipw":
        notes.append("estimand='ATT': controls are matched to treated units; treated weights are 1.")

    strata, strata_labels = _strata(work, exact_cols, narrow=narrow_strata)
    sett: dict[str, Any] = dict(method=spec.method, estimand=spec.estimand, ratio=spec.ratio,
                                replace=spec.replace, caliper=spec.caliper_given,
                                std_caliper=spec.std_caliper, caliper_width=width,
                                covariate_caliper_width=dict(cov_width), exact=tuple(exact_cols),
                                m_order=m_order, id=spec.id, link=spec.link, distance_text=dist_text,
                                discard=spec.discard)
    sett.update(settings or {})
    return Design(spec=spec, treatment=treatment, covariates=tuple(covariates), work=work,
                  positions=positions, t=t, focal=focal, discarded=discarded, score=score,
                  propensity=prop, counter=counter, flow=flow, notes=tuple(notes), strata=strata,
                  strata_labels=strata_labels, rank_fn=rank_fn, width=width, covariate_width=cov_width,
                  m_order=m_order, settings=sett, block=block, group=group)


def _treatment(work: pd.DataFrame, treatment: str) -> np.ndarray:
    """The treatment as bool, by the one shared 0/1 check, and both groups present."""
    tt = check_treatment(work[treatment], treatment).to_numpy().astype(bool)
    if tt.all() or not tt.any():
        raise DataError(f"Column '{treatment}': matching needs treated and control rows; all "
                        f"{len(tt)} rows are {'treated (1)' if tt.all() else 'controls (0)'}.",
                        column=treatment, rule="both groups present")
    return tt


# -- helpers the methods share ---------------------------------------------------------------------------
def pair_allocation(design: Design, pairs: Pairs) -> Allocation:
    """Weights and matched-set numbers from pairs (positions in ``design.work``)."""
    w = weights_from_pairs(design.n, pairs.treated, pairs.control)
    pair_set, sub = _subclass_from_pairs(design.n, pairs, design.rank_fn)
    notes: tuple[str, ...] = ()
    if design.spec.replace:
        notes = ("replace=True: a control used in several matched sets appears once in "
                 "matched_data with its summed weight and subclass <NA>; use "
                 "result.get_matches() or result.matched_pairs for one row per set.",)
    return Allocation(weights=w, subclass=sub, pairs=pairs, pair_set=pair_set, notes=notes)


def strata_allocation(design: Design, codes: np.ndarray, notes: Sequence[str], reason: str) -> Allocation:
    """Weights and subclass numbers from stratum codes (-1 = none), within the exact strata."""
    if design.strata is not None:
        codes = np.where(codes >= 0, pd.factorize(pd.Series(codes).astype(str) + "|" +
                                                  pd.Series(design.strata).astype(str))[0], -1)
    codes = codes.copy()
    codes[~design.active] = -1
    w = weights_from_subclass(codes, design.focal, "ATE" if design.spec.estimand == "ATE" else "ATT")
    sub = _renumber_subclasses(codes, w > 0, design.rank_fn)
    return Allocation(weights=w, subclass=sub, notes=tuple(notes), step=("matched", reason))


def warn_short_supply(design: Design) -> None:
    """Warn when some treated units cannot get all their matches (pair methods)."""
    _warn_short_supply(design.focal, design.discarded, design.strata, design.strata_labels,
                       list(design.spec.exact), design.spec.ratio, design.spec.replace)


def active_subset(design: Design) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray], np.ndarray | None]:
    """``(idx, rank, strata)`` of the rows not discarded: positions, their tie rank, their strata."""
    if design.active.all():
        return np.arange(design.n), design.rank_fn, design.strata
    idx = np.flatnonzero(design.active)
    rank_fn = design.rank_fn

    def sub_rank(p: np.ndarray) -> np.ndarray:
        return rank_fn(idx[p])
    return idx, sub_rank, None if design.strata is None else design.strata[idx]


# -- the result ----------------------------------------------------------------------------------------------
def assemble(design: Design, alloc: Allocation, *, method: str | None = None) -> dict[str, Any]:
    """The fields of the :class:`MatchResult` (``MatchResult(**fields)``), ``method`` its label."""
    w = alloc.weights
    focal, t = design.focal, design.t
    discarded = design.discarded if alloc.discarded is None else alloc.discarded
    flow = design.flow if alloc.flow is None else alloc.flow
    spec = design.spec
    width, cov_width = design.width, design.covariate_width
    n_pos = count_chunked(lambda a, b: w[a:b] > 0, len(w))
    n_pos_focal = count_chunked(lambda a, b: focal[a:b] & (w[a:b] > 0), len(w))
    if n_pos_focal == 0 or n_pos - n_pos_focal == 0:
        why = (f" within the caliper (width {width:.4g} on the score scale)" if width is not None else
               " within the calipers" if cov_width else "")
        raise EstimationError(
            f"No unit could be matched{why}: {int((focal & design.active).sum())} "
            f"{'treated' if spec.estimand != 'ATC' else 'control'} units, "
            f"{int((~focal & design.active).sum())} candidates"
            + (f", exact on {', '.join(spec.exact)}" if spec.exact else "")
            + ". Widen the caliper, drop exact= columns or check the score.")
    notes = list(design.notes) + list(alloc.notes)
    kept_pos = np.flatnonzero(w > 0)
    pairs = alloc.pairs
    flow, unmatched, reasons = _match_flow(
        flow, design.counter, step=alloc.step, focal=focal, active=design.active, kept_pos=kept_pos,
        strata=design.strata, exact_cols=list(spec.exact), has_caliper=width is not None or bool(cov_width),
        pairs=pairs, estimand=spec.estimand)
    if len(unmatched):
        notes.append(f"{len(unmatched)} {'treated' if spec.estimand != 'ATC' else 'control'} units found no "
                     f"match ({'; '.join(f'{r}: {n}' for r, n in reasons.items())}); their positions "
                     "and reasons are in result.unmatched.")
    work, pos_of, score, sub = design.work, design.positions, design.score, alloc.subclass
    if len(pairs.treated):
        pair_df = pd.DataFrame({
            "subclass": alloc.pair_set,
            "treated": _labels_at(work.index, pairs.treated),
            "control": _labels_at(work.index, pairs.control),
            "treated_pos": pos_of[pairs.treated],
            "control_pos": pos_of[pairs.control],
            "round": pairs.round + 1,
            "distance_diff": pairs.distance,
        }).sort_values(["subclass", "round"], kind="stable").reset_index(drop=True)
    else:
        pair_df = pd.DataFrame({"subclass": pd.Series(dtype=np.int64), "treated": [], "control": [],
                                "treated_pos": pd.Series(dtype=np.int64),
                                "control_pos": pd.Series(dtype=np.int64),
                                "round": pd.Series(dtype=np.int64), "distance_diff": []})
    md = work.take(kept_pos)                      # a copy of the kept rows only
    md["distance"] = score[kept_pos]
    md["weights"] = w[kept_pos]
    sk = sub[kept_pos]
    if alloc.subclass_na:
        md["subclass"] = pd.array([pd.NA] * len(kept_pos), dtype="Int64")
    elif (sk < 0).any():
        md["subclass"] = pd.array(np.where(sk < 0, 0, sk), dtype="Int64")
        md.loc[sk < 0, "subclass"] = pd.NA
    else:
        md["subclass"] = sk.astype(np.int64)
    sizes = _sample_sizes(t, w, discarded, kept_pos)
    unmatched = unmatched.assign(position=pos_of[unmatched["position"].to_numpy()])
    return dict(method=method or spec.method, estimand=spec.estimand, treatment=design.treatment,
                covariates=design.covariates, data=work, positions=pos_of, weights=w,
                subclass=sub, distance=score, discarded=discarded, matched_pairs=pair_df,
                flow=flow, sample_sizes=sizes, propensity=design.propensity, settings=design.settings,
                notes=tuple(dict.fromkeys(notes)), matched_data=md, unmatched=unmatched)


def _labels_at(index: pd.Index, pos: np.ndarray) -> np.ndarray:
    """``index.to_numpy()[pos]``; a RangeIndex by arithmetic (``to_numpy`` would build, and cache
    on the caller's index, an int64 array of every label: 8 bytes a row for the data's lifetime)."""
    if isinstance(index, pd.RangeIndex):
        out = np.asarray(pos, dtype=np.int64) * index.step
        out += index.start
        return out
    return index.to_numpy()[pos]


# -- tie-break key and weights as MatchIt makes them -----------------------------------------------
def make_rank_fn(data: pd.DataFrame, id: str | None, key_columns: Sequence[str]
                 ) -> Callable[[np.ndarray], np.ndarray]:
    """``rank(positions) -> ranks``: a total order of rows that does not depend on row order.

    With ``id``: the order of the id values. Without: a stable 64-bit hash (pandas'
    ``hash_pandas_object``, fixed key) of the matching columns, then of every column (in
    sorted column-name order); rows equal on every column are interchangeable.
    """
    if id is not None:
        ids = data[id].to_numpy()

        def rank_id(pos: np.ndarray) -> np.ndarray:
            vals = ids[pos]
            try:
                o = np.argsort(vals, kind="stable")
            except TypeError:
                vals = vals.astype(str)
                o = np.argsort(vals, kind="stable")
            sv = vals[o]
            dup = sv[1:] == sv[:-1]
            if np.any(dup):
                # the id decides the order of these rows, so it must tell them apart
                bad = np.zeros(len(ids), dtype=bool)
                d = np.flatnonzero(dup)
                bad[pos[o[d]]] = True
                bad[pos[o[d + 1]]] = True
                raise data_error(id, "the id must be unique (it breaks ties between equal scores)",
                                 bad, f"Check df[df['{id}'].duplicated(keep=False)].")
            r = np.empty(len(pos), dtype=np.int64)
            r[o] = np.arange(len(pos))
            return r
        return rank_id

    all_cols = sorted(data.columns, key=str)

    def rank_hash(pos: np.ndarray) -> np.ndarray:
        sub = data.iloc[pos]
        h1 = pd.util.hash_pandas_object(sub[list(key_columns)], index=False).to_numpy()
        h2 = pd.util.hash_pandas_object(sub[all_cols], index=False).to_numpy()
        o = np.lexsort((h2, h1))
        r = np.empty(len(pos), dtype=np.int64)
        r[o] = np.arange(len(pos))
        return r
    return rank_hash


def weights_from_pairs(n: int, focal_pos: np.ndarray, other_pos: np.ndarray) -> np.ndarray:
    """MatchIt's ``weights_matrixC``: focal units 1; each other unit sums 1/(set size) over its
    sets, then the other group's weights are scaled to sum to its number of matched units."""
    w = np.zeros(n)
    if len(focal_pos) == 0:
        return w
    uf, inv, cnt = np.unique(focal_pos, return_inverse=True, return_counts=True)
    w[uf] = 1.0
    np.add.at(w, other_pos, 1.0 / cnt[inv])
    used = np.unique(other_pos)
    s = w[used].sum()
    if s > 0:
        w[used] *= len(used) / s
    return w


def weights_from_subclass(sub: np.ndarray, focal: np.ndarray, estimand: str) -> np.ndarray:
    """MatchIt's ``get_weights_from_subclass`` for strata (-1 = no stratum)."""
    n = len(sub)
    w = np.zeros(n)
    ok = sub >= 0
    if not ok.any():
        return w
    codes = sub[ok]
    f = focal[ok]
    k = codes.max() + 1
    n1 = np.bincount(codes, weights=f.astype(float), minlength=k)
    n0 = np.bincount(codes, weights=(~f).astype(float), minlength=k)
    both = (n1 > 0) & (n0 > 0)
    keep = both[codes]
    wk = np.zeros(len(codes))
    if estimand in ("ATT", "ATC"):
        wk[f & keep] = 1.0
        wk[~f & keep] = (n1 / np.where(n0 > 0, n0, 1))[codes[~f & keep]]
        s = wk[~f].sum()
        if s > 0:
            wk[~f] *= (~f & keep).sum() / s
    else:  # ATE
        ntot = n1 + n0
        wk[f & keep] = (ntot / np.where(n1 > 0, n1, 1))[codes[f & keep]]
        wk[~f & keep] = (ntot / np.where(n0 > 0, n0, 1))[codes[~f & keep]]
        for g in (f, ~f):
            s = wk[g].sum()
            if s > 0:
                wk[g] *= (g & keep).sum() / s
    w[ok] = wk
    return w


def _subclass_from_pairs(n: int, pairs: Pairs, rank_fn: Callable[[np.ndarray], np.ndarray]
                         ) -> tuple[np.ndarray, np.ndarray]:
    """Number the matched sets 1.. in tie-key order of their focal unit.

    Returns ``(set_id_per_pair, subclass_per_row)``; a row in several sets gets -1.
    """
    sub = np.full(n, -1, dtype=np.int64)
    if len(pairs.treated) == 0:
        return np.empty(0, dtype=np.int64), sub
    ut = np.unique(pairs.treated)
    r = rank_fn(ut)
    set_num = np.empty(len(ut), dtype=np.int64)      # the set number of ut[i] (no n-long table)
    set_num[np.argsort(r, kind="stable")] = np.arange(1, len(ut) + 1)
    pair_set = set_num[np.searchsorted(ut, pairs.treated)]
    sub[ut] = set_num
    cu, first, cc = np.unique(pairs.control, return_index=True, return_counts=True)
    once = cc == 1                # a control in one set only gets that set's number
    sub[cu[once]] = pair_set[first[once]]
    return pair_set, sub




# -- counts a chunk of rows at a time ----------------------------------------------------------------
#: rows per chunk of the counting helpers below (their scratch: a chunk, never n rows)
_COUNT_CHUNK = 1 << 20


def count_chunked(mask_of: Callable[[int, int], np.ndarray], n: int) -> int:
    """``np.count_nonzero`` of the mask whose rows ``a:b`` are ``mask_of(a, b)``."""
    return sum(int(np.count_nonzero(mask_of(a, min(a + _COUNT_CHUNK, n)))) for a in range(0, n, _COUNT_CHUNK))


def positions_chunked(mask_of: Callable[[int, int], np.ndarray], n: int) -> np.ndarray:
    """``np.flatnonzero`` of the mask whose rows ``a:b`` are ``mask_of(a, b)`` (int64, sorted)."""
    parts = [np.flatnonzero(mask_of(a, min(a + _COUNT_CHUNK, n))) + a for a in range(0, n, _COUNT_CHUNK)]
    return np.concatenate(parts).astype(np.int64, copy=False) if parts else np.empty(0, dtype=np.int64)


def bincount_chunked(codes: np.ndarray, k: int, mask_of: Callable[[int, int], np.ndarray] | None = None
                     ) -> np.ndarray:
    """``np.bincount(codes[mask], minlength=k)`` for codes in ``[0, k)`` (``mask`` rows ``a:b``: ``mask_of(a, b)``, None
    for every row), a chunk at a time: ``np.bincount`` converts its input to an intp copy (8
    bytes a row for int16 or int32 codes)."""
    out = np.zeros(k, dtype=np.intp)
    n = len(codes)
    for a in range(0, n, _COUNT_CHUNK):
        b = min(a + _COUNT_CHUNK, n)
        c = codes[a:b] if mask_of is None else codes[a:b][mask_of(a, b)]
        out += np.bincount(c, minlength=k)             # codes < k
    return out


def counter_state(counter: FlowCounter, mask: np.ndarray | None = None) -> np.ndarray:
    """``counter.of_mask(mask)``, counted a chunk of rows at a time."""
    k2 = 2 * counter.k
    if mask is None or bool(mask.all()):
        return bincount_chunked(counter.code, k2).reshape(2, counter.k)
    return bincount_chunked(counter.code, k2, lambda a, b: mask[a:b]).reshape(2, counter.k)


# -- checks ------------------------------------------------------------------------------------------
def _check_missing(data: pd.DataFrame, columns: Sequence[str], missing: str) -> np.ndarray:
    """Boolean mask of complete rows; raise naming every column with missing values unless drop."""
    # column by column, one mask at a time: ``data[columns].isna()`` would copy every matching
    # column at once (60-70 bytes per row at national scale), a dict of masks a byte per column
    bad = np.zeros(len(data), dtype=bool)
    hit = []
    for c in dict.fromkeys(columns):
        m = isna_values(data[c])
        if m.any():
            bad |= m
            hit.append(c)
        del m
    if bad.any() and missing == "error":
        masks = {c: isna_values(data[c]) for c in hit}      # made again for the message only
        parts = [f"'{c}' ({format_positions(np.flatnonzero(m))})" for c, m in masks.items()]
        first = hit[0]
        raise DataError(
            f"Missing values in the matching columns: {'; '.join(parts)}; {int(bad.sum())} rows in "
            "all. Pass missing='drop' to match on complete cases (the dropped rows are counted in "
            f"result.flow), or impute first, e.g. df = df.dropna(subset={list(columns)!r}).",
            column=first, rule="no missing values in matching columns",
            positions=np.flatnonzero(bad)[:5].tolist())
    return ~bad


def isna_values(values: pd.Series) -> np.ndarray:
    """``values.isna().to_numpy()``; numpy dates and durations by ``np.isnat`` (pandas caches the
    mask of a datetime column on its array: a byte a row for the frame's lifetime)."""
    if isinstance(values.dtype, np.dtype) and values.dtype.kind in "mM":
        return np.isnat(values.to_numpy())
    return values.isna().to_numpy()


def _check_constant(data: pd.DataFrame, covariates: Sequence[str]) -> None:
    for c in covariates:
        if data[c].nunique(dropna=True) <= 1:
            raise DataError(
                f"Column '{c}': a matching covariate must vary, but it has one value in all "
                f"{len(data)} rows, so it cannot predict treatment or define a distance. Remove it "
                "from covariates=[...].", column=c, rule="covariate must not be constant")




# -- the flow of a design -----------------------------------------------------------------------------
# reasons a focal unit is left unmatched, in the order the flow counts them
REASON_EXACT = "no {other} in the same exact stratum"
REASON_CALIPER = "no {other} within the caliper"
REASON_USED = "every {other} {where}already used by other {focal} units"


def _match_flow(flow: Flow, counter: FlowCounter, *, step: tuple[str, str] | None, focal: np.ndarray,
                active: np.ndarray, kept_pos: np.ndarray, strata: np.ndarray | None,
                exact_cols: list[str], has_caliper: bool, pairs: Pairs,
                estimand: str) -> tuple[Flow, pd.DataFrame, dict[str, int]]:
    """The matching steps of the flow, and each unmatched focal unit with its reason.

    Pair methods (nearest, optimal) get up to four steps, each dropping one kind of person:
    ``exact stratum`` (focal units whose stratum has no candidate), ``caliper`` (focal units with
    no candidate within the caliper, used or not), ``controls not selected`` (candidates nobody
    chose: not a loss, simply not needed) and ``matched`` (focal units whose candidates were all
    taken by units that chose before them). Strata and weighting designs keep one step.
    """
    n = len(focal)
    before = counter_state(counter, active)
    after = counter.of_positions(kept_pos)
    empty = pd.DataFrame({"position": np.empty(0, dtype=np.int64), "reason": pd.Series(dtype=object)})
    if step is not None:     # strata and weighting designs: one step
        return counter.add(flow, step[0], step[1], before, after), empty, {}
    f_name, o_name = ("treated", "control") if estimand != "ATC" else ("control", "treated unit")
    fi = 1 if estimand != "ATC" else 0            # row of the focal group in a state
    # the unmatched focal units as positions (sorted), found a chunk of rows at a time: no
    # n-long masks beyond the one of the kept rows
    kept = np.zeros(n, dtype=bool)
    kept[kept_pos] = True
    unm = positions_chunked(lambda a, b: focal[a:b] & active[a:b] & ~kept[a:b], n)
    del kept
    no_stratum = unm[:0]
    if strata is not None and len(unm):
        k = int(strata.max()) + 1
        n_other = bincount_chunked(strata, k, lambda a, b: ~focal[a:b] & active[a:b])
        no_stratum = unm[(n_other == 0)[strata[unm]]]
    rest = unm[~np.isin(unm, no_stratum, assume_unique=True)] if len(no_stratum) else unm
    no_cal = unm[:0]
    if pairs.no_candidate is not None and len(pairs.no_candidate):
        no_cal = rest[np.isin(rest, pairs.no_candidate)]
    used = rest[~np.isin(rest, no_cal, assume_unique=True)] if len(no_cal) else rest
    texts = {
        "exact": REASON_EXACT.format(other=o_name),
        "caliper": REASON_CALIPER.format(other=o_name),
        "used": REASON_USED.format(other=o_name, focal=f_name,
                                   where="within the caliper " if has_caliper else
                                   ("of the stratum " if exact_cols else "")),
    }
    rows, reasons = [], {}
    state = before
    for name, pos, key in (("exact stratum", no_stratum, "exact"), ("caliper", no_cal, "caliper")):
        if len(pos):
            nxt = state.copy()
            nxt[fi] -= counter.of_positions(pos)[fi]
            flow = counter.add(flow, name, texts[key], state, nxt)
            state = nxt
            rows.append(pd.DataFrame({"position": pos, "reason": texts[key]}))
            reasons[texts[key]] = len(pos)
    if (state[1 - fi] != after[1 - fi]).any():
        nxt = state.copy()
        nxt[1 - fi] = after[1 - fi]
        flow = counter.add(flow, "controls not selected" if estimand != "ATC" else "treated not selected",
                           f"not chosen by any {f_name} unit", state, nxt)
        state = nxt
    if len(used):
        rows.append(pd.DataFrame({"position": used, "reason": texts["used"]}))
        reasons[texts["used"]] = len(used)
        reason = texts["used"]
    else:
        reason = f"every remaining {f_name} unit matched"
    flow = counter.add(flow, "matched", reason, state, after)
    unmatched = (pd.concat(rows, ignore_index=True).sort_values("position", kind="stable")
                 .reset_index(drop=True) if rows else empty)
    return flow, unmatched, reasons



def _strata(work: pd.DataFrame, exact_cols: Sequence[str], *, narrow: bool = False
            ) -> tuple[np.ndarray | None, list[str]]:
    """The exact strata codes (int64; with ``narrow``, int32 from the start when the rows fit)
    and their labels."""
    if not exact_cols:
        return None, []
    dtype = np.dtype(np.int32 if narrow and len(work) < 2**31 else np.int64)
    if len(exact_cols) == 1:
        one, uniques = _sorted_factorize(work[exact_cols[0]], use_na_sentinel=True, dtype=dtype)
        return one, [str(u) for u in uniques]
    # combined codes, column by column, without materialising any group's rows: after each step
    # the codes number the observed combinations so far in sorted (lexicographic) order, as
    # groupby(sort=True, observed=True).ngroup() would
    codes: np.ndarray | None = None
    keys: list[tuple[Any, ...]] = [()]
    for c in exact_cols:
        cc, uniques = _sorted_factorize(work[c], use_na_sentinel=False, dtype=dtype)
        nu = max(len(uniques), 1)
        space = len(keys) * nu
        if codes is None:                   # the first column's codes are the combined codes
            codes = cc
        else:
            if space > np.iinfo(codes.dtype).max:
                codes = codes.astype(np.int64)       # the combinations would overflow int32
            codes *= nu
            codes += cc
        del cc
        if space <= max(4 * len(codes), 1 << 16):
            # renumber the observed combinations in place (no sort, no second code array)
            first = np.flatnonzero(bincount_chunked(codes, space))   # no intp copy of the codes
            remap = np.zeros(space, dtype=codes.dtype)
            remap[first] = np.arange(len(first))
            np.take(remap, codes, out=codes, mode="clip")   # codes < space: "clip" is not buffered
        else:
            combined, first = pd.factorize(codes, sort=True)
            codes = combined.astype(dtype, copy=False)
        levels = list(uniques)
        keys = [keys[int(v) // nu] + (levels[int(v) % nu],) for v in np.asarray(first).tolist()]
    assert codes is not None                # exact_cols is not empty
    labels = [", ".join(map(str, k)) for k in keys]
    return codes.astype(dtype, copy=False), labels


def _sorted_factorize(values: pd.Series, *, use_na_sentinel: bool, dtype: np.dtype | None = None
                      ) -> tuple[np.ndarray, Any]:
    """``pd.factorize(values, sort=True, use_na_sentinel=...)`` as int64 (or ``dtype``) codes, with one code array
    per row instead of three: the rows are factorized in order of appearance, the few distinct
    values are sorted by pandas' own rule (``pd.factorize(uniques, sort=True)``: the same order,
    missing last), and the codes are renumbered in place through that small table."""
    codes, uniques = _factorize_chunked(values, use_na_sentinel=use_na_sentinel, dtype=dtype)
    rank, sorted_uniques = pd.factorize(uniques, sort=True, use_na_sentinel=use_na_sentinel)
    if len(rank) and not bool((rank == np.arange(len(rank))).all()):
        lut = rank.astype(codes.dtype, copy=False)
        if use_na_sentinel:
            neg = codes < 0
            np.take(lut, codes, out=codes, mode="wrap")      # -1 reads lut[-1]: reset below
            codes[neg] = -1
        else:
            np.take(lut, codes, out=codes, mode="clip")      # mode="raise" would buffer a copy
    return codes, sorted_uniques


#: rows per chunk of :func:`_factorize_chunked` (pandas sizes its hash table for the whole input)
_CHUNK = 1 << 18


def _factorize_chunked(values: pd.Series, *, use_na_sentinel: bool, dtype: np.dtype | None = None
                       ) -> tuple[np.ndarray, Any]:
    """``pd.factorize(values, use_na_sentinel=...)`` (codes as int64, in order of appearance), a
    chunk of rows at a time: ``pd.factorize`` sizes its hash table for every row (17 to 33 bytes a
    row at its peak); by chunks the peak is the int64 codes plus one chunk's table. Columns with
    missing values in an object column (None and NaN are one level, named as pandas names it)
    take pandas' own path."""
    n = len(values)
    dtype = np.dtype(np.int64) if dtype is None else dtype
    if n <= _CHUNK or (values.dtype == object and bool(values.isna().to_numpy().any())):
        codes, uniques = pd.factorize(values, use_na_sentinel=use_na_sentinel)
        return codes.astype(dtype, copy=False), uniques
    out = np.empty(n, dtype=dtype)
    seen: pd.Index | None = None
    for a in range(0, n, _CHUNK):
        cc, uu = pd.factorize(values.iloc[a:a + _CHUNK], use_na_sentinel=use_na_sentinel)
        if seen is None:
            seen = uu if isinstance(uu, pd.Index) else pd.Index(uu)
            glob = np.arange(len(uu), dtype=np.int64)
        else:
            glob = seen.get_indexer(uu).astype(np.int64, copy=False)
            new = glob < 0
            if new.any():                       # levels first seen in this chunk, in their order
                glob[new] = len(seen) + np.arange(int(new.sum()))
                seen = seen.append(uu[new] if isinstance(uu, pd.Index) else pd.Index(uu)[new])
        block = out[a:a + _CHUNK]
        if use_na_sentinel:
            np.take(np.r_[glob, -1].astype(dtype), cc, out=block, mode="wrap")    # cc = -1 reads the -1 at the end
        else:
            np.take(glob.astype(dtype), cc, out=block, mode="clip")
    assert seen is not None
    if isinstance(values.dtype, pd.CategoricalDtype):
        seen = pd.CategoricalIndex(seen, categories=values.cat.categories, ordered=values.cat.ordered)
    return out, seen


def _renumber_subclasses(codes: np.ndarray, kept: np.ndarray, rank_fn: Callable[[np.ndarray], np.ndarray]
                         ) -> np.ndarray:
    """Renumber strata 1.. by the smallest tie key among their kept members (row-order free)."""
    out = np.full(len(codes), -1, dtype=np.int64)
    idx = np.flatnonzero(kept & (codes >= 0))
    if not len(idx):
        return out
    r = rank_fn(idx)
    order = idx[np.argsort(r, kind="stable")]
    first_seen = pd.unique(codes[order])
    new = {c: i + 1 for i, c in enumerate(first_seen.tolist())}
    out[idx] = np.asarray([new[c] for c in codes[idx].tolist()], dtype=np.int64)
    return out


def _warn_short_supply(focal: np.ndarray, discarded: np.ndarray, strata: np.ndarray | None,
                       labels: list[str], exact_cols: list[str], ratio: int, replace: bool) -> None:
    """The supply warnings; the focal and other (not discarded) units counted a chunk of rows at
    a time (per stratum by :func:`bincount_chunked`): no n-long masks or codes."""
    if strata is None:
        nf = count_chunked(lambda a, b: focal[a:b] & ~discarded[a:b], len(focal))
        no = count_chunked(lambda a, b: ~focal[a:b] & ~discarded[a:b], len(focal))
        if not replace and no < nf * ratio:
            warnings.warn(f"Fewer candidates ({no}) than treated units x ratio ({nf} x {ratio}); not "
                          "every treated unit can get all its matches without replacement.",
                          ImpactWarning, stacklevel=external_stacklevel())
        return
    k = int(strata.max()) + 1
    nfs = bincount_chunked(strata, k, lambda a, b: focal[a:b] & ~discarded[a:b])
    nos = bincount_chunked(strata, k, lambda a, b: ~focal[a:b] & ~discarded[a:b])
    empty = (nfs > 0) & (nos == 0)
    if empty.any():
        lv = [labels[i] for i in np.flatnonzero(empty)]
        warnings.warn(f"Exact stratum/strata of {', '.join(exact_cols)} with no candidate controls: "
                      f"{'; '.join(lv[:5])}{' ...' if len(lv) > 5 else ''} ({int(nfs[empty].sum())} "
                      "treated units cannot be matched).", ImpactWarning, stacklevel=external_stacklevel())
    short = (nfs > 0) & (nos > 0) & (nos < nfs * ratio) & (not replace)
    if short.any():
        warnings.warn(f"{int(short.sum())} exact strata of {', '.join(exact_cols)} have fewer "
                      "candidates than treated units x ratio; some treated units will get fewer "
                      "matches.", ImpactWarning, stacklevel=external_stacklevel())


def _sample_sizes(t: np.ndarray, w: np.ndarray, discarded: np.ndarray, kept_pos: np.ndarray
                  ) -> pd.DataFrame:
    n_t = int(np.count_nonzero(t))
    n_d_t = int(np.count_nonzero(discarded & t)) if discarded.any() else 0
    n_d_c = int(np.count_nonzero(discarded)) - n_d_t
    tk = t[kept_pos]
    wk = w[kept_pos]
    rows = {}
    for name, g, n_all, n_disc in (("control", ~tk, len(t) - n_t, n_d_c), ("treated", tk, n_t, n_d_t)):
        wg = wk[g]
        s2 = float(np.dot(wg, wg))
        rows[name] = {"all": float(n_all), "matched_ess": float(wg.sum() ** 2 / s2) if s2 > 0 else 0.0,
                      "matched": float(len(wg)), "unmatched": float(n_all - len(wg) - n_disc),
                      "discarded": float(n_disc)}
    return pd.DataFrame(rows)[["control", "treated"]]
