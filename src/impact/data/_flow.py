"""The flow table: who was dropped where, and why.

Every step that removes people records the counts before and after, by treatment group and by
subgroup (e.g. gender), so a reader sees the flow from everyone eligible to everyone analysed.
A :class:`Flow` is immutable: :meth:`Flow.add` returns a new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from impact._errors import ParameterError

__all__ = ["Flow"]

_COLUMNS = ["step", "reason", "treatment", "subgroup", "n_in", "n_out", "n_dropped"]


def _counts(df: pd.DataFrame, treatment: str | None, subgroup: str | None) -> dict[tuple[str, str], int]:
    """People by treatment group and subgroup level (the keys :meth:`Flow.add` records).

    By integer codes and ``np.bincount``; a categorical subgroup (whose unobserved levels count 0
    in ``value_counts``) or levels whose names collide as text go the pandas way.
    """
    sub = df[subgroup] if subgroup is not None and subgroup in df.columns else None
    if sub is not None and isinstance(sub.dtype, pd.CategoricalDtype):
        return _counts_pandas(df, treatment, subgroup)
    levels: list[str] = []
    scodes = np.zeros(0, dtype=np.int64)
    if sub is not None:
        scodes, uniques = pd.factorize(sub)
        levels = [str(u) for u in uniques]
        if len(set(levels)) < len(levels):
            return _counts_pandas(df, treatment, subgroup)
    out: dict[tuple[str, str], int] = {("all", "all"): int(len(df))}
    L = len(levels)
    if treatment is not None and treatment in df.columns:
        v = df[treatment]
        is1 = (v == 1).fillna(False).to_numpy(dtype=bool)
        is0 = (v == 0).fillna(False).to_numpy(dtype=bool)
        group = np.full(len(df), 2, dtype=np.int64)   # 0 treated, 1 control, 2 neither
        group[is0] = 1
        group[is1] = 0
        for g, n in zip(("treated", "control"), np.bincount(group, minlength=3)[:2]):
            if n:
                out[(g, "all")] = int(n)
        if sub is not None:
            ok = (group < 2) & (scodes >= 0)
            cells = np.bincount(group[ok] * L + scodes[ok], minlength=2 * L)
            for k in np.flatnonzero(cells):
                out[(("treated", "control")[k // L], levels[k % L])] = int(cells[k])
    if sub is not None:
        for s, n in zip(levels, np.bincount(scodes[scodes >= 0], minlength=L)):
            out[("all", s)] = int(n)
    return out


def _counts_pandas(df: pd.DataFrame, treatment: str | None, subgroup: str | None) -> dict[tuple[str, str], int]:
    out: dict[tuple[str, str], int] = {("all", "all"): int(len(df))}
    if treatment is not None and treatment in df.columns:
        # compare, not map: a dict {1: ..., 0: ..., True: ..., False: ...} is {1: ..., 0: ...} (True == 1),
        # and Series.map looks booleans up in an int index and finds nothing
        v = df[treatment]
        is1 = (v == 1).fillna(False).to_numpy(dtype=bool)
        is0 = (v == 0).fillna(False).to_numpy(dtype=bool)
        t = pd.Series(np.full(len(df), None, dtype=object), index=df.index)
        t[is1] = "treated"
        t[is0] = "control"
        for g, n in t.value_counts().items():
            out[(str(g), "all")] = int(n)
        if subgroup is not None and subgroup in df.columns:
            for (g, s), n in df.groupby([t, df[subgroup]], observed=True).size().items():
                out[(str(g), str(s))] = int(n)
    if subgroup is not None and subgroup in df.columns:
        for s, n in df[subgroup].value_counts().items():
            out[("all", str(s))] = int(n)
    return out


@dataclass(frozen=True)
class Flow:
    """Counts of people at each step of an evaluation.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"treat": [1, 0, 0, 1], "gender": ["f", "m", "f", "m"]})
    >>> flow = Flow().add("eligible", "registered job seekers", df, df, treatment="treat")
    >>> flow = flow.add("matched", "no control within caliper", df, df.iloc[:2], treatment="treat")
    >>> int(flow.table().loc["matched", "control"])
    1
    """

    records: tuple[dict, ...] = field(default_factory=tuple)

    def add(self, step: str, reason: str, before: pd.DataFrame, after: pd.DataFrame, *,
            treatment: str | None = None, subgroup: str | None = None) -> "Flow":
        """Return a new flow with one more step: ``after`` are the rows of ``before`` kept."""
        counts_in = _counts(before, treatment, subgroup)
        return self.add_counts(step, reason, counts_in,
                               counts_in if after is before else _counts(after, treatment, subgroup))

    def add_counts(self, step: str, reason: str, counts_in: Mapping[tuple[str, str], int],
                   counts_out: Mapping[tuple[str, str], int]) -> "Flow":
        """Return a new flow with one more step, from counts made elsewhere (e.g. with ``np.bincount``).

        ``counts_in`` and ``counts_out`` map ``(treatment group, subgroup)`` to a number of people,
        with the keys :meth:`add` makes: treatment group ``"all"``, ``"treated"`` or ``"control"``;
        subgroup ``"all"`` or ``str(level)``. ``("all", "all")`` is everyone. A key missing from one
        side counts 0 there. The records are the ones :meth:`add` would make from the same rows.

        Examples
        --------
        >>> flow = Flow().add_counts("matched", "no control within caliper",
        ...                          {("all", "all"): 10, ("treated", "all"): 4, ("control", "all"): 6},
        ...                          {("all", "all"): 7, ("treated", "all"): 3, ("control", "all"): 4})
        >>> [int(v) for v in flow.table().loc["matched", ["all", "treated", "control", "dropped"]]]
        [7, 3, 4, 3]
        """
        new: list[dict[str, Any]] = []
        for key in counts_in.keys() | counts_out.keys():
            if not (isinstance(key, tuple) and len(key) == 2):
                raise ParameterError(f"Flow.add_counts: count keys must be (treatment group, subgroup) pairs. "
                                     f"Got {key!r}.")
            n_in, n_out = int(counts_in.get(key, 0)), int(counts_out.get(key, 0))
            new.append(dict(step=step, reason=reason, treatment=str(key[0]), subgroup=str(key[1]),
                            n_in=n_in, n_out=n_out, n_dropped=n_in - n_out))
        order = {"all": 0, "treated": 1, "control": 2}
        new.sort(key=lambda r: (order.get(r["treatment"], 3), r["subgroup"] != "all", r["subgroup"]))
        return Flow(self.records + tuple(new))

    def extend(self, other: "Flow") -> "Flow":
        """Append the steps of ``other`` after these."""
        return Flow(self.records + other.records)

    def to_frame(self) -> pd.DataFrame:
        """Long form: one row per step, treatment group and subgroup."""
        return pd.DataFrame(list(self.records), columns=_COLUMNS)

    def table(self) -> pd.DataFrame:
        """Wide form for reading: one row per step, people kept by treatment group, and the reason."""
        df = self.to_frame()
        if df.empty:
            return pd.DataFrame(columns=["reason", "all", "treated", "control"])
        df = df[df["subgroup"] == "all"]
        steps = list(dict.fromkeys(df["step"]))
        wide = df.pivot_table(index="step", columns="treatment", values="n_out", aggfunc="first")
        wide = wide.reindex(steps)
        cols = [c for c in ["all", "treated", "control"] if c in wide.columns]
        wide = wide[cols].fillna(0).astype(int)
        dropped = df.pivot_table(index="step", columns="treatment", values="n_dropped", aggfunc="first")
        wide["dropped"] = dropped.reindex(steps)["all"].fillna(0).astype(int)
        wide.insert(0, "reason", df.drop_duplicates("step").set_index("step").reindex(steps)["reason"])
        wide.columns.name = None
        return wide

    def __repr__(self) -> str:
        steps = list(dict.fromkeys(r["step"] for r in self.records))
        return f"Flow({len(steps)} steps: {', '.join(steps)})"
