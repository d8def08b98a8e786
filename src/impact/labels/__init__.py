"""Swedish and English labels and number formats, from one map, applied only at display."""

from impact.labels._format import LANGS, Lang, format_month, format_number, format_percent, month_name
from impact.labels._labels import (LABELS, format_change, has_label, label, label_of, relabel,
                                   subgroup_label)

__all__ = ["Lang", "LANGS", "LABELS", "label", "has_label", "relabel", "month_name", "format_month",
           "format_number", "format_percent", "format_change", "label_of", "subgroup_label"]
