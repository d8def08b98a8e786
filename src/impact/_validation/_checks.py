"""Argument checks shared by every public function, phrased one way.

``The 'caliper' parameter of match must be > 0. Got -1.`` -- scikit-learn's wording, so that the
message is the same wherever the argument appears.
"""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np
import pandas as pd

from impact._errors import DataError, ParameterError

__all__ = [
    "check_option",
    "check_number",
    "check_columns",
    "check_random_state",
    "spawn_seeds",
    "suggest",
]


def suggest(value: str, valid: Collection[str]) -> str:
    """``" Did you mean 'x'?"`` when a close valid name exists, else ``""``."""
    close = difflib.get_close_matches(str(value), [str(v) for v in valid], n=1)
    return f" Did you mean '{close[0]}'?" if close else ""


def check_option(name: str, value: Any, allowed: Sequence[Any], func: str) -> Any:
    """Raise unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        shown = ", ".join(repr(a) for a in allowed)
        hint = suggest(value, [a for a in allowed if isinstance(a, str)]) if isinstance(value, str) else ""
        raise ParameterError(
            f"The '{name}' parameter of {func} must be one of {shown}. Got {value!r}.{hint}"
        )
    return value


def check_number(name: str, value: Any, func: str, *, low: float | None = None,
                 high: float | None = None, low_inclusive: bool = True,
                 high_inclusive: bool = True, integer: bool = False,
                 allow_none: bool = False) -> Any:
    """Raise unless ``value`` is a (finite) number within the bounds."""
    if value is None and allow_none:
        return value
    kind = "an int" if integer else "a number"
    ok_type = isinstance(value, numbers.Integral) if integer else isinstance(value, numbers.Real)
    if isinstance(value, bool) or not ok_type or not np.isfinite(value):
        raise ParameterError(f"The '{name}' parameter of {func} must be {kind}. Got {value!r}.")
    if low is not None and (value < low or (value == low and not low_inclusive)):
        op = ">=" if low_inclusive else ">"
        raise ParameterError(f"The '{name}' parameter of {func} must be {op} {low}. Got {value!r}.")
    if high is not None and (value > high or (value == high and not high_inclusive)):
        op = "<=" if high_inclusive else "<"
        raise ParameterError(f"The '{name}' parameter of {func} must be {op} {high}. Got {value!r}.")
    return value


def check_columns(data: pd.DataFrame, columns: Sequence[str], role: str = "column") -> None:
    """Raise a :class:`DataError` naming every column in ``columns`` that ``data`` lacks."""
    if not isinstance(data, pd.DataFrame):
        raise ParameterError(
            f"Expected a pandas DataFrame. Got {type(data).__name__}. "
            "Read your file with pandas first, e.g. pd.read_csv(path)."
        )
    missing = [c for c in columns if c not in data.columns]
    if missing:
        names = ", ".join(f"'{c}'" for c in missing)
        hints = "".join(suggest(c, list(map(str, data.columns))) for c in missing)
        raise DataError(
            f"The {role} {names} {'is' if len(missing) == 1 else 'are'} not in the data "
            f"(it has {len(data.columns)} columns: {', '.join(map(str, list(data.columns)[:12]))}"
            f"{', ...' if len(data.columns) > 12 else ''}).{hints}",
            column=missing[0], rule="column must exist",
        )


def check_random_state(random_state: int | np.random.Generator | None) -> np.random.Generator:
    """Turn ``random_state`` into a :class:`numpy.random.Generator`, once, at the API boundary."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or (isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool)
                                and random_state >= 0):
        return np.random.default_rng(random_state)
    raise ParameterError(
        f"The 'random_state' parameter must be an int >= 0, a numpy Generator or None. Got {random_state!r}."
    )


def spawn_seeds(random_state: int | np.random.Generator | None, n: int) -> list[np.random.SeedSequence]:
    """``n`` independent child seeds of ``random_state`` (``SeedSequence.spawn``), one per replicate or
    worker, so that answers do not depend on the number of workers.

    Examples
    --------
    >>> a = spawn_seeds(7, 3); b = spawn_seeds(7, 3)
    >>> [s.generate_state(1)[0] for s in a] == [s.generate_state(1)[0] for s in b]
    True
    """
    if isinstance(random_state, np.random.Generator):
        return random_state.bit_generator.seed_seq.spawn(n)  # type: ignore[attr-defined]  # Generators carry a SeedSequence
    check_random_state(random_state)  # the same checks and message for every other value
    return np.random.SeedSequence(random_state).spawn(n)
