"""Gateway fixtures: a knowledge DB of the gateway's own, and settings pointing at it."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import build_seeded_sqlite


@pytest.fixture(scope="module")
def kb_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A seeded SQLite knowledge DB for one test module (tests add farmers, pushes and prices to it)."""
    return build_seeded_sqlite(Path(tmp_path_factory.mktemp("gateway")) / "knowledge.db")
