"""Evaluation configuration files (TOML, read with the standard library).

An evaluation is described once and run again each month::

    seed = 0

    [data]
    path = "registers.csv"          # .csv, .parquet, .dta (Stata) or .sav (SPSS)

    [columns]
    id = "person_id"
    treatment = "participant"
    start = "start_date"
    exit_date = "exit_date"
    exit_type = "exit_type"
    cutoff = "2022-10-31"
    subgroup = "gender"
    covariates = ["age", "education"]

    [design]
    method = "nearest"
    caliper = 0.2
    ratio = 1
    replace = false
    start_period = "quarter"

    [outcomes]
    horizons = [90, 180, 365]

    [report]
    out = "reports/evaluation"
    title = "Malmökraften 2.0"
    threshold = 5

Unknown keys are errors, with the nearest valid key suggested.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ._checks import suggest
from ._errors import ImpactError, ParameterError
from .data import Roles

__all__ = ["EvaluationConfig", "read_config", "read_table"]

_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "": {"seed": int},
    "data": {"path": str, "date_format": str},
    "columns": {"id": str, "treatment": str, "start": str, "exit_date": str, "exit_type": str,
                "cutoff": str, "subgroup": str, "covariates": list, "exit_codes": dict},
    "design": {"method": str, "caliper": (int, float), "ratio": int, "replace": bool, "exact": list,
               "start_period": str, "missing": str},
    "outcomes": {"horizons": list, "clock": str},
    "report": {"out": str, "title": str, "threshold": int},
}


class ConfigError(ImpactError, ValueError):
    """The configuration file is wrong: unknown key, wrong type, missing section."""


@dataclass(frozen=True)
class EvaluationConfig:
    """A parsed configuration: where the data are, the roles, and the keyword arguments."""

    source: Path
    data_path: Path
    roles: Roles
    evaluate_kwargs: dict
    report: dict
    date_format: str | None = None
    raw: dict | None = None


def _check_keys(table: dict, section: str, where: Path) -> None:
    allowed = _SCHEMA[section]
    for key, value in table.items():
        if section == "" and key in _SCHEMA:
            if not isinstance(value, dict):
                raise ConfigError(f"{where}: [{key}] must be a table (a section).")
            _check_keys(value, key, where)
            continue
        if key not in allowed:
            valid = list(allowed) + (list(k for k in _SCHEMA if k) if section == "" else [])
            name = f"[{section}] {key}" if section else key
            raise ConfigError(f"{where}: unknown key '{name}'.{suggest(key, valid)} "
                              f"Valid keys here: {', '.join(valid)}.")
        if not isinstance(value, allowed[key]) or (allowed[key] is int and isinstance(value, bool)):
            want = allowed[key].__name__ if isinstance(allowed[key], type) else "number"
            raise ConfigError(f"{where}: [{section}] {key} must be a {want}. Got {value!r}.")


def read_config(path: str | Path) -> EvaluationConfig:
    """Read and check an evaluation file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "e.toml"
    >>> _ = p.write_text('[data]\\npath = "x.csv"\\n[columns]\\nid = "i"\\ntreatment = "t"\\nstart = "s"\\n'
    ...                  '[design]\\ncalliper = 0.1\\n')
    >>> read_config(p)
    Traceback (most recent call last):
    ...
    impact.config.ConfigError: ...: unknown key '[design] calliper'. Did you mean 'caliper'? ...
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"Cannot read the configuration file {path}: it does not exist.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}.") from exc
    _check_keys(raw, "", path)
    for section in ("data", "columns"):
        if section not in raw:
            raise ConfigError(f"{path}: the [{section}] section is missing.")
    cols = dict(raw["columns"])
    for key in ("id", "treatment", "start"):
        if key not in cols:
            raise ConfigError(f"{path}: [columns] {key} is required.")
    cols["covariates"] = tuple(cols.get("covariates", ()))
    try:
        roles = Roles(**cols)
    except ParameterError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    data_path = Path(raw["data"]["path"])
    if not data_path.is_absolute():
        data_path = (path.parent / data_path).resolve()
    design = dict(raw.get("design", {}))
    outcomes = dict(raw.get("outcomes", {}))
    kwargs: dict[str, Any] = {**design, **outcomes, "random_state": raw.get("seed", 0)}
    if "horizons" in kwargs:
        kwargs["horizons"] = tuple(kwargs["horizons"])
    report = {"out": "reports/evaluation", "title": "Programme evaluation", "threshold": 5,
              **raw.get("report", {})}
    return EvaluationConfig(source=path, data_path=data_path, roles=roles, evaluate_kwargs=kwargs,
                            report=report, date_format=raw["data"].get("date_format"), raw=raw)


def read_table(path: str | Path) -> pd.DataFrame:
    """Read CSV, Parquet, Stata (.dta) or SPSS (.sav) into a DataFrame, with clear errors."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"Cannot read the data file {path}: it does not exist.")
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".txt"):
            return pd.read_csv(path)
        if suffix == ".parquet":
            return pd.read_parquet(path)
        if suffix == ".dta":
            return pd.read_stata(path)
        if suffix == ".sav":
            return pd.read_spss(path)
    except ImportError as exc:
        raise ConfigError(f"Reading {suffix} files needs an optional package: {exc}") from exc
    except (ValueError, OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Cannot read the data file {path}: {exc}") from exc
    raise ConfigError(f"Cannot read {path}: unknown file type '{suffix}' "
                      "(use .csv, .parquet, .dta or .sav).")
