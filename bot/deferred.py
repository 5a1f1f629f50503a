"""Messages answered later: kept in the knowledge DB (knowledge.outbox.deferred) when Rasa cannot answer in time,
answered by the drain when capacity returns, and pushed to the farmer (Telegram by the push scheduler, the web chat
when its page polls), once and in order per farmer."""
from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import os
import socket
import time
from typing import Any, Callable, Dict, List, Optional, Set

from bot.admission import Admission
from bot.background_rounds import BackgroundRounds
from bot.metrics import GatewayMetrics
from bot.rasa_client import RasaClient, RasaUnavailable, RasaUnreachable
from bot.replies import Reply
from knowledge.db import KnowledgeStore
from knowledge.masking import mask_sender_id
from knowledge.models import utcnow
from knowledge.outbox.deferred import (
    DeferredJob,
    answer_deferred,
    claim_deferred,
    fail_deferred,
    keep_message,
    release_deferred,
    retry_deferred,
)

logger = logging.getLogger(__name__)

# What the farmer is told when a message is kept: true, since the row is written before this is said.
DEFERRED = "现在问的人比较多，您的消息已经收到并保存好了，稍后会在这里回复您，不用再发一遍。"
# Rasa answered with an error: nothing was kept, and the farmer is asked to send it again.
APOLOGY = "抱歉，系统出了点问题，这条消息没能回答，请过一会儿再发一次。"
# The question is quoted above a late answer, so the farmer knows which message it answers.
QUOTED_CHARS = 30
# How often the drain looks for kept messages: soon while there are some, less often when there were none.
BUSY_CHECK_SECONDS = 0.5
IDLE_CHECK_SECONDS = 5.0
# Rasa unreachable: the kept message is tried again after this long.
RETRY_SECONDS = 5.0


def late_answer_text(question: str, replies: List[Reply]) -> str:
    """A late answer as one pushed message: the question it answers, then the replies (buttons named, not shown)."""
    quoted = question if len(question) <= QUOTED_CHARS else question[:QUOTED_CHARS] + "…"
    parts = [f"您刚才问：“{quoted}”"]
    for reply in replies:
        parts.append(reply.text)
        if reply.buttons:
            parts.append("可以回复：" + "、".join(button.title for button in reply.buttons))
    return "\n".join(part for part in parts if part)


def failed_text(question: str) -> str:
    """The push telling a farmer that a kept message could not be answered after all."""
    quoted = question if len(question) <= QUOTED_CHARS else question[:QUOTED_CHARS] + "…"
    return f"您刚才问：“{quoted}”\n{APOLOGY}"


class DeferredAnswers:
    """Keeps messages and settles them (answer, failure or retry) through the knowledge DB."""

    def __init__(self, store: KnowledgeStore, on_answered: Optional[Callable[[], None]] = None) -> None:
        self._store = store
        self.worker = f"{socket.gethostname()}:{os.getpid()}"
        # Called once an answer is in the outbox: the push scheduler sends Telegram's without waiting for its round.
        self.on_answered = on_answered
        # Set when this process keeps a message or the drain finishes one, so the drain looks again at once.
        self.kept = asyncio.Event()
        # How long a message that could not reach Rasa waits before it is tried again.
        self.retry_seconds = RETRY_SECONDS
        self.metrics: Optional[GatewayMetrics] = None

    async def keep(self, sender: str, text: str, metadata: Dict[str, Any], answering: bool = False,
                   unreachable: bool = False) -> int:
        """Write the message to the DB (claimed by this process when `answering`: it is in Rasa already).

        `unreachable`: Rasa could not be reached, so the drain waits `retry_seconds` before trying.
        """
        retry_at = utcnow() + dt.timedelta(seconds=self.retry_seconds if unreachable else 0)
        deferred_id = await self._store.run(lambda session: keep_message(
            session, sender, text, metadata, answering_by=self.worker if answering else None, retry_at=retry_at))
        self.kept.set()
        return deferred_id

    async def settle(self, deferred_id: int, sender: str, question: str, outcome: "asyncio.Future[List[Reply]]",
                     ) -> str:
        """Record what Rasa made of a kept message; returns "answered", "failed" or "retry"."""
        result = await self._settle(deferred_id, sender, question, outcome)
        if self.metrics is not None:
            self.metrics.deferred.labels(result).inc()
        return result

    async def _settle(self, deferred_id: int, sender: str, question: str, outcome: "asyncio.Future[List[Reply]]",
                      ) -> str:
        error = outcome.exception()
        if error is not None and self.metrics is not None:
            self.metrics.rasa_errors.labels("unreachable" if isinstance(error, RasaUnreachable) else "error").inc()
        elif not outcome.result() and self.metrics is not None:
            self.metrics.rasa_errors.labels("empty").inc()
        if isinstance(error, RasaUnreachable):
            reason = str(error)
            await self._store.run(lambda session: retry_deferred(session, deferred_id, reason, self.retry_seconds))
            logger.warning("Kept message %d of %s not delivered to Rasa (%s); trying again", deferred_id,
                           mask_sender_id(sender), reason)
            return "retry"
        replies = [] if error is not None else outcome.result()
        if error is not None or not replies:
            reason = str(error) if error is not None else "Rasa returned no reply (is the action server down?)"
            await self._store.run(lambda session: fail_deferred(session, deferred_id, failed_text(question), reason))
            logger.error("Kept message %d of %s not answered: %s", deferred_id, mask_sender_id(sender), reason)
            return "failed"
        text = late_answer_text(question, replies)
        settled = await self._store.run(lambda session: answer_deferred(session, deferred_id, text))
        if settled and self.on_answered is not None:
            self.on_answered()
        return "answered"


