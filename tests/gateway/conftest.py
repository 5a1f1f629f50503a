"""Gateway fixtures: the harness (fake Rasa, fake Bot API, the gateway) and a knowledge DB per test module."""
from __future__ import annotations

from pathlib import Path

import pytest

from knowledge.db import KnowledgeStore, open_store
from tests.conftest import build_seeded_sqlite
from tests.gateway.harness import fake_rasa, fake_telegram, start_gateway

__all__ = ["fake_rasa", "fake_telegram", "start_gateway"]


@pytest.fixture(scope="module")
def kb_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A seeded SQLite knowledge DB for one test module (tests add farmers, pushes and prices to it)."""
    return build_seeded_sqlite(Path(tmp_path_factory.mktemp("gateway")) / "knowledge.db")


@pytest.fixture
def store(kb_url: str) -> KnowledgeStore:
    """Direct access to the gateway's knowledge DB."""
    knowledge = open_store(kb_url)
    yield knowledge
    knowledge.dispose()
