"""The tracker store endpoints.yml names (rasa_extensions/tracker_store.py): Rasa builds it from the file, it keeps
conversations as Rasa's SQL store does, in a WAL-mode SQLite file the console still reads read-only."""
from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterator

import pytest
import yaml
from rasa.core.tracker_store import SQLTrackerStore, TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from knowledge.conversations.tracker import ConversationFilter, TrackerReader
from rasa_extensions.tracker_store import FastSQLTrackerStore
from settings import PROJECT_ROOT

DOMAIN = Domain.load(str(PROJECT_ROOT / "domain.yml"))


def _store_from_endpoints(db: Path) -> TrackerStore:
    """The tracker store Rasa makes from endpoints.yml's tracker_store section, on the file `db`."""
    config = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text(encoding="utf-8"))["tracker_store"]
    config["db"] = str(db)
    return TrackerStore.create(EndpointConfig.from_dict(config), domain=DOMAIN)


def _conversation(sender: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, [
        ActionExecuted("action_listen"),
        UserUttered("玉米多少钱一斤", {"name": "ask_price", "confidence": 0.98}),
        SlotSet("product", "玉米"),
        ActionExecuted("action_answer_price"),
        BotUttered("玉米 2.80 元/斤"),
        ActionExecuted("action_listen"),
    ], slots=DOMAIN.slots)


async def test_endpoints_yml_gives_rasa_the_wal_store_not_its_in_memory_fallback(tmp_path: Path) -> None:
    # Rasa falls back to an in-memory store, with only a warning, when a custom type does not import.
    store = _store_from_endpoints(tmp_path / "tracker.db")
    assert isinstance(store, FastSQLTrackerStore)
    store.engine.dispose()


