"""Fixtures shared by every suite: the seeded knowledge DB on SQLite, built once and copied for each test."""
from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Awaitable, Callable, Iterator

import pytest

# Sanic (under Rasa) puts a "once" filter for every DeprecationWarning in front of all others when first
# imported. Imported here, inside pytest's set-up of warnings, that filter is dropped again, so the filters
# of pyproject.toml decide which warnings show (no test imports Sanic itself).
import sanic  # noqa: F401
from aiohttp import web
from sqlalchemy.orm import Session

from knowledge.db import make_engine, make_session_factory
from logs import RedactingHandler
from scripts.chromium import CHROMIUM
from scripts.demo_knowledge import build_knowledge_db
from settings import load_settings
from tests.postgres import postgres_server  # noqa: F401 (shared by every suite that uses PostgreSQL)
from tests.unavailable import unavailable


def copy_database(template: Path, path: Path) -> str:
    """Copy the SQLite database file `template` to `path`; returns the copy's URL."""
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated and seeded SQLite knowledge DB, built once per session; tests write only to copies of it."""
    path = tmp_path_factory.mktemp("knowledge") / "template.db"
    build_knowledge_db(f"sqlite:///{path}")
    return path


@pytest.fixture
def seeded_db_url(seeded_template: Path, tmp_path: Path) -> str:
    """This test's own copy of the seeded knowledge DB: no other test sees what it writes."""
    return copy_database(seeded_template, tmp_path / "knowledge.db")


@pytest.fixture
def seeded_session(seeded_db_url: str) -> Iterator[Session]:
    """A session on this test's own copy of the seeded knowledge DB."""
    engine = make_engine(seeded_db_url)
    session = make_session_factory(engine)()
    try:
        yield session
    finally:
        session.rollback()
        session.close()
        engine.dispose()


@pytest.fixture
def serve(aiohttp_server) -> Callable[[web.Application], Awaitable[str]]:
    """Serves an aiohttp app on a free local port for the test; returns its base URL (without the last slash)."""
    async def start(app: web.Application) -> str:
        server = await aiohttp_server(app)
        return str(server.make_url("")).rstrip("/")

    return start


@pytest.fixture
def chromium() -> None:
    """Debian's chromium, which the browser tests drive: a skip without it, a failure under CI."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")


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
