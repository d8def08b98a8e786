"""Column roles and input validation: every check runs first, and names column, rule and rows.

The user declares once which column plays which role (:class:`Roles`), then :func:`validate`
checks the data against every rule and returns a clean copy (dates parsed, treatment as 0/1)
together with the first steps of the flow table. Nothing is dropped silently: rows are only
removed when the user asks for it (``missing="drop"``), and then counted in the flow.

Row positions in messages are 0-based positions (``df.iloc[...]``), never identifier values.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

import numpy as np
import pandas as pd

from impact._errors import DataError, ParameterError
from impact._validation import (InstanceOf, Options, check_columns, check_option, check_treatment, column_error,
                                looks_like_date, parse_date, parse_dates, validate_params)
from impact.data._flow import Flow

__all__ = ["Roles", "Validated", "ValidationError", "validate", "require_subgroup_levels"]

DEFAULT_EXIT_CODES: dict[str, str] = {"work": "event", "studies": "event", "other": "competing"}


@dataclass(frozen=True)
class Roles:
    """Which column plays which role in an evaluation.

    Parameters
    ----------
    id : str
        Person (or household) identifier. Used only to check uniqueness and to break ties
        stably; never printed.
    treatment : str
        1 (or True) for participants, 0 (or False) for potential controls.
    start : str
        Programme start date for participants; for potential controls the date at which their
        covariates were measured (their reference date).
    exit_date, exit_type : str, optional
        Date of leaving unemployment and where to (``exit_codes``). Both missing means still
        registered at the cut-off (censored).
    cutoff : str or date-like, optional
        Data cut-off: a column name or one date for everyone, written ``YYYY-MM-DD`` (ISO 8601;
        ``"01/10/2022"`` is refused, it could be 1 October or 10 January). Follow-up ends there.
    subgroup : str, optional
        Column to report effects by, e.g. ``"gender"``.
    covariates : sequence of str
        Characteristics known at the start date, used for matching and balance.
    exit_codes : dict
        Each exit type and its role: ``"event"`` (the outcome: work or studies) or
        ``"competing"`` (another exit that ends the spell).

    Examples
    --------
    >>> roles = Roles(id="person_id", treatment="participant", start="start_date",
    ...               exit_date="exit_date", exit_type="exit_type", cutoff="2022-10-31",
    ...               subgroup="gender", covariates=("age", "education"))
    >>> roles.columns()[:3]
    ['person_id', 'participant', 'start_date']
    """

    id: str
    treatment: str
    start: str
    exit_date: str | None = None
    exit_type: str | None = None
    cutoff: str | pd.Timestamp | None = None
    subgroup: str | None = None
    covariates: tuple[str, ...] = ()
    exit_codes: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_EXIT_CODES))

    def __post_init__(self) -> None:
        object.__setattr__(self, "covariates", tuple(self.covariates))
        for code, role in self.exit_codes.items():
            check_option(f"exit_codes[{code!r}]", role, ["event", "competing"], "Roles")
        if (self.exit_date is None) != (self.exit_type is None):
            raise ParameterError("Roles: give both 'exit_date' and 'exit_type', or neither.")
        if self.cutoff is not None and not (isinstance(self.cutoff, str) and not looks_like_date(self.cutoff)):
            # a date (not a column name): ISO 8601, never guessed day or month first ("01/10/2022")
            parse_date(self.cutoff, "cutoff")

    def cutoff_is_column(self, data: pd.DataFrame) -> bool:
        return isinstance(self.cutoff, str) and self.cutoff in data.columns

    def columns(self, data: pd.DataFrame | None = None) -> list[str]:
        """Every column the roles refer to, in role order."""
        cols = [self.id, self.treatment, self.start]
        cols += [c for c in (self.exit_date, self.exit_type, self.subgroup) if c is not None]
        if isinstance(self.cutoff, str) and (not looks_like_date(self.cutoff)
                                             or (data is not None and self.cutoff in data.columns)):
            cols.append(self.cutoff)
        cols += [c for c in self.covariates if c not in cols]
        return cols


@dataclass(frozen=True)
class Validated:
    """Data that passed every check, with dates parsed, and the flow so far."""

    data: pd.DataFrame
    roles: Roles
    flow: Flow

    def __repr__(self) -> str:
        t = self.data[self.roles.treatment]
        return f"Validated({len(self.data)} rows: {int(t.sum())} treated, {int((t == 0).sum())} untreated)"

    def _repr_html_(self) -> str:
        from impact._display import frame_html, pairs_html, title_html

        t = self.data[self.roles.treatment]
        head = [("rows", len(self.data)), ("treated", int((t == 1).sum())), ("untreated", int((t == 0).sum())),
                ("covariates", ", ".join(self.roles.covariates) or "none"),
                ("subgroup", self.roles.subgroup or "none")]
        return (f"<div>{title_html('impact.Validated')}{pairs_html(head)}<p>Flow</p>"
                f"{frame_html(self.flow.table())}</div>")


class ValidationError(DataError):
    """Every rule the data break, found in one run of :func:`validate`.

    A :class:`DataError` (``column``, ``rule`` and ``positions`` are those of the first problem);
    the message lists every problem, one a line. With a single problem the message is that
    problem's own message.

    Attributes
    ----------
    errors : tuple of DataError
        One error per problem, in the order the rules are checked.
    problems : DataFrame
        One row per problem: ``column``, ``rule``, ``n_rows`` (rows breaking it; missing when
        the rule is about the column, not rows), ``first_positions`` (0-based positions in the
        data as given, at most 5) and ``fix``.
    """

    def __init__(self, errors: Sequence[DataError]) -> None:
        errors = tuple(errors)
        if not errors:
            raise ValueError("ValidationError needs at least one problem")
        self.errors: tuple[DataError, ...] = errors
        first = errors[0]
        if len(errors) == 1:
            message = str(first)
        else:
            lines = "\n".join(f"  {i}. {e}" for i, e in enumerate(errors, 1))
            message = (f"The data break {len(errors)} rules (all are listed; fix them and run again; "
                       f"the table is in .problems):\n{lines}")
        super().__init__(message, column=first.column, rule=first.rule, positions=first.positions)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.errors,))

    @property
    def problems(self) -> pd.DataFrame:
        rows = [dict(column=e.column, rule=e.rule, n_rows=getattr(e, "n_rows", None),
                     first_positions=tuple(e.positions), fix=getattr(e, "fix", None)) for e in self.errors]
        out = pd.DataFrame(rows, columns=["column", "rule", "n_rows", "first_positions", "fix"])
        out["n_rows"] = out["n_rows"].astype("Int64")
        return out


class _Problems:
    """The problems found so far; each check runs even when an earlier one failed."""

    def __init__(self) -> None:
        self.errors: list[DataError] = []

    def add(self, error: DataError) -> None:
        self.errors.append(error)

    def rows(self, column: str, rule: str, mask: np.ndarray, fix: str | None = None) -> None:
        self.errors.append(column_error(column, rule, mask, fix))

    def attempt(self, check: Callable[[], Any]) -> tuple[bool, Any]:
        """Run one check; a :class:`DataError` is recorded and ``(False, None)`` returned."""
        try:
            return True, check()
        except DataError as exc:
            self.errors.append(exc)
            return False, None

    def raise_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


#: a number written with a decimal comma ("35,5"), a unit ("35 år", "12 %"), a decimal point or
#: thousands separators ("1 200"): text that would become one category per value
_DECIMAL_COMMA = r"^[-+\u2212]?(?:\d{1,3}(?:[ \u00a0\u202f.]\d{3})+|\d+),\d+$"
_UNIT = r"^[-+\u2212]?\d+(?:[.,]\d+)?\s*(?:%|[^\W\d_]{2,}\.?(?:/[^\W\d_]+\.?)?)$"
_DECIMAL_POINT = r"^[-+\u2212]?\d+\.\d+$"
_THOUSANDS = r"^[-+\u2212]?\d{1,3}(?:[ \u00a0\u202f]\d{3})+$"
_INTEGER = r"^[-+\u2212]?\d+$"


def _numbers_as_text(values: pd.Series, column: str, missing: np.ndarray | None = None) -> DataError | None:
    """An error when a text covariate holds numbers (decimal commas, units): they would become categories.

    Every rule reads one value at a time, so it runs on the distinct values (a register column
    holds a few hundred among a million rows) and the rows take their value's answer.
    """
    if not (values.dtype == object or pd.api.types.is_string_dtype(values)):
        return None
    present = values.notna().to_numpy() if missing is None else ~missing
    if not present.any():
        return None
    codes, uniques = pd.factorize(values)
    if not np.array_equal(codes >= 0, present):   # missing values not seen alike: value by value
        return _numbers_as_text_rows(values, column, present)
    distinct = pd.Series(uniques)
    text = distinct.astype(str).str.strip()
    is_str = np.asarray(distinct.map(lambda v: isinstance(v, str)).to_numpy(), dtype=bool)
    kinds = {name: np.asarray(text.str.match(pattern).to_numpy(), dtype=bool) & is_str for name, pattern in
             (("comma", _DECIMAL_COMMA), ("unit", _UNIT), ("point", _DECIMAL_POINT), ("thousands", _THOUSANDS))}
    evidence = np.logical_or.reduce(list(kinds.values()))
    if not evidence.any():
        return None
    numeric = evidence | (np.asarray(text.str.match(_INTEGER).to_numpy(), dtype=bool) & is_str) | ~is_str
    rows = codes[present]
    if int(np.bincount(rows, minlength=len(distinct))[numeric].sum()) / rows.size < 0.9:
        return None
    mask = np.zeros(len(values), dtype=bool)
    mask[np.flatnonzero(present)[evidence[rows]]] = True
    first = int(np.flatnonzero(mask)[0])
    return _text_error(column, kinds, str(text.iloc[codes[first]]), len(distinct), mask)


def _numbers_as_text_rows(values: pd.Series, column: str, present: np.ndarray) -> DataError | None:
    """:func:`_numbers_as_text` value by value (when factorising sees missing values differently)."""
    text = values[present].astype(str).str.strip()
    is_str = values[present].map(lambda v: isinstance(v, str)).to_numpy()
    kinds = {name: text.str.match(pattern).to_numpy() & is_str for name, pattern in
             (("comma", _DECIMAL_COMMA), ("unit", _UNIT), ("point", _DECIMAL_POINT), ("thousands", _THOUSANDS))}
    evidence = np.logical_or.reduce(list(kinds.values()))
    numeric = evidence | (text.str.match(_INTEGER).to_numpy() & is_str) | ~is_str
    if not evidence.any() or numeric.mean() < 0.9:
        return None
    mask = np.zeros(len(values), dtype=bool)
    mask[np.flatnonzero(present)[evidence]] = True
    return _text_error(column, kinds, str(text[evidence].iloc[0]), int(values[present].nunique()), mask)


def _text_error(column: str, kinds: dict[str, np.ndarray], example: str, n_levels: int,
                mask: np.ndarray) -> DataError:
    convert = (f"df[{column!r}] = pd.to_numeric(df[{column!r}].str.extract(r'([-+]?\\d+(?:[.,]\\d+)?)')[0]"
               f".str.replace(',', '.'))")
    if kinds["unit"].any():
        what = f"numbers written with a unit (e.g. {example!r})"
        fix = f"Strip the unit and read the numbers: {convert}."
    elif kinds["comma"].any():
        what = f"numbers written with a decimal comma (e.g. {example!r})"
        fix = ("Read the file with decimal=',' (e.g. pd.read_csv(path, sep=';', decimal=',')); in the TOML file: "
               f"[data] decimal = \",\"; or convert: df[{column!r}] = pd.to_numeric("
               f"df[{column!r}].str.replace(' ', '').str.replace(',', '.')).")
    elif kinds["thousands"].any():
        what = f"numbers written with a thousands separator (e.g. {example!r})"
        fix = ("Read the file with thousands=' '; in the TOML file: [data] thousands = \" \"; or convert: "
               f"df[{column!r}] = pd.to_numeric(df[{column!r}].str.replace(r'\\s', '', regex=True)).")
    else:
        what = f"numbers stored as text (e.g. {example!r})"
        fix = f"Convert them: df[{column!r}] = pd.to_numeric(df[{column!r}])."
    return column_error(column, f"covariate holds {what}; as text it would become {n_levels} categories", mask,
                        fix)


@validate_params({"data": [InstanceOf(pd.DataFrame, "a pandas DataFrame")],
                  "roles": [InstanceOf(Roles, "a Roles (impact.Roles)")],
                  "missing": [Options(["error", "drop"])],
                  "date_format": [InstanceOf(str, "a str"), None]})
def validate(data: pd.DataFrame, roles: Roles, *, missing: Literal["error", "drop"] = "error",
             date_format: str | None = None) -> Validated:
    """Check ``data`` against every rule the roles imply, before anything else runs.

    Every rule is checked, and every rule broken is reported in one :class:`ValidationError`
    (a :class:`DataError`): its message lists them all, its ``.problems`` is a table (column,
    rule, number of rows, first row positions, fix). Rules: every role column exists; no missing
    identifiers, treatments, start dates or covariates (unless ``missing="drop"``, which drops
    and counts the rows); treatment is 0/1 or boolean; identifiers are unique; dates are ISO 8601
    (``YYYY-MM-DD``) or follow ``date_format``, exist and are within what pandas holds; exit date
    and exit type are both present or both missing; exit types are declared in
    ``roles.exit_codes``; no exit before the start; no start after the cut-off; no subgroup value
    missing; covariates hold no infinite values and no numbers written as text (decimal commas,
    units, which would become categories); there are treated and untreated rows.

    Row positions are 0-based positions in ``data`` as given (``data.iloc[...]``), never
    identifier values.

    Parameters
    ----------
    data : DataFrame
        One row per person (participants and potential controls).
    roles : Roles
        Which column plays which role.
    missing : {"error", "drop"}
        What to do with missing covariate values. ``"drop"`` removes those rows and records
        them in the flow table as "missing covariates".
    date_format : str, optional
        strftime format of the date columns when they are strings; ISO 8601 by default.

    Returns
    -------
    Validated
        ``.data`` (a copy with parsed dates, treatment as 0/1, original index kept) and
        ``.flow`` (eligible, then any rows dropped).

    Raises
    ------
    ValidationError
        Listing every rule broken.

    Examples
    --------
    >>> import impact
    >>> sim = impact.simulate(n_pool=2000, random_state=1)
    >>> v = validate(sim.registers, sim.roles)
    >>> bool(v.flow.table().loc["eligible", "all"] == len(sim.registers))
    True
    >>> bad = sim.registers.assign(participant=sim.registers["participant"].map({1: "ja", 0: "nej"}),
    ...                            age=sim.registers["age"].astype(str).str.replace(".", ",") + " år")
    >>> try:
    ...     validate(bad, sim.roles)
    ... except ValidationError as err:
    ...     print(err.problems[["column", "n_rows"]].to_string(index=False))
         column  n_rows
    participant    2000
            age    2000
    """
    if len(data) == 0:
        raise DataError("The data have no rows.", rule="data must not be empty")
    on_id = [name for name in ("treatment", "start", "exit_date", "exit_type", "subgroup", "cutoff")
             if getattr(roles, name) == roles.id] + (["covariates"] if roles.id in roles.covariates else [])
    if on_id:
        raise ParameterError(
            f"The '{on_id[0]}' role points at the identifier column '{roles.id}'. Identifiers are never "
            f"analysed or shown; give the '{on_id[0]}' role another column (in TOML: [columns] {on_id[0]} = ...).")
    found = _Problems()
    wanted = roles.columns(data)
    absent = [c for c in wanted if c not in data.columns]
    for col in absent:
        found.attempt(partial(check_columns, data, [col], role="column"))

    def has(col: str | None) -> bool:
        return col is not None and col in data.columns

    df = data.copy()
    sub = roles.subgroup

    # identifiers: present and unique
    if has(roles.id):
        ids = df[roles.id]
        id_missing = ids.isna().to_numpy()
        if id_missing.any():
            found.rows(roles.id, "missing identifiers", id_missing,
                       f"Find them with df[df[{roles.id!r}].isna()].")
        dup = _duplicated(ids, id_missing)
        if dup.any():
            found.rows(roles.id, "duplicate identifiers (each person must appear once)", dup,
                       f"Inspect with df[df[{roles.id!r}].duplicated(keep=False)].")

    treatment_ok = start_ok = exit_ok = False
    if has(roles.treatment):
        treatment_ok, value = found.attempt(lambda: check_treatment(df[roles.treatment], roles.treatment))
        if treatment_ok:
            df[roles.treatment] = value
    if has(roles.start):
        start_ok, value = found.attempt(lambda: parse_dates(df[roles.start], roles.start, date_format=date_format))
        if start_ok:
            df[roles.start] = value

    if roles.exit_date is not None and roles.exit_type is not None:
        if has(roles.exit_date):
            exit_ok, value = found.attempt(lambda: parse_dates(df[str(roles.exit_date)], str(roles.exit_date),
                                                               allow_missing=True, date_format=date_format))
            if exit_ok:
                df[roles.exit_date] = value
        if has(roles.exit_type):
            et = df[roles.exit_type]
            if exit_ok:
                mismatch = (df[roles.exit_date].isna() != et.isna()).to_numpy()
                if mismatch.any():
                    found.rows(f"{roles.exit_date}/{roles.exit_type}",
                               "exit date and exit type must both be present or both missing "
                               "(missing both means still registered at the cut-off)", mismatch)
            unknown = et.notna().to_numpy() & ~et.isin(list(roles.exit_codes)).to_numpy()
            if unknown.any():
                codes = ", ".join(repr(v) for v in pd.unique(et[unknown])[:10])
                found.rows(str(roles.exit_type), f"exit types not declared in exit_codes: {codes} "
                           f"(declared: {', '.join(map(repr, roles.exit_codes))})", unknown,
                           "Declare them, e.g. Roles(..., exit_codes={'work': 'event', ...}); in the TOML file "
                           "[columns.exit_codes] with one line per code, e.g. work = \"event\".")
        if exit_ok and start_ok:
            before = (df[roles.exit_date] < df[roles.start]).to_numpy()
            if before.any():
                found.rows(roles.exit_date, f"exit before the start date ('{roles.start}')", before)

    if roles.cutoff is not None and start_ok and (not roles.cutoff_is_column(df) or has(str(roles.cutoff))):
        cut_ok, cut = found.attempt(lambda: _cutoff_series(df, roles, date_format))
        if cut_ok:
            late = (df[roles.start] > cut).to_numpy()
            if late.any():
                found.rows(roles.start, "start date after the data cut-off", late,
                           "People who start after the cut-off cannot be followed up; "
                           "filter them out first.")
    if sub is not None and has(sub):
        smiss = df[sub].isna().to_numpy()
        if smiss.any():
            found.rows(sub, "missing subgroup values", smiss,
                       f"Give every row a value, e.g. df[{sub!r}] = df[{sub!r}].fillna('unknown').")

    covariates = [c for c in roles.covariates if has(c)]
    cov_na = {c: df[c].isna().to_numpy() for c in covariates}
    for c in covariates:
        col = df[c]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            inf = np.isinf(col.to_numpy(dtype=np.float64, na_value=np.nan))
            if inf.any():
                found.rows(c, "infinite covariate values (inf or -inf)", inf,
                           f"Replace them, e.g. df[{c!r}] = df[{c!r}].replace([np.inf, -np.inf], np.nan), "
                           "then impute or pass missing='drop'.")
        else:
            text_error = _numbers_as_text(col, c, cov_na[c])
            if text_error is not None:
                found.add(text_error)
    cov_missing = {c: int(na.sum()) for c, na in cov_na.items() if na.any()}
    if cov_missing and missing == "error":
        anymiss = np.logical_or.reduce([cov_na[c] for c in cov_missing])
        detail = ", ".join(f"'{c}' ({n})" for c, n in cov_missing.items())
        found.rows(next(iter(cov_missing)), f"missing covariate values in {detail}", anymiss,
                   "Impute them, or pass missing='drop' to drop those rows "
                   "(they are then counted in the flow table); in the TOML file: [design] missing = \"drop\".")
    if treatment_ok and not (cov_missing and missing == "drop"):
        _check_groups(df, roles, found)
    found.raise_any()

    flow = Flow().add("eligible", "rows in the input", df, df, treatment=roles.treatment, subgroup=sub)
    if cov_missing:  # missing == "drop": drop those rows and count them
        keep = ~df[list(cov_missing)].isna().any(axis=1)
        before_df = df
        df = df[keep]
        flow = flow.add("complete covariates", "missing covariate values", before_df, df,
                        treatment=roles.treatment, subgroup=sub)
        after = _Problems()
        _check_groups(df, roles, after)
        after.raise_any()
    return Validated(data=df, roles=roles, flow=flow)


def _duplicated(ids: pd.Series, missing: np.ndarray) -> np.ndarray:
    """``(ids.duplicated(keep=False) & ids.notna()).to_numpy()`` from one factorisation (one hash
    pass instead of two, and no second missing-value scan)."""
    uniques = pd.factorize(ids)[1]
    if len(uniques) == int((~missing).sum()):
        return np.zeros(len(ids), dtype=bool)     # every present identifier once
    return (ids.duplicated(keep=False) & ids.notna()).to_numpy()


def _check_groups(df: pd.DataFrame, roles: Roles, found: _Problems) -> None:
    t = df[roles.treatment]
    if (t == 1).sum() == 0:
        found.add(DataError(f"Column '{roles.treatment}': no treated rows (value 1); nothing to evaluate.",
                            column=roles.treatment, rule="needs treated rows"))
    if (t == 0).sum() == 0:
        found.add(DataError(f"Column '{roles.treatment}': no untreated rows (value 0); no one to compare with.",
                            column=roles.treatment, rule="needs untreated rows"))


def _cutoff_series(df: pd.DataFrame, roles: Roles, date_format: str | None) -> pd.Series:
    if roles.cutoff_is_column(df):
        return parse_dates(df[roles.cutoff], str(roles.cutoff), date_format=date_format)
    value = parse_date(roles.cutoff, "cutoff")
    return pd.Series(value, index=df.index)


@validate_params({"data": [InstanceOf(pd.DataFrame, "a pandas DataFrame")], "subgroup": ["column"],
                  "treatment": ["column"], "step": [InstanceOf(str, "a str")]})
def require_subgroup_levels(data: pd.DataFrame, subgroup: str, treatment: str,
                            step: str = "after matching") -> list:
    """Raise a :class:`DataError` if some level of ``subgroup`` has no treated or no controls."""
    col = data[subgroup]
    if col.dtype == object or col.dtype.kind in "biuf":
        # one factorisation and two bincounts instead of two comparisons per level
        codes, uniques = pd.factorize(col)
        if codes.size and codes.min() >= 0:
            values = uniques.tolist()
            order = sorted(range(len(values)), key=lambda i: str(values[i]))
            t = data[treatment]
            nts = np.bincount(codes[(t == 1).to_numpy(dtype=bool, na_value=False)], minlength=len(values))
            ncs = np.bincount(codes[(t == 0).to_numpy(dtype=bool, na_value=False)], minlength=len(values))
            for i in order:
                if nts[i] == 0 or ncs[i] == 0:
                    raise _empty_level(subgroup, values[i], step, int(nts[i]), int(ncs[i]))
            return [values[i] for i in order]
    levels = sorted(pd.unique(col).tolist(), key=str)
    for lev in levels:
        rows = data[subgroup] == lev
        nt = int((data.loc[rows, treatment] == 1).sum())
        nc = int((data.loc[rows, treatment] == 0).sum())
        if nt == 0 or nc == 0:
            raise _empty_level(subgroup, lev, step, nt, nc)
    return levels


def _empty_level(subgroup: str, lev: Any, step: str, nt: int, nc: int) -> DataError:
    return DataError(f"Column '{subgroup}': subgroup {lev!r} is empty {step} "
                     f"({nt} treated, {nc} controls); its effect cannot be estimated. "
                     "Drop the subgroup from `by`, or loosen the caliper.",
                     column=subgroup, rule="subgroup must have treated and controls")

