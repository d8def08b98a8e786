"""Evaluation files (TOML, read by :func:`impact.data.read_toml`) and their checks.

An evaluation is described once and run again each month::

    seed = 0
    lang = "sv"                     # language of the report: "sv" or "en"

    [data]
    path = "registers.csv"          # .csv, .parquet, .dta (Stata) or .sav (SPSS)

    [columns]
    id = "person_id"
    treatment = "participant"
    start = "start_date"
    exit_date = "exit_date"
    exit_type = "exit_type"
    cutoff = "2022-10-31"
    subgroup = "gender"             # effects for all, women and men
    covariates = ["age", "education"]

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

Unknown keys are errors, with the nearest valid key suggested; relative paths (data, monitoring
inputs and the report folder) are taken from the folder of the evaluation file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from impact._errors import ImpactError, ParameterError
from impact._validation import InstanceOf, suggest, validate_params
from impact.data import Roles, read_toml

__all__ = ["ConfigError", "EvaluationConfig", "read_config", "CONFIG_KEYS"]

#: every key an evaluation file may have: section -> key -> accepted type(s); "" is the top level
CONFIG_KEYS: dict[str, dict[str, type | tuple[type, ...]]] = {
    "": {"seed": int, "lang": str, "goals": list},
    "data": {"path": str, "date_format": str},
    "columns": {"id": str, "treatment": str, "start": str, "exit_date": str, "exit_type": str,
                "cutoff": str, "subgroup": str, "covariates": list, "exit_codes": dict},
    "design": {"method": str, "caliper": (int, float), "ratio": int, "replace": bool, "exact": list,
               "start_period": str, "missing": str},
    "outcomes": {"horizons": list, "clock": str},
    "effects": {"subgroups": list, "se_method": str, "n_boot": int, "conf_level": float},
    "monitoring": {"participants": str, "employments": str, "households": str, "household_exits": str,
                   "start": str, "end": str},
    "report": {"out": str, "title": str, "threshold": int},
}
_SECTIONS = [k for k in CONFIG_KEYS if k]
_CHOICES = {("", "lang"): ("en", "sv"), ("design", "start_period"): ("month", "quarter", "year"),
            ("design", "missing"): ("error", "drop"), ("outcomes", "clock"): ("own", "matched"),
            ("effects", "se_method"): ("influence", "bootstrap")}


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
    data_path : Path
        The register data (absolute).
    roles : Roles
    evaluate_kwargs : dict
        Keyword arguments for :func:`impact.evaluate` (design, outcomes, effects, goals, language).
    report : dict
        ``out``, ``title``, ``threshold``.
    date_format : str or None
    raw : dict or None
        The file as read (shown in the report's footer).
    monitoring_paths : dict of str -> Path
        Monitoring inputs by name (absolute paths).
    """

    source: Path
    data_path: Path
    roles: Roles
    evaluate_kwargs: dict
    report: dict
    date_format: str | None = None
    raw: dict | None = None
    monitoring_paths: dict = field(default_factory=dict)


def _type_name(want: type | tuple[type, ...]) -> str:
    if isinstance(want, tuple):
        return "number"
    return {"str": "string", "int": "whole number", "float": "number", "bool": "true or false",
            "list": "list", "dict": "table"}.get(want.__name__, want.__name__)


def _check_keys(table: dict, section: str, where: Path) -> None:
    allowed = CONFIG_KEYS[section]
    for key, value in table.items():
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
    for section in ("data", "columns"):
        if section not in raw:
            raise ConfigError(f"{path}: the [{section}] section is missing.")
    if "path" not in raw["data"]:
        raise ConfigError(f"{path}: [data] path is required (the register data: .csv, .parquet, .dta or .sav).")
    cols = dict(raw["columns"])
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
    kwargs: dict[str, Any] = {**raw.get("design", {}), **raw.get("outcomes", {}), **raw.get("effects", {}),
                              "random_state": raw.get("seed", 0), "lang": raw.get("lang", "en")}
    for key in ("horizons", "exact", "subgroups"):
        if key in kwargs:
            kwargs[key] = tuple(kwargs[key])
    mon = dict(raw.get("monitoring", {}))
    kwargs["monitoring_start"] = mon.pop("start", None)
    kwargs["monitoring_end"] = mon.pop("end", None)
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
    report = {"out": "reports/evaluation", "title": "Programme evaluation", "threshold": 5,
              **raw.get("report", {})}
    report["out"] = _resolve(report["out"], base)
    return EvaluationConfig(source=path, data_path=data_path, roles=roles, evaluate_kwargs=kwargs,
                            report=report, date_format=raw["data"].get("date_format"), raw=raw,
                            monitoring_paths=monitoring_paths)
