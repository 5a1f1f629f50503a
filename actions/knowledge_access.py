"""The action server's one connection to the knowledge DB, opened on first use."""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

from sqlalchemy.orm import Session, sessionmaker

from knowledge.db import make_engine, make_session_factory, session_scope


@lru_cache(maxsize=1)
def _factory() -> sessionmaker:
    return make_session_factory(make_engine())


@contextmanager
def knowledge_session() -> Iterator[Session]:
    """A session on the knowledge DB for one action run."""
    with session_scope(_factory()) as session:
        yield session
