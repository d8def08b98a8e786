"""``impact.match``: one verb for every matching and weighting design.

The verb declares its parameters (a constraint table), then runs the engine
(:mod:`impact.design._engine`): :func:`make_spec`, :func:`prepare`, the method from the table
:data:`impact.design._methods.METHODS` (one module per method), and :func:`assemble`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Integral, Real
from typing import Any, Literal

import numpy as np
import pandas as pd

from impact._validation import Constraint, InstanceOf, Interval, Options, validate_params
from impact.design._engine import assemble, make_rank_fn, make_spec, prepare, weights_from_pairs
from impact.design._methods import METHOD_NAMES, method_for
from impact.design._result import MatchResult

__all__ = ["match", "make_rank_fn", "weights_from_pairs", "MATCH_PARAMS"]

Method = Literal["nearest", "optimal", "cem", "exact", "subclass", "ipw"]
Estimand = Literal["ATT", "ATC", "ATE", "ATO"]
MOrder = Literal["largest", "smallest", "random", "data"]
Discard = Literal["none", "both", "control", "treated"]
Missing = Literal["error", "drop"]
Link = Literal["logit", "linear_logit"]


class _PositiveOrMapping(Interval):
    """A number > 0, or a mapping ``{"distance" or column: width}`` (its entries are checked one by one)."""

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, Mapping) or super().is_satisfied_by(value)

    def describe(self) -> str:
        return super().describe() + " or a mapping {'distance' or column: width > 0}"


COLUMNS = "columns"  # a name, or a list, tuple, pandas Index or 1-D array of names


DATA = InstanceOf(pd.DataFrame, "a pandas DataFrame")
MAPPING = InstanceOf(Mapping, "a mapping")
CALIPER: Constraint = _PositiveOrMapping(Real, 0, None, closed="neither")

#: the parameter table of :func:`match` (shared with :func:`match_riskset` where the names agree)
MATCH_PARAMS: dict[str, list[Any]] = {
    "data": [DATA],
    "treatment": ["column"],
    "covariates": [COLUMNS],
    "method": [Options(METHOD_NAMES)],
    "link": [Options(["logit", "linear_logit"])],
    "estimand": [Options(["ATT", "ATC", "ATE", "ATO"])],
    "caliper": [CALIPER, None],
    "std_caliper": ["boolean", InstanceOf(Mapping, "a mapping {column: True or False}")],
    "exact": [COLUMNS, None],
    "ratio": [Interval(Integral, 1, None)],
    "replace": ["boolean"],
    "m_order": [Options(["largest", "smallest", "random", "data"]), None],
    "discard": [Options(["none", "both", "control", "treated"])],
    "id": ["column", None],
    "missing": [Options(["error", "drop"])],
    "subgroup": ["column", None],
    "random_state": ["random_state"],
    "subclasses": [Interval(Integral, 1, None)],
    "cutpoints": [InstanceOf(Mapping, "a mapping {column: number of bins or cut points}"), None],
    "trim": [Interval(Real, 0, 0.5, closed="neither"), None],
    "stabilize": ["boolean"],
    "max_edges": [Interval(Integral, 1, None)],
}


@validate_params(MATCH_PARAMS)
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
        ``"glm"`` (default): logistic regression, fitted as R's ``glm``. A column name or a 1-D array: your
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
        Turned into one generator (``numpy.random.default_rng``), used by ``m_order="random"``; an
        unfitted scikit-learn ``distance=`` estimator whose ``random_state`` is ``None`` is cloned
        and seeded from a child seed of it (``SeedSequence.spawn``), so its score is reproducible.
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
    spec = make_spec("match", method=method, distance=distance, link=link, estimand=estimand,
                     caliper=caliper, std_caliper=std_caliper, exact=exact, ratio=ratio,
                     replace=replace, m_order=m_order, discard=discard, id=id, missing=missing,
                     subgroup=subgroup, random_state=random_state, subclasses=subclasses,
                     cutpoints=cutpoints, trim=trim, stabilize=stabilize, max_edges=max_edges)
    design = prepare(data, treatment, covariates, spec)
    return MatchResult(**assemble(design, method_for(spec)(design)))
