"""Reading the data files an evaluation names: CSV, Excel, Parquet, Stata, SPSS, SAS, with clear errors."""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from impact._errors import DataError, ImpactWarning, format_positions
from impact._validation import InstanceOf, validate_params
from impact.pipeline._config import ConfigError, EvaluationConfig

__all__ = ["read_table", "read_inputs", "read_registers", "read_monitoring", "recode_values", "READ_OPTIONS"]


_READERS = {".csv": "CSV", ".txt": "CSV", ".tsv": "CSV", ".parquet": "Parquet", ".pq": "Parquet",
            ".dta": "Stata", ".sav": "SPSS", ".zsav": "SPSS", ".xlsx": "Excel", ".xlsm": "Excel",
            ".sas7bdat": "SAS"}
#: the file options every input section of an evaluation file takes
READ_OPTIONS = ("sep", "decimal", "thousands", "encoding", "sheet")
ENCODINGS = ("utf-8", "utf-8-sig", "cp1252", "latin-1", "iso-8859-1")
_DECIMAL_COMMA = re.compile(r"^\s*[-\u2212]?\d{1,3}(?:[ \u00a0\u202f.]?\d{3})*,\d+\s*$|^\s*[-\u2212]?\d+,\d+\s*$")
_TYPES = ".csv, .txt, .tsv, .xlsx, .parquet, .dta (Stata), .sav (SPSS) or .sas7bdat (SAS)"


def _empty_strings_missing(df: pd.DataFrame) -> pd.DataFrame:
    """Stata and SPSS have no missing value for strings: an empty string is a missing value."""
    obj = [c for c in df.columns if df[c].dtype == object]
    if obj:
        df[obj] = df[obj].mask(df[obj].apply(lambda col: col.map(lambda v: isinstance(v, str) and v == "")))
    return df


def _first_line(path: Path, encoding: str) -> str:
    with open(path, "rb") as fh:
        head = fh.read(65536)
    return head.decode(encoding, errors="replace").lstrip("\ufeff").splitlines()[0] if head else ""


def _key(section: str, key: str) -> str:
    return f"[{section}] {key}"


def _check_decimal_commas(df: pd.DataFrame, path: Path, section: str, decimal: str | None) -> None:
    """A text column whose values are all numbers written with a decimal comma is an error, not categories."""
    if decimal == ",":
        return
    for col in df.columns:
        if df[col].dtype != object:
            continue
        values = df[col].dropna()
        values = values[values.map(lambda v: isinstance(v, str) and v.strip() != "")]
        if not len(values):
            continue
        hits = values.str.match(_DECIMAL_COMMA)
        if hits.mean() >= 0.9 and hits.sum() >= 1:
            example = values[hits].iloc[0]
            raise ConfigError(f"{path.name}, column '{col}': numbers written with a decimal comma (e.g. {example!r}) "
                              f"would be read as text categories. Add decimal = \",\" to [{section}] "
                              "(and thousands = \" \" or \".\" if the file groups digits).")


@validate_params({"path": [InstanceOf((str, os.PathLike), "a path to a data file (str or Path)")],
                  "sep": [InstanceOf(str, "a str"), None],
                  "decimal": [InstanceOf(str, "a str"), None],
                  "thousands": [InstanceOf(str, "a str"), None],
                  "encoding": [InstanceOf(str, "a str"), None],
                  "sheet": [InstanceOf((str, int), "a sheet name or number"), None],
                  "section": [InstanceOf(str, "a str")]})
