"""Warnings that point at the caller's line, however deep in the design layer they are raised."""

from __future__ import annotations

import sys
from types import FrameType

__all__ = ["external_stacklevel"]


def external_stacklevel() -> int:
    """The ``stacklevel`` for :func:`warnings.warn` (called right here) that names the first frame outside ``impact``."""
    level = 1
    frame: FrameType | None = sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").split(".")[0] == "impact":
        frame = frame.f_back
        level += 1
    return level
