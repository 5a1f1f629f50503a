"""The gateway's price feed scheduler: every half minute it runs the feeds that are due (knowledge.feeds.runner).

Every gateway process runs it; each feed's lease (its `next_run_at`, moved by a conditional UPDATE) lets exactly
one of them fetch each due time, so feeds need no cron entry and no process of their own.
"""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
from typing import Callable, List, Optional

from knowledge.db import KnowledgeStore
from knowledge.feeds.fetching import FeedPolicy
from knowledge.feeds.runner import FeedRunReport, run_due_feeds
from knowledge.models import utcnow

logger = logging.getLogger(__name__)

# A feed due at 07:00 is fetched within about this long.
CHECK_SECONDS = 30.0


class FeedScheduler:
    """Runs due price feeds in a loop; `run_once` does one round (tests and the loop both use it)."""

    def __init__(self, store: KnowledgeStore, policy: FeedPolicy, timezone: dt.tzinfo,
                 clock: Callable[[], dt.datetime] = utcnow, worker: Optional[str] = None) -> None:
        self._store = store
        self._policy = policy
        self._timezone = timezone
        self._clock = clock
        self._worker = worker or f"{socket.gethostname()}:{os.getpid()}"
        self._task: Optional[asyncio.Task] = None
        self._round_task: Optional[asyncio.Future] = None

    async def run_once(self) -> List[FeedRunReport]:
        """One round: the reports of the feeds this process ran (none when another process won them)."""
        return await run_due_feeds(self._store, self._policy, self._timezone, self._worker, now=self._clock())

    async def _loop(self) -> None:
        while True:
            try:
                # Shielded: an import runs in a worker thread, which cannot be cancelled, so `stop` waits for the
                # round instead of closing the database under it.
                self._round_task = asyncio.ensure_future(self.run_once())
                await asyncio.shield(self._round_task)
            except asyncio.CancelledError:
                raise
            except Exception:  # a database restarting must not end the feeds for good
                logger.exception("Price feed round failed; trying again in %.0fs", CHECK_SECONDS)
            await asyncio.sleep(CHECK_SECONDS)

    def start(self) -> None:
        """Run the loop in the background until `stop`."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="feed-scheduler")

    async def stop(self) -> None:
        """Stop the loop, after the round in progress (if any) has finished."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        if self._round_task is not None:
            with contextlib.suppress(Exception):  # its failure was the loop's to log
                await self._round_task
            self._round_task = None
