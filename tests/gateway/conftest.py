"""Gateway fixtures: the harness (fake Rasa, fake Bot API, the gateway) and a knowledge DB of each test's own."""
from __future__ import annotations

from typing import Iterator

import pytest

from knowledge.db import KnowledgeStore, open_store
from tests.gateway.harness import fake_rasa, fake_telegram, start_gateway

__all__ = ["fake_rasa", "fake_telegram", "start_gateway"]


@pytest.fixture
def kb_url(seeded_db_url: str) -> str:
    """The gateway's knowledge DB: this test's own seeded copy (tests add farmers, pushes and prices to it)."""
    return seeded_db_url


@pytest.fixture
def store(kb_url: str) -> Iterator[KnowledgeStore]:
    """Direct access to the gateway's knowledge DB."""
    knowledge = open_store(kb_url)
    yield knowledge
    knowledge.dispose()
