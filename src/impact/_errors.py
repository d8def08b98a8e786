"""One exception hierarchy for the whole package, and the helpers that phrase messages.

Messages name the column, the rule that was broken, how many rows broke it and the first few
*row positions* (0-based, as ``df.iloc`` takes them). They never print values of an identifier
column: in register data those are personal identity numbers, and error messages end up in logs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # numpy loads on first use, so that `import impact` stays light
    import numpy as np

__all__ = [
    "ImpactError",
    "DataError",
    "ParameterError",
    "EstimationError",
    "ImpactWarning",
    "format_positions",
    "data_error",
]

_MAX_POSITIONS = 5


class ImpactError(Exception):
    """Base class of every error raised on purpose by :mod:`impact`."""


class DataError(ImpactError, ValueError):
    """The data break a rule: a missing column, missing values, dates out of order, ..."""

    def __init__(self, message: str, *, column: str | None = None, rule: str | None = None,
                 positions: Iterable[int] = ()) -> None:
        super().__init__(message)
        self.column = column
        self.rule = rule
        self.positions = tuple(int(p) for p in positions)


class ParameterError(ImpactError, ValueError):
    """An argument has a value the function does not accept."""


class EstimationError(ImpactError, RuntimeError):
    """A quantity cannot be estimated from these data (no events, no overlap, too few units)."""


class ImpactWarning(UserWarning):
    """Something the user should know about, e.g. a default that was assumed."""


def format_positions(positions: Iterable[int] | np.ndarray, limit: int = _MAX_POSITIONS) -> str:
    """``"3 rows (positions 0, 4, 9)"`` or ``"12 rows (first positions 0, 1, 2, 5, 8)"``."""
    import numpy as np

    pos = np.asarray(list(positions) if not isinstance(positions, np.ndarray) else positions)
    pos = pos.astype(np.int64, copy=False)
    n = pos.size
    noun = "row" if n == 1 else "rows"
    shown = ", ".join(str(int(p)) for p in pos[:limit])
    if n <= limit:
        return f"{n} {noun} (position{'s' if n > 1 else ''} {shown})"
    return f"{n} {noun} (first positions {shown})"


def data_error(column: str, rule: str, mask_or_positions: Any, fix: str | None = None) -> DataError:
    """Build a :class:`DataError` for ``column`` breaking ``rule`` at the given rows.

    ``mask_or_positions`` is a boolean mask over the rows or an array of row positions.
    """
    import numpy as np

    arr = np.asarray(mask_or_positions)
    positions = np.flatnonzero(arr) if arr.dtype == bool else arr.astype(np.int64)
    msg = f"Column '{column}': {rule}; {format_positions(positions)}."
    if fix:
        msg += f" {fix}"
    return DataError(msg, column=column, rule=rule, positions=positions[:_MAX_POSITIONS])
