"""Old module paths that keep working for this version, with a FutureWarning naming the new one."""

from __future__ import annotations

import warnings

__all__ = ["moved"]


def moved(old: str, new: str) -> None:
    """Warn that module ``impact.<old>`` is now ``impact.<new>``."""
    warnings.warn(f"'impact.{old}' has moved to 'impact.{new}'; import from there. "
                  f"The old path goes away in the next version.", FutureWarning, stacklevel=3)
