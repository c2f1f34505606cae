"""Callback storage on real SQLite and real PostgreSQL."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from callbacks.store import CallbackStore, NewRequest, Status
from tests.services import postgres_server

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=timezone.utc)
REQUEST = NewRequest(
    office="koeln",
    name="Anna Müller",
    phone="+4922112345678",
    reason="Frage zum Antrag, Geschäftszeichen 123/45",
    preferred_time="vormittags",
    alternative_contact="bitte per E-Mail: anna@example.de, ich bin gehörlos",
)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[CallbackStore]:
    if request.param == "sqlite":
        yield CallbackStore(f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'callbacks.db'}")
    else:
        with postgres_server() as url:
            yield CallbackStore(url)


def test_submit_stores_everything_and_gives_a_reference(store: CallbackStore) -> None:
    reference, created = store.submit(REQUEST, "conversation-1", NOW)
    assert created and reference.startswith("RR-") and len(reference) == 9
    [stored] = [r for r in store.list() if r.reference == reference]
    assert (stored.name, stored.phone, stored.reason) == (REQUEST.name, REQUEST.phone, REQUEST.reason)
    assert stored.alternative_contact == REQUEST.alternative_contact
    assert stored.status == "open" and stored.created_at == NOW


def test_a_retried_submission_is_stored_once(store: CallbackStore) -> None:
    first, created = store.submit(REQUEST, "conversation-2", NOW)
    again, created_again = store.submit(REQUEST, "conversation-2", NOW + timedelta(seconds=3))
    assert created and not created_again and first == again
    assert sum(r.reference == first for r in store.list()) == 1


def test_filter_mark_and_purge(store: CallbackStore) -> None:
    other = NewRequest(office="dortmund", name="Jens Groß", phone="+492315000", reason="Rückfrage")
    reference, _ = store.submit(other, "conversation-3", NOW)
    assert [r.reference for r in store.list(office="dortmund", status=Status.OPEN)] == [reference]
    assert store.mark(reference, Status.DONE, NOW)
    assert not store.mark("RR-NOPE00", Status.DONE, NOW)
    assert store.purge(NOW + timedelta(days=29)) == 0
    assert store.purge(NOW + timedelta(days=31)) == 1
    assert all(r.reference != reference for r in store.list())
    assert store.list(office="koeln"), "open requests are never purged"


def test_text_is_stored_verbatim_not_interpreted(store: CallbackStore) -> None:
    hostile = NewRequest(
        office="koeln", name="Robert Tables", phone="+4922112345679", reason="'); DROP TABLE x; --"
    )
    reference, _ = store.submit(hostile, "conversation-4", NOW)
    assert [r.reason for r in store.list() if r.reference == reference] == [hostile.reason]


# --- UTC in storage, Europe/Berlin for staff -----------------------------------------------------

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("utc", "local"),
    [
        (datetime(2026, 1, 15, 19, 50, tzinfo=timezone.utc), "2026-01-15T20:50:00+01:00"),  # CET
        (datetime(2026, 7, 15, 19, 50, tzinfo=timezone.utc), "2026-07-15T21:50:00+02:00"),  # CEST
    ],
    ids=["winter", "summer"],
)
def test_times_are_stored_in_utc_and_shown_in_berlin_time(store: CallbackStore, utc, local: str) -> None:
    berlin_now = utc.astimezone(BERLIN)  # what the actions pass
    request = NewRequest(office="bonn", name="Eva Zeit", phone="+49228123456", reason=f"Zeit {local}")
    reference, _ = store.submit(request, f"time-{local}", berlin_now)
    closed = utc + timedelta(hours=2)
    assert store.mark(reference, Status.DONE, closed.astimezone(BERLIN))
    [stored] = [r for r in store.list() if r.reference == reference]
    assert stored.created_at == utc and stored.created_at.utcoffset() == timedelta(0)
    assert stored.closed_at == closed and stored.closed_at.utcoffset() == timedelta(0)
    shown = stored.as_json()
    assert shown["created_at"] == utc.isoformat() and shown["created_at"].endswith("T19:50:00+00:00")
    assert shown["created_at_local"] == local
    assert shown["closed_at"] == closed.isoformat() and shown["closed_at"].endswith("21:50:00+00:00")
    assert shown["closed_at_local"] == (datetime.fromisoformat(local) + timedelta(hours=2)).isoformat()


def test_the_raw_stored_value_is_utc(store: CallbackStore) -> None:
    berlin = datetime(2026, 1, 15, 20, 50, tzinfo=BERLIN)
    request = NewRequest(office="bonn", name="Udo Roh", phone="+49228123457", reason="roh")
    reference, _ = store.submit(request, "raw", berlin)
    with store.engine.connect() as connection:
        statement = "SELECT CAST(created_at AS TEXT) FROM callback_requests WHERE reference = :r"
        raw = connection.execute(sa.text(statement), {"r": reference}).scalar_one()
    assert raw.startswith("2026-01-15 19:50:00")  # PostgreSQL adds "+00", SQLite nothing


def test_naive_datetimes_are_refused(store: CallbackStore) -> None:
    request = NewRequest(office="bonn", name="Nina Naiv", phone="+49228123458", reason="naiv")
    with pytest.raises(ValueError, match="naive"):
        store.submit(request, "naive", datetime(2026, 1, 15, 20, 50))
    assert all(r.name != "Nina Naiv" for r in store.list())
    with pytest.raises(ValueError):
        store.mark("RR-ANY000", Status.DONE, datetime(2026, 1, 15, 20, 50))


# --- contact methods for people who cannot phone ------------------------------------------------


@pytest.mark.parametrize(
    ("method", "values", "contact"),
    [
        ("email", {"email": "eva@example.de"}, "eva@example.de"),
        ("fax", {"fax": "+49211445567"}, "+49211445567"),
        ("sms", {"phone": "+4917612345678"}, "+4917612345678"),
        ("phone", {"phone": "+49211445566"}, "+49211445566"),
    ],
)
def test_each_contact_method_is_stored_and_shown(store: CallbackStore, method, values, contact) -> None:
    request = NewRequest(
        office="koeln", name="Eva Still", reason="Ich bin gehörlos", contact_method=method, **values
    )
    reference, created = store.submit(request, f"contact-{method}", NOW)
    assert created
    [stored] = [r for r in store.list() if r.reference == reference]
    assert (stored.contact_method, stored.contact) == (method, contact)
    shown = stored.as_json()
    assert (shown["contact_method"], shown["contact"]) == (method, contact)
    assert shown["phone"] == values.get("phone")


def test_the_contact_is_part_of_the_dedupe_key(store: CallbackStore) -> None:
    by_mail = NewRequest(office="koeln", name="Eva Zwei", reason="x", contact_method="email", email="a@b.de")
    by_fax = NewRequest(office="koeln", name="Eva Zwei", reason="x", contact_method="fax", fax="+49211445567")
    first, _ = store.submit(by_mail, "dedupe-contact", NOW)
    second, created = store.submit(by_fax, "dedupe-contact", NOW)
    assert created and first != second
    assert store.submit(by_fax, "dedupe-contact", NOW) == (second, False)


def test_the_key_of_a_phone_request_is_unchanged() -> None:
    """Requests stored before contact methods existed keep their key: a retry stores nothing new."""
    request = NewRequest("koeln", "Anna Müller", "+4922112345678", "Antrag")
    parts = ["c", "koeln", "Anna Müller", "+4922112345678", "Antrag"]
    assert request.dedupe_key("c") == hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@pytest.mark.parametrize(
    "values",
    [
        {"contact_method": "email"},
        {"contact_method": "fax", "phone": "+49211445566"},
        {"contact_method": "sms", "email": "a@b.de"},
        {"contact_method": "phone"},
        {"contact_method": "brieftaube", "phone": "+49211445566"},
        {"contact_method": "phone", "phone": "+49211445566", "reason": ""},
    ],
)
def test_a_request_needs_the_value_of_its_contact_method(values: dict) -> None:
    values = {"reason": "Anliegen", **values}
    with pytest.raises(ValueError):
        NewRequest(office="koeln", name="Eva Falsch", **values)


# --- databases created by the first release ------------------------------------------------------

OLD_SCHEMA = """
CREATE TABLE callback_requests (
    id INTEGER NOT NULL PRIMARY KEY,
    reference VARCHAR(16) NOT NULL UNIQUE,
    dedupe_key VARCHAR(64) NOT NULL UNIQUE,
    created_at DATETIME NOT NULL,
    office VARCHAR(64) NOT NULL,
    name VARCHAR(100) NOT NULL,
    phone VARCHAR(20) NOT NULL,
    reason TEXT NOT NULL,
    preferred_time VARCHAR(200),
    alternative_contact VARCHAR(300),
    status VARCHAR(16) NOT NULL,
    closed_at DATETIME
)"""


def old_database(path) -> str:
    """A SQLite file as the first release left it: Berlin wall time in created_at, UTC in closed_at."""
    connection = sqlite3.connect(path)
    connection.execute(OLD_SCHEMA)
    connection.execute("CREATE INDEX ix_callback_requests_status ON callback_requests (status)")
    key = NewRequest("koeln", "Alt Bestand", "+4922112345678", "alt").dedupe_key("old-conversation")
    connection.execute(
        "INSERT INTO callback_requests VALUES (1, 'RR-ALT111', ?, '2026-01-15 20:50:00.000000', 'koeln',"
        " 'Alt Bestand', '+4922112345678', 'alt', NULL, NULL, 'done', '2026-01-16 08:00:00.000000')",
        (key,),
    )
    connection.commit()
    connection.close()
    return f"sqlite:///{path}"


def test_an_old_sqlite_file_is_migrated_on_start_up(tmp_path) -> None:
    url = old_database(tmp_path / "old.db")
    store = CallbackStore(url)
    [old] = store.list()
    assert (old.reference, old.contact_method, old.contact) == ("RR-ALT111", "phone", "+4922112345678")
    assert old.created_at == datetime(2026, 1, 15, 19, 50, tzinfo=timezone.utc)  # was Berlin wall time
    assert old.closed_at == datetime(2026, 1, 16, 8, 0, tzinfo=timezone.utc)  # was UTC already
    by_mail = NewRequest(
        office="koeln", name="Neu Mail", reason="neu", contact_method="email", email="n@m.de"
    )
    reference, created = store.submit(by_mail, "new-conversation", NOW)
    assert created
    # A retried old request finds its row: the key did not change.
    retried = NewRequest("koeln", "Alt Bestand", "+4922112345678", "alt")
    assert store.submit(retried, "old-conversation", NOW) == ("RR-ALT111", False)

    again = CallbackStore(url)  # idempotent: nothing is converted twice
    assert [r.created_at for r in again.list()] == [old.created_at, NOW]
    assert [r.reference for r in again.list(status=Status.OPEN)] == [reference]
    columns = {c["name"]: c for c in sa.inspect(again.engine).get_columns("callback_requests")}
    assert columns["phone"]["nullable"] and {"contact_method", "email", "fax"} <= set(columns)
    assert {i["name"] for i in sa.inspect(again.engine).get_indexes("callback_requests")} >= {
        "ix_callback_requests_status"
    }


def test_an_old_postgresql_table_gets_the_new_columns() -> None:
    with postgres_server() as url:
        engine = sa.create_engine(url, future=True)
        with engine.begin() as connection:
            old_schema = OLD_SCHEMA.replace("DATETIME", "TIMESTAMP WITH TIME ZONE")
            connection.execute(sa.text(old_schema.replace("id INTEGER NOT NULL", "id SERIAL")))
            connection.execute(
                sa.text(
                    "INSERT INTO callback_requests VALUES (DEFAULT, 'RR-ALT111', 'k',"
                    " '2026-01-15 19:50:00+00', 'koeln', 'Alt Bestand', '+4922112345678', 'alt',"
                    " NULL, NULL, 'open', NULL)"
                )
            )
        engine.dispose()
        store = CallbackStore(url)
        [old] = store.list()
        assert old.created_at == datetime(2026, 1, 15, 19, 50, tzinfo=timezone.utc)
        assert old.contact_method == "phone"
        by_fax = NewRequest(
            office="koeln", name="Neu Fax", reason="neu", contact_method="fax", fax="+49211445567"
        )
        assert store.submit(by_fax, "pg-new", NOW)[1]
        CallbackStore(url)  # again: nothing to do
        assert [r.contact for r in store.list()] == ["+4922112345678", "+49211445567"]
        store.engine.dispose()
