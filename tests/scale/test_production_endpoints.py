"""endpoints.production.yml through Rasa's own loaders: the PostgreSQL tracker store and the Redis lock store that
`rasa run --endpoints endpoints.production.yml` builds as it starts (a full server with it is started in
tests/integration/test_production_endpoints.py, which needs the trained model)."""
from __future__ import annotations

import asyncio
import os
from typing import Iterator

import pytest
from rasa.core.lock_store import LockStore
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from rasa_extensions.lock_store import AtomicRedisLockStore
from rasa_extensions.tracker_store import FastSQLTrackerStore
from settings import PROJECT_ROOT
from tests.postgres import PostgresServer

ENDPOINTS = PROJECT_ROOT / "endpoints.production.yml"


@pytest.fixture
def production_environment(postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The environment endpoints.production.yml reads, on a throwaway tracker database; yields its name."""
    with postgres_server.throwaway("xx_tracker_prod") as url:
        name = url.rsplit("/", 1)[1]
        base = postgres_server.base_url
        for variable, value in {
            "ACTION_SERVER_URL": "http://127.0.0.1:5055/webhook", "TRACKER_DB_HOST": base.host or "127.0.0.1",
            "TRACKER_DB_PORT": str(base.port or 5432), "TRACKER_DB_NAME": name,
            "TRACKER_DB_USER": base.username or "postgres", "TRACKER_DB_PASSWORD": base.password or "",
            "REDIS_HOST": os.environ.get("TEST_REDIS_HOST", "127.0.0.1"),
            "REDIS_PORT": os.environ.get("TEST_REDIS_PORT", "6379"),
        }.items():
            monkeypatch.setenv(variable, value)
        yield name


@pytest.mark.postgres
def test_rasa_builds_the_postgres_tracker_store_and_redis_lock_store(production_environment: str) -> None:
    tracker_config = read_endpoint_config(str(ENDPOINTS), "tracker_store")
    lock_config = read_endpoint_config(str(ENDPOINTS), "lock_store")
    assert tracker_config is not None and lock_config is not None
    # Every ${VAR} expanded: a quoted one stays "${TRACKER_DB_PORT}" ("cannot be cast to integer").
    assert str(tracker_config.kwargs["port"]) == os.environ["TRACKER_DB_PORT"]
    assert "${" not in repr(tracker_config.kwargs) + repr(lock_config.kwargs) + str(lock_config.url)
    store = TrackerStore.create(tracker_config, Domain.empty())
    assert isinstance(store, FastSQLTrackerStore)
    lock_store = LockStore.create(lock_config)
    assert isinstance(lock_store, AtomicRedisLockStore)
    assert lock_store.key_prefix.startswith("xiangxin")

    async def round_trip() -> DialogueStateTracker:
        tracker = DialogueStateTracker("tg-1", slots=[])
        tracker.update(UserUttered("玉米多少钱"))
        await store.save(tracker)
        loaded = await store.retrieve("tg-1")
        assert loaded is not None
        return loaded

    loaded = asyncio.run(round_trip())
    assert [event.text for event in loaded.events if isinstance(event, UserUttered)] == ["玉米多少钱"]
    store.engine.dispose()
