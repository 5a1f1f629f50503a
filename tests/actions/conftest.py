"""Fixtures for the action tests: a seeded SQLite knowledge DB the actions read, and tracker builders."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import sessionmaker

import actions.knowledge_access as knowledge_access
from knowledge import migrate
from knowledge.db import KnowledgeStore, make_engine, make_session_factory, session_scope
from knowledge.seed import seed

SEED_TODAY = dt.date(2026, 11, 22)


@pytest.fixture
def knowledge_factory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sessionmaker]:
    """A fresh migrated and seeded knowledge DB per test; the actions' session factory points at it."""
    engine = make_engine(f"sqlite:///{tmp_path / 'knowledge.db'}")
    migrate.upgrade(engine)
    factory = make_session_factory(engine)
    with session_scope(factory) as session:
        seed(session, today=SEED_TODAY)
    monkeypatch.setattr(knowledge_access, "_store", lambda: KnowledgeStore(factory))
    yield factory
    engine.dispose()


def make_tracker(
    intent: str = "ask_price",
    entities: Optional[List[Dict[str, Any]]] = None,
    slots: Optional[Dict[str, Any]] = None,
    text: str = "",
    events: Optional[List[Dict[str, Any]]] = None,
    sender_id: str = "farmer-1",
    metadata: Optional[Dict[str, Any]] = None,
) -> Tracker:
    """A tracker whose latest message has this intent, entities and text."""
    latest = {
        "intent": {"name": intent, "confidence": 0.99},
        "entities": [{"entity": name, "value": value} for name, value in (entities or [])],
        "text": text,
        "metadata": metadata or {},
    }
    history = list(events or []) + [{"event": "user", "text": text, "parse_data": latest, "timestamp": 1.0}]
    return Tracker(sender_id, slots or {}, latest, history, False, None, {}, "action_listen")


async def run_action(action: Any, tracker: Tracker) -> tuple[CollectingDispatcher, List[Dict[str, Any]]]:
    """Run one action with a fresh dispatcher; returns the dispatcher and the events."""
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, {})
    return dispatcher, events


def responses(dispatcher: CollectingDispatcher) -> List[str]:
    """The response names the action sent, in order."""
    return [message.get("response") for message in dispatcher.messages]


def message(dispatcher: CollectingDispatcher, response: str) -> Dict[str, Any]:
    """The first message sent with this response name (its template values included)."""
    return next(item for item in dispatcher.messages if item.get("response") == response)
