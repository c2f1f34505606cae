"""Rasa's RedisLockStore, safe when several Rasa servers share one Redis.

Rasa 3.6's RedisLockStore reads a conversation's ticket lock, changes it and writes it back in
separate steps. Two servers that get a message of the same conversation at the same moment can both
draw the same ticket, run at the same time and lose events (RasaHQ/rasa#9213; the fix went to Rasa
Pro only). Here every read-modify-write of a ticket lock runs under a short Redis mutex (SET NX with
an expiry), so the ticket queue itself stays Rasa's.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

MUTEX_TIMEOUT_S = 5.0  # a server that dies while holding the mutex blocks others for at most this long


class AtomicRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
        for number in ("port", "db"):
            if number in kwargs and kwargs[number] not in (None, ""):
                kwargs[number] = int(kwargs[number])
        super().__init__(**kwargs)

    @contextmanager
    def _mutex(self, conversation_id: str) -> Iterator[None]:
        mutex = self.red.lock(
            f"{self.key_prefix}mutex:{conversation_id}",
            timeout=MUTEX_TIMEOUT_S,
            blocking_timeout=MUTEX_TIMEOUT_S,
            sleep=0.005,
        )
        with mutex:
            yield

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        with self._mutex(conversation_id):
            return super().issue_ticket(conversation_id, lock_lifetime)

    def update_lock(self, conversation_id: str) -> None:
        with self._mutex(conversation_id):
            super().update_lock(conversation_id)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            super().finish_serving(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            # The parent's steps, not the overrides above: the mutex is not re-entrant.
            super().finish_serving(conversation_id, ticket_number)
            lock: TicketLock | None = self.get_lock(conversation_id)
            if lock is None or not lock.is_someone_waiting():
                self.delete_lock(conversation_id)
