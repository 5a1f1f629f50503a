"""The tracker reader on PostgreSQL (Rasa's production tracker store): the same conversations, written by
Rasa's SQLTrackerStore, read through a read-only session. Skipped without PostgreSQL; a failure under CI."""
from __future__ import annotations

import asyncio
from typing import Iterator

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from knowledge.conversations.tracker import ConversationFilter, TrackerReader
from scripts.demo_conversations import conversations
from tests.postgres import PostgresServer

pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres_tracker(postgres_server: PostgresServer) -> Iterator[str]:
    """A throwaway PostgreSQL database holding the test conversations, written by Rasa; yields its URL."""
    with postgres_server.throwaway("xx_tracker_test") as created:
        url = make_url(created)
        store = SQLTrackerStore(dialect="postgresql", host=url.host, port=url.port, db=url.database,
                                username=url.username)

        async def save_all() -> None:
            for sender_id, events in conversations().items():
                await store.save(DialogueStateTracker.from_events(sender_id, events))

        asyncio.run(save_all())
        store.engine.dispose()
        yield created


def test_filters_and_transcripts_on_postgresql(postgres_tracker: str) -> None:
    reader = TrackerReader(postgres_tracker)
    try:
        assert reader.count_conversations(ConversationFilter()) == 3
        assert {item.sender_id for item in reader.conversations(ConversationFilter(confidence_below=0.6))} == {
            "web-5f3a", "tg-2002"}
        assert reader.count_conversations(ConversationFilter(fell_back=True, channel="web")) == 1
        summaries = {item.sender_id: item for item in reader.conversations(ConversationFilter())}
        assert summaries["web-5f3a"].lowest_confidence == pytest.approx(0.31)
        assert summaries["web-5f3a"].handed_off and summaries["web-5f3a"].fallbacks == 1
        assert [entry.kind for entry in reader.transcript("tg-1001")][:2] == ["user", "bot"]
        with pytest.raises(DBAPIError, match="read-only"), reader.engine.begin() as connection:
            connection.execute(text("DELETE FROM events"))
    finally:
        reader.close()
