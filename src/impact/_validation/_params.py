"""Parameter constraint tables: each public function declares its parameters once.

Modelled on scikit-learn's ``validate_params``: a function is decorated with a table
``{parameter: [constraint, ...]}``; a value must satisfy at least one of its constraints. The checks
and their messages come from that one table, in our form::

    The 'caliper' parameter of match must be > 0. Got -1.
    The 'method' parameter of match must be one of 'nearest', 'optimal'. Got 'nearst'. Did you mean 'nearest'?

and the bad-input tests are generated from the same tables (:func:`invalid_values`).

Constraints
-----------
``Interval(Real | Integral, low, high, closed=...)``
    a finite number (never a bool) within the bounds;
``Options(values)``
    one of a fixed set of values (strings get a "Did you mean" hint);
``InstanceOf(type, description)``
    an instance of a type, e.g. ``InstanceOf(pd.DataFrame, "a pandas DataFrame")``;
``None``
    the value may be ``None``;
``"random_state"``
    an int >= 0, a :class:`numpy.random.Generator` or ``None`` (see :func:`check_random_state`);
``"boolean"``, ``"column"`` (a column name), ``"columns"`` (one name or a list of names).
"""

from __future__ import annotations

import functools
from abc import ABC, abstractmethod
import inspect
import numbers
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from impact._errors import ParameterError
from impact._validation._checks import suggest

__all__ = ["Interval", "Options", "InstanceOf", "Constraint", "validate_params", "check_params", "invalid_values",
           "constraints_of"]

F = TypeVar("F", bound=Callable[..., Any])


class Constraint(ABC):
    """One admissible kind of value for a parameter."""

    @abstractmethod
    def is_satisfied_by(self, value: Any) -> bool:
        """Whether ``value`` is admissible."""

    @abstractmethod
    def describe(self) -> str:
        """The rule in words, as the message shows it (``"a number > 0"``)."""

    def invalid(self) -> list[Any]:
        """Values this constraint rejects (for generated bad-input tests)."""
        return []


def _is_number(value: Any, integer: bool) -> bool:
    if isinstance(value, bool):
        return False
    if integer:
        return isinstance(value, numbers.Integral)
    if not isinstance(value, numbers.Real):
        return False
    return bool(value == value and abs(float(value)) != float("inf"))


@dataclass(frozen=True)
class Interval(Constraint):
    """A finite number of ``type`` (``numbers.Real`` or ``numbers.Integral``) within the bounds."""

    type: type
    low: float | None = None
    high: float | None = None
    closed: str = "both"  # "both", "left", "right" or "neither"

    @property
    def integer(self) -> bool:
        return self.type is numbers.Integral or self.type is int

    def _bound_ok(self, value: Any) -> str | None:
        """``None`` when within the bounds, else the rule broken (``"> 0"``)."""
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        if self.low is not None and (value < self.low or (value == self.low and not left)):
            return f"{'>=' if left else '>'} {_num(self.low)}"
        if self.high is not None and (value > self.high or (value == self.high and not right)):
            return f"{'<=' if right else '<'} {_num(self.high)}"
        return None

    def is_satisfied_by(self, value: Any) -> bool:
        return _is_number(value, self.integer) and self._bound_ok(value) is None

    def describe(self) -> str:
        kind = "an int" if self.integer else "a number"
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        if self.low is not None and self.high is not None:
            return f"{kind} in {'[' if left else '('}{_num(self.low)}, {_num(self.high)}{']' if right else ')'}"
        if self.low is not None:
            return f"{kind} {'>=' if left else '>'} {_num(self.low)}"
        if self.high is not None:
            return f"{kind} {'<=' if right else '<'} {_num(self.high)}"
        return kind

    def invalid(self) -> list[Any]:
        out: list[Any] = ["text", True, float("nan")]
        if self.low is not None:
            out.append(self.low - 1)
        if self.high is not None:
            out.append(self.high + 1)
        if self.integer:
            out.append(1.5)
        return out


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


