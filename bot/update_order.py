"""Telegram updates handled concurrently across users, but one at a time, in order, for each user."""
from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Any, Awaitable, Dict

from telegram import Update
from telegram.ext import BaseUpdateProcessor


def _owner(update: object) -> Any:
    # The person the update is from; a farmer's second message waits for the answer to the first,
    # and an officer's /setprice waits for their /link.
    if isinstance(update, Update):
        if update.effective_user is not None:
            return ("user", update.effective_user.id)
        if update.effective_chat is not None:
            return ("chat", update.effective_chat.id)
    return ("other", None)


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """At most `max_concurrent_updates` at once overall, and one at a time per user, in arrival order."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: Dict[Any, asyncio.Lock] = {}
        self._waiting: Dict[Any, int] = defaultdict(int)

    # PTB marks process_update @final: it takes a slot, then calls do_process_update. The user's lock
    # must come before the slot (see below), which do_process_update, running inside the slot, cannot do.
    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:  # type: ignore[misc]
        """Wait for this user's earlier updates, then for a free slot, then handle the update."""
        owner = _owner(update)
        lock = self._locks.setdefault(owner, asyncio.Lock())
        self._waiting[owner] += 1
        try:
            # The user's lock before the shared slots: one busy user cannot hold every slot.
            async with lock:
                await super().process_update(update, coroutine)
        finally:
            self._waiting[owner] -= 1
            if self._waiting[owner] == 0:
                del self._waiting[owner]
                self._locks.pop(owner, None)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the handlers' coroutine."""
        await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""
