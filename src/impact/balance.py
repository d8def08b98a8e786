"""Moved to :mod:`impact.diagnostics`; this path keeps working for this version with a FutureWarning.

The module stays callable, so ``impact.balance(...)`` is the function whether or not this old path was
imported (a submodule must never shadow a public function).
"""

from __future__ import annotations

import sys
import types
from typing import Any

from impact._compat import moved
from impact.diagnostics import BalanceResult, balance, balance_table

__all__ = ["balance", "BalanceResult", "balance_table"]


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> BalanceResult:
        return balance(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
moved("balance", "diagnostics")
