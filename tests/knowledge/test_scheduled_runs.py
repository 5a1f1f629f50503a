"""Scheduled work runs once per due time across processes: two schedulers (each with its own engine, as two
gateway processes have) race for every due time, on SQLite and on PostgreSQL."""
from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from typing import List

from bot.push_scheduler import PushScheduler
from bot.scheduled_job import ScheduledJob
from knowledge.db import open_store
from knowledge.local_time import local_zone
from knowledge.models import ScheduledRun
from knowledge.scheduled import due_daily, due_every

CHINA = local_zone("Asia/Shanghai")

START = dt.datetime(2026, 11, 30, 6, 0, 7)


def test_due_times() -> None:
    assert due_every(START, 60) == dt.datetime(2026, 11, 30, 6, 0, 0)
    assert due_every(START, 30) == dt.datetime(2026, 11, 30, 6, 0, 0)
    assert due_every(START + dt.timedelta(seconds=25), 30) == dt.datetime(2026, 11, 30, 6, 0, 30)
    # 03:00 in UTC+8 is 19:00 UTC the day before.
    assert due_daily(START, CHINA, 3) == dt.datetime(2026, 11, 29, 19, 0)


async def test_two_schedulers_run_a_job_once_per_due_time(kb) -> None:
    clock = [START]
    ran: List[dt.datetime] = []
    stores = [open_store(kb.url), open_store(kb.url)]

    def job(store) -> ScheduledJob:
        async def work() -> None:
            ran.append(due_every(clock[0], 60))
            await asyncio.sleep(0.01)  # long enough for the other scheduler to try meanwhile

        return ScheduledJob(store, "feed_test", 60, work, clock=lambda: clock[0])

    first, second = job(stores[0]), job(stores[1])
    try:
        wins = Counter()
        for step in range(12):  # every 20 s for four minutes: three tries per due time
            clock[0] = START + dt.timedelta(seconds=20 * step)
            results = await asyncio.gather(first.run_once(), second.run_once())
            wins[due_every(clock[0], 60)] += sum(results)
        assert ran == sorted(set(ran)) and len(ran) == 4, "each of the four due times ran once"
        assert set(wins.values()) == {1}
        with kb.scope() as session:
            row = session.get(ScheduledRun, "feed_test")
            assert row.due_at == dt.datetime(2026, 11, 30, 6, 3) and row.finished_at is not None
    finally:
        for store in stores:
            store.dispose()


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
