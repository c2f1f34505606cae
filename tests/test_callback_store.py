"""Callback storage on real SQLite and real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

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
