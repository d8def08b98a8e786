"""Number, percentage and month formats in Swedish and English, and the languages themselves.

(The year-over-year change, which needs a label, is :func:`impact.labels.format_change`.)
"""

from __future__ import annotations

import datetime
import math
import re
from numbers import Integral
from typing import Any, Literal

import pandas as pd

from impact._validation import InstanceOf, Interval, Options, validate_params

__all__ = ["Lang", "LANGS", "month_name", "format_month", "format_number", "format_percent", "THOUSANDS_SV",
           "MINUS_SV", "localise_ticks"]

#: the Swedish thousands separator: U+00A0 NO-BREAK SPACE, so that "1 800" never breaks over two
#: lines. Chosen over U+202F NARROW NO-BREAK SPACE, which some fonts, Excel and screen readers
#: show as a box or read out; Språkrådet asks only for a (fixed) space between the groups.
THOUSANDS_SV = "\u00a0"
#: the Swedish minus sign: U+2212 MINUS SIGN (a hyphen is not a minus in Swedish typesetting)
MINUS_SV = "\u2212"

#: a language of the labels: English or Swedish
Lang = Literal["en", "sv"]
LANGS: tuple[Lang, ...] = ("en", "sv")
#: the constraint of every ``lang`` parameter (see impact._validation.validate_params)
LANG: list[Any] = [Options(LANGS)]
_DECIMALS: list[Any] = [Interval(Integral, 0, None)]

_MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August",
              "September", "October", "November", "December")
_MONTHS_SV = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti",
              "september", "oktober", "november", "december")


@validate_params({"month": [Interval(Integral, 1, 12)], "lang": LANG})
def month_name(month: int, lang: Lang = "en") -> str:
    """``"March"`` / ``"mars"`` for ``month=3``.

    Examples
    --------
    >>> month_name(10, "sv")
    'oktober'
    """
    return (_MONTHS_SV if lang == "sv" else _MONTHS_EN)[int(month) - 1]


@validate_params({"period": [InstanceOf((pd.Period, datetime.date), "a month (a Period) or a date")], "lang": LANG})
def format_month(period: pd.Period | pd.Timestamp | datetime.date, lang: Lang = "en") -> str:
    """``"October 2022"`` / ``"oktober 2022"``.

    Examples
    --------
    >>> import pandas as pd
    >>> format_month(pd.Period("2022-10", "M"), "sv")
    'oktober 2022'
    """
    return f"{month_name(period.month, lang)} {period.year}"


@validate_params({"lang": LANG, "decimals": _DECIMALS})
def format_number(value: float | None, lang: Lang = "en", decimals: int = 0) -> str:
    """A number with the language's thousands separator, decimal mark and minus sign.

    Swedish: a no-break space (U+00A0, :data:`THOUSANDS_SV`) between thousands, a decimal comma and
    the minus sign U+2212 (:data:`MINUS_SV`). English: ASCII only (``1,800.5``, ``-3``). Missing
    values give ``""``; a value that rounds to zero has no sign.

    Examples
    --------
    >>> format_number(1800, "sv"), format_number(1800, "en"), format_number(0.5, "sv", 1)
    ('1\xa0800', '1,800', '0,5')
    >>> format_number(-1234.5, "sv", 1), format_number(-1234.5, "en", 1)
    ('−1\xa0234,5', '-1,234.5')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)) or pd.isna(value):
        return ""
    x = float(value)
    if not math.isfinite(x):
        text = "∞" if x > 0 else "-∞"
    else:
        text = f"{x:,.{decimals}f}" if decimals else f"{round(x):,d}"
        if text.lstrip("-").strip("0.,") == "":  # -0.0 and -0.004 at 2 decimals: no sign
            text = text.lstrip("-")
    if lang == "sv":
        text = text.replace(",", THOUSANDS_SV).replace(".", ",").replace("-", MINUS_SV)
    return text


@validate_params({"lang": LANG, "decimals": _DECIMALS, "sign": ["boolean"]})
def format_percent(value: float | None, lang: Lang = "en", decimals: int = 1, *,
                   sign: bool = False) -> str:
    """A proportion as a percentage: ``0.462`` -> ``"46.2%"`` / ``"46,2 %"``.

    Swedish puts a space before the per cent sign and writes negatives with U+2212 (and thousands, in
    100-fold shares, with a no-break space).

    Examples
    --------
    >>> format_percent(0.462, "en"), format_percent(0.462, "sv"), format_percent(0.05, "en", sign=True)
    ('46.2%', '46,2 %', '+5.0%')
    >>> format_percent(-0.177, "sv")
    '−17,7 %'
    """
    if value is None or pd.isna(value):
        return ""
    number = format_number(100 * float(value), lang, decimals)
    if sign and float(value) > 0 and number.strip("0.,") != "":
        number = "+" + number
    return f"{number} %" if lang == "sv" else f"{number}%"


_TICK = re.compile(r"[−-]?\d+(?:\.\d+)?")


def _tick_sv(text: str) -> str:
    if not _TICK.fullmatch(text):
        return text
    sign = text[0] in "−-"
    body = text.lstrip("−-")
    whole, _, frac = body.partition(".")
    if len(whole) > 4:   # 20 000; a four-digit tick (1000, or a year) stays as it is, as Swedish style allows
        whole = f"{int(whole):,d}".replace(",", THOUSANDS_SV)
    return (MINUS_SV if sign else "") + whole + ("," + frac if frac else "")


@validate_params({"lang": LANG})
def localise_ticks(fig: Any, lang: Lang = "en") -> Any:
    """The numeric tick labels of every Axes of ``fig`` in ``lang``: in Swedish a decimal comma, the
    minus sign U+2212 and a no-break space between thousands (``0,05``, ``−0,1``, ``20 000``).

    Only axes with matplotlib's default number formatter are changed (text ticks, dates and month
    names are left alone); the ticks matplotlib would draw are then fixed.
    English leaves the figure as it is. Returns ``fig``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.plot([-0.1, 0.05], [0, 20000])
    >>> _ = ax.set_xticks([-0.1, 0.0, 0.05]), ax.set_yticks([0, 20000])
    >>> _ = localise_ticks(fig, "sv")
    >>> [t.get_text() for t in ax.get_xticklabels()], [t.get_text() for t in ax.get_yticklabels()]
    (['−0,10', '0,00', '0,05'], ['0', '20\xa0000'])
    >>> plt.close(fig)
    """
    if lang == "en":
        return fig
    from matplotlib.ticker import FixedFormatter, FixedLocator, ScalarFormatter
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            formatter = axis.get_major_formatter()
            if type(formatter) is not ScalarFormatter:
                continue
            ticks = list(axis.get_major_locator()())   # the ticks the figure would draw (no draw needed)
            texts = list(formatter.format_ticks(ticks))
            if formatter.get_offset():   # "1e6" offsets: left to matplotlib
                continue
            axis.set_major_locator(FixedLocator(ticks))
            axis.set_major_formatter(FixedFormatter([_tick_sv(t) for t in texts]))
    return fig
