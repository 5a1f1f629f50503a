"""The tracker reader on PostgreSQL (Rasa's production tracker store): the same conversations, written by
Rasa's SQLTrackerStore, read through a read-only session. Skipped without PostgreSQL; a failure under CI."""
from __future__ import annotations

import asyncio
import os
import uuid
from typing import Iterator

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from console.tracker import ConversationFilter, TrackerReader
from tests.console.browser import under_ci
from tests.console.tracker_data import conversations

ADMIN_URL = os.environ.get("KNOWLEDGE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
pytestmark = pytest.mark.postgres


@pytest.fixture
def postgres_tracker() -> Iterator[str]:
    """A throwaway PostgreSQL database holding the test conversations; yields its URL."""
    admin = create_engine(ADMIN_URL, future=True, isolation_level="AUTOCOMMIT")
    name = f"xx_tracker_test_{uuid.uuid4().hex[:8]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # any driver or network error means "not available"
        admin.dispose()
        if under_ci():
            pytest.fail(f"PostgreSQL at {ADMIN_URL} is not reachable: {error}")
        pytest.skip(f"PostgreSQL at {ADMIN_URL} is not reachable: {error}")
    url = make_url(ADMIN_URL).set(database=name)
    store = SQLTrackerStore(dialect="postgresql", host=url.host, port=url.port, db=name, username=url.username)

    async def save_all() -> None:
        for sender_id, events in conversations().items():
            await store.save(DialogueStateTracker.from_events(sender_id, events))

    asyncio.run(save_all())
    store.engine.dispose()
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                               {"n": name})
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


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
