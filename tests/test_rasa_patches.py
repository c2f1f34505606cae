"""The cached action response validator accepts and rejects exactly what Rasa's own check does."""

from __future__ import annotations

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

from bot import rasa_patches

SCHEMA = RemoteAction.action_response_format_spec()
GOOD = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "town", "value": "Köln"}], "responses": [{"text": "Hallo"}]},
    {},
]
BAD = [
    {"events": "none"},
    {"responses": [1, 2]},
    {"events": [{"name": "town"}]},
    [],
]


def test_the_patch_is_in_place() -> None:
    assert RemoteAction._validate_action_result is rasa_patches.validate_action_result


@pytest.mark.parametrize("result", GOOD)
def test_valid_results_pass(result: dict) -> None:
    jsonschema.validate(result, SCHEMA)  # Rasa's own check agrees
    assert RemoteAction._validate_action_result(RemoteAction("action_x", None), result)


@pytest.mark.parametrize("result", BAD)
def test_invalid_results_fail_like_before(result: object) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(result, SCHEMA)
    with pytest.raises(jsonschema.ValidationError, match="custom-actions"):
        RemoteAction._validate_action_result(RemoteAction("action_x", None), result)
