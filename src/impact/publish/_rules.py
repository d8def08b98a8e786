"""Publication rules applied to the evaluation's tables before anything is shown: counts in tables
(:func:`suppress_counts`) and in free text (:func:`scrub_counts`), effect estimates of small groups
(:func:`effects_published`) and means of binary covariates that would reveal small groups
(:func:`balance_published`). Every rule takes the same ``threshold`` (default 5) and hides with
the same :data:`MARK`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from numbers import Integral
from typing import Any

import numpy as np
import pandas as pd

from impact._compat import renamed_parameters
from impact._validation import InstanceOf, Interval, validate_params
from impact.publish._suppress import MARK, suppress

__all__ = ["MARK", "suppress_counts", "scrub_counts", "effects_published", "balance_published"]

_THRESHOLD = [Interval(Integral, 1, None)]
_FRAME = [InstanceOf(pd.DataFrame, "a pandas DataFrame")]


_COUNT_IN_TEXT = re.compile(r"(?<![\w.,:/=\[])(\d+)(?=\s+[A-Za-zÅÄÖåäö(])")


@validate_params({"note": [InstanceOf(str, "a str")], "threshold": _THRESHOLD})
def scrub_counts(note: str, threshold: int = 5) -> str:
    """Hide small counts of people in free text ('3 treated units found no match' -> '.. treated ...').

    A whole number followed by a word is taken as a count of people; numbers inside ratios,
    settings and intervals (``1:1``, ``caliper=0.2``, ``[1/2.0, 2.0]``) are left alone.

    Parameters
    ----------
    note : str
    threshold : int, default 5
        Counts from 1 to ``threshold - 1`` become :data:`MARK`.

    Returns
    -------
    str

    Examples
    --------
    >>> scrub_counts("3 treated units found no match; 73 in total; ratio 1:1", 5)
    '.. treated units found no match; 73 in total; ratio 1:1'
    """
    return _COUNT_IN_TEXT.sub(lambda m: MARK if 0 < int(m.group(1)) < threshold else m.group(1), note)


@renamed_parameters({"df": "table"})
@validate_params({"table": _FRAME, "threshold": _THRESHOLD})
def suppress_counts(table: pd.DataFrame, threshold: int = 5, **kwargs: Any) -> pd.DataFrame:
    """Publishable copy of a table of counts.

    Cells under ``threshold`` (but not zero), and the cells needed to protect them from being
    recalculated from totals, are replaced by ``".."`` (see :func:`impact.publish.suppress`).

    Parameters
    ----------
    table : DataFrame
        Counts of people (``df`` is its old name, kept for this version with a FutureWarning).
    threshold : int
    **kwargs
        Passed to :func:`impact.publish.suppress` (``total_row``, ``total_col``, ``hidden_totals``...).

    Returns
    -------
    DataFrame of str

    Examples
    --------
    >>> import pandas as pd
    >>> t = pd.DataFrame({"women": [64, 3], "men": [87, 15], "total": [151, 18]}, index=["work", "studies"])
    >>> suppress_counts(t, total_col="total")
            women men total
    work       ..  ..   151
    studies    ..  ..    18
    """
    return suppress(table, threshold=threshold, **kwargs).published


@validate_params({"summary": _FRAME, "threshold": _THRESHOLD})
def effects_published(summary: pd.DataFrame, threshold: int = 5) -> pd.DataFrame:
    """The tidy effect table without counts; estimates of groups under ``threshold`` hidden.

    Parameters
    ----------
    summary : DataFrame
        An effect table (``estimate``, ``se``, ``ci_low``, ``ci_high``, ``p_value``, ``n_treated``,
        ``n_control``, ``events_*``, ...).
    threshold : int, default 5
        A row whose ``n_treated`` or ``n_control`` is below it has its estimates set to NaN.

    Returns
    -------
    DataFrame
        Without the count columns (``n_*``, ``events_*``), with a fresh 0.. index.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"subgroup": ["all", "women"], "estimate": [0.1, 0.2], "n_treated": [40, 3],
    ...                   "n_control": [40, 3]})
    >>> effects_published(s, 5)
      subgroup  estimate
    0      all       0.1
    1    women       NaN
    """
    inf = pd.Series(np.inf, index=summary.index)
    small = (summary.get("n_treated", inf) < threshold) | (summary.get("n_control", inf) < threshold)
    out = summary.drop(columns=[c for c in summary.columns if c.startswith(("n_", "events_"))])
    est_cols = [c for c in ["estimate", "se", "ci_low", "ci_high", "p_value"] if c in out.columns]
    out.loc[small.to_numpy(), est_cols] = np.nan
    return out.reset_index(drop=True)


@validate_params({"table": _FRAME, "sizes": [InstanceOf(Mapping, "a mapping of (arm, when) to a count")],
                  "threshold": _THRESHOLD})
def balance_published(table: pd.DataFrame, sizes: Mapping[tuple[str, str], int], threshold: int = 5) -> pd.DataFrame:
    """Balance statistics; means of binary covariates that would reveal fewer than ``threshold``
    people with (or without) the characteristic are hidden.

    Parameters
    ----------
    table : DataFrame
        A balance summary (``mean_treated_before`` ... ``mean_control_after``, ``type``), indexed
        by covariate or with a ``covariate`` column.
    sizes : mapping
        The number of people behind each mean, keyed ``(arm, "before" | "after")``.
    threshold : int, default 5

    Returns
    -------
    DataFrame
        One row per covariate, ``sd_denominator`` left out; hidden means are :data:`MARK`.

    Examples
    --------
    >>> import pandas as pd
    >>> bal = pd.DataFrame({"covariate": ["born_abroad"], "type": ["binary"], "mean_treated_after": [0.1],
    ...                     "mean_control_after": [0.5]})
    >>> balance_published(bal, {("treated", "after"): 20, ("control", "after"): 20}, 5)
         covariate    type mean_treated_after  mean_control_after
    0  born_abroad  binary                 ..                 0.5
    """
    df = table.reset_index().rename(columns={"index": "covariate"}) if table.index.name else table.reset_index(drop=True)
    df = df.drop(columns=[c for c in ("sd_denominator",) if c in df.columns])
    binary = df.get("type", pd.Series("", index=df.index)).eq("binary").to_numpy()
    for (arm, when), size in sizes.items():
        col = f"mean_{arm}_{when}"
        if col not in df.columns:
            continue
        p = df[col].astype(float).to_numpy()
        with np.errstate(invalid="ignore"):
            k = np.rint(p * size)
            small = binary & (((k > 0) & (k < threshold)) | ((size - k > 0) & (size - k < threshold)))
        if small.any():
            df[col] = df[col].astype(object)
            df.loc[small, col] = MARK
    return df
