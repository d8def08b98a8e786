"""User labels: names for the user's own columns and codes, over the built-in label map.

An evaluation file may carry a ``[labels]`` table::

    [labels]
    age = "Ålder"                                   # one text, whatever the language
    education = { sv = "Utbildning", en = "Education" }   # a text per language
    gender.K = "Kvinnor"                            # codes of a column (dotted keys ...)
    gender.M = "Män"

    [labels.region]                                 # ... or a sub-table of codes
    "01" = { sv = "Norden", en = "Nordic countries" }

:func:`with_user_labels` turns that table (as ``tomllib`` reads it, or a flat dict with dotted
keys ``{"gender.K": "Kvinnor"}``) into a :class:`LabelMap`. Every labelling function
(:func:`impact.labels.label`, :func:`~impact.labels.relabel`, :func:`~impact.labels.label_of`,
:func:`~impact.labels.subgroup_label`, :func:`~impact.labels.covariate_label`) takes it as
``labels=``; or ``with use_labels(label_map): ...`` makes it the default of every call inside the
block (so a report writer need not pass it through each helper). User labels win over built-in
ones; codes are matched as text (``1`` and ``"1"`` are the same code).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from impact._errors import ParameterError
from impact._validation import InstanceOf, validate_params
from impact.labels._format import LANGS, Lang

__all__ = ["LabelMap", "with_user_labels", "use_labels", "current_labels"]

_ANY = "*"


def _texts(value: Any, where: str) -> dict[str, str] | None:
    """``"Ålder"`` -> {"*": "Ålder"}; ``{sv = ..., en = ...}`` -> per language; else None (a table of codes)."""
    if isinstance(value, str):
        if not value.strip():
            raise ParameterError(f"{where} must not be empty.")
        return {_ANY: value}
    if isinstance(value, Mapping) and value and set(map(str, value)) <= set(LANGS):
        bad = [k for k, v in value.items() if not isinstance(v, str) or not v.strip()]
        if bad:
            raise ParameterError(f"{where}.{bad[0]} must be a non-empty string. Got {value[bad[0]]!r}.")
        return {str(k): str(v) for k, v in value.items()}
    return None


@dataclass(frozen=True)
class LabelMap:
    """User labels over the built-in map: ``labels`` (key -> language -> text, ``"*"`` for every
    language) and ``codes`` (column -> code -> language -> text). Make one with :func:`with_user_labels`.

    Examples
    --------
    >>> lm = with_user_labels({"age": "Ålder", "gender": {"K": "Kvinnor", "M": "Män"}})
    >>> lm.text("age", "sv"), lm.code("gender", "K", "sv"), lm.code("gender", "X", "sv")
    ('Ålder', 'Kvinnor', None)
    """

    labels: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    codes: Mapping[str, Mapping[str, Mapping[str, str]]] = field(default_factory=dict)

    def text(self, key: Any, lang: Lang) -> str | None:
        """The user's label of ``key`` in ``lang``, or None."""
        texts = self.labels.get(str(key)) if isinstance(key, str) else None
        if texts is None:
            return None
        return texts.get(lang, texts.get(_ANY))

    def code(self, column: Any, value: Any, lang: Lang) -> str | None:
        """The user's label of code ``value`` of ``column`` in ``lang``, or None."""
        table = self.codes.get(str(column))
        if table is None:
            return None
        texts = table.get(str(value))
        if texts is None:
            return None
        return texts.get(lang, texts.get(_ANY))

    def code_any(self, value: Any, lang: Lang) -> str | None:
        """The label of ``value`` as a code of whichever column has it (the first, in file order)."""
        for column in self.codes:
            text = self.code(column, value, lang)
            if text is not None:
                return text
        return None

    def __bool__(self) -> bool:
        return bool(self.labels) or bool(self.codes)


@validate_params({"mapping": [InstanceOf(Mapping, "a mapping (the [labels] table)"), None],
                  "base": [InstanceOf(LabelMap, "a LabelMap"), None]})
