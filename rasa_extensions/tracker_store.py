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

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

logger = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # The gateway anonymises old conversations in the same file now and then: wait for it, never fail.
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class WalSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore; on an SQLite file, a pool of WAL-mode connections instead of one per load and save."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Rasa sets the attribute in a way mypy cannot type.
        rasa_s_engine: Engine = self.engine  # type: ignore[has-type]
        url = rasa_s_engine.url
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return
        rasa_s_engine.dispose()
        # Rasa uses the store from its event loop's thread; check_same_thread is off only so that the pool may
        # hand a connection to whichever thread asks.
        self.engine = sa.create_engine(url, poolclass=QueuePool, pool_size=2, max_overflow=2,
                                       connect_args={"check_same_thread": False})
        event.listen(self.engine, "connect", _sqlite_pragmas)
        self.sessionmaker = sessionmaker(bind=self.engine)
        logger.debug("Tracker store on SQLite in WAL mode with pooled connections")
