"""The action server's one store on the knowledge DB, opened on first use."""
from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

from knowledge.db import KnowledgeStore, Session, open_store
from settings import load_settings


@lru_cache(maxsize=1)
def _store() -> KnowledgeStore:
    # One connection for each worker thread that runs actions (actions/worker_threads.py).
    return open_store(pool_size=load_settings().actions_concurrency)


@contextmanager
def knowledge_session() -> Iterator[Session]:
    """A session on the knowledge DB for one action run."""
    with _store().session() as session:
        yield session
