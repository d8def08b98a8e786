"""The goal kinds. Each goal checks its own fields when it is made, judges itself against the records
and says how its target and measure are written in a published table.

A judged goal is a read-only record (a mapping): ``goal``, ``kind``, ``target``, ``measured``,
``judgement``, ``n`` (people the measure rests on), ``counts`` (the counts of people it rests on,
for suppression), ``rule_key`` and ``rule_fields`` (the judgement rule), ``text``, and what the kind
needs to be displayed (``rates``, ``changes``, ``manual``), and ``parts``: the labels of the
disjoint cells of people its counts are made of (for the cell-key method: the people behind each
part travel beside the record, never in it, as :attr:`GoalFulfilment.cells`).

Each kind also judges itself again from perturbed part counts (``_from_parts``): with the cell-key
method the measure, the shares and the judgement all come from the published (perturbed) counts, so
that a verdict never contradicts a number in the published table.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from numbers import Real
from typing import Any, ClassVar, Literal, Union

import numpy as np
import pandas as pd

from impact._errors import ParameterError, data_error
from impact._validation import InstanceOf, Interval, Options, check_params
from impact.labels import Lang, format_number, format_percent, has_label, label
from impact.monitor._common import COLUMN, COLUMN_OR_NONE, text_of

Judgement = Literal["achieved", "partly_achieved", "not_achieved"]
JUDGEMENTS: tuple[str, ...] = ("achieved", "partly_achieved", "not_achieved")

Text = Union[str, Mapping[str, str], None]

_NAME: list[Any] = [InstanceOf(str, "a str")]
_TEXT: list[Any] = [InstanceOf((str, Mapping), "a str or a mapping of language to str"), None]
_VALUES: list[Any] = [InstanceOf(tuple, "a tuple of codes")]
_PARTLY: list[Any] = [Interval(Real, 0, 1)]


def _as_tuple(values: Any) -> tuple:
    """``("a", "b")`` from a list or tuple; a single value becomes a 1-tuple (``"to_work"`` -> ``("to_work",)``)."""
    if isinstance(values, (list, tuple)):
        return tuple(values)
    return (values,)


def _truthy(col: pd.Series) -> pd.Series:
    """True where a value is true; missing values are False (callers exclude them beforehand)."""
    present = col.notna().to_numpy()
    vals = col.to_numpy(dtype=object)
    return pd.Series([bool(v) if p else False for v, p in zip(vals, present, strict=True)], index=col.index,
                     dtype=bool)


def _subset(data: pd.DataFrame, column: str | None, values: Sequence[Any]) -> pd.Series:
    if column is None:
        return pd.Series(True, index=data.index)
    return data[column].isin(list(values)).astype(bool)


def _check_target(goal: str, kind: str, value: Any) -> None:
    """A goal's target checked against its kind, before the generic checks: text targets, 90 meant
    as 90 %, 1.5 or -5 people get errors that say what to write instead."""
    where = f"The 'target' parameter of {goal}"
    if isinstance(value, str):
        number = value.strip().replace("\u00a0", "").replace(" ", "").replace("%", "").replace(",", ".")
        hint = ""
        try:
            x = float(number)
            if kind == "share":
                hint = f" Write target = {x / 100 if '%' in value or x > 1 else x:g} (a share, no quotes)."
            else:
                hint = f" Write target = {x:g} (a number, no quotes)."
        except ValueError:
            pass
        raise ParameterError(f"{where} must be a number, not text. Got {value!r}.{hint}")
    if isinstance(value, bool) or not isinstance(value, Real) or not np.isfinite(float(value)):
        return  # the generic check names the type
    x = float(value)
    if kind == "share" and 2 <= x <= 100:  # 90 meant as 90 % (1.5 is left to the generic "<= 1")
        raise ParameterError(f"{where} must be <= 1. Got {value!r}. A share target is a proportion between 0 "
                             f"and 1: give {x / 100:g} for {x:g} %.")
    if kind == "count" and 0 <= x and (x < 1 or not x.is_integer()):  # negative: the generic '>= 0' message
        raise ParameterError(f"{where} must be a whole number of people >= 1. Got {value!r}.")


def _judge_ratio(measured: float, target: float, partly: float) -> Judgement:
    if measured >= target:
        return "achieved"
    if measured >= partly * target:
        return "partly_achieved"
    return "not_achieved"


class JudgedGoal(Mapping[str, Any]):
    """A judged goal: a read-only mapping (it can be pickled, unlike a ``MappingProxyType``)."""

    __slots__ = ("_values",)
    _values: dict[str, Any]

    def __init__(self, values: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_values", dict(values))

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{type(self).__name__} is read-only")

    def __getstate__(self) -> dict[str, Any]:
        return self._values

    def __setstate__(self, state: dict[str, Any]) -> None:
        object.__setattr__(self, "_values", dict(state))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._values!r})"


def _record(goal: Any, **values: Any) -> dict[str, Any]:
    rec: dict[str, Any] = dict(goal=goal.name, kind=goal.kind, target=np.nan, measured=np.nan, judgement=None,
                               n=np.nan, counts=(), rule_key="", rule_fields={}, text=goal.text, parts=())
    rec.update(values)
    return rec


#: the key of a judged goal's record that carries the people behind each part; goal_fulfilment takes it out
CELLS = "_cells"


def _people(ids: pd.Series, mask: Any) -> np.ndarray:
    """The distinct identifiers of the rows in ``mask``."""
    return pd.unique(ids[np.asarray(mask, dtype=bool)].to_numpy())


def _without(people: np.ndarray, others: np.ndarray) -> np.ndarray:
    """``people`` not in ``others`` (in their order; identifiers of any type, not sorted)."""
    drop = set(others.tolist())
    return np.array([p for p in people.tolist() if p not in drop], dtype=object)


def _by_gender(ids: pd.Series, sel: pd.Series, gender: pd.Series | None, prefix: str = "") -> dict[str, np.ndarray]:
    """The people of ``sel`` split by gender (``women``, ``men``; each person by the first of its rows),
    or all of them as one part when there is no gender column."""
    if gender is None:
        return {f"{prefix}all": _people(ids, sel)}
    rows = np.asarray(sel, dtype=bool)
    first = pd.Series(gender[rows].to_numpy()).groupby(ids[rows].to_numpy(), sort=False).first()
    return {f"{prefix}{g}": first.index[(first == g).to_numpy()].to_numpy() for g in ("women", "men")}


def _with_cells(rec: dict[str, Any], cells: Mapping[str, Any]) -> dict[str, Any]:
    """``rec`` with its parts named and the people behind them beside it (under :data:`CELLS`)."""
    rec["parts"] = tuple(cells)
    rec[CELLS] = {k: np.asarray(v, dtype=object) for k, v in cells.items()}
    return rec


def _balance(gap: float, tolerance: float, partly: float) -> Judgement:
    if np.isnan(gap):
        return "not_achieved"
    return "achieved" if gap <= tolerance + 1e-12 else "partly_achieved" if gap <= partly + 1e-12 else "not_achieved"


def _pct(v: float, lang: Lang, decimals: int = 0) -> str:
    return format_percent(v, lang, decimals)


def _points(v: float, lang: Lang) -> str:
    unit = " procentenheter" if lang == "sv" else " percentage points"
    return format_number(100 * v, lang) + unit


def _small(counts: Sequence[int], threshold: int) -> bool:
    return any(0 < c < threshold for c in counts)


@dataclass(frozen=True)
class CountGoal:
    """At least ``target`` people (optionally: with ``column`` in ``values``); ``target`` is a whole number >= 1.

    "4,000 residents have participated": ``CountGoal("participants", 4000)``;
    "1,800 went to work or studies": ``CountGoal("to_work_or_studies", 1800, column="outcome",
    values=("to_work", "to_studies"))``. Judgement: achieved if the count reaches the target,
    partly achieved if it reaches ``partly`` times the target.

    Examples
    --------
    >>> CountGoal("to_work", 1800, column="outcome", values="to_work").values
    ('to_work',)
    """

    name: str
    target: float
    column: str | None = None
    values: tuple = ()
    partly: float = 0.75
    text: Text = None
    kind: ClassVar[str] = "count"

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", _as_tuple(self.values))  # construction: a list becomes a tuple
        _check_target("CountGoal", "count", self.target)
        check_params("CountGoal", {"name": _NAME, "target": [Interval(Real, 0, None)], "column": COLUMN_OR_NONE,
                                   "values": _VALUES, "partly": _PARTLY, "text": _TEXT}, vars(self))

    def columns(self) -> list[str]:
        """The data columns the goal reads."""
        return [self.column] if self.column else []

    def _judge(self, data: pd.DataFrame, ids: pd.Series, gender: pd.Series | None) -> tuple[dict[str, Any], list[str]]:
        sel = _subset(data, self.column, self.values)
        n = int(ids[sel].nunique())
        rec = _record(self, target=float(self.target), measured=float(n), n=float(n), counts=(n,),
                      judgement=_judge_ratio(n, self.target, self.partly), rule_key="rule_count",
                      rule_fields=dict(partly=self.partly))
        # by gender: the same people as a gender-balance goal over the same rows, so the same noise
        return _with_cells(rec, _by_gender(ids, sel, gender)), []

    @staticmethod
    def _from_parts(rec: Mapping[str, Any], n: Mapping[str, int]) -> dict[str, Any]:
        total = int(sum(n[p] for p in rec["parts"]))
        partly = rec["rule_fields"]["partly"]
        return dict(measured=float(total), n=float(total), counts=(total,),
                    judgement=_judge_ratio(total, rec["target"], partly))

    @staticmethod
    def _show(rec: Mapping[str, Any], lang: Lang, threshold: int, mark: str) -> tuple[str, str, str]:
        target = format_number(rec["target"], lang)
        measured = mark if _small(rec["counts"], threshold) else format_number(rec["measured"], lang)
        return target, measured, target


@dataclass(frozen=True)
class ShareGoal:
    """At least ``target`` (a proportion in [0, 1]: 0.9 for 90 %) of the people ``among`` have ``column`` in ``values``.

    "75% of those referred by the social insurance agency moved on to enhanced cooperation":
    ``ShareGoal("fk_enhanced_cooperation", 0.75, column="enhanced_cooperation",
    among="referred_by_fk")``. Partly achieved at ``partly`` times the target.

    Examples
    --------
    >>> ShareGoal("fk", 1.5, column="enhanced_cooperation")
    Traceback (most recent call last):
    ...
    impact._errors.ParameterError: The 'target' parameter of ShareGoal must be <= 1. Got 1.5.
    """

    name: str
    target: float
    column: str
    values: tuple = (True,)
    among: str | None = None
    among_values: tuple = (True,)
    partly: float = 0.75
    text: Text = None
    kind: ClassVar[str] = "share"

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", _as_tuple(self.values))  # construction: a list becomes a tuple
        object.__setattr__(self, "among_values", _as_tuple(self.among_values))
        _check_target("ShareGoal", "share", self.target)
        check_params("ShareGoal", {"name": _NAME, "target": [Interval(Real, 0, 1)], "column": COLUMN,
                                   "values": _VALUES, "among": COLUMN_OR_NONE, "among_values": _VALUES,
                                   "partly": _PARTLY, "text": _TEXT}, vars(self))

    def columns(self) -> list[str]:
        """The data columns the goal reads."""
        return [self.column] + ([self.among] if self.among else [])

    def _judge(self, data: pd.DataFrame, ids: pd.Series, gender: pd.Series | None) -> tuple[dict[str, Any], list[str]]:
        among = _subset(data, self.among, self.among_values)
        missing = (among & data[self.column].isna()).to_numpy()
        if missing.any():
            raise data_error(self.column, f"values used by goal '{self.name}' must not be missing", missing)
        hit = data.loc[among.to_numpy(), self.column].isin(list(self.values))
        denom = int(ids[among].nunique())
        num = int(ids[among][hit.to_numpy()].nunique())
        share = num / denom if denom else np.nan
        rec = _record(self, target=float(self.target), measured=share, n=float(denom), counts=(num, denom - num),
                      judgement="not_achieved" if denom == 0 else _judge_ratio(share, self.target, self.partly),
                      rule_key="rule_share", rule_fields=dict(partly=self.partly))
        yes = _people(ids[among], hit.to_numpy())
        no = _without(_people(ids, among), yes)
        return _with_cells(rec, {"yes": yes, "no": no}), []

    @staticmethod
    def _from_parts(rec: Mapping[str, Any], n: Mapping[str, int]) -> dict[str, Any]:
        yes, no = int(n["yes"]), int(n["no"])
        denom = yes + no
        share = yes / denom if denom else np.nan
        partly = rec["rule_fields"]["partly"]
        return dict(measured=share, n=float(denom), counts=(yes, no),
                    judgement="not_achieved" if denom == 0 else _judge_ratio(share, rec["target"], partly))

    @staticmethod
    def _show(rec: Mapping[str, Any], lang: Lang, threshold: int, mark: str) -> tuple[str, str, str]:
        target = _pct(rec["target"], lang)
        measured = mark if _small(rec["counts"], threshold) else _pct(rec["measured"], lang)
        return target, measured, target


@dataclass(frozen=True)
class GenderBalanceGoal:
    """An even split of women and men, within ``tolerance``.

    ``measure="composition"`` (default): the share of women among the people counted (all, or
    those with ``column`` in ``values``, e.g. those who reached work) is within
    ``0.5 ± tolerance``. ``measure="rates"``: the share of women who reach ``column`` in ``values``
    and the share of men who do differ by at most ``tolerance``. Partly achieved within
    ``partly_tolerance`` (default twice ``tolerance``).

    Examples
    --------
    >>> GenderBalanceGoal("to_work", measure="rates")
    Traceback (most recent call last):
    ...
    impact._errors.ParameterError: Goal 'to_work' with measure='rates' needs a column and values (e.g. column='outcome', values=('to_work',)).
    """

    name: str
    tolerance: float = 0.10
    column: str | None = None
    values: tuple = ()
    measure: Literal["composition", "rates"] = "composition"
    partly_tolerance: float | None = None
    text: Text = None
    kind: ClassVar[str] = "gender_balance"

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", _as_tuple(self.values))  # construction: a list becomes a tuple
        for name in ("tolerance", "partly_tolerance"):
            v = getattr(self, name)
            if isinstance(v, Real) and not isinstance(v, bool) and 1 < float(v) <= 100:
                raise ParameterError(f"The '{name}' parameter of GenderBalanceGoal must be a share between 0 and 1. "
                                     f"Got {v!r}: give {float(v) / 100:g} for {float(v):g} percentage points.")
        check_params("GenderBalanceGoal", {
            "name": _NAME, "tolerance": [Interval(Real, 0, 1)], "column": COLUMN_OR_NONE, "values": _VALUES,
            "measure": [Options(["composition", "rates"])], "partly_tolerance": [Interval(Real, 0, 1), None],
            "text": _TEXT}, vars(self))
        if self.measure == "rates" and self.column is None:
            raise ParameterError(f"Goal '{self.name}' with measure='rates' needs a column and values "
                                 "(e.g. column='outcome', values=('to_work',)).")

    def columns(self) -> list[str]:
        """The data columns the goal reads."""
        return [self.column] if self.column else []

    def _judge(self, data: pd.DataFrame, ids: pd.Series, gender: pd.Series | None) -> tuple[dict[str, Any], list[str]]:
        if gender is None:
            raise ParameterError(f"Goal '{self.name}' needs a gender column; pass gender=... to goal_fulfilment.")
        partly = self.partly_tolerance if self.partly_tolerance is not None else 2 * self.tolerance
        sel = _subset(data, self.column, self.values)
        w = int(ids[sel & (gender == "women")].nunique())
        m = int(ids[sel & (gender == "men")].nunique())
        if self.measure == "composition":
            share = w / (w + m) if w + m else np.nan
            gap = abs(share - 0.5)
            rec = _record(self, target=0.5, measured=share, n=float(w + m), counts=(w, m),
                          rule_key="rule_balance_composition")
            cells = _by_gender(ids, sel, gender)
        else:
            nw, nm = int(ids[gender == "women"].nunique()), int(ids[gender == "men"].nunique())
            rw, rm = (w / nw if nw else np.nan), (m / nm if nm else np.nan)
            gap = abs(rw - rm)
            rec = _record(self, target=0.0, measured=rw - rm, n=float(nw + nm), counts=(w, m, nw - w, nm - m),
                          rule_key="rule_balance_rates", rates=(rw, rm))
            cells = {}
            for g in ("women", "men"):
                yes = _people(ids, sel & (gender == g))
                cells[f"{g}_yes"] = yes
                cells[f"{g}_no"] = _without(_people(ids, gender == g), yes)
        rec["rule_fields"] = dict(tolerance=self.tolerance, partly=partly)
        rec["judgement"] = _balance(gap, self.tolerance, partly)
        return _with_cells(rec, cells), []

    @staticmethod
    def _from_parts(rec: Mapping[str, Any], n: Mapping[str, int]) -> dict[str, Any]:
        f = rec["rule_fields"]
        if rec["rule_key"] == "rule_balance_composition":
            w, m = int(n["women"]), int(n["men"])
            share = w / (w + m) if w + m else np.nan
            return dict(measured=share, n=float(w + m), counts=(w, m),
                        judgement=_balance(abs(share - 0.5), f["tolerance"], f["partly"]))
        wy, wn, my, mn = (int(n[k]) for k in ("women_yes", "women_no", "men_yes", "men_no"))
        rw = wy / (wy + wn) if wy + wn else np.nan
        rm = my / (my + mn) if my + mn else np.nan
        return dict(measured=rw - rm, n=float(wy + wn + my + mn), counts=(wy, my, wn, mn), rates=(rw, rm),
                    judgement=_balance(abs(rw - rm), f["tolerance"], f["partly"]))

    @staticmethod
    def _show(rec: Mapping[str, Any], lang: Lang, threshold: int, mark: str) -> tuple[str, str, str]:
        tolerance = format_number(100 * rec["rule_fields"]["tolerance"], lang)
        if rec["rule_key"] == "rule_balance_composition":
            target = ("50 % ± " if lang == "sv" else "50% ± ") + tolerance
            measured = f"{_pct(rec['measured'], lang)} {label('women_share', lang)}"
        else:
            target = ("skillnad ≤ " if lang == "sv" else "difference ≤ ") + tolerance
            rw, rm = rec["rates"]
            measured = (f"{label('women', lang).lower()} {_pct(rw, lang)}, "
                        f"{label('men', lang).lower()} {_pct(rm, lang)}")
        return target, mark if _small(rec["counts"], threshold) else measured, ""


def _unpaired_note(goal: str, dropped: int) -> list[str]:
    return [f"goal '{goal}': {dropped} people without both a start and an end value (e.g. still "
            "participating) are not counted"] if dropped else []


def _mcnemar(start: np.ndarray, end: np.ndarray) -> dict[str, Any]:
    """McNemar's exact test on paired yes/no states of the same people (statsmodels).

    ``fell``: had the state at start, not at end; ``rose``: the other way. The test is the exact
    binomial test of ``fell`` against ``fell + rose`` with probability 1/2 (two-sided).
    """
    from statsmodels.stats.contingency_tables import mcnemar

    s, e = start.astype(bool), end.astype(bool)
    table = [[int((s & e).sum()), int((s & ~e).sum())], [int((~s & e).sum()), int((~s & ~e).sum())]]
    return _mcnemar_counts(int(s.size), int(s.sum()), int(e.sum()), table[0][1], table[1][0])


def _mcnemar_counts(n_pairs: int, at_start: int, at_end: int, fell: int, rose: int) -> dict[str, Any]:
    """McNemar's exact test from its counts: only ``fell`` and ``rose`` enter it (the binomial test)."""
    from statsmodels.stats.contingency_tables import mcnemar

    res = mcnemar([[0, fell], [rose, 0]], exact=True)
    return dict(n_pairs=n_pairs, at_start=at_start, at_end=at_end, fell=fell, rose=rose,
                statistic=float(res.statistic), p_value=float(res.pvalue), method="McNemar exact")


