"""The gateway's retention scheduler: every minute it anonymises the Rasa conversations of farmers forgotten from
the console (which never writes the tracker store), and once a day, in whichever gateway process claims the due
time first, everything personal older than PERSONAL_DATA_RETENTION_DAYS (knowledge.privacy.retention)."""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
from typing import Callable, Optional

from bot.background_rounds import BackgroundRounds
from knowledge.db import KnowledgeStore
from knowledge.models import utcnow
from knowledge.privacy.forgetting import erase_pending_conversations
from knowledge.privacy.retention import RetentionReport, run_due_retention
from knowledge.privacy.tracker_writer import TrackerWriter

logger = logging.getLogger(__name__)

# A farmer forgotten from the console is gone from the tracker store within about this long.
CHECK_SECONDS = 60.0


class RetentionScheduler(BackgroundRounds):
    """Runs the privacy jobs in a loop; `run_once` does one round (tests and the loop both use it)."""

    name = "retention-scheduler"
    check_seconds = CHECK_SECONDS

    def __init__(
        self,
        store: KnowledgeStore,
        tracker: TrackerWriter,
        retention_days: int,
        timezone: dt.tzinfo,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        super().__init__()
        self._store = store
        self._tracker = tracker
        self._days = retention_days
        self._timezone = timezone
        self._clock = clock
        self._worker = f"{socket.gethostname()}:{os.getpid()}"

    def _round(self) -> Optional[RetentionReport]:
        erase_pending_conversations(self._store, self._tracker)
        return run_due_retention(self._store, self._tracker, self._days, self._clock(), self._timezone, self._worker)

    async def run_once(self) -> Optional[RetentionReport]:
        """One round in a worker thread; the report when this process ran today's retention, else None."""
        return await asyncio.to_thread(self._round)
