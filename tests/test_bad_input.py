"""Any input, property-based: the callback form, the REST body parser and the channel guard."""

from __future__ import annotations

import asyncio
import re
import unicodedata

from cachetools import LRUCache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import knowledge
from actions.callback import ValidateCallbackForm
from bot.channels import guard
from bot.channels.guard import Limits, MessageGuard, RateLimiter
from bot.channels.rest import BadRequest, parse_body
from callbacks.validation import NAME_PATTERN, REASON_MAX

# Arbitrary Unicode (control, format and right-to-left characters included) mixed with the input
# people and attackers really send.
NASTY = st.sampled_from(
    [
        "",
        "   ",
        "\t\n\r",
        "\x00\x07\x1b[31m",
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        "'; DROP TABLE callback_requests; --",
        "\u202eevil\u202c",
        "مرحبا بكم",
        "שלום",
        "👨‍👩‍👧‍👦🦽♿",
        "0221 1234567",
        "+49 (0) 211 / 89-0",
        "0900 123456",
        "Anna Müller",
        "a" * 10_050,
    ]
)
ANY_TEXT = st.one_of(st.text(), NASTY, st.lists(st.one_of(st.text(max_size=20), NASTY)).map("".join))
NO_FIXTURE_CHECK = settings(suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
GUARD_WITHOUT_RATE_LIMIT = MessageGuard(Limits(max_length=1000, burst=0))


def form_step(step: str, text: str, domain: dict, intent: str = "inform") -> tuple[dict, list]:
    """The callback form's validation action on `text` while it waits for `step`: the slots it
    sets and the messages it sends."""
    message = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": [],
        "intent_ranking": [],
    }
    events = [{"event": "user", "text": text, "parse_data": message}]
    tracker = Tracker(
        "bad-input",
        {"requested_slot": step},
        message,
        events,
        False,
        None,
        {"name": "callback_form"},
        "action_listen",
    )
    dispatcher = CollectingDispatcher()
    result = asyncio.run(ValidateCallbackForm().run(dispatcher, tracker, domain))
    return {
        event["name"]: event["value"] for event in result if event.get("event") == "slot"
    }, dispatcher.messages


def assert_told(messages: list) -> None:
    assert messages and all(m["text"] and m["text"][0].isupper() for m in messages)


@NO_FIXTURE_CHECK
@given(ANY_TEXT)
def test_a_stored_name_is_clean_or_the_person_is_told(domain, text: str) -> None:
    slots, messages = form_step("callback_name", text, domain)
    value = slots.get("callback_name")
    if value is None:
        assert_told(messages)
    else:
        assert NAME_PATTERN.fullmatch(value) and value == unicodedata.normalize("NFC", value)


@NO_FIXTURE_CHECK
@given(ANY_TEXT)
def test_a_stored_phone_is_a_dialable_e164_number(domain, text: str) -> None:
    slots, messages = form_step("callback_contact_method", text, domain)
    value = slots.get("callback_phone")
    if slots.get("callback_contact_method") is None and value is None:
        assert_told(messages)
    if value is not None:
        assert re.fullmatch(r"\+[1-9]\d{6,14}", value)
        assert not value.startswith(("+49900", "+49137", "+49180"))


@NO_FIXTURE_CHECK
@given(ANY_TEXT)
def test_a_stored_reason_has_no_control_characters_and_a_limit(domain, text: str) -> None:
    slots, messages = form_step("callback_reason", text, domain)
    value = slots.get("callback_reason")
    if value is None:
        assert_told(messages)
    else:
        assert value.strip() and not CONTROL.search(value) and len(value) <= REASON_MAX


JSONISH = st.from_regex(r'\{"sender": ?".*", ?"message": ?.*\}')


@given(st.one_of(st.binary(), st.text().map(str.encode), JSONISH))
def test_any_rest_body_is_parsed_or_rejected_cleanly(body: bytes | str) -> None:
    raw = body.encode() if isinstance(body, str) else body
    try:
        sender, message, metadata = parse_body(raw)
    except BadRequest:
        return
    assert isinstance(sender, str) and sender.strip() and isinstance(message, str)
    assert metadata is None or isinstance(metadata, dict)


@settings(deadline=None)
@given(ANY_TEXT)
def test_the_guard_passes_only_non_empty_messages_within_the_limit(text: str) -> None:
    refusal = GUARD_WITHOUT_RATE_LIMIT.refusal("someone", text)
    passes = bool(text.strip()) and len(text) <= 1000
    assert (refusal is None) == passes
    if refusal is not None:
        assert refusal.status == 200 and refusal.text.endswith(".")


@given(st.lists(st.floats(min_value=0, max_value=0.5), min_size=1, max_size=200))
def test_the_rate_limiter_never_lets_more_through_than_burst_plus_refill(gaps: list[float]) -> None:
    limiter, now, accepted = RateLimiter(burst=10, per_minute=30), 1000.0, 0
    for gap in gaps:
        now += gap
        accepted += limiter.wait_time("sender", now) == 0
    elapsed = now - 1000.0
    assert accepted <= 10 + elapsed * 30 / 60 + 1e-9
    assert accepted >= min(len(gaps), 10)  # a burst of ten always goes through


def test_the_rate_limiter_is_per_sender_and_refills() -> None:
    limiter = RateLimiter(burst=2, per_minute=60)
    assert [limiter.wait_time("a", 0.0) for _ in range(3)] == [0, 0, 1.0]
    assert limiter.wait_time("b", 0.0) == 0  # another person is not slowed down
    assert limiter.wait_time("a", 2.0) == 0  # a token came back after a second


def test_the_rate_limiter_keeps_a_bounded_lru_of_senders() -> None:
    limiter = RateLimiter(burst=1, per_minute=60, max_senders=3)
    assert isinstance(limiter._buckets, LRUCache) and limiter._buckets.maxsize == 3
    assert limiter.wait_time("a", 0.0) == 0 and limiter.wait_time("a", 0.0) == 1.0
    for sender in ("b", "c", "d"):
        limiter.wait_time(sender, 0.0)
    assert len(limiter._buckets) == 3
    assert limiter.wait_time("a", 0.0) == 0  # forgotten: a full bucket again


def test_the_guards_texts_come_from_channels_yml() -> None:
    texts = knowledge.load().texts
    refusal = MessageGuard(Limits(max_length=5, burst=0)).refusal("someone", "zu viel Text")  # 12 characters
    assert refusal is not None and refusal.text == texts("guard.too_long", length=12, limit=5)
    assert GUARD_WITHOUT_RATE_LIMIT.refusal("someone", " ").text == texts("guard.empty")
    assert (texts("guard.slow"), texts("guard.trouble")) == (guard.SLOW, guard.TROUBLE)