def with_user_labels(mapping: Mapping[str, Any] | None, *, base: LabelMap | None = None) -> LabelMap:
    """A :class:`LabelMap` from a ``[labels]`` table (see the module text for its shape).

    Parameters
    ----------
    mapping : mapping or None
        Key -> text, key -> {language: text}, or column -> {code: text or {language: text}};
        dotted keys ``"gender.K"`` are codes too.
    base : LabelMap, optional
        Labels to start from (``mapping`` wins where both have a key).

    Raises
    ------
    ParameterError
        A value that is none of those shapes, naming its key as ``[labels] key``.

    Examples
    --------
    >>> lm = with_user_labels({"gender.K": "Kvinnor", "education": {"sv": "Utbildning", "en": "Education"}})
    >>> lm.code("gender", "K", "en"), lm.text("education", "en")
    ('Kvinnor', 'Education')
    """
    labels: dict[str, dict[str, str]] = {k: dict(v) for k, v in (base.labels if base else {}).items()}
    codes: dict[str, dict[str, dict[str, str]]] = {c: {k: dict(v) for k, v in t.items()}
                                                   for c, t in (base.codes if base else {}).items()}
    if mapping is None:
        mapping = {}
    for key, value in mapping.items():
        key = str(key)
        where = f"[labels] {key}"
        if "." in key:  # "gender.K" from a flat dict: the code K of column gender
            column, code = key.split(".", 1)
            value = {code: value}
            key, where = column, f"[labels] {column}"
        texts = _texts(value, where)
        if texts is not None:
            labels[key] = texts
            continue
        if not isinstance(value, Mapping) or not value:
            raise ParameterError(f"{where} must be a text (\"Ålder\"), a text per language "
                                 f"({{sv = \"Ålder\", en = \"Age\"}}) or a table of codes ({key}.K = \"Kvinnor\"). "
                                 f"Got {value!r}.")
        table = codes.setdefault(key, {})
        for code, text in value.items():
            code_texts = _texts(text, f"{where}.{code}")
            if code_texts is None:
                raise ParameterError(f"{where}.{code} must be a text or a text per language "
                                     f"({{sv = ..., en = ...}}). Got {text!r}.")
            table[str(code)] = code_texts
    frozen_codes = {c: MappingProxyType({k: MappingProxyType(v) for k, v in t.items()}) for c, t in codes.items()}
    return LabelMap(labels=MappingProxyType({k: MappingProxyType(v) for k, v in labels.items()}),
                    codes=MappingProxyType(frozen_codes))


_CURRENT: ContextVar[LabelMap | None] = ContextVar("impact_user_labels", default=None)


@validate_params({"labels": [InstanceOf(LabelMap, "a LabelMap (impact.labels.with_user_labels)"), None]})
@contextmanager
def use_labels(labels: LabelMap | None) -> Iterator[LabelMap | None]:
    """Within the block, ``labels`` is the default user label map of every labelling function.

    Examples
    --------
    >>> from impact.labels import label
    >>> with use_labels(with_user_labels({"age": "Ålder i år"})):
    ...     label("age", "sv")
    'Ålder i år'
    >>> label("age", "sv")
    'Ålder'
    """
    token = _CURRENT.set(labels)
    try:
        yield labels
    finally:
        _CURRENT.reset(token)


@validate_params({"labels": [InstanceOf(LabelMap, "a LabelMap (impact.labels.with_user_labels)"), None]})
def current_labels(labels: LabelMap | None = None) -> LabelMap | None:
    """``labels`` if given, else the map of the enclosing :func:`use_labels` block (or None).

    Examples
    --------
    >>> current_labels() is None
    True
    >>> lm = with_user_labels({"age": "Ålder"})
    >>> with use_labels(lm):
    ...     current_labels() is lm
    True
    """
    return resolve_labels(labels)


def resolve_labels(labels: LabelMap | None) -> LabelMap | None:
    """:func:`current_labels` without the argument check, for the labelling functions of this package."""
    return labels if labels is not None else _CURRENT.get()
