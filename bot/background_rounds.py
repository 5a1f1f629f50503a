"""A gateway job that runs in rounds in the background: the loop, its start and its stop, written once.

Each round runs shielded: its work may be in a worker thread, which cannot be cancelled, so `stop` waits for the
round in progress instead of closing the databases under it. A failed round is logged and the next one comes.
`wake` starts the next round at once instead of at the end of the pause (the push scheduler's late answers); a
job may share its wake-up event with what produces its work (the deferred drain wakes when a message is kept), and
may make its pause depend on what a round found (`pause_after`).
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from typing import Any, Optional

logger = logging.getLogger(__name__)


class BackgroundRounds(ABC):
    """Calls `loop_round` (by default `run_once`) every `check_seconds` until `stop`; subclasses say what a round
    does."""

    name: str = "rounds"
    check_seconds: float = 60.0

    def __init__(self, wake: Optional[asyncio.Event] = None) -> None:
        self._task: Optional[asyncio.Task] = None
        self._round_task: Optional[asyncio.Future] = None
        self._wake = wake if wake is not None else asyncio.Event()

    @abstractmethod
    async def run_once(self) -> Any:
        """One round (tests call it directly too)."""

    async def loop_round(self) -> Any:
        """What the loop runs each time: one round, unless a subclass does more in the loop."""
        return await self.run_once()

    def pause_after(self, result: Any) -> float:
        """Seconds to wait before the next round, after a round that returned `result` (None when it failed)."""
        return self.check_seconds

    def wake(self) -> None:
        """Start the next round now rather than after the pause."""
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            result = None
            # Cleared before the round: a wake-up during the round starts the next one without a pause.
            self._wake.clear()
            try:
                self._round_task = asyncio.ensure_future(self.loop_round())
                result = await asyncio.shield(self._round_task)
            except asyncio.CancelledError:
                raise
            except Exception:  # a database restarting must not end the job for good
                logger.exception("%s round failed; trying again in %.1fs", self.name, self.pause_after(None))
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.pause_after(result))

    def start(self) -> None:
        """Run the loop in the background until `stop`."""
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name=self.name)

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
