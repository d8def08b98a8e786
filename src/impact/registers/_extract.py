"""The register extract as evaluators receive it, its checks, and the sorted arrays the risk sets read.

Dates are whole days. A spell covers the days ``registered <= day < deregistered`` (the person is no
longer registered on the day of deregistration); an open spell (no deregistration date) covers every
day up to the cut-off. Everything is kept as integer days ("relative days", shifted to be positive)
and sorted once by (person, date), so that every look-up is a ``searchsorted``: n log n, never
person x person.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from impact._errors import DataError, ParameterError, format_positions
from impact._validation import check_columns, parse_dates
from impact.registers._codes import DEFAULT_CODES, ExitCodes, normalise_codes

__all__ = ["RegisterColumns", "RegisterExtract"]

OFF = 1 << 19        # added to days since 1970 so that every relative day is positive
OPEN = 1 << 20       # the relative "deregistration day" of a spell still open at the cut-off
MULT = 1 << 21       # key = person * MULT + relative day
MMULT = 1 << 17      # key = person * MMULT + month index (year * 12 + month - 1)
_MONTH_RE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class RegisterColumns:
    """The column names of a register extract (the defaults are those of the evaluation file).

    Examples
    --------
    >>> RegisterColumns(id="lopnr").id
    'lopnr'
    """

    id: str = "person_id"
    gender: str = "gender"
    birth: str = "birth_year"
    registered: str = "registered"
    deregistered: str = "deregistered"
    code: str = "code"
    start: str = "start"
    month: str = "month"


@dataclass(frozen=True, eq=False)  # tables inside: compared and hashed by identity
class RegisterExtract:
    """Persons, registration spells, programme starts and monthly benefit registers, with a cut-off.

    Parameters
    ----------
    persons : DataFrame
        One row per person: id, gender, birth year (integer) or birth date, and fixed covariates
        (every other column, e.g. ``born_abroad``, ``education``, ``district``).
    spells : DataFrame
        One row per registration spell at the employment service: id, registered date,
        deregistered date (empty while open at the cut-off) and deregistration code.
    programme : DataFrame
        One row per participant: id and programme start date.
    cutoff : str or Timestamp
        The data cut-off: the last day the registers cover.
    benefits : mapping of str to DataFrame, or DataFrame, optional
        Monthly benefit registers, ``{"economic_assistance": frame, ...}``; each frame has the id
        and a month (``"YYYY-MM"``), one row per person and month with the benefit. A single
        frame is named ``"benefit"``.
    columns : RegisterColumns
        Column names.
    codes : ExitCodes
        The deregistration-code table (default :data:`DEFAULT_CODES`).
    genders : sequence of str, optional
        The declared gender codes; other values are an error. Default: any non-missing value.

    Examples
    --------
    >>> import pandas as pd
    >>> ext = RegisterExtract(
    ...     persons=pd.DataFrame({"person_id": ["a", "b"], "gender": ["female", "male"], "birth_year": [1980, 1990]}),
    ...     spells=pd.DataFrame({"person_id": ["a", "b"], "registered": ["2021-01-10", "2021-02-01"],
    ...                          "deregistered": ["2021-06-30", None], "code": ["11", None]}),
    ...     programme=pd.DataFrame({"person_id": ["a"], "start": ["2021-04-12"]}),
    ...     cutoff="2021-12-31", genders=("female", "male"))
    >>> ext.validate()
    RegisterExtract(2 persons, 2 spells, 1 participants, 0 benefit registers, cut-off 2021-12-31)
    """

    persons: pd.DataFrame
    spells: pd.DataFrame
    programme: pd.DataFrame
    cutoff: Any
    benefits: Any = field(default_factory=dict)
    columns: RegisterColumns = field(default_factory=RegisterColumns)
    codes: ExitCodes = DEFAULT_CODES
    genders: tuple[str, ...] | None = None

    def __post_init__(self) -> None:  # normalise while constructing (the object is not yet shared)
        for name in ("persons", "spells", "programme"):
            if not isinstance(getattr(self, name), pd.DataFrame):
                raise ParameterError(f"The '{name}' parameter of RegisterExtract must be a pandas DataFrame. "
                                     f"Got {type(getattr(self, name)).__name__}.")
        try:
            cutoff = pd.Timestamp(self.cutoff).normalize()
        except (ValueError, TypeError):
            raise ParameterError(f"The 'cutoff' parameter of RegisterExtract must be a date. Got {self.cutoff!r}.") from None
        if cutoff is pd.NaT:
            raise ParameterError("The 'cutoff' parameter of RegisterExtract must be a date. Got a missing value.")
        object.__setattr__(self, "cutoff", cutoff)
        benefits = self.benefits
        if benefits is None:
            benefits = {}
        elif isinstance(benefits, pd.DataFrame):
            benefits = {"benefit": benefits}
        if not isinstance(benefits, Mapping) or not all(isinstance(v, pd.DataFrame) for v in benefits.values()):
            raise ParameterError("The 'benefits' parameter of RegisterExtract must be a DataFrame or a mapping "
                                 "{name: DataFrame}.")
        for name in benefits:
            if not isinstance(name, str) or not name.isidentifier():
                raise ParameterError(f"Benefit register names must be identifiers (they name columns). Got {name!r}.")
        object.__setattr__(self, "benefits", dict(benefits))
        if not isinstance(self.columns, RegisterColumns):
            raise ParameterError("The 'columns' parameter of RegisterExtract must be a RegisterColumns.")
        if not isinstance(self.codes, ExitCodes):
            raise ParameterError("The 'codes' parameter of RegisterExtract must be an ExitCodes table.")
        if self.genders is not None:
            object.__setattr__(self, "genders", tuple(self.genders))

    @property
    def fixed_columns(self) -> list[str]:
        """The fixed person columns used as covariates: every persons column but the id and birth."""
        c = self.columns
        return [col for col in self.persons.columns if col not in (c.id, c.birth)]

    def validate(self) -> RegisterExtract:
        """Run every check (see :func:`prepare`); return the extract unchanged when it passes."""
        prepare(self)
        return self

    def __repr__(self) -> str:
        return (f"RegisterExtract({len(self.persons)} persons, {len(self.spells)} spells, "
                f"{len(self.programme)} participants, {len(self.benefits)} benefit registers, "
                f"cut-off {self.cutoff.date()})")


def register_error(table: str, column: str, rule: str, mask_or_positions: Any, fix: str = "") -> DataError:
    """A :class:`DataError` naming the table, column, rule and row positions (never an id)."""
    arr = np.asarray(mask_or_positions)
    pos = np.flatnonzero(arr) if arr.dtype == bool else np.unique(arr.astype(np.int64))
    msg = f"{table}, column '{column}': {rule}; {format_positions(pos)}."
    if fix:
        msg += f" {fix}"
    return DataError(msg, column=column, rule=rule, positions=pos[:5].tolist())


def to_days(values: pd.Series) -> np.ndarray:
    """Relative days (int64) of a parsed datetime Series; NaT becomes OPEN."""
    arr = values.to_numpy(dtype="datetime64[ns]").astype("datetime64[D]")
    out = arr.astype(np.int64) + OFF
    out[np.isnat(arr)] = OPEN
    return out


def from_days(days: np.ndarray) -> np.ndarray:
    """datetime64[ns] of relative days (OPEN becomes NaT)."""
    d = np.asarray(days, dtype=np.int64)
    out = (d - OFF).astype("datetime64[D]").astype("datetime64[ns]")
    out[d >= OPEN] = np.datetime64("NaT")
    return out


def month_index(days: np.ndarray) -> np.ndarray:
    """``year * 12 + month - 1`` of relative days."""
    return (np.asarray(days, dtype=np.int64) - OFF).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) \
        + 1970 * 12


def shift_months(days: np.ndarray, k: int) -> np.ndarray:
    """The same day ``k`` calendar months later (earlier for k < 0), clipped to the month's end."""
    d = (np.asarray(days, dtype=np.int64) - OFF).astype("datetime64[D]")
    m = d.astype("datetime64[M]")
    dom = (d - m.astype("datetime64[D]")).astype(np.int64)
    target = m + np.timedelta64(k, "M")
    first = target.astype("datetime64[D]")
    dim = ((target + np.timedelta64(1, "M")).astype("datetime64[D]") - first).astype(np.int64)
    return (first.astype(np.int64) + np.minimum(dom, dim - 1)) + OFF