@dataclass(frozen=True)
class BeforeAfterGoal:
    """Fewer people have each state at the end than at the start, counted on the same people.

    ``pairs`` maps a state to its (start, end) column, e.g.
    ``{"social_assistance": ("social_assistance_start", "social_assistance_end")}``. Only people
    with both columns observed are counted (the others are reported in the notes). Each state is
    tested on the same people with McNemar's exact test (paired: who left the state against who
    entered it), for everyone and, when there is a gender column, for women and men; the record's
    ``tests`` holds one row per state and group (``n_pairs``, ``at_start``, ``at_end``, ``fell``,
    ``rose``, ``statistic``, ``p_value``, ``method``). Achieved if every count fell and every fall
    is significant at ``alpha`` for everyone; partly achieved if some count fell.

    Examples
    --------
    >>> BeforeAfterGoal("fewer", pairs={"sa": ["sa_start", "sa_end"]}).columns()
    ['sa_start', 'sa_end']
    """

    name: str
    pairs: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    text: Text = None
    alpha: float = 0.05
    kind: ClassVar[str] = "before_after"

    def __post_init__(self) -> None:
        check_params("BeforeAfterGoal", {"name": _NAME, "text": _TEXT,
                                         "pairs": [InstanceOf(Mapping, "a mapping of state to (start, end) columns")],
                                         "alpha": [Interval(Real, 0, 1, closed="neither")]},
                     vars(self))
        pairs = {}
        for state, pair in self.pairs.items():
            if not (isinstance(pair, (list, tuple)) and len(pair) == 2 and all(isinstance(c, str) for c in pair)):
                raise ParameterError(f"Goal '{self.name}': the pair of state {state!r} must be two column names "
                                     f"(start, end). Got {pair!r}.")
            pairs[str(state)] = (pair[0], pair[1])
        if not pairs:
            raise ParameterError(f"Goal '{self.name}' has no pairs of (start, end) columns.")
        object.__setattr__(self, "pairs", pairs)  # construction: lists become (start, end) tuples

    def columns(self) -> list[str]:
        """The data columns the goal reads."""
        return [c for pair in self.pairs.values() for c in pair]

    def _judge(self, data: pd.DataFrame, ids: pd.Series, gender: pd.Series | None) -> tuple[dict[str, Any], list[str]]:
        both = pd.Series(True, index=data.index)
        for before, after in self.pairs.values():
            both &= data[before].notna() & data[after].notna()
        dropped = int(ids[~both].nunique())
        keep = both.to_numpy()
        person = ids[keep].to_numpy()
        groups: dict[str, np.ndarray] = {}
        if gender is not None:
            g_person = pd.Series(gender[keep].to_numpy()).groupby(person, sort=True).first()
            groups = {g: (g_person == g).to_numpy() for g in ("women", "men")}
        counts: list[int] = []
        fell: list[bool] = []
        changes: dict[str, tuple[int, int]] = {}
        tests: list[dict[str, Any]] = []
        significant = True
        cells: dict[str, np.ndarray] = {}
        for state, (before, after) in self.pairs.items():
            # one pair per person: the state at start (any of the person's rows) and at the end
            by_person = _truthy(data.loc[keep, before]).groupby(person, sort=True).any()
            who = by_person.index.to_numpy(dtype=object)
            start = by_person.to_numpy()
            end = _truthy(data.loc[keep, after]).groupby(person, sort=True).any().to_numpy()
            b, a = int(start.sum()), int(end.sum())
            counts += [b, a]
            fell.append(a < b)
            changes[state] = (b, a)
            for group, rows in [("all", np.ones(start.size, dtype=bool)), *groups.items()]:
                test = _mcnemar(start[rows], end[rows])
                tests.append(dict(state=state, group=group, **test))
                if group == "all":
                    significant &= a < b and test["p_value"] < self.alpha
            cells[f"{state}:start"] = who[start]
            cells[f"{state}:end"] = who[end]
            cells[f"{state}:fell"] = who[start & ~end]
            cells[f"{state}:rose"] = who[~start & end]
        judgement = ("achieved" if all(fell) and significant else "partly_achieved" if any(fell)
                     else "not_achieved")
        rec = _record(self, measured=float(sum(a for _, a in changes.values()) - sum(b for b, _ in changes.values())),
                      n=float(ids[both].nunique()), counts=tuple(counts), changes=changes,
                      tests=tuple(tests), judgement=judgement, rule_key="rule_before_after",
                      rule_fields=dict(alpha=self.alpha))
        cells["pairs"] = _people(ids, both)
        cells["unpaired"] = _people(ids, ~both)
        return _with_cells(rec, cells), self._notes(dropped)

    def _notes(self, dropped: int) -> list[str]:
        return _unpaired_note(self.name, dropped)

    @staticmethod
    def _from_parts(rec: Mapping[str, Any], n: Mapping[str, int]) -> dict[str, Any]:
        alpha = rec["rule_fields"]["alpha"]
        changes: dict[str, tuple[int, int]] = {}
        tests = []
        counts: list[int] = []
        significant = True
        for state in rec["changes"]:
            b, a = int(n[f"{state}:start"]), int(n[f"{state}:end"])
            test = _mcnemar_counts(int(n["pairs"]), b, a, int(n[f"{state}:fell"]), int(n[f"{state}:rose"]))
            tests.append(dict(state=state, group="all", **test))  # the groups' tests are not published
            changes[state] = (b, a)
            counts += [b, a]
            significant &= a < b and test["p_value"] < alpha
        fell = [a < b for b, a in changes.values()]
        judgement = ("achieved" if all(fell) and significant else "partly_achieved" if any(fell)
                     else "not_achieved")
        return dict(measured=float(sum(a - b for b, a in changes.values())), n=float(n["pairs"]),
                    counts=tuple(counts), changes=changes, tests=tuple(tests), judgement=judgement,
                    dropped=int(n["unpaired"]))

    @staticmethod
    def _show(rec: Mapping[str, Any], lang: Lang, threshold: int, mark: str) -> tuple[str, str, str]:
        target = "färre än vid start" if lang == "sv" else "fewer than at start"
        p_all = {t["state"]: t for t in rec.get("tests", ()) if t["group"] == "all"}
        parts = []
        for state, (b, a) in rec["changes"].items():  # each count hidden on its own
            name = label(state, lang) if has_label(state) else state
            bs = mark if 0 < b < threshold else format_number(b, lang)
            as_ = mark if 0 < a < threshold else format_number(a, lang)
            text = f"{name}: {bs} → {as_}"
            test = p_all.get(state)
            # the p-value rests on who left and who entered: hidden with any small count it rests on
            if test is not None and not _small((b, a, test["fell"], test["rose"]), threshold):
                pv = float(test["p_value"])   # below the shown precision: "p < 0.001", never "p = 0.000"
                text += (f" (p < {format_number(0.001, lang, 3)})" if pv < 0.0005
                         else f" (p = {format_number(pv, lang, 3)})")
            parts.append(text)
        return target, "; ".join(parts), ""