async def test_conversations_are_kept_as_by_rasa_s_own_store_in_a_wal_file(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    store = _store_from_endpoints(db)
    tracker = _conversation("web-1")
    await store.save(tracker)
    tracker.update(UserUttered("谢谢", {"name": "thank", "confidence": 0.99}))
    await store.save(tracker)  # only the new event is added
    ours = await store.retrieve("web-1")
    store.engine.dispose()

    rasa_s_own = SQLTrackerStore(dialect="sqlite", db=str(db), domain=DOMAIN)
    theirs = await rasa_s_own.retrieve("web-1")
    rasa_s_own.engine.dispose()
    assert ours is not None and theirs is not None
    assert [event.as_dict() for event in ours.events] == [event.as_dict() for event in tracker.events]
    assert [event.as_dict() for event in theirs.events] == [event.as_dict() for event in tracker.events]
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


async def test_the_console_reads_it_read_only_while_rasa_writes(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    store = _store_from_endpoints(db)
    await store.save(_conversation("tg-1"))
    reader = TrackerReader(f"sqlite:///{db}")
    try:
        assert [summary.sender_id for summary in reader.conversations(ConversationFilter())] == ["tg-1"]
        await store.save(_conversation("tg-2"))
        assert {summary.sender_id for summary in reader.conversations(ConversationFilter())} == {"tg-1", "tg-2"}
    finally:
        reader.close()
        store.engine.dispose()
    reader = TrackerReader(f"sqlite:///{db}")  # and after Rasa stopped (the WAL file checkpointed away)
    try:
        assert len(reader.conversations(ConversationFilter())) == 2
    finally:
        reader.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FastSQLTrackerStore]:
    """Our store as endpoints.yml (SQLite) and endpoints.production.yml (PostgreSQL) make it."""
    if request.param == "sqlite":
        made = _store_from_endpoints(tmp_path / "tracker.db")
        assert isinstance(made, FastSQLTrackerStore)
        yield made
        made.engine.dispose()
        return
    server = request.getfixturevalue("postgres_server")
    with server.throwaway("xx_tracker_store") as url:
        base = server.base_url
        made = FastSQLTrackerStore(dialect="postgresql", host=base.host or "127.0.0.1", port=base.port or 5432,
                                  db=url.rsplit("/", 1)[1], username=base.username or "postgres",
                                  password=base.password or "", domain=DOMAIN)
        yield made
        made.engine.dispose()


async def test_loading_and_saving_read_the_events_rasa_s_own_queries_read(store: FastSQLTrackerStore) -> None:
    no_session = _conversation("web-2")
    with_sessions = DialogueStateTracker.from_events("web-3", [
        ActionExecuted("action_session_start"), SessionStarted(timestamp=100.0), ActionExecuted("action_listen"),
        UserUttered("你好", {"name": "greet", "confidence": 0.99}, timestamp=101.0),
        ActionExecuted("action_session_start", timestamp=200.0), SessionStarted(timestamp=200.0),
        ActionExecuted("action_listen", timestamp=200.5),
    ], slots=DOMAIN.slots)
    await store.save(with_sessions)
    latest_session = await store.retrieve("web-3")  # as Rasa loads it for the next message
    assert latest_session is not None
    for tracker in (no_session, latest_session):
        await store.save(tracker)
        tracker.update(UserUttered("谢谢", {"name": "thank", "confidence": 0.99}, timestamp=300.0))
        with store.session_scope() as session:
            ours = list(store._additional_events(session, tracker))
            rasa_s = list(SQLTrackerStore._additional_events(store, session, tracker))
        assert [event.as_dict() for event in ours] == [event.as_dict() for event in rasa_s]
        assert [event.as_dict()["text"] for event in ours] == ["谢谢"]
        await store.save(tracker)
        with store.session_scope() as session:
            assert list(store._additional_events(session, tracker)) == []
    for sender in ("web-2", "web-3", "nobody"):
        for every_session in (False, True):
            ours_loaded = await store._retrieve(sender, every_session)
            rasa_s_loaded = await SQLTrackerStore._retrieve(store, sender, every_session)
            assert (ours_loaded is None) == (rasa_s_loaded is None) == (sender == "nobody")
            if ours_loaded is not None and rasa_s_loaded is not None:
                assert ([e.as_dict() for e in ours_loaded.events]
                        == [e.as_dict() for e in rasa_s_loaded.events])
    retrieved = await store.retrieve("web-3")
    assert retrieved is not None and [e.text for e in retrieved.events if isinstance(e, UserUttered)] == ["谢谢"]
    full = await store.retrieve_full_tracker("web-3")
    assert full is not None and [e.text for e in full.events if isinstance(e, UserUttered)] == ["你好", "谢谢"]


async def test_saving_writes_the_rows_rasa_s_own_store_writes(tmp_path: Path) -> None:
    ours = _store_from_endpoints(tmp_path / "ours.db")
    rasa_s_own = SQLTrackerStore(dialect="sqlite", db=str(tmp_path / "rasa.db"), domain=DOMAIN)
    tracker = _conversation("tg-9")
    for store in (ours, rasa_s_own):
        await store.save(tracker)
    tracker.update(UserUttered("谢谢", {"name": "thank", "confidence": 0.99}, timestamp=300.0))
    tracker.update(ActionExecuted("utter_thank", timestamp=300.5))
    for store in (ours, rasa_s_own):
        await store.save(tracker)
        store.engine.dispose()
    columns = "sender_id, type_name, timestamp, intent_name, action_name, data"
    with sqlite3.connect(tmp_path / "ours.db") as first, sqlite3.connect(tmp_path / "rasa.db") as second:
        written = [connection.execute(f"SELECT {columns} FROM events ORDER BY id").fetchall()  # noqa: S608
                   for connection in (first, second)]
    assert len(written[0]) == 8 and written[0] == written[1]


def test_the_statements_name_rasa_s_session_start_event() -> None:
    from knowledge.conversations.tracker_statements import SESSION_STARTED

    assert SessionStarted.type_name == SESSION_STARTED
