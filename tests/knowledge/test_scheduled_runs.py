"""Scheduled work runs once per due time across processes: two schedulers (each with its own engine, as two
gateway processes have) race for every due time, on SQLite and on PostgreSQL."""
from __future__ import annotations

import asyncio
import datetime as dt

from bot.push_scheduler import PushScheduler
from knowledge.db import open_store
from knowledge.local_time import local_zone
from knowledge.scheduled import due_daily, due_every

CHINA = local_zone("Asia/Shanghai")

START = dt.datetime(2026, 11, 30, 6, 0, 7)


def test_due_times() -> None:
    assert due_every(START, 60) == dt.datetime(2026, 11, 30, 6, 0, 0)
    assert due_every(START, 30) == dt.datetime(2026, 11, 30, 6, 0, 0)
    assert due_every(START + dt.timedelta(seconds=25), 30) == dt.datetime(2026, 11, 30, 6, 0, 30)
    # 03:00 in UTC+8 is 19:00 UTC the day before.
    assert due_daily(START, CHINA, 3) == dt.datetime(2026, 11, 29, 19, 0)


async def test_two_push_schedulers_notice_once_per_round_and_each_sends_only_what_it_claims(kb) -> None:
    clock = [START]
    stores = [open_store(kb.url), open_store(kb.url)]
    schedulers = [PushScheduler(store, 30, CHINA, 7, clock=lambda: clock[0]) for store in stores]
    try:
        noticed = []
        for step in range(6):  # every 10 s for a minute: two rounds of 30 s
            clock[0] = START + dt.timedelta(seconds=10 * step)
            results = await asyncio.gather(*(scheduler.run_round() for scheduler in schedulers))
            noticed.append(sum(was_noticed for was_noticed, _sent in results))
        assert noticed == [1, 0, 0, 1, 0, 0], "the first try of each 30 s round notices, in one process"
    finally:
        for store in stores:
            store.dispose()
