"""A speed fix for Rasa 3.6, applied whenever the Rasa server loads our modules (bot/__init__.py).

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


def apply() -> None:
    RemoteAction._validate_action_result = validate_action_result
