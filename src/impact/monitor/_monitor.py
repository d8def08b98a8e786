"""Goal fulfilment and monthly monitoring tables, from individual-level records.

Two kinds of descriptive tables sit beside the effect estimates (see ``CONTEXT.md``):

* a **goal-fulfilment** assessment (:func:`goal_fulfilment`): each goal, its target, the measured
  value and a judgement (achieved, partly achieved, not achieved) with the rule used; goals are
  declared in code (:class:`CountGoal`, :class:`ShareGoal`, :class:`GenderBalanceGoal`,
  :class:`BeforeAfterGoal`, :class:`ManualGoal`) or in a config (:func:`goals_from_config`);
* **monitoring tables** for women, men and total: people to work or studies per month
  (:func:`to_work_or_studies_by_month`), results 90 days after an ended labour-market employment
  (:func:`outcomes_after_employment`), new hires by employment subsidy (:func:`hires_by_subsidy`)
  and unique households with economic assistance per month with the change against the same
  month one and two years earlier (:func:`households_on_assistance`).

Every result keeps tidy snake_case tables (``.table``, ``.summary()``); ``.published(lang=...)``
gives the table to print: small cells suppressed by :func:`impact.publish.suppress` and labels in
Swedish or English from :mod:`impact.labels`. Plots take ``ax=None`` and return the Axes; they draw
only what the published table shows.

Bad input is never repaired silently: months missing from a series are flagged (``NaN`` and a
warning, never zero), duplicate household-month rows are counted once and the number of duplicates
is reported, unknown category codes raise an error listing them, and a goal that names a column
that does not exist raises an error naming it.
"""

from __future__ import annotations

import html
import tomllib
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Literal, Union

import numpy as np
import pandas as pd

from impact._validation import check_columns, check_number, check_option, suggest
from impact._errors import DataError, ImpactWarning, ParameterError, data_error
from impact.labels import Lang, LANGS, has_label, label, relabel
from impact.labels import format_change, format_number, format_percent, month_name
from impact.publish import Suppression, suppress

__all__ = [
    "CountGoal", "ShareGoal", "GenderBalanceGoal", "BeforeAfterGoal", "ManualGoal", "Goal",
    "goals_from_config", "goal_fulfilment", "GoalFulfilment",
    "to_work_or_studies_by_month", "MonthlySeries",
    "outcomes_after_employment", "hires_by_subsidy", "GenderTable",
    "households_on_assistance", "HouseholdSeries",
    "PARTICIPANT_OUTCOMES", "OUTCOMES_90", "SUBSIDIES", "JUDGEMENTS",
]

Judgement = Literal["achieved", "partly_achieved", "not_achieved"]
JUDGEMENTS: tuple[str, ...] = ("achieved", "partly_achieved", "not_achieved")
#: outcome codes of programme participants
PARTICIPANT_OUTCOMES: tuple[str, ...] = ("to_work", "to_studies", "other", "ongoing")
#: results 90 days after an ended labour-market employment, in the seed's order
OUTCOMES_90: tuple[str, ...] = ("to_work", "to_studies", "continued_planning", "new_planning_af",
                                "interrupted_planning", "other_reasons")
#: employment-subsidy types, in the seed's order
SUBSIDIES: tuple[str, ...] = ("extratjanster", "lonebidrag_osa", "nystartsjobb",
                              "introduktionsjobb", "no_subsidy")
GENDERS: tuple[str, str] = ("women", "men")
DEFAULT_GENDERS: Mapping[Any, str] = {"female": "women", "male": "men"}
_COLOURS = {"women": "#b5446e", "men": "#2a6f97", "total": "#555555"}

DateLike = Union[str, pd.Timestamp, None]


# ============================================================================================
# shared checks


def _gender_of(data: pd.DataFrame, gender: str, genders: Mapping[Any, str] | None) -> pd.Series:
    """Record gender codes -> "women" / "men"; unknown or missing codes raise, listing them."""
    mapping = dict(DEFAULT_GENDERS if genders is None else genders)
    bad_targets = sorted({str(v) for v in mapping.values()} - set(GENDERS))
    if bad_targets:
        raise ParameterError(f"The 'genders' parameter must map codes to 'women' or 'men'. Got {bad_targets}.")
    col = data[gender]
    missing = col.isna().to_numpy()
    if missing.any():
        raise data_error(gender, "gender must not be missing", missing,
                         "Drop or recode those rows first; each count is published by gender.")
    known = col.isin(list(mapping)).to_numpy()
    if not known.all():
        codes = sorted(map(str, col[~known].unique()))
        raise data_error(
            gender, f"unknown codes {', '.join(repr(c) for c in codes)} (known: "
            f"{', '.join(repr(k) for k in mapping)})", ~known,
            "Pass genders={code: 'women' or 'men', ...} to map your codes.")
    return col.map(mapping)


def _check_codes(data: pd.DataFrame, column: str, allowed: Sequence[str], *, allow_missing: bool = False,
                 fix: str | None = None) -> None:
    col = data[column]
    missing = col.isna().to_numpy()
    if missing.any() and not allow_missing:
        raise data_error(column, "codes must not be missing", missing, fix)
    bad = ~missing & ~col.isin(list(allowed)).to_numpy()
    if bad.any():
        codes = sorted(map(str, col[bad].unique()))
        hint = "".join(suggest(c, allowed) for c in codes[:1])
        raise data_error(
            column, f"unknown codes {', '.join(repr(c) for c in codes)} (allowed: "
            f"{', '.join(repr(a) for a in allowed)})", bad,
            (f"{hint.strip()} " if hint else "") + f"Recode them first, e.g. df['{column}'].replace({{...}}).")


def _dates(data: pd.DataFrame, column: str) -> pd.Series:
    col = data[column]
    if pd.api.types.is_datetime64_any_dtype(col):
        return col
    parsed = pd.to_datetime(col, errors="coerce")
    bad = (parsed.isna() & col.notna()).to_numpy()
    if bad.any():
        raise data_error(column, "values must be dates", bad,
                         f"Parse them first, e.g. df['{column}'] = pd.to_datetime(df['{column}'], format='%Y-%m-%d').")
    return parsed


def _months(data: pd.DataFrame, column: str) -> pd.Series:
    col = data[column]
    if isinstance(col.dtype, pd.PeriodDtype):
        out = col.dt.asfreq("M")
    else:
        try:
            out = pd.Series(pd.PeriodIndex(pd.to_datetime(col, errors="raise"), freq="M"), index=col.index)
        except (ValueError, TypeError):
            parsed = pd.to_datetime(col, errors="coerce")
            bad = (parsed.isna() & col.notna()).to_numpy()
            raise data_error(column, "values must be months (e.g. '2022-10' or a date)", bad) from None
    missing = out.isna().to_numpy()
    if missing.any():
        raise data_error(column, "months must not be missing", missing)
    return out


def _period(start: DateLike, end: DateLike, func: str) -> tuple[pd.Timestamp | None, pd.Timestamp | None]:
    s = pd.Timestamp(start) if start is not None else None
    e = pd.Timestamp(end) if end is not None else None
    if s is not None and e is not None and e < s:
        raise ParameterError(f"The 'end' parameter of {func} must not be before 'start'. Got {start!r} to {end!r}.")
    return s, e