@dataclass(frozen=True)
class Options(Constraint):
    """One of a fixed set of values."""

    values: tuple[Any, ...]

    def __init__(self, values: Iterable[Any]) -> None:
        object.__setattr__(self, "values", tuple(values))

    def is_satisfied_by(self, value: Any) -> bool:
        try:
            return value in self.values
        except TypeError:  # an unhashable or uncomparable value
            return False

    def describe(self) -> str:
        return "one of " + ", ".join(repr(v) for v in self.values)

    def invalid(self) -> list[Any]:
        return ["no-such-option"]


@dataclass(frozen=True)
class InstanceOf(Constraint):
    """An instance of ``type``, described in words (``"a pandas DataFrame"``)."""

    type: Any
    description: str

    def is_satisfied_by(self, value: Any) -> bool:
        return isinstance(value, self.type)

    def describe(self) -> str:
        return self.description

    def invalid(self) -> list[Any]:
        return [_NOT_IT]


class _NotIt:
    """A value of no admissible type, with a stable repr (generated test ids stay the same run to run)."""

    def __repr__(self) -> str:
        return "<an unrelated object>"


_NOT_IT = _NotIt()


class _Named(Constraint):
    def __init__(self, name: str, test: Callable[[Any], bool], description: str, invalid: Sequence[Any]) -> None:
        self.name, self._test, self.description, self._invalid = name, test, description, list(invalid)

    def is_satisfied_by(self, value: Any) -> bool:
        return self._test(value)

    def describe(self) -> str:
        return self.description

    def invalid(self) -> list[Any]:
        return list(self._invalid)

    def __repr__(self) -> str:
        return repr(self.name)


def _random_state_ok(value: Any) -> bool:
    import numpy as np

    if value is None or isinstance(value, np.random.Generator):
        return True
    return _is_number(value, True) and value >= 0


def _columns_ok(value: Any) -> bool:
    """A column name, or a list, tuple, pandas Index or 1-D array of column names."""
    if isinstance(value, str):
        return True
    if hasattr(value, "ndim") and hasattr(value, "tolist"):  # a pandas Index or a numpy array
        return bool(value.ndim == 1) and all(isinstance(v, str) for v in value.tolist())
    return isinstance(value, Sequence) and all(isinstance(v, str) for v in value)


_NAMED: dict[str, _Named] = {
    "random_state": _Named("random_state", _random_state_ok, "an int >= 0, a numpy Generator or None", [-1, 1.5, "seed"]),
    "boolean": _Named("boolean", lambda v: isinstance(v, bool), "True or False", ["yes", 2]),
    "column": _Named("column", lambda v: isinstance(v, str), "a column name (str)", [3, ["a", "b"]]),
    "columns": _Named("columns", _columns_ok, "a column name or a list of column names", [3, [1, 2]]),
}


def _as_constraint(c: Any) -> Constraint | None:
    if c is None:
        return None
    if isinstance(c, Constraint):
        return c
    if isinstance(c, str):
        if c not in _NAMED:
            raise ValueError(f"unknown named constraint {c!r}; known: {sorted(_NAMED)}")
        return _NAMED[c]
    if isinstance(c, type):
        return InstanceOf(c, f"a {c.__name__}")
    raise TypeError(f"not a parameter constraint: {c!r}")


def _message(name: str, func: str, value: Any, constraints: Sequence[Any]) -> str:
    cs = [_as_constraint(c) for c in constraints]
    real = [c for c in cs if c is not None]
    allow_none = any(c is None for c in cs)
    hint = ""
    if len(real) == 1 and isinstance(real[0], Interval) and _is_number(value, real[0].integer):
        bound = real[0]._bound_ok(value)
        rule = bound if bound else real[0].describe() + (" or None" if allow_none else "")
    else:
        rule = " or ".join(c.describe() for c in real)
        for c in real:
            if isinstance(c, Options) and isinstance(value, str):
                hint = suggest(value, [v for v in c.values if isinstance(v, str)])
        if allow_none:
            rule += " or None"
    shown = repr(value)
    if len(shown) > 60:
        shown = f"a {type(value).__name__}"
    return f"The '{name}' parameter of {func} must be {rule}. Got {shown}.{hint}"


