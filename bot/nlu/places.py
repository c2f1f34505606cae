"""The place resolver inside the NLU pipeline: every message gets a `place` entity when it names
a town, postcode, district or Kreis of NRW (or a place elsewhere), and a message that is only a
place is classified as `inform_place`, whatever the intent classifier thought ("Titz" is not
goodbye). The dialogue then trusts the entity (knowledge/dialogue.py)."""

from __future__ import annotations

from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

import knowledge
from bot.nlu.override import override_intent
from knowledge.conversation import PlaceMention
from knowledge.places import Outcome

ENTITY = "place"
INFORM_PLACE = "inform_place"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER],
    is_trainable=False,
)
class PlaceExtractor(GraphComponent, EntityExtractorMixin):
    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> PlaceExtractor:
        return cls()

    def __init__(self) -> None:
        self.kb = knowledge.load()  # at start-up: the first message must not pay for the tables

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            if not text or text.startswith("/"):  # button payloads carry their own entities
                continue
            entity = self.entity(text)
            if entity is None:
                continue
            message.set(ENTITIES, [*message.get(ENTITIES, []), entity], add_to_output=True)
            if entity["additional_info"]["only"]:
                override_intent(message, INFORM_PLACE)
        return messages

    def entity(self, text: str) -> dict[str, Any] | None:
        resolution = self.kb.places.resolve(text)
        if resolution.outcome is Outcome.UNKNOWN or resolution.span is None:
            return None
        match = self.kb.match(resolution)  # a postcode shared within one office is not ambiguous
        resolution = match.resolution
        mention = PlaceMention(
            outcome=resolution.outcome,
            keys=tuple(place.key for place in resolution.places),
            matched=resolution.matched if resolution.outcome is not Outcome.FOUND else None,
            region=resolution.region,
            only=self.kb.places.only_place(text, resolution),
        )
        start, end = resolution.span
        return self.add_extractor_name(
            [
                {
                    "entity": ENTITY,
                    "value": mention.keys[0] if mention.keys else f"elsewhere:{resolution.region}",
                    "start": start,
                    "end": end,
                    "confidence_entity": 1.0,
                    "additional_info": {**mention.as_info(), "method": resolution.method},
                }
            ]
        )[0]