def _parse(frame: pd.DataFrame, table: str, column: str, allow_missing: bool = False) -> pd.Series:
    try:
        return parse_dates(frame[column].reset_index(drop=True), column, allow_missing=allow_missing)
    except DataError as exc:
        raise DataError(f"{table}, {exc}", column=exc.column, rule=exc.rule, positions=exc.positions) from None


def _missing(frame: pd.DataFrame, table: str, columns: list[str]) -> None:
    for col in columns:
        na = frame[col].isna().to_numpy()
        if na.any():
            raise register_error(table, col, "missing values", na,
                                 f"Every row needs a value; find them with df[df[{col!r}].isna()].")


def _months(values: pd.Series, table: str, column: str) -> np.ndarray:
    s = values.reset_index(drop=True)
    if isinstance(s.dtype, pd.PeriodDtype):
        return np.asarray([p.year * 12 + p.month - 1 for p in s], dtype=np.int64) if len(s) else np.zeros(0, np.int64)
    if pd.api.types.is_datetime64_any_dtype(s):
        return month_index(to_days(s))
    codes, uniques = pd.factorize(s)               # parse each distinct value once
    text = pd.Series(uniques).astype(str)
    ok_u = text.str.match(_MONTH_RE).to_numpy(dtype=bool)
    ok = ok_u[codes] if len(codes) else np.ones(0, bool)
    if not ok.all():
        raise register_error(table, column, "months must be written YYYY-MM (e.g. 2021-03)", ~ok,
                             f"Fix with df[{column!r}] = pd.to_datetime(df[{column!r}]).dt.strftime('%Y-%m').")
    vals = text.str[:4].astype(np.int64).to_numpy() * 12 + text.str[5:7].astype(np.int64).to_numpy() - 1
    return vals[codes]


