"""What the report reads from an evaluation, as a typing Protocol.

The report sits below the pipeline (``report < pipeline``): it never imports
:class:`impact.pipeline.Evaluation`, it reads these public attributes, which that class (or any
object with them) provides.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import pandas as pd

from impact.data import Flow, Roles, Validated
from impact.effects import EffectsResult

__all__ = ["EvaluationLike"]


@runtime_checkable
class EvaluationLike(Protocol):
    """The public face of an evaluation that :func:`impact.write_report` lays out.

    :class:`impact.pipeline.Evaluation` has every one of these attributes; so may any other
    object built from the public steps (``validate``, ``match``, ``time_to_event``, ...).
    """

    @property
    def validated(self) -> Validated:
        """The checked input: ``.data`` (the sample before matching)."""

    @property
    def matching(self) -> Any:
        """The design: ``.notes`` and, when it has one, ``.design_rows()``."""

    @property
    def analysed(self) -> pd.DataFrame:
        """The analysed (matched) sample, with the treatment column."""

    @property
    def effects(self) -> EffectsResult:
        """Effects for all and by the subgroup."""

    @property
    def naive(self) -> EffectsResult:
        """The same estimands without matching."""

    @property
    def flow(self) -> Flow:
        """Counts from everyone eligible to everyone analysed."""

    @property
    def settings(self) -> Mapping[str, Any]:
        """Every setting the evaluation ran with (``fingerprints`` among them)."""

    @property
    def truth(self) -> pd.DataFrame | None:
        """Known true effects (synthetic data), or None."""

    @property
    def subgroup_effects(self) -> Mapping[str, EffectsResult]:
        """Effects by each further subgroup column."""

    @property
    def goals(self) -> Any:
        """The goal-fulfilment result (``.published``, ``.plot``, ``.notes``), or None."""

    @property
    def monitoring(self) -> Mapping[str, Any]:
        """Monitoring tables by name (``.published``, ``.plot``, ``.notes``, ``.table``)."""

    @property
    def lang(self) -> str:
        """The evaluation's language (``"en"`` or ``"sv"``)."""

    @property
    def config(self) -> Mapping[str, Any] | None:
        """The evaluation file as read, or None."""

    @property
    def roles(self) -> Roles:
        """The column roles."""

    def balance(self) -> Any:
        """The balance table of the design (``.summary()``, ``.plot()``, ``.notes``)."""
