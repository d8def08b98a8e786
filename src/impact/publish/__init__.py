"""Disclosure control: what may be shown of every table, note and figure before the report lays it out.

* :func:`suppress` -- the cell-suppression engine: small cells (primary) and the cells that would
  let a reader recalculate them (secondary, audited by linear programming), as a frozen
  :class:`Suppression`; :func:`feasible_intervals` runs the reader's attack on any published table;
* the publication rules built on it (:mod:`impact.publish._rules`): :func:`suppress_counts`,
  :func:`scrub_counts`, :func:`effects_published`, :func:`balance_published`, all with the same
  ``threshold`` (default 5) and the same :data:`MARK`.
"""

from impact.publish._rules import MARK, balance_published, effects_published, scrub_counts, suppress_counts
from impact.publish._suppress import Suppression, feasible_intervals, suppress

__all__ = ["MARK", "Suppression", "suppress", "feasible_intervals", "suppress_counts", "scrub_counts",
           "effects_published", "balance_published"]