def _check_lang(lang: str, func: str) -> None:
    check_option("lang", lang, LANGS, func)


def _fmt(lang: str) -> Any:
    return lambda v: format_number(v, lang)  # type: ignore[arg-type]


def _text(text: str | Mapping[str, str] | None, key: str, lang: str, **fields_: Any) -> str:
    if isinstance(text, str):
        return text.format(**fields_) if fields_ else text
    if isinstance(text, Mapping):
        t = text.get(lang) or next(iter(text.values()))
        return t.format(**fields_) if fields_ else t
    if has_label(key):
        return label(key, lang, **fields_)  # type: ignore[arg-type]
    return key


class _Display:
    """Notebook display shared by the results: a header and the published table."""

    title_key: ClassVar[str] = ""
    lang: str
    notes: tuple[str, ...]

    def _repr_html_(self) -> str:
        lang = self.lang
        title = html.escape(label(self.title_key, lang))  # type: ignore[arg-type]
        table = self.published(lang).to_html()  # type: ignore[attr-defined]
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        supp = html.escape(label("suppressed_note", lang, mark="..", threshold=5))  # type: ignore[arg-type]
        return f"<h4>{title}</h4>{table}<p><small>{supp}</small></p>" + (f"<ul>{notes}</ul>" if notes else "")


# ============================================================================================
# goals


def _truthy(col: pd.Series) -> pd.Series:
    """True where a value is true; missing values are False (callers exclude them beforehand)."""
    present = col.notna().to_numpy()
    vals = col.to_numpy(dtype=object)
    return pd.Series([bool(v) if p else False for v, p in zip(vals, present)], index=col.index, dtype=bool)


def _subset(data: pd.DataFrame, column: str | None, values: Sequence[Any]) -> pd.Series:
    if column is None:
        return pd.Series(True, index=data.index)
    return data[column].isin(list(values)).astype(bool)


@dataclass(frozen=True)
class CountGoal:
    """At least ``target`` people (optionally: with ``column`` in ``values``).

    "4,000 residents have participated": ``CountGoal("participants", 4000)``;
    "1,800 went to work or studies": ``CountGoal("to_work_or_studies", 1800, column="outcome",
    values=("to_work", "to_studies"))``. Judgement: achieved if the count reaches the target,
    partly achieved if it reaches ``partly`` times the target.
    """

    name: str
    target: float
    column: str | None = None
    values: tuple = ()
    partly: float = 0.75
    text: str | Mapping[str, str] | None = None
    kind: ClassVar[str] = "count"

    def columns(self) -> list[str]:
        return [self.column] if self.column else []


@dataclass(frozen=True)
class ShareGoal:
    """At least ``target`` (a proportion) of the people ``among`` have ``column`` in ``values``.

    "75% of those referred by the social insurance agency moved on to enhanced cooperation":
    ``ShareGoal("fk_enhanced_cooperation", 0.75, column="enhanced_cooperation",
    among="referred_by_fk")``. Partly achieved at ``partly`` times the target.
    """

    name: str
    target: float
    column: str
    values: tuple = (True,)
    among: str | None = None
    among_values: tuple = (True,)
    partly: float = 0.75
    text: str | Mapping[str, str] | None = None
    kind: ClassVar[str] = "share"

    def columns(self) -> list[str]:
        return [self.column] + ([self.among] if self.among else [])


@dataclass(frozen=True)
class GenderBalanceGoal:
    """An even split of women and men, within ``tolerance``.

    ``measure="composition"`` (default): the share of women among the people counted (all, or
    those with ``column`` in ``values``, e.g. those who reached work) is within
    ``0.5 ± tolerance``. ``measure="rates"``: the share of women who reach ``column`` in ``values``
    and the share of men who do differ by at most ``tolerance``. Partly achieved within
    ``partly_tolerance`` (default twice ``tolerance``).
    """

    name: str
    tolerance: float = 0.10
    column: str | None = None
    values: tuple = ()
    measure: Literal["composition", "rates"] = "composition"
    partly_tolerance: float | None = None
    text: str | Mapping[str, str] | None = None
    kind: ClassVar[str] = "gender_balance"

    def columns(self) -> list[str]:
        return [self.column] if self.column else []


@dataclass(frozen=True)
class BeforeAfterGoal:
    """Fewer people have each state at the end than at the start, counted on the same people.

    ``pairs`` maps a state to its (start column, end column), e.g.
    ``{"social_assistance": ("social_assistance_start", "social_assistance_end")}``. Only people
    with both columns observed are counted (the others are reported in the notes). Achieved if
    every count fell, partly achieved if some did.
    """

    name: str
    pairs: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    text: str | Mapping[str, str] | None = None
    kind: ClassVar[str] = "before_after"

    def columns(self) -> list[str]:
        return [c for pair in self.pairs.values() for c in pair]


@dataclass(frozen=True)
class ManualGoal:
    """A goal the evaluator judges (e.g. "a method guide has been produced and is being spread")."""

    name: str
    judgement: Judgement
    measured: str | Mapping[str, str] = ""
    target: str | Mapping[str, str] = ""
    text: str | Mapping[str, str] | None = None
    kind: ClassVar[str] = "manual"

    def columns(self) -> list[str]:
        return []


Goal = Union[CountGoal, ShareGoal, GenderBalanceGoal, BeforeAfterGoal, ManualGoal]
_KINDS: dict[str, type] = {"count": CountGoal, "outcome_count": CountGoal, "share": ShareGoal,
                           "gender_balance": GenderBalanceGoal, "before_after": BeforeAfterGoal,
                           "manual": ManualGoal}


def goals_from_config(config: Sequence[Mapping[str, Any]] | Mapping[str, Any] | str | Path
                      ) -> list[Goal]:
    """Goals from a list of dicts, a dict with a ``goals`` list, or a TOML file with ``[[goals]]``.

    Each entry has a ``kind`` (``count``, ``outcome_count``, ``share``, ``gender_balance``,
    ``before_after``, ``manual``) and the fields of the matching goal class. ``outcome_count`` is
    a count whose ``column`` defaults to ``"outcome"`` and ``values`` to work and studies.

    Examples
    --------
    >>> goals = goals_from_config([
    ...     {"kind": "count", "name": "participants", "target": 4000},
    ...     {"kind": "outcome_count", "name": "to_work_or_studies", "target": 1800},
    ...     {"kind": "share", "name": "fk_enhanced_cooperation", "target": 0.75,
    ...      "column": "enhanced_cooperation", "among": "referred_by_fk"},
    ... ])
    >>> goals[1]
    CountGoal(name='to_work_or_studies', target=1800, column='outcome', values=('to_work', 'to_studies'), partly=0.75, text=None)
    """
    if isinstance(config, (str, Path)):
        path = Path(config)
        if not path.exists():
            raise ParameterError(f"The goal config file {str(path)!r} does not exist.")
        with path.open("rb") as fh:
            config = tomllib.load(fh)
    if isinstance(config, Mapping):
        if "goals" not in config:
            raise ParameterError("A goal config mapping must have a 'goals' list (in TOML: [[goals]] tables).")
        config = config["goals"]
    goals: list[Goal] = []
    for k, entry in enumerate(config):
        if not isinstance(entry, Mapping):
            raise ParameterError(f"Goal {k} of the config must be a mapping. Got {type(entry).__name__}.")
        entry = dict(entry)
        kind = entry.pop("kind", None)
        if kind is None:
            raise ParameterError(f"Goal {k} of the config has no 'kind' (one of {', '.join(_KINDS)}).")
        check_option("kind", kind, tuple(_KINDS), "goals_from_config")
        cls = _KINDS[kind]
        if kind == "outcome_count":
            entry.setdefault("column", "outcome")
            entry.setdefault("values", ("to_work", "to_studies"))
        names = [f.name for f in fields(cls)]
        for key in entry:
            if key not in names:
                raise ParameterError(f"Goal {k} ({kind}) has an unknown field {key!r}."
                                     f"{suggest(key, names)} Fields: {', '.join(names)}.")
        for key in ("values", "among_values"):
            if key in entry and not isinstance(entry[key], tuple):
                v = entry[key]
                entry[key] = tuple(v) if isinstance(v, (list, tuple)) else (v,)
        if "pairs" in entry:
            entry["pairs"] = {str(s): tuple(p) for s, p in dict(entry["pairs"]).items()}
        try:
            goals.append(cls(**entry))
        except TypeError as exc:
            raise ParameterError(f"Goal {k} ({kind}): {exc}.") from None
    return goals


