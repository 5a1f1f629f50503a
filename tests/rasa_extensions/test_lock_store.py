"""The atomic Redis lock store (rasa_extensions/lock_store.py) on the machine's Redis, against Rasa's own.

Two store objects on one Redis stand for two Rasa servers. The race of RasaHQ/rasa#9213 is reproduced
deterministically: the second server issues its ticket at the moment the first is releasing the lock. Rasa's
store loses that ticket (the test saying so fails when an upgrade of Rasa fixes it, and this module can go); ours
keeps it. Then several threads, each its own store and event loop, take the lock for one conversation many
times at once: never two inside together, no message given up.
"""
from __future__ import annotations

import asyncio
import os
import secrets
import threading
import time
from typing import Iterator, List, Type

import pytest
from rasa.core.lock import TicketLock
from rasa.core.lock_store import RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from rasa_extensions.lock_store import AtomicRedisLockStore
from tests.unavailable import unavailable

REDIS_HOST = os.environ.get("TEST_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("TEST_REDIS_PORT", "6379"))
REDIS_DB = 15  # not the lock store's db 1 of a running stack


@pytest.fixture
def key_prefix() -> Iterator[str]:
    """A prefix of this test's own, its keys deleted afterwards."""
    import redis

    client = redis.StrictRedis(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, socket_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        unavailable(f"Redis is not reachable on {REDIS_HOST}:{REDIS_PORT} (CI starts it)")
    prefix = "xxtest" + secrets.token_hex(4)
    yield prefix
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


def _store(kind: Type[RedisLockStore], prefix: str) -> RedisLockStore:
    return kind(host=REDIS_HOST, port=REDIS_PORT, db=REDIS_DB, key_prefix=prefix)


def _release_while_the_other_server_issues_a_ticket(kind: Type[RedisLockStore], prefix: str,
                                                     monkeypatch: pytest.MonkeyPatch) -> RedisLockStore:
    """Server one holds the lock and releases it; server two issues a ticket in the middle of that release."""
    one, two = _store(kind, prefix), _store(kind, prefix)
    first = one.issue_ticket("farmer-1")
    original = TicketLock.remove_ticket_for
    interrupted = []

    def remove_while_two_issues(lock: TicketLock, number: int) -> None:
        original(lock, number)
        if not interrupted:
            interrupted.append(True)
            two.issue_ticket("farmer-1")

    monkeypatch.setattr(TicketLock, "remove_ticket_for", remove_while_two_issues)
    one.cleanup("farmer-1", first)
    monkeypatch.setattr(TicketLock, "remove_ticket_for", original)
    return two


def test_rasa_s_own_store_loses_a_ticket_issued_while_the_lock_is_released(
        key_prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # If this fails, Rasa fixed #9213 upstream: rasa_extensions/lock_store.py can be retired.
    two = _release_while_the_other_server_issues_a_ticket(RedisLockStore, key_prefix, monkeypatch)
    assert two.get_lock("farmer-1") is None


def test_a_ticket_issued_while_the_lock_is_released_survives(key_prefix: str, monkeypatch: pytest.MonkeyPatch) -> None:
    two = _release_while_the_other_server_issues_a_ticket(AtomicRedisLockStore, key_prefix, monkeypatch)
    lock = two.get_lock("farmer-1")
    assert lock is not None and lock.is_someone_waiting()
    assert not lock.is_locked(lock.last_issued)  # the second server's turn now


def test_rasa_builds_it_from_the_endpoint_config(key_prefix: str) -> None:
    config = EndpointConfig(url=REDIS_HOST, type="rasa_extensions.lock_store.AtomicRedisLockStore",
                            port=REDIS_PORT, db=REDIS_DB, key_prefix=key_prefix)
    from rasa.core.lock_store import LockStore

    store = LockStore.create(config)
    assert isinstance(store, AtomicRedisLockStore)
    assert store.key_prefix.startswith(key_prefix)
    ticket = store.issue_ticket("farmer-2")
    store.cleanup("farmer-2", ticket)
    assert store.get_lock("farmer-2") is None


def test_servers_taking_one_conversation_s_lock_at_once_take_turns(key_prefix: str) -> None:
    servers, turns = 4, 15
    inside: List[int] = [0]
    overlaps: List[int] = []
    errors: List[BaseException] = []
    guard = threading.Lock()

    async def serve(store: RedisLockStore) -> None:
        for _turn in range(turns):
            async with store.lock("farmer-3", lock_lifetime=30, wait_time_in_seconds=0.002):
                with guard:
                    inside[0] += 1
                    if inside[0] > 1:
                        overlaps.append(inside[0])
                time.sleep(0.002)  # a message being handled (blocking: the other threads run meanwhile)
                with guard:
                    inside[0] -= 1

    def server() -> None:
        try:
            asyncio.run(serve(_store(AtomicRedisLockStore, key_prefix)))
        except BaseException as error:  # noqa: BLE001 (reported by the assertion below)
            errors.append(error)

    threads = [threading.Thread(target=server) for _ in range(servers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [] and overlaps == []
    assert _store(AtomicRedisLockStore, key_prefix).get_lock("farmer-3") is None  # released by the last one
