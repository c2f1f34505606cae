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


@pytest.fixture(autouse=True, scope="module")
def patched() -> None:
    rasa_patches.apply()


def test_the_patch_is_in_place_after_apply() -> None:
    assert RemoteAction._validate_action_result is rasa_patches.validate_action_result


def test_another_rasa_version_is_refused_with_a_clear_message() -> None:
    with pytest.raises(rasa_patches.UnsupportedRasaVersion, match="3.6.21.*3.7.0"):
        rasa_patches.apply(version="3.7.0")


def test_importing_bot_changes_nothing_in_rasa() -> None:
    import subprocess
    import sys

    code = (
        "import bot, bot.nlu.places, bot.tracker_store; from rasa.core.actions.action import RemoteAction; "
        "from bot import rasa_patches; "
        "print(RemoteAction._validate_action_result is rasa_patches.validate_action_result)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


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