@dataclass(frozen=True)
class ManualGoal:
    """A goal the evaluator judges (e.g. "a method guide has been produced and is being spread").

    Examples
    --------
    >>> ManualGoal("method_support", "achieved").judgement
    'achieved'
    """

    name: str
    judgement: Judgement
    measured: str | Mapping[str, str] = ""
    target: str | Mapping[str, str] = ""
    text: Text = None
    kind: ClassVar[str] = "manual"

    def __post_init__(self) -> None:
        free = [InstanceOf((str, Mapping), "a str or a mapping of language to str")]
        check_params("ManualGoal", {"name": _NAME, "judgement": [Options(JUDGEMENTS)], "measured": free,
                                    "target": free, "text": _TEXT}, vars(self))

    def columns(self) -> list[str]:
        """The data columns the goal reads (none)."""
        return []

    def _judge(self, data: pd.DataFrame, ids: pd.Series, gender: pd.Series | None) -> tuple[dict[str, Any], list[str]]:
        return _record(self, judgement=self.judgement, rule_key="rule_manual",
                       manual=(self.measured, self.target)), []

    @staticmethod
    def _from_parts(rec: Mapping[str, Any], n: Mapping[str, int]) -> dict[str, Any]:
        return {}

    @staticmethod
    def _show(rec: Mapping[str, Any], lang: Lang, threshold: int, mark: str) -> tuple[str, str, str]:
        m, t = rec["manual"]
        return (text_of(t, "", lang) if t else ""), (text_of(m, "", lang) if m else ""), ""


