"""The project's NLU components on their own: the place extractor, the callback request detector
and the card ranker."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RESPONSE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.callback_request import CallbackRequestDetector
from bot.nlu.cards import CardRanker
from bot.nlu.places import PlaceExtractor


def parsed(text: str, intent: str = "goodbye") -> Message:
    message = Message({TEXT: text})
    message.set(INTENT, {"name": intent, "confidence": 0.6})
    message.set("intent_ranking", [{"name": intent, "confidence": 0.6}])
    return message


@pytest.fixture(scope="module")
def places() -> PlaceExtractor:
    return PlaceExtractor()


def test_a_place_alone_becomes_inform_place_with_its_entity(places: PlaceExtractor) -> None:
    [message] = places.process([parsed("Titz")])
    assert message.get(INTENT)["name"] == "inform_place" and message.get(INTENT)["confidence"] == 1.0
    [entity] = message.get("entities")
    assert entity["entity"] == "place" and entity["value"].startswith("m:")
    assert entity["additional_info"]["outcome"] == "found" and entity["additional_info"]["only"]
    assert (entity["start"], entity["end"]) == (0, 4)


def test_a_place_in_a_question_keeps_the_question(places: PlaceExtractor) -> None:
    [message] = places.process(
        [parsed("Mein Vater wohnt in Bottrop, wohin schickt er den Antrag?", "ask_apply")]
    )
    assert message.get(INTENT)["name"] == "ask_apply"
    assert message.get("entities")[0]["additional_info"]["only"] is False


@pytest.mark.parametrize(
    ("text", "outcome", "region"),
    [
        ("Hamm (Sieg)", "outside_nrw", "Rheinland-Pfalz"),
        ("Maastricht", "abroad", "Niederlande"),
        ("Oberkassel", "ambiguous", None),
    ],
)
def test_places_elsewhere_and_ambiguous_names_are_marked(
    places: PlaceExtractor, text: str, outcome: str, region
) -> None:
    [message] = places.process([parsed(text)])
    info = message.get("entities")[0]["additional_info"]
    assert info["outcome"] == outcome and info["region"] == region
    if outcome == "ambiguous":
        assert len(info["keys"]) >= 2


@pytest.mark.parametrize(
    "text",
    [
        "Ich bin nicht mehr so gut zu Fuß und wollte fragen wegen dem Parkausweis. Bitte anrufen.",
        "Rückfur biite, mein Name ist Olaf Zimmermann",
        "Name: Thomas Richter, Telefon: 0521 3344556, Anliegen: Verlängerung",
        "Kann mich bitte jemand vom Amt anrufen?",
        "Ich bin schwerhörig, telefonieren klappt nicht. Bitte antworten Sie mir per Fax.",
        "Meine Schwester ist gehörlos. Können Sie ihr bitte eine E-Mail schreiben?",
        "Ich möchte wegen meines Antrags zurückgerufen werden.",
        "Mein Vater kann nicht chatten, rufen Sie ihn bitte an.",
        "Ich hätte gern, dass mich jemand wegen meines Widerspruchs vom letzten Monat anruft",
        "Meine Tante bittet um einen Anruf, sie hat nur Festnetz.",
        "Ich möchte Anruf wegen Wertmarke.",
        "Ich kann nicht hören. Kann sich das Amt bei mir per E-Mail melden?",
    ],
)
def test_a_wish_to_be_called_back_becomes_request_callback(text: str) -> None:
    message = parsed(text, "nlu_fallback")  # the FallbackClassifier ran before
    message.set(
        "intent_ranking",
        [{"name": "nlu_fallback", "confidence": 0.4}, {"name": "ask_parking", "confidence": 0.98}],
    )
    [message] = CallbackRequestDetector().process([message])
    assert message.get(INTENT) == {"name": "request_callback", "confidence": 1.0}
    assert [item["name"] for item in message.get("intent_ranking")] == ["request_callback", "ask_parking"]


@pytest.mark.parametrize(
    "text",
    [
        "Kann ich beim Amt anrufen?",
        "Ich habe angerufen, aber niemand geht ran.",
        "ja, bitte rufen Sie mich an",
        "Schreiben Sie mir die Adresse vom Amt",
        "Kann ich dem Amt eine E-Mail schreiben?",
        "Rufen Sie beim Amt an?",
        "Wann kann ich Sie anrufen?",
        "Muss ich mich beim Amt melden, wenn ich umziehe?",
        "Wo wende ich mich hin, und kann ich da einfach anrufen?",
    ],
)
def test_questions_about_calling_and_answers_to_an_offer_keep_their_intent(text: str) -> None:
    [message] = CallbackRequestDetector().process([parsed(text, "ask_contact")])
    assert message.get(INTENT)["name"] == "ask_contact"


def test_ordinary_words_are_no_places(places: PlaceExtractor) -> None:
    [message] = places.process([parsed("was kann man essen, und wie wird das wetter", "out_of_scope")])
    assert not message.get("entities")


def test_buttons_are_left_alone(places: PlaceExtractor) -> None:
    [message] = places.process([parsed('/inform_place{"place": "m:05154032"}', "inform_place")])
    assert not message.get("entities")


def example(text: str, key: str) -> Message:
    return Message({TEXT: text, INTENT: key.split("/")[0], INTENT_RESPONSE_KEY: key})


def test_the_card_ranker_finds_the_specific_card_by_its_rare_word(tmp_path) -> None:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("card_ranker")
    context = ExecutionContext(GraphSchema({}), "test")
    ranker = CardRanker.create(CardRanker.get_default_config(), storage, resource, context)
    data = TrainingData(
        [
            example("wie verlängere ich meinen ausweis", "ask_extend/overview"),
            example("ausweis läuft ab was tun", "ask_extend/overview"),
            example("verlängerung beantragen", "ask_extend/overview"),
            example("kann ich die verlängerung telefonisch machen", "ask_extend/by_phone"),
            example("verlängern per telefon", "ask_extend/by_phone"),
            example("anrufen zum verlängern", "ask_extend/by_phone"),
        ]
    )
    ranker.train(data)
    loaded = CardRanker.load(CardRanker.get_default_config(), storage, resource, context)
    [message] = loaded.process([Message({TEXT: "geht verlaengern auch am telefon?"})])
    ranking = message.get("card_ranking")
    assert ranking[0]["card"] == "extend/by_phone" and ranking[0]["score"] > ranking[1]["score"]
