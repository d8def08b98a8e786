"""Publication rules applied to the evaluation's tables before anything is shown.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["MARK", "suppress_counts", "scrub_counts", "effects_published", "balance_published"]

MARK = ".."


_COUNT_IN_TEXT = re.compile(r"(?<![\w.,:/=\[])(\d+)(?=\s+[A-Za-zÅÄÖåäö(])")


def scrub_counts(note: str, threshold: int) -> str:
    """Hide small counts of people in free text ('3 treated units found no match' -> '.. treated ...').

    Examples
    --------
    >>> scrub_counts("3 treated units found no match; 73 in total; ratio 1:1", 5)
    '.. treated units found no match; 73 in total; ratio 1:1'
    """
    return _COUNT_IN_TEXT.sub(lambda m: MARK if 0 < int(m.group(1)) < threshold else m.group(1), note)


def suppress_counts(df: pd.DataFrame, threshold: int = 5, **kwargs: Any) -> pd.DataFrame:
    """Publishable copy of a table of counts.

    Cells under ``threshold`` (but not zero), and the cells needed to protect them from being
    recalculated from totals, are replaced by ``".."`` (see :func:`impact.publish.suppress`).

    Parameters
    ----------
    df : DataFrame
        Counts of people.
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
    from impact.publish._suppress import suppress
    return suppress(df, threshold=threshold, **kwargs).published


def effects_published(summary: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """The tidy effect table without counts; estimates of groups under ``threshold`` hidden.

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


def balance_published(table: pd.DataFrame, sizes: Mapping[tuple[str, str], int], threshold: int) -> pd.DataFrame:
    """Balance statistics; means of binary covariates that would reveal fewer than ``threshold``
    people with (or without) the characteristic are hidden.

    ``table`` is a balance summary (``mean_treated_before`` ... ``mean_control_after``, ``type``);
    ``sizes`` gives the number of people behind each mean, keyed ``(arm, "before" | "after")``.

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
    n = sizes
    binary = df.get("type", pd.Series("", index=df.index)).eq("binary").to_numpy()
    for (arm, when), size in n.items():
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
