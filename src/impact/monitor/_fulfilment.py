"""The goal-fulfilment table: every goal judged against the records, and its published form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from impact._errors import DataError, ParameterError, data_error
from impact._validation import InstanceOf, check_columns, suggest, validate_params
from impact.labels import Lang, label, relabel
from impact.monitor._common import (COLUMN_OR_NONE, DATA, DISCLOSURE, GENDER_MAP, LANG, LANG_OR_NONE, PTABLE_,
                                    SECRET, Display, disclosure_params, gender_of, no_cells, perturbed,
                                    record_ids)
from impact.monitor._goals import (CELLS, GOAL_CLASSES, JUDGEMENTS, Goal, JudgedGoal, display_row, from_parts,
                                   rule_text)
from impact.monitor._goals_config import goals_from_config
from impact.publish import MARK, CellKeyTable


@dataclass(frozen=True)
class GoalFulfilment(Display):
    """The goal-fulfilment table.

    Attributes
    ----------
    table : DataFrame
        One row per goal: ``goal``, ``kind``, ``target``, ``measured``, ``judgement``, ``n`` (people
        the measure is based on), ``rule`` (English text of the rule).
    records : tuple of mapping
        Each goal as judged (read-only): what ``published`` needs, e.g. ``counts`` (the counts of
        people a measure rests on) and ``changes`` (before/after counts by state).
    notes : tuple of str
    lang : {"en", "sv"}
        Language of the notebook display.
    cells : DataFrame
        The people behind each part of each goal's counts: ``row`` (the goal), ``column`` (the
        part: ``women``/``men``, ``yes``/``no``, ``<state>:start``, ...), ``id``. Not for
        publication: what the cell-key method (``published(disclosure="cellkey")``) keys its noise
        on, with the same record keys as the monthly tables (the same people, the same noise).
    disclosure : {"threshold", "cellkey"}
        ``"cellkey"`` for the result of :meth:`perturbed`: every count already carries its noise.
    """

    table: pd.DataFrame
    records: tuple[JudgedGoal, ...] = field(repr=False, default=())
    notes: tuple[str, ...] = ()
    lang: Lang = "en"
    cells: pd.DataFrame = field(default_factory=no_cells, repr=False, compare=False)
    disclosure: str = "threshold"
    _TITLE: ClassVar[str] = "title_goal_fulfilment"

    def summary(self) -> pd.DataFrame:
        """The tidy table (snake_case columns, keys not labels)."""
        return self.table.copy()

    @validate_params({"secret": SECRET, "ptable": PTABLE_}, name="GoalFulfilment.perturbation")
    def perturbation(self, secret: str | None, ptable: Mapping[int, Mapping[int, float]] | None = None) -> CellKeyTable:
        """The parts of every goal's counts with cell-key noise (:func:`impact.publish.cell_key_counts`):
        rows are goals, columns parts; ``.counts`` are the true ones (not for publication)."""
        goals = [r["goal"] for r in self.records if r["parts"]]
        parts = list(dict.fromkeys(p for r in self.records for p in r["parts"]))
        return perturbed(self.cells, secret, "GoalFulfilment.perturbation", index=goals, columns=parts,
                         ptable=ptable)

    @validate_params({"secret": SECRET, "ptable": PTABLE_}, name="GoalFulfilment.perturbed")
    def perturbed(self, secret: str | None, ptable: Mapping[int, Mapping[int, float]] | None = None
                  ) -> GoalFulfilment:
        """The goal table as the cell-key method publishes it: every count of people perturbed
        (the same noise as every other table gives the same people), and each goal's measure,
        shares, test and judgement computed again from the perturbed counts, so that no verdict
        contradicts a published number. Counts are the sums of their perturbed parts (a count goal
        is its women plus its men). Nothing is hidden: small counts carry their noise instead.

        Returns
        -------
        GoalFulfilment
            With ``disclosure="cellkey"``, no ``cells`` and notes that count people from the
            perturbed counts too.
        """
        if self.disclosure == "cellkey":
            return self
        pub = self.perturbation(secret, ptable).published
        records: list[JudgedGoal] = []
        counted: list[str] = []
        for r in self.records:
            if not r["parts"]:
                records.append(r)
                continue
            n = {p: int(pub.at[r["goal"], p]) for p in r["parts"]}
            new, goal_notes = from_parts(r, n)
            records.append(JudgedGoal(new))
            counted += goal_notes
        kept = [n for n in self.notes if not n.startswith("goal '")]  # the notes that count people: again
        notes = counted + kept + ["cell-key method: every count of people carries a small noise (the same for the "
                                  "same people in every table and release); measures and judgements are computed "
                                  "from the perturbed counts"]
        return GoalFulfilment(table=_table(records), records=tuple(records), notes=tuple(notes), lang=self.lang,
                              disclosure="cellkey")

    def _shown(self, disclosure: str, secret: str | None) -> GoalFulfilment:
        return self.perturbed(secret) if disclosure == "cellkey" else self

    @validate_params(disclosure_params(), name="GoalFulfilment.published")
    def published(self, lang: Lang | None = None, threshold: int = 5, mark: str = MARK, *,
                  disclosure: str = "threshold", secret: str | None = None) -> pd.DataFrame:
        """The table to print: labelled, with measures based on fewer than ``threshold`` people hidden
        (``disclosure="threshold"``), or every count perturbed by the cell-key method and the
        measures and judgements computed from the perturbed counts (``disclosure="cellkey"``, with
        the office's ``secret``; see :meth:`perturbed`)."""
        lang_: Lang = self.lang if lang is None else lang
        res = self._shown(disclosure, secret)
        below = 1 if res.disclosure == "cellkey" else threshold   # perturbed counts are not hidden
        rows = [display_row(r, lang_, below, mark) for r in res.records]
        out = pd.DataFrame(rows, columns=["goal", "target", "measured", "judgement", "rule"])
        return relabel(out, lang_, values=False).set_index(label("goal", lang_))

    @validate_params({"lang": LANG_OR_NONE, "disclosure": DISCLOSURE, "secret": SECRET}, name="GoalFulfilment.plot")
    def plot(self, ax: Any = None, lang: Lang | None = None, *, disclosure: str = "threshold",
             secret: str | None = None) -> Any:
        """Horizontal bars: each goal's judgement (achieved = 2, partly = 1, not = 0), as published
        (with ``disclosure="cellkey"`` the judgements from the perturbed counts). Returns the Axes."""
        import textwrap

        import matplotlib.pyplot as plt

        lang_: Lang = self.lang if lang is None else lang
        res = self._shown(disclosure, secret)
        names = ["\n".join(textwrap.wrap(n, 42, max_lines=2, placeholder=" ...")) for n in
                 res.published(lang_).index.tolist()]
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 0.62 * len(res.table) + 1.2))
            ax.figure.set_layout_engine("tight")
        score = res.table["judgement"].map({"achieved": 2, "partly_achieved": 1, "not_achieved": 0})
        colours = res.table["judgement"].map({"achieved": "#3a7d44", "partly_achieved": "#e0a100",
                                              "not_achieved": "#b23a48"})
        y = np.arange(len(score))[::-1]
        ax.barh(y, score + 0.15, color=colours.tolist())
        ax.set_yticks(y, names)
        ax.set_xlim(-0.1, 2.6)
        ax.set_xticks([0, 1, 2], ["\n".join(textwrap.wrap(label(j, lang_), 10)) for j in reversed(JUDGEMENTS)])
        ax.set_title(label(self.title_key, lang_))
        return ax

    def __repr__(self) -> str:
        counts = self.table["judgement"].value_counts()
        return (f"GoalFulfilment({len(self.table)} goals: {int(counts.get('achieved', 0))} achieved, "
                f"{int(counts.get('partly_achieved', 0))} partly, {int(counts.get('not_achieved', 0))} not)")