def _judge_ratio(measured: float, target: float, partly: float) -> str:
    if measured >= target:
        return "achieved"
    if measured >= partly * target:
        return "partly_achieved"
    return "not_achieved"


def _evaluate(goal: Goal, data: pd.DataFrame, ids: pd.Series, gender: pd.Series | None) -> dict[str, Any]:
    """One row of the goal table, plus what display needs."""
    rec: dict[str, Any] = dict(goal=goal.name, kind=goal.kind, target=np.nan, measured=np.nan,
                               judgement=None, n=np.nan, counts=(), rule_key="", rule_fields={},
                               text=goal.text, notes=[])
    if isinstance(goal, CountGoal):
        sel = _subset(data, goal.column, goal.values)
        n = int(ids[sel].nunique())
        rec.update(target=float(goal.target), measured=float(n), n=float(n), counts=(n,),
                   judgement=_judge_ratio(n, goal.target, goal.partly),
                   rule_key="rule_count", rule_fields=dict(partly=goal.partly))
    elif isinstance(goal, ShareGoal):
        among = _subset(data, goal.among, goal.among_values)
        col = data.loc[among.to_numpy(), goal.column]
        missing = col.isna()
        if missing.any():
            raise data_error(goal.column, f"values used by goal '{goal.name}' must not be missing",
                             (among & data[goal.column].isna()).to_numpy())
        hit = col.isin(list(goal.values))
        denom = int(ids[among].nunique())
        num = int(ids[among][hit.to_numpy()].nunique())
        share = num / denom if denom else np.nan
        rec.update(target=float(goal.target), measured=share, n=float(denom), counts=(num, denom - num),
                   judgement="not_achieved" if denom == 0 else _judge_ratio(share, goal.target, goal.partly),
                   rule_key="rule_share", rule_fields=dict(partly=goal.partly))
    elif isinstance(goal, GenderBalanceGoal):
        if gender is None:
            raise ParameterError(f"Goal '{goal.name}' needs a gender column; pass gender=... to goal_fulfilment.")
        partly = goal.partly_tolerance if goal.partly_tolerance is not None else 2 * goal.tolerance
        sel = _subset(data, goal.column, goal.values)
        if goal.measure == "composition":
            w = int(ids[sel & (gender == "women")].nunique())
            m = int(ids[sel & (gender == "men")].nunique())
            share = w / (w + m) if w + m else np.nan
            gap = abs(share - 0.5)
            rec.update(target=0.5, measured=share, n=float(w + m), counts=(w, m),
                       rule_key="rule_balance_composition")
        else:
            if goal.column is None:
                raise ParameterError(f"Goal '{goal.name}' with measure='rates' needs a column and values "
                                     "(e.g. column='outcome', values=('to_work',)).")
            nw, nm = int(ids[gender == "women"].nunique()), int(ids[gender == "men"].nunique())
            w = int(ids[sel & (gender == "women")].nunique())
            m = int(ids[sel & (gender == "men")].nunique())
            rw, rm = (w / nw if nw else np.nan), (m / nm if nm else np.nan)
            gap = abs(rw - rm)
            rec.update(target=0.0, measured=rw - rm, n=float(nw + nm), counts=(w, m, nw - w, nm - m),
                       rule_key="rule_balance_rates", rates=(rw, rm))
        rec["rule_fields"] = dict(tolerance=goal.tolerance, partly=partly)
        rec["judgement"] = ("not_achieved" if np.isnan(gap) else "achieved" if gap <= goal.tolerance + 1e-12
                            else "partly_achieved" if gap <= partly + 1e-12 else "not_achieved")
    elif isinstance(goal, BeforeAfterGoal):
        if not goal.pairs:
            raise ParameterError(f"Goal '{goal.name}' has no pairs of (start, end) columns.")
        both = pd.Series(True, index=data.index)
        for before, after in goal.pairs.values():
            both &= data[before].notna() & data[after].notna()
        dropped = int(ids[~both].nunique())
        counts, fell, changes = [], [], {}
        for state, (before, after) in goal.pairs.items():
            b = int(ids[both & _truthy(data[before])].nunique())
            a = int(ids[both & _truthy(data[after])].nunique())
            counts += [b, a]
            fell.append(a < b)
            changes[state] = (b, a)
        rec.update(measured=float(sum(a for _, a in changes.values()) - sum(b for b, _ in changes.values())),
                   n=float(ids[both].nunique()), counts=tuple(counts), changes=changes,
                   judgement="achieved" if all(fell) else "partly_achieved" if any(fell) else "not_achieved",
                   rule_key="rule_before_after")
        if dropped:
            rec["notes"].append(f"goal '{goal.name}': {dropped} people without both a start and an end "
                                "value (e.g. still participating) are not counted")
    elif isinstance(goal, ManualGoal):
        check_option("judgement", goal.judgement, JUDGEMENTS, "ManualGoal")
        rec.update(judgement=goal.judgement, rule_key="rule_manual", manual=(goal.measured, goal.target))
    else:
        raise ParameterError(f"Not a goal: {goal!r}. Use CountGoal, ShareGoal, GenderBalanceGoal, "
                             "BeforeAfterGoal, ManualGoal or goals_from_config.")
    return rec


def _pct(v: float, lang: str, decimals: int = 0) -> str:
    return format_percent(v, lang, decimals)  # type: ignore[arg-type]


def _partly_text(rec: dict[str, Any], lang: str) -> dict[str, str]:
    f = dict(rec["rule_fields"])
    if rec["rule_key"] in ("rule_count", "rule_share"):
        f["partly"] = _pct(f["partly"], lang)
    elif rec["rule_key"].startswith("rule_balance"):
        unit = " procentenheter" if lang == "sv" else " percentage points"
        f["tolerance"] = format_number(100 * f["tolerance"], lang) + unit  # type: ignore[arg-type]
        f["partly"] = format_number(100 * f["partly"], lang) + unit  # type: ignore[arg-type]
    return f


