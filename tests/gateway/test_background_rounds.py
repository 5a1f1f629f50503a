"""The gateway's background loop (bot/background_rounds.py): rounds on a pause, a wake-up, a failed round, a stop
that waits for the round in progress."""
from __future__ import annotations

import asyncio
from typing import List

from bot.background_rounds import BackgroundRounds


class Counting(BackgroundRounds):
    name = "counting"
    check_seconds = 3600.0  # only a wake-up starts a second round within the test

    def __init__(self, fail_first: bool = False, round_seconds: float = 0.0) -> None:
        super().__init__()
        self.rounds: List[str] = []
        self._fail_first = fail_first
        self._round_seconds = round_seconds

    async def run_once(self) -> None:
        if self._fail_first and not self.rounds:
            self.rounds.append("failed")
            raise RuntimeError("the database is restarting")
        await asyncio.sleep(self._round_seconds)
        self.rounds.append("done")


async def _until(condition, seconds: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.01)


async def test_a_wake_up_starts_the_next_round_at_once() -> None:
    rounds = Counting()
    rounds.start()
    try:
        await _until(lambda: rounds.rounds == ["done"])
        rounds.wake()
        await _until(lambda: rounds.rounds == ["done", "done"])
    finally:
        await rounds.stop()


async def test_a_failed_round_does_not_end_the_loop() -> None:
    rounds = Counting(fail_first=True)
    rounds.start()
    try:
        await _until(lambda: rounds.rounds == ["failed"])
        rounds.wake()
        await _until(lambda: rounds.rounds == ["failed", "done"])
    finally:
        await rounds.stop()


async def test_stop_waits_for_the_round_in_progress() -> None:
    rounds = Counting(round_seconds=0.2)
    rounds.start()
    await asyncio.sleep(0.05)  # the first round is under way
    await rounds.stop()
    assert rounds.rounds == ["done"]
