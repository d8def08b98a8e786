"""The progress-bar class: tqdm's notebook bar where ipywidgets is installed, its text bar elsewhere.

``tqdm.auto`` falls back to the text bar by itself, but warns (a red ``TqdmWarning`` in Jupyter) when
ipywidgets is missing; asking first keeps notebooks free of warnings.
"""

from __future__ import annotations

import importlib.util
from typing import Any

__all__ = ["progress_class"]


def progress_class() -> Any:
    """``tqdm.auto.tqdm`` when ipywidgets can be imported, else ``tqdm.std.tqdm`` (no warning)."""
    if importlib.util.find_spec("ipywidgets") is not None:
        from tqdm.auto import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm
