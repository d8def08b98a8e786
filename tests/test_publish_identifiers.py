"""No identifier in any message or warning, even when a role names the id column (issue 11, point 5).

Oracle: the identifiers of the input; every message and warning of ``validate`` and ``evaluate``
is scanned for them. Every role passes strictly (the places that printed identifiers, in
``impact.data.validate``, ``impact._validation.check_treatment`` and ``impact.design``, are fixed).
"""

from __future__ import annotations

import dataclasses
import warnings

import pytest

import impact

@pytest.fixture(scope="module")
def sim():
    return impact.simulate(n_pool=400, random_state=4)


def _messages(sim, role):
    value = (sim.roles.id,) if role == "covariates" else sim.roles.id
    roles = dataclasses.replace(sim.roles, **{role: value})
    texts = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            impact.evaluate(sim.registers, roles, random_state=0)
        except impact.ImpactError as exc:
            texts.append(str(exc))
    texts += [str(w.message) for w in caught]
    return texts


@pytest.mark.parametrize("role", ["treatment", "subgroup", "covariates", "start", "exit_date", "exit_type"])
def test_no_identifier_in_messages_when_a_role_names_the_id_column(sim, role):
    ids = set(sim.registers[sim.roles.id].astype(str))
    texts = _messages(sim, role)
    assert texts, "a role on the id column must not pass silently"
    leaked = [t for t in texts if any(i in t for i in ids)]
    assert not leaked, leaked[0][:200]
    assert any(f"'{role}' role points at the identifier column '{sim.roles.id}'" in t for t in texts)


@pytest.mark.parametrize("kwargs", [{"treatment": "person_id"}, {"exact": ["person_id"]}, {"subgroup": "person_id"},
                                    {"covariates": ["age", "person_id"]}])
def test_match_refuses_an_argument_on_the_id_column_without_printing_ids(sim, kwargs):
    args = {"treatment": sim.roles.treatment, "covariates": ["age"], "id": sim.roles.id, **kwargs}
    with pytest.raises(impact.ParameterError, match="points at the identifier column 'person_id'") as err:
        impact.match(sim.registers, **args)
    assert not any(i in str(err.value) for i in set(sim.registers[sim.roles.id].astype(str)))


def test_a_treatment_with_many_bad_values_is_not_printed():
    import pandas as pd
    from impact._validation import check_treatment
    with pytest.raises(impact.DataError, match="50 distinct values \\(not shown") as err:
        check_treatment(pd.Series([f"P{i:07d}" for i in range(50)]), "participant")
    assert "P0000001" not in str(err.value)
    with pytest.raises(impact.DataError, match="found 2"):
        check_treatment(pd.Series([0, 1, 2]), "participant")