Goal = Union[CountGoal, ShareGoal, GenderBalanceGoal, BeforeAfterGoal, ManualGoal]
GOAL_CLASSES = (CountGoal, ShareGoal, GenderBalanceGoal, BeforeAfterGoal, ManualGoal)
#: kind -> the class that judges it and shows it
BY_KIND: Mapping[str, Any] = {cls.kind: cls for cls in GOAL_CLASSES}


def from_parts(rec: Mapping[str, Any], n: Mapping[str, int]) -> tuple[dict[str, Any], list[str]]:
    """A judged goal judged again from (perturbed) counts of its parts: measure, shares, tests and
    judgement all from ``n`` (part label -> count), and the notes that count people, from ``n`` too."""
    update = dict(BY_KIND[rec["kind"]]._from_parts(rec, n))
    dropped = update.pop("dropped", 0)
    return {**rec, **update}, _unpaired_note(rec["goal"], dropped)


def rule_text(rec: Mapping[str, Any], lang: Lang) -> str:
    """The judgement rule of a judged goal, in ``lang``."""
    if not rec["rule_key"]:
        return ""
    f = dict(rec["rule_fields"])
    if rec["rule_key"] == "rule_before_after":
        f["alpha"] = format_number(f.get("alpha", 0.05), lang, 2)
    elif rec["rule_key"] in ("rule_count", "rule_share"):
        f["partly"] = _pct(f["partly"], lang)
    elif rec["rule_key"].startswith("rule_balance"):
        f["tolerance"] = _points(f["tolerance"], lang)
        f["partly"] = _points(f["partly"], lang)
    return label(rec["rule_key"], lang, **f)


def display_row(rec: Mapping[str, Any], lang: Lang, threshold: int, mark: str) -> dict[str, str]:
    """One row of the published goal table: goal text, target, measure (hidden when it rests on a
    small count), judgement and rule."""
    target, measured, target_number = BY_KIND[rec["kind"]]._show(rec, lang, threshold, mark)
    key = f"goal_{rec['goal']}"
    text = text_of(rec["text"], key if has_label(key) else rec["goal"], lang, target=target_number)
    return dict(goal=text, target=target, measured=measured, judgement=label(rec["judgement"], lang),
                rule=rule_text(rec, lang))
