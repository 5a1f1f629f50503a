"""Fixtures shared by every suite: a migrated and seeded knowledge DB on SQLite."""
from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import Callable, Iterator

import pytest

# Sanic (under Rasa) puts a "once" filter for every DeprecationWarning in front of all others when first
# imported. Imported here, inside pytest's set-up of warnings, that filter is dropped again, so the filters
# of pyproject.toml decide which warnings show (no test imports Sanic itself).
import sanic  # noqa: F401
from sqlalchemy.orm import Session, sessionmaker

from knowledge import migrate
from knowledge.db import make_engine, make_session_factory, session_scope
from knowledge.seed import seed
from logs import RedactingHandler
from settings import load_settings
from tests.browser import require_chromium
from tests.postgres import postgres_server  # noqa: F401 (shared by every suite that uses PostgreSQL)

# Seed data is dated; tests that look at staleness use this "today".
TODAY = dt.date(2026, 11, 22)


def build_seeded_sqlite(path: Path) -> str:
    """Create a SQLite knowledge DB at `path`, migrated to head and seeded; returns its URL."""
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with session_scope(make_session_factory(engine)) as session:
        seed(session, today=TODAY)
    engine.dispose()
    return url


@pytest.fixture(scope="session")
def seeded_db_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of a seeded SQLite knowledge DB shared by the session (tests must not write to it)."""
    return build_seeded_sqlite(tmp_path_factory.mktemp("knowledge") / "knowledge.db")


@pytest.fixture
def seeded_session(seeded_db_url: str) -> Iterator[Session]:
    """A session on the shared seeded DB, rolled back afterwards."""
    engine = make_engine(seeded_db_url)
    factory: sessionmaker = make_session_factory(engine)
    session = factory()
    try:
        yield session
    finally:
        session.rollback()
        session.close()
        engine.dispose()


@pytest.fixture
def chromium() -> None:
    """Skip (or, under CI, fail) a browser test when Debian's chromium is not installed."""
    require_chromium()


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set environment variables for one test, as `load_settings()` sees them; all is restored after."""

    def set_variables(**variables: str) -> None:
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        load_settings.cache_clear()

    yield set_variables
    load_settings.cache_clear()  # before monkeypatch restores the variables, so the next read sees those


@pytest.fixture(autouse=True)
def _process_logging_undone() -> Iterator[None]:
    """Take away what a process's main() under test set up for the whole process's logging."""
    root = logging.getLogger()
    level, httpx_level = root.level, logging.getLogger("httpx").level
    yield
    for handler in [handler for handler in root.handlers if isinstance(handler, RedactingHandler)]:
        root.removeHandler(handler)
    root.setLevel(level)
    logging.getLogger("httpx").setLevel(httpx_level)