def _rule_text(rec: dict[str, Any], lang: str) -> str:
    return label(rec["rule_key"], lang, **_partly_text(rec, lang)) if rec["rule_key"] else ""  # type: ignore[arg-type]


def _goal_display(rec: dict[str, Any], lang: str, threshold: int, mark: str) -> dict[str, str]:
    kind = rec["kind"]
    hidden = any(0 < c < threshold for c in rec["counts"])
    if kind == "count":
        target = format_number(rec["target"], lang)  # type: ignore[arg-type]
        measured = format_number(rec["measured"], lang)  # type: ignore[arg-type]
    elif kind == "share":
        target = _pct(rec["target"], lang)
        measured = _pct(rec["measured"], lang)
    elif kind == "gender_balance":
        if rec["rule_key"] == "rule_balance_composition":
            target = "50 % ± " if lang == "sv" else "50% ± "
            target += format_number(100 * rec["rule_fields"]["tolerance"], lang)  # type: ignore[arg-type]
            measured = f"{_pct(rec['measured'], lang)} {label('women_share', lang)}"  # type: ignore[arg-type]
        else:
            target = ("skillnad ≤ " if lang == "sv" else "difference ≤ ") + format_number(
                100 * rec["rule_fields"]["tolerance"], lang)  # type: ignore[arg-type]
            rw, rm = rec["rates"]
            measured = (f"{label('women', lang).lower()} {_pct(rw, lang)}, "  # type: ignore[arg-type]
                        f"{label('men', lang).lower()} {_pct(rm, lang)}")  # type: ignore[arg-type]
    elif kind == "before_after":
        target = "färre än vid start" if lang == "sv" else "fewer than at start"
        parts = []
        for state, (b, a) in rec["changes"].items():
            name = label(state, lang) if has_label(state) else state  # type: ignore[arg-type]
            bs = mark if 0 < b < threshold else format_number(b, lang)  # type: ignore[arg-type]
            as_ = mark if 0 < a < threshold else format_number(a, lang)  # type: ignore[arg-type]
            parts.append(f"{name}: {bs} → {as_}")
        measured = "; ".join(parts)
        hidden = False  # hidden per count above
    else:
        m, t = rec["manual"]
        measured = _text(m, "", lang) if m else ""
        target = _text(t, "", lang) if t else ""
    target_num = format_number(rec["target"], lang) if kind == "count" else (
        _pct(rec["target"], lang) if kind == "share" else "")  # type: ignore[arg-type]
    key = f"goal_{rec['goal']}"
    text = _text(rec["text"], key if has_label(key) else rec["goal"], lang, target=target_num)
    return dict(goal=text, target=target, measured=mark if hidden else measured,
                judgement=label(rec["judgement"], lang), rule=_rule_text(rec, lang))  # type: ignore[arg-type]


@dataclass(frozen=True)
class GoalFulfilment(_Display):
    """The goal-fulfilment table.

    Attributes
    ----------
    table : DataFrame
        One row per goal: ``goal``, ``kind``, ``target``, ``measured``, ``judgement``, ``n`` (people
        the measure is based on), ``rule`` (English text of the rule).
    notes : tuple of str
    lang : {"en", "sv"}
        Language of the notebook display.
    """

    table: pd.DataFrame
    records: tuple[dict, ...] = field(repr=False, default=())
    notes: tuple[str, ...] = ()
    lang: str = "en"
    title_key: ClassVar[str] = "title_goal_fulfilment"

    def summary(self) -> pd.DataFrame:
        """The tidy table (snake_case columns, keys not labels)."""
        return self.table.copy()

    def published(self, lang: Lang | None = None, threshold: int = 5, mark: str = "..") -> pd.DataFrame:
        """The table to print: labelled, with measures based on fewer than ``threshold`` people hidden."""
        lang = lang or self.lang  # type: ignore[assignment]
        _check_lang(lang, "GoalFulfilment.published")  # type: ignore[arg-type]
        check_number("threshold", threshold, "GoalFulfilment.published", low=1, integer=True)
        rows = [_goal_display(r, lang, threshold, mark) for r in self.records]  # type: ignore[arg-type]
        out = pd.DataFrame(rows, columns=["goal", "target", "measured", "judgement", "rule"])
        return relabel(out, lang, values=False).set_index(label("goal", lang))  # type: ignore[arg-type]

    def plot(self, ax: Any = None, lang: Lang | None = None) -> Any:
        """Horizontal bars: each goal's judgement (achieved = 2, partly = 1, not = 0)."""
        import matplotlib.pyplot as plt

        lang = lang or self.lang  # type: ignore[assignment]
        if ax is None:
            _, ax = plt.subplots(figsize=(7, 0.45 * len(self.table) + 1))
            ax.figure.set_layout_engine("tight")
        score = self.table["judgement"].map({"achieved": 2, "partly_achieved": 1, "not_achieved": 0})
        colours = self.table["judgement"].map({"achieved": "#3a7d44", "partly_achieved": "#e0a100",
                                               "not_achieved": "#b23a48"})
        names = self.published(lang).index.tolist()  # type: ignore[arg-type]
        names = [n if len(n) <= 60 else n[:57] + "..." for n in names]
        y = np.arange(len(score))[::-1]
        ax.barh(y, score + 0.15, color=colours.tolist())
        ax.set_yticks(y, names)
        ax.set_xticks([0, 1, 2], [label(j, lang) for j in reversed(JUDGEMENTS)])  # type: ignore[arg-type]
        ax.set_title(label(self.title_key, lang))  # type: ignore[arg-type]
        return ax

    def __repr__(self) -> str:
        counts = self.table["judgement"].value_counts()
        return (f"GoalFulfilment({len(self.table)} goals: {int(counts.get('achieved', 0))} achieved, "
                f"{int(counts.get('partly_achieved', 0))} partly, {int(counts.get('not_achieved', 0))} not)")


