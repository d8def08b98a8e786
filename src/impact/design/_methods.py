"""The table of matching and weighting methods: one module each, one engine for all.

Each entry takes the prepared :class:`~impact.design._engine.Design` and returns an
:class:`~impact.design._engine.Allocation`; :func:`impact.match` and
:func:`impact.design.match_riskset` look the method up here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from impact.design._cem import allocate as cem
from impact.design._exact import allocate as exact
from impact.design._mahalanobis import allocate as mahalanobis
from impact.design._nearest import allocate as nearest
from impact.design._optimal import allocate as optimal
from impact.design._subclass import allocate as subclass
from impact.design._weighting import allocate as ipw
from impact.design._engine import Allocation, Design, Spec

__all__ = ["METHODS", "METHOD_NAMES", "method_for"]

Method = Callable[[Design], Allocation]

#: method name -> allocate(design); "mahalanobis" is ``method="nearest", distance="mahalanobis"``
METHODS: Mapping[str, Method] = {
    "nearest": nearest,
    "mahalanobis": mahalanobis,
    "optimal": optimal,
    "cem": cem,
    "exact": exact,
    "subclass": subclass,
    "ipw": ipw,
}

#: the values of ``match(method=...)``
METHOD_NAMES = ("nearest", "optimal", "cem", "exact", "subclass", "ipw")


def method_for(spec: Spec) -> Method:
    """The table entry for a design's method (and distance, for Mahalanobis)."""
    key = "mahalanobis" if spec.method == "nearest" and spec.is_mahalanobis else spec.method
    return METHODS[key]
