"""A speed fix for Rasa 3.6, applied by `python -m bot.server` before Rasa starts.

RemoteAction._validate_action_result calls jsonschema.validate(), which first checks the schema
itself against the JSON Schema meta-schema, on every custom action call: about 19 ms of CPU per
message here, a third of the Rasa server's time (profiled with cProfile; docs/benchmarks.md). The
schema never changes, so its validator is built once. Same schema, same error message.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jsonschema import ValidationError
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@lru_cache(maxsize=1)
def action_response_validator() -> Validator:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    try:
        action_response_validator().validate(result)
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the "
            "Action endpoint is valid. For more information about the format visit "
            f"{DOCS_BASE_URL}/custom-actions"
        )
        raise
    return True


# The version whose RemoteAction._validate_action_result this module replaces.
PATCHED_VERSION = "3.6.21"


class UnsupportedRasaVersion(RuntimeError):
    pass


def apply(version: str | None = None) -> None:
    """Replace the validator; refuse any other Rasa version than the one the code was copied from."""
    import rasa

    found = version or rasa.__version__
    if found != PATCHED_VERSION:
        raise UnsupportedRasaVersion(
            f"bot/rasa_patches.py copies code of Rasa {PATCHED_VERSION}, but Rasa {found} is installed. "
            "Check RemoteAction._validate_action_result of that version and update the patch."
        )
    RemoteAction._validate_action_result = validate_action_result
