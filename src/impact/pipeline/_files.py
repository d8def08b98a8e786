"""Reading the data files an evaluation names: CSV, Parquet, Stata, SPSS, with clear errors."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from impact._validation import InstanceOf, validate_params
from impact.pipeline._config import ConfigError, EvaluationConfig

__all__ = ["read_table", "read_inputs"]


_READERS = {".csv": "CSV", ".txt": "CSV", ".parquet": "Parquet", ".pq": "Parquet", ".dta": "Stata",
            ".sav": "SPSS", ".zsav": "SPSS"}


def _empty_strings_missing(df: pd.DataFrame) -> pd.DataFrame:
    """Stata and SPSS have no missing value for strings: an empty string is a missing value."""
    obj = [c for c in df.columns if df[c].dtype == object]
    if obj:
        df[obj] = df[obj].mask(df[obj].apply(lambda col: col.map(lambda v: isinstance(v, str) and v == "")))
    return df


@validate_params({"path": [InstanceOf((str, os.PathLike), "a path to a data file (str or Path)")]})
def read_table(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a CSV, Parquet, Stata (.dta) or SPSS (.sav) file into a DataFrame, with clear errors.

    Dates stay as they are in the file (strings in CSV, dates in Parquet, Stata and SPSS);
    :func:`impact.validate` parses them and names any it cannot. Stata and SPSS files have no
    missing value for strings, so an empty string in a text column is read as missing.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    DataFrame

    Raises
    ------
    ConfigError
        The file does not exist, has an unknown type, cannot be parsed, or needs an optional
        package that is not installed (SPSS files need ``pyreadstat``: ``pip install "impact[spss]"``).

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "people.csv"
    >>> pd.DataFrame({"person_id": ["a", "b"], "age": [30, 41]}).to_csv(p, index=False)
    >>> read_table(p).shape
    (2, 2)
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
        raise ConfigError(f"Cannot read {path}: unknown file type '{suffix}' "
                          "(use .csv, .parquet, .dta (Stata) or .sav (SPSS)).")
    try:
        if kind == "CSV":
            return pd.read_csv(path)
        if kind == "Parquet":
            return pd.read_parquet(path)
        if kind == "Stata":
            return _empty_strings_missing(pd.read_stata(path))
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
    except Exception as exc:  # every reader has its own exception types; name the file and the reader
        raise ConfigError(f"Cannot read the data file {path} as {kind}: {type(exc).__name__}: {exc}") from exc


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
    data = read_table(config.data_path)
    records = {name: read_table(p) for name, p in config.monitoring_paths.items()}
    return data, records
