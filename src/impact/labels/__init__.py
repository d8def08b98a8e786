"""Swedish and English labels and number formats, from one map, applied only at display.

User labels for the user's own columns and codes (the ``[labels]`` table of an evaluation file)
come from :func:`with_user_labels`; pass the :class:`LabelMap` as ``labels=`` or set it for a block
with :func:`use_labels`.
"""

from impact.labels._format import (LANGS, MINUS_SV, THOUSANDS_SV, Lang, format_month, format_number, format_percent,
                                   localise_ticks, month_name)
from impact.labels._labels import (LABELS, covariate_label, format_change, has_label, label, label_of, relabel,
                                   subgroup_label, untranslated)
from impact.labels._notes import reader_note, translate_note
from impact.labels._user import LabelMap, current_labels, use_labels, with_user_labels

__all__ = ["Lang", "LANGS", "LABELS", "label", "has_label", "relabel", "month_name", "format_month",
           "format_number", "format_percent", "format_change", "label_of", "subgroup_label", "covariate_label",
           "untranslated", "translate_note", "reader_note", "LabelMap", "with_user_labels", "use_labels", "current_labels", "THOUSANDS_SV",
           "MINUS_SV", "localise_ticks"]
