"""Anonymising farmers' messages in Rasa's tracker store: the one place where our code writes Rasa's `events` table.

Everything else (the console, the dashboard) reads the store read-only (knowledge.conversations.tracker). This
writer changes only the JSON of events that can hold personal data, and a forgotten farmer's sender id; it never
deletes a row, so the statistics (messages per day, intents, fallbacks, handoffs) keep their counts.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, List, Optional

from sqlalchemy import bindparam, create_engine, select, update
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import OperationalError, ProgrammingError

from knowledge.conversations.tracker import EVENTS
from knowledge.privacy.events import PERSONAL_EVENT_TYPES, anonymised_event

logger = logging.getLogger(__name__)

BATCH = 500


def _is_missing_table(error: Exception) -> bool:
    text = str(error)
    return "events" in text and ("no such table" in text or "does not exist" in text)


class TrackerWriter:
    """Anonymises events in the tracker store at `url`; a store Rasa has not created yet is left alone."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Optional[Engine] = None

    @property
    def engine(self) -> Optional[Engine]:
        """The engine, once the tracker database exists (a SQLite file is never created here)."""
        if self._engine is None:
            parsed = make_url(self.url)
            if parsed.get_backend_name() == "sqlite":
                path = parsed.database or ""
                if not path or path == ":memory:" or not Path(path).exists():
                    return None
                # Rasa writes the same file: wait for its short write locks rather than fail.
                self._engine = create_engine(self.url, future=True,
                                             connect_args={"check_same_thread": False, "timeout": 30})
            else:
                self._engine = create_engine(self.url, future=True, pool_pre_ping=True)
        return self._engine

    def close(self) -> None:
        """Release the connection pool."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    @staticmethod
    def _rewrite(connection: Connection, rows: List[Any]) -> int:
        changes = []
        for row in rows:
            try:
                event = json.loads(row.data or "{}")
            except ValueError:
                event = None
            if not isinstance(event, dict):
                continue  # not an event Rasa could read back either; left as it is
            anonymised = anonymised_event(event)
            if anonymised != event:
                changes.append({"event_id": row.id, "new_data": json.dumps(anonymised)})
        if changes:
            connection.execute(
                update(EVENTS).where(EVENTS.c.id == bindparam("event_id")).values(data=bindparam("new_data")),
                changes,
            )
        return len(changes)

    def anonymise_between(self, since: Optional[float], until: float) -> int:
        """Anonymise every event from `since` (Unix seconds; None: the beginning) until before `until`.

        Walks the table in id order, a batch per transaction, so Rasa is never blocked for long and an
        interrupted run loses nothing (the next one passes over the done rows without changing them).
        Returns how many events changed.
        """
        engine = self.engine
        if engine is None:
            return 0
        conditions = [EVENTS.c.type_name.in_(PERSONAL_EVENT_TYPES), EVENTS.c.timestamp < until]
        if since is not None:
            conditions.append(EVENTS.c.timestamp >= since)
        changed, last_id = 0, 0
        try:
            while True:
                with engine.begin() as connection:
                    rows = list(connection.execute(
                        select(EVENTS.c.id, EVENTS.c.data).where(EVENTS.c.id > last_id, *conditions)
                        .order_by(EVENTS.c.id).limit(BATCH)
                    ))
                    if not rows:
                        return changed
                    changed += self._rewrite(connection, rows)
                last_id = rows[-1].id
        except (OperationalError, ProgrammingError) as error:
            if _is_missing_table(error):
                return changed  # Rasa has not created its table yet
            raise

    def move_and_anonymise(self, sender_id: str, new_sender_id: str) -> int:
        """Give the conversation `sender_id` the id `new_sender_id` and anonymise all its events (one transaction).

        Returns how many events were moved. The farmer's next message starts a new conversation.
        """
        engine = self.engine
        if engine is None:
            return 0
        try:
            with engine.begin() as connection:
                moved = connection.execute(
                    update(EVENTS).where(EVENTS.c.sender_id == sender_id).values(sender_id=new_sender_id)
                ).rowcount
                rows = list(connection.execute(
                    select(EVENTS.c.id, EVENTS.c.data)
                    .where(EVENTS.c.sender_id == new_sender_id, EVENTS.c.type_name.in_(PERSONAL_EVENT_TYPES))
                ))
                self._rewrite(connection, rows)
                return moved
        except (OperationalError, ProgrammingError) as error:
            if _is_missing_table(error):
                return 0
            raise
