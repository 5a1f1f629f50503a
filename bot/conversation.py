"""What every channel does with a farmer's text: limits, admission to Rasa, and the message kept for later when
Rasa cannot answer in time (bot/deferred.py)."""
from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict, deque
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable, Deque, Dict, List, Optional, Tuple

from bot.admission import Admission
from bot.deferred import APOLOGY, DEFERRED, DeferredAnswers
from bot.farmer_directory import FarmerDirectory
from bot.metrics import GatewayMetrics
from bot.rasa_client import RasaClient, RasaUnreachable
from bot.replies import Reply
from knowledge.masking import mask_personal_data, mask_sender_id

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 1000
MESSAGES_PER_MINUTE = 20

TOO_LONG = f"您的消息太长了（超过{MAX_MESSAGE_CHARS}字），请分几次、说得简短一些。"
TOO_FAST = "您发得太快了，请稍等一分钟再问。"
EMPTY = "请直接打字提问，比如：玉米多少钱一斤？"
__all__ = ["APOLOGY", "DEFERRED", "EMPTY", "TOO_FAST", "TOO_LONG", "Conversation", "Outcome", "RateLimiter"]


class RateLimiter:
    """A sliding one-minute window per sender, held in memory (one gateway process per chat source)."""

    def __init__(self, per_minute: int = MESSAGES_PER_MINUTE) -> None:
        self._per_minute = per_minute
        self._seen: Dict[str, Deque[float]] = defaultdict(deque)
        self._last_sweep = 0.0

    def _sweep(self, now: float) -> None:
        # Once a minute, forget senders quiet for a minute: the gateway runs for months and meets
        # every farmer of the county, each of whom would otherwise keep a window here for good.
        if now - self._last_sweep < 60:
            return
        self._last_sweep = now
        for sender in [sender for sender, window in self._seen.items() if not window or now - window[-1] > 60]:
            del self._seen[sender]

    def tracked_senders(self) -> int:
        """How many senders have a window in memory."""
        return len(self._seen)

    def allow(self, sender: str, now: Optional[float] = None) -> bool:
        """Record a message and say whether it is within the limit."""
        now = time.monotonic() if now is None else now
        self._sweep(now)
        window = self._seen[sender]
        while window and now - window[0] > 60:
            window.popleft()
        if len(window) >= self._per_minute:
            return False
        window.append(now)
        return True


class Outcome:
    """How a message ended, for metrics and the web chat (which polls sooner after a deferral)."""

    ANSWERED = "answered"
    DEFERRED = "deferred"
    APOLOGISED = "apologised"
    REFUSED = "refused"  # empty, too long, too fast
    ABANDONED = "abandoned"  # the caller left before its turn: never sent to Rasa


class SenderTurns:
    """One message at a time per farmer in this process, in arrival order (asyncio.Lock wakes waiters in order)."""

    def __init__(self) -> None:
        self._locks: Dict[str, asyncio.Lock] = {}
        self._waiting: Dict[str, int] = defaultdict(int)

    @asynccontextmanager
    async def turn(self, sender: str) -> AsyncIterator[None]:
        """Hold the farmer's turn: later messages of the same farmer wait until this one is answered or kept."""
        lock = self._locks.setdefault(sender, asyncio.Lock())
        self._waiting[sender] += 1
        try:
            async with lock:
                yield
        finally:
            self._waiting[sender] -= 1
            if self._waiting[sender] == 0:
                del self._waiting[sender]
                self._locks.pop(sender, None)


