"""A periodic job of the gateway that runs once per due time across every gateway process (a lease row in the
knowledge DB: knowledge.scheduled). For jobs that must not run twice for one due time, such as fetching a price
feed or escalating tickets nobody answered: every process runs the loop, one wins each due time."""
from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import socket
from typing import Any, Awaitable, Callable, Optional

from bot.background_rounds import BackgroundRounds
from knowledge.db import KnowledgeStore
from knowledge.models import utcnow
from knowledge.scheduled import claim_due_run, due_every, finish_run

logger = logging.getLogger(__name__)


class ScheduledJob(BackgroundRounds):
    """Runs `work()` every `every_seconds`, in whichever process claims each due time first."""

    def __init__(self, store: KnowledgeStore, name: str, every_seconds: float, work: Callable[[], Awaitable[Any]],
                 clock: Callable[[], dt.datetime] = utcnow, check_seconds: Optional[float] = None) -> None:
        super().__init__()
        self._store = store
        self.job = name
        self.name = f"scheduled-{name}"
        self._every = every_seconds
        self._work = work
        self._clock = clock
        # Look more often than the job is due, so a due time is taken up soon after it comes.
        self.check_seconds = check_seconds if check_seconds is not None else max(1.0, min(60.0, every_seconds / 4))
        self.worker = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"

    async def run_once(self) -> bool:
        """Run the job if its current due time is unclaimed; True when this process ran it."""
        now = self._clock()
        due = due_every(now, self._every)
        won = await self._store.run(functools.partial(claim_due_run, name=self.job, due_at=due, worker=self.worker,
                                                      now=now))
        if not won:
            return False
        await self._work()
        await self._store.run(functools.partial(finish_run, name=self.job))
        return True
