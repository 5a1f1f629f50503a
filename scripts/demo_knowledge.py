"""The demo knowledge DB: migrated to head and seeded as of one fixed day, for the tests and the screenshots."""
from __future__ import annotations

import datetime as dt

from knowledge import migrate
from knowledge.db import make_engine, make_session_factory, session_scope
from knowledge.seed import seed

# Seed data is dated; the tests and the screenshots look at staleness and "today" as of this day.
TODAY = dt.date(2026, 11, 22)


def build_knowledge_db(url: str) -> str:
    """Migrate the (empty) database at `url` to head and seed it as of TODAY; returns the URL."""
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with session_scope(make_session_factory(engine)) as session:
            seed(session, today=TODAY)
    finally:
        engine.dispose()
    return url
