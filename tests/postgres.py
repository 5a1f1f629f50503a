"""The local PostgreSQL server for tests: throwaway databases, and a fixture that fails under CI when it is down.

PostgreSQL is the server on 127.0.0.1:5432 (trust auth; KNOWLEDGE_TEST_PG_URL overrides the admin
URL). Under CI (CI=true) a PostgreSQL that cannot be reached fails the run; on a developer machine
those tests are skipped.
"""
from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from typing import Iterator, Optional

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.unavailable import unavailable

PG_ADMIN_URL = os.environ.get("KNOWLEDGE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


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

    @contextmanager
    def throwaway(self, prefix: str) -> Iterator[str]:
        """A new empty database with a unique name starting with `prefix`, dropped afterwards; yields its URL."""
        name = f"{prefix}_{uuid.uuid4().hex[:8]}"
        try:
            yield self.create(name)
        finally:
            self.drop(name)

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
        unavailable(f"PostgreSQL at {PG_ADMIN_URL} is not reachable: {error}")
    yield server
    server.admin.dispose()
