"""`python -m knowledge tracker-indexes` on a tracker store Rasa wrote, on SQLite and PostgreSQL."""
from __future__ import annotations

from typing import Iterator

import pytest
from rasa.shared.core.events import UserUttered
from sqlalchemy import create_engine, inspect

from knowledge.cli import main
from knowledge.conversations.tracker_indexes import TRACKER_INDEXES, add_tracker_indexes
from tests.postgres import PostgresServer
from tests.tracker_stores import write_conversations


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def tracker_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """An empty tracker store on each backend (Rasa has not written to it yet)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'tracker.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    with server.throwaway("xx_tracker_indexes") as url:
        yield url


def _indexes(url: str) -> set:
    engine = create_engine(url, future=True)
    try:
        return {index["name"] for index in inspect(engine).get_indexes("events")}
    finally:
        engine.dispose()


def test_indexes_are_added_once_after_rasa_made_its_table(tracker_url: str, capsys) -> None:
    assert add_tracker_indexes(tracker_url) == [], "no events table yet: nothing to index"
    write_conversations(tracker_url, {"tg-1": [UserUttered("玉米多少钱")]})
    assert main(["tracker-indexes", "--tracker-db", tracker_url]) == 0
    assert "新建 3 个" in capsys.readouterr().out
    assert {name for name, _columns in TRACKER_INDEXES} <= _indexes(tracker_url)
    assert add_tracker_indexes(tracker_url) == [], "a second run adds nothing"