class Conversation:
    """Channel-independent handling of one incoming message."""

    def __init__(
        self, rasa: RasaClient, limiter: Optional[RateLimiter] = None, farmers: Optional[FarmerDirectory] = None,
        address_limiter: Optional[RateLimiter] = None, admission: Optional[Admission] = None,
        deferred: Optional[DeferredAnswers] = None, deadline_seconds: float = 4.0,
    ) -> None:
        self._rasa = rasa
        self._limiter = limiter or RateLimiter()
        self._farmers = farmers
        # Per client address, for channels whose sender id costs nothing to renew (the web chat's cookie).
        self._address_limiter = address_limiter
        self.admission = admission or Admission(concurrency=4, queue_limit=100)
        self._deferred = deferred
        self._deadline = deadline_seconds
        self._turns = SenderTurns()
        # Rasa calls that outlived their deadline: their answers are still wanted (pushed later).
        self._late: set = set()
        self.metrics: Optional[GatewayMetrics] = None

    async def _arrive(self, sender: str, metadata: Dict[str, Any], private: bool) -> Tuple[Dict[str, Any], bool]:
        """The metadata plus the farmer's stored region, and whether earlier messages of theirs are still kept.

        The farmer is remembered on the way.
        """
        if self._farmers is None:
            return metadata, False
        try:
            region, waiting = await self._farmers.arrive(
                sender, str(metadata.get("channel") or "rest"), metadata.get("chat_id"),
                metadata.get("display_name"), private=private,
            )
        except Exception:  # the knowledge DB being down must not stop the farmer's question reaching Rasa
            logger.exception("Could not read or record the farmer for sender %s", mask_sender_id(sender))
            return metadata, False
        return ({**metadata, "region": region} if region else metadata), waiting

    def _observe(self, metadata: Dict[str, Any], outcome: str, started: float) -> None:
        if self.metrics is not None:
            self.metrics.message(str(metadata.get("channel") or "rest"), outcome, time.monotonic() - started)

    def _rasa_error(self, reason: str) -> None:
        if self.metrics is not None:
            self.metrics.rasa_errors.labels(reason).inc()

    async def handle_text(
        self, sender: str, text: str, metadata: Optional[Dict[str, Any]] = None, private: bool = True,
        client_address: Optional[str] = None, gone: Optional[Callable[[], bool]] = None,
    ) -> List[Reply]:
        """The replies to one message; never raises for Rasa failures.

        `private` is False for a message from a group: the farmer's push chat is then left as it was.
        `client_address` (web chat) is limited too, since a new cookie is a new sender. Only a message that
        passes every limit reaches the knowledge DB (farmer row) and Rasa (tracker). `gone()` says whether
        the caller has left (a closed web chat request): its message is then not sent to Rasa at all.
        """
        replies, _outcome = await self.handle(sender, text, metadata, private, client_address, gone)
        return replies

    async def handle(
        self, sender: str, text: str, metadata: Optional[Dict[str, Any]] = None, private: bool = True,
        client_address: Optional[str] = None, gone: Optional[Callable[[], bool]] = None,
    ) -> Tuple[List[Reply], str]:
        """As `handle_text`, with how the message ended (an `Outcome`)."""
        started = time.monotonic()
        metadata = dict(metadata or {})
        text = (text or "").strip()
        refusal = self._refusal(sender, text, client_address)
        if refusal is not None:
            self._observe(metadata, Outcome.REFUSED, started)
            return [Reply(refusal)], Outcome.REFUSED
        deadline = started + self._deadline
        async with self._turns.turn(sender):
            replies, outcome = await self._answer(sender, text, metadata, private, deadline, gone)
        self._observe(metadata, outcome, started)
        return replies, outcome

    def _refusal(self, sender: str, text: str, client_address: Optional[str]) -> Optional[str]:
        if not text:
            return EMPTY
        if len(text) > MAX_MESSAGE_CHARS:
            return TOO_LONG
        if not self._limiter.allow(sender):
            logger.info("Rate limit reached for sender %s", mask_sender_id(sender))
            return TOO_FAST
        limiter = self._address_limiter
        if client_address is not None and limiter is not None and not limiter.allow(client_address):
            logger.info("Rate limit reached for client address %s", client_address)
            return TOO_FAST
        return None

    async def _answer(self, sender: str, text: str, metadata: Dict[str, Any], private: bool, deadline: float,
                      gone: Optional[Callable[[], bool]]) -> Tuple[List[Reply], str]:
        metadata, earlier_kept = await self._arrive(sender, metadata, private)
        if earlier_kept:
            # Answered in order: behind the farmer's kept messages, never before them.
            return await self._keep(sender, text, metadata, "earlier messages are still waiting")
        if gone is not None and gone():
            return [], Outcome.ABANDONED
        if not await self.admission.acquire(deadline):
            return await self._keep(sender, text, metadata, "no turn at Rasa before the deadline")
        if gone is not None and gone():
            self.admission.release()
            return [], Outcome.ABANDONED
        call = asyncio.ensure_future(self._send(sender, text, metadata))
        await asyncio.wait({call}, timeout=max(0.0, deadline - time.monotonic()))
        if not call.done():
            return await self._keep_late(sender, text, metadata, call)
        error = call.exception()
        if error is not None:
            self._rasa_error("unreachable" if isinstance(error, RasaUnreachable) else "error")
        if isinstance(error, RasaUnreachable) and self._deferred is not None:
            return await self._keep(sender, text, metadata, str(error), unreachable=True)
        if error is not None:
            self._log_unanswered(sender, text, metadata, str(error))
            return [Reply(APOLOGY)], Outcome.APOLOGISED
        replies = call.result()
        if not replies:
            self._rasa_error("empty")
            # Rasa's REST channel answers 200 with no messages when a custom action fails (action server
            # down or erroring): Rasa has the message in its tracker, so it is not sent again.
            self._log_unanswered(sender, text, metadata, "Rasa returned no reply (is the action server down?)")
            return [Reply(APOLOGY)], Outcome.APOLOGISED
        return replies, Outcome.ANSWERED

    async def _send(self, sender: str, text: str, metadata: Dict[str, Any]) -> List[Reply]:
        """One call to Rasa in a turn already acquired; gives the turn back when Rasa has answered."""
        started = time.monotonic()
        answered = False
        try:
            replies = await self._rasa.send(sender, text, metadata)
            answered = True
            return replies
        finally:
            seconds = time.monotonic() - started
            self.admission.release(seconds if answered else None)
            if answered and self.metrics is not None:
                self.metrics.rasa_seconds.observe(seconds)

    async def _keep(self, sender: str, text: str, metadata: Dict[str, Any], reason: str,
                    unreachable: bool = False) -> Tuple[List[Reply], str]:
        """Keep the message for the drain and tell the farmer so; an apology when it cannot be kept."""
        if self._deferred is None:
            self._log_unanswered(sender, text, metadata, reason)
            return [Reply(APOLOGY)], Outcome.APOLOGISED
        try:
            deferred_id = await self._deferred.keep(sender, text, metadata, unreachable=unreachable)
        except Exception:
            logger.exception("Could not keep a message of %s for later", mask_sender_id(sender))
            self._log_unanswered(sender, text, metadata, reason)
            return [Reply(APOLOGY)], Outcome.APOLOGISED
        logger.info("Message of %s kept as %d to answer later: %s", mask_sender_id(sender), deferred_id, reason)
        return [Reply(DEFERRED)], Outcome.DEFERRED

    async def _keep_late(self, sender: str, text: str, metadata: Dict[str, Any],
                         call: "asyncio.Future[List[Reply]]") -> Tuple[List[Reply], str]:
        """Rasa has the message but not yet an answer: keep it as being answered here, and push the answer later."""
        deferred = self._deferred
        if deferred is None:
            self._late.add(call)
            call.add_done_callback(self._late.discard)
            self._log_unanswered(sender, text, metadata, "Rasa did not answer in time")
            return [Reply(APOLOGY)], Outcome.APOLOGISED
        try:
            deferred_id = await deferred.keep(sender, text, metadata, answering=True)
        except Exception:
            logger.exception("Could not keep a message of %s for later", mask_sender_id(sender))
            self._late.add(call)
            call.add_done_callback(self._late.discard)
            self._log_unanswered(sender, text, metadata, "Rasa did not answer in time")
            return [Reply(APOLOGY)], Outcome.APOLOGISED

        async def settle() -> None:
            await asyncio.wait({call})
            try:
                await deferred.settle(deferred_id, sender, text, call)
            except Exception:  # the claim expires and the drain sends it again
                logger.exception("Could not record the late answer to kept message %d", deferred_id)

        task = asyncio.ensure_future(settle())
        self._late.add(task)
        task.add_done_callback(self._late.discard)
        logger.info("Message of %s kept as %d: Rasa is answering it after the deadline", mask_sender_id(sender),
                    deferred_id)
        return [Reply(DEFERRED)], Outcome.DEFERRED

    async def finish_late(self) -> None:
        """Wait for the answers Rasa still owes (shutdown, tests)."""
        if self._late:
            await asyncio.wait(set(self._late))

    @staticmethod
    def _log_unanswered(sender: str, text: str, metadata: Dict[str, Any], reason: str) -> None:
        # The farmer was asked to send it again; the log keeps it (phone and 身份证 numbers masked) for staff.
        logger.error("Message from %s (channel %s) not answered: %s. Message: %r", mask_sender_id(sender),
                     metadata.get("channel", "?"), reason, mask_personal_data(text))
