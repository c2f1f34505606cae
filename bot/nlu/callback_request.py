"""A message that asks to be called back ("Bitte um Rückruf", "rufen Sie mich an", or name and
phone number unasked) is classified as `request_callback`, whatever the topic classifier
thought: the person wants the office to call, not an answer about Merkzeichen G. The words are
in callbacks/extraction.py, next to the form's own reading of the message."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.override import override_intent
from callbacks.extraction import asks_for_callback

REQUEST_CALLBACK = "request_callback"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class CallbackRequestDetector(GraphComponent):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CallbackRequestDetector:
        return cls()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            if asks_for_callback(message.get(TEXT) or ""):
                override_intent(message, REQUEST_CALLBACK)
        return messages
