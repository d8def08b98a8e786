"""The public faces of ``impact.publish`` and ``impact.labels``: a parameter table for every public function,
messages in the validation layer's form, old argument names that still work, frozen results.

Oracles: the message form written out here; for renamed arguments, the result under the new name.
"""

from __future__ import annotations

import dataclasses
import inspect

import pandas as pd
import pytest

import impact.labels as labels
import impact.publish as publish
from impact import ParameterError
from impact._validation import constraints_of
from impact.labels import format_change, format_number, relabel
from impact.publish import (MARK, balance_published, effects_published, feasible_intervals, scrub_counts, suppress,
                            suppress_counts)


def _counts() -> pd.DataFrame:
    t = pd.DataFrame({"women": [2, 42, 220], "men": [0, 46, 189]}, index=["a", "b", "c"])
    t["total"] = t.sum(axis=1)
    return t


@pytest.mark.parametrize("module", [publish, labels], ids=["publish", "labels"])
def test_every_public_function_has_a_parameter_table(module):
    functions = [n for n in module.__all__ if inspect.isfunction(getattr(module, n))]
    assert functions
    # has_label takes any value by design: its answer is True or False
    missing = [n for n in functions if not constraints_of(getattr(module, n)) and n != "has_label"]
    assert missing == []
    for method in (publish.Suppression.apply, publish.Suppression.shares):
        assert constraints_of(method)


@pytest.mark.parametrize("call, pattern", [
    (lambda: suppress(_counts(), threshold=0), r"^The 'threshold' parameter of suppress must be >= 1\. Got 0\.$"),
    (lambda: suppress(_counts().to_numpy()), r"^The 'table' parameter of suppress must be a pandas DataFrame of counts"),
    (lambda: suppress(_counts(), mark=0), r"^The 'mark' parameter of suppress must be a str\. Got 0\.$"),
    (lambda: suppress(_counts(), margin=-1), r"^The 'margin' parameter of suppress must be >= 0\. Got -1\.$"),
    (lambda: suppress_counts(_counts(), threshold=2.5), r"'threshold' parameter of suppress_counts must be an int >= 1"),
    (lambda: scrub_counts("3 people", threshold=0), r"^The 'threshold' parameter of scrub_counts must be >= 1"),
    (lambda: effects_published([1, 2], 5), r"^The 'summary' parameter of effects_published must be a pandas DataFrame"),
    (lambda: balance_published(pd.DataFrame(), [5], 5), r"^The 'sizes' parameter of balance_published must be a mapping"),
    (lambda: suppress(_counts(), total_col="total").shares("columns"),
     r"^The 'within' parameter of Suppression\.shares must be one of 'column', 'row'\. Got 'columns'\. "
     r"Did you mean 'column'\?"),
    (lambda: suppress(_counts(), total_col="total").shares(lang="se"),
     r"^The 'lang' parameter of Suppression\.shares must be one of 'en', 'sv'\. Got 'se'\."),
    (lambda: feasible_intervals(suppress(_counts(), total_col="total").published, total_col="Total"),
     r"^The 'total_col' parameter of feasible_intervals must be one of the table's columns\. Got 'Total'\. "
     r"Did you mean 'total'\?"),
    (lambda: feasible_intervals(suppress(_counts()).published, known_totals={"row": pd.Series([1, 2, 3])}),
     r"'known_totals' parameter of feasible_intervals takes the keys 'rows' and 'columns'\. Got \['row'\]\. "
     r"Did you mean 'rows'\?"),
    (lambda: format_number(3, "se"), r"^The 'lang' parameter of format_number must be one of 'en', 'sv'\. Got 'se'\."),
    (lambda: format_number(3, "en", decimals=-1), r"^The 'decimals' parameter of format_number must be >= 0"),
    (lambda: format_change(0.1, 2021, "se"), r"^The 'lang' parameter of format_change must be one of 'en', 'sv'"),
    (lambda: format_change("-17%", 2021), r"^The 'change' parameter of format_change must be a number"),
    (lambda: relabel([1], "sv"), r"^The 'table' parameter of relabel must be a pandas DataFrame"),
])
def test_parameter_messages(call, pattern):
    with pytest.raises(ParameterError, match=pattern):
        call()


def test_old_argument_names_warn_and_give_the_same_result():
    t = _counts()
    with pytest.warns(FutureWarning, match=r"The 'df' parameter of suppress_counts is now called 'table'"):
        old = suppress_counts(df=t, total_col="total")
    pd.testing.assert_frame_equal(old, suppress_counts(table=t, total_col="total"))
    with pytest.warns(FutureWarning, match=r"The 'df' parameter of relabel is now called 'table'"):
        old = relabel(df=t, lang="sv")
    pd.testing.assert_frame_equal(old, relabel(t, "sv"))


def test_the_rules_share_one_threshold_default_and_one_mark():
    for fn in (suppress, suppress_counts, scrub_counts, effects_published, balance_published):
        assert inspect.signature(fn).parameters["threshold"].default == 5, fn.__name__
    assert inspect.signature(suppress).parameters["mark"].default == MARK == ".."
    assert scrub_counts("3 treated units found no match") == ".. treated units found no match"


def test_suppression_is_frozen_and_apply_does_not_change_it():
    res = suppress(_counts(), total_col="total")
    mask = res.mask.copy()
    shares = _counts() / 100
    out = res.apply(shares)
    assert (out.to_numpy()[mask.to_numpy()] == MARK).all()
    pd.testing.assert_frame_equal(res.mask, mask)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.threshold = 3  # type: ignore[misc]
