"""Rasa's SQL tracker store, faster: statements built once and, on SQLite, pooled WAL-mode connections (endpoints.yml
and endpoints.production.yml name it).

Why: Rasa loads and saves the tracker of every message on its event loop, synchronously. On SQLite, Rasa's
SQLTrackerStore opens a new connection for each of those (SQLAlchemy 1.4's NullPool for files) and commits
in SQLite's default rollback-journal mode with synchronous=FULL: several fsyncs per message, during which
the event loop serves nobody. Saving alone was a quarter of the Rasa server's time in issue 16's profile.
With write-ahead logging and synchronous=NORMAL a commit appends to the log and syncs only at checkpoints;
the database stays consistent after a crash, and at worst the last moments of conversations are lost on a
power cut. On PostgreSQL (production) the engine stays exactly as Rasa makes it.

A supported extension point (a custom tracker store named by module path in endpoints.yml), no patch. The
console's read-only connection (`mode=ro`) reads a WAL database as before.

Loading and saving also read and write the events with statements built once, instead of Rasa's ORM queries
built anew on every call (`_event_query`, then `.all()` into ORM objects to load, `.count()` and one ORM object
per new event to save): building them and the ORM's bookkeeping were 6% (loading) and 12% (saving) of the Rasa
server's CPU per message, the database's own work a small part of it (py-spy, issue 16). The rows written are
Rasa's own (the same columns and values as SQLTrackerStore.save); the rows read are those Rasa's `_event_query`
selects: the sender's events since its latest SessionStarted (all of them if none, or all sessions for the full
tracker), by id. tests/rasa_extensions/test_tracker_store.py compares both with Rasa's own.
"""
from __future__ import annotations

import itertools
import json
import logging
from typing import Any, Iterator, Optional

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from knowledge.conversations.tracker_statements import tracker_statements
from knowledge.db import make_engine, make_session_factory

logger = logging.getLogger(__name__)


class FastSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore with statements built once; on an SQLite file, a pool of WAL-mode connections instead of one
    per load and save."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._statements = tracker_statements(self.SQLEvent.__table__)
        rasa_s_engine = self.engine  # type: ignore[has-type]  # set by Rasa in a way mypy cannot type
        url = rasa_s_engine.url
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return
        rasa_s_engine.dispose()
        # The knowledge DB's engine for SQLite files (knowledge/db.py): pooled connections, each in WAL mode with
        # synchronous=NORMAL and a busy timeout (the gateway anonymises old conversations in the same file now
        # and then: Rasa waits for it rather than fail). Rasa uses the store from its event loop's thread.
        self.engine = make_engine(str(url), pool_size=2)
        self.sessionmaker = make_session_factory(self.engine)
        logger.debug("Tracker store on SQLite in WAL mode with pooled connections")

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> Optional[DialogueStateTracker]:
        """The sender's tracker from its events (its latest session's, or all), None when it has none."""
        statements = self._statements
        statement = statements.all_events if fetch_events_from_all_sessions else statements.latest_session_events
        with self.session_scope() as session:
            rows = session.execute(statement, {"sender_id": sender_id}).scalars().all()
        if not self.domain or not rows:
            logger.debug("No tracker for sender id '%s' in the SQL store", sender_id)
            return None
        return DialogueStateTracker.from_dict(sender_id, [json.loads(data) for data in rows], self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the tracker's new events: Rasa's rows (SQLTrackerStore.save), in one INSERT without ORM objects."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            rows = []
            for event in self._additional_events(session, tracker):
                data = event.as_dict()
                rows.append({"sender_id": tracker.sender_id, "type_name": event.type_name,
                             "timestamp": data.get("timestamp"), "action_name": data.get("name"),
                             "intent_name": data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                             "data": json.dumps(data)})
            if rows:
                session.execute(self._statements.insert_event, rows)
            session.commit()

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        """The tracker's events not stored yet (those after the stored ones of its latest session)."""
        stored = session.execute(self._statements.stored_count, {"sender_id": tracker.sender_id}).scalar_one()
        return itertools.islice(tracker.events, stored, len(tracker.events))