def goal_fulfilment(data: pd.DataFrame, goals: Sequence[Goal] | Sequence[Mapping[str, Any]] | str | Path, *,
                    id: str | None = "person_id", gender: str | None = "gender",
                    genders: Mapping[Any, str] | None = None, lang: Lang = "en") -> GoalFulfilment:
    """Judge each goal against individual-level records.

    Parameters
    ----------
    data : DataFrame
        One row per participant (or participation): the columns the goals refer to.
    goals : sequence of goals, or a config accepted by :func:`goals_from_config`
    id : str or None
        Person identifier: people are counted once however many rows they have. ``None`` counts rows.
    gender : str or None
        Gender column (needed by gender-balance goals).
    genders : mapping, optional
        Record codes -> ``"women"``/``"men"``; default ``{"female": "women", "male": "men"}``.
    lang : {"en", "sv"}
        Language of the notebook display (``published`` takes its own).

    Returns
    -------
    GoalFulfilment

    Raises
    ------
    DataError
        A goal refers to a column that is not in the data (naming it, with a close match), or
        has missing values where it needs them; unknown gender codes.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"person_id": range(6), "gender": ["female", "male"] * 3,
    ...                    "outcome": ["to_work", "to_work", "other", "to_studies", "other", "other"]})
    >>> res = goal_fulfilment(df, [CountGoal("participants", 5),
    ...                            CountGoal("to_work_or_studies", 4, column="outcome",
    ...                                      values=("to_work", "to_studies"))])
    >>> res.table[["goal", "target", "measured", "judgement"]]
                     goal  target  measured        judgement
    0        participants     5.0       6.0         achieved
    1  to_work_or_studies     4.0       3.0  partly_achieved
    """
    func = "goal_fulfilment"
    _check_lang(lang, func)
    if isinstance(goals, (str, Path)) or (goals and isinstance(goals[0], Mapping)):
        goals = goals_from_config(goals)  # type: ignore[arg-type]
    check_columns(data, [c for c in (id, gender) if c is not None])
    names = [g.name for g in goals]  # type: ignore[union-attr]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ParameterError(f"Goal names must be unique; {dup} occur more than once.")
    for g in goals:
        for col in g.columns():  # type: ignore[union-attr]
            if col not in data.columns:
                raise DataError(
                    f"Goal '{g.name}' refers to column '{col}', which is not in the data."  # type: ignore[union-attr]
                    f"{suggest(col, list(map(str, data.columns)))} The data have columns: "
                    f"{', '.join(map(str, list(data.columns)[:15]))}{', ...' if data.shape[1] > 15 else ''}.",
                    column=col, rule="column must exist")
    ids = data[id] if id is not None else pd.Series(np.arange(len(data)), index=data.index)
    if id is not None and ids.isna().any():
        raise data_error(id, "identifiers must not be missing", ids.isna().to_numpy())
    g_series = _gender_of(data, gender, genders) if gender is not None else None
    notes: list[str] = []
    if id is not None:
        n_dup = int(ids.duplicated().sum())
        if n_dup:
            notes.append(f"{n_dup} rows repeat a person already counted; each person is counted once")
    records = [_evaluate(g, data, ids, g_series) for g in goals]  # type: ignore[arg-type]
    for r in records:
        notes += r.pop("notes")
    notes.append("partly achieved: counts and shares from 75% of the target; gender balance within "
                 "twice the tolerance (unless a goal says otherwise)")
    table = pd.DataFrame([dict(goal=r["goal"], kind=r["kind"], target=r["target"], measured=r["measured"],
                               judgement=r["judgement"], n=r["n"], rule=_rule_text(r, "en"))
                          for r in records],
                         columns=["goal", "kind", "target", "measured", "judgement", "n", "rule"])
    return GoalFulfilment(table=table, records=tuple(records), notes=tuple(notes), lang=lang)


# ============================================================================================
# a monthly series by gender


def _gender_columns(gender: str | None) -> list[str]:
    return [*GENDERS, "total"] if gender is not None else ["total"]


def _flag_missing(missing: list[pd.Period], what: str, func: str) -> None:
    if missing:
        shown = ", ".join(str(m) for m in missing[:6]) + (", ..." if len(missing) > 6 else "")
        warnings.warn(
            f"{func}: {len(missing)} month(s) without any {what}: {shown}. They are shown as missing, "
            "not as zero. If there truly were none, pass empty_months='zero'.", ImpactWarning, stacklevel=3)


@dataclass(frozen=True)
class MonthlySeries(_Display):
    """People (or households) reaching an outcome per month, for women, men and total.

    Attributes
    ----------
    table : DataFrame
        Index ``month`` (monthly Period); columns ``women``, ``men``, ``total`` (only ``total``
        without a gender column). Months without records are ``NaN`` unless declared zero.
    missing_months : tuple of Period
        Months in the range with no records at all (flagged, not zero).
    notes : tuple of str
    lang : {"en", "sv"}
    """

    table: pd.DataFrame
    missing_months: tuple = ()
    notes: tuple[str, ...] = ()
    lang: str = "en"
    title_key: ClassVar[str] = "title_to_work_or_studies"

    def summary(self) -> pd.DataFrame:
        """Long form: ``month``, ``gender``, ``n``, ``missing``."""
        long = self.table.reset_index().melt(id_vars="month", var_name="gender", value_name="n")
        long["missing"] = long["month"].isin(list(self.missing_months))
        return long

    def _suppression(self, threshold: int, mark: str, lang: str) -> Suppression | None:
        present = self.table.drop(index=list(self.missing_months))
        if present.empty:
            return None
        total_col = "total" if "women" in present.columns else None
        return suppress(present.astype(int), threshold, mark, total_col=total_col, fmt=_fmt(lang))

    def published(self, lang: Lang | None = None, threshold: int = 5, mark: str = "..") -> pd.DataFrame:
        """Counts as strings, small cells suppressed, months and columns labelled."""
        lang = lang or self.lang  # type: ignore[assignment]
        _check_lang(lang, "MonthlySeries.published")  # type: ignore[arg-type]
        res = self._suppression(threshold, mark, lang)  # type: ignore[arg-type]
        out = pd.DataFrame(label("missing", lang), index=self.table.index, columns=self.table.columns,  # type: ignore[arg-type]
                           dtype=object)
        if res is not None:
            out.loc[res.published.index] = res.published
        return relabel(out, lang)  # type: ignore[arg-type]

    def plot(self, ax: Any = None, *, year: int | None = None, gender: str = "total",
             lang: Lang | None = None, threshold: int = 5) -> Any:
        """Bars per month of ``year`` (default: the last) against a line for the year before."""
        import matplotlib.pyplot as plt

        lang = lang or self.lang  # type: ignore[assignment]
        check_option("gender", gender, tuple(self.table.columns), "MonthlySeries.plot")
        values = self.table[gender].astype(float).copy()
        res = self._suppression(threshold, "..", lang)  # type: ignore[arg-type]
        if res is not None:
            values[res.mask[gender].reindex(values.index, fill_value=False).to_numpy()] = np.nan
        year = year or int(values.index.max().year)
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4))
            ax.figure.set_layout_engine("tight")
        x = np.arange(1, 13)
        for y, style in ((year, "bar"), (year - 1, "line")):
            s = pd.Series([values.get(pd.Period(f"{y}-{m:02d}", "M"), np.nan) for m in x], index=x, dtype=float)
            if style == "bar":
                ax.bar(x, s.to_numpy(), color=_COLOURS.get(gender, "#555555"), label=str(y))
            else:
                ax.plot(x, s.to_numpy(), color="black", marker="o", label=str(y))
        ax.set_xticks(x, [month_name(m, lang)[:3] for m in x])  # type: ignore[arg-type]
        ax.set_ylabel(label("n", lang))  # type: ignore[arg-type]
        ax.set_title(f"{label(self.title_key, lang)}, {label(gender, lang).lower()}")  # type: ignore[arg-type]
        ax.legend()
        return ax

    def __repr__(self) -> str:
        idx = self.table.index
        return (f"MonthlySeries({len(idx)} months {idx.min()} to {idx.max()}, "
                f"{int(np.nansum(self.table['total']))} in total, {len(self.missing_months)} missing months)")


