"""Disclosure control: what may be shown of every table, note and figure before the report lays it out."""

from impact.publish._rules import MARK, balance_published, effects_published, scrub_counts, suppress_counts
from impact.publish._suppress import Suppression, feasible_intervals, suppress

__all__ = ["MARK", "Suppression", "suppress", "feasible_intervals", "suppress_counts", "scrub_counts",
           "effects_published", "balance_published"]
