"""The parameter constraint tables (``impact._validation``): messages, and bad inputs generated from them.

Oracle: the rule itself. Every value a table rejects (:func:`invalid_values`) raises a
:class:`ParameterError` that names the parameter and the function, in one message form.
"""

from __future__ import annotations

import importlib
import inspect
from numbers import Integral, Real

import numpy as np
import pytest

import impact
from impact import ParameterError
from impact._validation import (InstanceOf, Interval, Options, check_params, check_random_state, constraints_of,
                                invalid_values, spawn_seeds, validate_params)


@validate_params({"caliper": [Interval(Real, 0, None, closed="neither"), None],
                  "ratio": [Interval(Integral, 1, None)],
                  "method": [Options(["nearest", "optimal"])],
                  "random_state": ["random_state"],
                  "data": [InstanceOf(dict, "a dict")]})
def _toy(data, *, caliper=0.2, ratio=1, method="nearest", random_state=None):
    return data


@pytest.mark.parametrize("kwargs, message", [
    ({"caliper": -1}, r"^The 'caliper' parameter of _toy must be > 0\. Got -1\.$"),
    ({"caliper": "wide"}, r"must be a number > 0 or None\. Got 'wide'\."),
    ({"ratio": 0}, r"The 'ratio' parameter of _toy must be >= 1\. Got 0\."),
    ({"ratio": 1.5}, r"must be an int >= 1\. Got 1\.5\."),
    ({"method": "nearst"}, r"must be one of 'nearest', 'optimal'\. Got 'nearst'\. Did you mean 'nearest'\?"),
    ({"random_state": -1}, r"'random_state' parameter of _toy must be an int >= 0, a numpy Generator or None"),
    ({"caliper": float("inf")}, r"must be a number > 0 or None\. Got inf\."),
    ({"ratio": True}, r"must be an int >= 1\. Got True\."),
])
def test_messages_come_from_the_table(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        _toy({}, **kwargs)


def test_valid_values_pass_and_the_table_is_kept():
    assert _toy({}, caliper=None, ratio=np.int64(2), random_state=np.random.default_rng(1)) == {}
    assert set(constraints_of(_toy)) == {"caliper", "ratio", "method", "random_state", "data"}
    assert inspect.signature(_toy).parameters["caliper"].default == 0.2


def test_a_wrong_call_is_a_parameter_error():
    with pytest.raises(ParameterError, match=r"_toy: .*unexpected keyword argument 'calliper'"):
        _toy({}, calliper=0.1)


def test_a_table_naming_an_unknown_parameter_fails_at_definition():
    with pytest.raises(ValueError, match="unknown parameters"):
        validate_params({"nope": [None]})(lambda x: x)


def test_random_state_once_and_spawned_children():
    assert check_random_state(3).integers(1000) == np.random.default_rng(3).integers(1000)
    with pytest.raises(ParameterError, match=r"int >= 0"):
        check_random_state(-1)
    a = [s.generate_state(1)[0] for s in spawn_seeds(5, 4)]
    assert a == [s.generate_state(1)[0] for s in spawn_seeds(5, 4)] and len(set(a)) == 4
    assert len(spawn_seeds(np.random.default_rng(5), 2)) == 2


def _decorated_public_functions():
    """Every public function that carries a constraint table, across the layer packages."""
    found = {}
    for pkg in impact.PACKAGES:
        mod = importlib.import_module(f"impact.{pkg}")
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name)
            targets = [obj] + [getattr(obj, m) for m in ("fit",) if inspect.isclass(obj) and hasattr(obj, m)]
            for t in targets:
                if constraints_of(t):
                    found[f"{pkg}.{getattr(t, '__qualname__', name)}"] = t
    return found


DECORATED = _decorated_public_functions()
CASES = [(key, p, v) for key, fn in sorted(DECORATED.items()) for p, v in invalid_values(fn)] or [
    ("toy", p, v) for p, v in invalid_values(_toy)]


@pytest.mark.parametrize("key, param, value", CASES, ids=[f"{k}-{p}-{v!r}"[:60] for k, p, v in CASES])
def test_generated_bad_inputs_name_the_parameter(key, param, value):
    fn = DECORATED.get(key, _toy)
    table = constraints_of(fn)
    with pytest.raises(ParameterError, match=rf"The '{param}' parameter of \w+ must be .* Got "):
        check_params(getattr(fn, "__name__", key), table, {param: value})