def check_params(func: str, table: Mapping[str, Sequence[Any]], values: Mapping[str, Any]) -> None:
    """Check ``values`` against the constraint ``table``; raise :class:`ParameterError` on the first miss.

    Examples
    --------
    >>> from numbers import Real
    >>> check_params("match", {"caliper": [Interval(Real, 0, None, closed="neither"), None]}, {"caliper": -1})
    Traceback (most recent call last):
    ...
    impact._errors.ParameterError: The 'caliper' parameter of match must be > 0. Got -1.
    """
    for name, constraints in table.items():
        if name not in values:
            continue
        value = values[name]
        ok = False
        for c in constraints:
            cc = _as_constraint(c)
            if (cc is None and value is None) or (cc is not None and cc.is_satisfied_by(value)):
                ok = True
                break
        if not ok:
            raise ParameterError(_message(name, func, value, constraints))


def validate_params(table: Mapping[str, Sequence[Any]], *, name: str | None = None) -> Callable[[F], F]:
    """Decorate a public function with its parameter table; the checks run before its body.

    The table is kept on the function as ``__impact_params__`` (see :func:`constraints_of`).

    Examples
    --------
    >>> from numbers import Integral
    >>> @validate_params({"ratio": [Interval(Integral, 1, None)], "method": [Options(["nearest", "optimal"])]})
    ... def pair(ratio=1, method="nearest"):
    ...     return ratio
    >>> pair(method="nearst")
    Traceback (most recent call last):
    ...
    impact._errors.ParameterError: The 'method' parameter of pair must be one of 'nearest', 'optimal'. Got 'nearst'. Did you mean 'nearest'?
    """
    for cs in table.values():
        for c in cs:
            _as_constraint(c)  # fail at import time on a malformed table

    def decorate(fn: F) -> F:
        sig = inspect.signature(fn)
        unknown = set(table) - set(sig.parameters)
        if unknown:
            raise ValueError(f"{fn.__qualname__}: constraint table names unknown parameters {sorted(unknown)}")
        func_name = name or fn.__name__

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                bound = sig.bind(*args, **kwargs)
            except TypeError as exc:
                raise ParameterError(f"{func_name}: {exc}.") from None
            check_params(func_name, table, bound.arguments)
            return fn(*args, **kwargs)

        wrapper.__impact_params__ = dict(table)  # type: ignore[attr-defined]  # a function attribute, read by constraints_of
        return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature of fn

    return decorate


def constraints_of(fn: Callable[..., Any]) -> dict[str, list[Any]]:
    """The constraint table a function was declared with (empty when it has none)."""
    return {k: list(v) for k, v in getattr(fn, "__impact_params__", {}).items()}


def invalid_values(fn: Callable[..., Any]) -> list[tuple[str, Any]]:
    """``(parameter, value)`` pairs the function's table rejects: the generated bad-input cases.

    Examples
    --------
    >>> from numbers import Real
    >>> @validate_params({"alpha": [Interval(Real, 0, 1, closed="neither")]})
    ... def f(alpha=0.05):
    ...     return alpha
    >>> [v for _, v in invalid_values(f)][:2]
    ['text', True]
    """
    out = []
    for name, constraints in constraints_of(fn).items():
        cs = [_as_constraint(c) for c in constraints]
        for c in cs:
            if c is None:
                continue
            for v in c.invalid():
                if not any((o is None and v is None) or (o is not None and o.is_satisfied_by(v)) for o in cs):
                    out.append((name, v))
    return out