def _goals(goals: Any) -> list[Goal]:
    if isinstance(goals, (str, Path, Mapping)) or (len(goals) and isinstance(goals[0], Mapping)):
        return goals_from_config(goals)
    out = list(goals)
    for g in out:
        if not isinstance(g, GOAL_CLASSES):
            raise ParameterError(f"Not a goal: {g!r}. Use CountGoal, ShareGoal, GenderBalanceGoal, "
                                 "BeforeAfterGoal, ManualGoal or goals_from_config.")
    return out


@validate_params({"data": DATA, "goals": [InstanceOf((Sequence, Mapping, str, Path),
                                                     "a list of goals, or a goal config")],
                  "id": COLUMN_OR_NONE, "gender": COLUMN_OR_NONE, "genders": GENDER_MAP, "lang": LANG})
def goal_fulfilment(data: pd.DataFrame, goals: Sequence[Goal] | Sequence[Mapping[str, Any]] | Mapping[str, Any]
                    | str | Path, *, id: str | None = "person_id", gender: str | None = "gender",
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
    >>> from impact.monitor import CountGoal
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
    goal_list = _goals(goals)
    check_columns(data, [c for c in (id, gender) if c is not None])
    names = [g.name for g in goal_list]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ParameterError(f"Goal names must be unique; {dup} occur more than once.")
    for g in goal_list:
        for col in g.columns():
            if col not in data.columns:
                raise DataError(
                    f"Goal '{g.name}' refers to column '{col}', which is not in the data."
                    f"{suggest(col, list(map(str, data.columns)))} The data have columns: "
                    f"{', '.join(map(str, list(data.columns)[:15]))}{', ...' if data.shape[1] > 15 else ''}.",
                    column=col, rule="column must exist")
    # without an id, each row is a record; its cell-key identity is its content (as in the monthly tables)
    ids = data[id] if id is not None else pd.Series(record_ids(data, None), index=data.index)
    if id is not None and ids.isna().any():
        raise data_error(id, "identifiers must not be missing", ids.isna().to_numpy())
    g_series = gender_of(data, gender, genders, "goal_fulfilment") if gender is not None else None
    notes: list[str] = []
    if id is not None:
        n_dup = int(ids.duplicated().sum())
        if n_dup:
            notes.append(f"{n_dup} rows repeat a person already counted; each person is counted once")
    records = []
    cells = []
    for g in goal_list:
        rec, goal_notes = g._judge(data, ids, g_series)
        for part, who in rec.pop(CELLS, {}).items():   # the people stay beside the record, never in it
            cells.append(pd.DataFrame({"row": g.name, "column": part, "id": who}))
        records.append(JudgedGoal(rec))
        notes += goal_notes
    notes.append("partly achieved: counts and shares from 75% of the target; gender balance within "
                 "twice the tolerance (unless a goal says otherwise)")
    frame = pd.concat(cells, ignore_index=True) if cells else no_cells()
    return GoalFulfilment(table=_table(records), records=tuple(records), notes=tuple(notes), lang=lang,
                          cells=frame.astype(object))


def _table(records: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame([dict(goal=r["goal"], kind=r["kind"], target=r["target"], measured=r["measured"],
                              judgement=r["judgement"], n=r["n"], rule=rule_text(r, "en"))
                         for r in records],
                        columns=["goal", "kind", "target", "measured", "judgement", "n", "rule"])
