"""Rasa's Redis lock store with every change of a lock made atomically (endpoints.production.yml names it).

Why: Rasa serialises the messages of one conversation with a ticket lock kept in Redis, but its RedisLockStore
changes a lock by reading it, changing it in Python and writing it back (issue a ticket, drop an expired one,
finish serving) and deletes it after checking, in a separate call, that nobody waits. With two Rasa servers
these steps interleave (RasaHQ/rasa#9213; the fix was reverted in #11428): a server that deletes the lock just
after the other issued a ticket leaves that one with no lock at all, and Rasa then gives up on the message
("Could not acquire lock", an empty answer), or two servers both hold the lock and save one conversation's
events over each other. `make test-scale` saw the empty answer once in 400 messages without sender affinity.

Each change here runs as a Redis transaction that watches the lock's key (WATCH/MULTI/EXEC, redis-py's
`Redis.transaction`, which retries when another server changed the key in between), so a change is made
on the lock as it is, never on a stale copy. The lock's format and keys stay Rasa's: servers with this store and
with Rasa's own can share a Redis, and sender affinity at the balancer (nginx) stays the first line.

A supported extension point (a custom lock store named by module path in endpoints.production.yml), no patch.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Callable, Optional, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

Result = TypeVar("Result")


class AtomicRedisLockStore(RedisLockStore):
    """RedisLockStore whose ticket issue, expiry, release and deletion are each one Redis transaction."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        # Rasa builds a lock store named by module path with the endpoint's config alone; tests pass keywords.
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)

    def _change(self, conversation_id: str, change: Callable[[Optional[TicketLock]], tuple[Optional[TicketLock],
                                                                                          Result]]) -> Result:
        """Apply `change` to the stored lock atomically: it gets the lock (None if there is none) and returns the
        lock to store (None deletes it) and a result; re-run when another server changed the key in between."""
        key = self.key_prefix + conversation_id
        outcome: list[Result] = []

        def transaction(pipe: Any) -> None:
            outcome.clear()
            serialised = pipe.get(key)  # immediate: the pipeline is in WATCH mode until multi()
            lock = TicketLock.from_dict(json.loads(serialised)) if serialised else None
            new_lock, result = change(lock)
            pipe.multi()
            if new_lock is None:
                if serialised:
                    pipe.delete(key)
            else:
                pipe.set(key, new_lock.dumps())
            outcome.append(result)

        self.red.transaction(transaction, key)
        return outcome[0]

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """A new ticket on the conversation's lock (created if there is none)."""

        def issue(lock: Optional[TicketLock]) -> tuple[TicketLock, int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        try:
            return self._change(conversation_id, issue)
        except Exception as error:  # Rasa's contract: any failure to get a ticket is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error

    def update_lock(self, conversation_id: str) -> None:
        """Drop the lock's expired tickets (what Rasa does between attempts to acquire it)."""

        def drop_expired(lock: Optional[TicketLock]) -> tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        """Remove the ticket; the lock stays (others may be waiting)."""

        def finish(lock: Optional[TicketLock]) -> tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._change(conversation_id, finish)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Remove the ticket, and the lock with it when nobody else holds a ticket, in one step (Rasa's own
        checks and deletes in two, and a ticket issued in between is deleted with the lock)."""

        def release(lock: Optional[TicketLock]) -> tuple[Optional[TicketLock], None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        self._change(conversation_id, release)

