"""The real SQL tracker store keeps no personal data of a callback request after it ends."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot import tracker_store
from bot.tracker_store import FORM_START, REMOVED, PrivacySQLTrackerStore
from callbacks.slots import CONTACT_SLOTS, PERSONAL_SLOTS
from tests.services import postgres_server

NAME, PHONE, REASON = "Annegret Wübbelhorst", "+492219876543", "Widerspruch Az 77/12"


def user(text: str, intent: str, timestamp: float | None = None) -> UserUttered:
    return UserUttered(
        text,
        {"name": intent, "confidence": 1.0},
        parse_data={"text": text, "intent": {"name": intent}},
        timestamp=timestamp,
    )


def conversation(end_action: str, closed: str | None) -> list:
    return [
        ActionExecuted("action_listen"),
        user("Hallo, ich wohne in Köln", "greet"),
        ActionExecuted("utter_greet"),
        ActionExecuted("action_listen"),
        user("Rückruf bitte", "request_callback"),
        ActionExecuted("action_offer_callback"),
        BotUttered("Sind Sie einverstanden?"),
        ActionExecuted("action_listen"),
        user("ja", "affirm"),
        ActionExecuted("callback_form"),
        ActiveLoop("callback_form"),
        ActionExecuted("action_listen"),
        user(NAME, "inform_town"),
        SlotSet("callback_name", NAME),
        SlotSet("callback_phone", PHONE),
        SlotSet("callback_reason", REASON),
        BotUttered(f"Bitte prüfen Sie: {NAME}, {PHONE}, {REASON}"),
        ActionExecuted("action_listen"),
        user("ja", "affirm"),
        ActionExecuted(end_action),
        *([SlotSet("callback_closed", closed)] if closed else []),
    ]


def stored(tmp_path, events: list, sender: str) -> str:
    store = PrivacySQLTrackerStore(domain=Domain.empty(), dialect="sqlite", db=str(tmp_path / "tracker.db"))
    tracker = DialogueStateTracker.from_events(sender, events[:8])
    asyncio.run(store.save(tracker))  # saved turn by turn, as the server does
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
    with store.session_scope() as session:
        rows = session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender).all()
        # Decoded: the stored JSON escapes umlauts, a raw text search would miss them.
        return "\n".join(json.dumps(json.loads(row.data), ensure_ascii=False) for row in rows)


def test_submitted_request_is_masked(tmp_path) -> None:
    data = stored(tmp_path, conversation("action_submit_callback", "submitted"), "submitted")
    for secret in (NAME, PHONE, REASON, "9876543"):
        assert secret not in data
    assert REMOVED in data
    assert "Hallo, ich wohne in Köln" in data  # before the privacy notice: kept
    assert "request_callback" in data and "affirm" in data  # intents stay for reports


def test_cancelled_request_is_masked(tmp_path) -> None:
    data = stored(tmp_path, conversation("action_cancel_callback", "cancelled"), "cancelled")
    assert NAME not in data and PHONE not in data


def test_ongoing_or_failed_submission_is_not_masked(tmp_path) -> None:
    """A failed submission is logged as executed too; the slots must stay for another try."""
    data = stored(tmp_path, conversation("action_submit_callback", None), "failed")
    assert NAME in data


# --- abandoned forms ----------------------------------------------------------------------------

HOUR = 3600.0
SECRETS = (NAME, PHONE, REASON, "9876543", "0221 98", "Wübbelhorst", "77/12")


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """Keyword arguments for a PrivacySQLTrackerStore on a real SQLite file or PostgreSQL server."""
    if request.param == "sqlite":
        yield {"dialect": "sqlite", "db": str(tmp_path_factory.mktemp("tracker") / "tracker.db")}
    else:
        with postgres_server() as url:
            yield {"host": url}


def open_store(database: dict) -> PrivacySQLTrackerStore:
    return PrivacySQLTrackerStore(domain=DOMAIN, **database)


DOMAIN = Domain.from_dict(
    {
        "slots": {
            slot: {"type": "text", "influence_conversation": False, "mappings": [{"type": "custom"}]}
            for slot in (*PERSONAL_SLOTS, *CONTACT_SLOTS, "callback_closed")
        }
        | {
            "callback_cannot_phone": {
                "type": "bool",
                "influence_conversation": False,
                "mappings": [{"type": "custom"}],
            }
        }
    }
)


def half_filled(started: float) -> list:
    """Consent, name, phone and reason given, then the tab was closed: no summary, no end."""
    turns = [
        ("Hallo, ich wohne in Köln", "greet", [ActionExecuted("utter_greet")]),
        ("Rückruf bitte", "request_callback", [ActionExecuted(FORM_START), BotUttered("Einverstanden?")]),
        ("ja", "affirm", [ActionExecuted("callback_form"), ActiveLoop("callback_form")]),
        (f"Mein Name ist {NAME}", "inform", [SlotSet("callback_name", NAME), BotUttered("Ihre Nummer?")]),
        ("Tel. 0221 9876543", "inform", [SlotSet("callback_phone", PHONE), BotUttered("Worum geht es?")]),
        ("ich bin gehörlos", "inform", [SlotSet("callback_cannot_phone", True)]),
        (REASON, "inform", [SlotSet("callback_reason", REASON), SlotSet("callback_email", "a@b.de")]),
    ]
    events: list = []
    for index, (text, intent, answers) in enumerate(turns):
        moment = started + index * 10
        events += [ActionExecuted("action_listen", timestamp=moment), user(text, intent, moment)]
        for answer in answers:
            answer.timestamp = moment + 1
        events += answers
    return events


def after(events: list, minutes: float) -> datetime:
    """The clock `minutes` after the last event."""
    return datetime.fromtimestamp(max(event.timestamp for event in events) + minutes * 60, timezone.utc)


def save_turn_by_turn(store: PrivacySQLTrackerStore, sender: str, events: list) -> None:
    cuts = [i for i, event in enumerate(events) if isinstance(event, UserUttered)][1:] + [len(events)]
    for cut in cuts:
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events[:cut], DOMAIN.slots)))


def raw_rows(store: PrivacySQLTrackerStore, sender: str) -> str:
    """The events.data column as stored (JSON with escaped umlauts) and decoded, to search both."""
    with store.session_scope() as session:
        rows = session.query(store.SQLEvent.data).filter(store.SQLEvent.sender_id == sender).all()
    raw = "\n".join(row.data for row in rows)
    return raw + "\n" + "\n".join(json.dumps(json.loads(row.data), ensure_ascii=False) for row in rows)


def assert_masked(data: str) -> None:
    for secret in SECRETS:
        assert secret not in data and json.dumps(secret)[1:-1] not in data, secret
    assert (
        "a@b.de" not in data
        and "gehörlos" not in data
        and 'callback_cannot_phone", "value": true' not in data
    )
    assert "Hallo, ich wohne in Köln" in data  # before the request: kept
    assert "request_callback" in data and "inform" in data  # intents stay for reports


def test_an_abandoned_form_is_masked_after_the_idle_time(database: dict) -> None:
    store = open_store(database)
    events = half_filled(time.time())
    save_turn_by_turn(store, "abandoned", events)
    assert NAME in raw_rows(store, "abandoned")
    later = after(events, 61)  # the clock advanced 61 minutes
    assert store.sweep_abandoned(now=later) >= 1
    assert_masked(raw_rows(store, "abandoned"))
    assert store.sweep_abandoned(now=later) == 0, "a masked form is not found again"


def test_a_form_idle_for_30_minutes_is_untouched(database: dict) -> None:
    store = open_store(database)
    events = half_filled(time.time())
    save_turn_by_turn(store, "thinking", events)
    store.sweep_abandoned(now=after(events, 30))
    data = raw_rows(store, "thinking")
    assert NAME in data and PHONE in data and REASON in data


def test_a_finished_conversation_without_callback_is_untouched(database: dict) -> None:
    store = open_store(database)
    started = time.time() - 5 * HOUR
    events = [
        ActionExecuted("action_listen", timestamp=started),
        user(f"Ich bin {NAME}, was kostet die Wertmarke?", "ask_fee", started),
        BotUttered("Die Wertmarke kostet 91 Euro.", timestamp=started + 1),
    ]
    save_turn_by_turn(store, "faq-only", events)
    store.sweep_abandoned()
    assert NAME in raw_rows(store, "faq-only")


def test_the_idle_time_is_configurable(database: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALLBACK_ABANDONED_MINUTES", "10")
    store = open_store(database)
    events = half_filled(time.time())
    save_turn_by_turn(store, "short-idle", events)
    store.sweep_abandoned(now=after(events, 9))
    assert NAME in raw_rows(store, "short-idle")
    assert store.sweep_abandoned(now=after(events, 11)) >= 1
    assert_masked(raw_rows(store, "short-idle"))


def test_the_sweep_runs_at_start_up(database: dict) -> None:
    """Forms left two hours ago, before the server stopped: masked when the store is created."""
    save_turn_by_turn(open_store(database), "before-restart", half_filled(time.time() - 2 * HOUR))
    restarted = open_store(database)
    assert_masked(raw_rows(restarted, "before-restart"))


def test_the_sweep_runs_from_save_at_most_every_five_minutes(
    database: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = open_store(database)
    save_turn_by_turn(store, "left-earlier", half_filled(time.time() - 2 * HOUR))
    assert NAME in raw_rows(store, "left-earlier"), "the start-up sweep ran before this form was saved"
    sweeps: list[int] = []
    original = store.sweep_abandoned
    monkeypatch.setattr(store, "sweep_abandoned", lambda: sweeps.append(1) or original())
    asyncio.run(store.save(DialogueStateTracker.from_events("other", [user("Hallo", "greet")])))
    assert sweeps == [], "within five minutes of the last sweep"
    monkeypatch.setattr(tracker_store.time, "monotonic", lambda: time.monotonic_ns() / 1e9 + 301)
    asyncio.run(store.save(DialogueStateTracker.from_events("other", [user("Hallo", "greet")])))
    assert sweeps == [1]
    assert_masked(raw_rows(store, "left-earlier"))


def test_a_person_who_comes_back_simply_goes_on(database: dict) -> None:
    store = open_store(database)
    started = time.time() - 2 * HOUR
    save_turn_by_turn(store, "comes-back", half_filled(started))
    store.sweep_abandoned()
    tracker = asyncio.run(store.retrieve("comes-back"))
    assert tracker.active_loop_name == "callback_form"
    assert all(tracker.get_slot(slot) is None for slot in PERSONAL_SLOTS), "asked again, not '[entfernt]'"
    tracker.update(user("Maria Neu", "inform", time.time()))
    asyncio.run(store.save(tracker))
    data = raw_rows(store, "comes-back")
    assert "Maria Neu" in data and NAME not in data


def test_a_submitted_form_is_not_swept_again(database: dict) -> None:
    store = open_store(database)
    started = time.time() - 2 * HOUR
    events = half_filled(started) + [SlotSet("callback_closed", "submitted", timestamp=started + 100)]
    save_turn_by_turn(store, "submitted-old", events)
    assert_masked(raw_rows(store, "submitted-old"))  # masked when it ended
    with store.session_scope() as session:
        candidates = {row.sender_id for row in store._abandoned_query(session, time.time())}
    assert "submitted-old" not in candidates


def test_the_sweep_is_one_query_over_20000_conversations(tmp_path) -> None:
    """20,000 stored conversations, three abandoned forms: one query finds them, no loop over all."""
    store = PrivacySQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "big.db"))
    old = time.time() - 3 * HOUR
    rows = []
    for number in range(20_000):
        sender = f"c{number}"
        events = [ActionExecuted("action_listen", timestamp=old), user("Was kostet das?", "ask_fee", old)]
        if number % 7 == 0:  # a finished callback request
            events += [ActionExecuted(FORM_START, timestamp=old + 1), SlotSet("callback_closed", "submitted")]
        for event in events:
            data = event.as_dict()
            rows.append(
                {"sender_id": sender, "type_name": event.type_name, "timestamp": old,
                 "action_name": data.get("name"), "intent_name": None, "data": json.dumps(data)}
            )  # fmt: skip
    with store.engine.begin() as connection:
        connection.execute(store.SQLEvent.__table__.insert(), rows)
    for sender in ("gone-1", "gone-2", "gone-3"):
        save_turn_by_turn(store, sender, half_filled(old))
    statements: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    begin = time.perf_counter()
    assert store.sweep_abandoned() == 3
    elapsed = time.perf_counter() - begin
    assert sum("GROUP BY" in statement for statement in statements) == 1
    assert len(statements) <= 1 + 3 * 6, "a few statements per abandoned form, none per conversation"
    assert elapsed < 5, f"sweep took {elapsed:.1f} s"
    for sender in ("gone-1", "gone-2", "gone-3"):
        assert_masked(raw_rows(store, sender))


def test_the_callers_number_and_keys_are_never_stored(database: dict) -> None:
    """The telephone passes them as message metadata; Rasa keeps metadata in the user event, its
    parse data and the session_started_metadata slot."""
    store, sender = open_store(database), f"voice-{time.time_ns()}"
    metadata = {"caller": "+4922199887766", "digits": "0", "channel": "voice"}
    events = [
        ActionExecuted("action_session_start"),
        SessionStarted(metadata=metadata),
        SlotSet("session_started_metadata", dict(metadata)),
        ActionExecuted("action_listen"),
        UserUttered("Mitarbeiter", {"name": "request_human"}, metadata=dict(metadata)),
        ActionExecuted("action_listen"),
        UserUttered(  # the NLU's parse data holds a copy of the metadata too
            "5",
            {"name": "inform_place"},
            parse_data={"intent": {"name": "inform_place"}, "metadata": dict(metadata)},
            metadata=dict(metadata),
        ),
    ]
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events, DOMAIN.slots)))
    data = raw_rows(store, sender)
    assert "99887766" not in data and '"digits"' not in data
    assert '"channel": "voice"' in data  # other metadata stays


def test_a_save_writes_only_the_new_events_and_a_retrieve_reads_them_back(database: dict) -> None:
    store, sender = open_store(database), f"turns-{time.time_ns()}"
    events = conversation("action_submit_callback", None)
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events[:5], DOMAIN.slots)))
    tracker = asyncio.run(store.retrieve(sender))
    for event in events[5:]:
        tracker.update(event)
    asyncio.run(store.save(tracker))
    asyncio.run(store.save(tracker))  # nothing new: nothing written twice
    with store.session_scope() as session:
        count = session.query(store.SQLEvent).filter(store.SQLEvent.sender_id == sender).count()
    assert count == len(events)
    assert [e.as_dict()["event"] for e in asyncio.run(store.retrieve(sender)).events] == [
        e.as_dict()["event"] for e in events
    ]


def test_sqlite_runs_in_wal_mode(tmp_path) -> None:
    store = PrivacySQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
