"""Goals declared in a config: a list of dicts, a dict with a ``goals`` list, or a TOML file."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from impact._errors import ParameterError
from impact.data import read_toml
from impact._validation import InstanceOf, Options, check_params, suggest, validate_params
from impact.monitor._goals import BeforeAfterGoal, CountGoal, GenderBalanceGoal, Goal, ManualGoal, ShareGoal

#: the ``kind`` of a config entry -> its goal class
KINDS: Mapping[str, type] = {"count": CountGoal, "outcome_count": CountGoal, "share": ShareGoal,
                             "gender_balance": GenderBalanceGoal, "before_after": BeforeAfterGoal,
                             "manual": ManualGoal}
#: the defaults an ``outcome_count`` entry adds to a count
_OUTCOME_COUNT = {"column": "outcome", "values": ("to_work", "to_studies")}

Config = Sequence[Mapping[str, Any]] | Mapping[str, Any] | str | Path


def _entries(config: Config) -> Sequence[Any]:
    if isinstance(config, (str, Path)):
        config = read_toml(config, what="goal config file")
    if isinstance(config, Mapping):
        if "goals" not in config:
            raise ParameterError("A goal config mapping must have a 'goals' list (in TOML: [[goals]] tables).")
        config = config["goals"]
    if not isinstance(config, Sequence) or isinstance(config, str):
        raise ParameterError(f"The goals of a config must be a list of tables. Got {type(config).__name__}.")
    return config


@validate_params({"config": [InstanceOf((Sequence, Mapping, str, Path),
                                        "a list of dicts, a dict with a 'goals' list or a TOML path")]})
def goals_from_config(config: Config) -> list[Goal]:
    """Goals from a list of dicts, a dict with a ``goals`` list, or a TOML file with ``[[goals]]``.

    Each entry has a ``kind`` (``count``, ``outcome_count``, ``share``, ``gender_balance``,
    ``before_after``, ``manual``) and the fields of the matching goal class. ``outcome_count`` is
    a count whose ``column`` defaults to ``"outcome"`` and ``values`` to work and studies.

    Parameters
    ----------
    config : list of dict, dict or path
        The entries; a dict must hold them under ``goals``; a path names a TOML file with
        ``[[goals]]`` tables.

    Returns
    -------
    list of goals

    Raises
    ------
    ParameterError
        An entry without a ``kind``, an unknown kind or field (with a close match), or a field
        its goal class rejects; the message says which entry.

    Examples
    --------
    >>> goals = goals_from_config([
    ...     {"kind": "count", "name": "participants", "target": 4000},
    ...     {"kind": "outcome_count", "name": "to_work_or_studies", "target": 1800},
    ...     {"kind": "share", "name": "fk_enhanced_cooperation", "target": 0.75,
    ...      "column": "enhanced_cooperation", "among": "referred_by_fk"},
    ... ])
    >>> goals[1]
    CountGoal(name='to_work_or_studies', target=1800, column='outcome', values=('to_work', 'to_studies'), partly=0.75, text=None)
    """
    goals: list[Goal] = []
    for k, entry in enumerate(_entries(config)):
        if not isinstance(entry, Mapping):
            raise ParameterError(f"Goal {k} of the config must be a mapping. Got {type(entry).__name__}.")
        entry = dict(entry)
        kind = entry.pop("kind", None)
        if kind is None:
            raise ParameterError(f"Goal {k} of the config has no 'kind' (one of {', '.join(KINDS)}).")
        check_params("goals_from_config", {"kind": [Options(KINDS)]}, {"kind": kind})
        cls = KINDS[kind]
        if kind == "outcome_count":
            entry = {**_OUTCOME_COUNT, **entry}
        names = [f.name for f in fields(cls)]
        for key in entry:
            if key not in names:
                raise ParameterError(f"Goal {k} ({kind}) has an unknown field {key!r}."
                                     f"{suggest(key, names)} Fields: {', '.join(names)}.")
        try:
            goals.append(cls(**entry))
        except TypeError as exc:  # a required field is missing
            raise ParameterError(f"Goal {k} ({kind}): {exc}.") from None
        except ParameterError as exc:  # a field the goal class rejects
            raise ParameterError(f"Goal {k} ({kind}): {exc}") from None
    return goals
