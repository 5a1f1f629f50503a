"""Tracker stores for tests, written by Rasa's own SQLTrackerStore (SQLite or PostgreSQL), and their raw rows."""
from __future__ import annotations

import asyncio
from typing import Dict, List

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Row, make_url


def _rasa_store(url: str) -> SQLTrackerStore:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return SQLTrackerStore(dialect="sqlite", db=parsed.database)
    return SQLTrackerStore(dialect="postgresql", host=parsed.host, port=parsed.port, db=parsed.database,
                           username=parsed.username)


async def save_conversations(url: str, conversations: Dict[str, List[Event]]) -> None:
    """Write each sender's events into the tracker store at `url`, as Rasa does."""
    store = _rasa_store(url)
    try:
        for sender_id, events in conversations.items():
            await store.save(DialogueStateTracker.from_events(sender_id, events))
    finally:
        store.engine.dispose()


def write_conversations(url: str, conversations: Dict[str, List[Event]]) -> None:
    """`save_conversations` outside an event loop."""
    asyncio.run(save_conversations(url, conversations))


def raw_events(url: str) -> List[Row]:
    """Every row of the tracker store's events table, in order."""
    engine = create_engine(url, future=True)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(
                "SELECT id, sender_id, type_name, timestamp, intent_name, action_name, data FROM events ORDER BY id")))
    finally:
        engine.dispose()
