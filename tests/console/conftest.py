"""Console fixtures: a seeded knowledge DB with accounts, farmers, a ticket and feedback; a tracker
store written by Rasa's own SQLTrackerStore; the app; and signing in through the real login form."""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Awaitable, Callable, Iterator

import pytest
from aiohttp.test_utils import TestClient

from console.app import create_app
from knowledge.db import make_engine, make_session_factory
from scripts.demo_conversations import write_tracker_store
from scripts.demo_knowledge import TODAY
from scripts.demo_people import ACCOUNTS, PASSWORD, add_people
from settings import PROJECT_ROOT, Settings
from tests.conftest import copy_database

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture(scope="session")
def console_template(seeded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded knowledge DB with the console's people, built once and copied per test."""
    path = tmp_path_factory.mktemp("console") / "template.db"
    add_people(copy_database(seeded_template, path))
    return path


@pytest.fixture(scope="session")
def tracker_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tracker store written by Rasa's SQLTrackerStore, built once."""
    path = tmp_path_factory.mktemp("tracker") / "tracker.db"
    write_tracker_store(str(path))
    return path


@pytest.fixture
def knowledge_url(console_template: Path, tmp_path: Path) -> str:
    """This test's own copy of the console knowledge DB."""
    return copy_database(console_template, tmp_path / "knowledge.db")


@pytest.fixture
def tracker_path(tracker_template: Path, tmp_path: Path) -> Path:
    """This test's own copy of the tracker store."""
    path = tmp_path / "tracker.db"
    shutil.copyfile(tracker_template, path)
    return path


@pytest.fixture
def knowledge(knowledge_url: str) -> Iterator:
    """A session factory on this test's knowledge DB, for checking what the console wrote."""
    engine = make_engine(knowledge_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def console_settings(knowledge_url: str, tracker_path: Path, tmp_path: Path) -> Settings:
    """Settings pointing the console at this test's databases."""
    return Settings(knowledge_db_url=knowledge_url, tracker_db_url=f"sqlite:///{tracker_path}",
                    console_secret_key="test-secret-key", upload_dir=tmp_path / "uploads")


@pytest.fixture
async def client(aiohttp_client, console_settings: Settings) -> TestClient:
    """A test client of the console app (signed out)."""
    app = create_app(console_settings, nlu_dir=PROJECT_ROOT / "data" / "nlu", today=lambda: TODAY)
    return await aiohttp_client(app)


def csrf_of(page: str) -> str:
    """The CSRF token in a rendered page."""
    found = _CSRF.search(page)
    assert found, "page has no CSRF field"
    return found.group(1)


async def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Sign in through the login form; returns the session's CSRF token."""
    page = await (await client.get("/login")).text()
    response = await client.post("/login", data={"username": username, "password": password,
                                                 "csrf_token": csrf_of(page)}, allow_redirects=False)
    assert response.status == 302, await response.text()
    return csrf_of(await (await client.get("/")).text())


@pytest.fixture
def login() -> Callable[[TestClient, str], Awaitable[str]]:
    """sign_in as a fixture."""
    return sign_in


__all__ = ["ACCOUNTS", "PASSWORD", "csrf_of", "sign_in"]
