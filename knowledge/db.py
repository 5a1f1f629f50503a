"""Engine and session factory for the knowledge database (SQLite by default, PostgreSQL in production)."""
from __future__ import annotations

import asyncio
import logging
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, TypeVar, cast

from sqlalchemy import Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool
from sqlalchemy.sql import Executable

from settings import load_settings

logger = logging.getLogger(__name__)

# Callers outside knowledge/ name a unit of work by this type and never import SQLAlchemy themselves.
__all__ = ["KnowledgeStore", "Session", "SessionFactory", "dry_run_scope", "insert_or_ignore", "insert_or_ignore_many",
           "make_engine", "make_session_factory", "open_store", "session_scope"]

T = TypeVar("T")
# What makes sessions, for the same reason.
SessionFactory = sessionmaker


def _enable_sqlite_pragmas(dbapi_connection, _record) -> None:
    # WAL lets the gateway, the action server and the console read while an import writes;
    # SQLite leaves foreign keys off unless every connection asks for them.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: Optional[str] = None, pool_size: Optional[int] = None) -> Engine:
    """Create an engine for the knowledge DB; the URL defaults to KNOWLEDGE_DB_URL.

    `pool_size`: connections kept open, as many as the threads that query at once (the action server's
    ACTIONS_CONCURRENCY); by default SQLAlchemy's 5. As many again may open beyond it for a burst, closed after.
    """
    url = url or load_settings().knowledge_db_url
    parsed = make_url(url)
    sizing: Dict[str, Any] = {} if pool_size is None else {"pool_size": pool_size, "max_overflow": pool_size}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        # SQLAlchemy 1.4 opens a new SQLite connection per checkout by default (NullPool); each new
        # connection also re-runs the pragmas below. A pool, as SQLAlchemy 2.0 uses for files,
        # saves that on every action request.
        pool: Dict[str, Any] = (
            {"poolclass": QueuePool, **sizing} if parsed.database and parsed.database != ":memory:" else {}
        )
        engine = create_engine(url, future=True, connect_args={"check_same_thread": False}, **pool)
        event.listen(engine, "connect", _enable_sqlite_pragmas)
    else:
        options: Dict[str, Any] = (
            {"executemany_mode": "values_plus_batch"} if parsed.get_driver_name() == "psycopg2" else {}
        )
        # Batched executemany (psycopg2's execute_values/execute_batch) for inserts and updates
        # alike: an import updating ten thousand prices would otherwise make ten thousand round trips.
        engine = create_engine(url, future=True, pool_pre_ping=True, **options, **sizing)
    logger.debug("Knowledge DB engine created for backend %s", parsed.get_backend_name())
    return engine


def make_session_factory(engine: Engine) -> sessionmaker:
    """A session factory bound to the engine, with 2.0-style behaviour."""
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def dry_run_scope(factory: sessionmaker) -> Iterator[Session]:
    """A session whose work is always rolled back: for checks that add rows they must not keep."""
    session = factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()


class KnowledgeStore:
    """The knowledge DB as a process uses it: one unit of work at a time (commit on success, roll back on error)."""

    def __init__(self, factory: sessionmaker) -> None:
        self._factory = factory

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work in the calling thread."""
        with session_scope(self._factory) as session:
            yield session

    def run_blocking(self, work: Callable[[Session], T]) -> T:
        """Run `work(session)` in one unit of work, in the calling thread."""
        with self.session() as session:
            return work(session)

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run `work(session)` in one unit of work in a worker thread, so an event loop keeps serving."""
        return await asyncio.to_thread(self.run_blocking, work)

    def dispose(self) -> None:
        """Close the pooled connections."""
        self._factory.kw["bind"].dispose()


def open_store(url: Optional[str] = None, pool_size: Optional[int] = None) -> KnowledgeStore:
    """A store on the knowledge DB at `url` (default: KNOWLEDGE_DB_URL), `pool_size` connections kept open."""
    return KnowledgeStore(make_session_factory(make_engine(url, pool_size=pool_size)))


# SQLite has no decimal type; prices are stored to 4 places, well within a double's precision.
warnings.filterwarnings("ignore", message=r".*does \*not\* support Decimal objects natively")


def insert_or_ignore_many(
    session: Session, table: Table, rows: List[Dict[str, Any]], key_columns: List[str]
) -> int:
    """INSERT rows, skipping those whose unique key exists (SQLite and PostgreSQL); returns how many were inserted.

    Safe when several processes insert the same key at once: the database, not a prior SELECT, decides.
    """
    if not rows:
        return 0
    builder = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = builder(table).values(rows).on_conflict_do_nothing(index_elements=key_columns)
    return count_changed_rows(session, statement)


def count_changed_rows(session: Session, statement: Executable) -> int:
    """Execute an INSERT, UPDATE or DELETE; returns how many rows it changed."""
    # Session.execute is typed as returning a Result; for these statements it is a CursorResult, which counts.
    return cast(CursorResult, session.execute(statement)).rowcount


def insert_or_ignore(session: Session, table: Table, values: Dict[str, Any], key_columns: List[str]) -> bool:
    """INSERT one row unless one with the same unique key exists; True when inserted."""
    return insert_or_ignore_many(session, table, [values], key_columns) == 1


def create_database_if_missing(url: str) -> bool:
    """Create the PostgreSQL database `url` names unless it exists (`make run-scaled`); True when created."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return False
    admin = create_engine(parsed.set(database="postgres"), future=True, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                       {"name": parsed.database})
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
            return not exists
    finally:
        admin.dispose()