@dataclass(frozen=True, eq=False)  # tables inside: compared and hashed by identity
class Prepared:
    """The checked extract as sorted integer arrays (internal to the registers package)."""

    extract: RegisterExtract
    ids: np.ndarray             # person ids, in persons order (code = position)
    birth_kind: str             # "year" or "date"
    birth: np.ndarray           # birth year, or relative birth day
    sp_p: np.ndarray            # spells sorted by (person, registered)
    sp_reg: np.ndarray
    sp_dereg: np.ndarray        # OPEN while open
    sp_code: np.ndarray         # object: code string, NaN while open
    sp_pos: np.ndarray          # row position in extract.spells
    sp_key: np.ndarray          # sp_p * MULT + sp_reg
    sp_cumprev: np.ndarray      # days registered in the person's earlier spells
    first_spell: np.ndarray     # index of each person's first spell (len P + 1)
    reg_order: np.ndarray       # spell indices by registered date (for the "open on day d" prefix)
    reg_sorted: np.ndarray
    start: np.ndarray           # per person: relative programme start day, OPEN when none
    start_pos: np.ndarray       # per person: row position in extract.programme, -1 when none
    benefit_keys: dict[str, np.ndarray]
    cutoff: int

    @property
    def n_persons(self) -> int:
        return int(self.ids.shape[0])

    # --- look-ups for (person, day) pairs -------------------------------------------------------
    def spell_at(self, p: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Index of the last spell registered on or before ``t``, and whether it is open on ``t``."""
        j = np.searchsorted(self.sp_key, p * MULT + t, side="right") - 1
        jj = np.maximum(j, 0)
        own = (j >= 0) & (self.sp_p[jj] == p) if len(self.sp_p) else np.zeros(len(p), bool)
        is_open = own & (self.sp_dereg[jj] > t) if len(self.sp_p) else own
        return np.where(own, j, -1), is_open

    def days_registered_before(self, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Days the person was registered before day ``t`` (days ``< t``)."""
        if not len(self.sp_p):
            return np.zeros(len(p), np.int64)
        k = np.searchsorted(self.sp_key, p * MULT + t, side="left") - 1
        kk = np.maximum(k, 0)
        own = (k >= 0) & (self.sp_p[kk] == p)
        part = np.minimum(t, self.sp_dereg[kk]) - self.sp_reg[kk]
        return np.where(own, self.sp_cumprev[kk] + part, 0)

    def benefit_months(self, name: str, p: np.ndarray, t: np.ndarray, months: int = 12) -> np.ndarray:
        """Months with the benefit among the ``months`` calendar months before the month of ``t``."""
        keys = self.benefit_keys[name]
        m = month_index(t)
        hi = np.searchsorted(keys, p * MMULT + m, side="left")
        lo = np.searchsorted(keys, p * MMULT + m - months, side="left")
        return (hi - lo).astype(np.int64)

    def age(self, p: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Age on day ``t``: completed years with a birth date; year of ``t`` minus birth year otherwise."""
        d = (t - OFF).astype("datetime64[D]")
        year = d.astype("datetime64[Y]").astype(np.int64) + 1970
        if self.birth_kind == "year":
            return year - self.birth[p]
        b = (self.birth[p] - OFF).astype("datetime64[D]")
        byear = b.astype("datetime64[Y]").astype(np.int64) + 1970

        def md(x: np.ndarray) -> np.ndarray:
            m = x.astype("datetime64[M]")
            return (m.astype(np.int64) % 12) * 32 + (x - m.astype("datetime64[D]")).astype(np.int64)

        return year - byear - (md(d) < md(b)).astype(np.int64)

    def history(self, p: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """The history covariates of persons ``p`` as known on days ``t`` (information dated before ``t``).

        ``elapsed_days`` (days since the registration of the spell open on ``t``; missing when none is
        open), ``days_registered_24m`` (days registered in the 24 calendar months before ``t``),
        ``earlier_spells`` (spells ended on or before ``t``), ``<benefit>_months_12m`` (months with the
        benefit in the 12 calendar months before the month of ``t``) and ``age``.
        """
        p = np.asarray(p, dtype=np.int64)
        t = np.asarray(t, dtype=np.int64)
        j, is_open = self.spell_at(p, t)
        jj = np.maximum(j, 0)
        if len(self.sp_reg):
            elapsed = np.where(is_open, t - self.sp_reg[jj], -1).astype(np.float64)
            n_reg = np.where(j >= 0, j - self.first_spell[p] + 1, 0)
        else:
            elapsed = np.full(len(p), -1.0)
            n_reg = np.zeros(len(p), np.int64)
        elapsed[~is_open] = np.nan
        out: dict[str, np.ndarray] = {
            "age": self.age(p, t),
            "elapsed_days": elapsed,
            "days_registered_24m": self.days_registered_before(p, t)
            - self.days_registered_before(p, shift_months(t, -24)),
            "earlier_spells": (n_reg - is_open.astype(np.int64)).astype(np.int64),
        }
        for name in self.benefit_keys:
            out[f"{name}_months_12m"] = self.benefit_months(name, p, t)
        return out


def prepare(extract: RegisterExtract) -> Prepared:
    """Check the extract and sort it into arrays; every rule broken is a named :class:`DataError`."""
    c = extract.columns
    persons, spells, programme = extract.persons, extract.spells, extract.programme
    check_columns(persons, [c.id, c.gender, c.birth], role="persons column")
    check_columns(spells, [c.id, c.registered, c.deregistered, c.code], role="spells column")
    check_columns(programme, [c.id, c.start], role="programme column")
    cutoff = int(to_days(pd.Series([extract.cutoff]))[0])

    # persons
    _missing(persons, "persons", [c.id, c.gender, c.birth])
    dup = persons[c.id].duplicated(keep=False).to_numpy()
    if dup.any():
        raise register_error("persons", c.id, "duplicate persons (one row per person)", dup,
                             f"Find them with persons[persons.duplicated({c.id!r}, keep=False)].")
    if extract.genders is not None:
        bad = ~persons[c.gender].isin(extract.genders).to_numpy()
        if bad.any():
            raise register_error("persons", c.gender, "gender codes outside the declared ones ("
                                 + ", ".join(map(str, extract.genders)) + ")", bad,
                                 "Recode them, or declare the codes with genders=(...).")
    index = pd.Index(persons[c.id])
    birth_col = persons[c.birth].reset_index(drop=True)
    if pd.api.types.is_numeric_dtype(birth_col) and not pd.api.types.is_bool_dtype(birth_col):
        num = birth_col.to_numpy(dtype=np.float64)
        bad = (num != np.round(num)) | (num < 1880) | (num > extract.cutoff.year)
        if bad.any():
            raise register_error("persons", c.birth, f"birth years must be whole years from 1880 to "
                                 f"{extract.cutoff.year}", bad)
        birth_kind, birth = "year", num.astype(np.int64)
    else:
        parsed = _parse(persons, "persons", c.birth)
        birth_kind, birth = "date", to_days(parsed)
        bad = birth > cutoff
        if bad.any():
            raise register_error("persons", c.birth, "birth dates after the cut-off", bad)

    # spells
    _missing(spells, "spells", [c.id, c.registered])
    sp_p = index.get_indexer(spells[c.id])
    bad = sp_p < 0
    if bad.any():
        raise register_error("spells", c.id, "spells of no known person (id not in persons)", bad,
                             "Every spell's person must have a row in persons.")
    reg = to_days(_parse(spells, "spells", c.registered))
    dereg = to_days(_parse(spells, "spells", c.deregistered, allow_missing=True))
    bad = reg > cutoff
    if bad.any():
        raise register_error("spells", c.registered, f"registered after the cut-off {extract.cutoff.date()}", bad,
                             "Drop them or move the cut-off.")
    bad = (dereg != OPEN) & (dereg > cutoff)
    if bad.any():
        raise register_error("spells", c.deregistered, f"deregistered after the cut-off {extract.cutoff.date()}",
                             bad, "A spell still open at the cut-off has an empty deregistration date.")
    bad = dereg < reg
    if bad.any():
        raise register_error("spells", c.deregistered, "deregistered before registered", bad,
                             "Check the two dates of these rows (swapped?).")
    code = normalise_codes(spells[c.code].reset_index(drop=True)).to_numpy(dtype=object)
    code_na = pd.isna(code)
    bad = (dereg != OPEN) & code_na
    if bad.any():
        raise register_error("spells", c.code, "missing values (a deregistered spell needs its code)", bad)
    known = set(extract.codes.codes)
    bad = ~code_na & ~np.isin(code.astype(str), list(known)) & (dereg != OPEN)
    if bad.any():
        shown = ", ".join(sorted({str(v) for v in code[bad]})[:8])
        raise register_error("spells", c.code, f"unknown deregistration codes ({shown})", bad,
                             "Give them a role: codes=DEFAULT_CODES.with_roles({'<code>': 'event' | 'competing' | "
                             "'censored'}).")
    order = np.lexsort((reg, sp_p))
    sp_p_s, reg_s, dereg_s = sp_p[order].astype(np.int64), reg[order], dereg[order]
    same = sp_p_s[1:] == sp_p_s[:-1]
    overlap = same & (reg_s[1:] < dereg_s[:-1])
    if overlap.any():
        rows = np.concatenate([order[1:][overlap], order[:-1][overlap]])
        raise register_error("spells", c.registered, "overlapping spells of one person (a spell registered "
                             "before the person's previous spell was deregistered)", rows,
                             "Merge or correct them; a person is registered in at most one spell on any day.")
    n_persons = len(index)
    first_spell = np.searchsorted(sp_p_s, np.arange(n_persons + 1), side="left")
    length = np.where(dereg_s == OPEN, 0, dereg_s - reg_s)
    cum = np.concatenate([[0], np.cumsum(length)])
    cumprev = cum[:-1] - cum[first_spell[sp_p_s]]
    sp_key = sp_p_s * MULT + reg_s
    reg_order = np.argsort(reg_s, kind="stable")

    # programme
    _missing(programme, "programme", [c.id, c.start])
    pr_p = index.get_indexer(programme[c.id])
    bad = pr_p < 0
    if bad.any():
        raise register_error("programme", c.id, "participants who are not in persons", bad)
    dup = pd.Series(pr_p).duplicated(keep=False).to_numpy()
    if dup.any():
        raise register_error("programme", c.id, "duplicate participants (one programme start per person)", dup)
    st = to_days(_parse(programme, "programme", c.start))
    bad = st > cutoff
    if bad.any():
        raise register_error("programme", c.start, f"programme starts after the cut-off {extract.cutoff.date()}", bad)
    pr_p = pr_p.astype(np.int64)
    no_spell = first_spell[pr_p + 1] == first_spell[pr_p]
    if no_spell.any():
        raise register_error("programme", c.id, "participants with no registration spell", no_spell,
                             "Every participant needs the spell open on its start date.")
    j = np.searchsorted(sp_key, pr_p * MULT + st, side="right") - 1
    jj = np.maximum(j, 0)
    inside = (j >= 0) & (sp_p_s[jj] == pr_p) & (dereg_s[jj] > st)
    if (~inside).any():
        raise register_error("programme", c.start, "programme starts outside every registration spell of the "
                             "person (registered <= start < deregistered)", ~inside,
                             "Check the start dates against the spells of these participants.")
    start = np.full(n_persons, OPEN, dtype=np.int64)
    start[pr_p] = st
    start_pos = np.full(n_persons, -1, dtype=np.int64)
    start_pos[pr_p] = np.arange(len(pr_p))

    # benefits
    keys: dict[str, np.ndarray] = {}
    cut_month = int(month_index(np.array([cutoff]))[0])
    for name, frame in extract.benefits.items():
        table = f"benefits '{name}'"
        check_columns(frame, [c.id, c.month], role=f"{table} column")
        _missing(frame, table, [c.id, c.month])
        bp = index.get_indexer(frame[c.id])
        bad = bp < 0
        if bad.any():
            raise register_error(table, c.id, "benefit months of no known person (id not in persons)", bad)
        m = _months(frame[c.month], table, c.month)
        bad = m > cut_month
        if bad.any():
            raise register_error(table, c.month, f"benefit months after the cut-off {extract.cutoff.date()}", bad)
        key = bp.astype(np.int64) * MMULT + m
        sorted_key = np.sort(key)
        if (sorted_key[1:] == sorted_key[:-1]).any():
            dup = pd.Series(key).duplicated(keep=False).to_numpy()
            raise register_error(table, c.month, "one row per person and month", dup,
                                 f"Drop the repeats with df.drop_duplicates([{c.id!r}, {c.month!r}]).")
        keys[name] = sorted_key

    return Prepared(extract=extract, ids=index.to_numpy(), birth_kind=birth_kind, birth=birth, sp_p=sp_p_s,
                    sp_reg=reg_s, sp_dereg=dereg_s, sp_code=code[order], sp_pos=order, sp_key=sp_key,
                    sp_cumprev=cumprev, first_spell=first_spell, reg_order=reg_order, reg_sorted=reg_s[reg_order],
                    start=start, start_pos=start_pos, benefit_keys=keys, cutoff=cutoff)


def as_day(value: Any, name: str, func: str) -> int:
    """A date parameter as a relative day."""
    if not isinstance(value, (str, datetime.date, np.datetime64)):
        raise ParameterError(f"The '{name}' parameter of {func} must be a date. Got {value!r}.")
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ParameterError(f"The '{name}' parameter of {func} must be a date. Got {value!r}.") from None
    return int(to_days(pd.Series([ts.normalize()]))[0])


def index_rows(extract: RegisterExtract, index: pd.DataFrame, date: str) -> tuple[Prepared, np.ndarray, np.ndarray]:
    """The prepared extract, each index row's person position (int64) and its index date in days.

    Every id of ``index`` must be a person of the extract; the error names the rows (never the ids).
    """
    prep = prepare(extract)
    c = extract.columns
    check_columns(index, [c.id, date])
    p = pd.Index(prep.ids).get_indexer(index[c.id])
    bad = p < 0
    if bad.any():
        raise register_error("index", c.id, "ids that are not in the extract's persons", bad)
    return prep, p.astype(np.int64), to_days(parse_dates(index[date].reset_index(drop=True), date))
