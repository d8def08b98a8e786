"""``impact.match``: one verb for every matching and weighting design."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd

from impact._validation import check_columns, check_number, check_option, check_random_state
from impact._errors import (DataError, EstimationError, ImpactWarning, ParameterError, data_error, format_positions)
from impact.data import Flow
from impact.design._flowcount import FlowCounter
from impact.design._nearest import Pairs, greedy_nearest
from impact.design._propensity import Propensity, fit_propensity
from impact.data import expand_covariates
from impact.design._result import MatchResult

__all__ = ["match", "make_rank_fn", "weights_from_pairs"]

Method = Literal["nearest", "optimal", "cem", "exact", "subclass", "ipw"]
Estimand = Literal["ATT", "ATC", "ATE", "ATO"]
MOrder = Literal["largest", "smallest", "random", "data"]
Discard = Literal["none", "both", "control", "treated"]
Missing = Literal["error", "drop"]
Link = Literal["logit", "linear_logit"]

RESERVED = ("distance", "weights", "subclass")
_ESTIMANDS = {"nearest": ("ATT", "ATC"), "optimal": ("ATT", "ATC"), "cem": ("ATT", "ATC", "ATE"),
              "exact": ("ATT", "ATC", "ATE"), "subclass": ("ATT", "ATC", "ATE"),
              "ipw": ("ATT", "ATC", "ATE", "ATO")}


# -- tie-break key --------------------------------------------------------------------------------
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


# -- weights as MatchIt makes them --------------------------------------------------------------------
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
    set_of = np.empty(n, dtype=np.int64)
    set_of[ut[np.argsort(r, kind="stable")]] = np.arange(1, len(ut) + 1)
    pair_set = set_of[pairs.treated]
    sub[ut] = set_of[ut]
    cu, first, cc = np.unique(pairs.control, return_index=True, return_counts=True)
    once = cc == 1                # a control in one set only gets that set's number
    sub[cu[once]] = pair_set[first[once]]
    return pair_set, sub


# -- checks ------------------------------------------------------------------------------------------
def _check_missing(data: pd.DataFrame, columns: Sequence[str], missing: str) -> np.ndarray:
    """Boolean mask of complete rows; raise naming every column with missing values unless drop."""
    na = data[list(columns)].isna()
    bad = na.any(axis=1).to_numpy()
    if bad.any() and missing == "error":
        parts = []
        for c in columns:
            m = na[c].to_numpy()
            if m.any():
                parts.append(f"'{c}' ({format_positions(np.flatnonzero(m))})")
        first = next(c for c in columns if na[c].any())
        raise DataError(
            f"Missing values in the matching columns: {'; '.join(parts)}; {int(bad.sum())} rows in "
            "all. Pass missing='drop' to match on complete cases (the dropped rows are counted in "
            f"result.flow), or impute first, e.g. df = df.dropna(subset={list(columns)!r}).",
            column=first, rule="no missing values in matching columns",
            positions=np.flatnonzero(bad)[:5])
    return ~bad


def _check_treatment(data: pd.DataFrame, treatment: str) -> np.ndarray:
    t = data[treatment]
    v = t.to_numpy()
    if v.dtype.kind in "biu":    # fast path for integer and boolean columns
        ok = (v == 0) | (v == 1)
        if ok.all():
            tt = v.astype(bool)
            if tt.all() or not tt.any():
                raise DataError(f"Column '{treatment}': matching needs treated and control rows; "
                                f"all {len(tt)} rows are {'treated (1)' if tt.all() else 'controls (0)'}.",
                                column=treatment, rule="both groups present")
            return tt
    if t.isna().any():
        raise data_error(treatment, "treatment must not be missing", t.isna().to_numpy(),
                         f"Drop those rows first: df = df.dropna(subset=['{treatment}']).")
    ok = t.isin([0, 1, True, False]).to_numpy()
    if not ok.all():
        raise data_error(treatment, "treatment must be 0/1 or boolean", ~ok,
                         f"Recode it, e.g. df['{treatment}'] = (df['{treatment}'] == 'yes').astype(int).")
    tt = t.to_numpy().astype(bool)
    if tt.all() or not tt.any():
        raise DataError(f"Column '{treatment}': matching needs treated and control rows; all "
                        f"{len(tt)} rows are {'treated (1)' if tt.all() else 'controls (0)'}.",
                        column=treatment, rule="both groups present")
    return tt


def _check_constant(data: pd.DataFrame, covariates: Sequence[str]) -> None:
    for c in covariates:
        if data[c].nunique(dropna=True) <= 1:
            raise DataError(
                f"Column '{c}': a matching covariate must vary, but it has one value in all "
                f"{len(data)} rows, so it cannot predict treatment or define a distance. Remove it "
                "from covariates=[...].", column=c, rule="covariate must not be constant")


# -- the verb -----------------------------------------------------------------------------------------
def match(data: pd.DataFrame, treatment: str, covariates: Sequence[str] = (), *,
          method: Method = "nearest", distance: Any = "glm", link: Link = "logit",
          estimand: Estimand = "ATT", caliper: float | Mapping[str, float] | None = None,
          std_caliper: bool | Mapping[str, bool] = True,
          exact: Sequence[str] | str | None = None, ratio: int = 1, replace: bool = False,
          m_order: MOrder | None = None, discard: Discard = "none", id: str | None = None,
          missing: Missing = "error", subgroup: str | None = None,
          random_state: int | np.random.Generator | None = 0,
          subclasses: int = 6, cutpoints: Mapping[str, int | Sequence[float]] | None = None,
          trim: float | None = None, stabilize: bool = False,
          max_edges: int = 20_000_000) -> MatchResult:
    """Build a matched (or weighted) comparison group, MatchIt style.

    Parameters
    ----------
    data : DataFrame
        One row per person. Index labels are kept in ``result.matched_data``.
    treatment : str
        0/1 or boolean column, 1 = took part.
    covariates : sequence of str
        Columns the distance is built from and balance is checked on. Object, string and category
        columns are expanded as a model formula would (treatment coding, the first sorted level is
        the reference; a pandas Categorical keeps its category order).
    method : {"nearest", "optimal", "cem", "exact", "subclass", "ipw"}
        ``"nearest"``: greedy nearest neighbour (R: ``method = "nearest"``). ``"optimal"``: pair
        matching minimising the total absolute score distance (R: ``"optimal"``), solved with
        scipy's sparse assignment on the caliper graph. ``"cem"``: coarsened exact matching on the
        covariates (``cutpoints``). ``"exact"``: exact matching on all covariates.
        ``"subclass"``: ``subclasses`` strata on quantiles of the score. ``"ipw"``: inverse
        probability weights (R: ``WeightIt::weightit``).
    distance : "glm", "mahalanobis", str, array or scikit-learn classifier
        ``"glm"`` (default): logistic regression via statsmodels. A column name or a 1-D array: your
        own score. A scikit-learn classifier: fitted on the expanded covariates if unfitted, else
        used as given (``predict_proba``). ``"mahalanobis"``: nearest neighbour on the Mahalanobis
        distance of the expanded covariates (pooled within-group covariance; only for
        ``method="nearest"``; no caliper).
    link : {"logit", "linear_logit"}
        Match on the probability (default, as MatchIt's ``distance = "glm"``) or on its logit
        (R: ``link = "linear.logit"``).
    estimand : {"ATT", "ATC", "ATE", "ATO"}
        ATT (default) matches controls to treated units; ATC the reverse. ATE: ``cem``, ``exact``,
        ``subclass``, ``ipw``; ATO (overlap weights): ``ipw`` only.
    caliper : float or mapping, optional
        Maximum distance between matched units, in standard deviations of the distance (SD over
        all units not discarded, n - 1 denominator, as MatchIt) unless ``std_caliper=False``.
        A mapping also puts calipers on numeric covariates (or any numeric column), as MatchIt's
        named ``caliper = c(.2, age = 5)``: ``{"distance": 0.2, "age": 5}`` (``"distance"`` is the
        score; leave it out for calipers on covariates only). A control is a candidate only
        within every caliper. Only for ``method="nearest"`` on a score.
    std_caliper : bool or mapping
        ``False`` reads ``caliper`` in the units of the distance (and of each covariate). As in
        MatchIt, the default ``True`` reads every caliper, covariate calipers included, in SDs of
        its own variable; a mapping sets it per entry (``{"age": False}``: age in years; entries
        not named stay ``True``).
    exact : str or sequence of str, optional
        Match only within strata of these columns (e.g. ``["gender"]``).
    ratio : int
        Controls per treated unit (k:1).
    replace : bool
        Whether a control may be used in several matched sets.
    m_order : {"largest", "smallest", "random", "data"}, optional
        Order in which treated units choose: decreasing score (default with a score, as MatchIt),
        increasing, random (``random_state``), or "data". "data" means the order of the tie-break
        key (the ``id`` column if given), not the row order, so the answer does not depend on how
        the rows are sorted; with ``id`` = a row-number column it is MatchIt's ``"data"``.
    discard : {"none", "both", "control", "treated"}
        Drop units outside the common support of the score before matching (counted as
        ``discarded`` in :attr:`MatchResult.sample_sizes` and in the flow).
    id : str, optional
        A unique identifier column, used as the tie-break key: when two units have the same score
        the one with the smaller id comes first, so the same data in another row order give the same
        matches and the same ``subclass`` numbers. Without it, ties are broken on a stable hash of
        the matching columns (then of the whole row), never on row order. MatchIt breaks ties by row
        order; to reproduce it exactly, pass a row-number column.
    missing : {"error", "drop"}
        Missing values in ``treatment``, covariates or ``exact`` columns raise a :class:`DataError`
        naming the columns and counts; ``"drop"`` matches on complete cases and counts the dropped
        rows in the flow.
    subgroup : str, optional
        Column to break the flow counts down by (default: the single ``exact`` column, if any).
    random_state : int, numpy Generator or None
        Only used by ``m_order="random"``.
    subclasses : int
        Number of subclasses for ``method="subclass"`` (MatchIt's default 6).
    cutpoints : mapping, optional
        For ``method="cem"``: ``{column: number of bins or list of cut points}``. Numeric covariates
        not named are cut into Sturges' number of equal-width bins (MatchIt's default); categorical
        ones are matched exactly.
    trim : float, optional
        For ``method="ipw"``: drop units whose propensity score is outside ``[trim, 1 - trim]``
        (counted in the flow as "outside [trim, 1-trim]").
    stabilize : bool
        For ``method="ipw"`` and the ATE: multiply weights by the marginal share of the unit's group.
    max_edges : int
        For ``method="optimal"``: the largest candidate graph allowed (treated-control pairs within
        the caliper).

    Returns
    -------
    MatchResult

    Raises
    ------
    DataError
        A column is missing, has missing values, the treatment is not 0/1, the id is not unique, a
        covariate is constant.
    ParameterError
        An argument is out of range or an option is unknown.
    EstimationError
        Nobody could be matched.

    Notes
    -----
    R equivalent: ``MatchIt::matchit(treat ~ x1 + x2, data, method = "nearest", distance = "glm",
    caliper = 0.2, exact = ~gender, ratio = 1, replace = FALSE)``, then ``match.data(m)``,
    ``get_matches(m)`` and ``summary(m)``. Greedy matching follows MatchIt 4.5.1's rule (with the
    upstream ``std::abs`` fix; Debian's binary does not apply the caliper) and costs one sort plus a
    sweep: O(n log n) time, memory linear in n.

    Examples
    --------
    >>> import impact
    >>> from impact.datasets import load_lalonde
    >>> df = load_lalonde()
    >>> m = impact.match(df, treatment="treat",
    ...                  covariates=["age", "educ", "race", "married", "nodegree", "re74", "re75"],
    ...                  caliper=0.2, id="row")
    >>> m.sample_sizes.loc["matched"].tolist()
    [113.0, 113.0]
    >>> m.n_unmatched
    72
    >>> sorted(m.matched_data.columns[-3:])
    ['distance', 'subclass', 'weights']
    """
    return _match_impl(
        data, treatment, covariates, method=method, distance=distance, link=link,
        estimand=estimand, caliper=caliper, std_caliper=std_caliper, exact=exact, ratio=ratio,
        replace=replace, m_order=m_order, discard=discard, id=id, missing=missing,
        subgroup=subgroup, random_state=random_state, subclasses=subclasses, cutpoints=cutpoints,
        trim=trim, stabilize=stabilize, max_edges=max_edges)


def _match_impl(data: pd.DataFrame, treatment: str, covariates: Sequence[str] = (), *,
                method: Method = "nearest", distance: Any = "glm", link: Link = "logit",
                estimand: Estimand = "ATT", caliper: float | Mapping[str, float] | None = None,
                std_caliper: bool | Mapping[str, bool] = True,
                exact: Sequence[str] | str | None = None, ratio: int = 1, replace: bool = False,
                m_order: MOrder | None = None, discard: Discard = "none", id: str | None = None,
                missing: Missing = "error", subgroup: str | None = None,
                random_state: int | np.random.Generator | None = 0,
                subclasses: int = 6, cutpoints: Mapping[str, int | Sequence[float]] | None = None,
                trim: float | None = None, stabilize: bool = False,
                max_edges: int = 20_000_000, block: np.ndarray | None = None,
                group: np.ndarray | None = None) -> MatchResult:
    """:func:`match`, plus ``block`` and ``group`` for risk-set matching (see
    :func:`impact.design._nearest.greedy_nearest`): row arrays aligned with ``data``."""
    func = "match"
    check_option("method", method, list(_ESTIMANDS), func)
    check_option("estimand", estimand, ["ATT", "ATC", "ATE", "ATO"], func)
    if estimand not in _ESTIMANDS[method]:
        raise ParameterError(f"The 'estimand' parameter of match must be one of "
                             f"{', '.join(repr(e) for e in _ESTIMANDS[method])} for method={method!r}. "
                             f"Got {estimand!r}.")
    check_option("link", link, ["logit", "linear_logit"], func)
    check_option("discard", discard, ["none", "both", "control", "treated"], func)
    check_option("missing", missing, ["error", "drop"], func)
    if m_order is not None:
        check_option("m_order", m_order, ["largest", "smallest", "random", "data"], func)
    check_number("ratio", ratio, func, low=1, integer=True)
    cov_cal: dict[str, float] = {}
    cal_std: dict[str, bool] = {}
    if isinstance(caliper, Mapping):
        for k, v in caliper.items():
            check_number(f"caliper[{k!r}]", v, func, low=0, low_inclusive=False)
        cov_cal = {str(k): float(v) for k, v in caliper.items() if k != "distance"}
        if isinstance(std_caliper, Mapping):
            cal_std = {k: bool(std_caliper.get(k, True)) for k in caliper}
        else:
            cal_std = {k: bool(std_caliper) for k in caliper}
        if cov_cal and method != "nearest":
            raise ParameterError("Calipers on covariates (caliper={...}) are available for "
                                 f"method='nearest' only. Got method={method!r}.")
        dist_cal = caliper.get("distance")
        caliper_given = dict(caliper)
        caliper = None if dist_cal is None else float(dist_cal)
        std_caliper = cal_std.get("distance", True)
    else:
        check_number("caliper", caliper, func, low=0, low_inclusive=False, allow_none=True)
        if isinstance(std_caliper, Mapping):
            std_caliper = bool(std_caliper.get("distance", True))
        caliper_given = caliper
    check_number("subclasses", subclasses, func, low=1, integer=True)
    check_number("trim", trim, func, low=0, high=0.5, low_inclusive=False, high_inclusive=False,
                 allow_none=True)
    rng = check_random_state(random_state)
    if isinstance(covariates, str):
        covariates = [covariates]
    covariates = list(covariates)
    exact_cols = [exact] if isinstance(exact, str) else list(exact or [])
    is_maha = isinstance(distance, str) and distance == "mahalanobis"
    if is_maha and method != "nearest":
        raise ParameterError("distance='mahalanobis' is only available with method='nearest'.")
    if is_maha and (caliper is not None or cov_cal):
        raise ParameterError("A caliper on the Mahalanobis distance is not supported (as in "
                             "MatchIt); match on a propensity score to use caliper=.")
    if method in ("cem", "exact") and caliper_given is not None:
        raise ParameterError(f"The 'caliper' parameter does not apply to method={method!r}.")
    if replace and method == "optimal":
        raise ParameterError("replace=True is not available for method='optimal' (each control "
                             "is used once by definition); use method='nearest'.")
    dist_col = distance if isinstance(distance, str) and distance not in ("glm", "logit", "mahalanobis") else None
    needed = [treatment, *covariates, *exact_cols] + ([id] if id else []) \
        + ([subgroup] if subgroup else []) + list(cov_cal)
    check_columns(data, needed)
    if dist_col is not None and dist_col not in data.columns:
        fit_propensity(data.iloc[:0], np.empty(0), covariates, distance, link)  # raises, naming it
    clash = [c for c in RESERVED if c in data.columns and c != dist_col]
    if clash:
        raise ParameterError(
            f"The data already have column(s) {', '.join(repr(c) for c in clash)}, which match adds "
            f"to matched_data. Rename them first, e.g. df = df.rename(columns={{'{clash[0]}': "
            f"'{clash[0]}_input'}}).")
    if id is not None:
        # uniqueness is checked where the id is used: among rows whose order it decides
        if data[id].isna().any():
            raise data_error(id, "the id must not be missing", data[id].isna().to_numpy())

    # -- complete cases -----------------------------------------------------------------------------
    flow = Flow()
    if subgroup is None and len(exact_cols) == 1:
        subgroup = exact_cols[0]
    match_cols = [treatment, *covariates, *exact_cols, *cov_cal] + ([dist_col] if dist_col else [])
    complete = _check_missing(data, list(dict.fromkeys(match_cols)), missing)
    positions = np.arange(len(data))
    notes: list[str] = []
    if not complete.all():
        kept = data.loc[complete]
        flow = flow.add("complete cases", "missing values in matching columns", data, kept,
                        treatment=treatment, subgroup=subgroup)
        notes.append(f"{int((~complete).sum())} rows with missing values in the matching columns "
                     "were dropped (missing='drop'); see result.flow.")
        positions = positions[complete]
        work = kept
        block = None if block is None else block[complete]
        group = None if group is None else group[complete]
    else:
        work = data
    if isinstance(distance, (np.ndarray, pd.Series, list)) and not complete.all():
        distance = np.asarray(distance)[complete]
    t = _check_treatment(work, treatment)
    if method != "ipw" and (isinstance(distance, str) and distance in ("glm", "logit", "mahalanobis")):
        _check_constant(work, covariates)
    focal = ~t if estimand == "ATC" else t

    # -- distance -----------------------------------------------------------------------------------
    if method in ("cem", "exact") and (isinstance(distance, str) and distance == "glm"):
        prop: Propensity | None = None
        score = np.full(len(work), np.nan)
    else:
        prop = fit_propensity(work, t.astype(np.int8), covariates, distance, link)
        score = prop.score if prop.kind != "mahalanobis" else np.full(len(work), np.nan)
        if prop.notes:
            notes.extend(prop.notes)
    dist_text = "none (strata of the covariates)" if prop is None else prop.description

    counter = FlowCounter(t, None if subgroup is None else work[subgroup])

    # -- common support -------------------------------------------------------------------------------
    discarded = np.zeros(len(work), dtype=bool)
    if discard != "none":
        if prop is None or prop.kind == "mahalanobis":
            raise ParameterError("discard= needs a score (distance='glm', a column, an array or a "
                                 "classifier).")
        lo = max(score[t].min(), score[~t].min())
        hi = min(score[t].max(), score[~t].max())
        outside = (score < lo) | (score > hi)
        if discard == "control":
            outside &= ~t
        elif discard == "treated":
            outside &= t
        discarded = outside
        if discarded.any():
            flow = counter.add(flow, "common support",
                               f"outside the common support of the distance (discard={discard!r})",
                               counter.of_mask(), counter.of_mask(~discarded))

    # -- caliper --------------------------------------------------------------------------------------
    width: float | None = None
    if caliper is not None:
        if std_caliper:
            sd = float(np.std(score[~discarded], ddof=1))
            width = caliper * sd
            notes.append(f"caliper={caliper} is in standard deviations of the distance (SD over all "
                         f"{int((~discarded).sum())} units, n-1 denominator, as MatchIt): width "
                         f"{width:.6g} on the score scale.")
        else:
            width = float(caliper)
    cov_width: dict[str, float] = {}
    for c, v in cov_cal.items():
        x = work[c]
        if not pd.api.types.is_numeric_dtype(x) or pd.api.types.is_bool_dtype(x):
            raise DataError(f"Column '{c}': a caliper needs a numeric column; it has dtype "
                            f"{x.dtype}. Match exactly on it with exact=['{c}'] instead.",
                            column=c, rule="caliper column must be numeric")
        xv = x.to_numpy(dtype=float)
        if cal_std.get(c, True):
            cov_width[c] = v * float(np.std(xv[~discarded], ddof=1))
            notes.append(f"caliper on '{c}' = {v} standard deviations of '{c}' (SD over all "
                         f"{int((~discarded).sum())} units, n-1 denominator, as MatchIt's "
                         f"std.caliper = TRUE): width {cov_width[c]:.6g} in its units; pass "
                         f"std_caliper={{'{c}': False}} for raw units.")
        else:
            cov_width[c] = float(v)

    key_cols = list(dict.fromkeys([treatment, *covariates, *exact_cols]))
    rank_fn = make_rank_fn(work, id, key_cols)
    if id is None and method in ("nearest", "optimal"):
        notes.append("No id= given: ties in the score are broken on a stable hash of the matching "
                     "columns and treatment (then of the whole row), never on row order. Pass "
                     "id='your_id_column' to break them on the identifier.")
    if m_order is None and method == "nearest":
        m_order = "data" if (prop is not None and prop.kind == "mahalanobis") else "largest"
        if m_order == "largest":
            notes.append("m_order='largest' assumed: treated units choose in decreasing order of "
                         "the score (MatchIt's default).")
    if estimand == "ATT" and method != "ipw":
        notes.append("estimand='ATT': controls are matched to treated units; treated weights are 1.")

    strata, strata_labels = _strata(work, exact_cols)
    active = ~discarded
    settings: dict[str, Any] = dict(method=method, estimand=estimand, ratio=ratio, replace=replace,
                                    caliper=caliper_given, std_caliper=std_caliper, caliper_width=width,
                                    covariate_caliper_width=dict(cov_width),
                                    exact=tuple(exact_cols), m_order=m_order, id=id, link=link,
                                    distance_text=dist_text, discard=discard)

    pairs = Pairs.empty()
    sub = np.full(len(work), -1, dtype=np.int64)
    if method in ("nearest", "optimal"):
        _warn_short_supply(focal & active, ~focal & active, strata, strata_labels, exact_cols,
                           ratio, replace)
        all_active = bool(active.all())
        idx = np.arange(len(work)) if all_active else np.flatnonzero(active)

        def sub_rank(p: np.ndarray) -> np.ndarray:
            return rank_fn(idx[p])
        st = None if strata is None else (strata if all_active else strata[idx])
        if method == "nearest" and prop is not None and prop.kind == "mahalanobis":
            from impact.design._mahalanobis import mahalanobis_nearest
            X, _ = expand_covariates(work.iloc[idx], covariates)
            pl = mahalanobis_nearest(X, focal[idx], st, sub_rank, ratio=ratio, replace=replace,
                                     m_order=m_order or "data", rng=rng)
        elif method == "nearest":
            pl = greedy_nearest(score if all_active else score[idx],
                                focal if all_active else focal[idx], st,
                                rank_fn if all_active else sub_rank, ratio=ratio, replace=replace,
                                caliper=width, m_order=m_order or "largest", rng=rng,
                                block=None if block is None else block[idx],
                                group=None if group is None else group[idx],
                                covariate_caliper=None if not cov_width else (
                                    work[list(cov_width)].to_numpy(dtype=float)[idx],
                                    np.array(list(cov_width.values()))))
        else:
            from impact.design._optimal import optimal_pairs
            pl = optimal_pairs(score[idx], focal[idx], st, sub_rank, ratio=ratio, caliper=width,
                               max_edges=max_edges)
        nc = None if pl.no_candidate is None else idx[pl.no_candidate]
        pairs = Pairs(idx[pl.treated], idx[pl.control], pl.round, pl.distance, nc)
        w = weights_from_pairs(len(work), pairs.treated, pairs.control)
        pair_set, sub = _subclass_from_pairs(len(work), pairs, rank_fn)
        if replace:
            notes.append("replace=True: a control used in several matched sets appears once in "
                         "matched_data with its summed weight and subclass <NA>; use "
                         "result.get_matches() or result.matched_pairs for one row per set.")
    elif method in ("cem", "exact", "subclass"):
        from impact.design._strata import cem_strata, score_subclasses
        if method == "subclass":
            codes = score_subclasses(score, focal, active, subclasses, estimand)
            notes.append(f"{subclasses} subclasses on quantiles of the score among "
                         f"{'treated' if estimand == 'ATT' else 'control' if estimand == 'ATC' else 'all'} units"
                         " (MatchIt's default 6).")
        else:
            codes, cem_notes = cem_strata(work, covariates, active, cutpoints if method == "cem" else None,
                                          coarsen=method == "cem")
            notes.extend(cem_notes)
        if strata is not None:
            codes = np.where(codes >= 0, pd.factorize(pd.Series(codes).astype(str) + "|" +
                                                      pd.Series(strata).astype(str))[0], -1)
        codes[~active] = -1
        w = weights_from_subclass(codes, focal, "ATE" if estimand == "ATE" else "ATT")
        sub = _renumber_subclasses(codes, w > 0, rank_fn)
    else:  # ipw
        from impact.design._weighting import ipw_weights
        w, trimmed, wnotes = ipw_weights(prop.probability if prop is not None and prop.probability is not None
                                         else score, t, estimand, trim, stabilize)
        notes.extend(wnotes)
        if trimmed.any():
            flow = counter.add(flow, "trimmed", f"propensity score outside [{trim}, {1 - trim}]",
                               counter.of_mask(active), counter.of_mask(active & ~trimmed))
            discarded = discarded | trimmed
        w[discarded] = 0.0

    if (w[focal] > 0).sum() == 0 or (w[~focal] > 0).sum() == 0:
        why = (f" within the caliper (width {width:.4g} on the score scale)" if width is not None else
               " within the calipers" if cov_width else "")
        raise EstimationError(
            f"No unit could be matched{why}: {int((focal & active).sum())} "
            f"{'treated' if estimand != 'ATC' else 'control'} units, {int((~focal & active).sum())} "
            "candidates" + (f", exact on {', '.join(exact_cols)}" if exact_cols else "")
            + ". Widen the caliper, drop exact= columns or check the score.")

    kept_pos = np.flatnonzero(w > 0)
    flow, unmatched, reasons = _match_flow(
        flow, counter, method=method, focal=focal, active=active, kept_pos=kept_pos,
        strata=strata, exact_cols=exact_cols, has_caliper=width is not None or bool(cov_width),
        pairs=pairs,
        estimand=estimand)
    if len(unmatched):
        notes.append(f"{len(unmatched)} {'treated' if estimand != 'ATC' else 'control'} units found no "
                     f"match ({'; '.join(f'{r}: {n}' for r, n in reasons.items())}); their positions "
                     "and reasons are in result.unmatched.")

    # -- assemble -------------------------------------------------------------------------------------
    pos_of = positions
    if len(pairs.treated):
        pair_df = pd.DataFrame({
            "subclass": pair_set,
            "treated": work.index.to_numpy()[pairs.treated],
            "control": work.index.to_numpy()[pairs.control],
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
    kept = np.zeros(len(work), dtype=bool)
    kept[kept_pos] = True
    md = work.take(kept_pos)                      # a copy of the kept rows only
    md["distance"] = score[kept_pos]
    md["weights"] = w[kept_pos]
    sk = sub[kept_pos]
    if method == "ipw":
        md["subclass"] = pd.array([pd.NA] * len(kept_pos), dtype="Int64")
    elif (sk < 0).any():
        md["subclass"] = pd.array(np.where(sk < 0, 0, sk), dtype="Int64")
        md.loc[sk < 0, "subclass"] = pd.NA
    else:
        md["subclass"] = sk.astype(np.int64)
    sizes = _sample_sizes(t, w, discarded, kept_pos)
    unmatched = unmatched.assign(position=pos_of[unmatched["position"].to_numpy()])
    return MatchResult(method=method, estimand=estimand, treatment=treatment,
                       covariates=tuple(covariates), data=work, positions=pos_of, weights=w,
                       subclass=sub, distance=score, discarded=discarded, matched_pairs=pair_df,
                       flow=flow, sample_sizes=sizes, propensity=prop, settings=settings,
                       notes=tuple(dict.fromkeys(notes)), matched_data=md, unmatched=unmatched)


# reasons a focal unit is left unmatched, in the order the flow counts them
REASON_EXACT = "no {other} in the same exact stratum"
REASON_CALIPER = "no {other} within the caliper"
REASON_USED = "every {other} {where}already used by other {focal} units"


def _match_flow(flow: Flow, counter: FlowCounter, *, method: str, focal: np.ndarray,
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
    before = counter.of_mask(active)
    after = counter.of_positions(kept_pos)
    empty = pd.DataFrame({"position": np.empty(0, dtype=np.int64), "reason": pd.Series(dtype=object)})
    if method not in ("nearest", "optimal"):
        reason = {"cem": "stratum without both treated and controls",
                  "exact": "stratum without both treated and controls",
                  "subclass": "subclass without both treated and controls",
                  "ipw": "zero weight"}[method]
        return counter.add(flow, "weighted" if method == "ipw" else "matched", reason, before,
                           after), empty, {}
    f_name, o_name = ("treated", "control") if estimand != "ATC" else ("control", "treated unit")
    fi = 1 if estimand != "ATC" else 0            # row of the focal group in a state
    kept = np.zeros(n, dtype=bool)
    kept[kept_pos] = True
    unm = focal & active & ~kept
    no_stratum = np.zeros(n, dtype=bool)
    if strata is not None and unm.any():
        k = int(strata.max()) + 1
        n_other = np.bincount(strata[~focal & active], minlength=k)
        no_stratum = unm & (n_other == 0)[strata]
    no_cal = np.zeros(n, dtype=bool)
    if pairs.no_candidate is not None and len(pairs.no_candidate):
        no_cal[pairs.no_candidate] = True
        no_cal &= unm & ~no_stratum
    used = unm & ~no_stratum & ~no_cal
    texts = {
        "exact": REASON_EXACT.format(other=o_name),
        "caliper": REASON_CALIPER.format(other=o_name),
        "used": REASON_USED.format(other=o_name, focal=f_name,
                                   where="within the caliper " if has_caliper else
                                   ("of the stratum " if exact_cols else "")),
    }
    rows, reasons = [], {}
    state = before
    for step, mask, key in (("exact stratum", no_stratum, "exact"), ("caliper", no_cal, "caliper")):
        if mask.any():
            pos = np.flatnonzero(mask)
            nxt = state.copy()
            nxt[fi] -= counter.of_positions(pos)[fi]
            flow = counter.add(flow, step, texts[key], state, nxt)
            state = nxt
            rows.append(pd.DataFrame({"position": pos, "reason": texts[key]}))
            reasons[texts[key]] = len(pos)
    if (state[1 - fi] != after[1 - fi]).any():
        nxt = state.copy()
        nxt[1 - fi] = after[1 - fi]
        step = "controls not selected" if estimand != "ATC" else "treated not selected"
        flow = counter.add(flow, step,
                           f"not chosen by any {f_name} unit", state, nxt)
        state = nxt
    if used.any():
        pos = np.flatnonzero(used)
        rows.append(pd.DataFrame({"position": pos, "reason": texts["used"]}))
        reasons[texts["used"]] = len(pos)
        reason = texts["used"]
    else:
        reason = f"every remaining {f_name} unit matched"
    flow = counter.add(flow, "matched", reason, state, after)
    unmatched = (pd.concat(rows, ignore_index=True).sort_values("position", kind="stable")
                 .reset_index(drop=True) if rows else empty)
    return flow, unmatched, reasons


def _strata(work: pd.DataFrame, exact_cols: Sequence[str]) -> tuple[np.ndarray | None, list[str]]:
    if not exact_cols:
        return None, []
    if len(exact_cols) == 1:
        codes, uniques = pd.factorize(work[exact_cols[0]], sort=True)
        return codes.astype(np.int64), [str(u) for u in uniques]
    g = work.groupby(list(exact_cols), sort=True, observed=True, dropna=False)
    codes = g.ngroup().to_numpy().astype(np.int64)
    labels = [", ".join(map(str, k if isinstance(k, tuple) else (k,))) for k in g.groups.keys()]
    return codes, labels


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


def _warn_short_supply(focal: np.ndarray, other: np.ndarray, strata: np.ndarray | None,
                       labels: list[str], exact_cols: list[str], ratio: int, replace: bool) -> None:
    if strata is None:
        nf, no = int(focal.sum()), int(other.sum())
        if not replace and no < nf * ratio:
            warnings.warn(f"Fewer candidates ({no}) than treated units x ratio ({nf} x {ratio}); not "
                          "every treated unit can get all its matches without replacement.",
                          ImpactWarning, stacklevel=4)
        return
    k = strata.max() + 1
    nf = np.bincount(strata[focal], minlength=k)
    no = np.bincount(strata[other], minlength=k)
    empty = (nf > 0) & (no == 0)
    if empty.any():
        lv = [labels[i] for i in np.flatnonzero(empty)]
        warnings.warn(f"Exact stratum/strata of {', '.join(exact_cols)} with no candidate controls: "
                      f"{'; '.join(lv[:5])}{' ...' if len(lv) > 5 else ''} ({int(nf[empty].sum())} "
                      "treated units cannot be matched).", ImpactWarning, stacklevel=4)
    short = (nf > 0) & (no > 0) & (no < nf * ratio) & (not replace)
    if short.any():
        warnings.warn(f"{int(short.sum())} exact strata of {', '.join(exact_cols)} have fewer "
                      "candidates than treated units x ratio; some treated units will get fewer "
                      "matches.", ImpactWarning, stacklevel=4)


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
