"""Durable storage of callback requests: SQLite by default, PostgreSQL via DATABASE_URL."""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path

import sqlalchemy as sa

DEFAULT_RETENTION_DAYS = 30
REFERENCE_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"  # no look-alikes (0/O, 1/I, 5/S, 8/B, 2/Z)

metadata = sa.MetaData()
requests_table = sa.Table(
    "callback_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("reference", sa.String(16), nullable=False, unique=True),
    sa.Column("dedupe_key", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("office", sa.String(64), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("phone", sa.String(20), nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("preferred_time", sa.String(200)),
    sa.Column("alternative_contact", sa.String(300)),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("closed_at", sa.DateTime(timezone=True)),
)


class Status(str, Enum):
    OPEN = "open"
    DONE = "done"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class NewRequest:
    office: str
    name: str
    phone: str
    reason: str
    preferred_time: str | None = None
    alternative_contact: str | None = None

    def dedupe_key(self, conversation_id: str) -> str:
        """Same conversation, same content: the same request (a retried message stores nothing new)."""
        parts = [conversation_id, self.office, self.name, self.phone, self.reason]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class StoredRequest:
    id: int
    reference: str
    created_at: datetime
    office: str
    name: str
    phone: str
    reason: str
    preferred_time: str | None
    alternative_contact: str | None
    status: str
    closed_at: datetime | None

    def as_json(self) -> dict:
        data = asdict(self)
        data["created_at"] = self.created_at.isoformat()
        data["closed_at"] = self.closed_at.isoformat() if self.closed_at else None
        return data


def database_url() -> str:
    """DATABASE_URL if set, else a SQLite file in ASSISTANT_DATA_DIR (default ./var)."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url.replace("postgres://", "postgresql://", 1)
    data_dir = Path(os.environ.get("ASSISTANT_DATA_DIR", "var"))
    data_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{data_dir / 'callbacks.db'}"


def retention_days() -> int:
    """Days after which done requests are deleted: CALLBACK_RETENTION_DAYS, default 30."""
    return int(os.environ.get("CALLBACK_RETENTION_DAYS", DEFAULT_RETENTION_DAYS))


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class CallbackStore:
    def __init__(self, url: str | None = None) -> None:
        self.engine = sa.create_engine(url or database_url(), future=True, pool_pre_ping=True)
        metadata.create_all(self.engine)

    def submit(self, request: NewRequest, conversation_id: str, now: datetime) -> tuple[str, bool]:
        """Commit the request; returns (reference, newly stored). Idempotent per conversation."""
        key = request.dedupe_key(conversation_id)
        with self.engine.begin() as connection:
            existing = connection.execute(
                sa.select(requests_table.c.reference).where(requests_table.c.dedupe_key == key)
            ).scalar_one_or_none()
            if existing:
                return existing, False
            reference = new_reference()
            connection.execute(
                requests_table.insert().values(
                    reference=reference,
                    dedupe_key=key,
                    created_at=_utc(now),
                    status=Status.OPEN.value,
                    **asdict(request),
                )
            )
        return reference, True

    def list(self, office: str | None = None, status: Status | None = None) -> list[StoredRequest]:
        query = sa.select(requests_table).order_by(requests_table.c.created_at, requests_table.c.id)
        if office:
            query = query.where(requests_table.c.office == office)
        if status:
            query = query.where(requests_table.c.status == status.value)
        with self.engine.connect() as connection:
            return [_stored(row) for row in connection.execute(query).mappings()]

    def mark(self, reference: str, status: Status, now: datetime) -> bool:
        closed = _utc(now) if status is not Status.OPEN else None
        with self.engine.begin() as connection:
            result = connection.execute(
                requests_table.update()
                .where(requests_table.c.reference == reference)
                .values(status=status.value, closed_at=closed)
            )
        return result.rowcount == 1

    def purge(self, now: datetime, days: int | None = None) -> int:
        """Delete done requests closed more than `days` (default: retention_days()) ago."""
        cutoff = _utc(now) - timedelta(days=retention_days() if days is None else days)
        with self.engine.begin() as connection:
            result = connection.execute(
                requests_table.delete().where(
                    requests_table.c.status == Status.DONE.value, requests_table.c.closed_at < cutoff
                )
            )
        return result.rowcount


def new_reference() -> str:
    """Short, readable over the phone: 'RR-' and 6 characters without look-alikes."""
    return "RR-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(6))


def _stored(row: sa.engine.RowMapping) -> StoredRequest:
    values = {column: row[column] for column in StoredRequest.__dataclass_fields__}
    values["created_at"] = _utc(values["created_at"])
    values["closed_at"] = _utc(values["closed_at"]) if values["closed_at"] else None
    return StoredRequest(**values)
