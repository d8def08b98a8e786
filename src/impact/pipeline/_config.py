"""Evaluation files (TOML, read by :func:`impact.data.read_toml`) and their checks.

An evaluation is described once and run again each month::

    seed = 0
    lang = "sv"                     # language of the report: "sv" or "en"

    [registers]                     # a register extract (the dynamic design; see docs/registers.md)
    persons = "persons.csv"
    spells = "spells.csv"
    programme = "programme.csv"
    benefits = "benefits.csv"       # economic assistance months (or a table {name = "file"})
    cutoff = "2022-10-31"
    [registers.columns]             # these are the defaults
    id = "person_id"
    gender = "gender"
    registered = "registered"
    deregistered = "deregistered"
    code = "code"
    start = "start"
    month = "month"
    [outcomes.codes]                # deregistration code -> event | competing | censored
    "11" = "event"
    "90" = "competing"
    [design]
    method = "riskset"
    estimand = "join_vs_never"      # or "join_vs_wait"
    [outcomes]
    horizons = [90, 180, 365]
    time_in_work = [365, 730]       # days in work or studies within 365 and 730 days of the start
    benefit_months = 12             # months with each benefit in the 12 months after the start month
    benefits = ["economic_assistance"]   # which benefit registers (default: all)
    [effects]
    curve = true                    # the effect over time, with a simultaneous band
    aiptw = true                    # doubly robust shares (G-formula, IPTW, AIPTW) at each horizon
    [sensitivity]                   # sensitivity to hidden bias
    evalue = true
    rosenbaum = true
    gammas = [1, 1.25, 1.5, 2, 3]
    placebo = ["days_registered_24m"]    # columns fixed before the start and not matched on

or, for data of one row per person (the cross-sectional design)::

    [data]
    path = "registers.csv"          # .csv, .xlsx, .parquet, .dta (Stata), .sav (SPSS), .sas7bdat (SAS)
    sep = ";"                       # file options, in every input section: sep, decimal,
    decimal = ","                   # thousands, encoding (utf-8, utf-8-sig, cp1252), sheet (.xlsx)
    encoding = "cp1252"

    [columns]
    id = "person_id"
    treatment = "participant"
    start = "start_date"
    exit_date = "exit_date"
    exit_type = "exit_type"
    cutoff = "2022-10-31"
    subgroup = "gender"             # effects for all, women and men
    covariates = ["age", "education"]
    [columns.values]                # recode values: treatment 1/0, gender codes
    participant = {ja = 1, nej = 0}

    [design]
    method = "nearest"
    caliper = 0.2
    ratio = 1
    replace = false
    start_period = "quarter"

    [outcomes]
    horizons = [90, 180, 365]

    [effects]
    subgroups = ["region_of_birth"] # further subgroups to report effects by
    se_method = "influence"         # or "bootstrap" (with n_boot)
    conf_level = 0.95

    [monitoring]                    # individual-level records for goals and monthly tables
    participants = "participants.csv"
    employments = "employments.csv"
    households = "households.csv"
    household_exits = "household_exits.csv"
    start = "2022-01-01"
    end = "2022-10-31"

    [[goals]]                       # judged on the monitoring participants
    kind = "count"
    name = "participants"
    target = 4000

    [report]
    out = "reports/evaluation"
    title = "Malmökraften 2.0"
    threshold = 5
    disclosure = "cellkey"          # monthly tables: cell-key noise (or "threshold": suppression)
    secret_env = "IMPACT_CELLKEY_SECRET"   # where the cell-key secret is (or secret_file = "...");
                                    # the secret itself is never written in this file

    [labels]                        # names in the report for your columns and codes
    age = "Ålder"
    gender.K = "Kvinnor"

Unknown keys are errors, with the nearest valid key suggested; relative paths (data, register,
monitoring inputs and the report folder) are taken from the folder of the evaluation file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from impact._errors import ImpactError, ParameterError
from impact._validation import InstanceOf, suggest, validate_params
from impact.data import Roles, read_toml
from impact.publish import DISCLOSURES, MIN_EFFECT_N, cell_key_secret

__all__ = ["ConfigError", "EvaluationConfig", "read_config", "CONFIG_KEYS", "REGISTER_COLUMN_KEYS"]

#: every key an evaluation file may have: section -> key -> accepted type(s); "" is the top level
_FILE_OPTIONS: dict[str, type | tuple[type, ...]] = {"sep": str, "decimal": str, "thousands": str,
                                                     "encoding": str, "sheet": (str, int)}
CONFIG_KEYS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "": {"seed": int, "lang": str, "goals": list},
    "data": {"path": str, "date_format": str, **_FILE_OPTIONS},
    "registers": {"persons": str, "spells": str, "programme": str, "benefits": (str, dict), "cutoff": str,
                  "genders": list, "columns": dict, "period": str, **_FILE_OPTIONS},
    "columns": {"id": str, "treatment": str, "start": str, "exit_date": str, "exit_type": str,
                "cutoff": str, "subgroup": str, "covariates": list, "exit_codes": dict, "values": dict},
    "design": {"method": str, "caliper": (int, float), "ratio": int, "replace": bool, "exact": list,
               "start_period": str, "missing": str, "estimand": str, "covariates": list,
               "elapsed_band": int, "elapsed_bands": int, "reuse": str, "ipcw": bool,
               "n_jobs": int},
    "outcomes": {"horizons": list, "clock": str, "codes": dict, "time_in_work": list, "benefit_months": int,
                 "benefits": list},
    "effects": {"subgroups": list, "se_method": str, "n_boot": int, "conf_level": float, "sensitivity": bool,
                "curve": bool, "aiptw": bool, "adjust_means": bool},
    "sensitivity": {"evalue": bool, "rosenbaum": bool, "gammas": list, "placebo": list},
    "monitoring": {"participants": str, "employments": str, "households": str, "household_exits": str,
                   "start": str, "end": str, **_FILE_OPTIONS},
    "report": {"out": str, "title": str, "threshold": int, "min_effect_n": int, "disclosure": str,
               "secret_env": str, "secret_file": str},
    "labels": {},   # user labels for covariates and codes: any key (impact.labels.with_user_labels)
}
#: keys of a register extract only (the risk-set design): (section, key)
REGISTER_ONLY_KEYS = (("outcomes", "time_in_work"), ("outcomes", "benefit_months"), ("outcomes", "benefits"),
                      ("effects", "adjust_means"), ("effects", "curve"), ("effects", "aiptw"), ("sensitivity", "evalue"),
                      ("sensitivity", "rosenbaum"), ("sensitivity", "gammas"), ("sensitivity", "placebo"))
#: the keys of [registers.columns] (impact.registers.RegisterColumns)
REGISTER_COLUMN_KEYS = ("id", "gender", "birth", "registered", "deregistered", "code", "start", "month")
_SECTIONS = [k for k in CONFIG_KEYS if k]
_CHOICES = {("", "lang"): ("en", "sv"), ("design", "start_period"): ("month", "quarter", "year"),
            ("design", "missing"): ("error", "drop"), ("outcomes", "clock"): ("own", "matched"),
            ("effects", "se_method"): ("influence", "bootstrap"),
            ("design", "method"): ("riskset", "nearest", "optimal", "cem", "exact", "subclass", "ipw"),
            ("design", "estimand"): ("join_vs_never", "join_vs_wait"),
            ("design", "reuse"): ("across_periods", "never"), ("registers", "period"): ("month", "quarter"),
            ("report", "disclosure"): DISCLOSURES,
            **{(sec, "encoding"): ("utf-8", "utf-8-sig", "cp1252", "latin-1", "iso-8859-1")
               for sec in ("data", "registers", "monitoring")}}


class ConfigError(ImpactError, ValueError):
    """The evaluation file is wrong: unknown key, wrong type, missing section, unreadable file."""


ConfigError.__module__ = "impact.pipeline"  # tracebacks name the public path


@dataclass(frozen=True)
class EvaluationConfig:
    """A parsed evaluation file: where the inputs are, the roles, and the keyword arguments.

    Attributes
    ----------
    source : Path
        The evaluation file.
    data_path : Path or None
        The data of one row per person (absolute); None for a register extract.
    roles : Roles or None
        None for a register extract.
    evaluate_kwargs : dict
        Keyword arguments for :func:`impact.evaluate` (design, outcomes, effects, goals, language).
    report : dict
        ``out``, ``title``, ``threshold``, ``min_effect_n`` (the smallest arm an effect is
        published for, default 20), ``disclosure`` (``"threshold"`` or ``"cellkey"``) and, for
        the cell-key method, where its secret is: ``secret_env`` or ``secret_file`` (absolute);
        never the secret.
    date_format : str or None
    raw : dict or None
        The file as read (shown in the report's footer).
    monitoring_paths : dict of str -> Path
        Monitoring inputs by name (absolute paths).
    registers : dict or None
        The ``[registers]`` section with absolute paths (``persons``, ``spells``, ``programme``,
        ``benefits`` as ``{name: path}``), ``cutoff``, ``genders``, ``columns`` and ``codes``
        (from ``[outcomes.codes]``); None for data of one row per person.
    read_options, monitoring_options : dict
        File options (``sep``, ``decimal``, ``thousands``, ``encoding``, ``sheet``) of ``[data]``
        (or ``[registers]``) and of ``[monitoring]``.
    values : dict
        ``[columns.values]``: ``{column: {value in the file: value}}``.
    """

    source: Path
    data_path: Path | None
    roles: Roles | None
    evaluate_kwargs: dict
    report: dict
    date_format: str | None = None
    raw: dict | None = None
    monitoring_paths: dict = field(default_factory=dict)
    registers: dict | None = None
    read_options: dict = field(default_factory=dict)
    monitoring_options: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)


def _type_name(want: type | tuple[type, ...]) -> str:
    if isinstance(want, tuple):
        names: dict[tuple[type, ...], str] = {(int, float): "number", (str, dict): "string or table",
                                              (str, int): "string or whole number"}
        return names.get(want, "value")
    return {"str": "string", "int": "whole number", "float": "number", "bool": "true or false",
            "list": "list", "dict": "table"}.get(want.__name__, want.__name__)


def _check_keys(table: dict, section: str, where: Path) -> None:
    allowed = CONFIG_KEYS[section]
    for key, value in table.items():
        if section == "" and key == "labels":   # user labels: any key, checked by their own reader
            _check_labels(value, where)
            continue
        if section == "" and key in _SECTIONS:
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [{key}] must be a table (a section).")
            _check_keys(value, key, where)
            continue
        if key not in allowed:
            valid = list(allowed) + (_SECTIONS if section == "" else [])
            name = f"[{section}] {key}" if section else key
            raise ConfigError(f"{where}: unknown key '{name}'.{suggest(key, valid)} "
                              f"Valid keys here: {', '.join(valid)}.")
        want = allowed[key]
        ok = isinstance(value, want) and not (isinstance(value, bool) and want in (int, float, (int, float)))
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            ok = True
        name = f"[{section}] {key}" if section else key
        if not ok:
            raise ConfigError(f"{where}: {name} must be a {_type_name(want)}. Got {value!r}.")
        choices = _CHOICES.get((section, key))
        if choices and value not in choices:
            raise ConfigError(f"{where}: {name} must be one of {', '.join(map(repr, choices))}. "
                              f"Got {value!r}.{suggest(value, choices)}")


def _check_labels(value: Any, where: Path) -> None:
    """``[labels]``: names for the user's columns and codes in the report (impact.labels.with_user_labels)."""
    from impact.labels import with_user_labels
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: [labels] must be a table (a section).")
    try:
        with_user_labels(value)
    except ParameterError as exc:
        raise ConfigError(f"{where}: {exc}") from exc


def _check_subtables(raw: dict, where: Path) -> None:
    reg = raw.get("registers", {})
    for key in reg.get("columns", {}):
        if key not in REGISTER_COLUMN_KEYS:
            raise ConfigError(f"{where}: unknown key '[registers.columns] {key}'.{suggest(key, REGISTER_COLUMN_KEYS)} "
                              f"Valid keys here: {', '.join(REGISTER_COLUMN_KEYS)}.")
        if not isinstance(reg["columns"][key], str):
            raise ConfigError(f"{where}: [registers.columns] {key} must be a string (a column name). "
                              f"Got {reg['columns'][key]!r}.")
    if isinstance(reg.get("benefits"), dict):
        for name, value in reg["benefits"].items():
            if not isinstance(value, str):
                raise ConfigError(f"{where}: [registers.benefits] {name} must be a string (a file). Got {value!r}.")
            if not name.isidentifier():
                raise ConfigError(f"{where}: [registers.benefits] '{name}' must be a name of letters, digits and "
                                  "underscores (it names the covariate <name>_months_12m).")
    for code, role in raw.get("outcomes", {}).get("codes", {}).items():
        if role not in ("event", "competing", "censored"):
            raise ConfigError(f"{where}: [outcomes.codes] \"{code}\" must be one of 'event', 'competing', "
                              f"'censored'. Got {role!r}.{suggest(str(role), ('event', 'competing', 'censored'))}")
    _check_lists(raw, where)
    for col, mapping in raw.get("columns", {}).get("values", {}).items():
        if not isinstance(mapping, dict):
            raise ConfigError(f"{where}: [columns.values] {col} must be a table of values, e.g. "
                              f"{col} = {{ja = 1, nej = 0}}. Got {mapping!r}.")


def _check_lists(raw: dict, where: Path) -> None:
    """The values of the issue-12 keys: windows in whole days >= 1, Gammas >= 1, column names."""
    def number(v: Any, integer: bool) -> bool:
        kind = int if integer else (int, float)
        return isinstance(v, kind) and not isinstance(v, bool)

    out = raw.get("outcomes", {})
    if "time_in_work" in out and not (out["time_in_work"] and all(number(v, True) and v >= 1
                                                                  for v in out["time_in_work"])):
        raise ConfigError(f"{where}: [outcomes] time_in_work must be a non-empty list of whole days >= 1 "
                          f"(e.g. [365, 730]). Got {out['time_in_work']!r}.")
    if "benefit_months" in out and out["benefit_months"] < 1:
        raise ConfigError(f"{where}: [outcomes] benefit_months must be a whole number of months >= 1 (e.g. 12). "
                          f"Got {out['benefit_months']!r}.")
    sens = raw.get("sensitivity", {})
    if "gammas" in sens and not (sens["gammas"] and all(number(v, False) and v >= 1 for v in sens["gammas"])):
        raise ConfigError(f"{where}: [sensitivity] gammas must be a non-empty list of numbers >= 1 (Gamma = 1 is "
                          f"no hidden bias). Got {sens['gammas']!r}.")
    for section, key in (("outcomes", "benefits"), ("sensitivity", "placebo")):
        values = raw.get(section, {}).get(key)
        if values is not None and not all(isinstance(v, str) for v in values):
            raise ConfigError(f"{where}: [{section}] {key} must be a list of names (strings). Got {values!r}.")


def _resolve(path: str, base: Path) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else (base / p).resolve()


@validate_params({"path": [InstanceOf((str, os.PathLike), "a path to an evaluation file (str or Path)")]})
def read_config(path: str | os.PathLike[str]) -> EvaluationConfig:
    """Read and check an evaluation file.

    Every key is checked against :data:`CONFIG_KEYS` (unknown keys raise with the nearest valid
    one suggested), every value against its type and allowed choices, and the ``[[goals]]`` against
    the goal classes, before any data are read.

    Parameters
    ----------
    path : str or Path
        The evaluation file (TOML).

    Returns
    -------
    EvaluationConfig

    Raises
    ------
    ConfigError
        The file does not exist or is not TOML; an unknown key; a wrong type or choice; a missing
        ``[data]`` or ``[columns]`` section or required column role; a goal that cannot be read.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "e.toml"
    >>> _ = p.write_text('[data]\\npath = "x.csv"\\n[columns]\\nid = "i"\\ntreatment = "t"\\nstart = "s"\\n'
    ...                  '[design]\\ncalliper = 0.1\\n')
    >>> read_config(p)
    Traceback (most recent call last):
    ...
    impact.pipeline.ConfigError: ...: unknown key '[design] calliper'. Did you mean 'caliper'? ...
    >>> _ = p.write_text('lang = "sv"\\n[data]\\npath = "x.csv"\\n[columns]\\nid = "i"\\ntreatment = "t"\\n'
    ...                  'start = "s"\\n[outcomes]\\nhorizons = [90]\\n')
    >>> cfg = read_config(p)
    >>> cfg.evaluate_kwargs["lang"], cfg.evaluate_kwargs["horizons"], cfg.data_path.name
    ('sv', (90,), 'x.csv')
    """
    path = Path(path)
    try:
        raw = read_toml(path, what="configuration file")
    except ParameterError as exc:
        raise ConfigError(str(exc)) from exc
    _check_keys(raw, "", path)
    _check_subtables(raw, path)
    if "registers" in raw:
        return _registers_config(raw, path)
    for section in ("data", "columns"):
        if section not in raw:
            raise ConfigError(f"{path}: the [{section}] section is missing.")
    if "path" not in raw["data"]:
        raise ConfigError(f"{path}: [data] path is required (the register data: .csv, .parquet, .dta or .sav).")
    cols = dict(raw["columns"])
    values = cols.pop("values", {})
    for key in ("id", "treatment", "start"):
        if key not in cols:
            raise ConfigError(f"{path}: [columns] {key} is required.")
    cols["covariates"] = tuple(cols.get("covariates", ()))
    try:
        roles = Roles(**cols)
    except ParameterError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    base = path.parent
    data_path = _resolve(raw["data"]["path"], base)
    design = dict(raw.get("design", {}))
    if design.get("method") == "riskset":
        raise ConfigError(f"{path}: [design] method = \"riskset\" needs a register extract: a [registers] section "
                          "(persons, spells, programme, cutoff) instead of [data] and [columns].")
    for key in ("estimand", "covariates", "elapsed_band", "elapsed_bands", "reuse", "ipcw"):
        if key in design:
            raise ConfigError(f"{path}: [design] {key} is for a register extract ([registers]); with [data] "
                              "use [columns] covariates and the [design] keys of impact.match.")
    for section, key in REGISTER_ONLY_KEYS:
        if key in raw.get(section, {}):
            raise ConfigError(f"{path}: [{section}] {key} is for a register extract ([registers], the risk-set "
                              "design); with [data] estimate it step by step in Python.")
    kwargs, monitoring_paths, mon_opts = _common_kwargs(raw, path, design)
    report = _report(raw, path)
    options = {k: v for k, v in raw["data"].items() if k in _FILE_OPTIONS}
    return EvaluationConfig(source=path, data_path=data_path, roles=roles, evaluate_kwargs=kwargs,
                            report=report, date_format=raw["data"].get("date_format"), raw=raw,
                            monitoring_paths=monitoring_paths, read_options=options,
                            monitoring_options=mon_opts, values=values)


def _common_kwargs(raw: dict, path: Path, design: dict) -> tuple[dict[str, Any], dict[str, Path], dict]:
    base = path.parent
    outcomes = {k: v for k, v in raw.get("outcomes", {}).items() if k != "codes"}
    kwargs: dict[str, Any] = {**design, **outcomes, **raw.get("effects", {}), **raw.get("sensitivity", {}),
                              "random_state": raw.get("seed", 0), "lang": raw.get("lang", "en")}
    for key in ("horizons", "exact", "subgroups", "covariates", "time_in_work", "benefits", "gammas", "placebo"):
        if key in kwargs:
            kwargs[key] = tuple(kwargs[key])
    mon = dict(raw.get("monitoring", {}))
    kwargs["monitoring_start"] = mon.pop("start", None)
    kwargs["monitoring_end"] = mon.pop("end", None)
    mon_opts = {k: mon.pop(k) for k in list(mon) if k in _FILE_OPTIONS}
    monitoring_paths = {k: _resolve(v, base) for k, v in mon.items()}
    if "goals" in raw:
        from impact.monitor import goals_from_config
        try:
            kwargs["goals"] = goals_from_config(raw["goals"])
        except ImpactError as exc:
            raise ConfigError(f"{path}: [[goals]]: {exc}") from exc
        if "participants" not in monitoring_paths:
            raise ConfigError(f"{path}: [[goals]] are judged on the participants' records: add "
                              "[monitoring] participants = \"participants.csv\".")
    return kwargs, monitoring_paths, mon_opts


def _report(raw: dict, path: Path) -> dict:
    report = {"out": "reports/evaluation", "title": "Programme evaluation", "threshold": 5,
              "min_effect_n": MIN_EFFECT_N, "disclosure": "threshold", **raw.get("report", {})}
    report["out"] = _resolve(report["out"], path.parent)
    if "secret_file" in report:
        report["secret_file"] = _resolve(report["secret_file"], path.parent)
    if report["disclosure"] == "cellkey":  # the secret must be there before any data are read; never kept here
        try:
            cell_key_secret(env=report.get("secret_env"), file=report.get("secret_file"))
        except ParameterError as exc:
            raise ConfigError(f"{path}: [report] disclosure = \"cellkey\": {exc}") from None
    elif "secret_env" in report or "secret_file" in report:
        raise ConfigError(f"{path}: [report] secret_env and secret_file are for disclosure = \"cellkey\".")
    return report


def _registers_config(raw: dict, path: Path) -> EvaluationConfig:
    """An evaluation file with a [registers] section: the dynamic (risk-set) design."""
    for section in ("data", "columns"):
        if section in raw:
            raise ConfigError(f"{path}: [registers] and [{section}] do not go together: a register extract is "
                              "evaluated with the risk-set design ([registers.columns] names its columns); "
                              "[data] and [columns] are for data of one row per person.")
    reg = dict(raw["registers"])
    for key in ("persons", "spells", "programme", "cutoff"):
        if key not in reg:
            raise ConfigError(f"{path}: [registers] {key} is required "
                              + ("(the data cut-off, YYYY-MM-DD)." if key == "cutoff" else "(a file)."))
    design = dict(raw.get("design", {}))
    method = design.pop("method", "riskset")
    if method != "riskset":
        raise ConfigError(f"{path}: [design] method = {method!r}: a register extract is evaluated with the risk-set "
                          "design; use method = \"riskset\" (or leave it out).")
    for key in ("replace", "start_period", "missing"):
        if key in design:
            raise ConfigError(f"{path}: [design] {key} is for data of one row per person ([data]); "
                              "it has no meaning in the risk-set design.")
    if "clock" in raw.get("outcomes", {}):
        raise ConfigError(f"{path}: [outcomes] clock is for data of one row per person: in the risk-set design "
                          "each control's clock starts on its participant's start date.")
    if "subgroups" in raw.get("effects", {}):
        raise ConfigError(f"{path}: [effects] subgroups is not yet available in the risk-set design "
                          "(effects are given for all and by gender).")
    kwargs, monitoring_paths, mon_opts = _common_kwargs(raw, path, design)
    kwargs["method"] = "riskset"
    if "period" in reg:
        kwargs["period"] = reg["period"]
    base = path.parent
    benefits = reg.get("benefits", {})
    if isinstance(benefits, str):
        benefits = {"economic_assistance": benefits}
    registers = {
        "persons": _resolve(reg["persons"], base), "spells": _resolve(reg["spells"], base),
        "programme": _resolve(reg["programme"], base),
        "benefits": {k: _resolve(v, base) for k, v in benefits.items()},
        "cutoff": reg["cutoff"], "genders": tuple(reg["genders"]) if "genders" in reg else None,
        "columns": dict(reg.get("columns", {})), "codes": dict(raw.get("outcomes", {}).get("codes", {})),
    }
    options = {k: v for k, v in reg.items() if k in _FILE_OPTIONS}
    return EvaluationConfig(source=path, data_path=None, roles=None, evaluate_kwargs=kwargs, report=_report(raw, path),
                            raw=raw, monitoring_paths=monitoring_paths, registers=registers,
                            read_options=options, monitoring_options=mon_opts)
