"""Knowledge-base fixtures: every test runs on SQLite and on PostgreSQL.

PostgreSQL is the server on 127.0.0.1:5432 (trust auth; KNOWLEDGE_TEST_PG_URL overrides the admin
URL). The suite creates its own throwaway databases there and drops them afterwards: one seeded
template per test session, and a copy of it per test (CREATE DATABASE … TEMPLATE is much faster
than migrating and seeding again). Under CI (CI=true) a PostgreSQL that cannot be reached fails the
run; on a developer machine those tests are skipped.
"""
from __future__ import annotations

import datetime as dt
import itertools
import os
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager, Iterator, Optional

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from knowledge import migrate
from knowledge.db import make_engine, make_session_factory, session_scope
from knowledge.seed import seed

# Seed data is dated; every test that looks at "today" (staleness, future dates) uses this one.
TODAY = dt.date(2026, 11, 22)
PG_ADMIN_URL = os.environ.get("KNOWLEDGE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
_RUN_ID = uuid.uuid4().hex[:8]
_counter = itertools.count()


def _under_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


@dataclass
class KnowledgeDB:
    """One throwaway knowledge database: its URL, engine and session factory."""

    backend: str
    url: str
    engine: Engine
    factory: sessionmaker

    def session(self) -> Session:
        """A new session; the test closes it (or uses `scope`)."""
        return self.factory()

    @contextmanager
    def scope(self) -> Iterator[Session]:
        """A committed unit of work, as the CLI and the console use one."""
        with session_scope(self.factory) as session:
            yield session


class PostgresServer:
    """Creates and drops the suite's databases on the local PostgreSQL server."""

    def __init__(self, admin_url: str) -> None:
        self.admin = create_engine(admin_url, future=True, isolation_level="AUTOCOMMIT")
        self.base_url = make_url(admin_url)

    def url(self, name: str) -> str:
        """URL of database `name` on this server."""
        return self.base_url.set(database=name).render_as_string(hide_password=False)

    def create(self, name: str, template: Optional[str] = None) -> str:
        """Create database `name` (optionally as a copy of `template`); returns its URL."""
        with self.admin.connect() as connection:
            suffix = f" TEMPLATE {template}" if template else ""
            connection.execute(text(f'CREATE DATABASE "{name}"{suffix}'))
        return self.url(name)

    def drop(self, name: str) -> None:
        """Drop database `name`, closing any connection a failed test left open."""
        with self.admin.connect() as connection:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"), {"name": name}
            )
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The local PostgreSQL server: a failure under CI, a skip elsewhere, when it cannot be reached."""
    try:
        server = PostgresServer(PG_ADMIN_URL)
        with server.admin.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # any driver or network error means "not available"
        message = f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {error}"
        if _under_ci():
            pytest.fail(message)
        pytest.skip(message)
    yield server
    server.admin.dispose()


def _migrate_and_seed(url: str) -> None:
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with session_scope(make_session_factory(engine)) as session:
            seed(session, today=TODAY)
    finally:
        engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """The database backend a test runs on."""
    return request.param


@pytest.fixture(scope="session")
def database_maker(
    backend: str, tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Callable[[bool], ContextManager[KnowledgeDB]]]:
    """Makes throwaway databases on `backend`: seeded copies of one template, or empty ones."""
    folder = tmp_path_factory.mktemp(f"kb-{backend}")
    server: Optional[PostgresServer] = None
    if backend == "sqlite":
        template_path = folder / "template.db"
        _migrate_and_seed(f"sqlite:///{template_path}")
    else:
        server = request.getfixturevalue("postgres_server")
        template_name = f"xx_kb_test_{_RUN_ID}_template"
        server.drop(template_name)
        _migrate_and_seed(server.create(template_name))

    @contextmanager
    def make(seeded: bool = True) -> Iterator[KnowledgeDB]:
        number = next(_counter)
        if backend == "sqlite":
            path: Path = folder / f"kb{number}.db"
            if seeded:
                shutil.copyfile(template_path, path)
            url = f"sqlite:///{path}"
        else:
            name = f"xx_kb_test_{_RUN_ID}_{number}"
            url = server.create(name, template=template_name if seeded else None)
        engine = make_engine(url)
        try:
            yield KnowledgeDB(backend, url, engine, make_session_factory(engine))
        finally:
            engine.dispose()
            if backend == "sqlite":
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{path}{suffix}").unlink(missing_ok=True)
            else:
                server.drop(name)

    yield make
    if server is not None:
        server.drop(template_name)


@pytest.fixture
def kb(database_maker) -> Iterator[KnowledgeDB]:
    """A fresh migrated and seeded knowledge DB of its own, which the test may change freely."""
    with database_maker(True) as database:
        yield database


@pytest.fixture
def empty_db(database_maker) -> Iterator[KnowledgeDB]:
    """A fresh empty database (no tables), for migration tests."""
    with database_maker(False) as database:
        yield database


@pytest.fixture
def today() -> dt.date:
    """The fixed "today" of the knowledge tests."""
    return TODAY
