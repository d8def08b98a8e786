"""The one TOML reader (standard library ``tomllib``): evaluation files and goal files both come here."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from impact._errors import ParameterError
from impact._validation import InstanceOf, validate_params

__all__ = ["read_toml"]


@validate_params({"path": [InstanceOf((str, os.PathLike), "a path (str or Path)")],
                  "what": [InstanceOf(str, "a str")]})
def read_toml(path: str | os.PathLike[str], *, what: str = "configuration file") -> dict[str, Any]:
    """Read a TOML file into a dict, with one clear error for each way it can fail.

    Parameters
    ----------
    path : str or Path
    what : str
        What the file is, for the messages (``"configuration file"``, ``"goal config file"``).

    Returns
    -------
    dict

    Raises
    ------
    ParameterError
        The file does not exist, cannot be read (a folder, no permission, not UTF-8) or is not
        valid TOML; the message names the file and the reason.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "e.toml"
    >>> _ = p.write_text('seed = 1\\n[data]\\npath = "x.csv"\\n')
    >>> read_toml(p)
    {'seed': 1, 'data': {'path': 'x.csv'}}
    >>> read_toml(p.with_name("none.toml"))
    Traceback (most recent call last):
    ...
    impact._errors.ParameterError: Cannot read the configuration file .../none.toml: it does not exist.
    """
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ParameterError(f"Cannot read the {what} {path}: it does not exist.") from exc
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise ParameterError(f"Cannot read the {what} {path}: {exc}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError(f"{path} is not valid TOML: {exc}.") from exc