class DeferredDrain(BackgroundRounds):
    """Sends kept messages to Rasa when a turn is free and no live message waits for one.

    Its rounds wake when a message is kept or an answer frees a turn (`DeferredAnswers.kept`), and otherwise look
    again soon while there are kept messages, less often when there were none."""

    name = "deferred-drain"

    def __init__(self, answers: DeferredAnswers, store: KnowledgeStore, rasa: RasaClient, admission: Admission) -> None:
        super().__init__(wake=answers.kept)
        self._answers = answers
        self._store = store
        self._rasa = rasa
        self._admission = admission
        self._running: Set[asyncio.Task] = set()
        # One round at a time, so `drain` sees every answer a round of the loop has started.
        self._round = asyncio.Lock()
        # A claimed kept message waits for its share of turns (at most one at a time).
        self._sharing = False

    async def run_once(self) -> int:
        """Claim as many kept messages as there are spare turns and start answering them; returns how many."""
        async with self._round:
            return await self._run_once()

    async def _run_once(self) -> int:
        spare = self._admission.spare()
        if spare <= 0:
            # Live messages hold every turn: the oldest kept message waits for its share (Admission.KEPT_SHARE).
            if self._admission.kept_waiting or self._sharing:
                return 0
            jobs = await self._store.run(functools.partial(claim_deferred, worker=self._answers.worker, limit=1))
            for job in jobs:
                self._sharing = True
                self._start(job, shared=True)
            return len(jobs)
        jobs = await self._store.run(functools.partial(claim_deferred, worker=self._answers.worker, limit=spare))
        unsent = []
        for job in jobs:
            if not self._admission.try_acquire():  # a live message came meanwhile: it goes first
                unsent.append(job.id)
                continue
            self._start(job)
        if unsent:
            await self._store.run(functools.partial(release_deferred, deferred_ids=unsent))
        return len(jobs) - len(unsent)

    def _start(self, job: DeferredJob, shared: bool = False) -> None:
        task = asyncio.create_task(self._answer(job, shared), name=f"deferred-{job.id}")
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    async def _answer(self, job: DeferredJob, shared: bool = False) -> None:
        if shared:
            try:
                await self._admission.acquire_for_kept()
            finally:
                self._sharing = False
        started = time.monotonic()
        outcome: asyncio.Future[List[Reply]] = asyncio.get_running_loop().create_future()
        try:
            outcome.set_result(await self._rasa.send(job.sender_id, job.text, job.metadata))
        except RasaUnavailable as error:
            outcome.set_exception(error)
        finally:
            answered = outcome.done() and not outcome.exception()
            seconds = time.monotonic() - started
            self._admission.release(seconds if answered else None)
            if answered and self._answers.metrics is not None:
                self._answers.metrics.rasa_seconds.observe(seconds)
        try:
            await self._answers.settle(job.id, job.sender_id, job.text, outcome)
        except Exception:  # the lease expires and another round answers it
            logger.exception("Could not record the answer to kept message %d", job.id)
        finally:
            self._answers.kept.set()  # a turn is free: the next kept message need not wait for the next check

    async def drain(self) -> None:
        """Answer every kept message that is due now (tests, benchmarks); returns when none is left."""
        while True:
            started = await self.run_once()
            if self._running:
                await asyncio.wait(set(self._running))
            elif not started:
                return

    def pause_after(self, result: Any) -> float:
        return BUSY_CHECK_SECONDS if result or self._running else IDLE_CHECK_SECONDS

    async def stop_claiming(self) -> None:
        """Claim no more kept messages (after the round in progress); the answers already asked of Rasa go on
        (until `stop`)."""
        await super().stop()

    async def stop(self) -> None:
        """Stop the drain; answers in flight are cancelled (their claims expire and are answered again)."""
        await self.stop_claiming()
        for task in list(self._running):
            task.cancel()
        if self._running:
            await asyncio.wait(set(self._running))
