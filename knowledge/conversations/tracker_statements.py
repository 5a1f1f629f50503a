"""The statements our Rasa tracker store (rasa_extensions/tracker_store.py) runs on Rasa's `events` table, built
once per store: Rasa's own SQLTrackerStore builds ORM queries anew on every load and save of a conversation.

They select what Rasa's `SQLTrackerStore._event_query` selects (a sender's events since its latest
SessionStarted, or all of them when it has none; or every session's for the full tracker; by id) and insert the
rows its `save` inserts. SQLAlchemy stays in knowledge/ (tests/test_import_contracts.py); the store executes
them in Rasa's own sessions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

SESSION_STARTED = "session_started"  # rasa.shared.core.events.SessionStarted.type_name


@dataclass(frozen=True)
class TrackerStatements:
    """Each takes the parameter `sender_id`, except `insert_event` (one dict of column values per row)."""

    stored_count: Any  # how many events of the latest session are stored
    latest_session_events: Any  # their `data` column, by id
    all_events: Any  # `data` of every session's events, by id
    insert_event: Any


def tracker_statements(events: sa.Table) -> TrackerStatements:
    """The statements for Rasa's `events` table (`SQLTrackerStore.SQLEvent.__table__`)."""
    sender = events.c.sender_id == sa.bindparam("sender_id")
    session_start = (sa.select(sa.func.max(events.c.timestamp))
                     .where(sender, events.c.type_name == SESSION_STARTED)
                     .scalar_subquery())
    latest_session = (sender, sa.or_(events.c.timestamp >= session_start, session_start.is_(None)))
    return TrackerStatements(
        stored_count=sa.select(sa.func.count()).select_from(events).where(*latest_session),
        latest_session_events=sa.select(events.c.data).where(*latest_session).order_by(events.c.id),
        all_events=sa.select(events.c.data).where(sender).order_by(events.c.id),
        insert_event=events.insert(),
    )
