"""Disclosure control: what may be shown of every table, note and figure before the report lays it out.

* :func:`suppress` -- the cell-suppression engine: small cells (primary) and the cells that would
  let a reader recalculate them (secondary, audited by linear programming), as a frozen
  :class:`Suppression`; :func:`feasible_intervals` runs the reader's attack on any published table;
* the publication rules built on it (:mod:`impact.publish._rules`): :func:`suppress_counts`,
  :func:`scrub_counts`, :func:`effects_published`, :func:`balance_published`, all with the same
  ``threshold`` (default 5) and the same :data:`MARK`;
* one publication step for a whole report (:mod:`impact.publish._publication`): :func:`publish`
  takes every table with the counts behind each statistic and returns a :class:`Publication`:
  effects (:func:`effects_withheld`: small groups, small numerators of shares, values that
  subtraction would give back, differences), curves, flow (a chain, :func:`flow_published`),
  balance (:func:`balance_rounded`) and notes (:func:`notes_published`);
* the cell-key method for tables published every month (:mod:`impact.publish._cellkey`):
  :func:`cell_key_table`, :func:`record_keys`, :func:`cell_keys`, :func:`cell_key_noise`,
  :data:`PTABLE` -- deterministic noise keyed on the records behind each cell;
  :func:`cell_key_counts` perturbs a table from the records behind its cells (the monitoring
  tables' ``disclosure="cellkey"``), :func:`cell_key_secret` reads the secret.
"""

from impact.publish._rules import MARK, balance_published, effects_published, scrub_counts, suppress_counts
from impact.publish._cellkey import (DISCLOSURES, MAX_NOISE, PTABLE, SECRET_ENV, CellKeyTable, cell_key_counts,
                                     cell_key_noise, cell_key_secret, cell_key_table, cell_keys, record_keys)
from impact.publish._publication import (MIN_AT_RISK, MIN_EFFECT_N, Publication, balance_rounded, curves_published,
                                         effects_withheld, flow_published, notes_published, publish,
                                         share_numerators, withheld_note, disclosure_note)
from impact.publish._suppress import Suppression, feasible_intervals, suppress

__all__ = ["MARK", "Suppression", "suppress", "feasible_intervals", "suppress_counts", "scrub_counts",
           "effects_published", "balance_published", "Publication", "publish", "share_numerators",
           "effects_withheld", "curves_published", "balance_rounded", "flow_published", "notes_published",
           "withheld_note", "MIN_EFFECT_N", "MIN_AT_RISK", "PTABLE", "CellKeyTable", "record_keys", "cell_keys",
           "cell_key_noise", "cell_key_table", "cell_key_counts", "cell_key_secret", "DISCLOSURES", "MAX_NOISE",
           "SECRET_ENV", "disclosure_note"]
