"""A bound on the console's argon2 checks, so a flood of sign-ins cannot take every worker thread."""
from __future__ import annotations

import asyncio
from typing import Callable, TypeVar

Result = TypeVar("Result")
BUSY = "登录的人太多，请稍后再试。"


class ChecksBusy(Exception):
    """Every slot and every place in the queue is taken; the request gets BUSY without any hashing."""


class PasswordCheckGate:
    """At most `concurrent` argon2 checks at once on worker threads and `waiting` more queued; beyond that, refuse."""

    def __init__(self, concurrent: int, waiting: int) -> None:
        self._slots = asyncio.Semaphore(max(1, concurrent))
        self._capacity = max(1, concurrent) + max(0, waiting)
        self._admitted = 0

    async def run(self, function: Callable[..., Result], *args) -> Result:
        """Run `function(*args)` on a worker thread when a slot is free; ChecksBusy when the queue is full."""
        if self._admitted >= self._capacity:
            raise ChecksBusy()
        self._admitted += 1
        try:
            async with self._slots:
                return await asyncio.get_running_loop().run_in_executor(None, function, *args)
        finally:
            self._admitted -= 1
