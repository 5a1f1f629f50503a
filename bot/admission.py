"""Admission control in front of Rasa: a bounded queue with a deadline, so Rasa works only on wanted messages.

Rasa answers a few messages a second; sent more at once, it answers all of them late and the gateway
used to give up on each while Rasa kept working on it (goodput fell from ~11 to 0.8 a second). Here at
most `concurrency` messages are in Rasa at a time and at most `queue_limit` wait for a turn; a message
that would not get its turn before its deadline is not sent at all but kept for later
(bot/deferred.py), and the kept ones are sent only when a turn is free and nobody waits for one.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from typing import Deque, Optional

# How much one new measurement of Rasa's time per message moves the estimate.
_SMOOTHING = 0.2
# While live messages queue, every this-many-th freed turn goes to a kept message that waits for one, so a long
# peak cannot keep the farmers who were told "稍后回复" waiting until it ends.
KEPT_SHARE = 8


class Admission:
    """Turns at one Rasa server (or one balancer's share of them): acquire before sending, release after."""

    def __init__(self, concurrency: int, queue_limit: int) -> None:
        self.concurrency = concurrency
        self.queue_limit = queue_limit
        self._free = concurrency
        self._waiters: Deque[asyncio.Future] = deque()
        # Seconds Rasa takes per message, smoothed; None until the first answer.
        self._service: Optional[float] = None
        # A kept message waiting for its share of turns (the drain asks for one at a time).
        self._kept_waiter: Optional[asyncio.Future] = None
        self._released = 0

    @property
    def waiting(self) -> int:
        """Messages waiting for a turn (the queue depth)."""
        return sum(1 for waiter in self._waiters if not waiter.done())

    @property
    def in_flight(self) -> int:
        """Messages in Rasa now."""
        return self.concurrency - self._free

    def spare(self) -> int:
        """Turns free with nobody waiting: what kept messages may use."""
        return 0 if self.waiting else self._free

    def _expected_wait(self, ahead: int) -> float:
        # Time until a turn for a message with `ahead` others waiting before it, from Rasa's recent pace.
        if self._service is None:
            return 0.0
        return (ahead + 1) * self._service / self.concurrency

    def try_acquire(self) -> bool:
        """Take a free turn at once if nobody waits for one (kept messages come after live ones)."""
        if self.spare() > 0:
            self._free -= 1
            return True
        return False

    async def acquire_for_kept(self) -> None:
        """Wait for a turn for a kept message: a spare one, or every KEPT_SHARE-th freed turn while live ones queue."""
        if self.try_acquire():
            return
        waiter: asyncio.Future = asyncio.get_running_loop().create_future()
        self._kept_waiter = waiter
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.release()
            raise
        finally:
            if self._kept_waiter is waiter:
                self._kept_waiter = None

    @property
    def kept_waiting(self) -> bool:
        """Whether a kept message waits for its share of turns."""
        return self._kept_waiter is not None and not self._kept_waiter.done()

    async def acquire(self, deadline: float) -> bool:
        """Wait for a turn until `deadline` (time.monotonic()); False, at once, when it cannot come in time.

        Refused at once when the queue is full, or when Rasa's recent pace says the turn would come after
        the deadline (the message is then kept for later instead of making the farmer wait for nothing).
        A caller cancelled while waiting leaves the queue and never reaches Rasa.
        """
        if self.try_acquire():
            return True
        ahead = self.waiting
        if ahead >= self.queue_limit or time.monotonic() + self._expected_wait(ahead) >= deadline:
            return False
        waiter: asyncio.Future = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await asyncio.wait({waiter}, timeout=max(0.0, deadline - time.monotonic()))
        except asyncio.CancelledError:
            self._give_up(waiter)
            raise
        if waiter.done() and not waiter.cancelled():
            return True
        self._give_up(waiter)
        return False

    def _give_up(self, waiter: asyncio.Future) -> None:
        if waiter.done() and not waiter.cancelled():
            self.release()  # the turn was handed over just as the caller gave up: pass it on
        else:
            waiter.cancel()
        with contextlib.suppress(ValueError):
            self._waiters.remove(waiter)

    def release(self, service_seconds: Optional[float] = None) -> None:
        """Give the turn back (to the longest waiter), noting how long Rasa took when it answered."""
        if service_seconds is not None:
            self._service = (service_seconds if self._service is None
                             else (1 - _SMOOTHING) * self._service + _SMOOTHING * service_seconds)
        self._released += 1
        kept = self._kept_waiter
        if kept is not None and not kept.done() and (self._released % KEPT_SHARE == 0 or not self.waiting):
            self._kept_waiter = None
            kept.set_result(True)
            return
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(True)
                return
        self._free += 1