def read_table(path: str | os.PathLike[str], *, sep: str | None = None, decimal: str | None = None,
               thousands: str | None = None, encoding: str | None = None, sheet: str | int | None = None,
               section: str = "data") -> pd.DataFrame:
    """Read a CSV, Excel, Parquet, Stata, SPSS or SAS file into a DataFrame, with clear errors.

    Dates stay as they are in the file (strings in CSV, dates in Parquet, Stata and SPSS);
    :func:`impact.validate` parses them and names any it cannot. Stata and SPSS files have no
    missing value for strings, so an empty string in a text column is read as missing.

    Parameters
    ----------
    path : str or Path
        ``.csv``/``.txt``/``.tsv``, ``.xlsx``, ``.parquet``, ``.dta`` (Stata), ``.sav`` (SPSS) or
        ``.sas7bdat`` (SAS, as used in SCB's MONA).
    sep : str, optional
        Column separator of a text file. When not given and the first line has ``;`` but no
        ``,`` (a Swedish Excel export), ``;`` is used and an :class:`impact.ImpactWarning` says
        so (set ``sep`` to silence it); likewise a tab.
    decimal, thousands : str, optional
        Decimal and thousands separators of numbers in a text file (``decimal=","``,
        ``thousands=" "`` for Swedish exports). Without ``decimal=","`` a column of numbers
        written with decimal commas is an error naming the column and the key, never silent
        text categories.
    encoding : str, optional
        Text encoding: ``utf-8`` (default, a byte-order mark is skipped), ``utf-8-sig``,
        ``cp1252`` (Windows, Swedish Excel) or ``latin-1``; also for SAS files.
    sheet : str or int, optional
        Excel sheet name or 0-based number (default: the first).
    section : str
        The evaluation-file section the options come from (named in the errors).

    Returns
    -------
    DataFrame

    Raises
    ------
    ConfigError
        The file does not exist, has an unknown type, cannot be parsed, is not in the encoding,
        has decimal-comma numbers without ``decimal=","``, or needs an optional package that is
        not installed (SPSS files need ``pyreadstat``: ``pip install "impact[spss]"``). The
        message names the evaluation-file key that fixes it.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "people.csv"
    >>> pd.DataFrame({"person_id": ["a", "b"], "age": [30, 41]}).to_csv(p, index=False)
    >>> read_table(p).shape
    (2, 2)
    >>> _ = p.write_text("person_id;age\\na;35,5\\nb;41,0\\n")
    >>> read_table(p, sep=";", decimal=",")["age"].tolist()
    [35.5, 41.0]
    >>> read_table(p, sep=";")
    Traceback (most recent call last):
    ...
    impact.pipeline.ConfigError: people.csv, column 'age': numbers written with a decimal comma (e.g. '35,5') ...
    >>> read_table(p.with_suffix(".xls"))
    Traceback (most recent call last):
    ...
    impact.pipeline.ConfigError: Cannot read the data file .../people.xls: it does not exist.
    """
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"Cannot read the data file {path}: it does not exist.")
    if path.is_dir():
        raise ConfigError(f"Cannot read the data file {path}: it is a folder, not a file.")
    suffix = path.suffix.lower()
    kind = _READERS.get(suffix)
    if kind is None:
        hint = " Save it as .xlsx (Excel 2007 or later)." if suffix == ".xls" else ""
        raise ConfigError(f"Cannot read {path}: unknown file type '{suffix}' (use {_TYPES}).{hint}")
    if encoding is not None and encoding.lower() not in ENCODINGS:
        raise ConfigError(f"{_key(section, 'encoding')} must be one of {', '.join(map(repr, ENCODINGS))}. "
                          f"Got {encoding!r}.")
    try:
        if kind == "CSV":
            enc = encoding or "utf-8-sig"
            if sep is None:
                line = _first_line(path, enc)
                if suffix == ".tsv" or ("\t" in line and "," not in line and ";" not in line):
                    sep = "\t"
                elif ";" in line and "," not in line:
                    sep = ";"
                    warnings.warn(f"{path.name}: the first line has ';' but no ',': read with sep=';'. "
                                  f"Set {_key(section, 'sep')} = \";\" to say so (and silence this).",
                                  ImpactWarning, stacklevel=2)
            try:
                df = pd.read_csv(path, sep=sep or ",", decimal=decimal or ".", thousands=thousands,
                                 encoding=enc)
            except UnicodeDecodeError as exc:
                raise ConfigError(f"Cannot read {path}: it is not {enc} text ({exc.reason} at byte "
                                  f"{exc.start}). Files exported from Swedish Excel are often Windows text: "
                                  f"add encoding = \"cp1252\" to [{section}].") from None
            if len(df.columns) == 1 and sep is None and ";" in str(df.columns[0]):
                raise ConfigError(f"{path.name}: one column '{df.columns[0]}': the file looks separated by "
                                  f"';'. Add sep = \";\" to [{section}].")
            _check_decimal_commas(df, path, section, decimal)
            return df
        if kind == "Excel":
            df = pd.read_excel(path, sheet_name=0 if sheet is None else sheet, decimal=decimal or ".",
                               thousands=thousands)
            _check_decimal_commas(df, path, section, decimal)
            return df
        if kind == "Parquet":
            return pd.read_parquet(path)
        if kind == "Stata":
            return _empty_strings_missing(pd.read_stata(path))
        if kind == "SAS":
            sas = pd.read_sas(path, format="sas7bdat", encoding=encoding or "utf-8")
            return _empty_strings_missing(pd.DataFrame(sas))
        try:
            import pyreadstat  # noqa: F401
        except ImportError:
            raise ConfigError(f"Reading SPSS files ({path.name}) needs the optional package pyreadstat: "
                              "pip install pyreadstat (or: pip install \"impact[spss]\").") from None
        return _empty_strings_missing(pd.read_spss(path))
    except ConfigError:
        raise
    except ImportError as exc:
        raise ConfigError(f"Reading {kind} files ({path.name}) needs an optional package: {exc}. "
                          "Install it with pip, e.g. pip install pyarrow.") from exc
    except ValueError as exc:
        if kind == "Excel" and "Worksheet" in str(exc):
            raise ConfigError(f"Cannot read {path.name}: {exc}. Set {_key(section, 'sheet')} to a sheet "
                              "name or number.") from exc
        raise ConfigError(f"Cannot read the data file {path} as {kind}: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:  # every reader has its own exception types; name the file and the reader
        raise ConfigError(f"Cannot read the data file {path} as {kind}: {type(exc).__name__}: {exc}") from exc


def recode_values(data: pd.DataFrame, values: Mapping[str, Mapping[str, Any]], *, where: str = "[columns.values]",
                  ) -> pd.DataFrame:
    """Recode column values as ``[columns.values]`` says, e.g. ``participant = {ja = 1, nej = 0}``.

    Values compare as text (``1`` in the file and ``"1"`` in the file are one value); a value
    the mapping does not know is an error naming the key; missing values stay missing.

    Examples
    --------
    >>> df = pd.DataFrame({"participant": ["ja", "nej", None], "gender": ["K", "M", "K"]})
    >>> recode_values(df, {"participant": {"ja": 1, "nej": 0}, "gender": {"K": "female", "M": "male"}}).to_numpy().tolist()
    [[1.0, 'female'], [0.0, 'male'], [nan, 'female']]
    """
    out = data.copy()
    for col, mapping in values.items():
        if col not in out.columns:
            raise ConfigError(f"{where} {col}: the data have no column '{col}'.")
        if not isinstance(mapping, Mapping) or not mapping:
            raise ConfigError(f"{where} {col} must be a table of values, e.g. {col} = {{ja = 1, nej = 0}}.")
        text = {str(k).strip(): v for k, v in mapping.items()}
        raw = out[col]
        keys = raw.map(lambda v: v if pd.isna(v) else (str(int(v)) if isinstance(v, float) and v == int(v)
                                                       else str(v).strip()))
        known = keys.isna() | keys.isin(list(text))
        if not known.all():
            bad = sorted(set(keys[~known].astype(str)))
            raise ConfigError(f"{where} {col}: values {', '.join(map(repr, bad[:5]))} are not in the table "
                              f"({format_positions(np.flatnonzero(~known.to_numpy()))}). Add them, e.g. "
                              f"{col} = {{{', '.join(f'{k} = ...' for k in [*text][:2] + bad[:1])}}}.")
        out[col] = keys.map(text)
        if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in text.values()):
            out[col] = pd.to_numeric(out[col])
    return out


