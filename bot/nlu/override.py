"""Rule-based components that know better than the classifier set the intent this way: first in
the ranking with full confidence, the classifier's other guesses kept behind it. They run after
the FallbackClassifier (bot/config.yml), so they also replace its nlu_fallback."""

from __future__ import annotations

from rasa.shared.constants import DEFAULT_NLU_FALLBACK_INTENT_NAME
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message


def override_intent(message: Message, name: str) -> None:
    replaced = {name, DEFAULT_NLU_FALLBACK_INTENT_NAME}
    ranking = [item for item in message.get(INTENT_RANKING_KEY) or [] if item.get("name") not in replaced]
    top = {"name": name, "confidence": 1.0}
    message.set(INTENT, top, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [top, *ranking], add_to_output=True)
