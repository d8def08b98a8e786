"""The configuration written back as TOML, for the report's "full configuration" block.

Reading TOML is the standard library's job (``tomllib``, used once, in :mod:`impact.data`); the
standard library has no writer, and the report only needs one for plain values, tables and
arrays of tables.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["to_toml"]


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, Mapping):
        return "{" + ", ".join(f"{_key(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    return json.dumps(str(v), ensure_ascii=False)


def _key(k: Any) -> str:
    """A TOML key: bare when it is only ``A-Za-z0-9_-``, else quoted (``"övrigt"``, ``"01"`` stays bare)."""
    text = str(k)
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else json.dumps(text, ensure_ascii=False)


def to_toml(raw: Mapping[str, Any]) -> str:
    """The configuration written back as TOML (scalars first, then sections, then arrays of tables).

    Keys whose value is None are left out (TOML has no null).

    Examples
    --------
    >>> print(to_toml({"seed": 1, "lang": "sv", "data": {"path": "x.csv"}, "goals": [{"kind": "count"}],
    ...                "caliper": None}), end="")
    seed = 1
    lang = "sv"
    <BLANKLINE>
    [data]
    path = "x.csv"
    <BLANKLINE>
    [[goals]]
    kind = "count"
    """
    items = {k: v for k, v in raw.items() if v is not None}
    lines = [f"{_key(k)} = {_toml_value(v)}" for k, v in items.items() if not isinstance(v, (Mapping, list)) or
             (isinstance(v, list) and not (v and isinstance(v[0], Mapping)))]
    for k, v in items.items():
        if isinstance(v, Mapping):
            lines += ["", f"[{_key(k)}]"] + [f"{_key(kk)} = {_toml_value(vv)}" for kk, vv in v.items()
                                             if vv is not None]
    for k, v in items.items():
        if isinstance(v, list) and v and isinstance(v[0], Mapping):
            for item in v:
                lines += ["", f"[[{_key(k)}]]"] + [f"{_key(kk)} = {_toml_value(vv)}" for kk, vv in item.items()
                                                   if vv is not None]
    return "\n".join(lines).strip() + "\n"
