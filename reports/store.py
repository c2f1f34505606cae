"""Streams the events of Rasa's SQL tracker store (SQLite or PostgreSQL) for the report."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from knowledge.opening_hours import BERLIN
from reports.deflection import EVENT_TYPES, StoredEvent

DEFAULT_URL = "sqlite:///var/tracker.db"
BATCH_ROWS = 5000
# A session starts at most 60 minutes (session_expiration_time) before its first message and
# rarely runs for long: one day of margin around the requested dates keeps whole sessions.
MARGIN = timedelta(days=1)

events_table = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("sender_id", sa.String),
    sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float),
    sa.column("action_name", sa.String),
    sa.column("data", sa.Text),
)


class StoreNotFound(Exception):
    pass


def default_url() -> str:
    return os.environ.get("TRACKER_STORE_URL") or DEFAULT_URL


def parse_url(url: str) -> URL:
    return make_url(url.replace("postgres://", "postgresql://", 1))


def printable(url: str) -> str:
    """The URL without its password, for messages."""
    return parse_url(url).render_as_string(hide_password=True)


def read_events(url: str, since: date | None = None, until: date | None = None) -> Iterator[StoredEvent]:
    """All events the report reads, ordered by sender and id, fetched in batches (a server-side
    cursor on PostgreSQL), so memory stays flat on large stores. Never writes."""
    parsed = parse_url(url)
    local_file = parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:")
    if local_file and not Path(parsed.database).is_file():  # connecting would create an empty file
        raise StoreNotFound(parsed.database)
    engine = sa.create_engine(parsed, future=True)
    try:
        if not sa.inspect(engine).has_table("events"):  # Rasa creates it with the first conversation
            return
        query = (
            sa.select(
                events_table.c.sender_id,
                events_table.c.type_name,
                events_table.c.timestamp,
                events_table.c.action_name,
                events_table.c.data,
            )
            .where(events_table.c.type_name.in_(EVENT_TYPES))
            .order_by(events_table.c.sender_id, events_table.c.id)
        )
        if since:
            query = query.where(events_table.c.timestamp >= _start_of(since) - MARGIN.total_seconds())
        if until:
            end = _start_of(until + timedelta(days=1))
            query = query.where(events_table.c.timestamp < end + MARGIN.total_seconds())
        with engine.connect() as connection:
            result = connection.execution_options(stream_results=True, max_row_buffer=BATCH_ROWS).execute(
                query
            )
            for rows in result.partitions(BATCH_ROWS):
                for sender_id, type_name, timestamp, action_name, data in rows:
                    yield StoredEvent(sender_id, type_name, timestamp or 0.0, action_name, data or "")
    finally:
        engine.dispose()


def _start_of(day: date) -> float:
    return datetime.combine(day, time(0), BERLIN).timestamp()
