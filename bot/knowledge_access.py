"""The gateway's connection to the knowledge DB: blocking SQLAlchemy work run off the event loop."""
from __future__ import annotations

import asyncio
from typing import Callable, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from knowledge.db import make_engine, make_session_factory, session_scope

T = TypeVar("T")


class KnowledgeStore:
    """Runs one unit of work (commit on success, roll back on error) in a worker thread."""

    def __init__(self, factory: sessionmaker) -> None:
        self._factory = factory

    @classmethod
    def from_url(cls, url: str) -> "KnowledgeStore":
        """A store on the knowledge DB at `url`."""
        return cls(make_session_factory(make_engine(url)))

    def run_blocking(self, work: Callable[[Session], T]) -> T:
        """Run `work(session)` in one transaction, in the calling thread."""
        with session_scope(self._factory) as session:
            return work(session)

    async def run(self, work: Callable[[Session], T]) -> T:
        """Run `work(session)` in one transaction, in a worker thread, so the event loop keeps serving chats."""
        return await asyncio.to_thread(self.run_blocking, work)

    def dispose(self) -> None:
        """Close the pooled connections."""
        self._factory.kw["bind"].dispose()