def to_work_or_studies_by_month(data: pd.DataFrame, *, date: str = "end_date", outcome: str = "outcome",
                                outcomes: Sequence[str] = ("to_work", "to_studies"),
                                codes: Sequence[str] | None = PARTICIPANT_OUTCOMES,
                                gender: str | None = "gender", genders: Mapping[Any, str] | None = None,
                                id: str | None = "person_id", start: DateLike = None, end: DateLike = None,
                                empty_months: Literal["flag", "zero"] = "flag",
                                lang: Lang = "en") -> MonthlySeries:
    """People who went to work or studies, per month, for women, men and total.

    Parameters
    ----------
    data : DataFrame
        One row per person (or event) with an outcome and its date.
    date, outcome : str
        Columns: the date of the outcome and its code.
    outcomes : sequence of str
        Codes that count (default work and studies).
    codes : sequence of str or None
        Every code allowed in ``outcome``; others raise an error listing them. ``None``: no check.
    gender : str or None
        Gender column; ``None`` gives a total only (e.g. households leaving economic assistance).
    genders : mapping, optional
        Record codes -> ``"women"``/``"men"``.
    id : str or None
        Identifier: a person counts once per month. ``None`` counts rows.
    start, end : date-like, optional
        First and last month of the series (default: the first and last month with an outcome).
    empty_months : {"flag", "zero"}
        A month without any record is missing data unless you say it was truly zero.
    lang : {"en", "sv"}

    Returns
    -------
    MonthlySeries

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"person_id": [1, 2, 3, 4], "gender": ["female", "male", "male", "female"],
    ...                    "outcome": ["to_work", "to_studies", "to_work", "other"],
    ...                    "end_date": pd.to_datetime(["2022-01-10", "2022-01-20", "2022-02-03", "2022-02-05"])})
    >>> to_work_or_studies_by_month(df).table  # doctest: +NORMALIZE_WHITESPACE
             women  men  total
    month
    2022-01      1    1      2
    2022-02      0    1      1
    """
    func = "to_work_or_studies_by_month"
    _check_lang(lang, func)
    check_option("empty_months", empty_months, ("flag", "zero"), func)
    check_columns(data, [c for c in (date, outcome, gender, id) if c is not None])
    if codes is not None:
        _check_codes(data, outcome, codes, allow_missing=False)
    s, e = _period(start, end, func)
    hit = data[outcome].isin(list(outcomes)).to_numpy()
    dates = _dates(data, date)
    no_date = hit & dates.isna().to_numpy()
    if no_date.any():
        raise data_error(date, f"an outcome in {list(outcomes)} must have a date", no_date)
    g = _gender_of(data, gender, genders) if gender is not None else pd.Series("total", index=data.index)
    df = pd.DataFrame({"month": dates.dt.to_period("M"), "gender": g,
                       "id": data[id] if id is not None else np.arange(len(data))})[hit]
    if s is not None:
        df = df[df["month"] >= s.to_period("M")]
    if e is not None:
        df = df[df["month"] <= e.to_period("M")]
    first = s.to_period("M") if s is not None else (df["month"].min() if len(df) else None)
    last = e.to_period("M") if e is not None else (df["month"].max() if len(df) else None)
    if first is None or last is None:
        raise DataError(f"No rows with {outcome!r} in {list(outcomes)} in the period; nothing to count.",
                        column=outcome, rule="at least one outcome")
    months = pd.period_range(first, last, freq="M", name="month")
    df = df.drop_duplicates(["month", "id"])
    cols = _gender_columns(gender)
    table = (df.groupby(["month", "gender"]).size().unstack("gender")
             .reindex(index=months, columns=[c for c in cols if c != "total"] or ["total"]).fillna(0))
    if gender is not None:
        table["total"] = table[list(GENDERS)].sum(axis=1)
    table = table.astype(int)
    table.index.name = "month"
    table.columns.name = None
    observed = set(df["month"].unique())
    missing = [m for m in months if m not in observed]
    notes = [f"a person counts once per month ({id!r})" if id else "each row counts"]
    if empty_months == "flag" and missing:
        _flag_missing(missing, "records", func)
        table = table.astype(float)
        table.loc[missing] = np.nan
        notes.append(f"{len(missing)} month(s) without records are shown as missing: "
                     + ", ".join(map(str, missing)))
    elif missing:
        notes.append(f"{len(missing)} month(s) without records are declared zero (empty_months='zero')")
        missing = []
    return MonthlySeries(table=table, missing_months=tuple(missing), notes=tuple(notes), lang=lang)


# ============================================================================================
# category x gender tables


@dataclass(frozen=True)
class GenderTable(_Display):
    """Counts by category (rows, with ``all`` last) for women, men and total (columns).

    Attributes
    ----------
    table : DataFrame
        Index: the category keys and ``all``; columns ``women``, ``men``, ``total``.
    kind : str
        ``"outcomes_after_employment"`` or ``"hires_by_subsidy"``.
    notes : tuple of str
    lang : {"en", "sv"}
    """

    table: pd.DataFrame
    kind: str = ""
    notes: tuple[str, ...] = ()
    lang: str = "en"

    @property
    def title_key(self) -> str:  # type: ignore[override]
        return f"title_{self.kind}"

    def summary(self) -> pd.DataFrame:
        """Long form: the row key (``outcome`` or ``subsidy``), ``gender``, ``n``, ``share`` of the gender's total."""
        name = self.table.index.name
        share = self.table / self.table.loc["all"]
        long = self.table.reset_index().melt(id_vars=name, var_name="gender", value_name="n")
        long["share"] = share.reset_index().melt(id_vars=name, var_name="gender", value_name="s")["s"]
        return long

    def suppression(self, threshold: int = 5, mark: str = "..", lang: Lang = "en") -> Suppression:
        """The :class:`~impact.publish.Suppression` behind :meth:`published`."""
        return suppress(self.table, threshold, mark, total_row="all", total_col="total", fmt=_fmt(lang))

    def published(self, lang: Lang | None = None, threshold: int = 5, mark: str = "..", *,
                  shares: bool = False) -> pd.DataFrame:
        """The table to print: suppressed and labelled; ``shares=True`` gives each cell's share
        of its column total instead (hidden wherever the count or the total is hidden)."""
        lang = lang or self.lang  # type: ignore[assignment]
        _check_lang(lang, "GenderTable.published")  # type: ignore[arg-type]
        res = self.suppression(threshold, mark, lang)  # type: ignore[arg-type]
        out = res.shares("column", lang=lang) if shares else res.published  # type: ignore[arg-type]
        return relabel(out, lang)  # type: ignore[arg-type]

    def plot(self, ax: Any = None, *, lang: Lang | None = None, threshold: int = 5) -> Any:
        """Horizontal bars by category, one for women and one for men; hidden cells are not drawn."""
        import matplotlib.pyplot as plt

        lang = lang or self.lang  # type: ignore[assignment]
        res = self.suppression(threshold, "..", lang)  # type: ignore[arg-type]
        t = self.table.drop(index="all")
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 0.6 * len(t) + 1.5))
            ax.figure.set_layout_engine("tight")
        y = np.arange(len(t))[::-1]
        h = 0.38
        for k, g in enumerate(GENDERS):
            v = t[g].astype(float).where(~res.mask.loc[t.index, g])
            ax.barh(y + (h / 2 if k == 0 else -h / 2), v.to_numpy(), height=h, color=_COLOURS[g],
                    label=label(g, lang))  # type: ignore[arg-type]
        ax.set_yticks(y, [label(i, lang) if has_label(i) else str(i) for i in t.index])  # type: ignore[arg-type]
        ax.set_xlabel(label("n", lang))  # type: ignore[arg-type]
        ax.set_title(label(self.title_key, lang))  # type: ignore[arg-type]
        ax.legend()
        return ax

    def __repr__(self) -> str:
        a = self.table.loc["all"]
        return (f"GenderTable({self.kind}: {int(a['total'])} in total, {int(a['women'])} women, "
                f"{int(a['men'])} men, {len(self.table) - 1} categories)")


