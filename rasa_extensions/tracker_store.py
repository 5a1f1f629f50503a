"""Rasa's SQL tracker store, with SQLite connections pooled and in WAL mode (endpoints.yml names it).

Why: Rasa loads and saves the tracker of every message on its event loop, synchronously. On SQLite, Rasa's
SQLTrackerStore opens a new connection for each of those (SQLAlchemy 1.4's NullPool for files) and commits
in SQLite's default rollback-journal mode with synchronous=FULL: several fsyncs per message, during which
the event loop serves nobody. Saving alone was a quarter of the Rasa server's time in issue 16's profile.
With write-ahead logging and synchronous=NORMAL a commit appends to the log and syncs only at checkpoints;
the database stays consistent after a crash, and at worst the last moments of conversations are lost on a
power cut (production uses PostgreSQL, which this class leaves exactly as Rasa makes it).

A supported extension point (a custom tracker store named by module path in endpoints.yml), no patch. The
console's read-only connection (`mode=ro`) reads a WAL database as before.
"""
from __future__ import annotations

import logging
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore

from knowledge.db import make_engine, make_session_factory

logger = logging.getLogger(__name__)


class WalSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore; on an SQLite file, a pool of WAL-mode connections instead of one per load and save."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
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