@validate_params({"config": [InstanceOf(EvaluationConfig, "an EvaluationConfig (the result of read_config)")]})
def read_inputs(config: EvaluationConfig) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Read the register data and the monitoring inputs an evaluation file names.

    Parameters
    ----------
    config : EvaluationConfig

    Returns
    -------
    (DataFrame, dict of str -> DataFrame)
        The registers, and the monitoring inputs by name (empty when there are none).

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"i": [1], "t": [1], "s": ["2022-01-01"]}).to_csv(folder / "x.csv", index=False)
    >>> _ = (folder / "e.toml").write_text('[data]\\npath = "x.csv"\\n[columns]\\nid = "i"\\n'
    ...                                    'treatment = "t"\\nstart = "s"\\n')
    >>> from impact.pipeline import read_config
    >>> data, monitoring = read_inputs(read_config(folder / "e.toml"))
    >>> data.shape, monitoring
    ((1, 3), {})
    """
    if config.data_path is None:
        raise ConfigError(f"{config.source}: there is no [data] file: this evaluation reads a register extract "
                          "([registers]); use read_registers(config).")
    data = read_table(config.data_path, **config.read_options)
    if config.values:
        data = recode_values(data, config.values)
    records = read_monitoring(config)
    return data, records


def read_monitoring(config: EvaluationConfig) -> dict[str, pd.DataFrame]:
    """The monitoring inputs an evaluation file names (``[monitoring]``), with its file options.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> pd.DataFrame({"person_id": [1]}).to_csv(folder / "p.csv", sep=";", index=False)
    >>> _ = (folder / "e.toml").write_text('[data]\\npath = "p.csv"\\n[columns]\\nid = "i"\\ntreatment = "t"\\n'
    ...                                    'start = "s"\\n[monitoring]\\nparticipants = "p.csv"\\nsep = ";"\\n')
    >>> from impact.pipeline import read_config
    >>> read_monitoring(read_config(folder / "e.toml"))["participants"].shape
    (1, 1)
    """
    return {name: read_table(p, section="monitoring", **config.monitoring_options)
            for name, p in config.monitoring_paths.items()}


@validate_params({"config": [InstanceOf(EvaluationConfig, "an EvaluationConfig (the result of read_config)")]})
def read_registers(config: EvaluationConfig) -> Any:
    """The register extract an evaluation file's ``[registers]`` section names, checked.

    Every table is read with the section's file options (``sep``, ``decimal``, ``thousands``,
    ``encoding``, ``sheet``); ``[registers.columns]`` names the columns, ``[outcomes.codes]``
    gives deregistration codes their roles (over :data:`impact.registers.DEFAULT_CODES`). Errors
    name the table, the column, the rule and the rows (see ``docs/registers.md``).

    Returns
    -------
    RegisterExtract

    Examples
    --------
    >>> import tempfile, pathlib, impact
    >>> from impact.synthetic import simulate_extract, write_extract
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = write_extract(simulate_extract(500, random_state=1), folder)
    >>> _ = (folder / "e.toml").write_text('[registers]\\npersons = "persons.csv"\\nspells = "spells.csv"\\n'
    ...     'programme = "programme.csv"\\nbenefits = "benefits.csv"\\ncutoff = "2022-10-31"\\n')
    >>> from impact.pipeline import read_config
    >>> read_registers(read_config(folder / "e.toml"))
    RegisterExtract(500 persons, ... spells, ... participants, 1 benefit registers, cut-off 2022-10-31)
    """
    from impact._errors import ImpactError
    from impact.registers import DEFAULT_CODES, RegisterColumns, RegisterExtract
    reg = config.registers
    if reg is None:
        raise ConfigError(f"{config.source}: there is no [registers] section.")
    cols = RegisterColumns(**reg["columns"])
    opts = dict(config.read_options)
    as_text = {cols.id: str, cols.code: str, cols.month: str, cols.gender: str}

    def read(p: Path) -> pd.DataFrame:
        df = read_table(p, section="registers", **opts)
        for col, typ in as_text.items():   # ids, codes and months are labels, not numbers
            if col in df.columns and df[col].dtype != object:
                df[col] = df[col].map(lambda v: v if pd.isna(v) else (str(int(v)) if isinstance(v, float)
                                                                      and float(v).is_integer() else str(v)))
        return df

    try:
        codes = DEFAULT_CODES.with_roles(reg["codes"]) if reg["codes"] else DEFAULT_CODES
        extract = RegisterExtract(persons=read(reg["persons"]), spells=read(reg["spells"]),
                                  programme=read(reg["programme"]), cutoff=reg["cutoff"],
                                  benefits={k: read(v) for k, v in reg["benefits"].items()}, columns=cols,
                                  codes=codes, genders=reg["genders"])
        extract = extract.validate()
    except ConfigError:
        raise
    except DataError as exc:
        raise DataError(_toml_fix(str(exc), config.source.name), column=exc.column, rule=exc.rule,
                        positions=exc.positions) from exc
    except ImpactError as exc:
        raise ConfigError(f"{config.source.name}: {_toml_fix(str(exc), config.source.name)}") from exc
    return extract


def _toml_fix(message: str, name: str) -> str:
    """A register error told in evaluation-file keys rather than Python calls."""
    python_fix = re.compile(r"Give them a role: codes=DEFAULT_CODES\.with_roles\(.*\)\.?")
    if python_fix.search(message):
        return python_fix.sub("Give them a role in [outcomes.codes] of " + name +
                              ', e.g. "47" = "competing" (event | competing | censored).', message)
    return (f"{message} (In {name}: [registers] names the files, [registers.columns] the columns, "
            "[registers] genders the gender codes, [outcomes.codes] the codes.)")
