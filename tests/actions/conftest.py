"""Fixtures for the action tests: the real domain, a seeded knowledge DB of each test's own that the actions
read, and tracker builders."""
from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional

import pytest
from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import sessionmaker

import actions.knowledge_access as knowledge_access
from knowledge.db import KnowledgeStore, make_engine, make_session_factory
from settings import PROJECT_ROOT

# The domain as Rasa sends it to the action server with every call.
DOMAIN: Dict[str, Any] = Domain.load(str(PROJECT_ROOT / "domain.yml")).as_dict()


@pytest.fixture
def knowledge_factory(seeded_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[sessionmaker]:
    """The actions' session factory, pointed at this test's own seeded knowledge DB."""
    engine = make_engine(seeded_db_url)
    factory = make_session_factory(engine)
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
    events = await action.run(dispatcher, tracker, DOMAIN)
    return dispatcher, events


def slots_set(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    """The slots an action's events set, by name (the context it leaves for a follow-up)."""
    return {event["name"]: event["value"] for event in events if event.get("event") == "slot"}


def responses(dispatcher: CollectingDispatcher) -> List[str]:
    """The response names the action sent, in order."""
    return [message.get("response") for message in dispatcher.messages]


def message(dispatcher: CollectingDispatcher, response: str) -> Dict[str, Any]:
    """The first message sent with this response name (its template values included)."""
    return next(item for item in dispatcher.messages if item.get("response") == response)