def _gender_table(data: pd.DataFrame, column: str, categories: Sequence[str], gender: str,
                  genders: Mapping[Any, str] | None, name: str) -> pd.DataFrame:
    g = _gender_of(data, gender, genders)
    t = pd.crosstab(data[column], g).reindex(index=list(categories), columns=list(GENDERS), fill_value=0)
    t["total"] = t.sum(axis=1)
    t.loc["all"] = t.sum(axis=0)
    t.index.name = name
    t.columns.name = None
    return t.astype(int)


def outcomes_after_employment(data: pd.DataFrame, *, outcome: str = "outcome_90", gender: str = "gender",
                              genders: Mapping[Any, str] | None = None, end_date: str = "end_date",
                              start: DateLike = None, end: DateLike = None, days: int = 90,
                              categories: Sequence[str] = OUTCOMES_90, lang: Lang = "en") -> GenderTable:
    """Results ``days`` after an ended labour-market employment, for women, men and total.

    Counts the employments whose day ``days`` after ``end_date`` falls between ``start`` and
    ``end`` (inclusive; "participants who reached day 90 between 1 January and 30 November").

    Parameters
    ----------
    data : DataFrame
        One row per employment: end date, gender and the result code.
    outcome, gender, end_date : str
        Columns.
    genders : mapping, optional
    start, end : date-like, optional
        Period in which day ``days`` is reached (default: no limit).
    days : int
    categories : sequence of str
        The allowed result codes, in display order (default :data:`OUTCOMES_90`).
    lang : {"en", "sv"}

    Returns
    -------
    GenderTable
        Rows: the categories and ``all``.

    Raises
    ------
    DataError
        Unknown result codes (listing them), a missing result for an employment that reached day
        ``days``, unknown gender codes.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"gender": ["female", "male", "male"],
    ...                    "end_date": pd.to_datetime(["2021-12-01", "2022-03-01", "2022-10-01"]),
    ...                    "outcome_90": ["to_work", "to_studies", "to_work"]})
    >>> outcomes_after_employment(df, start="2022-01-01", end="2022-11-30").table.loc[["to_work", "all"]]
    ... # doctest: +NORMALIZE_WHITESPACE
             women  men  total
    outcome
    to_work      1    0      1
    all          1    1      2
    """
    func = "outcomes_after_employment"
    _check_lang(lang, func)
    check_number("days", days, func, low=0, integer=True)
    check_columns(data, [outcome, gender, end_date])
    s, e = _period(start, end, func)
    ends = _dates(data, end_date)
    reached = ends + pd.Timedelta(days=days)
    keep = ends.notna()
    if s is not None:
        keep &= reached >= s
    if e is not None:
        keep &= reached <= e
    sub = data[keep.to_numpy()]
    _check_codes(sub, outcome, categories, fix="Every employment that reached day "
                 f"{days} needs a result; drop the others explicitly if that is intended.")
    notes = [f"employments that ended and reached day {days}"
             + (f" between {s.date()} and {e.date()}" if s is not None and e is not None else "")
             + f": {len(sub)} of {len(data)} rows"]
    table = _gender_table(sub, outcome, categories, gender, genders, "outcome")
    return GenderTable(table=table, kind="outcomes_after_employment", notes=tuple(notes), lang=lang)


def hires_by_subsidy(data: pd.DataFrame, *, subsidy: str = "subsidy", gender: str = "gender",
                     genders: Mapping[Any, str] | None = None, hire_date: str = "hire_date",
                     start: DateLike = None, end: DateLike = None,
                     categories: Sequence[str] = SUBSIDIES, lang: Lang = "en") -> GenderTable:
    """New hires by employment-subsidy type, for women, men and total.

    Parameters
    ----------
    data : DataFrame
        One row per employment: hire date, subsidy code, gender.
    subsidy, gender, hire_date : str
        Columns.
    genders : mapping, optional
    start, end : date-like, optional
        Hires from ``start`` to ``end`` inclusive (e.g. ``"2022-01-01"``, ``"2022-12-31"``).
    categories : sequence of str
        Allowed subsidy codes in display order (default :data:`SUBSIDIES`).
    lang : {"en", "sv"}

    Returns
    -------
    GenderTable
        Rows: the subsidy types and ``all``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"gender": ["female", "male", "female"], "subsidy": ["nystartsjobb"] * 2 + ["no_subsidy"],
    ...                    "hire_date": pd.to_datetime(["2022-02-01", "2022-05-01", "2021-05-01"])})
    >>> hires_by_subsidy(df, start="2022-01-01", end="2022-12-31").table.loc["all"].tolist()
    [1, 1, 2]
    """
    func = "hires_by_subsidy"
    _check_lang(lang, func)
    check_columns(data, [subsidy, gender, hire_date])
    s, e = _period(start, end, func)
    hires = _dates(data, hire_date)
    keep = pd.Series(True, index=data.index)
    if s is not None or e is not None:
        no_date = hires.isna().to_numpy()
        if no_date.any():
            raise data_error(hire_date, "hire dates must not be missing when a period is given", no_date)
    if s is not None:
        keep &= hires >= s
    if e is not None:
        keep &= hires <= e
    sub = data[keep.to_numpy()]
    _check_codes(sub, subsidy, categories, fix="Code hires without a subsidy as 'no_subsidy'.")
    table = _gender_table(sub, subsidy, categories, gender, genders, "subsidy")
    period = "".join([f" from {s.date()}" if s is not None else "", f" to {e.date()}" if e is not None else ""])
    notes = [f"hires{period}: {len(sub)} of {len(data)} rows"]
    return GenderTable(table=table, kind="hires_by_subsidy", notes=tuple(notes), lang=lang)


# ============================================================================================
# households with economic assistance


