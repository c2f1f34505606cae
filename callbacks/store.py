"""Durable storage of callback requests: SQLite by default, PostgreSQL via DATABASE_URL.

Times are stored in UTC and read back as aware UTC datetimes on every database (SQLite keeps no
offset); staff read them in Europe/Berlin (`StoredRequest.as_json`).
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

DEFAULT_RETENTION_DAYS = 30
REFERENCE_ALPHABET = "ACDEFGHJKLMNPQRTUVWXY34679"  # no look-alikes (0/O, 1/I, 5/S, 8/B, 2/Z)
BERLIN = ZoneInfo("Europe/Berlin")
CONTACT_METHODS = ("phone", "email", "fax", "sms")
# The field that holds the contact of each method.
CONTACT_FIELD = {"phone": "phone", "sms": "phone", "email": "email", "fax": "fax"}


class UTCDateTime(sa.types.TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out; naive datetimes are refused (whose time?)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.engine.Dialect) -> datetime | None:
        if value is None:
            return None
        return to_utc(value)

    def process_result_value(self, value: datetime | None, dialect: sa.engine.Dialect) -> datetime | None:
        if value is None:
            return None
        # SQLite returns the stored UTC wall time without offset, PostgreSQL an aware datetime.
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def to_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime: pass an aware datetime (UTC or Europe/Berlin)")
    return moment.astimezone(timezone.utc)


metadata = sa.MetaData()
requests_table = sa.Table(
    "callback_requests",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("reference", sa.String(16), nullable=False, unique=True),
    sa.Column("dedupe_key", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("office", sa.String(64), nullable=False),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("phone", sa.String(20)),  # None when the person is reached by e-mail or fax
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("preferred_time", sa.String(200)),
    sa.Column("alternative_contact", sa.String(300)),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("closed_at", UTCDateTime),
    sa.Column("contact_method", sa.String(8), nullable=False, server_default="phone"),
    sa.Column("email", sa.String(254)),
    sa.Column("fax", sa.String(20)),
)
# Added after the first release: created on start-up in older databases (see _migrate).
NEW_COLUMNS = ("contact_method", "email", "fax")


class Status(str, Enum):
    OPEN = "open"
    DONE = "done"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class NewRequest:
    """A request to store. `contact_method` says how the office answers: "phone" and "sms" use
    `phone` (E.164), "email" uses `email`, "fax" uses `fax` (E.164)."""

    office: str
    name: str
    phone: str | None = None
    reason: str = ""
    preferred_time: str | None = None
    alternative_contact: str | None = None  # free-text note ("bitte nur schriftlich")
    contact_method: str = "phone"
    email: str | None = None
    fax: str | None = None

    def __post_init__(self) -> None:
        if self.contact_method not in CONTACT_METHODS:
            raise ValueError(f"unknown contact method {self.contact_method!r}: one of {CONTACT_METHODS}")
        if not self.contact:
            raise ValueError(
                f"contact method {self.contact_method!r} needs {CONTACT_FIELD[self.contact_method]}"
            )
        if not self.reason:
            raise ValueError("a request needs a reason")

    @property
    def contact(self) -> str | None:
        """The phone number, e-mail address or fax number the office uses."""
        return getattr(self, CONTACT_FIELD[self.contact_method])

    def dedupe_key(self, conversation_id: str) -> str:
        """Same conversation, same content: the same request (a retried message stores nothing new)."""
        parts = [conversation_id, self.office, self.name, self.phone or "", self.reason]
        if (self.contact_method, self.email, self.fax) != ("phone", None, None):
            # Only then: keys of requests stored before contact methods existed stay the same.
            parts += [self.contact_method, self.email or "", self.fax or ""]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class StoredRequest:
    id: int
    reference: str
    created_at: datetime
    office: str
    name: str
    phone: str | None
    reason: str
    preferred_time: str | None
    alternative_contact: str | None
    status: str
    closed_at: datetime | None
    contact_method: str = "phone"
    email: str | None = None
    fax: str | None = None

    @property
    def contact(self) -> str | None:
        return getattr(self, CONTACT_FIELD.get(self.contact_method, "phone"))

    def as_json(self) -> dict:
        """UTC for machines, Europe/Berlin with its offset for the staff who read it."""
        data = asdict(self)
        data["contact"] = self.contact
        for field in ("created_at", "closed_at"):
            moment: datetime | None = getattr(self, field)
            data[field] = moment.astimezone(timezone.utc).isoformat() if moment else None
            data[f"{field}_local"] = moment.astimezone(BERLIN).isoformat() if moment else None
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


class CallbackStore:
    def __init__(self, url: str | None = None) -> None:
        self.engine = sa.create_engine(url or database_url(), future=True, pool_pre_ping=True)
        _migrate(self.engine)
        metadata.create_all(self.engine)

    def submit(self, request: NewRequest, conversation_id: str, now: datetime) -> tuple[str, bool]:
        """Commit the request; returns (reference, newly stored). Idempotent per conversation.
        `now` must be aware (the actions pass Europe/Berlin time); it is stored in UTC."""
        created_at = to_utc(now)
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
                    created_at=created_at,
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
        closed = to_utc(now) if status is not Status.OPEN else None
        with self.engine.begin() as connection:
            result = connection.execute(
                requests_table.update()
                .where(requests_table.c.reference == reference)
                .values(status=status.value, closed_at=closed)
            )
        return result.rowcount == 1

    def purge(self, now: datetime, days: int | None = None) -> int:
        """Delete done requests closed more than `days` (default: retention_days()) ago."""
        cutoff = to_utc(now) - timedelta(days=retention_days() if days is None else days)
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
    return StoredRequest(**{column: row[column] for column in StoredRequest.__dataclass_fields__})


# --- start-up migration of databases created before contact methods (no Alembic: one step) --------


def _migrate(engine: sa.engine.Engine) -> None:
    """Add the new columns and make `phone` nullable; does nothing on an up-to-date database."""
    inspector = sa.inspect(engine)
    if not inspector.has_table(requests_table.name):
        return
    columns = {column["name"]: column for column in inspector.get_columns(requests_table.name)}
    if all(name in columns for name in NEW_COLUMNS) and columns["phone"]["nullable"]:
        return
    if engine.dialect.name == "sqlite":
        _rebuild_sqlite_table(engine)
        return
    # PostgreSQL: both statements are idempotent, so servers starting together do no harm.
    with engine.begin() as connection:
        for name in NEW_COLUMNS:
            ddl = requests_table.c[name].type.compile(engine.dialect)
            default = " NOT NULL DEFAULT 'phone'" if name == "contact_method" else ""
            connection.execute(
                sa.text(f"ALTER TABLE {requests_table.name} ADD COLUMN IF NOT EXISTS {name} {ddl}{default}")
            )
        connection.execute(sa.text(f"ALTER TABLE {requests_table.name} ALTER COLUMN phone DROP NOT NULL"))


def _rebuild_sqlite_table(engine: sa.engine.Engine) -> None:
    """SQLite cannot drop NOT NULL: copy the rows into a new table, all in one transaction.

    The first release stored `created_at` on SQLite as Europe/Berlin wall time without offset
    (`closed_at` was UTC already); those values are converted to UTC on the way."""
    table = requests_table.name
    raw = engine.raw_connection()
    driver = raw.driver_connection
    previous, driver.isolation_level = driver.isolation_level, None  # our BEGIN then covers DDL too
    cursor = driver.cursor()
    try:
        cursor.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait, then see it done
        info = {row[1]: row for row in cursor.execute(f"PRAGMA table_info({table})")}
        if all(name in info for name in NEW_COLUMNS) and not info["phone"][3]:
            cursor.execute("COMMIT")
            return
        copied = ", ".join(column.name for column in requests_table.columns if column.name in info)
        cursor.execute(f"ALTER TABLE {table} RENAME TO {table}_old")
        for index in requests_table.indexes:
            cursor.execute(f"DROP INDEX IF EXISTS {index.name}")
        cursor.execute(str(sa.schema.CreateTable(requests_table).compile(engine)))
        for index in requests_table.indexes:
            cursor.execute(str(sa.schema.CreateIndex(index).compile(engine)))
        cursor.execute(f"INSERT INTO {table} ({copied}) SELECT {copied} FROM {table}_old")
        cursor.execute(f"DROP TABLE {table}_old")
        if "contact_method" not in info:  # written by the first release
            for row_id, stored in cursor.execute(f"SELECT id, created_at FROM {table}").fetchall():
                cursor.execute(
                    f"UPDATE {table} SET created_at = ? WHERE id = ?", (_berlin_to_utc(stored), row_id)
                )
        cursor.execute("COMMIT")
    except BaseException:
        if driver.in_transaction:
            cursor.execute("ROLLBACK")
        raise
    finally:
        driver.isolation_level = previous
        raw.close()


def _berlin_to_utc(stored: str) -> str:
    """'2026-11-23 10:30:00.000000' as Berlin wall time -> the same format in UTC."""
    try:
        wall = datetime.fromisoformat(stored).replace(tzinfo=BERLIN)
    except (TypeError, ValueError):
        return stored  # not written by this code: leave it as it is
    return wall.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")
