"""Number, percentage, change and month formats in Swedish and English.
"""

from __future__ import annotations

import math
from typing import Literal

import pandas as pd

from impact._errors import ParameterError
from impact._validation import check_option

__all__ = ["Lang", "LANGS", "month_name", "format_month", "format_number", "format_percent"]

Lang = Literal["en", "sv"]
LANGS: tuple[str, ...] = ("en", "sv")

_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")
_MONTHS_SV = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
              "september", "oktober", "november", "december")


def _check_lang(lang: str, func: str) -> str:
    return check_option("lang", lang, LANGS, func)


def month_name(month: int, lang: Lang = "en") -> str:
    """``"March"`` / ``"mars"`` for ``month=3``.

    Examples
    --------
    >>> month_name(10, "sv")
    'oktober'
    """
    _check_lang(lang, "month_name")
    if not 1 <= int(month) <= 12:
        raise ParameterError(f"The 'month' parameter of month_name must be in 1..12. Got {month!r}.")
    return (_MONTHS_SV if lang == "sv" else _MONTHS_EN)[int(month) - 1]


def format_month(period: pd.Period | pd.Timestamp, lang: Lang = "en") -> str:
    """``"October 2022"`` / ``"oktober 2022"``.

    Examples
    --------
    >>> import pandas as pd
    >>> format_month(pd.Period("2022-10", "M"), "sv")
    'oktober 2022'
    """
    return f"{month_name(period.month, lang)} {period.year}"


def format_number(value: float | int | None, lang: Lang = "en", decimals: int = 0) -> str:
    """A number with the language's thousands separator and decimal mark.

    Missing values give ``""``.

    Examples
    --------
    >>> format_number(1800, "sv"), format_number(1800, "en"), format_number(0.5, "sv", 1)
    ('1 800', '1,800', '0,5')
    """
    _check_lang(lang, "format_number")
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return ""
    text = f"{float(value):,.{decimals}f}" if decimals else f"{round(float(value)):,d}"
    if lang == "sv":
        text = text.replace(",", " ").replace(".", ",")
    return text


def format_percent(value: float | None, lang: Lang = "en", decimals: int = 1, *,
                   sign: bool = False) -> str:
    """A proportion as a percentage: ``0.462`` -> ``"46.2%"`` / ``"46,2 %"``.

    Examples
    --------
    >>> format_percent(0.462, "en"), format_percent(0.462, "sv"), format_percent(0.05, "en", sign=True)
    ('46.2%', '46,2 %', '+5.0%')
    """
    _check_lang(lang, "format_percent")
    if value is None or pd.isna(value):
        return ""
    number = format_number(100 * float(value), lang, decimals)
    if sign and float(value) > 0:
        number = "+" + number
    return f"{number} %" if lang == "sv" else f"{number}%"
