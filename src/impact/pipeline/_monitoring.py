"""Monitoring dispatch: which monthly table is made from which individual-level input."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from impact._compat import renamed_parameters
from impact._errors import ParameterError
from impact._validation import Options, suggest, validate_params
from impact.data import data_fingerprint
from impact.labels import LANGS, Lang

__all__ = ["MONITORING_INPUTS", "monitoring_tables", "records_of", "default_period", "fingerprints"]

#: the monitoring inputs :func:`monitoring_tables` understands (the tables of
#: :class:`impact.synthetic.MonitoringRecords`)
MONITORING_INPUTS: tuple[str, ...] = ("participants", "employments", "households", "household_exits")

#: identifier columns of the monitoring records, left out of fingerprints and never published
_MONITORING_IDS = ("person_id", "employment_id", "household_id")


def default_period(monitoring: Any) -> tuple[Any, Any]:
    """The period the records say they are complete for (``.period``), else ``(None, None)``."""
    period = getattr(monitoring, "period", None)
    if period is None or isinstance(monitoring, Mapping):
        return None, None
    start, end = period
    return start, end


def fingerprints(data: pd.DataFrame, id: str, records: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    """Fingerprints of the register data and of each monitoring input, without identifier columns."""
    out = {"data": data_fingerprint(data, exclude=[id])}
    out.update({k: data_fingerprint(v, exclude=_MONITORING_IDS) for k, v in records.items()})
    return out


def records_of(monitoring: Any) -> dict[str, pd.DataFrame]:
    """Monitoring inputs from a MonitoringRecords object or a mapping, checked by name."""
    if monitoring is None:
        return {}
    if isinstance(monitoring, Mapping):
        items = dict(monitoring)
    else:
        items = {k: getattr(monitoring, k) for k in MONITORING_INPUTS if hasattr(monitoring, k)}
        if not items:
            raise ParameterError("The 'monitoring' parameter must be a MonitoringRecords object or a mapping "
                                 f"of {', '.join(MONITORING_INPUTS)} to DataFrames. "
                                 f"Got {type(monitoring).__name__}.")
    for key, value in items.items():
        if key not in MONITORING_INPUTS:
            raise ParameterError(f"Unknown monitoring input {key!r}.{suggest(key, MONITORING_INPUTS)} "
                                 f"Known inputs: {', '.join(MONITORING_INPUTS)}.")
        if not isinstance(value, pd.DataFrame):
            raise ParameterError(f"The monitoring input {key!r} must be a DataFrame. Got {type(value).__name__}.")
    return items



@renamed_parameters({"monitoring": "data"})
@validate_params({"lang": [Options(LANGS)]})
def monitoring_tables(data: Any, *, start: Any = None, end: Any = None,
                      lang: Lang = "en") -> dict[str, Any]:
    """The monthly monitoring tables from individual-level records.

    Each table is made from the input it needs, when that input is given:

    ==========================  ====================  ==================================================
    name                        input                 table
    ==========================  ====================  ==================================================
    ``to_work_or_studies``      ``participants``      people to work or studies per month, by gender
    ``outcomes_after_employment`` ``employments``     results 90 days after an ended employment
    ``hires_by_subsidy``        ``employments``       new hires by employment-subsidy type, by gender
    ``households``              ``households``        unique households on economic assistance per month
                                                      and the change against one and two years earlier
    ``household_exits``         ``household_exits``   households leaving assistance for work or studies
    ==========================  ====================  ==================================================

    Parameters
    ----------
    data : MonitoringRecords or mapping of str to DataFrame
        (formerly ``monitoring``, which still works with a FutureWarning). Keys among ``participants``, ``employments``, ``households``, ``household_exits``, with the
        columns :func:`impact.synthetic.simulate_monitoring` describes.
    start, end : date-like, optional
        The period of the monitoring tables (the household series uses ``end`` only, so that the
        months of the earlier years it compares with stay in). When both are None and ``data``
        has a ``period`` (as :class:`impact.synthetic.MonitoringRecords` has: the months its
        records are complete for), that period is used; otherwise all the data.
    lang : {"en", "sv"}
        Language of the results' notebook display.

    Returns
    -------
    dict of str -> result
        Each result has ``.table``, ``.published(lang, threshold, disclosure=, secret=)`` and
        ``.plot(ax=None)``, and keeps (never for publication) the records behind each cell
        (``.cells``: persons, employments, households) for the cell-key method.

    Examples
    --------
    >>> from impact.synthetic import simulate_monitoring
    >>> rec = simulate_monitoring(random_state=0)
    >>> tabs = monitoring_tables(rec, start="2022-01-01", end="2022-10-31")
    >>> list(tabs)
    ['to_work_or_studies', 'outcomes_after_employment', 'hires_by_subsidy', 'households', 'household_exits']
    >>> tabs["households"].table.index.max()
    Period('2022-10', 'M')
    >>> sorted(monitoring_tables(rec)) == sorted(tabs)   # the records' own period by default
    True
    """
    import impact.monitor as monitor
    rec = records_of(data)
    if start is None and end is None:
        start, end = default_period(data)
    out: dict[str, Any] = {}
    if "participants" in rec:
        out["to_work_or_studies"] = monitor.to_work_or_studies_by_month(rec["participants"], start=start, end=end,
                                                                        lang=lang)
    if "employments" in rec:
        emp = rec["employments"]
        emp_id = "employment_id" if "employment_id" in emp.columns else None  # the cell key's record
        out["outcomes_after_employment"] = monitor.outcomes_after_employment(emp, start=start, end=end, id=emp_id,
                                                                             lang=lang)
        out["hires_by_subsidy"] = monitor.hires_by_subsidy(emp, start=start, end=end, id=emp_id, lang=lang)
    if "households" in rec:
        out["households"] = monitor.households_on_assistance(rec["households"], end=end, lang=lang)
    if "household_exits" in rec:
        out["household_exits"] = monitor.to_work_or_studies_by_month(
            rec["household_exits"], date="exit_date", outcome="reason", gender=None, id="household_id",
            codes=("to_work", "to_studies", "other"), start=start, end=end, kind="household_exits", lang=lang)
    return out
