"""Real public data shipped with :mod:`impact`, for examples and tests. Loaders only."""

from __future__ import annotations

from importlib import resources

import pandas as pd

__all__ = ["load_lalonde"]


def load_lalonde() -> pd.DataFrame:
    """The ``lalonde`` data that R's MatchIt ships: 185 NSW participants and 429 PSID controls.

    Returns
    -------
    pandas.DataFrame
        614 rows and the columns ``row`` (1-based row number in MatchIt's data), ``id`` (MatchIt's
        row names, ``NSW1`` ... ``PSID429``), ``treat`` (1 = took part in the National Supported
        Work demonstration), ``age``, ``educ`` (years), ``race`` (``black``, ``hispan``, ``white``),
        ``married``, ``nodegree``, ``re74``, ``re75``, ``re78`` (real earnings in 1974, 1975 and 1978,
        US dollars).

    Notes
    -----
    Exported from MatchIt 4.5.1 with ``data("lalonde", package = "MatchIt")`` (Dehejia and Wahba's
    subset of LaLonde 1986). R equivalent: ``MatchIt::lalonde``.

    Examples
    --------
    >>> from impact.datasets import load_lalonde
    >>> df = load_lalonde()
    >>> df.shape
    (614, 11)
    >>> int(df["treat"].sum())
    185
    """
    with resources.files(__name__).joinpath("lalonde.csv").open("rb") as fh:
        df = pd.read_csv(fh)
    df["race"] = df["race"].astype(str)
    return df
