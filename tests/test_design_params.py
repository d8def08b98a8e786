"""The parameter tables of match, match_riskset and balance (oracle: the rule and the message form)."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

import impact
from impact import ParameterError
from impact._validation import constraints_of
from impact.datasets import load_lalonde
from impact.design import match_riskset


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    return load_lalonde()


@pytest.mark.parametrize("fn, free", [(impact.match, {"distance"}), (match_riskset, {"distance"}),
                                      (impact.balance, set())])
def test_every_parameter_is_declared_once(fn, free):
    table = constraints_of(fn)
    params = set(inspect.signature(fn).parameters)
    assert set(table) == params - free          # distance: a name, an array or an estimator


def test_column_lists_may_be_a_pandas_index(lalonde):
    cov = lalonde.columns[lalonde.columns.isin(["age", "educ", "re74"])]
    a = impact.match(lalonde, "treat", cov, id="row")
    b = impact.match(lalonde, "treat", ["age", "educ", "re74"], id="row")
    pd.testing.assert_frame_equal(a.matched_pairs, b.matched_pairs)
    assert impact.balance(lalonde, "treat", cov).table.index.tolist() == ["age", "educ", "re74"]
    with pytest.raises(ParameterError, match=r"^The 'covariates' parameter of match must be a column name or a list"):
        impact.match(lalonde, "treat", [1, 2])


@pytest.mark.parametrize("kw, message", [
    ({"method": "optimal", "estimand": "ATE"}, r"The 'estimand' parameter of match must be one of 'ATT', 'ATC' "
                                               r"for method='optimal'\. Got 'ATE'\."),
    ({"trim": 0.5, "method": "ipw"}, r"The 'trim' parameter of match must be < 0\.5\. Got 0\.5\."),
    ({"caliper": {"distance": 0}}, r"The 'caliper\['distance'\]' parameter of match must be > 0\. Got 0\."),
    ({"caliper": "wide"}, r"The 'caliper' parameter of match must be a number > 0 or a mapping .* or None\. Got 'wide'\."),
    ({"replace": "yes"}, r"The 'replace' parameter of match must be True or False\. Got 'yes'\."),
    ({"random_state": 1.5}, r"The 'random_state' parameter of match must be an int >= 0, a numpy Generator or None"),
])
def test_match_messages(lalonde, kw, message):
    with pytest.raises(ParameterError, match=message):
        impact.match(lalonde, "treat", ["age", "educ"], **kw)


def test_balance_and_riskset_messages(lalonde):
    with pytest.raises(ParameterError, match=r"The 'estimand' parameter of balance must be one of 'ATT', 'ATC', 'ATE'\. "
                                             r"Got 'ATO'\."):
        impact.balance(lalonde, "treat", ["age"], estimand="ATO")
    with pytest.raises(ParameterError, match=r"The 'ratio' parameter of match_riskset must be >= 1\. Got 0\."):
        match_riskset(lalonde, id="id", period="age", entry="re74", covariates=["educ"], ratio=0)
    with pytest.raises(ParameterError, match=r"already have a column 'entering'"):
        match_riskset(lalonde.assign(entering=0), id="id", period="age", entry="re74", covariates=["educ"])
    with pytest.raises(ParameterError, match=r"The 'data' parameter of balance must be a pandas DataFrame"):
        impact.balance(np.zeros((3, 2)), "treat", ["age"])
