"""A fingerprint of a table's content, without its identifier columns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import pandas as pd

from impact._validation import InstanceOf, validate_params


@validate_params({"data": [InstanceOf(pd.DataFrame, "a pandas DataFrame")], "exclude": ["columns"]})
def data_fingerprint(data: pd.DataFrame, exclude: Sequence[str] = ()) -> str:
    """First 16 hex digits of a SHA-256 of a table's column names and values.

    Used in the report's reproducibility footer: the same input gives the same fingerprint, any
    changed value a different one. Columns in ``exclude`` (identifiers) are left out.

    Parameters
    ----------
    data : DataFrame
    exclude : sequence of str
        Columns to leave out (those absent are ignored).

    Returns
    -------
    str

    Examples
    --------
    >>> import pandas as pd
    >>> a = pd.DataFrame({"id": ["x", "y"], "age": [30, 40]})
    >>> data_fingerprint(a, exclude=["id"]) == data_fingerprint(a.assign(id=["p", "q"]), exclude=["id"])
    True
    >>> data_fingerprint(a) == data_fingerprint(a.assign(age=[30, 41]))
    False
    >>> len(data_fingerprint(a))
    16
    """
    data = data.drop(columns=[c for c in exclude if c in data.columns])
    h = hashlib.sha256()
    h.update("\x1f".join(map(str, data.columns)).encode())
    h.update(pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes())
    return h.hexdigest()[:16]
