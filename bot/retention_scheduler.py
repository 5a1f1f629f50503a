"""The gateway's retention scheduler: every minute it anonymises the Rasa conversations of farmers forgotten from
the console (which never writes the tracker store), and once a day, in whichever gateway process claims the due
time first, everything personal older than PERSONAL_DATA_RETENTION_DAYS (knowledge.privacy.retention)."""
from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
from typing import Callable, Optional

from knowledge.db import KnowledgeStore
from knowledge.models import utcnow
from knowledge.privacy.forgetting import erase_pending_conversations
from knowledge.privacy.retention import RetentionReport, run_due_retention
from knowledge.privacy.tracker_writer import TrackerWriter

logger = logging.getLogger(__name__)

# A farmer forgotten from the console is gone from the tracker store within about this long.
CHECK_SECONDS = 60.0


class RetentionScheduler:
    """Runs the privacy jobs in a loop; `run_once` does one round (tests and the loop both use it)."""

    def __init__(
        self,
        store: KnowledgeStore,
        tracker: TrackerWriter,
        retention_days: int,
        timezone: dt.tzinfo,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._store = store
        self._tracker = tracker
        self._days = retention_days
        self._timezone = timezone
        self._clock = clock
        self._worker = f"{socket.gethostname()}:{os.getpid()}"
        self._task: Optional[asyncio.Task] = None
        self._round_task: Optional[asyncio.Future] = None

    def _round(self) -> Optional[RetentionReport]:
        erase_pending_conversations(self._store, self._tracker)
        return run_due_retention(self._store, self._tracker, self._days, self._clock(), self._timezone, self._worker)

    async def run_once(self) -> Optional[RetentionReport]:
        """One round in a worker thread; the report when this process ran today's retention, else None."""
        self._round_task = asyncio.ensure_future(asyncio.to_thread(self._round))
        # Shielded: a thread cannot be cancelled, so `stop` waits for the round instead of closing the
        # databases under it.
        return await asyncio.shield(self._round_task)

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database restarting must not end retention for good
                logger.exception("Retention round failed; trying again in %.0fs", CHECK_SECONDS)
            await asyncio.sleep(CHECK_SECONDS)

    def start(self) -> None:
        """Run the loop in the background until `stop`."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="retention-scheduler")

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
