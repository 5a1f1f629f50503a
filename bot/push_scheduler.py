"""The push scheduler: every PUSH_INTERVAL_SECONDS it notices due pushes (knowledge.outbox) and sends those
for Telegram farmers. Web chat farmers fetch theirs when their page polls (bot/webchat.py).

All state is in the database, so any number of gateway processes can run this loop side by side.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import os
import socket
from typing import Callable, Optional, Tuple

from telegram import Bot
from telegram.error import RetryAfter, TelegramError

from bot.background_rounds import BackgroundRounds
from bot.metrics import GatewayMetrics
from bot.telegram_render import split_text
from bot.telegram_send import is_permanent, retry_after_seconds
from knowledge.callback_store import forget_expired
from knowledge.db import KnowledgeStore
from knowledge.handoff.escalation import escalate_overdue
from knowledge.models import utcnow
from knowledge.outbox.handoff_answers import enqueue_handoff_answers
from knowledge.outbox.price_alerts import enqueue_daily_digests, enqueue_price_alerts
from knowledge.outbox.queue import PushJob, claim_telegram_pushes, mark_failed, mark_sent, release_claims
from knowledge.scheduled import claim_due_run, due_every
from wording import price_push_text

logger = logging.getLogger(__name__)

# Telegram allows about 30 messages a second to different chats; stay well below it.
SECONDS_BETWEEN_PUSHES = 0.05
# The lease of noticing due pushes (knowledge.scheduled): one gateway process per round.
NOTICE_RUN = "push_notice"


class PushScheduler(BackgroundRounds):
    """Notices and sends pushes in a loop (`run_round`, every PUSH_INTERVAL_SECONDS or when woken); `run_once`
    notices and sends without the lease (tests)."""

    name = "push-scheduler"

    def __init__(
        self,
        store: KnowledgeStore,
        interval_seconds: float,
        timezone: dt.tzinfo,
        stale_after_days: int,
        bot: Optional[Bot] = None,
        clock: Callable[[], dt.datetime] = utcnow,
        escalate_after_hours: int = 0,
    ) -> None:
        super().__init__()
        self.check_seconds = interval_seconds
        self._store = store
        # Unanswered handoff tickets move one region up after this many hours (0: never), checked every round.
        self._escalate_after_hours = escalate_after_hours
        self._interval = interval_seconds
        self._timezone = timezone
        self._write = functools.partial(price_push_text, stale_after_days=stale_after_days)
        self.bot = bot
        self._clock = clock
        self._worker = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.metrics: Optional[GatewayMetrics] = None

    def notice(self, now: dt.datetime) -> int:
        """Write every push that has become due (blocking; one transaction); returns how many were added."""
        local_now = now.replace(tzinfo=dt.timezone.utc).astimezone(self._timezone)
        today = local_now.date()

        def work(session) -> int:
            # Old button meanings go with the round: an indexed delete that usually finds nothing.
            forget_expired(session)
            escalate_overdue(session, now, self._escalate_after_hours)
            return (enqueue_handoff_answers(session, now)
                    + enqueue_price_alerts(session, today, self._write, now)
                    + enqueue_daily_digests(session, local_now, today, self._write, now))

        return self._store.run_blocking(work)

    async def run_once(self, notice: bool = True) -> int:
        """Notice due pushes (unless `notice` is False), then send the Telegram ones; returns how many were sent."""
        now = self._clock()
        if notice:
            added = await asyncio.to_thread(self.notice, now)
            if added:
                logger.info("%d new pushes due", added)
        bot = self.bot
        if bot is None:
            return 0
        jobs = await self._store.run(lambda session: claim_telegram_pushes(session, self._worker, now=now))
        sent = 0
        for index, job in enumerate(jobs):
            outcome = await self._deliver(bot, job)
            if outcome is None:
                # Flood control: the rest of this round waits for the next one instead of piling on.
                rest = [later.id for later in jobs[index + 1:]]
                await self._store.run(functools.partial(release_claims, push_ids=rest))
                break
            sent += outcome
            await asyncio.sleep(SECONDS_BETWEEN_PUSHES)
        return sent

    async def _deliver(self, bot: Bot, job: PushJob) -> Optional[int]:
        """1 when sent, 0 when it failed, None when Telegram asked us to slow down."""
        result = await self._send(bot, job)
        if self.metrics is not None:
            outcome = {1: "sent", 0: "failed", None: "postponed"}[result]
            self.metrics.pushes.labels(job.kind, outcome).inc()
        return result

    async def _send(self, bot: Bot, job: PushJob) -> Optional[int]:
        try:
            for part in split_text(job.text):
                await bot.send_message(job.chat_id, part)
        except RetryAfter as error:
            wait = retry_after_seconds(error)
            await self._store.run(lambda session: mark_failed(session, job.id, "flood control", retry_after=wait))
            logger.warning("Push %d postponed %.0fs by Telegram flood control", job.id, wait)
            return None
        except TelegramError as error:
            permanent, reason = is_permanent(error), f"{error.__class__.__name__}: {error}"
            status = await self._store.run(lambda session: mark_failed(session, job.id, reason, permanent))
            logger.error("Push %d (%s) not delivered, now %s: %s", job.id, job.kind, status, error)
            return 0
        await self._store.run(lambda session: mark_sent(session, job.id))
        logger.info("Push %d (%s) delivered", job.id, job.kind)
        return 1

    async def run_round(self) -> Tuple[bool, int]:
        """A round of the loop: notice due pushes if this process wins the round's due time (knowledge.scheduled),
        then send the Telegram pushes due; returns (noticed, sent).

        Noticing is safe to repeat (a push's key is unique) but reads every new price and subscription; with the
        lease one process of many does it per PUSH_INTERVAL_SECONDS. Sending claims each push, so every process
        sends, none twice.
        """
        now = self._clock()
        due = due_every(now, self._interval or 1)
        noticed = await self._store.run(functools.partial(claim_due_run, name=NOTICE_RUN, due_at=due,
                                                          worker=self._worker, now=now))
        return noticed, await self.run_once(notice=noticed)

    async def loop_round(self) -> Tuple[bool, int]:
        """The loop's round: with the lease on noticing."""
        return await self.run_round()
