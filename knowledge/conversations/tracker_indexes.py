"""Indexes on Rasa's tracker store for what the console asks of it (conversation lists by time, intents, per
sender), which Rasa's SQLTrackerStore does not create (it indexes sender_id alone). `python -m knowledge
tracker-indexes` adds them, once, on SQLite or PostgreSQL; `make run-scaled` runs it. The database user needs
CREATE on Rasa's table (the gateway's user, not the console's read-only one)."""
from __future__ import annotations

import logging
from typing import List, Tuple

from sqlalchemy import create_engine, inspect, text

logger = logging.getLogger(__name__)

# name → columns of Rasa's `events` table.
TRACKER_INDEXES: Tuple[Tuple[str, str], ...] = (
    ("ix_events_type_name_timestamp", "type_name, timestamp"),  # dashboards and lists: user messages since …
    ("ix_events_sender_id_timestamp", "sender_id, timestamp"),  # a conversation's last activity
    ("ix_events_intent_name", "intent_name"),  # the review's intent filter
)


def add_tracker_indexes(url: str) -> List[str]:
    """Create the missing indexes on the tracker store at `url`; returns their names (none when no `events` yet)."""
    engine = create_engine(url, future=True)
    try:
        inspector = inspect(engine)
        if "events" not in inspector.get_table_names():
            logger.info("The tracker store has no events table yet (Rasa creates it on start); no index added")
            return []
        existing = {index["name"] for index in inspector.get_indexes("events")}
        added = []
        with engine.begin() as connection:
            for name, columns in TRACKER_INDEXES:
                if name not in existing:
                    connection.execute(text(f"CREATE INDEX IF NOT EXISTS {name} ON events ({columns})"))
                    added.append(name)
        return added
    finally:
        engine.dispose()
