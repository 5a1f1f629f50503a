"""The gateway's price feed scheduler: every half minute it runs the feeds that are due (knowledge.feeds.runner).

Every gateway process runs it; each feed's lease (its `next_run_at`, moved by a conditional UPDATE) lets exactly
one of them fetch each due time, so feeds need no cron entry and no process of their own.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from typing import Callable, List, Optional

from bot.background_rounds import BackgroundRounds
from knowledge.db import KnowledgeStore
from knowledge.feeds.fetching import FeedPolicy
from knowledge.feeds.runner import FeedRunReport, run_due_feeds
from knowledge.models import utcnow

logger = logging.getLogger(__name__)

# A feed due at 07:00 is fetched within about this long.
CHECK_SECONDS = 30.0


class FeedScheduler(BackgroundRounds):
    """Runs due price feeds in a loop; `run_once` does one round (tests and the loop both use it)."""

    name = "feed-scheduler"
    check_seconds = CHECK_SECONDS

    def __init__(self, store: KnowledgeStore, policy: FeedPolicy, timezone: dt.tzinfo,
                 clock: Callable[[], dt.datetime] = utcnow, worker: Optional[str] = None) -> None:
        super().__init__()
        self._store = store
        self._policy = policy
        self._timezone = timezone
        self._clock = clock
        self._worker = worker or f"{socket.gethostname()}:{os.getpid()}"

    async def run_once(self) -> List[FeedRunReport]:
        """One round: the reports of the feeds this process ran (none when another process won them)."""
        return await run_due_feeds(self._store, self._policy, self._timezone, self._worker, now=self._clock())