@dataclass(frozen=True)
class HouseholdSeries(_Display):
    """Unique households with economic assistance per month and the change against earlier years.

    Attributes
    ----------
    table : DataFrame
        Index ``month``; columns ``households`` (unique households; ``NaN`` where the month is
        missing from the data), ``change_1y`` and ``change_2y`` (relative change against the same
        month one and two years earlier; ``NaN`` where either month is missing).
    n_duplicates : int
        Household-month rows that repeat a household already counted in that month.
    missing_months : tuple of Period
    notes : tuple of str
    lang : {"en", "sv"}
    """

    table: pd.DataFrame
    n_duplicates: int = 0
    missing_months: tuple = ()
    notes: tuple[str, ...] = ()
    lang: str = "en"
    title_key: ClassVar[str] = "title_households"

    def summary(self) -> pd.DataFrame:
        """Long-ish tidy form: ``month``, ``year``, ``month_of_year``, ``households``, ``change_1y``, ``change_2y``."""
        out = self.table.reset_index()
        out.insert(1, "year", out["month"].dt.year)
        out.insert(2, "month_of_year", out["month"].dt.month)
        return out

    def change_text(self, month: str | pd.Period | None = None, lang: Lang | None = None) -> str:
        """``"-17.7% compared with the same month 2021, -26.2% compared with the same month 2020"``.

        Parameters
        ----------
        month : month-like, optional
            Default: the last month of the series.
        lang : {"en", "sv"}
        """
        lang = lang or self.lang  # type: ignore[assignment]
        m = pd.Period(month, "M") if month is not None else self.table.index.max()
        if m not in self.table.index:
            raise ParameterError(f"The 'month' parameter of change_text must be in the series "
                                 f"({self.table.index.min()} to {self.table.index.max()}). Got {month!r}.")
        row = self.table.loc[m]
        parts = [format_change(row[f"change_{k}y"], m.year - k, lang) for k in (1, 2)]  # type: ignore[arg-type]
        return ", ".join(p for p in parts if p)

    def published(self, lang: Lang | None = None, threshold: int = 5, mark: str = "..") -> pd.DataFrame:
        """Households and changes as strings; small counts and changes computed from them hidden."""
        lang = lang or self.lang  # type: ignore[assignment]
        _check_lang(lang, "HouseholdSeries.published")  # type: ignore[arg-type]
        t = self.table
        present = t["households"].dropna()
        out = pd.DataFrame(label("missing", lang), index=t.index, columns=t.columns, dtype=object)  # type: ignore[arg-type]
        hidden = pd.Series(False, index=t.index)
        if len(present):
            res = suppress(present.astype(int).to_frame(), threshold, mark, hidden_totals="ignore",
                           fmt=_fmt(lang))
            out.loc[present.index, "households"] = res.published["households"]
            hidden.loc[present.index] = res.mask["households"].to_numpy()
        for k in (1, 2):
            col = f"change_{k}y"
            lag_hidden = hidden.reindex(t.index - 12 * k, fill_value=False).to_numpy(dtype=bool)
            text = t[col].map(lambda v: format_percent(v, lang, 1, sign=True))  # type: ignore[arg-type]
            out[col] = np.where(hidden.to_numpy() | lag_hidden, mark, text)
            out.loc[t["households"].isna(), col] = label("missing", lang)  # type: ignore[arg-type]
        return relabel(out, lang)  # type: ignore[arg-type]

    def plot(self, ax: Any = None, *, years: Sequence[int] | None = None, lang: Lang | None = None,
             threshold: int = 5) -> Any:
        """One line per year over January to December (the seed's figure), the latest year bold."""
        import matplotlib.pyplot as plt

        lang = lang or self.lang  # type: ignore[assignment]
        v = self.table["households"].copy()
        v[(v > 0) & (v < threshold)] = np.nan
        all_years = sorted({p.year for p in v.index})
        years = list(years) if years is not None else all_years
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4.5))
            ax.figure.set_layout_engine("tight")
        x = np.arange(1, 13)
        last = max(years)
        for y in sorted(years, reverse=True):
            s = [v.get(pd.Period(f"{y}-{m:02d}", "M"), np.nan) for m in x]
            ax.plot(x, s, marker="o" if y == last else None, linewidth=2.5 if y == last else 1.2,
                    label=f"{label('year', lang)} {y}")  # type: ignore[arg-type]
        ax.set_xticks(x, [month_name(m, lang)[:3] for m in x])  # type: ignore[arg-type]
        ax.set_ylabel(label("households", lang))  # type: ignore[arg-type]
        title = label(self.title_key, lang)  # type: ignore[arg-type]
        change = self.change_text(lang=lang)
        ax.set_title(title + (f"\n{change}" if change else ""), fontsize=10)
        ax.legend(fontsize=8)
        return ax

    def __repr__(self) -> str:
        idx = self.table.index
        return (f"HouseholdSeries({len(idx)} months {idx.min()} to {idx.max()}, "
                f"{self.n_duplicates} duplicate rows, {len(self.missing_months)} missing months)")


def households_on_assistance(data: pd.DataFrame, *, household: str = "household_id", month: str = "month",
                             start: DateLike = None, end: DateLike = None,
                             lang: Lang = "en") -> HouseholdSeries:
    """Unique households with economic assistance per month, with the change against the same month
    one and two years earlier.

    Parameters
    ----------
    data : DataFrame
        One row per household and month with assistance (duplicates are counted once, and reported).
    household, month : str
        Columns: household identifier; month (Period, date or ``"2022-10"``).
    start, end : month-like, optional
        First and last month (default: the first and last month in the data). Months in the range
        without any row are flagged as missing (``NaN`` and a warning), never zero.
    lang : {"en", "sv"}

    Returns
    -------
    HouseholdSeries

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"household_id": ["a", "b", "c", "d", "a", "b", "c", "c"],
    ...                    "month": ["2021-01"] * 4 + ["2022-01"] * 4})
    >>> res = households_on_assistance(df, start="2022-01")
    >>> res.table  # doctest: +NORMALIZE_WHITESPACE
             households  change_1y  change_2y
    month
    2022-01         3.0      -0.25        NaN
    >>> res.n_duplicates
    1
    >>> res.change_text(lang="sv")
    '-25,0 % jämfört med samma månad 2021'
    """
    func = "households_on_assistance"
    _check_lang(lang, func)
    check_columns(data, [household, month])
    ids = data[household]
    if ids.isna().any():
        raise data_error(household, "household identifiers must not be missing", ids.isna().to_numpy())
    months = _months(data, month)
    # work on integer month ordinals: boxing 100,000s of Period objects is slow
    df = pd.DataFrame({"month": months.array.asi8, "id": ids.to_numpy()})
    n_dup = int(df.duplicated().sum())
    notes = []
    if n_dup:
        warnings.warn(f"{func}: {n_dup} duplicate household-month row(s); each household is counted once "
                      "per month.", ImpactWarning, stacklevel=2)
        notes.append(f"{n_dup} duplicate household-month rows counted once")
    to_period = lambda o: pd.Period(ordinal=int(o), freq="M")  # noqa: E731
    first = pd.Period(start, "M") if start is not None else to_period(df["month"].min())
    last = pd.Period(end, "M") if end is not None else to_period(df["month"].max())
    if last < first:
        raise ParameterError(f"The 'end' parameter of {func} must not be before 'start'. Got {start!r} to {end!r}.")
    rng_months = pd.period_range(first, last, freq="M", name="month")
    counts = df.drop_duplicates().groupby("month")["id"].size()
    n = pd.Series(counts.reindex(rng_months.asi8).to_numpy(dtype=float), index=rng_months)
    missing = [m for m, v in zip(rng_months, n.to_numpy()) if np.isnan(v)]
    if missing:
        _flag_missing(missing, "household rows", func)
        notes.append(f"{len(missing)} month(s) without rows are shown as missing: " + ", ".join(map(str, missing)))
    table = pd.DataFrame({"households": n})
    for k in (1, 2):
        lag = counts.reindex(rng_months.asi8 - 12 * k).to_numpy(dtype=float)
        table[f"change_{k}y"] = n.to_numpy() / lag - 1
    table.index.name = "month"
    return HouseholdSeries(table=table, n_duplicates=n_dup, missing_months=tuple(missing),
                           notes=tuple(notes), lang=lang)
