"""Old names that keep working for this version, with a FutureWarning naming the new one."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

__all__ = ["moved", "renamed_parameters"]

F = TypeVar("F", bound=Callable[..., Any])


def moved(old: str, new: str) -> None:
    """Warn that module ``impact.<old>`` is now ``impact.<new>``."""
    warnings.warn(f"'impact.{old}' has moved to 'impact.{new}'; import from there. "
                  f"The old path goes away in the next version.", FutureWarning, stacklevel=3)


def renamed_parameters(renames: Mapping[str, str]) -> Callable[[F], F]:
    """Accept the old keyword names in ``renames`` (old -> new) for this version, with a FutureWarning.

    Apply it outside (above) :func:`impact._validation.validate_params`, so the checks see the new names.

    Examples
    --------
    >>> import warnings
    >>> @renamed_parameters({"matched": "data"})
    ... def effects(data=None):
    ...     return data
    >>> with warnings.catch_warnings(record=True) as w:
    ...     warnings.simplefilter("always")
    ...     effects(matched=3), str(w[0].message)
    (3, "The 'matched' parameter of effects is now called 'data'; 'matched' goes away in the next version.")
    """
    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        from impact._errors import ParameterError
                        raise ParameterError(f"{fn.__name__}: give '{new}' only ('{old}' is its old name).")
                    warnings.warn(f"The '{old}' parameter of {fn.__name__} is now called '{new}'; "
                                  f"'{old}' goes away in the next version.", FutureWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]  # functools.wraps keeps fn's signature

    return decorate
