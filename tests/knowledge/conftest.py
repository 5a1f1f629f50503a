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
import shutil
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, ContextManager, Iterator, Optional

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from knowledge.db import make_engine, make_session_factory, session_scope
from scripts.demo_knowledge import TODAY, build_knowledge_db
from tests.postgres import PostgresServer

_RUN_ID = uuid.uuid4().hex[:8]
_counter = itertools.count()


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
        template_path: Path = request.getfixturevalue("seeded_template")
    else:
        server = request.getfixturevalue("postgres_server")
        template_name = f"xx_kb_test_{_RUN_ID}_template"
        server.drop(template_name)
        build_knowledge_db(server.create(template_name))

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
